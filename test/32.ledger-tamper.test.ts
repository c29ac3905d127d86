/**
 * Tampering with the ledger's files themselves: flip each byte of every file of both copies
 * (segments, snapshot, head), truncate the active segment at every offset, swap two records, delete
 * either copy, restore older copies, pad a segment. Each case ends in its stated outcome and never
 * in a larger balance (smaller `consumed`).
 *
 * Each copy is an append-only log directory. The fixture ledger is compacted once, so each copy
 * holds a sealed first segment (records 0-2), a snapshot (after record 2) and an active second
 * segment (records 3-5).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLicenseError } from '../src/core/errors.js';
import { CreditLedger, type CreditLedgerOptions, type LedgerLicense } from '../src/node/ledger/credit-ledger.js';
import { ledgerFileNames } from '../src/node/ledger/paths.js';
import { AppendLog } from '../src/node/log/append-log.js';
import { activeSegment, dataEnd, frames, headFile, readCopy, reframe, segName, segmentsOf, writeCopy, type CopyFiles } from './helpers/ledger-disk.js';

const SECRET = 'test-secret-32';
const LIC: LedgerLicense = { id: 'LIC-32', credits: 1000, carriedCredits: 0 };
const LOG_ID = `credits:${LIC.id}`;
/** Small enough that the fixture rolls over once (after its third record). */
const COMPACT: Partial<CreditLedgerOptions> = { compactBytes: 400 };
type Place = { dir: string; mirrorDir: string };
const newPlace = (base = tmpdir()): Place => {
  const root = mkdtempSync(join(base, 'licit-32-'));
  return { dir: join(root, 'p'), mirrorDir: join(root, 'm') };
};
const at = newPlace();
// The every-byte and every-offset sweeps (about 3,000 and 1,000 opens, each writing back and often
// repairing and compacting, with fsyncs) run in a few independent ledger directories at once, in
// memory (/dev/shm) where the system has it: they test what an open decides, not the disk.
const LANES = 4;
const SWEEP_BASE = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const lanes = Array.from({ length: LANES }, () => newPlace(SWEEP_BASE));
afterAll(() => {
  for (const l of lanes) rmSync(join(l.dir, '..'), { recursive: true, force: true });
});
const NAMES = ledgerFileNames(LIC.id, SECRET);
const copyPaths = (place: Place) => ({ p: join(place.dir, NAMES.primary), m: join(place.mirrorDir, NAMES.mirror) });
let paths: CreditLedger['paths'];
let old: { p: CopyFiles; m: CopyFiles; consumed: number }; // after 2 records
let cur: { p: CopyFiles; m: CopyFiles; consumed: number }; // after 6 records

interface Outcome {
  code?: string;
  message?: string;
  consumed?: number;
  /** What verify() said after a successful open: 'ok' or an error code. */
  verified?: string;
}

/** Put these copies in place (undefined = delete), open, verify, and report the outcome. */
async function outcome(p: CopyFiles | undefined, m: CopyFiles | undefined, license: LedgerLicense = LIC, secret = SECRET): Promise<Outcome> {
  return outcomeIn(at, p, m, license, secret);
}

/** {@link outcome} in the ledger directories `place`. */
async function outcomeIn(place: Place, p: CopyFiles | undefined, m: CopyFiles | undefined, license: LedgerLicense = LIC, secret = SECRET, verify = true): Promise<Outcome> {
  mkdirSync(place.dir, { recursive: true });
  mkdirSync(place.mirrorDir, { recursive: true });
  const cp = copyPaths(place);
  writeCopy(cp.p, p);
  writeCopy(cp.m, m);
  let ledger: CreditLedger;
  try {
    ledger = await CreditLedger.open(license, { secret, ...place, ...COMPACT });
  } catch (e) {
    if (!isLicenseError(e)) throw e;
    return { code: e.code, message: e.message };
  }
  try {
    const { consumed } = await ledger.balance();
    if (!verify) return { consumed };
    const verified = await ledger.verify().then(() => 'ok', (e: unknown) => (isLicenseError(e) ? e.code : String(e)));
    return { consumed, verified };
  } finally {
    await ledger.close();
  }
}

