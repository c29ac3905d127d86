/**
 * The credit ledger under I/O faults. A C shim (test/fixtures/faultfs.c, loaded with LD_PRELOAD
 * into a child node process) fails the Nth write, sync or open of a ledger copy with EIO or
 * ENOSPC, writes short, reports a write that landed as failed, or slows one copy down. The child
 * (test/fixtures/ledger-fault-child.mjs) consumes with idempotency keys and applies top-ups,
 * printing each acknowledged result, and stops at the first error. Then this process reopens the
 * ledger without faults: nothing acknowledged is lost, no credit is given back, the state says
 * whether the failed operation committed, and retrying it (same idempotency key, same token)
 * charges or adds exactly once. Last, a real full disk: a small tmpfs, filled.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLicenseError, type LicenseError } from '../src/core/errors.js';
import { issueTopUp } from '../src/issuer/index.js';
import { CreditLedger, type LedgerLicense } from '../src/node/ledger/credit-ledger.js';
import { describeBuilt } from './fixtures/ledger-built.js';
import { fillFileSystem } from './helpers/disk.js';
import { makeVendor } from './helpers/vendor.js';
import { landed } from './helpers/ledger-disk.js';

const CHILD = new URL('./fixtures/ledger-fault-child.mjs', import.meta.url).pathname;
const SHIM_SOURCE = new URL('./fixtures/faultfs.c', import.meta.url).pathname;
const SECRET = 'fault-test-secret';
const LICENSE: LedgerLicense = { id: 'LIC-35', credits: 100, carriedCredits: 0 };
const vendor = makeVendor();
const publicKeys = vendor.publicKeyPem;
const PRIMARY = '.ledger'; // the primary copy's directory name ends so (credits-<id>.ledger/), so every file in it matches
const MIRROR = '.dat'; // the mirror's (.<hash>.dat/)

type Op = { kind: 'consume'; amount: number; key: string } | { kind: 'topup'; credits: number; token: string };
interface Line {
  op?: number;
  ok?: boolean;
  error?: string;
  outcome?: string;
  message?: string;
  seq?: number;
  after?: string[];
  /** Where each copy's data ended when the error was reported (see the child). */
  landed?: { primary: number; mirror: number };
  /** How long the failed request took to be answered, in ms. */
  ms?: number;
  paths?: { primary: string; mirror: string };
}
interface Run {
  lines: Line[];
  faults: string[];
  stderr: string;
}

let shim = '';
let shimMissing = '';
let OPS: Op[] = [];
let SPARE = '';

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'licit-35-shim-'));
  try {
    execFileSync('cc', ['-shared', '-fPIC', '-o', join(dir, 'faultfs.so'), SHIM_SOURCE, '-ldl'], { stdio: 'pipe' });
    shim = join(dir, 'faultfs.so');
  } catch (e) {
    shimMissing = `cannot build the fault-injection shim with cc: ${(e as Error).message.split('\n')[0]}`;
  }
  const token = (credits: number, tokenId: string) => issueTopUp({ licenseId: LICENSE.id, credits, tokenId }, { signingKey: vendor.privateKeyPem });
  // Eight commits, so eight writes of each copy: consumes of distinct amounts and two top-ups.
  OPS = [
    { kind: 'consume', amount: 1, key: 'k1' },
    { kind: 'consume', amount: 2, key: 'k2' },
    { kind: 'topup', credits: 50, token: await token(50, 'T-50') },
    { kind: 'consume', amount: 1, key: 'k3' },
    { kind: 'consume', amount: 3, key: 'k4' },
    { kind: 'topup', credits: 70, token: await token(70, 'T-70') },
    { kind: 'consume', amount: 1, key: 'k5' },
    { kind: 'consume', amount: 2, key: 'k6' },
  ];
  SPARE = await token(1000, 'T-SPARE'); // tried on the poisoned object: must never count
});

const place = () => {
  const root = mkdtempSync(join(tmpdir(), 'licit-35-'));
  return { root, dir: join(root, 'p'), mirrorDir: join(root, 'm') };
};

