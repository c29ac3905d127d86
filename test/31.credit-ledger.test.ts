/**
 * CreditLedger (src/node/ledger) on real files: durable consume, atomic refusal, group commit,
 * top-ups once, vendor floors, thresholds, history and verify, default directories.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLicenseError } from '../src/core/errors.js';
import { CreditLedger, type CreditLedgerOptions, type LedgerLicense } from '../src/node/ledger/credit-ledger.js';
import { defaultLedgerDirs } from '../src/node/ledger/paths.js';
import type { ThresholdEvent } from '../src/core/ledger/plan.js';

const SECRET = 'test-secret-31';
/** Offset just past the `n`th frame of a ledger file (u32 big-endian length + body). */
function frameEnd(file: Buffer, n: number): number {
  let p = 0;
  for (let i = 0; i < n; i++) p += 4 + file.readUInt32BE(p);
  return p;
}
function place(): { dir: string; mirrorDir: string } {
  const root = mkdtempSync(join(tmpdir(), 'licit-31-'));
  return { dir: join(root, 'primary'), mirrorDir: join(root, 'hidden', 'mirror') };
}
const lic = (credits: number, carriedCredits = 0, id = 'LIC-31'): LedgerLicense => ({ id, credits, carriedCredits });
const open = (l: LedgerLicense, at: { dir: string; mirrorDir: string }, more: Partial<CreditLedgerOptions> = {}) => CreditLedger.open(l, { secret: SECRET, ...at, ...more });
async function code(p: Promise<unknown>): Promise<string> {
  try {
    const v = await p;
    if (v instanceof CreditLedger) await v.close(); // no file handles left to the garbage collector
    return 'resolved';
  } catch (e) {
    return isLicenseError(e) ? e.code : String(e);
  }
}

