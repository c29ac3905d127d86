/**
 * FileStore when things go wrong on disk: files deleted or damaged (never a silent reset), writes
 * and syncs that fail (the license is poisoned until the store is opened again, and a transaction
 * is wholly in the log or not at all), compaction stopped after any of its steps, and a store
 * written by the licit before the log (migrated on its first transaction).
 *
 * Failures are injected through `logIO` (node/log/io.ts), the one object the log engine changes the
 * disk with. Crashes of real processes: test/45.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { FileStore } from '../src/node/store/file-store.js';
import { SeatManager } from '../src/core/seats/index.js';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { rawEvents, readVerifiedLog, withAuditChain } from '../src/core/admin/index.js';
import type { JsonObject } from '../src/core/store/store.js';
import { logIO } from '../src/node/log/io.js';
import { rejects } from './helpers/store-conformance.js';
import { frames, licenseDir, records, segment, tree, writeOldLayout } from './helpers/file-store-disk.js';

const dirs: string[] = [];
const tempStore = () => {
  const d = mkdtempSync(join(tmpdir(), 'licit-fsr-'));
  dirs.push(d);
  return join(d, 'store');
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

const lic = { id: 'lic-1', seats: { basic: 50 } };
const users = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `user${from + i}@example.com`);

/** A store whose license holds `n` seats, written with frequent compaction so that it has several segments and a snapshot. */
async function busyStore(n = 50, compactBytes = 4096): Promise<string> {
  const dir = tempStore();
  const store = new FileStore(dir, { compactBytes });
  const seats = new SeatManager(store, lic);
  for (const u of users(n)) await seats.assign(u, 'basic');
  // Churn: releases and assigns again, so the trail is longer than the seats.
  for (const u of users(10)) {
    await seats.release(u);
    await seats.assign(u, 'basic');
  }
  await store.close();
  return dir;
}

/** What a fresh FileStore sees: seat holders, usage and the whole (verified) trail. */
async function look(dir: string) {
  const store = new FileStore(dir);
  try {
    const seats = new SeatManager(store, lic);
    const verified = await readVerifiedLog(store, lic.id);
    return { holders: (await seats.list()).map((a) => a.userId).sort(), inUse: (await seats.usage())[0]?.inUse, events: verified.events.length, last: verified.events.at(-1)?.seq };
  } finally {
    await store.close();
  }
}

const ioError = (code: string) => Object.assign(new Error(`${code}: injected`), { code });

