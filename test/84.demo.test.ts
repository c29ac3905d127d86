/**
 * `npm run demo` (scripts/demo.js, on the built package): the whole job runs with nothing to set up,
 * exits 0, cleans up after itself, and shows each step a newcomer should see: activation against a
 * loopback server, the seat limit biting, a credit threshold and a top-up, a renewal, the vendor's
 * report and verified audit log, and the date each step pretends.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('npm run demo', () => {
  it('runs the whole job and prints each step', () => {
    const r = spawnSync(process.execPath, ['scripts/demo.js'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/today \(\d{4}-\d{2}-\d{2}\)/);
    expect(out).toMatch(/simulated: 10 days pass, now \d{4}-\d{2}-\d{2}/);
    expect(out).toMatch(/after activate\(\)\s+status verified/);
    expect(out).toMatch(/verified until\s+\d{4}-\d{2}-\d{2}/);
    expect(out).toMatch(/assign basic\s+ERR_SEATS_EXHAUSTED/);
    expect(out).toMatch(/all basic seats are taken: 2 licensed, 2 in use/);
    expect(out).toMatch(/threshold alert\s+remaining 20 crossed the threshold of 20/);
    expect(out).toMatch(/top-up\s+asked 100, the server granted 100/);
    expect(out).toMatch(/new balance\s+120 credits left/);
    expect(out).toMatch(/verified until \(after\)\s+.*\(\+10 days\)/);
    expect(out).toMatch(/report: credits\s+consumed 80, added 100 by 1 top-up/);
    expect(out).toMatch(/verified log\s+\d+ events, hash chain intact/);
    expect(out).toMatch(/#1\s+\S+\s+license\.registered\s+vendor/);
    expect(out).toMatch(/device\.activated/);
    expect(out).toMatch(/credits\.topped-up/);
    expect(out).toMatch(/one character changed\s+ERR_KEY_SIGNATURE/);
    expect(out).toMatch(/clock back to \S+\s+ERR_CLOCK_TAMPERED/);
    // Every step says what a real deployment does differently.
    const steps = out.match(/^\d+\. /gm) ?? [];
    expect(steps.length).toBeGreaterThanOrEqual(8);
    expect((out.match(/In a real deployment: /g) ?? []).length).toBe(steps.length);
    expect(out).toMatch(/^Done in [\d.]+ s\./m);
    // Its working directory is gone.
    const work = /private key\s+(\S+)\/vendor\/vendor\.key/.exec(out)?.[1];
    expect(work).toBeDefined();
    expect(existsSync(work as string)).toBe(false);
  }, 90_000);
});
