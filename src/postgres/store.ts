/**
 * {@link Store} on PostgreSQL, for fleets of app servers and for the vendor's license server.
 *
 * Transactions of one license are serializable on every connection of every machine, and those of
 * different licenses never wait for each other. A transaction reads without a lock or a
 * transaction of its own and sends its buffered writes in one statement that applies them only if
 * no other commit touched the license since its first read (the license row's `xmin`, as
 * PostgreSQL drivers use it for optimistic concurrency); otherwise it runs again. The row lock is
 * held for that one statement, not across the round trips of the transaction. Transactions of one
 * license in one process take turns (they could only commit one after another), so races happen
 * only between processes; after three lost races in a row a transaction takes the row lock first
 * (`SELECT … FOR UPDATE`), so it finishes however busy its license is. A connection that fails
 * mid-way leaves nothing behind.
 */
import pg from 'pg';
import { LicenseError, isLicenseError } from '../core/errors.js';
import { BufferedTx, checkId, type AuditEvent, type EventQuery, type JsonObject, type Store, type StoreEntry, type StoreReader, type StoreTx } from '../core/store/store.js';
import { migrate, tables, type Tables } from './schema.js';
import { HEAD_KEY, HEAD_KIND } from '../core/admin/audit-chain.js';

/** Options of {@link PostgresStore}. */
export interface PostgresStoreOptions {
  /** `postgres://user:pass@host:port/db`; ignored when `pool` is given. */
  readonly connectionString?: string;
  /** Use this pool instead of creating one (then {@link PostgresStore.close} leaves it open). */
  readonly pool?: pg.Pool;
  /** Schema holding licit's tables (default `"licit"`; created on first use). */
  readonly schema?: string;
  /** Connections in the pool licit creates (default 10). */
  readonly poolSize?: number;
  /**
   * Optimistic attempts of a transaction before it takes its license's row lock first (default 3;
   * 0: always lock first, as for a license written by many processes at every moment).
   */
  readonly optimisticAttempts?: number;
  /** Give up connecting after this long (default 10 000 ms): `ERR_STORE_UNAVAILABLE`. */
  readonly connectTimeoutMs?: number;
  /** `application_name` of licit's connections, as `pg_stat_activity` shows it (default `"licit"`). */
  readonly applicationName?: string;
}

/** SQLSTATEs after which the same transaction may simply run again. */
const RETRY = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 8;
/** Optimistic attempts before a transaction takes its license's row lock first (the default of `optimisticAttempts`). */
const OPTIMISTIC_ATTEMPTS = 3;
/** An optimistic attempt that lost to another commit. */
const CONFLICT = Symbol('conflict');
/** Socket-level failures: the database is unreachable or went away. */
const NET = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

const noop = () => undefined;

/**
 * A {@link Store} in PostgreSQL (`licit/postgres`, needs the `pg` package).
 *
 * @example
 * ```ts
 * import { PostgresStore } from 'licit/postgres';
 * const store = new PostgresStore({ connectionString: process.env.DATABASE_URL });
 * const seats = new SeatManager(store, license);
 * await seats.assign('ann@example.com', 'basic');
 * await store.close();
 * ```
 */
export class PostgresStore implements Store {
  private readonly pool: pg.Pool;
  private readonly ownPool: boolean;
  private readonly t: Tables;
  private ready: Promise<void> | undefined;
  private closed = false;

  private readonly optimisticAttempts: number;

  constructor(options: PostgresStoreOptions) {
    this.t = tables(options.schema ?? 'licit');
    const attempts = options.optimisticAttempts ?? OPTIMISTIC_ATTEMPTS;
    if (!Number.isSafeInteger(attempts) || attempts < 0 || attempts > 100) throw new LicenseError('ERR_USAGE', `optimisticAttempts must be a whole number from 0 to 100, got ${String(options.optimisticAttempts)}`);
    this.optimisticAttempts = attempts;
    if (options.pool !== undefined) {
      this.pool = options.pool;
      this.ownPool = false;
    } else {
      if (typeof options.connectionString !== 'string' || options.connectionString === '') {
        throw new LicenseError('ERR_USAGE', 'PostgresStore needs a connectionString (postgres://user:password@host:port/database) or a pg Pool');
      }
      this.pool = new pg.Pool({
        connectionString: options.connectionString,
        max: options.poolSize ?? 10,
        connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
        application_name: options.applicationName ?? 'licit',
      });
      this.ownPool = true;
    }
    // An idle connection dropped by the server must not crash the process; the next query reconnects.
    this.pool.on('error', noop);
  }

