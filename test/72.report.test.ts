/**
 * Reports on a scripted history whose numbers are worked out by hand: a day, an ISO week, a month
 * still running, a custom span across two months, credits from audit events and from a ledger.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { Activations, SeatManager } from '../src/core/seats/index.js';
import type { Store } from '../src/core/store/store.js';
import { buildReport, computeReport, recordCreditTopUp, recordCreditUsage, recordSeatsChange, resolveRange, withAuditChain } from '../src/core/admin/index.js';
import { rejects } from './helpers/store-conformance.js';

const H = 3_600_000;
const D = 24 * H;
const MAR1 = Date.UTC(2027, 2, 1); // a Monday
const NOW = Date.UTC(2027, 3, 10);
const licensed = { basic: 4, pro: 2 };

/** The scripted history (times in the comments are UTC). */
async function scripted(): Promise<Store> {
  let t = 0;
  const store = withAuditChain(new MemoryStore());
  const seats = (l: Record<string, number>) => new SeatManager(store, { id: 'L', seats: l }, { now: () => t });
  t = MAR1 - 2 * D + 12 * H; // Feb 27 12:00
  await seats({ basic: 4, pro: 2 }).assign('a', 'basic');
  t = MAR1 + 6 * H;
  await seats({ basic: 4, pro: 2 }).assign('b', 'basic');
  await recordCreditUsage(store, 'L', { amount: 40, at: MAR1 + 9 * H });
  await recordSeatsChange(store, 'L', { type: 'basic', from: 4, to: 6, at: MAR1 + 12 * H, source: 'auto' });
  t = MAR1 + 18 * H;
  await seats({ basic: 6, pro: 2 }).assign('p1', 'pro');
  t = MAR1 + D;
  await seats({ basic: 6, pro: 2 }).release('b');
  await recordCreditTopUp(store, 'L', { credits: 500, at: MAR1 + D + 12 * H });
  await recordCreditUsage(store, 'L', { amount: 60, at: MAR1 + 2 * D });
  await recordSeatsChange(store, 'L', { type: 'pro', from: 2, to: 3, at: MAR1 + 14 * D });
  await recordSeatsChange(store, 'L', { type: 'basic', from: 6, to: 10, at: Date.UTC(2027, 3, 2), source: 'auto' });
  return store;
}

describe('report ranges', () => {
  it('resolves calendar periods in UTC and picks chart buckets', () => {
    const w = resolveRange({ kind: 'week', at: '2027-03-03T10:00:00Z' });
    expect([new Date(w.from).toISOString(), new Date(w.to).toISOString(), w.unit, w.edges.length]).toEqual(['2027-03-01T00:00:00.000Z', '2027-03-08T00:00:00.000Z', 'day', 8]);
    const sunday = resolveRange({ kind: 'week', at: '2027-03-07T23:59:59Z' });
    expect(sunday.from).toBe(MAR1);
    const m = resolveRange({ kind: 'month', at: Date.UTC(2028, 1, 15) });
    expect([m.from, m.to, m.edges.length - 1]).toEqual([Date.UTC(2028, 1, 1), Date.UTC(2028, 2, 1), 29]);
    const d = resolveRange('day', MAR1 + 5 * H);
    expect([d.from, d.to, d.edges.length - 1, d.unit]).toEqual([MAR1, MAR1 + D, 24, 'hour']);
    expect(resolveRange({ kind: 'custom', from: MAR1, to: MAR1 + 40 * D }).unit).toBe('day');
    expect(resolveRange({ kind: 'custom', from: MAR1, to: MAR1 + 400 * D }).unit).toBe('week');
    expect(resolveRange({ kind: 'custom', from: MAR1, to: MAR1 + 1000 * D }).unit).toBe('month');
    for (const bad of [{ kind: 'custom', from: MAR1, to: MAR1 }, { kind: 'custom', from: 'yesterday', to: MAR1 }, { kind: 'custom', from: 0, to: 11 * 366 * D }, { kind: 'year' }]) {
      expect(() => resolveRange(bad as never)).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }));
    }
  });
});

