/**
 * FileStore under injected I/O faults (the faultfs LD_PRELOAD shim of test/35): seat assignments and
 * releases, a device activation and license-server answers (activation and renewals, each several
 * store transactions) in a child process whose Nth write, sync, rename or open fails with EIO or
 * ENOSPC, or whose Nth write stops short at a page boundary before the next fails (a disk filling up),
 * or whose writes are slow. After each run, reopened without faults: no acknowledged operation lost, the failed one
 * either wholly there or wholly absent, no limit exceeded, the audit chain intact, and the store
 * object that saw the fault refused everything after it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readVerifiedLog } from '../src/core/admin/audit-chain.js';
import { createRequest, newNonce } from '../src/core/exchange/index.js';
import { Activations, SeatManager } from '../src/core/seats/index.js';
import { verifyLicense } from '../src/core/license/verify.js';
import { FileStore } from '../src/node/store/file-store.js';
import { fillFileSystem } from './helpers/disk.js';
import { makeVendor } from './helpers/vendor.js';
import { newInstallation as installation } from './helpers/installation.js';

const ROOT = join(import.meta.dirname, '..');
const CHILD = join(ROOT, 'test/fixtures/store-fault-child.mjs');
const vendor = makeVendor();
const NOW = Date.parse('2026-12-01T00:00:00Z');
const work = mkdtempSync(join(tmpdir(), 'licit-44-'));
let shim = '';
let shimMissing: string | undefined;
let key = '';
let ops: Record<string, unknown>[] = [];

beforeAll(async () => {
  try {
    execFileSync('cc', ['-shared', '-fPIC', '-o', join(work, 'faultfs.so'), join(ROOT, 'test/fixtures/faultfs.c'), '-ldl'], { stdio: 'pipe' });
    shim = join(work, 'faultfs.so');
  } catch (e) {
    shimMissing = `cannot build the fault-injection shim with cc: ${(e as Error).message.split('\n')[0]}`;
  }
  key = await vendor.issue({ licenseId: 'LIC-FAULT', seats: { basic: 2 }, maxActivations: 2 }, new Date(NOW - 86_400_000));
  const inst = installation();
  const fp = 'fp1:su=AAAAAAAAAAAAAAAAAAAAAA,mi=BBBBBBBBBBBBBBBBBBBBBB';
  const req = async (operation: 'activate' | 'renew') => createRequest({ operation, licenseId: 'LIC-FAULT', licenseKey: key, fingerprint: fp, nonce: newNonce(), clientTime: new Date(NOW) }, inst);
  ops = [
    { kind: 'assign', user: 'u1', type: 'basic', key: 'k-assign-u1' },
    { kind: 'assign', user: 'u2', type: 'basic', key: 'k-assign-u2' },
    { kind: 'release', user: 'u1', key: 'k-release-u1' },
    { kind: 'activate', user: 'ann', device: 'dev-1' },
    { kind: 'answer', request: await req('activate') },
    { kind: 'assign', user: 'u3', type: 'basic', key: 'k-assign-u3' },
    { kind: 'answer', request: await req('renew') },
    { kind: 'answer', request: await req('renew') },
  ];
}, 60_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Line { op: number; ok?: true; error?: string; message?: string; after?: string[] }

function runChild(dir: string, fault: Record<string, string | number>): Promise<Line[]> {
  const env: NodeJS.ProcessEnv = { ...process.env, LD_PRELOAD: shim, UV_USE_IO_URING: '0' };
  for (const [k, v] of Object.entries(fault)) env[`LICIT_FAULT_${k}`] = String(v);
  env.LICIT_FAULT_CHILD = JSON.stringify({ key, publicKey: vendor.publicKeyPem, signingKey: vendor.privateKeyPem, dir, now: NOW, ops });
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [CHILD], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    c.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    c.on('close', (code) => (code === 0 ? resolve(out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line)) : reject(new Error(`child exited ${code}: ${err}`))));
  });
}

/** Seat holders after applying the first `n` ops (the seat ops only). */
function holders(n: number): string[] {
  const h = new Set<string>();
  for (const o of ops.slice(0, n)) {
    if (o.kind === 'assign') h.add(o.user as string);
    if (o.kind === 'release') h.delete(o.user as string);
  }
  return [...h].sort();
}