/** Run the child under the shim with these LICIT_FAULT_* settings. */
function runChild(at: { root: string; dir: string; mirrorDir: string }, fault: Record<string, string | number>): Promise<Run> {
  const log = join(at.root, `faults-${Math.random().toString(36).slice(2)}.log`);
  const env: NodeJS.ProcessEnv = { ...process.env, LD_PRELOAD: shim, UV_USE_IO_URING: '0', LICIT_FAULT_LOG: log };
  for (const [k, v] of Object.entries(fault)) env[`LICIT_FAULT_${k}`] = String(v);
  env.LICIT_FAULT_CHILD = JSON.stringify({ license: LICENSE, secret: SECRET, publicKeys, dir: at.dir, mirrorDir: at.mirrorDir, ops: OPS, spareToken: SPARE });
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [CHILD], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    c.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    c.on('error', reject);
    c.on('close', (code) => {
      if (code !== 0) return reject(new Error(`fault child exited ${code}: ${err}`));
      let faults: string[] = [];
      try {
        faults = readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
      } catch {
        // no fault was injected
      }
      resolve({ lines: out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line), faults, stderr: err });
    });
  });
}

const open = (at: { dir: string; mirrorDir: string }) => CreditLedger.open(LICENSE, { secret: SECRET, publicKeys, ...at });

/** What a run must leave behind, checked by reopening without faults; returns whether the failed op committed. */
async function check(name: string, at: { dir: string; mirrorDir: string }, run: Run, base = { consumed: 0, toppedUp: 0 }): Promise<boolean | undefined> {
  const acked = run.lines.filter((l) => l.ok === true);
  const failed = run.lines.find((l) => l.error !== undefined);
  const why = `${name}: ${JSON.stringify(run.lines)} faults ${JSON.stringify(run.faults)} ${run.stderr}`;
  // The child stops at its first error; every later call on that object was refused.
  if (failed !== undefined) {
    expect(failed.error, why).toBe('ERR_IO');
    // A failed write leaves its outcome unknown until a reopen; a failed open of a file for reading does not.
    if (failed.op !== -1) {
      expect(failed.outcome, why).toBe('unknown');
      expect(run.lines.at(-1)?.after, why).toEqual(['ERR_STORE_POISONED', 'ERR_STORE_POISONED', 'ERR_STORE_POISONED']);
      // No write landed after the error was reported (a slow copy's write included).
      const paths = failed.paths as { primary: string; mirror: string };
      expect({ primary: landed(paths.primary), mirror: landed(paths.mirror) }, why).toEqual(failed.landed);
    }
  } else expect(acked, why).toHaveLength(OPS.length);
  const ackedOps = acked.map((l) => OPS[l.op as number] as Op);
  const sumConsumed = base.consumed + ackedOps.reduce((n, o) => n + (o.kind === 'consume' ? o.amount : 0), 0);
  const sumTopped = base.toppedUp + ackedOps.reduce((n, o) => n + (o.kind === 'topup' ? o.credits : 0), 0);

  let l: CreditLedger;
  try {
    l = await open(at);
  } catch (e) {
    throw new Error(`${why}\nreopen failed: ${(e as Error).message}`);
  }
  try {
    const b = await l.balance();
    // Nothing acknowledged is lost: each acknowledged consume is found under its key and seq.
    for (const line of acked) {
      const op = OPS[line.op as number] as Op;
      if (op.kind === 'consume') expect(await l.receipt(op.key), why).toMatchObject({ seq: line.seq, repeated: true });
    }
    expect(await l.receipt('after-error'), why).toBeUndefined();
    const op = failed === undefined || failed.op === -1 ? undefined : (OPS[failed.op as number] as Op);
    let committed: boolean | undefined;
    if (op?.kind === 'consume') {
      committed = (await l.receipt(op.key)) !== undefined;
      expect(b, why).toMatchObject({ consumed: sumConsumed + (committed ? op.amount : 0), toppedUp: sumTopped });
      // The retry: charged now if and only if the failed attempt did not commit; never twice.
      const r = await l.consume(op.amount, { idempotencyKey: op.key });
      expect(r.repeated, why).toBe(committed);
      expect(await l.consume(op.amount, { idempotencyKey: op.key }), why).toMatchObject({ repeated: true, seq: r.seq });
      expect((await l.balance()).consumed, why).toBe(sumConsumed + op.amount);
    } else if (op?.kind === 'topup') {
      expect([sumTopped, sumTopped + op.credits], why).toContain(b.toppedUp);
      expect(b.consumed, why).toBe(sumConsumed);
      committed = b.toppedUp === sumTopped + op.credits;
      expect((await l.topUp(op.token)).applied, why).toBe(!committed);
      expect((await l.balance()).toppedUp, why).toBe(sumTopped + op.credits);
    } else {
      expect(b, why).toMatchObject({ consumed: sumConsumed, toppedUp: sumTopped });
    }
    // Retrying what was acknowledged charges nothing.
    const before = (await l.balance()).consumed;
    for (const o of ackedOps) if (o.kind === 'consume') expect((await l.consume(o.amount, { idempotencyKey: o.key })).repeated, why).toBe(true);
    expect((await l.balance()).consumed, why).toBe(before);
    expect(await l.verify(), why).toMatchObject({ primary: 'ok', mirror: 'ok' });
    return committed;
  } finally {
    await l.close();
  }
}