/** Run `check` for every case, spread over the lanes (each lane takes the next case when free). */
async function sweep<T>(cases: readonly T[], check: (c: T, place: Place) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(lanes.map(async (place) => {
    while (next < cases.length) await check(cases[next++] as T, place);
  }));
}
const upTo = (n: number): number[] => Array.from({ length: n + 1 }, (_, i) => i);
const withFile = (files: CopyFiles, name: string, b: Buffer | undefined): CopyFiles => {
  const out = { ...files };
  if (b === undefined) delete out[name];
  else out[name] = b;
  return out;
};
/** The payloads of every record of a copy, from the first (what two copies of one history share). */
const recordsOf = (dir: string) => AppendLog.readAll(dir, LOG_ID).map((r) => Buffer.from(r).toString('hex'));

beforeAll(async () => {
  const l = await CreditLedger.open(LIC, { secret: SECRET, ...at, ...COMPACT });
  paths = l.paths;
  await l.consume(1, { reason: 'a' });
  await l.consume(2, { reason: 'b' });
  old = { p: readCopy(paths.primary) as CopyFiles, m: readCopy(paths.mirror) as CopyFiles, consumed: 3 };
  for (const n of [3, 4, 5, 6]) await l.consume(n, { reason: 'c' });
  await l.close();
  cur = { p: readCopy(paths.primary) as CopyFiles, m: readCopy(paths.mirror) as CopyFiles, consumed: 21 };
  // The layout the cases rely on: a sealed segment of records 0-2, a snapshot, and the active segment of records 3-5.
  expect(Object.keys(cur.p)).toEqual(['head', segName(1), segName(2), 'snapshot']);
  expect(frames(cur.p[segName(2)] as Buffer).filter((f) => f.type === 2).map((f) => f.seq)).toEqual([4, 5, 6]);
  expect(segmentsOf(cur.p)).toEqual(segmentsOf(cur.m));
});

