/**
 * FileStore: the conformance suite on real files, then what only a directory can get wrong:
 * torn last writes, damaged records, directories that cannot be written, files that survive reopen.
 * Recovery, fault injection, migration and compaction: test/44; crashes: test/45.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync, statSync, chownSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { FileStore } from '../src/node/store/file-store.js';
import { SeatManager } from '../src/core/seats/index.js';
import { rejects, storeConformance } from './helpers/store-conformance.js';
import { frames, licenseDir, records, segment, tree } from './helpers/file-store-disk.js';
import { FrameType, encodeFrames } from '../src/node/log/frame.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'licit-fs-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

storeConformance('FileStore', async () => new FileStore(join(tempDir(), 'store')));

const lic = { id: 'lic-1', seats: { basic: 5 } };

describe('FileStore on disk', () => {
  it('keeps state across reopen, one directory per license, with no lock left held', async () => {
    const dir = join(tempDir(), 'store');
    const first = new FileStore(dir);
    const a = new SeatManager(first, lic);
    await a.assign('ann', 'basic');
    await a.assign('bob', 'basic');
    const b = new SeatManager(new FileStore(dir), lic);
    expect((await b.list()).map((x) => x.userId)).toEqual(['ann', 'bob']);
    // A store keeps the lock a moment for its next transaction, then gives it up by itself.
    await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(dir)).toEqual(['l-lic-1']);
    const lic1 = licenseDir(dir, 'lic-1');
    expect(readdirSync(lic1).sort()).toEqual(['head', 'lock', 'lock.want', 'log-0000000001']);
    expect(statSync(segment(lic1)).mode & 0o777).toBe(0o600);
    expect(statSync(lic1).mode & 0o777).toBe(0o700);
    // The lock file names no holder once every transaction is done.
    expect(readFileSync(join(lic1, 'lock'), 'utf8').trim()).toBe('');
    // One record per transaction: the writes and the audit event of each assign.
    const recs = records(segment(lic1));
    expect(recs.map((r) => r.e.map((e) => [e[0], e[3], e[4].user]))).toEqual([[[1, 'seat.assigned', 'ann']], [[2, 'seat.assigned', 'bob']]]);
    // An awkward license id becomes a hashed directory name, never a path.
    const odd = new SeatManager(new FileStore(dir), { id: '../../etc/passwd', seats: { basic: 1 } });
    await odd.assign('x', 'basic');
    expect(readdirSync(dir).filter((f) => /^h-[0-9a-f]{40}$/.test(f)).length).toBe(1);
  });

  it('cuts off a torn last write and keeps every record before it', async () => {
    const dir = join(tempDir(), 'store');
    const store = new FileStore(dir);
    const seats = new SeatManager(store, lic);
    await seats.assign('ann', 'basic');
    const seg = segment(licenseDir(dir, 'lic-1'));
    const endAt = frames(seg).at(-1)!.end;
    // A writer that died in the middle of its write: the first 40 bytes of record 2 reached the file.
    const record2 = encodeFrames([{ type: FrameType.data, seq: 2, batch: 2, payload: Buffer.from(JSON.stringify({ w: [['seat', 'mallory', { type: 'basic' }]], e: [] })), end: true }]);
    const fd = openSync(seg, 'r+');
    writeSync(fd, record2, 0, 40, endAt);
    closeSync(fd);
    const torn = readFileSync(seg);
    // A new FileStore (a restarted process) reads past the tail without complaint and without changing it.
    const reader = new FileStore(dir);
    expect((await reader.events('lic-1')).map((e) => e.seq)).toEqual([1]);
    expect((await new SeatManager(reader, lic).list()).map((a) => a.userId)).toEqual(['ann']);
    expect(readFileSync(seg).equals(torn)).toBe(true);
    // The next writer cuts it off (under the lock) and writes in its place.
    await new SeatManager(reader, lic).assign('bob', 'basic');
    expect((await reader.events('lic-1')).map((e) => [e.seq, e.details.user])).toEqual([
      [1, 'ann'],
      [2, 'bob'],
    ]);
    const after = readFileSync(seg);
    expect(after.subarray(0, endAt).equals(torn.subarray(0, endAt))).toBe(true);
    const all = frames(seg);
    expect(all.map((f) => f.type)).toEqual([FrameType.header, FrameType.data, FrameType.data]);
    expect(all[2]!.start).toBe(endAt);
    expect(after.subarray(all[2]!.end).every((b) => b === 0)).toBe(true); // nothing of the torn write left
    // The first FileStore sees the other process's commit through the cheap check.
    expect((await seats.list()).map((a) => a.userId)).toEqual(['ann', 'bob']);
  });

  it('damage before the last write is ERR_STORE_CORRUPT and nothing is cut or rewritten', async () => {
    const dir = join(tempDir(), 'store');
    const writer = new FileStore(dir);
    const seats = new SeatManager(writer, lic);
    for (const u of ['ann', 'bob', 'cy']) await seats.assign(u, 'basic');
    await writer.close();
    const seg = segment(licenseDir(dir, 'lic-1'));
    const buf = readFileSync(seg);
    const second = frames(seg)[2]!;
    buf[second.start + 40] = buf[second.start + 40]! ^ 0x01; // one flipped bit inside bob's record
    writeFileSync(seg, buf);
    const before = tree(dir);
    const fresh = new SeatManager(new FileStore(dir), lic);
    const e = await rejects(fresh.assign('dee', 'basic'), 'ERR_STORE_CORRUPT');
    expect(e.message).toMatch(/an intact record of a later write follows/);
    await rejects(fresh.list(), 'ERR_STORE_CORRUPT');
    await rejects(new FileStore(dir).events('lic-1'), 'ERR_STORE_CORRUPT');
    expect(tree(dir)).toEqual(before);
    // A segment of another license put in its place is refused too.
    const other = join(tempDir(), 'store');
    const otherStore = new FileStore(other);
    await new SeatManager(otherStore, { id: 'lic-2', seats: { basic: 5 } }).assign('zed', 'basic');
    await otherStore.close();
    copyFileSync(segment(licenseDir(other, 'lic-2')), seg);
    expect((await rejects(new SeatManager(new FileStore(dir), lic).usage(), 'ERR_STORE_CORRUPT')).message).toMatch(/belongs to "lic-2"/);
  });

  it('a path that is not a writable directory gives ERR_STORE_UNAVAILABLE', async () => {
    const base = tempDir();
    writeFileSync(join(base, 'file'), 'not a directory');
    const seats = new SeatManager(new FileStore(join(base, 'file', 'store')), lic);
    const e = await rejects(seats.assign('ann', 'basic'), 'ERR_STORE_UNAVAILABLE');
    expect(e.message).toMatch(/writable/);
    await rejects(seats.list(), 'ERR_STORE_UNAVAILABLE');
  });

  it('a directory this user may not write gives ERR_STORE_UNAVAILABLE and leaves it unchanged', async () => {
    const dir = join(tempDir(), 'store');
    await new SeatManager(new FileStore(dir), lic).assign('ann', 'basic');
    chmodSync(join(dir, ".."), 0o755);
    chmodSync(dir, 0o755);
    const lic1 = licenseDir(dir, 'lic-1');
    chmodSync(lic1, 0o755);
    for (const f of readdirSync(lic1)) chmodSync(join(lic1, f), 0o644);
    // The writer is bundled into one file in a directory everyone may read: run as another user,
    // it could not reach this clone's sources or node_modules when the clone sits where only root
    // may enter (under /root, or any mktemp -d).
    const entry = join(tempDir(), 'writer.mjs');
    writeFileSync(
      entry,
      `import { FileStore } from ${JSON.stringify(fileURLToPath(new URL('../src/node/store/file-store.ts', import.meta.url)))};
import { SeatManager } from ${JSON.stringify(fileURLToPath(new URL('../src/core/seats/index.ts', import.meta.url)))};
const seats = new SeatManager(new FileStore(process.argv[2]), { id: 'lic-1', seats: { basic: 5 } });
try { await seats.assign('bob', 'basic'); console.log('OK'); } catch (e) { console.log(e.code); }
console.log((await seats.list()).map((a) => a.userId).join(','));`,
    );
    const shared = mkdtempSync(join(tmpdir(), 'licit-40-writer-'));
    chmodSync(shared, 0o755);
    const bundle = join(shared, 'writer.mjs');
    await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile: bundle, logLevel: 'silent', banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } });
    chmodSync(bundle, 0o644);
    // Root may write anywhere: run the writer as an unprivileged user when we are root.
    const asUser = process.getuid?.() === 0 ? uidOf('postgres') ?? uidOf('nobody') : undefined;
    if (asUser !== undefined) chownSync(dir, 0, 0);
    // Taken after the await above, when this process's store has let go of its lock.
    const before = tree(dir);
    const r = spawnSync(process.execPath, [bundle, dir], {
      encoding: 'utf8',
      cwd: shared,
      env: { ...process.env, LICIT_NO_NATIVE: '1' },
      ...(asUser === undefined ? {} : { uid: asUser.uid, gid: asUser.gid }),
      timeout: 60_000,
    });
    rmSync(shared, { recursive: true, force: true });
    if (asUser === undefined) chmodSync(dir, 0o555);
    expect(r.stdout.trim().split('\n'), r.stderr).toEqual(['ERR_STORE_UNAVAILABLE', 'ann']);
    expect(tree(dir)).toEqual(before);
  });
});

function uidOf(name: string): { uid: number; gid: number } | undefined {
  const r = spawnSync('id', [name], { encoding: 'utf8' });
  const uid = /uid=(\d+)/.exec(r.stdout)?.[1];
  const gid = /gid=(\d+)/.exec(r.stdout)?.[1];
  return uid === undefined || gid === undefined ? undefined : { uid: Number(uid), gid: Number(gid) };
}