describe('never a silent reset', () => {
  it('a deleted or damaged snapshot is rebuilt from the log; the damaged one is kept aside', async () => {
    const dir = await busyStore();
    const licDir = licenseDir(dir, lic.id);
    const before = await look(dir);
    expect(before).toMatchObject({ inUse: 50, events: 70, last: 70 });
    expect(readdirSync(licDir).filter((f) => f.startsWith('log-')).length).toBeGreaterThan(2);

    unlinkSync(join(licDir, 'snapshot'));
    expect(await look(dir)).toEqual(before);
    // The next transaction writes a new snapshot (after it is acknowledged: close waits for it).
    const writer = new FileStore(dir);
    await new SeatManager(writer, lic).release(users(1)[0] as string);
    await writer.close();
    expect(existsSync(join(licDir, 'snapshot'))).toBe(true);
    const after = await look(dir);
    expect(after).toMatchObject({ inUse: 49, events: 71 });

    const snap = readFileSync(join(licDir, 'snapshot'));
    snap[snap.length - 5] = (snap[snap.length - 5] as number) ^ 0xff;
    writeFileSync(join(licDir, 'snapshot'), snap);
    expect(await look(dir)).toEqual(after);
    const writer2 = new FileStore(dir);
    await new SeatManager(writer2, lic).assign(users(1)[0] as string, 'basic');
    await writer2.close();
    expect(readdirSync(licDir).filter((f) => f.startsWith('snapshot.damaged-'))).toHaveLength(1);
    expect(readdirSync(licDir)).toContain('snapshot');
    expect(await look(dir)).toMatchObject({ inUse: 50, events: 72 });
  });

  it('a snapshot gone with the first segment, a missing segment, a missing log: ERR_STORE_CORRUPT, nothing written', async () => {
    const cases: Array<[string, (licDir: string) => void, RegExp]> = [
      ['no snapshot and no first segment', (d) => (unlinkSync(join(d, 'snapshot')), unlinkSync(segment(d, 1))), /log-0000000001 is damaged: it is missing, so the records before log-0000000002 are gone/],
      ['a middle segment missing', (d) => unlinkSync(segment(d, 2)), /log-0000000002 is damaged: it is missing/],
      ['the newest segment missing', (d) => unlinkSync(segment(d, readdirSync(d).filter((f) => f.startsWith('log-')).length)), /snapshot is damaged: it starts at segment \d+ but the newest segment is \d+/],
      ['every segment missing beside the snapshot', (d) => readdirSync(d).filter((f) => f.startsWith('log-')).forEach((f) => unlinkSync(join(d, f))), /the log is missing beside a snapshot of \d+ records/],
      ['the head file missing', (d) => unlinkSync(join(d, 'head')), /head is damaged: it is missing/],
      ['the license directory emptied', (d) => readdirSync(d).forEach((f) => unlinkSync(join(d, f))), /holds no log; restore the directory from a backup, or delete it to start this license afresh/],
    ];
    for (const [name, damage, message] of cases) {
      const dir = await busyStore(20);
      damage(licenseDir(dir, lic.id));
      const before = tree(dir);
      const store = new FileStore(dir);
      const seats = new SeatManager(store, lic);
      const e = await rejects(seats.assign('new@example.com', 'basic'), 'ERR_STORE_CORRUPT');
      expect(e.message, name).toMatch(message);
      await rejects(seats.list(), 'ERR_STORE_CORRUPT');
      await rejects(store.events(lic.id), 'ERR_STORE_CORRUPT');
      expect(tree(dir), name).toEqual(before);
    }
  });

  it('a log cut short (records gone, the rest intact) is ERR_STORE_CORRUPT, not an older license', async () => {
    const dir = tempStore();
    const store = new FileStore(dir);
    const seats = new SeatManager(store, lic);
    for (const u of users(5)) await seats.assign(u, 'basic');
    await store.close();
    const seg = segment(licenseDir(dir, lic.id));
    // Back to the bare header: what deleting state.json did to the old layout.
    writeFileSync(seg, readFileSync(seg).subarray(0, frames(seg)[0]!.end));
    const e = await rejects(new SeatManager(new FileStore(dir), lic).assign('x@example.com', 'basic'), 'ERR_STORE_CORRUPT');
    expect(e.message).toMatch(/ends at record 0 but record 5 was committed/);
  });

  it('only a license directory that does not exist at all is a new license', async () => {
    const dir = await busyStore(20);
    rmSync(licenseDir(dir, lic.id), { recursive: true });
    const seats = new SeatManager(new FileStore(dir), lic);
    expect(await seats.list()).toEqual([]);
    await seats.assign('first@example.com', 'basic');
    expect((await look(dir)).events).toBe(1);
  });

  it('a FileStore that holds a license in memory notices the directory replaced under it', async () => {
    const dir = tempStore();
    const store = new FileStore(dir);
    const seats = new SeatManager(store, lic);
    await seats.assign('ann@example.com', 'basic');
    // Removed while this store still holds the license's lock (it keeps it a moment after a commit).
    rmSync(licenseDir(dir, lic.id), { recursive: true });
    await seats.assign('cy@example.com', 'basic');
    expect((await look(dir)).holders).toEqual(['cy@example.com']);
    // And removed and made again by another process meanwhile.
    await new Promise((r) => setTimeout(r, 20));
    rmSync(licenseDir(dir, lic.id), { recursive: true });
    const other = new SeatManager(new FileStore(dir), lic);
    await other.assign('bob@example.com', 'basic');
    // The old handle's lock file is gone: it reloads from the disk instead of writing into the void.
    await seats.assign('dee@example.com', 'basic');
    expect((await look(dir)).holders).toEqual(['bob@example.com', 'dee@example.com']);
  });
});

