/**
 * Bundled and packaged applications: licit's code bundled into one file away from its package (as
 * esbuild, webpack or a single-file binary does) cannot find `prebuilds/` beside itself. It then
 * runs on the fallback with one warning that names the way out, and `LICIT_NATIVE_PATH` (or
 * `setNativeAddonPath`) pointing at the shipped `.node` file brings the native fingerprint back.
 * A path that does not load is named in the warning, never ignored silently.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PREBUILD = join(ROOT, `prebuilds/${process.platform}-${process.arch}/node.napi.glibc.node`);
const work = mkdtempSync(join(tmpdir(), 'licit-57-'));
const bundle = join(work, 'app.mjs');
const shipped = join(work, 'resources', 'licit.node');

beforeAll(async () => {
  const entry = join(work, 'entry.mjs');
  writeFileSync(
    entry,
    `import { getFingerprint, setNativeAddonPath } from ${JSON.stringify(join(ROOT, 'dist/node/index.js'))};
const warnings = [];
process.on('warning', (w) => warnings.push({ code: w.code, message: w.message }));
if (process.argv[2]) setNativeAddonPath(process.argv[2]);
const fp = await getFingerprint({ salt: 'com.example.bundled' });
await new Promise((r) => setImmediate(r));
console.log(JSON.stringify({ source: fp.source, warnings }));
`,
  );
  // One file, every dependency inlined, written outside the package: what a bundler ships.
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile: bundle, logLevel: 'silent', banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } });
  if (existsSync(PREBUILD)) {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(work, 'resources'));
    copyFileSync(PREBUILD, shipped);
  }
});

function run(env: NodeJS.ProcessEnv, ...args: string[]): { source: string; warnings: { code: string; message: string }[] } {
  const r = spawnSync(process.execPath, [bundle, ...args], { encoding: 'utf8', env: { ...process.env, LICIT_NO_NATIVE: '', LICIT_NATIVE_PATH: '', ...env } });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) as string);
}

describe('a bundled application and the native addon', () => {
  it('without a path: the fallback, and one warning that names LICIT_NATIVE_PATH', () => {
    const r = run({});
    expect(r.source).toBe('fallback');
    expect(r.warnings.map((w) => w.code)).toEqual(['LICIT_NATIVE_FALLBACK']);
    expect(r.warnings[0]?.message).toMatch(/LICIT_NATIVE_PATH or setNativeAddonPath/);
  });

  it.skipIf(!existsSync(PREBUILD))('LICIT_NATIVE_PATH or setNativeAddonPath pointing at the shipped file: native, no warning', () => {
    expect(run({ LICIT_NATIVE_PATH: shipped })).toEqual({ source: 'native', warnings: [] });
    expect(run({}, shipped)).toEqual({ source: 'native', warnings: [] });
  });

  it('a path that does not load is named in the warning', () => {
    const missing = join(work, 'nowhere', 'licit.node');
    const r = run({ LICIT_NATIVE_PATH: missing });
    expect(r.source).toBe('fallback');
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]?.message).toContain(missing);
  });
});

describe('an installed package without a usable addon', () => {
  // licit installed as a package (package.json and dist/, its dependencies beside it), with no
  // build/ and no prebuilds/: the warning names the folders looked in, each a real path under the
  // package (they were once run together: ".../licitbuild/Release"), and a local build in
  // build/Release is loaded from there.
  const pkg = join(mkdtempSync(join(tmpdir(), 'licit-56b-pkg-')), 'licit');
  const probe = join(pkg, 'probe.mjs');
  beforeAll(() => {
    mkdirSync(pkg);
    copyFileSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
    cpSync(join(ROOT, 'dist'), join(pkg, 'dist'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'), 'dir');
    writeFileSync(probe, `import { getFingerprint, nativeLoadError } from './dist/node/index.js';
const fp = await getFingerprint({ salt: 'com.example.installed' });
console.log(JSON.stringify({ source: fp.source, error: nativeLoadError() ?? null }));
`);
  });
  const probeRun = () => {
    const { PREBUILDS_ONLY: _, ...env } = process.env;
    const r = spawnSync(process.execPath, [probe], { encoding: 'utf8', env: { ...env, LICIT_NO_NATIVE: '', LICIT_NATIVE_PATH: '' } });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as { source: string; error: string | null };
  };

  it('names build/Release, build/Debug and prebuilds/<platform>-<arch> under the package root', () => {
    const r = probeRun();
    expect(r.source).toBe('fallback');
    expect(r.error).toContain(`${join(pkg, 'build', 'Release')}, ${join(pkg, 'build', 'Debug')}, ${join(pkg, 'prebuilds', `${process.platform}-${process.arch}`)}`);
    expect(r.error).not.toContain(`${pkg}build`);
  });

  it.skipIf(!existsSync(PREBUILD))('loads a local build from build/Release', () => {
    mkdirSync(join(pkg, 'build', 'Release'), { recursive: true });
    copyFileSync(PREBUILD, join(pkg, 'build', 'Release', 'licit_native.node'));
    expect(probeRun()).toEqual({ source: 'native', error: null });
  });
});
