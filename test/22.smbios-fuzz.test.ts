/**
 * libFuzzer + AddressSanitizer over the SMBIOS parser for a bounded time (scripts/fuzz-smbios.sh).
 * Skips, saying why, where clang or its fuzzer runtime is missing; CI installs them
 * (.ci/apt-packages.txt). LICIT_FUZZ_SECONDS sets the budget (default 60).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.env.LICIT_FUZZ_SECONDS ?? 60);

describe('SMBIOS parser under libFuzzer', () => {
  it(`finds no crash, leak or out-of-bounds read in ${SECONDS}s`, (ctx) => {
    const r = spawnSync('bash', [`${ROOT}scripts/fuzz-smbios.sh`, String(SECONDS)], { cwd: ROOT, encoding: 'utf8' });
    const out = r.stdout + r.stderr;
    if (r.status === 0 && out.startsWith('SKIP:')) return ctx.skip(out.trim());
    expect(r.status, out).toBe(0);
    expect(out).toContain('OK: no crash');
    // It really ran: libFuzzer reports how many inputs it executed.
    const runs = Number(/stat::number_of_executed_units:\s*(\d+)/.exec(out)?.[1] ?? 0);
    expect(runs).toBeGreaterThan(1000);
  }, (SECONDS + 240) * 1000);
});
