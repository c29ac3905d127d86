/**
 * The credit ledger on the log engine: opening after compaction reads the snapshot and the tail
 * only; a missing or foreign snapshot is rebuilt from the segments; verify() checks each snapshot
 * against the records it stands for; a ledger written by licit 0.1 (one regular file per copy) is
 * migrated into log directories on open, also when a crash interrupts the migration at any step:
 * no record lost, none counted twice, no old file left behind to be migrated again.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isLicenseError } from '../src/core/errors.js';
import { deriveLedgerKey } from '../src/core/ledger/seal.js';
import { encodeSnapshot } from '../src/core/ledger/snapshot.js';
import { emptyHead } from '../src/core/ledger/chain.js';
import { genesisHash } from '../src/core/ledger/record.js';
import { CreditLedger, type LedgerLicense } from '../src/node/ledger/credit-ledger.js';
import { AppendLog, type Opened } from '../src/node/log/append-log.js';
import { logIO } from '../src/node/log/io.js';
import { FrameType, encodeFrames } from '../src/node/log/frame.js';
import { readCopy, writeCopy, type CopyFiles } from './helpers/ledger-disk.js';

const SECRET = 'test-secret-36';
const LIC: LedgerLicense = { id: 'LIC-36', credits: 1_000_000, carriedCredits: 0 };
const place = () => {
  const root = mkdtempSync(join(tmpdir(), 'licit-36-'));
  return { dir: join(root, 'p'), mirrorDir: join(root, 'm') };
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe('compaction', () => {
  it('opening after compaction reads the snapshot and the records after it, not the whole history', async () => {
    const at = place();
    const l = await CreditLedger.open(LIC, { secret: SECRET, ...at, compactBytes: 16 * 1024 });
    for (let i = 0; i < 20; i++) await Promise.all(Array.from({ length: 100 }, (_, j) => l.consume(1, { idempotencyKey: `k-${i}-${j}` })));
    await l.consume(1, { reason: 'last' });
    const paths = l.paths;
    await l.close();
    const opens: Opened[] = [];
    const real = AppendLog.open.bind(AppendLog);
    vi.spyOn(AppendLog, 'open').mockImplementation(async (...args: Parameters<typeof AppendLog.open>) => {
      const o = await real(...args);
      opens.push(o);
      return o;
    });
    const readAll = vi.spyOn(AppendLog, 'readAll');
    const again = await CreditLedger.open(LIC, { secret: SECRET, ...at, compactBytes: 16 * 1024 });
    expect(await again.balance()).toMatchObject({ consumed: 2001 });
    // Both copies opened from a snapshot, replaying a short tail; nothing read from the first record.
    expect(opens).toHaveLength(2);
    for (const o of opens) {
      expect(o.snapshot).toBeDefined();
      expect(o.records.length).toBeLessThan(1000);
    }
    expect(readAll).not.toHaveBeenCalled();
    // The idempotency keys survived in the snapshot: an old key is still answered, not charged.
    expect(await again.consume(1, { idempotencyKey: 'k-0-0' })).toMatchObject({ repeated: true, seq: 0 });
    expect(again.highestKnownTime()).toBeInstanceOf(Date);
    // History and verify still read every record, from the first segment on.
    expect(await again.history()).toHaveLength(2001);
    expect(await again.verify()).toMatchObject({ records: 2001, primary: 'ok', mirror: 'ok' });
    await again.close();
    expect(readCopy(paths.primary)).toHaveProperty('snapshot');
  });

  it('verify() refuses a snapshot that does not match its records, and an open never trusts one sealed for another place', async () => {
    const at = place();
    const l = await CreditLedger.open(LIC, { secret: SECRET, ...at, compactBytes: 1 });
    await l.consume(5);
    await l.consume(6);
    const paths = l.paths;
    await l.close();
    const cur = { p: readCopy(paths.primary) as CopyFiles, m: readCopy(paths.mirror) as CopyFiles };
    // A snapshot sealed with the right key (someone holding the secret) claiming fewer credits
    // consumed, at the right place: verify() says the snapshot does not match its records.
    const key = await deriveLedgerKey(SECRET, LIC.id);
    const seq = 2;
    const lie = await encodeSnapshot(key, LIC.id, { head: { ...emptyHead(genesisHash(LIC.id)), seq: seq - 1 }, keys: [], latest: undefined });
    const meta = Buffer.from(`${JSON.stringify({ format: 'licit-snapshot/1', id: `credits:${LIC.id}`, gen: 3, seq })}\n`);
    const forged = Buffer.from(encodeFrames([{ type: FrameType.snapshot, seq, batch: 3, payload: Buffer.concat([meta, lie]), end: true }]));
    writeCopy(paths.primary, { ...cur.p, snapshot: forged });
    writeCopy(paths.mirror, { ...cur.m, snapshot: forged });
    const x = await CreditLedger.open(LIC, { secret: SECRET, ...at, compactBytes: 1 << 20 }).catch((e: unknown) => e);
    if (x instanceof CreditLedger) {
      // A forged snapshot can lie only to a holder of the secret; verify() still catches it.
      const v = await x.verify().catch((e: unknown) => e);
      expect(isLicenseError(v, 'ERR_LEDGER_TAMPERED'), String(v)).toBe(true);
      expect((v as Error).message).toMatch(/snapshot does not match its records/);
      await x.close();
    } else expect(isLicenseError(x, 'ERR_LEDGER_TAMPERED'), String(x)).toBe(true);
  });
});

// ---- migration from licit 0.1 ----

const FIXTURE = new URL('./fixtures/ledger-v0.1/', import.meta.url).pathname;
const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as {
  license: LedgerLicense;
  secret: string;
  names: { primary: string; mirror: string };
  balance: Record<string, unknown>;
  records: number;
  latest: string;
  keys: [string, number][];
};

/** A licit 0.1 ledger (written by the code before the log engine) in a fresh place. */
function oldLedger(): { dir: string; mirrorDir: string; primary: string; mirror: string } {
  const at = place();
  mkdirSync(at.dir, { recursive: true });
  mkdirSync(at.mirrorDir, { recursive: true });
  const primary = join(at.dir, expected.names.primary);
  const mirror = join(at.mirrorDir, expected.names.mirror);
  copyFileSync(join(FIXTURE, 'primary'), primary);
  copyFileSync(join(FIXTURE, 'mirror'), mirror);
  return { ...at, primary, mirror };
}

