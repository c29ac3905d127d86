/** Documentation that cannot drift: every error code and every CLI verb is documented. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/core/errors.js';

const read = (p: string) => readFileSync(new URL(`../${p}`, import.meta.url), 'utf8');

describe('docs', () => {
  it('docs/errors.md documents every error code', () => {
    const doc = read('docs/errors.md');
    const missing = ERROR_CODES.filter((c) => !doc.includes(`\`${c}\``));
    expect(missing).toEqual([]);
  });

  it('docs/cli.md documents every CLI verb', () => {
    const verbs = [...read('src/cli/main.ts').matchAll(/^\s{2}([a-z]+): \{ summary:/gm)].map((m) => m[1]);
    expect(verbs.length).toBeGreaterThan(3);
    const doc = read('docs/cli.md');
    expect(verbs.filter((v) => !doc.includes(`## licit ${v}`))).toEqual([]);
  });

  it('the README gives exactly the two set-up commands', () => {
    const readme = read('README.md');
    expect(readme).toContain('npm install && npm run demo');
    expect(readme).toContain('npm test');
  });
});
