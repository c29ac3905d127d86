/**
 * The packed tarball, linted as the registry's users' tools see it: publint (package.json fields,
 * the exports map, files that exist in the tarball; `--strict` makes its warnings errors) and
 * arethetypeswrong (every entry point resolves to JavaScript and to matching types, under Node's
 * ESM resolution and a bundler's).
 *
 * attw runs with `--profile esm-only`, which ignores two resolutions: `node10` (TypeScript's old
 * resolver, which knows no `exports`, so no subpath can resolve; it serves Node < 12, and licit
 * needs >= 20.19) and `node16-cjs` (a CommonJS file's `require`, which attw reports as "ESM, dynamic
 * import only": licit ships ESM only, and `require('licit')` works through Node's require(esm),
 * guaranteed by `engines.node >= 20.19` and tested in test/53, which attw does not model).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string) => join(ROOT, 'node_modules/.bin', name);
const work = mkdtempSync(join(tmpdir(), 'licit-lint-'));
let tarball = '';

beforeAll(() => {
  // --ignore-scripts: dist/ is current (npm test builds it first); prepack would build it again.
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  expect(pack.status, pack.stderr).toBe(0);
  tarball = join(work, (JSON.parse(pack.stdout) as Array<{ filename: string }>)[0]!.filename);
}, 180_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the packed tarball passes the package linters', () => {
  it('publint --strict: no error, no warning', () => {
    const r = spawnSync(bin('publint'), ['run', tarball, '--strict'], { cwd: work, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('All good');
  });

  it('arethetypeswrong (profile esm-only): every entry point has types, under node16 ESM and bundler resolution', () => {
    const r = spawnSync(bin('attw'), [tarball, '--profile', 'esm-only', '--format', 'json'], { cwd: work, encoding: 'utf8', timeout: 180_000 });
    const report = JSON.parse(r.stdout) as {
      analysis: { entrypoints: Record<string, unknown> };
      problems?: Record<string, Array<{ kind: string; entrypoint: string; resolutionKind?: string }>>;
    };
    const counted = Object.values(report.problems ?? {})
      .flat()
      .filter((p) => p.resolutionKind !== 'node10' && p.resolutionKind !== 'node16-cjs');
    expect(counted).toEqual([]);
    expect(r.status, r.stderr).toBe(0);
    // It looked at every subpath of the exports map.
    expect(Object.keys(report.analysis.entrypoints).sort()).toEqual(['.', './admin', './fingerprint', './issuer', './node', './package.json', './postgres', './seats', './server']);
  });
});

describe("the tarball's declarations compile in an application", () => {
  // tsc over a file importing every entry point, with the strictest defaults an application may
  // have (no skipLibCheck, so licit's .d.ts and what they import are checked too), under Node's
  // resolution and a bundler's. attw resolves each entry's types but does not check what they
  // import: 'cbor-x/decode' has no Tag in the declarations a bundler's resolution finds (TS2305).
  it.each(['nodenext', 'bundler'])('moduleResolution %s, skipLibCheck false', (resolution) => {
    const app = join(work, `app-${resolution}`);
    const modules = join(app, 'node_modules');
    mkdirSync(join(modules, 'licit'), { recursive: true });
    const untar = spawnSync('tar', ['-xzf', tarball, '-C', join(modules, 'licit'), '--strip-components=1'], { encoding: 'utf8' });
    expect(untar.status, untar.stderr).toBe(0);
    // licit's dependencies (and pg with @types/pg, typescript's own @types/node) as installed beside it.
    for (const name of readdirSync(join(ROOT, 'node_modules'))) {
      if (name.startsWith('.') || name === 'licit') continue;
      symlinkSync(join(ROOT, 'node_modules', name), join(modules, name));
    }
    writeFileSync(
      join(app, 'app.ts'),
      `import { verifyLicense, type License } from 'licit';
import { SeatManager } from 'licit/seats';
import { readVerifiedLog } from 'licit/admin';
import { saltForVendor } from 'licit/fingerprint';
import { issueLicense } from 'licit/issuer';
import { Licensing, FileStore } from 'licit/node';
import { createLicenseServer, verifyWebhook } from 'licit/server';
import { PostgresStore } from 'licit/postgres';
export const used = [verifyLicense, SeatManager, readVerifiedLog, saltForVendor, issueLicense, Licensing, FileStore, createLicenseServer, verifyWebhook, PostgresStore];
export type L = License;
`,
    );
    const module = resolution === 'bundler' ? 'esnext' : 'nodenext';
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'es2022', module, moduleResolution: resolution, strict: true, noEmit: true, skipLibCheck: false, types: ['node'] }, files: ['app.ts'] }));
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', app], { cwd: app, encoding: 'utf8', timeout: 180_000 });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  }, 200_000);
});
