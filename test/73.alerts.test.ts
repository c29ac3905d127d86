/**
 * Alerts: once per crossing with hysteresis (pure engine), then over real stores: many concurrent
 * checks, two FileStore handles on one directory (as two processes would) and a failing top-up
 * hook retried with back-off, never storming.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { FileStore } from '../src/node/store/file-store.js';
import { AlertMonitor, evaluateAlerts, seatsObservation, readVerifiedLog, withAuditChain, type AlertRule, type RuleState, type TopUpRequest } from '../src/core/admin/index.js';
import { manualClock } from './helpers/store-conformance.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const seats80: AlertRule = { id: 'basic-80', metric: 'seats', type: 'basic', usedPercentAtLeast: 80 };
const creditsLow: AlertRule = { id: 'credits-low', metric: 'credits', remainingAtMost: 100, topUp: { credits: 1000 } };

/** Feed a sequence of observations through the pure engine; returns the events as "kind@value". */
function run(rules: AlertRule[], obs: Parameters<typeof evaluateAlerts>[2][]): string[] {
  let state: Record<string, RuleState> = {};
  const out: string[] = [];
  for (const o of obs) {
    const r = evaluateAlerts(rules, state, o);
    state = r.state;
    for (const e of r.events) out.push(`${e.rule}:${e.kind}@${e.value}#${e.crossing}`);
  }
  return out;
}

describe('evaluateAlerts', () => {
  it('raises once per crossing, clears past the hysteresis band, re-arms', () => {
    const s = (inUse: number) => ({ seats: { basic: { inUse, licensed: 10 }, pro: { inUse: 10, licensed: 10 } } });
    expect(run([seats80], [s(7), s(8), s(9), s(8), s(10), s(8)])).toEqual(['basic-80:raised@80#1']);
    // 76 % is inside the 5-point band: still raised; 74 % clears; 80 % raises again as crossing 2.
    const wobble = [s(8), { seats: { basic: { inUse: 19, licensed: 25 } } }, { seats: { basic: { inUse: 37, licensed: 50 } } }, s(8)];
    expect(run([seats80], wobble)).toEqual(['basic-80:raised@80#1', 'basic-80:cleared@74#1', 'basic-80:raised@80#2']);
    const c = (remaining: number) => ({ credits: { remaining, allowance: 1000 } });
    // Default hysteresis for 100 credits is 10: 105 stays raised, 111 clears.
    expect(run([creditsLow], [c(150), c(100), c(50), c(105), c(111), c(99)])).toEqual(['credits-low:raised@100#1', 'credits-low:cleared@111#1', 'credits-low:raised@99#2']);
    // Figures missing from an observation leave the rule as it was; every type together when no type is named.
    const total: AlertRule = { id: 'all', metric: 'seats', remainingAtMost: 1, hysteresis: 0 };
    expect(run([total, creditsLow], [{}, { seats: { a: { inUse: 3, licensed: 4 }, b: { inUse: 2, licensed: 2 } } }, { seats: { a: { inUse: 2, licensed: 4 } } }])).toEqual(['all:raised@1#1', 'all:cleared@2#1']);
    // From SeatManager.usage().
    expect(run([seats80], [{ seats: seatsObservation([{ type: 'basic', inUse: 9, licensed: 10 }, { type: '__proto__', inUse: 1, licensed: 1 }]) }])).toEqual(['basic-80:raised@90#1']);
    // Nothing licensed but something used is 100 %.
    expect(run([seats80], [{ seats: { basic: { inUse: 1, licensed: 0 } } }])).toEqual(['basic-80:raised@100#1']);
  });

  it('refuses malformed rules', () => {
    const bad: AlertRule[] = [
      { id: '', metric: 'seats', usedPercentAtLeast: 80 },
      { id: 'x', metric: 'seats' },
      { id: 'x', metric: 'seats', usedPercentAtLeast: 80, remainingAtMost: 3 },
      { id: 'x', metric: 'seats', usedPercentAtLeast: 180 },
      { id: 'x', metric: 'credits', remainingAtMost: -1 },
      { id: 'x', metric: 'disk' as 'seats', remainingAtMost: 1 },
    ];
    for (const r of bad) expect(() => new AlertMonitor(new MemoryStore(), 'L', { rules: [r] })).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }));
    expect(() => new AlertMonitor(new MemoryStore(), 'L', { rules: [seats80, seats80] })).toThrow(/two alert rules/);
  });
});