describe('computeReport on a scripted history', () => {
  it('a day: utilisation time-weighted, available at the end, top-ups, licenses added, credits', async () => {
    const store = await scripted();
    const r = await computeReport(store, 'L', { kind: 'day', at: MAR1 }, { now: NOW, licensed, verify: true });
    const [basic, pro] = r.seats;
    // basic: 00-06 1 of 4, 06-12 2 of 4, 12-24 2 of 6 → (6+12+24) / (24+24+72)
    expect(basic).toMatchObject({ type: 'basic', licensed: 6, inUse: 2, available: 4, peakInUse: 2, topUps: 1, licensesAdded: 2 });
    expect(basic?.averageUtilisation).toBeCloseTo(42 / 120, 12);
    // pro: 00-18 0 of 2, 18-24 1 of 2 → 6 / 48
    expect(pro).toMatchObject({ type: 'pro', licensed: 2, inUse: 1, available: 1, peakInUse: 1, topUps: 0 });
    expect(pro?.averageUtilisation).toBeCloseTo(6 / 48, 12);
    expect(r.totals).toMatchObject({ licensed: 8, inUse: 3, available: 5 });
    expect(r.totals.averageUtilisation).toBeCloseTo(48 / 168, 12);
    expect(r.topUps).toEqual({ seats: 1, automatic: 1, credits: 0, total: 1 });
    expect(r.licensesAdded).toBe(2);
    expect(r.credits).toEqual({ consumed: 40, added: 0, source: 'audit' });
    expect(r.events).toBe(4);
    // End-of-month additions cover the whole of March.
    expect(r.monthly).toEqual([{ month: '2027-03', licensesAdded: 3, byType: { basic: 2, pro: 1 }, seatTopUps: 2, creditTopUps: 1, creditsAdded: 500 }]);
    expect(r.series).toHaveLength(24);
    expect(r.series[0]).toMatchObject({ from: '2027-03-01T00:00:00.000Z', inUse: { basic: 1, pro: 0 }, utilisation: { basic: 0.25, pro: 0 } });
    expect(r.series[6]).toMatchObject({ inUse: { basic: 2 }, utilisation: { basic: 0.5 } });
    expect(r.series[9]?.creditsConsumed).toBe(40);
    expect(r.series[12]).toMatchObject({ licensesAdded: 2, utilisation: { basic: 2 / 6 } });
    expect(r.series[23]).toMatchObject({ inUse: { basic: 2, pro: 1 } });
  });

  it('an ISO week, and a custom span across two months', async () => {
    const store = await scripted();
    const w = await computeReport(store, 'L', { kind: 'week', at: '2027-03-03T10:00:00Z' }, { now: NOW, licensed });
    // basic over Mon 1 .. Mon 8: day 1 as above, then 1 of 6 for 144 h.
    expect(w.seats[0]?.averageUtilisation).toBeCloseTo((42 + 144) / (120 + 864), 12);
    expect(w.seats[0]).toMatchObject({ inUse: 1, available: 5 });
    expect(w.credits.consumed).toBe(100);
    expect(w.topUps).toEqual({ seats: 1, automatic: 1, credits: 1, total: 2 });
    expect(w.series.map((b) => b.creditsConsumed)).toEqual([40, 0, 60, 0, 0, 0, 0]);
    const c = await computeReport(store, 'L', { kind: 'custom', from: '2027-03-01T00:00:00Z', to: '2027-04-05T00:00:00Z' }, { now: NOW, licensed });
    expect(c.range.unit).toBe('day');
    expect(c.series).toHaveLength(35);
    expect(c.licensesAdded).toBe(7);
    expect(c.topUps).toMatchObject({ seats: 3, automatic: 2 });
    expect(c.seats.map((s) => [s.type, s.licensed, s.available])).toEqual([
      ['basic', 10, 9],
      ['pro', 3, 2],
    ]);
    expect(c.monthly.map((m) => [m.month, m.licensesAdded])).toEqual([
      ['2027-03', 3],
      ['2027-04', 4],
    ]);
  });

  it('a month still running counts only the time elapsed, and state at "now"', async () => {
    const store = await scripted();
    const r = await computeReport(store, 'L', 'month', { now: MAR1 + 15 * H, licensed });
    expect(r.range.until).toBe('2027-03-01T15:00:00.000Z');
    // basic: 6 h of 1/4, 6 h of 2/4, 3 h of 2/6
    expect(r.seats[0]?.averageUtilisation).toBeCloseTo((6 + 12 + 6) / (24 + 24 + 18), 12);
    expect(r.seats[0]).toMatchObject({ licensed: 6, inUse: 2 });
    expect(r.seats[1]).toMatchObject({ licensed: 2, inUse: 0 });
    expect(r.series[1]?.inUse).toEqual({});
    expect(r.series[1]?.utilisation).toEqual({ basic: null, pro: null });
  });

  it('credits from a ledger history replace the audit figures', async () => {
    const store = await scripted();
    const credits = [
      { kind: 'consume' as const, amount: 5, time: new Date(MAR1 + 10 * H) },
      { kind: 'carry' as const, amount: 2, time: MAR1 + 11 * H },
      { kind: 'topup' as const, amount: 100, time: '2027-03-01T13:00:00Z' },
      { kind: 'consume' as const, amount: 7, time: MAR1 + 4 * D },
    ];
    const r = await computeReport(store, 'L', { kind: 'day', at: MAR1 }, { now: NOW, licensed, credits });
    expect(r.credits).toEqual({ consumed: 7, added: 100, source: 'ledger' });
    expect(r.topUps).toEqual({ seats: 1, automatic: 1, credits: 1, total: 2 });
    expect(r.series[10]?.creditsConsumed).toBe(5);
    expect(r.monthly[0]).toMatchObject({ creditTopUps: 1, creditsAdded: 100 });
  });

  it('an empty license, skewed clocks, and a tampered log', async () => {
    const empty = buildReport('X', [], 'day', { now: MAR1 + 5 * H, licensed: { basic: 3 } });
    expect(empty.seats).toEqual([{ type: 'basic', licensed: 3, inUse: 0, available: 3, averageUtilisation: 0, peakInUse: 0, topUps: 0, licensesAdded: 0 }]);
    expect(buildReport('X', [], 'day', { now: MAR1 }).totals.averageUtilisation).toBeNull();
    // An event stamped before the one ahead of it (another server's clock) counts at the earlier time.
    const ev = (seq: number, at: number, kind: string, details: Record<string, string | number>) => ({ licenseId: 'X', seq, at: new Date(at).toISOString(), actor: 'a', kind, details });
    const skewed = buildReport('X', [ev(1, MAR1 + 2 * H, 'seat.assigned', { type: 'basic', licensed: 2 }), ev(2, MAR1 + H, 'seat.released', { type: 'basic' })], { kind: 'day', at: MAR1 }, { now: NOW });
    expect(skewed.seats[0]?.averageUtilisation).toBe(0);
    const inner = new MemoryStore();
    const store = withAuditChain(inner);
    await new SeatManager(store, { id: 'L', seats: { basic: 2 } }).assign('a', 'basic');
    // A forged event written around licit's counters (they chain even over a bare store).
    await inner.transaction('L', async (tx) => {
      tx.append({ at: new Date().toISOString(), actor: 'forger', kind: 'seat.assigned', details: { userId: 'forged', type: 'basic', inUse: 2, licensed: 2 } });
    });
    await rejects(computeReport(store, 'L', 'day', { verify: true }), 'ERR_AUDIT_TAMPERED');
    const plain = await computeReport(store, 'L', 'day', { now: Date.parse((await store.events('L'))[1]?.at ?? '') });
    expect(plain.seats[0]?.inUse, JSON.stringify([plain.range, await store.events('L'), Date.now()])).toBe(2);
  });
});

