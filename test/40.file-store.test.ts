/**
 * FileStore: the conformance suite on real files, then what only a directory can get wrong:
 * torn event tails, corrupt state, directories that cannot be written, files that survive reopen.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, appendFileSync, statSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FileStore } from '../src/node/file-store.js';
import { SeatManager } from '../src/core/seats/index.js';
import { rejects, storeConformance } from './helpers/store-conformance.js';

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
  it('keeps state across reopen, in one directory, with no lock left held', async () => {
    const dir = join(tempDir(), 'store');
    const a = new SeatManager(new FileStore(dir), lic);
    await a.assign('ann', 'basic');
    await a.assign('bob', 'basic');
    const b = new SeatManager(new FileStore(dir), lic);
    expect((await b.list()).map((x) => x.userId)).toEqual(['ann', 'bob']);
    expect(readdirSync(dir).sort()).toEqual(['l-lic-1.events.jsonl', 'l-lic-1.lock', 'l-lic-1.state.json']);
    expect(statSync(join(dir, 'l-lic-1.state.json')).mode & 0o777).toBe(0o600);
    // An awkward license id becomes a hashed file name, never a path.
    const odd = new SeatManager(new FileStore(dir), { id: '../../etc/passwd', seats: { basic: 1 } });
    await odd.assign('x', 'basic');
    expect(readdirSync(dir).filter((f) => f.startsWith('h-')).length).toBe(3);
  });

  it('ignores and cuts off an event tail that was never committed', async () => {
    const dir = join(tempDir(), 'store');
    const store = new FileStore(dir);
    const seats = new SeatManager(store, lic);
    await seats.assign('ann', 'basic');
    // A writer that died after appending events but before renaming its state.
    appendFileSync(join(dir, 'l-lic-1.events.jsonl'), '{"licenseId":"lic-1","seq":2,"kind":"seat.assigned","details":{}}\n{"torn');
    expect((await store.events('lic-1')).map((e) => e.seq)).toEqual([1]);
    await seats.assign('bob', 'basic');
    const ev = await store.events('lic-1');
    expect(ev.map((e) => [e.seq, e.details.user])).toEqual([
      [1, 'ann'],
      [2, 'bob'],
    ]);
    expect(readFileSync(join(dir, 'l-lic-1.events.jsonl'), 'utf8')).not.toMatch(/torn/);
  });

  it('reports a corrupt state file as ERR_STORE_CORRUPT and does not overwrite it', async () => {
    const dir = join(tempDir(), 'store');
    const seats = new SeatManager(new FileStore(dir), lic);
    await seats.assign('ann', 'basic');
    writeFileSync(join(dir, 'l-lic-1.state.json'), '{"format":"licit-store/1", trunc');
    await rejects(seats.assign('bob', 'basic'), 'ERR_STORE_CORRUPT');
    await rejects(seats.list(), 'ERR_STORE_CORRUPT');
    expect(readFileSync(join(dir, 'l-lic-1.state.json'), 'utf8')).toBe('{"format":"licit-store/1", trunc');
    // A state file of another license under this name is refused too.
    writeFileSync(join(dir, 'l-lic-1.state.json'), JSON.stringify({ format: 'licit-store/1', licenseId: 'other', lastSeq: 0, eventBytes: 0, records: {} }));
    await rejects(seats.usage(), 'ERR_STORE_CORRUPT');
    // A committed event log that lost bytes is corrupt, not silently shorter.
    const dir2 = join(tempDir(), 'store');
    const s2 = new FileStore(dir2);
    await new SeatManager(s2, lic).assign('ann', 'basic');
    writeFileSync(join(dir2, 'l-lic-1.events.jsonl'), '');
    await rejects(s2.events('lic-1'), 'ERR_STORE_CORRUPT');
    await rejects(new SeatManager(s2, lic).assign('bob', 'basic'), 'ERR_STORE_CORRUPT');
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
    for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
    const before = readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]);
    const code = `const { FileStore } = await import(${JSON.stringify(fileURLToPath(new URL('../src/node/file-store.ts', import.meta.url)))});
const { SeatManager } = await import(${JSON.stringify(fileURLToPath(new URL('../src/core/seats/index.ts', import.meta.url)))});
const seats = new SeatManager(new FileStore(${JSON.stringify(dir)}), { id: 'lic-1', seats: { basic: 5 } });
try { await seats.assign('bob', 'basic'); console.log('OK'); } catch (e) { console.log(e.code); }
console.log((await seats.list()).map((a) => a.userId).join(','));`;
    // Root may write anywhere: run the writer as an unprivileged user when we are root.
    const asUser = process.getuid?.() === 0 ? uidOf('postgres') ?? uidOf('nobody') : undefined;
    if (asUser !== undefined) chownSync(dir, 0, 0);
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      ...(asUser === undefined ? {} : { uid: asUser.uid, gid: asUser.gid }),
      timeout: 60_000,
    });
    if (asUser === undefined) chmodSync(dir, 0o555);
    expect(r.stdout.trim().split('\n'), r.stderr).toEqual(['ERR_STORE_UNAVAILABLE', 'ann']);
    expect(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')])).toEqual(before);
  });
});

function uidOf(name: string): { uid: number; gid: number } | undefined {
  const r = spawnSync('id', [name], { encoding: 'utf8' });
  const uid = /uid=(\d+)/.exec(r.stdout)?.[1];
  const gid = /gid=(\d+)/.exec(r.stdout)?.[1];
  return uid === undefined || gid === undefined ? undefined : { uid: Number(uid), gid: Number(gid) };
}