describe('failed writes and syncs poison the license until the store is opened again', () => {
  const realWrite = logIO.write;

  it('a sync that fails: UNAVAILABLE, then POISONED; reopening shows the commit was taken back', async () => {
    const dir = tempStore();
    const store = new FileStore(dir);
    const seats = new SeatManager(store, lic);
    const other = new SeatManager(store, { id: 'lic-2', seats: { basic: 5 } });
    await seats.assign('ann@example.com', 'basic');
    // The data reaches the file, then the sync (O_DSYNC: the same call) reports EIO.
    vi.spyOn(logIO, 'write').mockImplementationOnce(async (fd, bytes, at) => {
      await realWrite(fd, bytes, at);
      throw ioError('EIO');
    });
    const e = await rejects(seats.assign('bob@example.com', 'basic'), 'ERR_STORE_UNAVAILABLE');
    expect(e.message).toMatch(/EIO.*wholly in the log or not at all/);
    await rejects(seats.assign('cy@example.com', 'basic'), 'ERR_STORE_POISONED');
    await rejects(seats.list(), 'ERR_STORE_POISONED');
    await rejects(store.events(lic.id), 'ERR_STORE_POISONED');
    // Other licenses of the same FileStore carry on.
    await other.assign('zed@example.com', 'basic');
    // A new FileStore reads the disk: the failed write was zeroed out again, so bob never committed.
    expect(await look(dir)).toMatchObject({ holders: ['ann@example.com'], events: 1 });
    await new SeatManager(new FileStore(dir), lic).assign('bob@example.com', 'basic');
    expect(await look(dir)).toMatchObject({ holders: ['ann@example.com', 'bob@example.com'], events: 2 });
  });

  it('when taking the write back fails too, reopening finds it wholly committed', async () => {
    const dir = tempStore();
    const seats = new SeatManager(new FileStore(dir), lic);
    await seats.assign('ann@example.com', 'basic');
    vi.spyOn(logIO, 'write')
      .mockImplementationOnce(async (fd, bytes, at) => {
        await realWrite(fd, bytes, at);
        throw ioError('EIO');
      })
      .mockRejectedValueOnce(ioError('EIO'));
    await rejects(seats.assign('bob@example.com', 'basic'), 'ERR_STORE_UNAVAILABLE');
    await rejects(seats.usage(), 'ERR_STORE_POISONED');
    vi.restoreAllMocks();
    expect(await look(dir)).toMatchObject({ holders: ['ann@example.com', 'bob@example.com'], events: 2 });
  });

  it("a new FileStore's first transaction writes the log's tail it read back to the disk, or fails before deciding anything", async () => {
    const dir = tempStore();
    await new SeatManager(new FileStore(dir), lic).assign('ann@example.com', 'basic');
    const file = segment(licenseDir(dir, lic.id));
    const tail = readFileSync(file);
    const writes: { at: number; bytes: Uint8Array }[] = [];
    vi.spyOn(logIO, 'write').mockImplementation(async (fd, bytes, at) => {
      writes.push({ at, bytes: Uint8Array.from(bytes) });
      return realWrite(fd, bytes, at);
    });
    // What a failed write may have left in the page cache is what the reader saw: written back
    // first (the records read, in place), then the new record after them.
    await new SeatManager(new FileStore(dir), lic).assign('bob@example.com', 'basic');
    expect(writes.length).toBe(2);
    const [back, append] = writes as [{ at: number; bytes: Uint8Array }, { at: number; bytes: Uint8Array }];
    expect(back.at).toBe(0);
    expect(Buffer.from(back.bytes).equals(tail.subarray(0, back.bytes.length))).toBe(true);
    expect(append.at).toBe(back.bytes.length);
    vi.restoreAllMocks();
    // The write-back failing: nothing decided, nothing committed, the license poisoned in that FileStore.
    vi.spyOn(logIO, 'write').mockRejectedValueOnce(ioError('EIO'));
    const third = new SeatManager(new FileStore(dir), lic);
    await rejects(third.assign('cy@example.com', 'basic'), 'ERR_STORE_UNAVAILABLE');
    vi.restoreAllMocks();
    expect(await look(dir)).toMatchObject({ holders: ['ann@example.com', 'bob@example.com'], events: 2 });
  });

  it('a write torn by a full disk is not committed, and the next writer cuts it off', async () => {
    const dir = tempStore();
    const seats = new SeatManager(new FileStore(dir), lic);
    await seats.assign('ann@example.com', 'basic');
    vi.spyOn(logIO, 'write')
      .mockImplementationOnce(async (fd, bytes, at) => {
        await realWrite(fd, bytes.subarray(0, 50), at);
        throw ioError('ENOSPC');
      })
      .mockRejectedValueOnce(ioError('ENOSPC'));
    const e = await rejects(seats.assign('bob@example.com', 'basic'), 'ERR_STORE_UNAVAILABLE');
    expect(e.details.errno).toBe('ENOSPC');
    vi.restoreAllMocks();
    expect(await look(dir)).toMatchObject({ holders: ['ann@example.com'], events: 1 });
    await new SeatManager(new FileStore(dir), lic).assign('cy@example.com', 'basic');
    expect(await look(dir)).toMatchObject({ holders: ['ann@example.com', 'cy@example.com'], events: 2 });
    expect(records(segment(licenseDir(dir, lic.id))).map((r) => r.e[0]?.[4].user)).toEqual(['ann@example.com', 'cy@example.com']);
  });

  it('a failed group commit rejects every transaction in it, and none is committed', async () => {
    const dir = tempStore();
    const seats = new SeatManager(new FileStore(dir), lic);
    await seats.assign('ann@example.com', 'basic');
    let calls = 0;
    vi.spyOn(logIO, 'write').mockImplementation(async (fd, bytes, at) => {
      // The first write goes through (it carries the first transaction alone); the second
      // carries the ones that queued behind it, and fails.
      if (++calls === 2) throw ioError('EIO');
      return realWrite(fd, bytes, at);
    });
    const results = await Promise.allSettled(users(8).map((u) => seats.assign(u, 'basic')));
    const codes = results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code));
    expect(codes[0]).toBe('ok');
    expect(codes.slice(1).every((c) => c === 'ERR_STORE_UNAVAILABLE' || c === 'ERR_STORE_POISONED')).toBe(true);
    expect(codes.filter((c) => c === 'ERR_STORE_UNAVAILABLE').length).toBeGreaterThan(1);
    vi.restoreAllMocks();
    expect(await look(dir)).toMatchObject({ holders: ['ann@example.com', users(1)[0]], events: 2 });
  });
});

