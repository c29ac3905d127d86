/**
 * Clock guard recovery and redundancy: a mark left behind by a clock once set ahead is reset by a
 * fresh vendor-signed time (never by an old one), the state kept in more than one place survives
 * deleting or restoring one file, witnesses count, and there is no default secret.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLease, openLease, type Lease } from '../src/core/exchange/index.js';
import { toSigner } from '../src/issuer/signer.js';
import { ClockGuard, fileClockGuard, LicenseError, SealedFile, type TimeWitness } from '../src/index.node.js';
import { makeVendor } from './helpers/vendor.js';

const vendor = makeVendor();
const signer = toSigner(vendor.privateKeyPem);
const SECRET = 'clock-recovery-test-secret';
const T = (iso: string) => new Date(iso);
const FUTURE = T('2099-01-01T00:00:00Z');
const tmp = () => mkdtempSync(join(tmpdir(), 'licit-clock-rec-'));

/** A vendor-signed lease issued at `serverTime` (what the caller would have verified and installed). */
async function leaseAt(serverTime: Date): Promise<Lease> {
  const text = await createLease(
    { licenseId: 'LIC-CLOCK', fingerprint: 'fp1:mi=AAAAAAAAAAAAAAAAAAAAAA', installationKey: new Uint8Array(32).fill(7), nonce: '00'.repeat(16), serverTime, verifiedUntil: new Date(serverTime.getTime() + 14 * 86_400_000), deviceId: 'd', floor: 0 },
    signer,
  );
  return openLease(text, vendor.publicKeyPem);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    if (e instanceof LicenseError) return e.code;
    throw e;
  }
}