  async transaction<T>(licenseId: string, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    checkId(licenseId, 'license id');
    // Transactions of one license in this process take turns: they could only commit one after
    // another anyway, and racing each other they would mostly lose and run again. Races are left
    // to other processes.
    const before = this.turns.get(licenseId) ?? Promise.resolve();
    const mine = before.then(() => this.attempts(licenseId, fn));
    const settled = mine.then(noop, noop);
    this.turns.set(licenseId, settled);
    void settled.then(() => {
      if (this.turns.get(licenseId) === settled) this.turns.delete(licenseId);
    });
    return mine;
  }

  /** The tail of each license's queue of transactions in this process. */
  private readonly turns = new Map<string, Promise<void>>();

  private async attempts<T>(licenseId: string, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    // Optimistic first: read without a lock, write only if nobody committed in between. A license
    // busy enough to lose that race OPTIMISTIC_ATTEMPTS times in a row is served by taking its row
    // lock first, so every transaction finishes.
    for (let attempt = 1; attempt <= this.optimisticAttempts; attempt++) {
      const done = await this.optimistic(licenseId, fn);
      if (done !== CONFLICT) return done;
    }
    return this.locked(licenseId, fn);
  }

  /**
   * One optimistic attempt: the license row's `xmin` (the transaction that last wrote it; every
   * commit of this store rewrites the row, older licit versions included) is read first, the
   * transaction's reads run as single statements with no transaction or lock of their own, and the
   * writes go in one statement that applies them only if the row still carries that `xmin`
   * (holding the row lock for that statement alone). A read-only transaction checks the `xmin`
   * again instead: its reads saw one state. {@link CONFLICT} when another commit came between.
   */
  private async optimistic<T>(licenseId: string, fn: (tx: StoreTx) => Promise<T>): Promise<T | typeof CONFLICT> {
    const { licenses, records } = this.t;
    const client = await this.connect();
    let broken: Error | undefined;
    try {
      // The row's version, with the audit chain's head: every chained transaction reads it first.
      const version = `SELECT l.xmin::text AS v, l.last_seq, r.value AS head FROM ${licenses} l
                         LEFT JOIN ${records} r ON r.license_id = l.license_id AND r.kind = $2 AND r.key = $3
                        WHERE l.license_id = $1`;
      type Row = { v: string; last_seq: string; head: JsonObject | null };
      let row = (await client.query<Row>(version, [licenseId, HEAD_KIND, HEAD_KEY])).rows[0];
      if (row === undefined) {
        await client.query(`INSERT INTO ${licenses} (license_id) VALUES ($1) ON CONFLICT DO NOTHING`, [licenseId]);
        row = (await client.query<Row>(version, [licenseId, HEAD_KIND, HEAD_KEY])).rows[0];
        if (row === undefined) return CONFLICT;
      }
      const tx = new BufferedTx(licenseId, Number(row.last_seq), this.source(client, licenseId));
      tx.seed(HEAD_KIND, HEAD_KEY, row.head ?? undefined);
      const moved = async () => (await client.query<{ v: string }>(`SELECT xmin::text AS v FROM ${licenses} WHERE license_id = $1`, [licenseId])).rows[0]?.v !== row.v;
      let value: T;
      try {
        value = await fn(tx);
      } catch (e) {
        // A refusal computed from reads that straddled another commit may be wrong (a count read
        // before it, a record after): it stands only if the license did not move meanwhile.
        if (await moved()) return CONFLICT;
        throw e;
      }
      if (tx.empty) return (await moved()) ? CONFLICT : value;
      const r = await client.query<{ n: number }>(this.commitStatement(row.v), [licenseId, ...commitParams(tx, Number(row.last_seq)), row.v]);
      return r.rows[0]?.n === 1 ? value : CONFLICT;
    } catch (e) {
      if (!isLicenseError(e)) broken = e as Error;
      // A serialization failure or deadlock of the write statement: another commit won; try again.
      if (!isLicenseError(e) && RETRY.has(sqlState(e))) return CONFLICT;
      throw this.map(e);
    } finally {
      this.release(client, broken);
    }
  }