/** Run `count` children at a time (2 cores). */
async function inLanes<T>(items: T[], fn: (item: T) => Promise<void>, lanes = 2): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (next < items.length) await fn(items[next++] as T);
  }));
}

interface Sweep {
  name: string;
  fault: Record<string, string | number>;
  ns: number[];
  /** Every run must hit its fault (false where N may exceed the calls made). */
  alwaysFails?: boolean;
}

describeBuilt('ledger under I/O faults (LD_PRELOAD shim, built package)', () => {
  it('sweeps a failing write, sync or open over every commit: nothing acknowledged lost, nothing charged twice, the outcome known on reopen', { timeout: 120_000 }, async (ctx) => {
    if (shim === '') ctx.skip(shimMissing);
    const sweeps: Sweep[] = [
      { name: 'primary write EIO', fault: { OPS: 'pwrite', PATH: PRIMARY, ERRNO: 'EIO' }, ns: [1, 2, 3, 4, 5, 6, 7, 8], alwaysFails: true },
      { name: 'mirror write ENOSPC', fault: { OPS: 'pwrite', PATH: MIRROR, ERRNO: 'ENOSPC' }, ns: [1, 2, 3, 4, 5, 6, 7, 8], alwaysFails: true },
      // Both copies' writes of one commit fail (COUNT 2 from an odd N): nothing of it is anywhere.
      { name: 'both copies write EIO', fault: { OPS: 'pwrite', PATH: `${PRIMARY}|${MIRROR}`, ERRNO: 'EIO', COUNT: 2 }, ns: [1, 3, 5, 7, 9, 11, 13, 15], alwaysFails: true },
      // The data reached the page cache but the O_DSYNC write reported failure.
      { name: 'either copy: written, then EIO', fault: { OPS: 'pwrite,pwritev,write', PATH: `${PRIMARY}|${MIRROR}`, ERRNO: 'EIO', MODE: 'after' }, ns: [1, 2, 3, 4, 6, 8, 10, 12, 14, 16], alwaysFails: true },
      // Out of space part way: a write stops at a page boundary, the next one fails.
      { name: 'short write, then ENOSPC', fault: { OPS: 'pwrite', PATH: `${PRIMARY}|${MIRROR}`, ERRNO: 'ENOSPC', MODE: 'short', COUNT: 2 }, ns: [1, 2, 3], alwaysFails: true },
      // The first failure reported while the other copy's write of the same commit is still running.
      // Writes 1 and 2 of each copy create its segment and head file; then a commit's write and the head written when the lock is let go alternate: 3 and 5 are commits.
      { name: 'primary fails at once, mirror slow', fault: { OPS: 'pwrite', PATH: PRIMARY, ERRNO: 'EIO', DELAY_PATH: MIRROR, DELAY_MS: 150 }, ns: [3, 5], alwaysFails: true },
      { name: 'fsync at creation', fault: { OPS: 'fsync', PATH: `${PRIMARY}|${MIRROR}`, ERRNO: 'EIO' }, ns: [1, 2], alwaysFails: true },
      { name: 'open of the mirror', fault: { OPS: 'open', PATH: MIRROR, ERRNO: 'EIO' }, ns: [1, 2], alwaysFails: true },
    ];
    const runs = sweeps.flatMap((s) => s.ns.map((n) => ({ s, n })));
    const outcomes = { committed: 0, notCommitted: 0, openFailed: 0 };
    await inLanes(runs, async ({ s, n }) => {
      const at = place();
      const run = await runChild(at, { ...s.fault, N: n });
      const name = `${s.name}, N=${n}`;
      if (s.alwaysFails) expect(run.faults.length, `${name}: the fault fired`).toBeGreaterThan(0);
      const committed = await check(name, at, run);
      if (run.lines.some((l) => l.op === -1 && l.error !== undefined)) outcomes.openFailed++;
      else if (committed === true) outcomes.committed++;
      else if (committed === false) outcomes.notCommitted++;
      if (s.name === 'primary fails at once, mirror slow') {
        // Answered only once the slow mirror's write of the same commit had settled.
        const failed = run.lines.find((l) => l.error !== undefined);
        expect(failed?.ms, `${name}: ${JSON.stringify(failed)}`).toBeGreaterThanOrEqual(Number(s.fault.DELAY_MS) - 10);
        // The failed primary disk is replaced: the mirror alone rebuilds the ledger, exactly.
        const before = await open(at);
        const b = await before.balance();
        await before.close();
        rmSync(at.dir, { recursive: true });
        const l = await open(at);
        expect(l.foundAtOpen, name).toEqual({ primary: 'missing', mirror: 'ok' });
        expect(await l.balance(), name).toEqual(b);
        await l.close();
      }
    });
    // Both outcomes of a failed write happen (the test is not blind to one of them).
    expect(outcomes.committed, JSON.stringify(outcomes)).toBeGreaterThan(0);
    expect(outcomes.notCommitted, JSON.stringify(outcomes)).toBeGreaterThan(0);
    expect(outcomes.openFailed, JSON.stringify(outcomes)).toBeGreaterThan(0);
    console.log(`fault sweep: ${runs.length} runs; failed op committed ${outcomes.committed}, not committed ${outcomes.notCommitted}; open failed ${outcomes.openFailed}`);
  });

  it('faults while opening an existing ledger (repairing a copy, writing back its tail) fail the open and lose nothing', { timeout: 60_000 }, async (ctx) => {
    if (shim === '') ctx.skip(shimMissing);
    const cases: { name: string; fault: Record<string, string | number>; dropMirror: boolean }[] = [
      { name: 'fsync of the rebuilt mirror', fault: { OPS: 'fsync', PATH: MIRROR, ERRNO: 'EIO' }, dropMirror: true },
      { name: 'write of the rebuilt mirror', fault: { OPS: 'pwrite', PATH: MIRROR, ERRNO: 'ENOSPC' }, dropMirror: true },
      { name: 'creation of the rebuilt mirror', fault: { OPS: 'open', PATH: MIRROR, ERRNO: 'EIO', N: 2 }, dropMirror: true },
      { name: 'write-back of the primary', fault: { OPS: 'pwrite', PATH: PRIMARY, ERRNO: 'EIO' }, dropMirror: false },
    ];
    await inLanes(cases, async (c) => {
      const at = place();
      const pre = await open(at);
      await pre.consume(4, { idempotencyKey: 'pre-1' });
      await pre.consume(5, { idempotencyKey: 'pre-2' });
      const paths = pre.paths;
      await pre.close();
      if (c.dropMirror) rmSync(paths.mirror, { recursive: true });
      const run = await runChild(at, { N: 1, ...c.fault });
      expect(run.faults.length, c.name).toBeGreaterThan(0);
      expect(run.lines[0], c.name).toMatchObject({ op: -1, error: 'ERR_IO', outcome: 'unknown' });
      await check(c.name, at, run, { consumed: 9, toppedUp: 0 });
      const l = await open(at);
      expect(await l.receipt('pre-2'), c.name).toMatchObject({ seq: 1, consumed: 9 });
      await l.close();
    });
  });
});