describe('ClockGuard recovery', () => {
  it('a jump to 2099 then back is ERR_CLOCK_TAMPERED naming the way out; a fresh signed lease resets the mark and checks pass, also after a restart', async () => {
    const path = join(tmp(), 'clock');
    const g = fileClockGuard(path, { secret: SECRET });
    await g.check(T('2026-05-01T09:00:00Z'));
    await g.check(FUTURE); // one check with a clock set far ahead
    const err = (await g.check(T('2026-05-01T10:00:00Z')).catch((e: unknown) => e)) as LicenseError;
    expect(err).toBeInstanceOf(LicenseError);
    expect(err.code).toBe('ERR_CLOCK_TAMPERED');
    expect(err.message).toContain('Set the clock correctly; if it is correct now, renew online or apply a response code from the vendor (licit request / licit apply) to reset the time check');
    // Without a signed time, a restart does not help: the wrong mark is sealed on disk.
    expect(await codeOf(fileClockGuard(path, { secret: SECRET }).check(T('2026-05-01T10:00:00Z')))).toBe('ERR_CLOCK_TAMPERED');

    const r = await g.acceptSignedTime(await leaseAt(T('2026-05-01T10:00:00Z')));
    expect(r.accepted).toBe(true);
    expect(r.discarded?.getTime()).toBeGreaterThanOrEqual(FUTURE.getTime());
    expect(r.highWaterMark.toISOString()).toBe('2026-05-01T10:00:00.000Z');
    expect(await g.check(T('2026-05-01T10:00:30Z'))).toEqual(T('2026-05-01T10:00:30Z'));
    const restarted = fileClockGuard(path, { secret: SECRET });
    expect(await restarted.check(T('2026-05-01T10:01:00Z'))).toEqual(T('2026-05-01T10:01:00Z'));
    expect((await restarted.lastSignedTime())?.toISOString()).toBe('2026-05-01T10:00:00.000Z');
    // Rollback detection still holds after the reset: behind the signed time is tampering.
    expect(await codeOf(restarted.check(T('2026-04-01T00:00:00Z')))).toBe('ERR_CLOCK_TAMPERED');
  });

  it('a correction made by another guard on the same file is seen before refusing', async () => {
    const path = join(tmp(), 'clock');
    const app = fileClockGuard(path, { secret: SECRET });
    await app.check(FUTURE);
    expect(await codeOf(app.check(T('2026-05-01T10:00:00Z')))).toBe('ERR_CLOCK_TAMPERED');
    await fileClockGuard(path, { secret: SECRET }).acceptSignedTime(await leaseAt(T('2026-05-01T10:00:00Z')));
    // `app` still holds 2099 in memory: it reads the file again before refusing, and keeps the correction.
    expect(await app.check(T('2026-05-01T10:05:00Z'))).toEqual(T('2026-05-01T10:05:00Z'));
    await app.check(T('2026-05-01T12:00:00Z')); // persisted (moved more than a minute)
    expect(await fileClockGuard(path, { secret: SECRET }).highWaterMark()).toBe(T('2026-05-01T12:00:00Z').getTime());
  });

  it('an old (replayed) lease never lowers the mark, also across a restart; a newer one does', async () => {
    const path = join(tmp(), 'clock');
    const g = fileClockGuard(path, { secret: SECRET });
    const may1 = await leaseAt(T('2026-05-01T10:00:00Z'));
    expect((await g.acceptSignedTime(may1)).accepted).toBe(true);
    await g.check(FUTURE);
    for (const old of [await leaseAt(T('2026-04-01T10:00:00Z')), may1]) {
      const r = await g.acceptSignedTime(old);
      expect(r).toMatchObject({ accepted: false, discarded: undefined });
      expect(r.highWaterMark.getTime()).toBeGreaterThanOrEqual(FUTURE.getTime());
      expect(await codeOf(g.check(T('2026-05-02T00:00:00Z')))).toBe('ERR_CLOCK_TAMPERED');
    }
    const restarted = fileClockGuard(path, { secret: SECRET });
    expect((await restarted.acceptSignedTime(await leaseAt(T('2026-04-15T00:00:00Z')))).accepted).toBe(false);
    expect(await codeOf(restarted.check(T('2026-05-02T00:00:00Z')))).toBe('ERR_CLOCK_TAMPERED');
    // A newer signed time is the way out.
    expect((await restarted.acceptSignedTime(await leaseAt(T('2026-05-02T00:00:00Z')))).accepted).toBe(true);
    expect(await codeOf(restarted.check(T('2026-05-02T00:00:10Z')))).toBe('OK');
    // An old lease cannot lower a mark the clock raised legitimately either.
    await restarted.check(T('2026-05-20T00:00:00Z'));
    expect((await restarted.acceptSignedTime(may1)).accepted).toBe(false);
    expect(await codeOf(restarted.check(T('2026-05-10T00:00:00Z')))).toBe('ERR_CLOCK_TAMPERED');
  });

  it('deleting the guard file alone does not reset rollback detection (the copy keeps the mark)', async () => {
    const d = tmp();
    const path = join(d, 'clock');
    const copy = new SealedFile(join(d, 'installation', 'clock.sealed'));
    await fileClockGuard(path, { secret: SECRET, alsoKeepIn: [copy] }).check(T('2026-05-10T00:00:00Z'));
    rmSync(path);
    expect(await codeOf(fileClockGuard(path, { secret: SECRET, alsoKeepIn: [copy] }).check(T('2026-05-01T00:00:00Z')))).toBe('ERR_CLOCK_TAMPERED');
    // The copy alone (what the installation holds) says the same.
    expect(await new ClockGuard({ store: copy, secret: SECRET }).highWaterMark()).toBe(T('2026-05-10T00:00:00Z').getTime());
  });

  it('restoring an older guard file (or an older copy) is caught: the newer one wins', async () => {
    const d = tmp();
    const path = join(d, 'clock');
    const copyPath = join(d, 'copy');
    const copy = new SealedFile(copyPath);
    const open = () => fileClockGuard(path, { secret: SECRET, alsoKeepIn: [copy] });
    await open().check(T('2026-05-01T00:00:00Z'));
    const oldGuard = readFileSync(path);
    const oldCopy = readFileSync(copyPath);
    await open().check(T('2026-05-20T00:00:00Z'));
    writeFileSync(path, oldGuard);
    expect(await codeOf(open().check(T('2026-05-05T00:00:00Z')))).toBe('ERR_CLOCK_TAMPERED');
    await open().check(T('2026-05-20T00:01:00Z'));
    writeFileSync(copyPath, oldCopy);
    expect(await codeOf(open().check(T('2026-05-05T00:00:00Z')))).toBe('ERR_CLOCK_TAMPERED');
  });

  it('restoring a file from before a correction does not bring the wrong mark back', async () => {
    const d = tmp();
    const path = join(d, 'clock');
    const copy = new SealedFile(join(d, 'copy'));
    const open = () => fileClockGuard(path, { secret: SECRET, alsoKeepIn: [copy] });
    await open().check(FUTURE);
    const poisoned = readFileSync(path);
    await open().acceptSignedTime(await leaseAt(T('2026-05-01T10:00:00Z')));
    writeFileSync(path, poisoned);
    expect(await codeOf(open().check(T('2026-05-01T10:01:00Z')))).toBe('OK');
  });

  it('an altered copy is refused, and a fresh signed time overwrites it', async () => {
    const d = tmp();
    const path = join(d, 'clock');
    const copyPath = join(d, 'copy');
    const open = () => fileClockGuard(path, { secret: SECRET, alsoKeepIn: [new SealedFile(copyPath)] });
    await open().check(T('2026-05-01T10:00:00Z'));
    const bytes = readFileSync(copyPath);
    bytes[bytes.length - 1]! ^= 1;
    writeFileSync(copyPath, bytes);
    expect(await codeOf(open().check(T('2026-05-01T10:00:00Z')))).toBe('ERR_STATE_TAMPERED');
    expect((await open().acceptSignedTime(await leaseAt(T('2026-05-01T11:00:00Z')))).accepted).toBe(true);
    expect(await codeOf(open().check(T('2026-05-01T11:00:00Z')))).toBe('OK');
  });

  it('reads the mark a guard of the previous version sealed (8 bytes, v1)', async () => {
    const { deriveSealKey, seal } = await import('../src/core/crypto/seal.js');
    const { utf8 } = await import('../src/core/codec/bytes.js');
    const path = join(tmp(), 'clock');
    const buf = new Uint8Array(8);
    new DataView(buf.buffer).setFloat64(0, T('2026-05-10T00:00:00Z').getTime());
    writeFileSync(path, await seal(await deriveSealKey(SECRET, 'clock-guard'), buf, utf8('licit-clock-guard-v1')));
    const g = fileClockGuard(path, { secret: SECRET });
    expect(await g.highWaterMark()).toBe(T('2026-05-10T00:00:00Z').getTime());
    expect(await codeOf(g.check(T('2026-05-01T00:00:00Z')))).toBe('ERR_CLOCK_TAMPERED');
    expect((await g.acceptSignedTime(await leaseAt(T('2026-05-01T00:00:00Z')))).accepted).toBe(true);
    expect(await codeOf(g.check(T('2026-05-01T00:00:00Z')))).toBe('OK');
  });

  it('witnesses count as seen, except the times a signed correction discarded', async () => {
    let ledgerTime: Date | undefined = T('2026-05-10T00:00:00Z');
    const ledger: TimeWitness = { highestKnownTime: async () => ledgerTime };
    const path = join(tmp(), 'clock');
    const open = () => fileClockGuard(path, { secret: SECRET, witnesses: [ledger] });
    // The guard file never saw May 10, the ledger did: setting the clock to May 1 is caught.
    expect(await codeOf(open().check(T('2026-05-01T00:00:00Z')))).toBe('ERR_CLOCK_TAMPERED');
    rmSync(path, { force: true });
    // The ledger wrote records while the clock said 2099; a fresh signed time discards that era...
    ledgerTime = FUTURE;
    expect(await codeOf(open().check(T('2026-05-11T00:00:00Z')))).toBe('ERR_CLOCK_TAMPERED');
    const r = await open().acceptSignedTime(await leaseAt(T('2026-05-11T00:00:00Z')));
    expect(r.discarded?.toISOString()).toBe(FUTURE.toISOString());
    expect(await codeOf(open().check(T('2026-05-11T00:01:00Z')))).toBe('OK');
    // ...but a witness time later than anything discarded counts again.
    ledgerTime = T('2100-01-01T00:00:00Z');
    expect(await codeOf(open().check(T('2026-05-11T00:02:00Z')))).toBe('ERR_CLOCK_TAMPERED');
  });
});

