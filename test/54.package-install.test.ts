/**
 * The packed tarball installed into a fresh project the ways users install it: plainly, with
 * --ignore-scripts, and on a machine without a C++ toolchain. licit has no install script, so all
 * three must succeed and give the same result: the prebuilt addon where one fits this platform
 * (fingerprint source "native"), the JavaScript fallback elsewhere. Uses the npm cache first
 * (--prefer-offline); skips when npm cannot reach the registry for licit's dependencies.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONSUMER = fileURLToPath(new URL('./fixtures/install-consumer.mjs', import.meta.url));
const CI = process.env.CI === 'true' || process.env.CI === '1';
const OFFLINE = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|ENOTCACHED/;
const BUILD_COMMAND = 'npm explore licit -- npm run build:native';

const work = mkdtempSync(join(tmpdir(), 'licit-install-'));
let tarball = '';
let skipReason: string | undefined;
/** Whether the tarball holds a prebuild node-gyp-build will pick on this machine. */
let prebuildFits = false;

function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf8', timeout: opts.timeout ?? 90_000 });
}

/** A fresh project with the consumer script; `npm install <tarball> ...extra`. */
function install(name: string, extra: string[], env?: NodeJS.ProcessEnv): { dir: string; out: string; status: number | null } {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${name}`, version: '1.0.0', private: true, type: 'module' }));
  copyFileSync(CONSUMER, join(dir, 'consumer.mjs'));
  // Under `env`, PATH is one directory holding an npm wrapper.
  const r = run(env === undefined ? 'npm' : join(String(env.PATH), 'npm'), ['install', '--prefer-offline', '--no-audit', '--no-fund', ...extra, tarball], { cwd: dir, env });
  return { dir, out: `${r.stdout}${r.stderr}`, status: r.status };
}

let npmCli = '';

function consume(dir: string, env?: NodeJS.ProcessEnv) {
  const r = run(process.execPath, ['consumer.mjs'], { cwd: dir, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectInstalled(res: { out: string; status: number | null }) {
  if (res.status !== 0 && OFFLINE.test(res.out)) skipReason = `npm cannot reach the registry for licit's dependencies: ${res.out.match(OFFLINE)![0]}`;
  if (skipReason !== undefined) return false;
  expect(res.status, res.out).toBe(0);
  // licit itself has no install script for anyone to approve (its dependencies may have some).
  expect(res.out).not.toMatch(/install-scripts\s+licit@/);
  return true;
}

beforeAll(() => {
  if (spawnSync('npm', ['--version'], { encoding: 'utf8' }).status !== 0) {
    skipReason = 'npm is not on PATH';
    return;
  }
  npmCli = realpathSync(spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim());
  if (!existsSync(join(ROOT, 'dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  // The prebuild for this machine, built now if the toolchain allows (npm test builds it first).
  const r = run(process.execPath, [join(ROOT, 'scripts/prebuilds.mjs'), '--if-needed', '--optional'], { cwd: ROOT, env: { ...process.env } });
  expect(r.status, r.stderr).toBe(0);
  const picked = run(process.execPath, ['-e', `try { console.log(require('node-gyp-build').path(${JSON.stringify(ROOT)})) } catch { console.log('') }`], {
    cwd: ROOT,
    env: { ...process.env, PREBUILDS_ONLY: '1' },
  });
  prebuildFits = picked.stdout.trim() !== '';
  if (CI && process.platform === 'linux' && process.arch === 'x64') expect(prebuildFits, 'CI must ship the linux-x64 prebuild').toBe(true);
  // --ignore-scripts: dist/ is current (npm test built it); prepack would build it again.
  const pack = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT });
  expect(pack.status, pack.stderr).toBe(0);
  const [info] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(work, info!.filename);
  const files = info!.files.map((f) => f.path);
  expect(files).toContain('LICENSE');
  expect(files.some((f) => f.startsWith('src/') || f.endsWith('.map')), 'no source maps pointing at an unshipped src/').toBe(false);
  expect(files.some((f) => f.startsWith('prebuilds/'))).toBe(prebuildFits);
}, 180_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const expected = () => (prebuildFits ? 'native' : 'fallback');

describe('installing the packed tarball into a fresh project', () => {
  it('npm install <tarball> succeeds and licit verifies a license', (ctx) => {
    const res = install('plain', []);
    if (!expectInstalled(res)) return ctx.skip(skipReason);
    const r = consume(res.dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('verified: true');
    expect(r.stdout).toContain(`source: ${expected()}`);
  });

  it('npm install --ignore-scripts gives the same licit: nothing of it runs at install', (ctx) => {
    if (skipReason !== undefined) return ctx.skip(skipReason);
    const res = install('ignore-scripts', ['--ignore-scripts']);
    if (!expectInstalled(res)) return ctx.skip(skipReason);
    const r = consume(res.dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('verified: true');
    expect(r.stdout).toContain(`source: ${expected()}`);
  });

  it('without a C++ toolchain on PATH (no cc, g++, make) the install succeeds', (ctx) => {
    if (skipReason !== undefined) return ctx.skip(skipReason);
    // PATH holds node, sh and an npm wrapper only: no compiler, no make, no python.
    const bin = join(work, 'no-toolchain-bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    symlinkSync('/bin/sh', join(bin, 'sh'));
    writeFileSync(join(bin, 'npm'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(npmCli)} "$@"\n`, { mode: 0o755 });
    const env = { ...process.env, PATH: bin };
    for (const tool of ['cc', 'g++', 'make']) expect(spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { env }).status, tool).not.toBe(0);
    const res = install('no-toolchain', [], env);
    if (!expectInstalled(res)) return ctx.skip(skipReason);
    const r = consume(res.dir, { PATH: bin });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('verified: true');
    expect(r.stdout).toContain(`source: ${expected()}`);
  });

  it('where no prebuild fits, getFingerprint falls back and warns once, naming the command that builds the addon', (ctx) => {
    if (skipReason !== undefined) return ctx.skip(skipReason);
    const dir = join(work, 'ignore-scripts');
    if (!existsSync(join(dir, 'node_modules/licit'))) return ctx.skip('the --ignore-scripts install did not run');
    rmSync(join(dir, 'node_modules/licit/prebuilds'), { recursive: true, force: true }); // a platform licit ships no binary for
    expect(readdirSync(join(dir, 'node_modules/licit'))).not.toContain('build');
    const r = consume(dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('verified: true');
    expect(r.stdout).toContain('source: fallback');
    expect(r.stdout).toContain('warnings after import: 0');
    expect(r.stdout).toContain('warnings after getFingerprint: LICIT_NATIVE_FALLBACK\n');
    expect(r.stdout).toContain(BUILD_COMMAND);
    // Asked for on purpose: no warning.
    const quiet = consume(dir, { LICIT_NO_NATIVE: '1' });
    expect(quiet.stdout).toContain('source: fallback');
    expect(quiet.stdout).toContain('warnings after getFingerprint: none');
  });
});
