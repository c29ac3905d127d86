/** The package as an application imports it: `licit`, `licit/node`, `licit/issuer` through the exports map. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