describe('AlertMonitor over a store', () => {
  it('20 concurrent checks of one crossing: one alert, one hook call, one audit trail', async () => {
    const store = withAuditChain(new MemoryStore());
    const calls: TopUpRequest[] = [];
    const monitor = new AlertMonitor(store, 'L', { rules: [seats80, creditsLow], topUp: async (r) => void calls.push(r) });
    const seen: string[] = [];
    monitor.on((e) => seen.push(`${e.rule}:${e.kind}`));
    const low = { credits: { remaining: 80, allowance: 1000 }, seats: { basic: { inUse: 9, licensed: 10 } } };
    await Promise.all(Array.from({ length: 20 }, () => monitor.check(low)));
    expect(seen.sort()).toEqual(['basic-80:raised', 'credits-low:raised']);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ licenseId: 'L', rule: 'credits-low', want: { credits: 1000 }, idempotencyKey: 'L:credits-low:1', attempt: 1, alert: { value: 80, threshold: 100 } });
    // The top-up worked: credits recover, the rule clears; the next crossing asks again, with a new key.
    await monitor.check({ credits: { remaining: 1080, allowance: 2000 } });
    await monitor.check({ credits: { remaining: 90, allowance: 2000 } });
    expect(calls.map((c) => c.idempotencyKey)).toEqual(['L:credits-low:1', 'L:credits-low:2']);
    const kinds = (await readVerifiedLog(store, 'L')).events.map((e) => `${e.kind}:${String(e.details.rule)}`);
    expect(kinds).toEqual([
      'alert.raised:basic-80',
      'alert.raised:credits-low',
      'topup.requested:credits-low',
      'topup.completed:credits-low',
      'alert.cleared:credits-low',
      'alert.raised:credits-low',
      'topup.requested:credits-low',
      'topup.completed:credits-low',
    ]);
    expect(await monitor.state()).toEqual({ rules: { 'basic-80': { raised: true, crossings: 1 }, 'credits-low': { raised: true, crossings: 2 } }, pending: 0 });
  });

  it('two handles on one FileStore directory (two processes) fire the hook once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'licit-alerts-'));
    dirs.push(dir);
    let calls = 0;
    const hook = async () => {
      calls++;
    };
    const a = new AlertMonitor(withAuditChain(new FileStore(dir)), 'L', { rules: [creditsLow], topUp: hook });
    const b = new AlertMonitor(withAuditChain(new FileStore(dir)), 'L', { rules: [creditsLow], topUp: hook });
    const low = { credits: { remaining: 10, allowance: 1000 } };
    const results = await Promise.all([a.check(low), b.check(low), a.check(low), b.check(low)]);
    expect(results.flatMap((r) => r.events)).toHaveLength(1);
    expect(calls).toBe(1);
    expect((await readVerifiedLog(new FileStore(dir), 'L')).events.filter((e) => e.kind === 'alert.raised')).toHaveLength(1);
  });

  it('a failing hook is retried with back-off, one call at a time, and gives up after maxAttempts', async () => {
    const clock = manualClock();
    const store = withAuditChain(new MemoryStore());
    const attempts: number[] = [];
    let failUntil = 3;
    const monitor = new AlertMonitor(store, 'L', {
      rules: [creditsLow],
      now: clock.now,
      retryMs: 60_000,
      topUp: async (r) => {
        attempts.push(r.attempt);
        if (r.attempt < failUntil) throw new Error('vendor server unreachable');
        return { granted: 1000 };
      },
    });
    const low = { credits: { remaining: 10, allowance: 1000 } };
    expect((await monitor.check(low)).topUps).toEqual([{ idempotencyKey: 'L:credits-low:1', attempt: 1, ok: false, error: 'vendor server unreachable' }]);
    // Checks before the retry is due call nothing, however many there are.
    for (let i = 0; i < 10; i++) await monitor.check(low);
    expect(attempts).toEqual([1]);
    clock.advance(60_000);
    await Promise.all([monitor.check(low), monitor.check(low)]);
    expect(attempts).toEqual([1, 2]);
    clock.advance(60_000); // the second retry waits 120 s
    await monitor.check(low);
    expect(attempts).toEqual([1, 2]);
    clock.advance(60_000);
    expect((await monitor.check(low)).topUps).toEqual([{ idempotencyKey: 'L:credits-low:1', attempt: 3, ok: true }]);
    clock.advance(3_600_000);
    await monitor.check(low);
    expect(attempts).toEqual([1, 2, 3]);
    const log = (await readVerifiedLog(store, 'L')).events;
    expect(log.filter((e) => e.kind === 'topup.failed').map((e) => e.details.attempt)).toEqual([1, 2]);
    expect(log.find((e) => e.kind === 'topup.completed')?.details).toMatchObject({ key: 'L:credits-low:1', granted: { granted: 1000 } });

    // A hook that never succeeds stops after maxAttempts, with a final failure event.
    failUntil = Number.POSITIVE_INFINITY;
    attempts.length = 0;
    const store2 = new MemoryStore();
    const m2 = new AlertMonitor(store2, 'L', { rules: [creditsLow], now: clock.now, retryMs: 1000, maxAttempts: 3, topUp: async (r) => { attempts.push(r.attempt); throw new Error('no'); } });
    for (let i = 0; i < 30; i++) {
      await m2.check(low);
      clock.advance(10_000);
    }
    expect(attempts).toEqual([1, 2, 3]);
    expect((await store2.events('L')).filter((e) => e.kind === 'topup.failed').map((e) => e.details.final)).toEqual([false, false, true]);
  });

  it('a rule that clears before its top-up ran drops the pending request', async () => {
    const clock = manualClock();
    let calls = 0;
    const monitor = new AlertMonitor(new MemoryStore(), 'L', { rules: [creditsLow], now: clock.now, topUp: async () => { calls++; throw new Error('down'); } });
    await monitor.check({ credits: { remaining: 10, allowance: 1000 } });
    expect((await monitor.state()).pending).toBe(1);
    await monitor.check({ credits: { remaining: 900, allowance: 2000 } }); // added by hand
    expect((await monitor.state()).pending).toBe(0);
    clock.advance(86_400_000);
    await monitor.check({ credits: { remaining: 900, allowance: 2000 } });
    expect(calls).toBe(1);
  });
});