describe('group commit', () => {
  it('transactions waiting in one process share one write, each still its own record', async () => {
    const dir = tempStore();
    const seats = new SeatManager(new FileStore(dir), lic);
    await seats.assign('first@example.com', 'basic');
    const write = vi.spyOn(logIO, 'write');
    await Promise.all(users(40).map((u) => seats.assign(u, 'basic')));
    expect(write.mock.calls.length).toBeLessThan(20);
    expect(records(segment(licenseDir(dir, lic.id)))).toHaveLength(41);
    // The limit held while they queued: 50 seats, 41 taken.
    const more = await Promise.allSettled(users(20, 100).map((u) => seats.assign(u, 'basic')));
    expect(more.filter((r) => r.status === 'fulfilled')).toHaveLength(9);
    expect(await look(dir)).toMatchObject({ inUse: 50, events: 50 });
  });
});

describe('compaction', () => {
  it('rolls over to new segments with a snapshot, and reads every segment back', async () => {
    const dir = await busyStore(50, 2048);
    const licDir = licenseDir(dir, lic.id);
    const segments = readdirSync(licDir).filter((f) => f.startsWith('log-')).sort();
    expect(segments.length).toBeGreaterThan(3);
    // Every sealed segment ends in a seal; the snapshot starts replay at the newest one.
    for (const s of segments.slice(0, -1)) expect(frames(join(licDir, s)).at(-1)!.type).toBe(3);
    const snap = frames(join(licDir, 'snapshot'))[0]!;
    expect(snap.batch).toBe(segments.length);
    expect(await look(dir)).toMatchObject({ inUse: 50, events: 70, last: 70 });
  });

  it('rolls under steady load too, when transactions are always queued', async () => {
    const dir = tempStore();
    const store = new FileStore(dir, { compactBytes: 2048 });
    const seats = new SeatManager(store, { id: lic.id, seats: { basic: 1000 } });
    // Four writers that never pause: the queue is never empty when a write finishes.
    await Promise.all([0, 1, 2, 3].map((w) => (async () => {
      for (let i = 0; i < 40; i++) await seats.assign(`w${w}-${i}@example.com`, 'basic');
    })()));
    await store.close();
    expect(readdirSync(licenseDir(dir, lic.id)).filter((f) => f.startsWith('log-')).length).toBeGreaterThan(4);
    const reopened = new FileStore(dir);
    expect((await new SeatManager(reopened, { id: lic.id, seats: { basic: 1000 } }).usage())[0]?.inUse).toBe(160);
    expect((await readVerifiedLog(reopened, lic.id)).events).toHaveLength(160);
  });

  // Each step of a roll made to fail in turn, as a crash right there would leave it.
  const steps: Array<[string, () => void]> = [
    ['writing the snapshot temp file', () => failCreate(/snapshot\.[0-9a-f]+\.tmp$/)],
    ['sealing the old segment', () => failSealWrite()],
    ['creating the next segment', () => failCreate(/log-\d{10}\.[0-9a-f]+\.tmp$/)],
    ['renaming the next segment into place', () => failRename(/log-\d{10}$/)],
    ['renaming the snapshot into place', () => failRename(/snapshot$/)],
  ];

  for (const [step, inject] of steps) {
    it(`stopped at ${step}: no acknowledged record is lost and the store carries on`, async () => {
      const dir = tempStore();
      const store = new FileStore(dir, { compactBytes: 1500 });
      const seats = new SeatManager(store, lic);
      const acked: string[] = [];
      for (const u of users(3)) acked.push((await seats.assign(u, 'basic')).userId);
      inject();
      // Assign until the roll stops (poisoned) or a few more went through (the snapshot step is not fatal).
      for (const u of users(12, 3)) {
        try {
          acked.push((await seats.assign(u, 'basic')).userId);
        } catch (e) {
          expect((e as { code: string }).code).toBe('ERR_STORE_POISONED');
          break;
        }
      }
      vi.restoreAllMocks();
      const seen = await look(dir);
      expect(seen.holders).toEqual([...acked].sort());
      expect(seen.events).toBe(acked.length);
      // It goes on from there, and rolls again.
      const again = new SeatManager(new FileStore(dir, { compactBytes: 1500 }), lic);
      for (const u of users(6, 40)) await again.assign(u, 'basic');
      expect(await look(dir)).toMatchObject({ inUse: acked.length + 6, events: acked.length + 6 });
    });
  }

  function failCreate(path: RegExp): void {
    const real = logIO.createFile;
    vi.spyOn(logIO, 'createFile').mockImplementation(async (p, bytes, mode) => {
      if (path.test(p)) throw ioError('EIO');
      return real(p, bytes, mode);
    });
  }

  function failRename(to: RegExp): void {
    const real = logIO.rename;
    vi.spyOn(logIO, 'rename').mockImplementation(async (from, dest) => {
      if (to.test(dest)) throw ioError('EIO');
      return real(from, dest);
    });
  }

  /** Fail the first write after a snapshot temp file was made: the seal. */
  function failSealWrite(): void {
    const realCreate = logIO.createFile;
    const realWrite = logIO.write;
    let armed = false;
    vi.spyOn(logIO, 'createFile').mockImplementation(async (p, bytes, mode) => {
      if (/snapshot\.[0-9a-f]+\.tmp$/.test(p)) armed = true;
      return realCreate(p, bytes, mode);
    });
    vi.spyOn(logIO, 'write').mockImplementation(async (fd, bytes, at) => {
      if (armed) throw ioError('EIO');
      return realWrite(fd, bytes, at);
    });
  }
});