describe('ledger tampering', () => {
  it('flipping any byte of any file of either copy (segments, snapshot, head) never gives a credit back: refused, or repaired to the same balance', { timeout: 300_000 }, async () => {
    const cases = (['p', 'm'] as const).flatMap((which) =>
      Object.entries(cur[which]).flatMap(([name, b]) => upTo((name.startsWith('log-') ? dataEnd(b) + 32 : b.length) - 1).map((i) => ({ which, name, i }))),
    );
    const tally = { refused: 0, repaired: 0, caughtByVerify: 0 };
    const t0 = performance.now();
    await sweep(cases, async ({ which, name, i }, place) => {
      const files = cur[which];
      const b = Buffer.concat([files[name] as Buffer, Buffer.alloc(Math.max(0, i + 1 - (files[name] as Buffer).length))]);
      b[i] = (b[i] as number) ^ 0x20;
      const edited = withFile(files, name, b);
      // verify() reads every record again: run it where it must catch the flip, and on every 8th other case.
      const inSealed = name === segName(1) && i < dataEnd(files[name] as Buffer);
      const verify = inSealed || i % 8 === 0;
      const r = which === 'p' ? await outcomeIn(place, edited, cur.m, LIC, SECRET, verify) : await outcomeIn(place, cur.p, edited, LIC, SECRET, verify);
      const label = `${which} ${name} byte ${i}: ${JSON.stringify(r)}`;
      if (r.code !== undefined) {
        expect(r.code, label).toBe('ERR_LEDGER_TAMPERED');
        tally.refused++;
        return;
      }
      expect(r.consumed, label).toBe(cur.consumed);
      // The sealed first segment is not read by an open (the snapshot stands for it); verify reads every record.
      if (inSealed) {
        expect(r.verified, label).toBe('ERR_LEDGER_TAMPERED');
        tally.caughtByVerify++;
      } else {
        if (verify) expect(r.verified, label).toBe('ok');
        tally.repaired++;
      }
    });
    // Both outcomes happen: a flipped head or a damaged record in the middle is refused; a flipped
    // snapshot is rebuilt from the segments; a flipped last record reads as a torn write and is repaired.
    expect(tally.refused, JSON.stringify(tally)).toBeGreaterThan(0);
    expect(tally.repaired, JSON.stringify(tally)).toBeGreaterThan(0);
    console.log(`flip sweep: ${cases.length} cases in ${Math.round(performance.now() - t0)} ms ${JSON.stringify(tally)}`);
  });

  it('truncating the active segment of either copy at any offset is repaired from the other: same balance', async () => {
    const seg = activeSegment(cur.p);
    const end = dataEnd(cur.p[seg] as Buffer) + 8;
    const headerEnd = (frames(cur.p[seg] as Buffer)[0] as { end: number }).end;
    const cases = (['p', 'm'] as const).flatMap((which) => upTo(end).map((cut) => ({ which, cut })));
    await sweep(cases, async ({ which, cut }, place) => {
      const files = cur[which];
      const edited = withFile(files, seg, (files[seg] as Buffer).subarray(0, cut));
      const r = which === 'p' ? await outcomeIn(place, edited, cur.m) : await outcomeIn(place, cur.p, edited);
      const label = `${which} cut at ${cut}: ${JSON.stringify(r)}`;
      // Cut inside the segment's header frame, the segment is not a log segment any more: refused.
      if (cut < headerEnd) expect(r.code, label).toBe('ERR_LEDGER_TAMPERED');
      else expect(r, label).toMatchObject({ consumed: cur.consumed, verified: 'ok' });
    });
    // The repaired copy holds every record again, the same as the other.
    const seg2 = cur.p[seg] as Buffer;
    await outcome(withFile(cur.p, seg, seg2.subarray(0, headerEnd + 50)), cur.m);
    expect(recordsOf(paths.primary)).toEqual(recordsOf(paths.mirror));
    expect(recordsOf(paths.primary)).toHaveLength(6);
  });

  it('truncating both copies to a torn tail (a crash mid-write) drops only the unacknowledged record', async () => {
    const seg = activeSegment(cur.p);
    const ends = frames(cur.p[seg] as Buffer).map((f) => f.end);
    const cut = (ends.at(-2) as number) + 20; // inside the last record, as a crash mid-write leaves it
    // The crash came before the head file could say record 6 was committed.
    const crashed = (files: CopyFiles) => withFile(withFile(files, seg, (files[seg] as Buffer).subarray(0, cut)), 'head', headFile(5));
    expect(await outcome(crashed(cur.p), crashed(cur.m))).toMatchObject({ consumed: 15, verified: 'ok' });
    // With the head file saying record 6 was committed, cutting it from both copies is refused.
    const cutBoth = (files: CopyFiles) => withFile(files, seg, (files[seg] as Buffer).subarray(0, cut));
    const r = await outcome(cutBoth(cur.p), cutBoth(cur.m));
    expect(r.code).toBe('ERR_LEDGER_TAMPERED');
    expect(r.message).toMatch(/records were cut from both copies/);
  });

  it('swapping two records is ERR_LEDGER_TAMPERED (raw frames, or re-framed with valid checksums)', async () => {
    const seg = activeSegment(cur.p);
    const raw = cur.p[seg] as Buffer;
    const [, f1, f2] = frames(raw) as [unknown, { start: number; end: number }, { start: number; end: number }];
    const rawSwap = Buffer.concat([raw.subarray(0, f1.start), raw.subarray(f2.start, f2.end), raw.subarray(f1.start, f1.end), raw.subarray(f2.end)]);
    const framedSwap = reframe(raw, ([a, b, ...rest]) => [b as Uint8Array, a as Uint8Array, ...rest]);
    for (const swapped of [rawSwap, framedSwap]) {
      const p = withFile(cur.p, seg, swapped);
      expect((await outcome(p, cur.m)).code).toBe('ERR_LEDGER_TAMPERED');
      expect((await outcome(p, withFile(cur.m, seg, swapped))).code).toBe('ERR_LEDGER_TAMPERED');
    }
  });

  it('a deleted copy is rebuilt from the other', async () => {
    expect(await outcome(undefined, cur.m)).toMatchObject({ consumed: cur.consumed, verified: 'ok' });
    expect(recordsOf(paths.primary)).toEqual(recordsOf(paths.mirror));
    expect(await outcome(cur.p, undefined)).toMatchObject({ consumed: cur.consumed, verified: 'ok' });
    expect(recordsOf(paths.mirror)).toEqual(recordsOf(paths.primary));
  });

  it('a deleted or edited snapshot is rebuilt from the segments, never a credit back', async () => {
    for (const which of ['p', 'm'] as const) {
      const noSnap = withFile(cur[which], 'snapshot', undefined);
      const r = which === 'p' ? await outcome(noSnap, cur.m) : await outcome(cur.p, noSnap);
      expect(r, which).toMatchObject({ consumed: cur.consumed, verified: 'ok' });
    }
    // Both snapshots gone: every record is still in the segments.
    expect(await outcome(withFile(cur.p, 'snapshot', undefined), withFile(cur.m, 'snapshot', undefined))).toMatchObject({ consumed: cur.consumed, verified: 'ok' });
    // Another snapshot (the old fixture's has none; take a later one) sealed for another position: not trusted, rebuilt.
    const l = await CreditLedger.open(LIC, { secret: SECRET, ...at, compactBytes: 1 });
    await l.consume(1);
    await l.close();
    const later = readCopy(paths.primary) as CopyFiles;
    const r = await outcome(withFile(cur.p, 'snapshot', later.snapshot), withFile(cur.m, 'snapshot', later.snapshot));
    expect(r.code === 'ERR_LEDGER_TAMPERED' || r.consumed === cur.consumed, JSON.stringify(r)).toBe(true);
  });

  it('an older copy of one is overruled by the longer chain', async () => {
    expect((await outcome(old.p, cur.m)).consumed).toBe(cur.consumed);
    expect((await outcome(cur.p, old.m)).consumed).toBe(cur.consumed);
  });

  it('older copies of both are caught by the vendor floor', async () => {
    // Without a floor nothing local can know: the older state is all there is.
    expect((await outcome(old.p, old.m)).consumed).toBe(old.consumed);
    // The vendor saw 21 consumed (a renewal lease or re-issued license carries it).
    expect((await outcome(old.p, old.m, { ...LIC, carriedCredits: 21 })).consumed).toBe(21);
    // Both deleted while the license says 21 were spent: refused, never a reset to zero.
    expect((await outcome(undefined, undefined, { ...LIC, carriedCredits: 21 })).code).toBe('ERR_LEDGER_MISSING');
  });

  it('copies emptied or cut before their first record count as missing, never as a fresh start', async () => {
    const floor = { ...LIC, carriedCredits: 21 };
    const seg1 = old.p[segName(1)] as Buffer;
    const headerEnd = (frames(seg1)[0] as { end: number }).end;
    // A crash inside the first record leaves this (the head file still says 0 records).
    const firstTorn: CopyFiles = { head: headFile(0), [segName(1)]: seg1.subarray(0, headerEnd + 20) };
    for (const [label, p, m] of [['both empty', {}, {}], ['primary deleted, mirror empty', undefined, {}], ['both torn in record 0', firstTorn, firstTorn]] as const) {
      const r = await outcome(p, m, floor);
      expect(r.code, label).toBe('ERR_LEDGER_MISSING');
      expect(r.message, label).toContain('hold no records');
    }
    // Zeroed files are no log at all: refused too, never a fresh start.
    const zeroed = Object.fromEntries(Object.entries(cur.p).map(([n, b]) => [n, Buffer.alloc(b.length)]));
    expect(['ERR_LEDGER_MISSING', 'ERR_LEDGER_TAMPERED']).toContain((await outcome(zeroed, zeroed, floor)).code);
    // Recovery from the vendor's count is explicit, as for deleted files.
    await outcome({}, {});
    const ledger = await CreditLedger.open(floor, { secret: SECRET, ...at, recover: true });
    expect((await ledger.balance()).consumed).toBe(21);
    await ledger.close();
    // Without a floor, empty copies are a new ledger (nothing says credits were spent).
    expect((await outcome({}, {})).consumed).toBe(0);
  });

  it('a segment padded past the size limit (sparse, 2.2 GB) is ERR_LEDGER_TAMPERED, refused without reading it', async () => {
    for (const size of [1024 * 1024 * 1024 + 1, 2200 * 1024 * 1024]) {
      await outcome(cur.p, cur.m);
      truncateSync(join(paths.primary, segName(2)), size); // sparse: costs no disk
      const rss = process.memoryUsage().rss;
      const ledger = CreditLedger.open(LIC, { secret: SECRET, ...at, ...COMPACT });
      await expect(ledger).rejects.toMatchObject({ code: 'ERR_LEDGER_TAMPERED', message: expect.stringContaining('more than any segment licit writes') });
      expect(process.memoryUsage().rss - rss).toBeLessThan(256 * 1024 * 1024);
    }
    rmSync(paths.primary, { recursive: true });
  });

  it('two different histories (a fork) are ERR_LEDGER_TAMPERED', async () => {
    // Build another history from the old state: both continue record 1 differently.
    await outcome(old.p, old.m);
    const l = await CreditLedger.open(LIC, { secret: SECRET, ...at, ...COMPACT });
    await l.consume(1, { reason: 'fork' });
    await l.close();
    const fork = readCopy(paths.primary) as CopyFiles;
    expect((await outcome(cur.p, fork)).code).toBe('ERR_LEDGER_TAMPERED');
    expect((await outcome(fork, cur.m)).code).toBe('ERR_LEDGER_TAMPERED');
  });

  it('a copy from another license, or sealed with another secret, is ERR_LEDGER_TAMPERED', async () => {
    const other = newPlace();
    const l = await CreditLedger.open({ ...LIC, id: 'LIC-OTHER' }, { secret: SECRET, ...other });
    await l.consume(50);
    await l.close();
    const foreign = readCopy(l.paths.primary) as CopyFiles;
    expect((await outcome(foreign, cur.m)).code).toBe('ERR_LEDGER_TAMPERED');
    expect((await outcome(foreign, foreign)).code).toBe('ERR_LEDGER_TAMPERED');
    // This license's ledger sealed under another secret: record 0 fails in both copies, and the
    // message names the secret as a possible cause.
    const elsewhere = newPlace();
    const s = await CreditLedger.open(LIC, { secret: 'another-app-secret', ...elsewhere });
    await s.consume(50);
    await s.close();
    const sealedElsewhere = readCopy(s.paths.primary) as CopyFiles;
    const both = await outcome(sealedElsewhere, sealedElsewhere);
    expect(both.code).toBe('ERR_LEDGER_TAMPERED');
    expect(both.message).toMatch(/altered, or it was sealed with another secret/);
    expect(both.message).toMatch(/LICIT_SECRET/);
  });

  it('a wrong secret says the ledger was altered OR sealed with another secret (same code)', async () => {
    // The mirror's name depends on the secret, so a wrong secret finds the primary and no mirror.
    const r = await outcome(cur.p, cur.m, LIC, 'not-the-app-secret');
    expect(r.code).toBe('ERR_LEDGER_TAMPERED');
    expect(r.message).toMatch(/first record does not authenticate in the primary copy/);
    expect(r.message).toMatch(/sealed with another secret\. Check that the secret \(the CLI: --secret-file or LICIT_SECRET/);
    // Nothing was written under the wrong secret: the right one still opens the ledger.
    expect((await outcome(cur.p, cur.m)).consumed).toBe(cur.consumed);
    // A later record failing is plain tampering, not a secret problem: a payload edited and
    // re-framed with valid checksums, so only the seal catches it.
    const seg = activeSegment(cur.p);
    const edited = withFile(cur.p, seg, reframe(cur.p[seg] as Buffer, (ps) => ps.map((p, i) => (i === 1 ? p.map((x, j) => (j === 20 ? x ^ 1 : x)) : p))));
    const t = await outcome(edited, cur.m);
    expect(t.code).toBe('ERR_LEDGER_TAMPERED');
    expect(t.message).toMatch(/primary copy was modified \(record 4 fails authentication\)/);
    expect(t.message).toMatch(/The mirror copy verifies: 6 records, 21 credits consumed/);
    expect(t.message).not.toMatch(/another secret/);
  });
});