const openOld = (at: { dir: string; mirrorDir: string }) => CreditLedger.open(expected.license, { secret: expected.secret, ...at });

/** The migrated ledger holds exactly the old records: balance, count, keys, times; no old file is left. */
async function checkMigrated(at: { dir: string; mirrorDir: string; primary: string; mirror: string }, why: string): Promise<void> {
  const l = await openOld(at);
  try {
    expect(await l.balance(), why).toEqual(expected.balance);
    expect(await l.verify(), why).toMatchObject({ records: expected.records, primary: 'ok', mirror: 'ok' });
    for (const [k, seq] of expected.keys) expect(await l.receipt(k), `${why}: ${k}`).toMatchObject({ seq, repeated: true });
    expect(l.highestKnownTime()?.toISOString(), why).toBe(expected.latest);
    expect((await l.history()).length, why).toBe(expected.records);
  } finally {
    await l.close();
  }
  for (const p of [at.primary, at.mirror]) {
    expect(statSync(p).isDirectory(), `${why}: ${p}`).toBe(true);
    expect(existsSync(`${p}.migrating`), `${why}: ${p}.migrating`).toBe(false);
  }
}

describe('migration from one file per copy (licit 0.1)', () => {
  it('opens an old ledger: same records, balance, ledger id and idempotency keys; the old files become log directories', async () => {
    const at = oldLedger();
    const old = { p: readFileSync(at.primary), m: readFileSync(at.mirror) };
    const l = await openOld(at);
    expect(l.foundAtOpen).toEqual({ primary: 'ok', mirror: 'ok' });
    expect(await l.consume(4, { idempotencyKey: 'key-3' })).toMatchObject({ repeated: true, seq: 4 });
    const r = await l.consume(1, { idempotencyKey: 'after-migration' });
    expect(r).toMatchObject({ repeated: false, consumed: (expected.balance.consumed as number) + 1 });
    await l.close();
    // The sealed bodies are the old ones, byte for byte (each old frame is u32 length | body).
    const bodies = AppendLog.readAll(at.primary, `credits:${expected.license.id}`);
    let p = 0;
    for (let i = 0; i < expected.records; i++) {
      const len = old.p.readUInt32BE(p);
      expect(Buffer.from(bodies[i] as Uint8Array).equals(old.p.subarray(p + 4, p + 4 + len)), `record ${i}`).toBe(true);
      p += 4 + len;
    }
    expect(old.m.equals(old.p)).toBe(true);
  });

  it('one old copy and one already migrated (a crash between the two) open as one ledger', async () => {
    const at = oldLedger();
    const l = await openOld(at);
    await l.close();
    // Put the old mirror file back in place of its migrated directory.
    rmSync(at.mirror, { recursive: true });
    copyFileSync(join(FIXTURE, 'mirror'), at.mirror);
    await checkMigrated(at, 'mixed');
  });

  it('a tampered old copy is refused as before, and nothing is migrated', async () => {
    const at = oldLedger();
    const b = readFileSync(at.primary);
    b[30] = (b[30] as number) ^ 1;
    writeFileSync(at.primary, b);
    const e = await openOld(at).catch((x: unknown) => x);
    expect(isLicenseError(e, 'ERR_LEDGER_TAMPERED'), String(e)).toBe(true);
    expect((e as Error).message).toMatch(/primary copy was modified.*The mirror copy verifies: 13 records/);
    expect(statSync(at.primary).isFile()).toBe(true);
    expect(statSync(at.mirror).isFile()).toBe(true);
  });

  it('a crash at any step of the migration loses nothing and counts nothing twice', { timeout: 60_000 }, async () => {
    // Fail the Nth change to the disk the migration makes (create, sync, rename), as a crash there would stop it.
    let steps = 0;
    for (let n = 1; ; n++) {
      const at = oldLedger();
      let calls = 0;
      const boom = () => {
        if (++calls === n) throw Object.assign(new Error(`crash at step ${n}`), { code: 'EIO' });
      };
      const fns = ['createFile', 'rename', 'syncDir'] as const;
      const spies = fns.map((f) => {
        const real = logIO[f] as (...a: unknown[]) => Promise<void>;
        return vi.spyOn(logIO, f).mockImplementation(async (...a: unknown[]) => {
          boom();
          return real(...a);
        });
      });
      const r = await openOld(at).then(async (l) => {
        await l.close();
        return 'opened';
      }, (e: unknown) => e);
      for (const s of spies) s.mockRestore();
      if (r === 'opened') {
        await checkMigrated(at, `no crash (${n - 1} steps)`);
        break;
      }
      expect(isLicenseError(r, 'ERR_IO') || isLicenseError(r), `step ${n}: ${String(r)}`).toBe(true);
      // Reopened after the crash: the migration is finished or redone, exactly.
      await checkMigrated(at, `crash at step ${n}`);
      steps++;
    }
    expect(steps).toBeGreaterThan(10);
  });

  it('a leftover .migrating directory beside the old file is rebuilt; one without it is put in place', async () => {
    const at = oldLedger();
    mkdirSync(`${at.primary}.migrating`); // a crash while building it
    writeFileSync(join(`${at.primary}.migrating`, 'junk'), 'x');
    await checkMigrated(at, 'leftover beside the old file');
    // The mirror migrated into .migrating, the old file unlinked, the crash before the rename.
    const at2 = oldLedger();
    const l = await openOld(at2);
    await l.close();
    const { renameSync } = await import('node:fs');
    renameSync(at2.mirror, `${at2.mirror}.migrating`);
    await checkMigrated(at2, 'rename not done');
  });
});
