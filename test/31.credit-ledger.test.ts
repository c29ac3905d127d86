/**
 * CreditLedger (src/node/ledger) on real files: durable consume, atomic refusal, group commit,
 * idempotency keys, signed top-ups once, vendor floors, thresholds, history and verify, default
 * directories, the required secret.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLicenseError } from '../src/core/errors.js';
import { sealEnvelope } from '../src/core/crypto/envelope.js';
import { topUpClaims, verifyTopUp } from '../src/core/exchange/topup.js';
import { issueTopUp, toSigner } from '../src/issuer/index.js';
import { CreditLedger, type CreditLedgerOptions, type LedgerLicense } from '../src/node/ledger/credit-ledger.js';
import { defaultLedgerDirs } from '../src/node/ledger/paths.js';
import type { ThresholdEvent } from '../src/core/ledger/plan.js';
import { makeVendor } from './helpers/vendor.js';
import { AppendLog } from '../src/node/log/append-log.js';
import { readCopy, segmentsOf, writeCopy } from './helpers/ledger-disk.js';

const SECRET = 'test-secret-31';
const VENDOR = makeVendor();
/** A top-up token for LIC-31 signed by the test vendor. */
const token = (credits: number, tokenId: string, licenseId = 'LIC-31') => issueTopUp({ licenseId, credits, tokenId }, { signingKey: VENDOR.privateKeyPem });
/** The sealed records of a ledger copy (a log directory), from the first, as hex. */
const recordsOf = (dir: string, id = 'LIC-31') => AppendLog.readAll(dir, `credits:${id}`).map((r) => Buffer.from(r).toString('hex'));
function place(): { dir: string; mirrorDir: string } {
  const root = mkdtempSync(join(tmpdir(), 'licit-31-'));
  return { dir: join(root, 'primary'), mirrorDir: join(root, 'hidden', 'mirror') };
}
const lic = (credits: number, carriedCredits = 0, id = 'LIC-31'): LedgerLicense => ({ id, credits, carriedCredits });
const open = (l: LedgerLicense, at: { dir: string; mirrorDir: string }, more: Partial<CreditLedgerOptions> = {}) => CreditLedger.open(l, { secret: SECRET, publicKeys: VENDOR.publicKeyPem, ...at, ...more });
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
    expect(r).toMatchObject({ allowance: 10, consumed: 3, remaining: 7, seq: 0, repeated: false });
    // One consume alone: one durable commit of one record (opening at floor 0 wrote nothing).
    expect(l.stats()).toEqual({ commits: 1, records: 1 });
    // Once consume resolved, the record is on disk in both copies (identical segment bytes).
    const p = segmentsOf(readCopy(l.paths.primary));
    expect(Object.keys(p)).toEqual(['log-0000000001']);
    expect(segmentsOf(readCopy(l.paths.mirror))).toEqual(p);
    expect(recordsOf(l.paths.primary)).toHaveLength(1);
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

  it('idempotency keys: a retry is charged once, across reopening and other ledger objects', async () => {
    const at = place();
    const l = await open(lic(10), at);
    const first = await l.consume(2, { reason: 'job 1', idempotencyKey: 'job-1' });
    expect(first).toMatchObject({ consumed: 2, remaining: 8, seq: 0, repeated: false });
    expect(await l.consume(2, { idempotencyKey: 'job-1' })).toEqual({ ...first, repeated: true });
    await l.consume(3, { idempotencyKey: 'job-2' });
    // The original's receipt, not today's balance.
    expect(await l.consume(2, { idempotencyKey: 'job-1' })).toMatchObject({ consumed: 2, remaining: 8, seq: 0, repeated: true });
    const conflict = await l.consume(5, { idempotencyKey: 'job-1' }).catch((e: unknown) => e);
    expect(conflict).toMatchObject({ code: 'ERR_IDEMPOTENCY_CONFLICT', details: { idempotencyKey: 'job-1', recordedAmount: 2, requested: 5, seq: 0 } });
    expect((conflict as Error).message).toMatch(/"job-1" was already used for a consume of 2 credits \(record 0\); this consume asks for 5/);
    // Two requests with one key in one group commit: one record.
    const same = await Promise.all([l.consume(1, { idempotencyKey: 'job-3' }), l.consume(1, { idempotencyKey: 'job-3' })]);
    expect(same.map((r) => r.repeated)).toEqual([false, true]);
    expect(same[1]?.seq).toBe(same[0]?.seq);
    await l.consume(4); // all 10 spent
    expect(await l.consume(1, { idempotencyKey: 'job-3' })).toMatchObject({ repeated: true, consumed: 6 }); // a repeat needs no credits
    expect(await code(l.consume(1, { idempotencyKey: 'job-4' }))).toBe('ERR_CREDITS_EXHAUSTED');
    const records = l.stats().records;
    // Another ledger object on the same files (another process) knows the keys `l` wrote.
    const other = await open(lic(10), at);
    expect(await other.receipt('job-2')).toMatchObject({ seq: 1, consumed: 5, repeated: true });
    expect(await other.receipt('job-4')).toBeUndefined(); // refused consumes record nothing
    await other.consume(3, { idempotencyKey: 'job-2' });
    expect(await l.receipt('job-2')).toMatchObject({ seq: 1 });
    await Promise.all([l.close(), other.close()]);
    expect(records).toBe(4);
    // Keys survive reopening and show in the history.
    const again = await open(lic(10), at);
    expect(await again.consume(3, { idempotencyKey: 'job-2' })).toMatchObject({ seq: 1, consumed: 5, repeated: true });
    expect((await again.history()).map((e) => e.idempotencyKey)).toEqual(['job-1', 'job-2', 'job-3', undefined]);
    expect(again.stats().records).toBe(0);
    for (const k of ['', 'a\nb', 'x'.repeat(129), 'ü'.repeat(65), 'lone \ud800', 7]) {
      expect(await code(again.consume(1, { idempotencyKey: k as string })), JSON.stringify(k)).toBe('ERR_USAGE');
    }
    await again.close();
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

  it('applies a signed top-up once (text or verifyTopUp result) and refuses another license\'s token', async () => {
    const at = place();
    const l = await open(lic(1), at);
    const text = await token(10, 'TOP-1');
    expect(await l.topUp(text)).toMatchObject({ applied: true, allowance: 11, tokenId: 'TOP-1', credits: 10 });
    const verified = await verifyTopUp(text, { publicKeys: VENDOR.publicKeyPem });
    expect(await l.topUp(verified)).toMatchObject({ applied: false, allowance: 11 });
    expect(await code(l.topUp(await token(10, 'TOP-2', 'OTHER')))).toBe('ERR_EXCHANGE_WRONG_LICENSE');
    await l.close();
    const again = await open(lic(1), at);
    expect(await again.topUp(text)).toMatchObject({ applied: false, allowance: 11, remaining: 11 });
    await again.close();
  });

  it('adds nothing for an unsigned, forged or unverifiable top-up, writing nothing', async () => {
    const at = place();
    const l = await open(lic(10), at);
    await l.consume(7);
    const text = await token(5, 'TOP-OK');
    const verified = await verifyTopUp(text, { publicKeys: VENDOR.publicKeyPem });
    // Plain objects carry no signature: refused at run time (and, typed, at compile time).
    const plain: unknown[] = [
      { tokenId: 'TOP-X', licenseId: 'LIC-31', credits: 1_000_000 },
      { ...verified }, // a copy of a verified result is not one
      { ...verified, credits: 1_000_000 },
      null,
      42,
    ];
    for (const t of plain) expect(await code(l.topUp(t as Parameters<CreditLedger['topUp']>[0])), JSON.stringify(t)).toBe('ERR_USAGE');
    // @ts-expect-error a plain object is not a VerifiedTopUp
    expect(await code(l.topUp({ tokenId: 'TOP-Y', licenseId: 'LIC-31', credits: 5 }))).toBe('ERR_USAGE');
    // Signed by another vendor; altered; garbage.
    const other = makeVendor();
    expect(await code(l.topUp(await issueTopUp({ licenseId: 'LIC-31', credits: 5 }, { signingKey: other.privateKeyPem })))).toBe('ERR_KEY_UNKNOWN_SIGNER');
    const i = text.length - 20;
    expect(await code(l.topUp(`${text.slice(0, i)}${text[i] === 'A' ? 'B' : 'A'}${text.slice(i + 1)}`))).toBe('ERR_KEY_SIGNATURE');
    expect(await code(l.topUp('LICITT1-garbage'))).toMatch(/^ERR_KEY_/);
    // Verified under other keys: the ledger checks again under its own.
    const otherText = await issueTopUp({ licenseId: 'LIC-31', credits: 5 }, { signingKey: other.privateKeyPem });
    expect(await code(l.topUp(await verifyTopUp(otherText, { publicKeys: other.publicKeyPem })))).toBe('ERR_KEY_UNKNOWN_SIGNER');
    // A ledger opened without publicKeys cannot verify, so it applies nothing.
    const noKeys = await CreditLedger.open(lic(10), { secret: SECRET, ...at });
    expect(await code(noKeys.topUp(text))).toBe('ERR_USAGE');
    expect(await code(noKeys.topUp(verified))).toBe('ERR_USAGE');
    await noKeys.close();
    // A vendor-signed id that a re-read could not recognise (a control character).
    const odd = await sealEnvelope('topup', topUpClaims({ tokenId: 'line\nbreak', licenseId: 'LIC-31', credits: 5, issuedAt: new Date() }), toSigner(VENDOR.privateKeyPem));
    expect(await code(l.topUp(odd))).toBe('ERR_USAGE');
    expect(l.stats().records).toBe(1);
    expect(await l.balance()).toMatchObject({ allowance: 10, toppedUp: 0 });
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
    await l.topUp(await token(10, 'T'));
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
    rmSync(l.paths.primary, { recursive: true });
    rmSync(l.paths.mirror, { recursive: true });
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
    rmSync(l.paths.mirror, { recursive: true });
    const repaired: unknown[] = [];
    l.on('repaired', (s) => repaired.push(s));
    await l.consume(1);
    expect(repaired).toEqual([{ primary: 'ok', mirror: 'missing' }]);
    expect(await l.verify()).toMatchObject({ consumed: 3, primary: 'ok', mirror: 'ok' });
    expect(recordsOf(l.paths.mirror)).toEqual(recordsOf(l.paths.primary));
    await l.close();
  });

  it('says what it found at open, before repairing: created, missing, behind', async () => {
    const at = place();
    const l = await open(lic(10), at);
    expect(l.foundAtOpen).toEqual({ primary: 'missing', mirror: 'missing' }); // created by this open
    await l.consume(2);
    const afterOne = readCopy(l.paths.primary);
    await l.consume(1);
    const paths = l.paths;
    await l.close();
    rmSync(paths.mirror, { recursive: true });
    const a = await open(lic(10), at);
    expect(a.foundAtOpen).toEqual({ primary: 'ok', mirror: 'missing' });
    expect(await a.verify()).toMatchObject({ primary: 'ok', mirror: 'ok', consumed: 3 }); // repaired by the open
    await a.close();
    writeCopy(paths.primary, afterOne); // an older primary restored: the first record only
    const b = await open(lic(10), at);
    expect(b.foundAtOpen).toEqual({ primary: 'behind', mirror: 'ok' });
    expect(b.cachedBalance.consumed).toBe(3);
    await b.close();
  });

  it('checks its options', async () => {
    const at = place();
    // No secret, no default: a shared default would let anyone forge a ledger sealed with it.
    expect(await code(CreditLedger.open(lic(1), { secret: '', ...at }))).toBe('ERR_SECRET_REQUIRED');
    expect(await code(CreditLedger.open(lic(1), { secret: new Uint8Array(0), ...at }))).toBe('ERR_SECRET_REQUIRED');
    expect(await code(CreditLedger.open(lic(1), { ...at } as CreditLedgerOptions))).toBe('ERR_SECRET_REQUIRED');
    const missing = await CreditLedger.open(lic(1), { ...at } as CreditLedgerOptions).catch((e: Error) => e.message);
    expect(missing).toMatch(/`secret`.*--secret-file.*LICIT_SECRET/);
    expect(await code(CreditLedger.open(lic(1), { secret: 7 as unknown as string, ...at }))).toBe('ERR_USAGE');
    expect(await code(open(lic(1), at, { publicKeys: 'not a key' }))).toBe('ERR_PUBLIC_KEY_INVALID');
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
