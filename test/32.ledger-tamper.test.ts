/**
 * Tampering with the ledger files themselves: flip each byte, truncate at every offset, swap two
 * records, delete either copy, restore older copies. Each case ends in its stated outcome and
 * never in a larger balance (smaller `consumed`).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isLicenseError } from '../src/core/errors.js';
import { dataEnd } from '../src/core/ledger/frame.js';
import { CreditLedger, type LedgerLicense } from '../src/node/ledger/credit-ledger.js';
import { ledgerFileNames } from '../src/node/ledger/paths.js';

const SECRET = 'test-secret-32';
const LIC: LedgerLicense = { id: 'LIC-32', credits: 1000, carriedCredits: 0 };
type Place = { dir: string; mirrorDir: string };
const newPlace = (): Place => {
  const root = mkdtempSync(join(tmpdir(), 'licit-32-'));
  return { dir: join(root, 'p'), mirrorDir: join(root, 'm') };
};
const at = newPlace();
// The every-byte and every-offset sweeps run in a few independent ledger directories at once
// (their opens are mostly waiting on the disk), which keeps this file well under 40 s.
const LANES = 4;
const lanes = Array.from({ length: LANES }, newPlace);
const NAMES = ledgerFileNames(LIC.id, SECRET);
let paths: CreditLedger['paths'];
let old: { p: Buffer; m: Buffer; consumed: number }; // after 2 records
let cur: { p: Buffer; m: Buffer; consumed: number }; // after 6 records
let ends: number[]; // frame ends in the current file

/** Put these bytes in place (undefined = delete), open, and report the outcome. */
async function outcome(p: Buffer | undefined, m: Buffer | undefined, license: LedgerLicense = LIC, secret = SECRET): Promise<{ code?: string; message?: string; consumed?: number; ledger?: CreditLedger }> {
  return outcomeIn(at, p, m, license, secret);
}