// ---- a real full disk ----

let mnt = '';
let mountError = '';

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'licit-35-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'licit-35', dir], { stdio: 'pipe' });
    mnt = dir;
  } catch (e) {
    mountError = `cannot mount a small tmpfs (needs root or CAP_SYS_ADMIN): ${(e as Error).message.split('\n')[0]}`;
  }
});

afterAll(() => {
  if (mnt !== '') execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
});


/** Consume with keys until an error: the acknowledged total and the error. */
async function consumeUntilError(l: CreditLedger, prefix: string): Promise<{ consumed: number; acked: number; error: LicenseError; key: string }> {
  let consumed = (await l.balance()).consumed;
  for (let i = 0; ; i++) {
    const key = `${prefix}-${i}`;
    try {
      consumed = (await l.consume(1, { idempotencyKey: key })).consumed;
    } catch (e) {
      if (!isLicenseError(e)) throw e;
      return { consumed, acked: i, error: e, key };
    }
  }
}

describe('ledger on a full disk (tmpfs)', () => {
  for (const mirrorOnFullDisk of [true, false]) {
    it(`${mirrorOnFullDisk ? 'both copies on the full disk' : 'primary on the full disk, mirror elsewhere'}: a typed error, the object stops; freed and reopened, the state is exact`, { timeout: 60_000 }, async (ctx) => {
      if (mnt === '') ctx.skip(mountError);
      const sub = mkdtempSync(join(mnt, 'run-'));
      const at = { dir: join(sub, 'p'), mirrorDir: mirrorOnFullDisk ? join(sub, 'm') : join(place().root, 'm') };
      mkdirSync(at.dir);
      const big: LedgerLicense = { ...LICENSE, credits: 1_000_000 };
      const openBig = () => CreditLedger.open(big, { secret: SECRET, publicKeys, lockTimeoutMs: 2000, ...at });
      const l = await openBig();
      await l.consume(2, { idempotencyKey: 'before-full' });
      const filler = fillFileSystem(mnt);
      // Records fit in the space the copies already hold (64 KiB each) until one must grow them.
      const { consumed, acked, error, key } = await consumeUntilError(l, 'full');
      expect(error.code, error.message).toBe('ERR_IO');
      expect(error.details).toMatchObject({ outcome: 'unknown' });
      expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOSPC');
      expect(acked).toBeGreaterThan(100);
      expect(consumed).toBe(2 + acked);
      for (const call of [() => l.consume(1), () => l.balance(), () => l.receipt(key)]) await expect(call()).rejects.toMatchObject({ code: 'ERR_STORE_POISONED' });
      // The poisoned object let go of the ledger lock: reopening does not wait for it to be closed.
      if (!mirrorOnFullDisk) {
        // The mirror holds the record the primary could not take: rebuilding the primary needs space.
        await expect(openBig()).rejects.toMatchObject({ code: 'ERR_IO', details: { outcome: 'unknown' } });
      } else {
        // Still full: the ledger opens (nothing to grow), and the retry is refused again, typed, charging nothing.
        const still = await openBig();
        expect(await still.balance()).toMatchObject({ consumed });
        await expect(still.consume(1, { idempotencyKey: key })).rejects.toMatchObject({ code: 'ERR_IO' });
        await still.close();
      }
      rmSync(filler);
      const again = await openBig();
      const committed = (await again.receipt(key)) !== undefined;
      // Written to the mirror on another disk: committed; torn in both copies on the full disk: not.
      expect(committed).toBe(!mirrorOnFullDisk);
      expect(await again.balance()).toMatchObject({ consumed: consumed + (committed ? 1 : 0) });
      expect(await again.consume(1, { idempotencyKey: key })).toMatchObject({ repeated: committed, consumed: consumed + 1 });
      expect(await again.consume(1, { idempotencyKey: key })).toMatchObject({ repeated: true });
      expect(await again.consume(2, { idempotencyKey: 'before-full' })).toMatchObject({ repeated: true, seq: 0 });
      expect(await again.verify()).toMatchObject({ consumed: consumed + 1, primary: 'ok', mirror: 'ok' });
      await again.close();
      await l.close(); // closing a poisoned object works, and writes nothing
      await expect(l.consume(1)).rejects.toMatchObject({ code: 'ERR_USAGE' });
    });
  }
});
