/**
 * FileStore commits against SQLite, the embedded database a user would otherwise pick, on the same
 * disk in the same run: seat assign+release pairs (`SeatManager.assign` then `release`, each its
 * own durable transaction) with 200 and with 5,000 seats already held, against better-sqlite3 in
 * WAL mode with `synchronous=FULL` doing the same two transactions (insert the seat row and bump
 * the license's counter; delete it and bump the counter back). The four sides (two stores, two
 * sizes) are timed in rotating batches (see `rotated` in lib/report.ts).
 *
 * Rows:
 * - FileStore vs SQLite at 200 and at 5,000 seats: target >= 0.5 (pairs per second, ours / theirs);
 * - FileStore at 5,000 seats vs FileStore at 200: target >= 0.8 (a commit appends a delta, so its
 *   cost must not grow with the seats);
 * - for information: 16 pairs in flight on one license (group commit in one process) and on 16
 *   licenses, against one pair at a time.
 *
 * Run: `node --import tsx bench/filestore.bench.ts [--quick]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SeatManager } from '../src/core/seats/index.js';
import { FileStore } from '../src/node/store/file-store.js';
import { QUICK, interleaved, reportRows, rotated, row, type Row } from './lib/report.js';

const LIMIT = 1_000_000_000;
const SIZES = [200, 5000] as const;
const tmp = mkdtempSync(join(tmpdir(), 'licit-bench-filestore-'));
let counter = 0;

/** A FileStore license holding `seats` seats already. */
async function fileSide(seats: number, name: string): Promise<{ store: FileStore; seats: SeatManager }> {
  const store = new FileStore(join(tmp, name));
  const manager = new SeatManager(store, { id: 'bench', seats: { basic: LIMIT } });
  // Preloaded 100 at a time: the group commit keeps this quick at 5,000.
  for (let i = 0; i < seats; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, seats - i) }, (_, j) => manager.assign(`pre-${i + j}@example.com`, 'basic')));
  }
  return { store, seats: manager };
}

/** A SQLite database with the same rows, and the two transactions of a pair. */
function sqliteSide(seats: number, name: string) {
  const db = new Database(join(tmp, `${name}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE seats (license_id TEXT NOT NULL, user_id TEXT NOT NULL, type TEXT NOT NULL, since TEXT NOT NULL, PRIMARY KEY (license_id, user_id));
           CREATE TABLE counters (license_id TEXT PRIMARY KEY, in_use INTEGER NOT NULL)`);
  const insert = db.prepare('INSERT INTO seats (license_id, user_id, type, since) VALUES (?, ?, ?, ?)');
  const remove = db.prepare('DELETE FROM seats WHERE license_id = ? AND user_id = ?');
  const bump = db.prepare('UPDATE counters SET in_use = in_use + ? WHERE license_id = ?');
  db.prepare('INSERT INTO counters VALUES (?, ?)').run('bench', seats);
  db.transaction(() => {
    for (let i = 0; i < seats; i++) insert.run('bench', `pre-${i}@example.com`, 'basic', new Date().toISOString());
  })();
  const assign = db.transaction((user: string) => {
    insert.run('bench', user, 'basic', new Date().toISOString());
    bump.run(1, 'bench');
  });
  const release = db.transaction((user: string) => {
    remove.run('bench', user);
    bump.run(-1, 'bench');
  });
  return {
    db,
    pair: () => {
      const user = `u${counter++}@example.com`;
      assign(user);
      release(user);
    },
  };
}

async function pair(seats: SeatManager): Promise<void> {
  const user = `u${counter++}@example.com`;
  await seats.assign(user, 'basic');
  await seats.release(user);
}

const rows: Row[] = [];
const opts = { rounds: QUICK ? 8 : 40, batch: QUICK ? 25 : 50 };

// All four sides in one rotation, so that warm-up, page cache and the machine's load fall on each alike.
const sides = [];
for (const n of SIZES) sides.push({ n, file: await fileSide(n, `fs-${n}`), lite: sqliteSide(n, `sqlite-${n}`) });
const [fs200, lite200, fs5k, lite5k] = await rotated(sides.flatMap((s) => [() => pair(s.file.seats), s.lite.pair]), opts);
const ms = { 200: { file: fs200 as number, lite: lite200 as number }, 5000: { file: fs5k as number, lite: lite5k as number } };
for (const n of SIZES) {
  rows.push(row({ name: `FileStore vs SQLite (WAL, synchronous=FULL), ${n.toLocaleString('en-US')} seats`, ours: '', baseline: '', kind: 'speed', target: 0.5 }, ms[n].file, ms[n].lite));
}
rows.push(row({ name: 'FileStore at 5,000 seats vs FileStore at 200 seats', ours: '', baseline: '', kind: 'speed', target: 0.8 }, ms[5000].file, ms[200].file));
const rates = Object.fromEntries(SIZES.map((n) => [n, { fileStorePairsPerSec: 1000 / ms[n].file, sqlitePairsPerSec: 1000 / ms[n].lite }]));
for (const s of sides) {
  s.lite.db.close();
  await s.file.store.close();
}

// Group commit, for information: 16 pairs in flight at once, on one license and on 16.
{
  const store = new FileStore(join(tmp, 'group'));
  const one = new SeatManager(store, { id: 'one', seats: { basic: LIMIT } });
  const many = Array.from({ length: 16 }, (_, i) => new SeatManager(store, { id: `lic-${i}`, seats: { basic: LIMIT } }));
  const sixteen = (pick: (i: number) => SeatManager) => () => Promise.all(Array.from({ length: 16 }, (_, i) => pair(pick(i)))).then(() => undefined);
  const gopts = { rounds: QUICK ? 4 : 16, batch: QUICK ? 5 : 10 };
  const shared = await interleaved(sixteen(() => one), () => pair(one), gopts);
  rows.push(row({ name: '16 pairs in flight on one license vs one pair at a time (group commit)', ours: '', baseline: '', kind: 'speed' }, shared.oursMs / 16, shared.baselineMs));
  const spread = await interleaved(sixteen((i) => many[i] as SeatManager), () => pair(one), gopts);
  rows.push(row({ name: '16 pairs in flight on 16 licenses vs one pair at a time', ours: '', baseline: '', kind: 'speed' }, spread.oursMs / 16, spread.baselineMs));
  await store.close();
}

reportRows('filestore', rows, { pairsPerSecond: rates });
rmSync(tmp, { recursive: true, force: true });