/** {@link outcome} in the ledger directories `place`. */
async function outcomeIn(place: Place, p: Buffer | undefined, m: Buffer | undefined, license: LedgerLicense = LIC, secret = SECRET): Promise<{ code?: string; message?: string; consumed?: number; ledger?: CreditLedger }> {
  mkdirSync(place.dir, { recursive: true });
  mkdirSync(place.mirrorDir, { recursive: true });
  for (const [path, b] of [[join(place.dir, NAMES.primary), p], [join(place.mirrorDir, NAMES.mirror), m]] as const) {
    if (b === undefined) rmSync(path, { force: true });
    else writeFileSync(path, b);
  }
  try {
    const ledger = await CreditLedger.open(license, { secret, ...place });
    const { consumed } = await ledger.balance();
    await ledger.close();
    return { consumed, ledger };
  } catch (e) {
    if (!isLicenseError(e)) throw e;
    return { code: e.code, message: e.message };
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

beforeAll(async () => {
  const l = await CreditLedger.open(LIC, { secret: SECRET, ...at });
  paths = l.paths;
  await l.consume(1, { reason: 'a' });
  await l.consume(2, { reason: 'b' });
  old = { p: readFileSync(paths.primary), m: readFileSync(paths.mirror), consumed: 3 };
  for (const n of [3, 4, 5, 6]) await l.consume(n, { reason: 'c' });
  await l.close();
  cur = { p: readFileSync(paths.primary), m: readFileSync(paths.mirror), consumed: 21 };
  // Frame ends from the length prefixes.
  ends = [];
  for (let p = 0; p < dataEnd(cur.p); ) {
    p += 4 + cur.p.readUInt32BE(p);
    ends.push(p);
  }
  expect(ends).toHaveLength(6);
});

describe('ledger tampering', () => {
  it('flipping any byte of either copy (every byte of both) is ERR_LEDGER_TAMPERED', async () => {
    const end = (ends[ends.length - 1] as number) + 32;
    const cases = (['primary', 'mirror'] as const).flatMap((which) => upTo(end - 1).map((i) => ({ which, i })));
    await sweep(cases, async ({ which, i }, place) => {
      const b = Buffer.from(which === 'primary' ? cur.p : cur.m);
      b[i] = (b[i] as number) ^ 0x20;
      const r = which === 'primary' ? await outcomeIn(place, b, cur.m) : await outcomeIn(place, cur.p, b);
      expect(r.code, `${which} byte ${i}`).toBe('ERR_LEDGER_TAMPERED');
    });
  });

  it('truncating either copy at any offset (every offset of both) is repaired from the other: same balance', async () => {
    const end = (ends[ends.length - 1] as number) + 8;
    const cases = (['primary', 'mirror'] as const).flatMap((which) => upTo(end).map((cut) => ({ which, cut })));
    await sweep(cases, async ({ which, cut }, place) => {
      const r = which === 'primary' ? await outcomeIn(place, cur.p.subarray(0, cut), cur.m) : await outcomeIn(place, cur.p, cur.m.subarray(0, cut));
      expect(r.consumed, `${which} cut at ${cut}`).toBe(cur.consumed);
    });
    // The repaired copy verifies on its own (the mirror is now a full copy again).
    await outcome(cur.p.subarray(0, 50), cur.m);
    expect(readFileSync(paths.primary).subarray(0, ends.at(-1)).equals(cur.m.subarray(0, ends.at(-1)))).toBe(true);
  });

  it('truncating both copies to a torn tail drops only the unacknowledged record', async () => {
    const cut = (ends[4] as number) + 20; // inside the 6th record: as a crash mid-write leaves it
    const r = await outcome(cur.p.subarray(0, cut), cur.m.subarray(0, cut));
    expect(r.consumed).toBe(15);
  });

  it('swapping two records is ERR_LEDGER_TAMPERED', async () => {
    const [, e1, e2, e3] = ends as [number, number, number, number];
    expect(e2 - e1).toBe(e3 - e2); // same size: a swap keeps every offset
    const swapped = Buffer.concat([cur.p.subarray(0, e1), cur.p.subarray(e2, e3), cur.p.subarray(e1, e2), cur.p.subarray(e3)]);
    expect((await outcome(swapped, cur.m)).code).toBe('ERR_LEDGER_TAMPERED');
    expect((await outcome(swapped, swapped)).code).toBe('ERR_LEDGER_TAMPERED');
  });

  it('a deleted copy is rebuilt from the other', async () => {
    expect((await outcome(undefined, cur.m)).consumed).toBe(cur.consumed);
    expect(readFileSync(paths.primary).subarray(0, ends.at(-1)).equals(cur.m.subarray(0, ends.at(-1)))).toBe(true);
    expect((await outcome(cur.p, undefined)).consumed).toBe(cur.consumed);
    expect(readFileSync(paths.mirror).subarray(0, ends.at(-1)).equals(cur.p.subarray(0, ends.at(-1)))).toBe(true);
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

  it('copies emptied, zeroed or cut before their first record count as missing, never as a fresh start', async () => {
    const floor = { ...LIC, carriedCredits: 21 };
    const zeros = Buffer.alloc(cur.p.length);
    const firstTorn = cur.p.subarray(0, 20); // a crash inside the first record leaves this
    for (const [label, p, m] of [['both empty', Buffer.alloc(0), Buffer.alloc(0)], ['both zeroed', zeros, zeros], ['primary deleted, mirror empty', undefined, Buffer.alloc(0)], ['both torn in record 0', firstTorn, firstTorn]] as const) {
      const r = await outcome(p, m, floor);
      expect(r.code, label).toBe('ERR_LEDGER_MISSING');
      expect(r.message, label).toContain('hold no records');
    }
    // Recovery from the vendor's count is explicit, as for deleted files.
    await outcome(Buffer.alloc(0), Buffer.alloc(0));
    const ledger = await CreditLedger.open(floor, { secret: SECRET, ...at, recover: true });
    expect((await ledger.balance()).consumed).toBe(21);
    await ledger.close();
    // Without a floor, empty copies are a new ledger (nothing says credits were spent).
    expect((await outcome(Buffer.alloc(0), Buffer.alloc(0))).consumed).toBe(0);
  });

  it('a copy padded past the size limit (sparse, 2.2 GB) is ERR_LEDGER_TAMPERED, read without allocating it', async () => {
    for (const size of [1024 * 1024 * 1024 + 1, 2200 * 1024 * 1024]) {
      await outcome(cur.p, cur.m);
      truncateSync(paths.primary, size); // sparse: costs no disk
      const ledger = CreditLedger.open(LIC, { secret: SECRET, ...at });
      await expect(ledger).rejects.toMatchObject({ code: 'ERR_LEDGER_TAMPERED', message: expect.stringContaining('more than any ledger copy licit writes') });
    }
    rmSync(paths.primary);
  });

  it('two different histories (a fork) are ERR_LEDGER_TAMPERED', async () => {
    // Build another history from the old state: both continue record 2 differently.
    await outcome(old.p, old.m);
    const l = await CreditLedger.open(LIC, { secret: SECRET, ...at });
    await l.consume(1, { reason: 'fork' });
    await l.close();
    const fork = readFileSync(paths.primary);
    expect((await outcome(cur.p, fork)).code).toBe('ERR_LEDGER_TAMPERED');
    expect((await outcome(fork, cur.m)).code).toBe('ERR_LEDGER_TAMPERED');
  });

  it('a copy from another license or sealed with another secret is ERR_LEDGER_TAMPERED', async () => {
    const other = { ...at, dir: join(at.dir, 'x'), mirrorDir: join(at.mirrorDir, 'x') };
    const l = await CreditLedger.open({ ...LIC, id: 'LIC-OTHER' }, { secret: SECRET, ...other });
    await l.consume(50);
    await l.close();
    const foreign = readFileSync(l.paths.primary);
    expect((await outcome(foreign, cur.m)).code).toBe('ERR_LEDGER_TAMPERED');
    // Record 0 fails in both copies: the message names the secret as a possible cause.
    const both = await outcome(foreign, foreign);
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
    // A later record failing is plain tampering, not a secret problem.
    const b = Buffer.from(cur.p);
    b[(ends[2] as number) + 10] = (b[(ends[2] as number) + 10] as number) ^ 1;
    const t = await outcome(b, cur.m);
    expect(t.code).toBe('ERR_LEDGER_TAMPERED');
    expect(t.message).toMatch(/primary copy was modified/);
    expect(t.message).not.toMatch(/another secret/);
  });
});
