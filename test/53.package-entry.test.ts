/** The package as an application imports it: `licit`, `licit/node`, `licit/issuer` through the exports map. */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('package entry points', () => {
  it('an application using the README quick start through the exports map', () => {
    const r = spawnSync(process.execPath, [new URL('./fixtures/package-consumer.mjs', import.meta.url).pathname], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('second seat: ERR_SEATS_EXHAUSTED');
    expect(r.stdout).toContain('log events: 1');
    expect(r.stdout).toContain('consume: ERR_CREDITS_EXHAUSTED');
    expect(r.stdout).toMatch(/^fp1:/m);
    expect(r.stdout).toMatch(/^vendor salt strength: (strong|weak)$/m);
  });

  it('licit --version and -v print the package version', () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const bin = new URL('../bin/licit.cjs', import.meta.url).pathname;
    for (const flag of ['--version', '-v']) {
      const r = spawnSync(process.execPath, [bin, flag], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${version}\n`);
    }
    const j = spawnSync(process.execPath, [bin, '--json', '--version'], { encoding: 'utf8', timeout: 30_000 });
    expect(JSON.parse(j.stdout)).toEqual({ ok: true, version });
  });

  it('require("licit") works (require(esm), Node >= 20.19, which engines.node states)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe('>=20.19');
    const r = spawnSync(process.execPath, ['-e', "const l = require('licit'); const n = require('licit/node'); console.log(typeof l.verifyLicense, typeof n.getFingerprint)"], {
      encoding: 'utf8',
      timeout: 30_000,
      cwd: new URL('..', import.meta.url).pathname,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('function function\n');
    expect(r.stderr).not.toContain('ExperimentalWarning');
  });

  it('sideEffects lists every built module that installs a backend at import, directly or by importing one that does', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { sideEffects: string[] };
    const dist = new URL('../dist/', import.meta.url);
    const effectful = (readdirSync(dist, { recursive: true }) as string[])
      .filter((f) => f.endsWith('.js') && !f.startsWith('cli/'))
      .filter((f) => /^(import '[^']*backends\.js';|set\w+Backend\()/m.test(readFileSync(new URL(f, dist), 'utf8')))
      .map((f) => `./dist/${f}`)
      .sort();
    expect([...pkg.sideEffects].sort()).toEqual(effectful);
  });

  it('every export in package.json points at a built file with types', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { exports: Record<string, string | { types: string; default: string }> };
    for (const [name, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue;
      for (const file of [target.types, target.default]) {
        expect(() => readFileSync(new URL(`../${file}`, import.meta.url)), `${name} -> ${file}`).not.toThrow();
      }
    }
  });
});