describe('no shared default secret', () => {
  it('fileClockGuard and ClockGuard refuse to seal without a secret, naming the `secret` option', () => {
    const d = tmp();
    for (const secret of [undefined, '', new Uint8Array(0), null, 42]) {
      let err: unknown;
      try {
        fileClockGuard(join(d, 'clock'), { secret } as unknown as { secret: string });
      } catch (e) {
        err = e;
      }
      expect(err, String(secret)).toBeInstanceOf(LicenseError);
      expect((err as LicenseError).code).toBe('ERR_SECRET_REQUIRED');
      expect((err as LicenseError).message).toMatch(/fileClockGuard needs .*`secret` option/);
      expect(() => new ClockGuard({ store: new SealedFile(join(d, 'c')), secret } as unknown as { store: SealedFile; secret: string })).toThrow(expect.objectContaining({ code: 'ERR_SECRET_REQUIRED' }));
    }
    expect(existsSync(join(d, 'clock'))).toBe(false);
  });
});

describe('the credit ledger as a witness', () => {
  it('a ledger written while the clock said 2099 keeps rollback detection after the guard file is deleted', async () => {
    const { CreditLedger } = await import('../src/node/ledger/credit-ledger.js');
    const dir = tmp();
    let now = FUTURE;
    const license = { id: 'LIC-WITNESS', credits: 100, carriedCredits: 0 };
    const ledger = await CreditLedger.open(license, { secret: SECRET, dir: join(dir, 'p'), mirrorDir: join(dir, 'm'), now: () => now });
    expect(ledger.highestKnownTime()).toBeUndefined();
    await ledger.consume(1);
    expect(ledger.highestKnownTime()).toEqual(FUTURE);
    now = T('2026-12-06T00:00:00Z');
    await ledger.close();
    // Reopened (records read back from disk), with no guard file at all.
    const reopened = await CreditLedger.open(license, { secret: SECRET, dir: join(dir, 'p'), mirrorDir: join(dir, 'm') });
    expect(reopened.highestKnownTime()).toEqual(FUTURE);
    const guard = fileClockGuard(join(dir, 'guard'), { secret: SECRET, witnesses: [reopened] });
    expect(await codeOf(guard.check(T('2026-12-06T00:00:00Z')))).toBe('ERR_CLOCK_TAMPERED');
    await reopened.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