describe('CreditLedger', () => {
  it('consumes durably into both copies and reopens with the same balance', async () => {
    const at = place();
    const l = await open(lic(10), at);
    const r = await l.consume(3, { reason: 'export' });
    expect(r).toMatchObject({ allowance: 10, consumed: 3, remaining: 7, seq: 0 });
    // One consume alone: one durable commit of one record (opening at floor 0 wrote nothing).
    expect(l.stats()).toEqual({ commits: 1, records: 1 });
    // Once consume resolved, the record is on disk in both copies (identical bytes).
    const p = readFileSync(l.paths.primary);
    expect(p.length).toBeGreaterThan(0);
    expect(readFileSync(l.paths.mirror).equals(p)).toBe(true);
    await l.close();
    const again = await open(lic(10), at);
    expect(await again.balance()).toMatchObject({ consumed: 3, remaining: 7 });
    expect((await again.history()).map((e) => [e.kind, e.amount, e.reason])).toEqual([['consume', 3, 'export']]);
    await again.close();
  });

  it('refuses atomically with ERR_CREDITS_EXHAUSTED and keeps going', async () => {
    const at = place();
    const l = await open(lic(5), at);
    await l.consume(4);
    expect(await code(l.consume(2))).toBe('ERR_CREDITS_EXHAUSTED');
    expect(await l.balance()).toMatchObject({ consumed: 4, remaining: 1 });
    await l.consume(1);
    expect(await code(l.consume(1))).toBe('ERR_CREDITS_EXHAUSTED');
    expect(await code(l.consume(0))).toBe('ERR_USAGE');
    expect(await code(l.consume(1.5))).toBe('ERR_USAGE');
    expect(await code(l.consume(1, { reason: 'x'.repeat(300) }))).toBe('ERR_USAGE');
    expect((await l.verify()).records).toBe(2);
    await l.close();
  });

  it('concurrent consumes share commits and never overspend', async () => {
    const at = place();
    const l = await open(lic(100), at);
    const before = l.stats();
    const results = await Promise.allSettled(Array.from({ length: 150 }, () => l.consume(1)));
    const ok = results.filter((r) => r.status === 'fulfilled');
    expect(ok).toHaveLength(100);
    expect(results.filter((r) => r.status === 'rejected').every((r) => isLicenseError((r as PromiseRejectedResult).reason, 'ERR_CREDITS_EXHAUSTED'))).toBe(true);
    // Every acknowledged consume got its own record; totals are exact.
    const seqs = new Set(ok.map((r) => (r as PromiseFulfilledResult<{ seq: number }>).value.seq));
    expect(seqs.size).toBe(100);
    // Group commit: the 150 requests (100 records) were made in one tick, so they share a few
    // durable commits instead of one write + fdatasync pair each.
    const after = l.stats();
    expect(after.records - before.records).toBe(100);
    expect(after.commits - before.commits).toBeGreaterThanOrEqual(1);
    expect(after.commits - before.commits).toBeLessThanOrEqual(3);
    expect(await l.balance()).toMatchObject({ consumed: 100, remaining: 0 });
    await l.close();
  });

  it('applies a top-up once and refuses another license\'s token', async () => {
    const at = place();
    const l = await open(lic(1), at);
    const t = { tokenId: 'TOP-1', licenseId: 'LIC-31', credits: 10 };
    expect(await l.topUp(t)).toMatchObject({ applied: true, allowance: 11 });
    expect(await l.topUp(t)).toMatchObject({ applied: false, allowance: 11 });
    expect(await code(l.topUp({ ...t, licenseId: 'OTHER' }))).toBe('ERR_EXCHANGE_WRONG_LICENSE');
    await l.close();
    const again = await open(lic(1), at);
    expect(await again.topUp(t)).toMatchObject({ applied: false, allowance: 11, remaining: 11 });
    await again.close();
  });

  it('refuses a top-up whose token id a re-read could not recognise, writing nothing', async () => {
    const at = place();
    const l = await open(lic(10), at);
    await l.consume(7);
    const bad: unknown[] = [
      { tokenId: '', licenseId: 'LIC-31', credits: 5 }, // an empty id reads back as "no id"
      { licenseId: 'LIC-31', credits: 5 },
      { tokenId: 'line\nbreak', licenseId: 'LIC-31', credits: 5 },
      { tokenId: 'lone \ud800 surrogate', licenseId: 'LIC-31', credits: 5 }, // not UTF-8: would read back as U+FFFD
      { tokenId: 'x'.repeat(129), licenseId: 'LIC-31', credits: 5 },
      { tokenId: 'ü'.repeat(100), licenseId: 'LIC-31', credits: 5 }, // 100 characters, 200 bytes: over the record's 128
      null,
    ];
    for (const t of bad) expect(await code(l.topUp(t as Parameters<CreditLedger['topUp']>[0])), JSON.stringify(t)).toBe('ERR_USAGE');
    expect(l.stats().records).toBe(1);
    await l.close();
    const again = await open(lic(10), at); // still opens: nothing unreadable was written
    expect(await again.verify()).toMatchObject({ consumed: 7, allowance: 10, records: 1 });
    await again.close();
  });

  it('never reports less than the vendor floor, and raises it later', async () => {
    const at = place();
    const l = await open(lic(100, 0), at);
    await l.consume(5);
    await l.close();
    // A re-issued license carrying 40 consumed (seen by the vendor) lifts the ledger to 40.
    const l2 = await open(lic(100, 40), at);
    expect(await l2.balance()).toMatchObject({ consumed: 40, remaining: 60 });
    expect(await l2.raiseFloor(50)).toMatchObject({ consumed: 50 });
    expect(await l2.raiseFloor(10)).toMatchObject({ consumed: 50 });
    expect((await l2.history()).map((e) => e.kind)).toEqual(['consume', 'carry', 'carry']);
    await l2.close();
    // An older license (lower floor) cannot lower it again.
    const l3 = await open(lic(100, 0), at, { floor: 20 });
    expect(await l3.balance()).toMatchObject({ consumed: 50 });
    await l3.close();
  });

  it('fires threshold events when remaining crosses them', async () => {
    const at = place();
    const l = await open(lic(10), at, { thresholds: [5, 2] });
    const seen: ThresholdEvent[] = [];
    l.on('threshold', (e) => seen.push(e));
    await l.consume(4); // 6 left
    expect(seen).toEqual([]);
    await l.consume(1); // 5 left
    await l.consume(4); // 1 left
    expect(seen).toEqual([
      { threshold: 5, direction: 'down', remaining: 5 },
      { threshold: 2, direction: 'down', remaining: 1 },
    ]);
    await l.topUp({ tokenId: 'T', licenseId: 'LIC-31', credits: 10 });
    expect(seen.slice(2).map((e) => [e.threshold, e.direction])).toEqual([[5, 'up'], [2, 'up']]);
    await l.close();
  });

  it('sees what another ledger object (another process, same files) consumed', async () => {
    const at = place();
    const a = await open(lic(10), at);
    const b = await open(lic(10), at);
    await a.consume(3);
    await b.consume(4);
    expect(await a.balance()).toMatchObject({ consumed: 7 });
    expect(await code(a.consume(4))).toBe('ERR_CREDITS_EXHAUSTED');
    await Promise.all([a.close(), b.close()]);
  });

  it('both copies missing: fresh without a floor, ERR_LEDGER_MISSING with one, recover on request', async () => {
    const at = place();
    const l = await open(lic(10, 0), at);
    await l.consume(2);
    await l.close();
    rmSync(l.paths.primary);
    rmSync(l.paths.mirror);
    expect(await code(open(lic(10, 6), at))).toBe('ERR_LEDGER_MISSING');
    const r = await open(lic(10, 6), at, { recover: true });
    expect(await r.balance()).toMatchObject({ consumed: 6 });
    await r.close();
  });

  it('rebuilds a copy deleted while the ledger is open', async () => {
    const at = place();
    const l = await open(lic(10), at);
    await l.consume(2);
    const other = await open(lic(10), at); // takes the lock in between, so `l` re-checks the files
    await other.close();
    rmSync(l.paths.mirror);
    const repaired: unknown[] = [];
    l.on('repaired', (s) => repaired.push(s));
    await l.consume(1);
    expect(repaired).toEqual([{ primary: 'ok', mirror: 'missing' }]);
    expect(await l.verify()).toMatchObject({ consumed: 3, primary: 'ok', mirror: 'ok' });
    expect(readFileSync(l.paths.mirror).equals(readFileSync(l.paths.primary))).toBe(true);
    await l.close();
  });

  it('says what it found at open, before repairing: created, missing, behind', async () => {
    const at = place();
    const l = await open(lic(10), at);
    expect(l.foundAtOpen).toEqual({ primary: 'missing', mirror: 'missing' }); // created by this open
    await l.consume(2);
    await l.consume(1);
    const paths = l.paths;
    await l.close();
    rmSync(paths.mirror);
    const a = await open(lic(10), at);
    expect(a.foundAtOpen).toEqual({ primary: 'ok', mirror: 'missing' });
    expect(await a.verify()).toMatchObject({ primary: 'ok', mirror: 'ok', consumed: 3 }); // repaired by the open
    await a.close();
    const primary = readFileSync(paths.primary);
    writeFileSync(paths.primary, primary.subarray(0, frameEnd(primary, 1))); // keep the first record only
    const b = await open(lic(10), at);
    expect(b.foundAtOpen).toEqual({ primary: 'behind', mirror: 'ok' });
    expect(b.cachedBalance.consumed).toBe(3);
    await b.close();
  });

  it('checks its options', async () => {
    const at = place();
    expect(await code(CreditLedger.open(lic(1), { secret: '', ...at }))).toBe('ERR_USAGE');
    expect(await code(open(lic(-1), at))).toBe('ERR_USAGE');
    expect(await code(open(lic(1), at, { thresholds: [-1] }))).toBe('ERR_USAGE');
    expect(await code(open(lic(1), { dir: at.dir, mirrorDir: at.dir }, {}))).toBe('resolved'); // different file names in one dir are allowed
  });

  it('follows platform conventions for default directories', () => {
    const home = '/home/ann';
    expect(defaultLedgerDirs('acme', { platform: 'linux', env: {}, home })).toEqual({ dir: '/home/ann/.local/share/acme/licit', mirrorDir: expect.stringMatching(/^\/home\/ann\/\.local\/state\/\.[0-9a-f]{12}$/) });
    expect(defaultLedgerDirs('acme', { platform: 'linux', env: { XDG_DATA_HOME: '/d', XDG_STATE_HOME: '/s' }, home }).dir).toBe('/d/acme/licit');
    expect(defaultLedgerDirs('acme', { platform: 'darwin', env: {}, home }).dir).toBe('/home/ann/Library/Application Support/acme/licit');
    expect(defaultLedgerDirs('acme', { platform: 'darwin', env: {}, home }).mirrorDir).toMatch(/Library\/Preferences\/\./);
    const w = defaultLedgerDirs('acme', { platform: 'win32', env: { LOCALAPPDATA: 'C:\\L', APPDATA: 'C:\\R' }, home: 'C:\\U' });
    expect(w.dir).toContain('acme');
    expect(w.mirrorDir).not.toContain('acme');
  });
});
