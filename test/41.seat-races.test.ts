/**
 * Limits under real concurrency: 8 processes, each with its own store handle (files, or its own
 * PostgreSQL connections), race for 100 seats / 100 activations with 50 attempts each. Exactly 100
 * must win. And a floating-seat holder killed with SIGKILL frees its seat after the TTL, not before.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../src/core/store/store.js';
import { Activations, FloatingSeats, SeatManager } from '../src/core/seats/index.js';
import { FileStore } from '../src/node/store/file-store.js';
import { PostgresStore } from '../src/postgres/index.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';
import { rejects } from './helpers/store-conformance.js';

const CHILD = fileURLToPath(new URL('./fixtures/seat-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROCS = 8;
const EACH = 50;
const LIMIT = 100;

const children: ChildProcess[] = [];
const dirs: string[] = [];
let server: TestPostgres;

beforeAll(async () => {
  server = await startPostgres();
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await server?.stop();
});

type StoreSpec = { file: string } | { url: string; schema: string };

/** Start a child; resolves once it printed its first line (`ready`, or the lease for `hold`); `next()` awaits the following one. */
function child(job: Record<string, unknown>): Promise<{ proc: ChildProcess; first: string; next: () => Promise<string> }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(job)], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(proc);
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    let i;
    while ((i = out.indexOf('\n')) >= 0) {
      lines.push(out.slice(0, i));
      out = out.slice(i + 1);
    }
    wake?.();
  });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        if (lines.length > 0) resolve(lines.shift()!);
        else if (proc.exitCode !== null || proc.signalCode !== null) reject(new Error(`child exited: ${err}`));
      };
      wake = check;
      proc.on('exit', check);
      check();
    });
  return next().then((first) => ({ proc, first, next }));
}

async function race(spec: StoreSpec, job: 'assign' | 'activate', license: Record<string, unknown>) {
  const kids = await Promise.all(Array.from({ length: PROCS }, (_, p) => child({ store: spec, job, license, prefix: `p${p}`, count: EACH, type: 'basic' })));
  for (const k of kids) expect(k.first).toBe('ready');
  const t0 = Date.now();
  for (const k of kids) k.proc.stdin!.write('go\n');
  const results = (await Promise.all(kids.map((k) => k.next()))).map((l) => JSON.parse(l) as { ok: number; codes: Record<string, number> });
  console.log(`${job} race: ${Date.now() - t0} ms from go to last result`);
  return {
    ok: results.reduce((s, r) => s + r.ok, 0),
    codes: results.reduce<Record<string, number>>((acc, r) => {
      for (const [c, n] of Object.entries(r.codes)) acc[c] = (acc[c] ?? 0) + n;
      return acc;
    }, {}),
    winners: results.filter((r) => r.ok > 0).length,
  };
}

const stores: Array<[string, () => { spec: StoreSpec; open: () => Store }]> = [
  [
    'FileStore',
    () => {
      const d = mkdtempSync(join(tmpdir(), 'licit-race-'));
      dirs.push(d);
      return { spec: { file: d }, open: () => new FileStore(d, { lockTimeoutMs: 20_000 }) };
    },
  ],
  [
    'PostgresStore',
    () => {
      const schema = server.schema();
      return { spec: { url: server.url, schema }, open: () => new PostgresStore({ connectionString: server.url, schema }) };
    },
  ],
];