let retried = 0;

async function check(name: string, dir: string, lines: Line[]): Promise<void> {
  const why = `${name}: ${JSON.stringify(lines)}`;
  const acked = lines.filter((l) => l.ok === true).length;
  const failed = lines.find((l) => l.error !== undefined);
  if (failed !== undefined) {
    expect(['ERR_STORE_UNAVAILABLE', 'ERR_STORE_POISONED', 'ERR_IO'], why).toContain(failed.error);
    // Probes: an assignment and a release on the license, a transaction on the license index.
    const [assign, release, index] = failed.after ?? [];
    if (ops[failed.op]?.kind === 'answer' && assign !== 'ERR_STORE_POISONED') {
      // The first answer registers the license, which also writes the license index (records of
      // their own, poisoned on their own): a failed write of the index leaves the license usable
      // and the index refused until the store is reopened.
      expect(index, why).toBe('ERR_STORE_POISONED');
      // With a fault that fails two writes (a short write, then ENOSPC), the probe's own write
      // may be the second: it fails, and poisons the license in turn.
      if (assign === 'ERR_STORE_UNAVAILABLE') expect(release, why).toBe('ERR_STORE_POISONED');
      else expect([assign, release], why).toEqual(['OK', 'ERR_USER_NOT_FOUND']);
    } else expect([assign, release], why).toEqual(['ERR_STORE_POISONED', 'ERR_STORE_POISONED']);
  } else expect(acked, why).toBe(ops.length);
  const store = new FileStore(dir);
  try {
    const license = await verifyLicense(key, { publicKeys: vendor.publicKeyPem, now: new Date(NOW) });
    const seats = (await new SeatManager(store, license).list()).map((s) => s.userId).sort();
    // Every acknowledged op is there; the failed one is wholly there or wholly absent (and the
    // probe's seat, where the license itself was not poisoned and the probe was acknowledged).
    // A probe that failed itself (ERR_STORE_UNAVAILABLE) is wholly there or absent too.
    const probes = failed?.after?.[0] === 'OK' ? [['after-1']] : failed?.after?.[0] === 'ERR_STORE_UNAVAILABLE' ? [[], ['after-1']] : [[]];
    const expected = [holders(acked), holders(acked + 1)].flatMap((h) => probes.map((probe) => JSON.stringify([...h, ...probe].sort())));
    expect(expected, why).toContain(JSON.stringify(seats));
    expect(seats.length, why).toBeLessThanOrEqual(2);
    const usage = await new Activations(store, license).usage();
    expect(usage.activations.inUse, why).toBeLessThanOrEqual(2);
    const devices = (await new Activations(store, license).devices()).length;
    expect(devices, why).toBe(usage.activations.inUse);
    if (acked >= 4) expect(devices, why).toBeGreaterThanOrEqual(1);
    if (acked >= 5) expect(devices, why).toBe(2);
    // The audit chain verifies (ERR_AUDIT_TAMPERED otherwise): no half-written event survives.
    await readVerifiedLog(store, 'LIC-FAULT');
    // The retry of a failed seat operation with its idempotency key acts exactly once: whether
    // the failed attempt committed or not, the seats end as if it ran once, and again changes nothing.
    const op = failed === undefined ? undefined : ops[failed.op];
    if (op !== undefined && op.key !== undefined) {
      const manager = new SeatManager(store, license);
      const retry = () => (op.kind === 'assign' ? manager.assign(op.user as string, op.type as string, { idempotencyKey: op.key as string }) : manager.release(op.user as string, { idempotencyKey: op.key as string }));
      const first = await retry();
      const once = (await manager.list()).map((s) => s.userId).sort();
      expect(probes.map((p) => JSON.stringify([...holders(acked + 1), ...p].sort())), why).toContain(JSON.stringify(once));
      expect(await retry(), why).toEqual(first);
      expect((await manager.list()).map((s) => s.userId).sort(), why).toEqual(once);
      retried++;
    }
  } finally {
    await store.close();
  }
}

