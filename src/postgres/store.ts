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
import { createHash } from 'node:crypto';
import pg from 'pg';
import { LicenseError, isLicenseError } from '../core/errors.js';
import { BufferedTx, checkId, type AuditEvent, type EventQuery, type JsonObject, type ReadHint, type Store, type StoreEntry, type StoreReader, type StoreTx, type TransactionOptions } from '../core/store/store.js';
import { migrate, tables, type Tables } from './schema.js';
import { commitParams, commitSql, createLicenseSql, firstReadSql, getManySql, getSql, listSql, versionSql } from './statements.js';
import { isConnectionFailure, isRetryable, storeFailure } from './failures.js';
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
  /**
   * Send the statements of every transaction as named prepared statements, planned once per
   * connection instead of on every run (default true: planning them cost more database time than
   * running them). Set false behind a connection pooler in transaction mode that does not track
   * prepared statements (PgBouncer before 1.21, or 1.21+ without `max_prepared_statements`).
   */
  readonly preparedStatements?: boolean;
}

const MAX_ATTEMPTS = 8;
/** Optimistic attempts before a transaction takes its license's row lock first (the default of `optimisticAttempts`). */
const OPTIMISTIC_ATTEMPTS = 3;
/** An optimistic attempt that lost to another commit. */
const CONFLICT = Symbol('conflict');

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
  /** Prefix of this store's prepared statement names (unique per schema), or undefined when not preparing. */
  private readonly prepared: string | undefined;

  constructor(options: PostgresStoreOptions) {
    this.t = tables(options.schema ?? 'licit');
    const attempts = options.optimisticAttempts ?? OPTIMISTIC_ATTEMPTS;
    if (!Number.isSafeInteger(attempts) || attempts < 0 || attempts > 100) throw new LicenseError('ERR_USAGE', `optimisticAttempts must be a whole number from 0 to 100, got ${String(options.optimisticAttempts)}`);
    this.optimisticAttempts = attempts;
    this.prepared = options.preparedStatements === false ? undefined : `licit_${createHash('sha256').update(this.t.records).digest('hex').slice(0, 12)}_`;
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

  async transaction<T>(licenseId: string, fn: (tx: StoreTx) => Promise<T>, options?: TransactionOptions): Promise<T> {
    checkId(licenseId, 'license id');
    const reads = options?.reads;
    // Transactions of one license in this process take turns: they could only commit one after
    // another anyway, and racing each other they would mostly lose and run again. Races are left
    // to other processes.
    const before = this.turns.get(licenseId) ?? Promise.resolve();
    const mine = before.then(() => this.attempts(licenseId, fn, reads));
    const settled = mine.then(noop, noop);
    this.turns.set(licenseId, settled);
    void settled.then(() => {
      if (this.turns.get(licenseId) === settled) this.turns.delete(licenseId);
    });
    return mine;
  }

  /** The tail of each license's queue of transactions in this process. */
  private readonly turns = new Map<string, Promise<void>>();

  private async attempts<T>(licenseId: string, fn: (tx: StoreTx) => Promise<T>, reads: ReadHint | undefined): Promise<T> {
    // Optimistic first: read without a lock, write only if nobody committed in between. A license
    // busy enough to lose that race OPTIMISTIC_ATTEMPTS times in a row is served by taking its row
    // lock first, so every transaction finishes.
    for (let attempt = 1; attempt <= this.optimisticAttempts; attempt++) {
      const done = await this.optimistic(licenseId, fn, reads);
      if (done !== CONFLICT) return done;
    }
    return this.locked(licenseId, fn, reads);
  }

  /**
   * One optimistic attempt: the license row's `xmin` (the transaction that last wrote it; every
   * commit of this store rewrites the row, older licit versions included) is read first, with the
   * audit chain's head and the records `reads` names, in one statement (one snapshot); the
   * transaction's other reads run as single statements with no transaction or lock of their own,
   * and the writes go in one statement that applies them only if the row still carries that
   * `xmin` (holding the row lock for that statement alone). A read-only transaction checks the
   * `xmin` again instead: its reads saw one state. {@link CONFLICT} when another commit came between.
   */
  private async optimistic<T>(licenseId: string, fn: (tx: StoreTx) => Promise<T>, reads: ReadHint | undefined): Promise<T | typeof CONFLICT> {
    const client = await this.connect();
    let broken: Error | undefined;
    try {
      const hint: ReadHint = { records: [[HEAD_KIND, HEAD_KEY], ...(reads?.records ?? [])], kinds: reads?.kinds ?? [] };
      let first = await this.firstRead(client, licenseId, hint);
      if (first === undefined) {
        await client.query(createLicenseSql(this.t), [licenseId]);
        first = await this.firstRead(client, licenseId, hint);
        if (first === undefined) return CONFLICT;
      }
      const row = first;
      const tx = new BufferedTx(licenseId, Number(row.lastSeq), this.source(client, licenseId));
      tx.seedMany(hint, row.records);
      const moved = async () => (await this.run<{ v: string }>(client, 'version', versionSql(this.t), [licenseId])).rows[0]?.v !== row.v;
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
      const r = await this.run<{ n: number }>(client, 'commit_if', commitSql(this.t, true), [licenseId, ...commitParams(tx, Number(row.lastSeq)), row.v]);
      return r.rows[0]?.n === 1 ? value : CONFLICT;
    } catch (e) {
      if (!isLicenseError(e)) broken = e as Error;
      // A serialization failure or deadlock of the write statement: another commit won; try again.
      if (isRetryable(e)) return CONFLICT;
      throw storeFailure(e);
    } finally {
      this.release(client, broken);
    }
  }

  /**
   * Run one of the store's own statements, by `name` a prepared statement on this connection
   * (PostgreSQL plans it once per connection; `text` must be the same for every run of `name`).
   */
  private run<R extends pg.QueryResultRow>(client: pg.PoolClient, name: string, text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    return this.prepared === undefined ? client.query<R>(text, values) : client.query<R>({ name: this.prepared + name, text, values });
  }

  /**
   * The first statement of an optimistic attempt: the license row's version and last event
   * number, and the records `hint` names, read in one snapshot. Undefined when the license has no
   * row yet.
   */
  private async firstRead(client: pg.PoolClient, licenseId: string, hint: ReadHint): Promise<{ v: string; lastSeq: string; records: Array<StoreEntry & { kind: string }> } | undefined> {
    type Row = { v: string | null; last_seq: string | null; kind: string | null; key: string; value: JsonObject };
    const r = await this.run<Row>(
      client,
      'first',
      firstReadSql(this.t),
      [licenseId, hint.records.map((w) => w[0]), hint.records.map((w) => w[1]), [...(hint.kinds ?? [])]],
    );
    let version: Row | undefined;
    const found: Array<StoreEntry & { kind: string }> = [];
    for (const x of r.rows) {
      if (x.kind === null) version = x;
      else found.push({ kind: x.kind, key: x.key, value: x.value });
    }
    if (version === undefined || version.v === null || version.last_seq === null) return undefined;
    return { v: version.v, lastSeq: version.last_seq, records: found };
  }

  /** A transaction that takes the license's row lock before it reads anything (`SELECT … FOR UPDATE`). */
  private async locked<T>(licenseId: string, fn: (tx: StoreTx) => Promise<T>, reads: ReadHint | undefined): Promise<T> {
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
          await client.query(createLicenseSql(this.t), [licenseId]);
          row = (await client.query<{ last_seq: string }>(lock, [licenseId])).rows[0];
        }
        const tx = new BufferedTx(licenseId, Number(row?.last_seq ?? 0), this.source(client, licenseId));
        if (reads !== undefined) await tx.prefetch(reads.records, reads.kinds);
        const value = await fn(tx);
        if (!tx.empty) await this.run(client, 'commit', commitSql(this.t, false), [licenseId, ...commitParams(tx, Number(row?.last_seq ?? 0))]);
        await client.query('COMMIT');
        return value;
      } catch (e) {
        await client.query('ROLLBACK').catch(noop);
        if (!isLicenseError(e)) broken = e as Error;
        if (isRetryable(e) && attempt < MAX_ATTEMPTS) continue;
        throw storeFailure(e);
      } finally {
        this.release(client, broken);
      }
    }
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
      throw storeFailure(e);
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
      throw storeFailure(e);
    }
  }

  async licenseIds(): Promise<string[]> {
    await this.init();
    try {
      const r = await this.pool.query<{ license_id: string }>(`SELECT license_id FROM ${this.t.licenses} ORDER BY license_id COLLATE "C"`);
      return r.rows.map((x) => x.license_id);
    } catch (e) {
      throw storeFailure(e);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownPool) await this.pool.end();
  }

  private source(client: pg.PoolClient, licenseId: string) {
    return {
      get: async (kind: string, key: string): Promise<JsonObject | undefined> => {
        const r = await this.run<{ value: JsonObject }>(client, 'get', getSql(this.t), [licenseId, kind, key]);
        return r.rows[0]?.value;
      },
      getMany: async (want: ReadonlyArray<readonly [string, string]>, kinds: readonly string[]): Promise<Array<StoreEntry & { kind: string }>> => {
        const r = await this.run<{ kind: string; key: string; value: JsonObject }>(
          client,
          'get_many',
          getManySql(this.t),
          [licenseId, want.map((w) => w[0]), want.map((w) => w[1]), [...kinds]],
        );
        return r.rows;
      },
      list: async (kind: string, prefix: string): Promise<StoreEntry[]> => {
        const r = await this.run<StoreEntry>(
          client,
          'list',
          listSql(this.t),
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
        throw storeFailure(e);
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
      throw storeFailure(e);
    }
  }

  private release(client: pg.PoolClient, broken: Error | undefined): void {
    client.removeListener('error', noop);
    // A connection that failed is destroyed instead of going back to the pool.
    client.release(broken !== undefined && isConnectionFailure(broken) ? broken : undefined);
  }
}