describe.each(stores)('%s with 8 processes', (_name, make) => {
  it(`exactly ${LIMIT} of ${PROCS * EACH} seat assignments succeed`, async () => {
    const { spec, open } = make();
    const license = { id: 'race-seats', seats: { basic: LIMIT } };
    const r = await race(spec, 'assign', license);
    expect(r.ok).toBe(LIMIT);
    expect(r.codes).toEqual({ ERR_SEATS_EXHAUSTED: PROCS * EACH - LIMIT });
    const store = open();
    try {
      const seats = new SeatManager(store, license);
      expect(await seats.usage()).toEqual([{ type: 'basic', licensed: LIMIT, inUse: LIMIT, available: 0, over: false }]);
      expect((await seats.list()).length).toBe(LIMIT);
      const ev = await store.events(license.id);
      expect(ev.map((e) => e.seq)).toEqual(Array.from({ length: LIMIT }, (_, i) => i + 1));
      // Each event's count is one more than the last: the trail is the serial order of commits.
      expect(ev.map((e) => e.details.inUse)).toEqual(Array.from({ length: LIMIT }, (_, i) => i + 1));
    } finally {
      await store.close();
    }
  });

  it(`exactly ${LIMIT} of ${PROCS * EACH} device activations succeed`, async () => {
    const { spec, open } = make();
    const license = { id: 'race-acts', seats: {}, maxActivations: LIMIT };
    const r = await race(spec, 'activate', license);
    expect(r.ok).toBe(LIMIT);
    expect(r.codes).toEqual({ ERR_ACTIVATIONS_EXHAUSTED: PROCS * EACH - LIMIT });
    const store = open();
    try {
      const acts = new Activations(store, license);
      expect((await acts.usage()).activations).toEqual({ licensed: LIMIT, inUse: LIMIT });
      expect((await acts.devices()).length).toBe(LIMIT);
      expect((await acts.users()).reduce((s, u) => s + u.activations, 0)).toBe(LIMIT);
    } finally {
      await store.close();
    }
  });

  it('a process SIGKILLed inside a transaction leaves no lock and no trace of its writes', async () => {
    const { spec, open } = make();
    const license = { id: 'race-hang', seats: { basic: 2 } };
    const store = open();
    try {
      const seats = new SeatManager(store, license);
      await seats.assign('ann', 'basic');
      const hung = await child({ store: spec, job: 'hang', license, prefix: 'dead' });
      expect(hung.first).toBe('in-tx');
      // While it holds the license, a writer waits (it does not slip past the lock).
      let done = false;
      const waiting = seats.assign('bob', 'basic').then((r) => ((done = true), r));
      await new Promise((r) => setTimeout(r, 300));
      expect(done).toBe(false);
      hung.proc.kill('SIGKILL');
      // The kernel (flock) or the server (row lock) releases the lock with the dead process.
      expect((await waiting).userId).toBe('bob');
      expect((await seats.list()).map((a) => a.userId)).toEqual(['ann', 'bob']);
      expect((await store.events(license.id)).map((e) => [e.seq, e.details.user])).toEqual([
        [1, 'ann'],
        [2, 'bob'],
      ]);
    } finally {
      await store.close();
    }
  });

  it('a floating seat whose holder is SIGKILLed frees after the TTL, not before', async () => {
    const { spec, open } = make();
    const ttlMs = 4000;
    const license = { id: 'race-float', seats: { concurrent: 1 } };
    const holder = await child({ store: spec, job: 'hold', license, prefix: 'holder', ttlMs, type: 'concurrent' });
    expect(JSON.parse(holder.first)).toMatchObject({ lease: expect.any(String) });
    holder.proc.kill('SIGKILL');
    await new Promise((r) => holder.proc.once('exit', r));
    const store = open();
    try {
      const [lease] = await new FloatingSeats(store, license, { ttlMs }).active();
      expect(lease?.holder).toBe('holder');
      const expires = lease!.expiresAt.getTime();
      // Just before the lease runs out (clock pinned), the seat is still taken.
      await rejects(new FloatingSeats(store, license, { ttlMs, now: () => expires - 1 }).checkout('other', 'concurrent'), 'ERR_SEATS_EXHAUSTED');
      // And on the real clock right after the kill, too (when the machine is not so slow that the TTL already passed).
      if (expires - Date.now() > 500) await rejects(new FloatingSeats(store, license, { ttlMs }).checkout('other', 'concurrent'), 'ERR_SEATS_EXHAUSTED');
      // Wait out the TTL on the real clock: the dead holder's seat comes back by itself.
      while (Date.now() <= expires) await new Promise((r) => setTimeout(r, Math.max(10, expires - Date.now() + 5)));
      const got = await new FloatingSeats(store, license, { ttlMs }).checkout('other', 'concurrent');
      expect(got.holder).toBe('other');
      const kinds = (await store.events(license.id)).map((e) => [e.kind, e.details.holder]);
      expect(kinds).toEqual([
        ['lease.checked-out', 'holder'],
        ['lease.expired', 'holder'],
        ['lease.checked-out', 'other'],
      ]);
    } finally {
      await store.close();
    }
  });
});