  /** A transaction that takes the license's row lock before it reads anything (`SELECT … FOR UPDATE`). */
  private async locked<T>(licenseId: string, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const { licenses } = this.t;
    for (let attempt = 1; ; attempt++) {
      const client = await this.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const lock = `SELECT last_seq FROM ${licenses} WHERE license_id = $1 FOR UPDATE`;
        let row = (await client.query<{ last_seq: string }>(lock, [licenseId])).rows[0];
        if (row === undefined) {
          // First use of this license: create its row; a concurrent creator makes this wait, then no-op.
          await client.query(`INSERT INTO ${licenses} (license_id) VALUES ($1) ON CONFLICT DO NOTHING`, [licenseId]);
          row = (await client.query<{ last_seq: string }>(lock, [licenseId])).rows[0];
        }
        const tx = new BufferedTx(licenseId, Number(row?.last_seq ?? 0), this.source(client, licenseId));
        const value = await fn(tx);
        if (!tx.empty) await client.query(this.commitStatement(undefined), [licenseId, ...commitParams(tx, Number(row?.last_seq ?? 0))]);
        await client.query('COMMIT');
        return value;
      } catch (e) {
        await client.query('ROLLBACK').catch(noop);
        if (!isLicenseError(e)) broken = e as Error;
        if (!isLicenseError(e) && RETRY.has(sqlState(e)) && attempt < MAX_ATTEMPTS) continue;
        throw this.map(e);
      } finally {
        this.release(client, broken);
      }
    }
  }

  /**
   * The one statement that commits a transaction's writes and events and moves the license row
   * (`$1` license, `$2` writes, `$3` events, `$4` the new last seq; see {@link commitParams}). With
   * `version`, as `$5`: applied only if the row's xmin is still that one, answering how many rows
   * it moved (0: another commit came between, nothing written).
   */
  private commitStatement(version: string | undefined): string {
    const { licenses, records, events } = this.t;
    const guard = version === undefined ? '' : ' WHERE EXISTS (SELECT 1 FROM v)';
    const rows = `jsonb_to_recordset($2::jsonb) AS x(kind text, key text, del boolean, value jsonb)`;
    const body = `w AS (SELECT * FROM ${rows}${guard}),
         d AS (DELETE FROM ${records} r USING w WHERE w.del AND r.license_id = $1 AND r.kind = w.kind AND r.key = w.key),
         u AS (INSERT INTO ${records} (license_id, kind, key, value)
                 SELECT $1, kind, key, value FROM w WHERE NOT w.del
                 ON CONFLICT (license_id, kind, key) DO UPDATE SET value = EXCLUDED.value),
         e AS (INSERT INTO ${events} (license_id, seq, at, actor, kind, details)
                 SELECT $1, seq, at, actor, kind, details
                 FROM jsonb_to_recordset($3::jsonb) AS x(seq bigint, at timestamptz, actor text, kind text, details jsonb)${guard})`;
    return version === undefined
      ? `WITH ${body} UPDATE ${licenses} SET last_seq = $4 WHERE license_id = $1`
      : `WITH v AS (UPDATE ${licenses} SET last_seq = $4 WHERE license_id = $1 AND xmin = $5::text::xid RETURNING 1), ${body} SELECT count(*)::int AS n FROM v`;
  }

  async read<T>(licenseId: string, fn: (reader: StoreReader) => Promise<T>): Promise<T> {
    checkId(licenseId, 'license id');
    const client = await this.connect();
    let broken: Error | undefined;
    try {
      // One snapshot for every query of the reader, without taking the license's row lock.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const src = this.source(client, licenseId);
      const value = await fn({ licenseId, get: src.get, list: (kind, prefix = '') => src.list(kind, prefix) });
      await client.query('COMMIT');
      return value;
    } catch (e) {
      await client.query('ROLLBACK').catch(noop);
      if (!isLicenseError(e)) broken = e as Error;
      throw this.map(e);
    } finally {
      this.release(client, broken);
    }
  }

  async events(licenseId: string, query: EventQuery = {}): Promise<AuditEvent[]> {
    checkId(licenseId, 'license id');
    await this.init();
    try {
      const r = await this.pool.query<{ seq: string; at: Date; actor: string; kind: string; details: JsonObject }>(
        `SELECT seq, at, actor, kind, details FROM ${this.t.events} WHERE license_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
        [licenseId, query.afterSeq ?? 0, query.limit ?? null],
      );
      return r.rows.map((x) => ({ licenseId, seq: Number(x.seq), at: x.at.toISOString(), actor: x.actor, kind: x.kind, details: x.details }));
    } catch (e) {
      throw this.map(e);
    }
  }

  async licenseIds(): Promise<string[]> {
    await this.init();
    try {
      const r = await this.pool.query<{ license_id: string }>(`SELECT license_id FROM ${this.t.licenses} ORDER BY license_id COLLATE "C"`);
      return r.rows.map((x) => x.license_id);
    } catch (e) {
      throw this.map(e);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownPool) await this.pool.end();
  }

  private source(client: pg.PoolClient, licenseId: string) {
    const { records } = this.t;
    return {
      get: async (kind: string, key: string): Promise<JsonObject | undefined> => {
        const r = await client.query<{ value: JsonObject }>(`SELECT value FROM ${records} WHERE license_id = $1 AND kind = $2 AND key = $3`, [licenseId, kind, key]);
        return r.rows[0]?.value;
      },
      getMany: async (want: ReadonlyArray<readonly [string, string]>, kinds: readonly string[]): Promise<Array<StoreEntry & { kind: string }>> => {
        const r = await client.query<{ kind: string; key: string; value: JsonObject }>(
          `SELECT kind, key, value FROM ${records} WHERE license_id = $1
             AND ((kind, key) IN (SELECT * FROM unnest($2::text[], $3::text[])) OR kind = ANY($4::text[]))`,
          [licenseId, want.map((w) => w[0]), want.map((w) => w[1]), [...kinds]],
        );
        return r.rows;
      },
      list: async (kind: string, prefix: string): Promise<StoreEntry[]> => {
        const r = await client.query<StoreEntry>(
          `SELECT key, value FROM ${records} WHERE license_id = $1 AND kind = $2 AND starts_with(key, $3) ORDER BY key`,
          [licenseId, kind, prefix],
        );
        // Byte order (COLLATE "C") and JavaScript's code-unit order differ above U+FFFF: sort the JS way.
        return r.rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      },
    };
  }

  /** Create or upgrade the schema once per store (retried after a failure). */
  private init(): Promise<void> {
    if (this.closed) return Promise.reject(new LicenseError('ERR_STORE_UNAVAILABLE', 'this PostgresStore was closed; create a new one'));
    this.ready ??= (async () => {
      const client = await this.rawConnect();
      let broken: Error | undefined;
      try {
        await migrate(client, this.t);
      } catch (e) {
        if (!isLicenseError(e)) broken = e as Error;
        throw this.map(e);
      } finally {
        this.release(client, broken);
      }
    })().catch((e: unknown) => {
      this.ready = undefined;
      throw e;
    });
    return this.ready;
  }

  private async connect(): Promise<pg.PoolClient> {
    await this.init();
    return this.rawConnect();
  }

  private async rawConnect(): Promise<pg.PoolClient> {
    try {
      const client = await this.pool.connect();
      // A server that goes away while this client is checked out emits 'error'; the failing query reports it.
      client.on('error', noop);
      return client;
    } catch (e) {
      throw this.map(e);
    }
  }

  private release(client: pg.PoolClient, broken: Error | undefined): void {
    client.removeListener('error', noop);
    // A connection that failed is destroyed instead of going back to the pool.
    client.release(broken !== undefined && isConnectionFailure(broken) ? broken : undefined);
  }

  /**
   * Database and connection failures become `ERR_STORE_UNAVAILABLE`; licit's own errors and bugs
   * in the caller's transaction function pass through unchanged.
   */
  private map(e: unknown): unknown {
    if (isLicenseError(e)) return e;
    const err = e as Error & { code?: string };
    const connection = err instanceof Error && isConnectionFailure(err);
    if (!connection && !(e instanceof pg.DatabaseError)) return e;
    const state = sqlState(e);
    const what = connection ? 'cannot reach the PostgreSQL seat store' : 'the PostgreSQL seat store refused the operation';
    return new LicenseError(
      'ERR_STORE_UNAVAILABLE',
      `${what} (${state || err.code || 'error'}: ${err.message}); nothing was changed. Check that the database is running and reachable, then retry`,
      { sqlState: state || undefined, errno: err.code },
      { cause: e },
    );
  }
}

/** `$2`..`$4` of the commit statement: a transaction's writes and events, and the license's new last seq. */
function commitParams(tx: BufferedTx, lastSeq: number): [string, string, number] {
  const writes = tx.writes.map((w) => (w.value === undefined ? { kind: w.kind, key: w.key, del: true } : { kind: w.kind, key: w.key, del: false, value: w.value }));
  return [JSON.stringify(writes), JSON.stringify(tx.events), tx.events.at(-1)?.seq ?? lastSeq];
}

function sqlState(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : '';
}

/** True for socket errors, connection-exception SQLSTATEs (08xxx) and server shutdowns (57P0x). */
function isConnectionFailure(e: Error & { code?: string }): boolean {
  const code = e.code ?? '';
  if (NET.has(code) || code.startsWith('08') || /^57P0[1-3]$/.test(code)) return true;
  return /Connection terminated|connection error|timeout exceeded when trying to connect|Client was closed|not queryable/i.test(e.message);
}