describe('FileStore under I/O faults', () => {
  it('sweeps a failing, short or slow write, a failing sync, rename or open over every commit of seats, activations and server answers', async (ctx) => {
    if (shimMissing !== undefined) return ctx.skip(shimMissing);
    const sweeps: { name: string; fault: Record<string, string | number>; upTo: number }[] = [
      { name: 'write EIO', fault: { OPS: 'write,pwrite,writev,pwritev', ERRNO: 'EIO' }, upTo: 24 },
      { name: 'write ENOSPC', fault: { OPS: 'write,pwrite,writev,pwritev', ERRNO: 'ENOSPC' }, upTo: 24 },
      { name: 'sync EIO', fault: { OPS: 'fdatasync,fsync', ERRNO: 'EIO' }, upTo: 24 },
      { name: 'write lands, then EIO', fault: { OPS: 'write,pwrite,writev,pwritev', MODE: 'after' }, upTo: 24 },
      // Out of space part way: a write stops at a page boundary, the next one fails.
      { name: 'short write, then ENOSPC', fault: { OPS: 'write,pwrite,writev,pwritev', ERRNO: 'ENOSPC', MODE: 'short', COUNT: 2 }, upTo: 24 },
      // A slow disk under every write: the failed commit is reported only after its write settled.
      { name: 'slow writes, one EIO', fault: { OPS: 'write,pwrite,writev,pwritev', ERRNO: 'EIO', DELAY_PATH: 'log-', DELAY_MS: 20 }, upTo: 12 },
      { name: 'rename EIO', fault: { OPS: 'rename', ERRNO: 'EIO' }, upTo: 6 },
      { name: 'open EIO', fault: { OPS: 'open', ERRNO: 'EIO' }, upTo: 24 },
    ];
    let faulted = 0;
    for (const s of sweeps) {
      for (let n = 1; n <= s.upTo; n += 2) {
        const dir = join(work, `${s.name.replace(/\W+/g, '-')}-${n}`);
        const lines = await runChild(dir, { ...s.fault, PATH: dir, N: n });
        if (lines.some((l) => l.error !== undefined)) faulted++;
        await check(`${s.name} #${n}`, dir, lines);
      }
    }
    expect(faulted).toBeGreaterThan(20); // the sweep really hit commits
    expect(retried).toBeGreaterThan(10); // and retried failed seat operations with their keys
  }, 300_000);
});

describe('FileStore on a full disk (tmpfs)', () => {
  it('assigns until the disk is full, refuses with a typed error, and after room is made reopens with every acknowledged seat', async (ctx) => {
    const mnt = mkdtempSync(join(tmpdir(), 'licit-46-tmpfs-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'licit-46', mnt], { stdio: 'pipe' });
    } catch (e) {
      rmSync(mnt, { recursive: true, force: true });
      return ctx.skip(`cannot mount a small tmpfs (needs root or CAP_SYS_ADMIN): ${(e as Error).message.split('\n')[0]}`);
    }
    try {
      const dir = join(mnt, 'store');
      const many = { id: 'LIC-FULL', seats: { basic: 100_000 } };
      let store = new FileStore(dir);
      await new SeatManager(store, many).assign('first', 'basic');
      // Fill what is left of the file system, then keep assigning.
      const filler = fillFileSystem(mnt);
      const acked = ['first'];
      let error: { code?: string } | undefined;
      for (let i = 0; i < 20_000 && error === undefined; i++) {
        try {
          await new SeatManager(store, many).assign(`u${i}`, 'basic');
          acked.push(`u${i}`);
        } catch (e) {
          error = e as { code?: string };
        }
      }
      expect(['ERR_STORE_UNAVAILABLE', 'ERR_STORE_POISONED']).toContain(error?.code);
      await expect(new SeatManager(store, many).assign('later', 'basic')).rejects.toMatchObject({ code: 'ERR_STORE_POISONED' });
      await store.close();
      rmSync(filler);
      store = new FileStore(dir);
      const seats = (await new SeatManager(store, many).list()).map((a) => a.userId);
      for (const u of acked) expect(seats).toContain(u);
      expect(seats.length - acked.length).toBeLessThanOrEqual(1); // the failed one: wholly there or absent
      await new SeatManager(store, many).assign('after-room', 'basic');
      await readVerifiedLog(store, 'LIC-FULL');
      await store.close();
    } finally {
      execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
      rmSync(mnt, { recursive: true, force: true });
    }
  }, 120_000);
});