describe('a store written by the licit before the log', () => {
  /** A license's history made by the real rules and chain, then written in the old layout by hand. */
  async function oldStore(n = 12): Promise<{ dir: string; events: number; records: Record<string, Record<string, JsonObject>> }> {
    const mem = withAuditChain(new MemoryStore());
    const seats = new SeatManager(mem, lic, { now: () => Date.UTC(2026, 0, 1) });
    for (const u of users(n)) await seats.assign(u, 'basic');
    await seats.release(users(1)[0] as string);
    const all = await rawEvents(mem, lic.id);
    const records: Record<string, Record<string, JsonObject>> = {};
    await mem.read(lic.id, async (r) => {
      for (const kind of ['meta', 'seat', 'audit']) {
        for (const e of await r.list(kind)) (records[kind] ??= {})[e.key] = e.value;
      }
    });
    const dir = tempStore();
    mkdirSync(dir, { recursive: true });
    writeOldLayout(dir, lic.id, records, all, { uncommittedTail: '{"licenseId":"lic-1","seq":99,"torn' });
    return { dir, events: all.length, records };
  }

  it('reads it as it is, then migrates it on the first transaction; the chain verifies across', async () => {
    const { dir, events } = await oldStore();
    const before = tree(dir);
    const store = new FileStore(dir);
    const seats = new SeatManager(store, lic);
    expect((await seats.list()).map((a) => a.userId)).toEqual(users(11, 1).sort());
    expect((await store.events(lic.id)).map((e) => e.seq)).toEqual(Array.from({ length: events }, (_, i) => i + 1));
    expect(tree(dir)).toEqual(before); // reading wrote nothing
    await seats.assign('new@example.com', 'basic');
    expect(readdirSync(dir).sort()).toEqual(['l-lic-1', 'l-lic-1.events.jsonl', 'l-lic-1.lock', 'l-lic-1.state.json']);
    expect(JSON.parse(readFileSync(join(dir, 'l-lic-1.state.json'), 'utf8'))).toMatchObject({ format: 'licit-store/migrated', movedTo: 'l-lic-1/' });
    expect(readFileSync(join(dir, 'l-lic-1.events.jsonl'))).toEqual(Buffer.from(before.find(([f]) => f === 'l-lic-1.events.jsonl')![1], 'base64'));
    const seen = await look(dir);
    expect(seen).toMatchObject({ inUse: 12, events: events + 1, last: events + 1 });
    expect(seen.holders).toEqual([...users(11, 1), 'new@example.com'].sort());
  });

  it('a migration stopped before its tombstone is finished; a state file changed since is refused', async () => {
    const { dir } = await oldStore(4);
    const oldState = readFileSync(join(dir, 'l-lic-1.state.json'));
    await new SeatManager(new FileStore(dir), lic).assign('new@example.com', 'basic');
    // As if the process died between renaming the log directory into place and writing the tombstone.
    writeFileSync(join(dir, 'l-lic-1.state.json'), oldState);
    await new SeatManager(new FileStore(dir), lic).assign('newer@example.com', 'basic');
    expect(readFileSync(join(dir, 'l-lic-1.state.json'), 'utf8')).toMatch(/licit-store\/migrated/);
    // An older licit wrote the old files after the migration: two truths, refuse both.
    const changed = JSON.parse(oldState.toString('utf8'));
    changed.records.seat['late@example.com'] = { type: 'basic', since: '2026-01-02T00:00:00.000Z' };
    writeFileSync(join(dir, 'l-lic-1.state.json'), JSON.stringify(changed));
    const e = await rejects(new SeatManager(new FileStore(dir), lic).assign('x@example.com', 'basic'), 'ERR_STORE_CORRUPT');
    expect(e.message).toMatch(/older licit may still be writing/);
  });

  it('an old state file missing beside its events is refused, not started afresh; a tombstone without its directory too', async () => {
    const { dir } = await oldStore(4);
    unlinkSync(join(dir, 'l-lic-1.state.json'));
    const before = tree(dir);
    const seats = new SeatManager(new FileStore(dir), lic);
    expect((await rejects(seats.assign('x@example.com', 'basic'), 'ERR_STORE_CORRUPT')).message).toMatch(/missing beside an event log of \d+ bytes/);
    await rejects(seats.list(), 'ERR_STORE_CORRUPT');
    expect(tree(dir)).toEqual(before);

    const second = await oldStore(4);
    await new SeatManager(new FileStore(second.dir), lic).assign('new@example.com', 'basic');
    rmSync(licenseDir(second.dir, lic.id), { recursive: true });
    expect((await rejects(new SeatManager(new FileStore(second.dir), lic).list(), 'ERR_STORE_CORRUPT')).message).toMatch(/was migrated to .*l-lic-1, which is missing/);
  });
});