describe('activations and license users beside the seat types', () => {
  /** A license limited by devices and users, no seat types (times UTC). */
  async function devices(): Promise<Store> {
    let t = MAR1 - 2 * D + 12 * H; // Feb 27 12:00
    const store = withAuditChain(new MemoryStore());
    const acts = new Activations(store, { id: 'D', seats: {}, maxUsers: 3, maxActivations: 4, maxTransfers: 5 }, { now: () => t });
    await acts.addUser('a'); // users 1
    await acts.activate('a', 'd1'); // activations 1
    t = MAR1 + 3 * H;
    await acts.addUser('b'); // users 2
    t = MAR1 + 6 * H;
    await acts.activate('a', 'd2'); // activations 2
    await acts.activate('b', 'd3'); // activations 3
    t = MAR1 + 12 * H;
    await acts.resetDevice('d2'); // activations 2
    t = MAR1 + 15 * H;
    await acts.transfer('b', 'd3', 'd4'); // moves one: still 2
    t = MAR1 + 18 * H;
    await acts.removeUser('a'); // users 1, and a's d1 goes: activations 1
    t = MAR1 + D + 12 * H;
    await acts.activate('b', 'd5'); // the next day: activations 2
    return store;
  }

  it('counts devices and users against maxActivations / maxUsers, time-weighted', async () => {
    const store = await devices();
    const r = await computeReport(store, 'D', { kind: 'day', at: MAR1 }, { now: NOW, maxActivations: 4, maxUsers: 3, verify: true });
    expect(r.seats).toEqual([]);
    const [acts, users] = r.limits;
    // activations: 00-06 1, 06-12 3, 12-18 2, 18-24 1 of 4 → (6 + 18 + 12 + 6) / 96
    expect(acts).toMatchObject({ type: 'activations', licensed: 4, inUse: 1, available: 3, peakInUse: 3 });
    expect(acts?.averageUtilisation).toBeCloseTo(42 / 96, 12);
    // users: 00-03 1, 03-18 2, 18-24 1 of 3 → (3 + 30 + 6) / 72
    expect(users).toMatchObject({ type: 'users', licensed: 3, inUse: 1, available: 2, peakInUse: 2 });
    expect(users?.averageUtilisation).toBeCloseTo(39 / 72, 12);
    expect(r.series[0]).toMatchObject({ limitInUse: { activations: 1, users: 1 }, limitUtilisation: { activations: 0.25, users: 1 / 3 } });
    expect(r.series[3]?.limitUtilisation.users).toBeCloseTo(2 / 3, 12);
    expect(r.series[6]?.limitUtilisation.activations).toBe(0.75);
    expect(r.series[12]?.limitInUse).toEqual({ activations: 2, users: 2 });
    expect(r.series[23]?.limitInUse).toEqual({ activations: 1, users: 1 });
    // The next day: 00-12 1, 12-24 2 of 4.
    const next = await computeReport(store, 'D', { kind: 'day', at: MAR1 + D }, { now: NOW, maxActivations: 4, maxUsers: 3 });
    expect(next.limits[0]).toMatchObject({ inUse: 2, available: 2, peakInUse: 2 });
    expect(next.limits[0]?.averageUtilisation).toBeCloseTo(36 / 96, 12);
    // Seat-only options: the rows still show what is in use, with no limit to count against.
    const bare = await computeReport(store, 'D', { kind: 'day', at: MAR1 }, { now: NOW });
    expect(bare.limits).toEqual([
      { type: 'activations', licensed: null, inUse: 1, available: null, averageUtilisation: null, peakInUse: 3 },
      { type: 'users', licensed: null, inUse: 1, available: null, averageUtilisation: null, peakInUse: 2 },
    ]);
  });

  it('a limit with no events is a full row; events without an inUse figure are replayed', () => {
    const empty = buildReport('X', [], 'day', { now: MAR1 + 6 * H, maxActivations: 5 });
    expect(empty.limits).toEqual([{ type: 'activations', licensed: 5, inUse: 0, available: 5, averageUtilisation: 0, peakInUse: 0 }]);
    expect(buildReport('X', [], 'day', { now: MAR1 }).limits).toEqual([]);
    const ev = (seq: number, at: number, kind: string, details: Record<string, string | number | string[]>) => ({ licenseId: 'X', seq, at: new Date(at).toISOString(), actor: 'a', kind, details });
    const events = [
      ev(1, MAR1, 'user.added', { user: 'u' }),
      ev(2, MAR1, 'device.activated', { user: 'u', device: 'x' }),
      ev(3, MAR1, 'device.activated', { user: 'u', device: 'y' }),
      ev(4, MAR1 + 6 * H, 'device.reset', { device: 'y', users: ['u'] }),
      ev(5, MAR1 + 12 * H, 'user.removed', { user: 'u', devices: ['x'] }),
    ];
    const r = buildReport('X', events, { kind: 'day', at: MAR1 }, { now: NOW, maxActivations: 2, maxUsers: 1 });
    // activations: 00-06 2, 06-12 1, 12-24 0 of 2 → 18 / 48; users: 00-12 1 of 1 → 12 / 24
    expect(r.limits.map((l) => [l.type, l.inUse, l.peakInUse, l.averageUtilisation])).toEqual([
      ['activations', 0, 2, 18 / 48],
      ['users', 0, 1, 0.5],
    ]);
  });
});
