/**
 * FileStore writers killed with SIGKILL at random moments, again and again on the same store:
 * while committing (several transactions in flight, so group commits), while compacting (a roll
 * after every commit), and two processes at once. After each kill a fresh FileStore must find
 * every acknowledged assign and release, no seat over the limit, the counters equal to the seats,
 * and an audit trail numbered without gaps whose hash chain verifies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readVerifiedLog } from '../src/core/admin/index.js';
import { SeatManager } from '../src/core/seats/index.js';
import { FileStore } from '../src/node/store/file-store.js';
import { licenseDir } from './helpers/file-store-disk.js';

const CHILD = fileURLToPath(new URL('./fixtures/store-crash-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** What a child said before it died, in order. */
interface Said {
  started: Set<string>;
  assigned: Set<string>;
  released: Set<string>;
  releasing: Set<string>;
  acks: number;
}

/** Start a writer; resolves once it is ready, with what it says as it goes. */
function writer(job: Record<string, unknown>): Promise<{ proc: ChildProcess; said: Said; exited: Promise<void>; stderr: () => string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(job)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  const said: Said = { started: new Set(), assigned: new Set(), released: new Set(), releasing: new Set(), acks: 0 };
  let buf = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const [what, user] = buf.slice(0, i).split(' ') as [string, string];
        buf = buf.slice(i + 1);
        if (what === 'ready') resolve({ proc, said, exited, stderr: () => err });
        else if (what === 'a') said.started.add(user);
        else if (what === 'A') (said.assigned.add(user), said.acks++);
        else if (what === 'r') said.releasing.add(user);
        else if (what === 'R') (said.released.add(user), said.acks++);
      }
    });
    proc.once('exit', (code) => reject(new Error(`writer exited (${code}) before it was ready: ${err}`)));
  });
}

/** Let writers run until each acknowledged at least `acks` steps and a random extra while, then SIGKILL them. */
async function killDuring(ws: Awaited<ReturnType<typeof writer>>[], acks: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (ws.some((w) => w.said.acks < acks)) {
    if (Date.now() > deadline) throw new Error(`writers stalled: ${ws.map((w) => w.stderr()).join('\n')}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 60)));
  for (const w of ws) w.proc.kill('SIGKILL');
  await Promise.all(ws.map((w) => w.exited));
}

const limit = 40;
const license = { id: 'crash-lic', seats: { basic: limit } };

/** Everything a fresh FileStore must show after the kills, given everything the writers said. */
async function check(dir: string, said: Said[]): Promise<{ holders: number; events: number }> {
  const store = new FileStore(dir);
  try {
    const seats = new SeatManager(store, license);
    const holders = new Set((await seats.list()).map((a) => a.userId));
    for (const s of said) {
      for (const u of s.assigned) {
        // Acknowledged and not (possibly) released since: it must be there.
        if (!s.releasing.has(u)) expect(holders.has(u), `acknowledged assign of ${u} lost`).toBe(true);
      }
      for (const u of s.released) expect(holders.has(u), `acknowledged release of ${u} lost`).toBe(false);
    }
    // Nothing appears that was never asked for.
    const asked = new Set(said.flatMap((s) => [...s.started]));
    for (const u of holders) expect(asked.has(u), `${u} was never assigned`).toBe(true);
    expect(holders.size).toBeLessThanOrEqual(limit);
    expect((await seats.usage())[0]?.inUse ?? 0).toBe(holders.size);
    const log = await readVerifiedLog(store, license.id);
    expect(log.events.map((e) => e.seq)).toEqual(log.events.map((_, i) => i + 1));
    return { holders: holders.size, events: log.events.length };
  } finally {
    await store.close();
  }
}

describe('FileStore writers killed with SIGKILL', () => {
  const rounds = 5;

  for (const [name, compactBytes, workers] of [
    ['during commits (group commits of 4 in flight)', undefined, 4],
    ['during compaction (a roll after every commit)', 1, 2],
  ] as const) {
    it(`${name}: no acknowledged transaction lost, no limit exceeded, over ${rounds} kills`, async () => {
      const dir = join(mkdtempSync(join(tmpdir(), 'licit-crash-')), 'store');
      dirs.push(dir);
      const said: Said[] = [];
      let events = 0;
      for (let round = 0; round < rounds; round++) {
        const w = await writer({ dir, license, prefix: `k${round}`, workers, compactBytes });
        said.push(w.said);
        await killDuring([w], 6 + round * 3);
        const seen = await check(dir, said);
        expect(seen.events).toBeGreaterThan(events);
        events = seen.events;
      }
      if (compactBytes === 1) expect(readdirSync(licenseDir(dir, license.id)).filter((f) => f.startsWith('log-')).length).toBeGreaterThan(rounds);
    });
  }

  it('a process that never stops committing lets another one in (it steps aside when asked)', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'licit-crash-')), 'store');
    dirs.push(dir);
    const busy = await writer({ dir, license, prefix: 'busy', workers: 4 });
    while (busy.said.acks < 20) await new Promise((r) => setTimeout(r, 5));
    // Without stepping aside the busy process would hold the lock for good and this would time out.
    const store = new FileStore(dir, { lockTimeoutMs: 3000 });
    const seats = new SeatManager(store, license);
    for (let i = 0; i < 10; i++) await seats.assign(`patient-${i}`, 'basic');
    const during = busy.said.acks;
    await store.close();
    await killDuring([busy], during + 5);
    expect((await check(dir, [busy.said, { started: new Set(Array.from({ length: 10 }, (_, i) => `patient-${i}`)), assigned: new Set(Array.from({ length: 10 }, (_, i) => `patient-${i}`)), released: new Set(), releasing: new Set(), acks: 10 }])).holders).toBeGreaterThanOrEqual(10);
  });

  it('two processes on one license, killed together, mid-compaction: the limit holds and nothing acknowledged is lost', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'licit-crash-')), 'store');
    dirs.push(dir);
    const said: Said[] = [];
    for (let round = 0; round < 3; round++) {
      const ws = await Promise.all([0, 1].map((p) => writer({ dir, license, prefix: `p${p}r${round}`, workers: 3, compactBytes: 4096 })));
      said.push(...ws.map((w) => w.said));
      await killDuring(ws, 10);
      await check(dir, said);
    }
  });
});
