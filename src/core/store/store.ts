/**
 * The storage contract behind seats, license users and device activations.
 *
 * A store holds, per license, a set of JSON records addressed by `(kind, key)` and an append-only
 * audit trail numbered 1, 2, 3, … . The counting rules live once in `core/seats`; a store only has
 * to make {@link Store.transaction} atomic and isolated per license: while one transaction of a
 * license runs, no other transaction of that license (in this process, in another process, on
 * another machine) may read or write it. That single property is what keeps every
 * count-and-insert from exceeding a limit.
 *
 * Implementations: `MemoryStore` (`core/store/memory-store.ts`), `FileStore` (`licit/node`),
 * `PostgresStore` (`licit/postgres`). All pass one conformance suite.
 */
import { LicenseError } from '../errors.js';

/** A JSON value as stored in a record or an audit event. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object: what a record holds. */
export type JsonObject = { [key: string]: JsonValue };

/** One record as returned by {@link StoreReader.list}. */
export interface StoreEntry {
  /** The record's key within its kind. */
  readonly key: string;
  /** The record's content (a copy). */
  readonly value: JsonObject;
}

/** An audit event as the caller hands it in; the store numbers it. */
export interface AuditEventInput {
  /** When it happened, ISO-8601 UTC. */
  readonly at: string;
  /** Who did it: a user id, `"admin"`, `"vendor"`, `"system"` (lease expiry), … */
  readonly actor: string;
  /** What happened, e.g. `"seat.assigned"`; see `AuditKind` in `core/seats/audit.ts`. */
  readonly kind: string;
  /** What changed (user, type, device, counts). */
  readonly details: JsonObject;
}

/** An audit event as stored: numbered per license without gaps, in commit order. */
export interface AuditEvent extends AuditEventInput {
  /** The license whose trail this event belongs to. */
  readonly licenseId: string;
  /** 1 for a license's first event, then +1 per event, in the order they were committed. */
  readonly seq: number;
}

/** Read access inside a transaction or a snapshot read. Values are copies: mutating them changes nothing. */
export interface StoreReader {
  /** The license this reader is bound to. */
  readonly licenseId: string;
  /** One record, or undefined. */
  get(kind: string, key: string): Promise<JsonObject | undefined>;
  /** Every record of `kind` whose key starts with `prefix` (all when omitted), sorted by key. */
  list(kind: string, prefix?: string): Promise<StoreEntry[]>;
}

/**
 * Read and write access inside {@link Store.transaction}. Writes are buffered and become visible to
 * later reads of the same transaction at once, and to everyone else only when it commits.
 */
export interface StoreTx extends StoreReader {
  /** Create or replace a record. */
  put(kind: string, key: string, value: JsonObject): void;
  /** Remove a record (no-op when absent). */
  delete(kind: string, key: string): void;
  /** Append an audit event; returns the sequence number it gets on commit. */
  append(event: AuditEventInput): number;
  /**
   * A hint: these records (and every record of these kinds) will be read; a store that pays a round
   * trip per read fetches them in one (PostgreSQL), others ignore it. Reads return the same either way.
   */
  prefetch?(records: ReadonlyArray<readonly [kind: string, key: string]>, kinds?: readonly string[]): Promise<void>;
}

/** Records a transaction is going to read: see {@link TransactionOptions.reads}. */
export interface ReadHint {
  /** Records by kind and key. */
  readonly records: ReadonlyArray<readonly [kind: string, key: string]>;
  /** Kinds read whole. */
  readonly kinds?: readonly string[];
}

/** Options of {@link Store.transaction}. */
export interface TransactionOptions {
  /**
   * A hint: what the transaction is going to read. A store that pays a round trip per statement
   * (PostgreSQL) fetches it with the transaction's first statement; others ignore it. Reads
   * return the same either way.
   */
  readonly reads?: ReadHint;
}

/** Options for {@link Store.events}. */
export interface EventQuery {
  /** Only events with `seq > afterSeq` (default 0: from the start). */
  readonly afterSeq?: number;
  /** At most this many (default: all). */
  readonly limit?: number;
}

/**
 * Where seat, user and activation state lives.
 *
 * @example
 * ```ts
 * const n = await store.transaction('lic-1', async (tx) => {
 *   const meta = (await tx.get('meta', 'counters')) ?? { users: 0 };
 *   tx.put('meta', 'counters', { users: Number(meta.users) + 1 });
 *   tx.append({ at: new Date().toISOString(), actor: 'admin', kind: 'user.added', details: {} });
 *   return Number(meta.users) + 1;
 * });
 * ```
 */
export interface Store {
  /**
   * Run `fn` atomically and in isolation for one license: either every write and event of `fn`
   * is committed, or (when `fn` throws or the store fails) none is. `fn` must have no effects
   * outside `tx`; a store may run it again after a serialization conflict.
   * Rejects with `ERR_STORE_UNAVAILABLE` when the store cannot be reached or written (state
   * unchanged) and `ERR_STORE_CORRUPT` when what it holds cannot be read.
   */
  transaction<T>(licenseId: string, fn: (tx: StoreTx) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Run `fn` over a consistent snapshot, without taking the license's write lock. */
  read<T>(licenseId: string, fn: (reader: StoreReader) => Promise<T>): Promise<T>;
  /** The audit trail of one license, in sequence order. */
  events(licenseId: string, query?: EventQuery): Promise<AuditEvent[]>;
  /** Release connections, handles and timers. The store must not be used afterwards. */
  close(): Promise<void>;
  /**
   * Every license id the store holds anything for (records or events), sorted. The vendor's
   * license registry lists licenses through it. Optional for stores written before it existed:
   * without it, the registry refuses to list (`ERR_STORE_UNAVAILABLE`) but still finds by id.
   */
  licenseIds?(): Promise<string[]>;
}

/** Record kinds, keys and license ids longer than this are refused (they are identifiers, not data). */
export const MAX_ID_LENGTH = 256;

/** A UTF-16 surrogate without its pair: not text. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Check a license id, record kind or key before it reaches a store: non-empty, at most
 * {@link MAX_ID_LENGTH} characters, no control characters (`\n` separates composite keys).
 * Throws `ERR_USAGE` naming `what`.
 */
export function checkId(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new LicenseError('ERR_USAGE', `${what} must be a non-empty string`, { field: what });
  }
  if (value.length > MAX_ID_LENGTH) {
    throw new LicenseError('ERR_USAGE', `${what} is ${value.length} characters long; the limit is ${MAX_ID_LENGTH}. Use a shorter identifier (an email address or a database id)`, { field: what, length: value.length });
  }
  // Control and invisible format characters (zero-width spaces, bidi overrides) and lone surrogates
  // would make two ids that look the same count as two users.
  if (/[\p{Cc}\p{Cf}]/u.test(value) || LONE_SURROGATE.test(value)) {
    throw new LicenseError('ERR_USAGE', `${what} contains control or invisible characters; use printable text`, { field: what });
  }
  if (value.trim() === '') throw new LicenseError('ERR_USAGE', `${what} must not be blank`, { field: what });
  return value;
}

/** Where a {@link BufferedTx} reads committed state from. */
export interface TxSource {
  /** One committed record, or undefined. */
  get(kind: string, key: string): Promise<JsonObject | undefined>;
  /** Committed records of `kind` whose key starts with `prefix` (`""` for all); any order. */
  list(kind: string, prefix: string): Promise<StoreEntry[]>;
  /** Several records, and every record of several kinds, in one round trip (optional: see {@link StoreTx.prefetch}). */
  getMany?(records: ReadonlyArray<readonly [kind: string, key: string]>, kinds: readonly string[]): Promise<Array<StoreEntry & { readonly kind: string }>>;
}

/** A pending write: a new value, or `undefined` for a delete. */
export interface PendingWrite {
  /** Record kind. */
  readonly kind: string;
  /** Record key within the kind. */
  readonly key: string;
  /** The new value, or `undefined` to delete the record. */
  readonly value: JsonObject | undefined;
}

const slot = (kind: string, key: string) => `${kind}\u0000${key}`;

/**
 * A {@link StoreTx} that buffers writes and events over committed state, for store
 * implementations: they read through `source`, run the caller's function, then persist
 * {@link BufferedTx.writes} and {@link BufferedTx.events} in one atomic step of their own.
 */
export class BufferedTx implements StoreTx {
  private readonly pending = new Map<string, PendingWrite>();
  private readonly appended: AuditEvent[] = [];
  // Committed state read so far (undefined: known absent), so a transaction that reads a record
  // twice pays for one read: the state cannot change under a transaction (the store holds the
  // license, or checks at commit that nothing moved).
  private readonly seen = new Map<string, JsonObject | undefined>();
  /** Every committed record of a kind, once listed or prefetched whole (sorted, and by key). */
  private readonly listed = new Map<string, { readonly sorted: StoreEntry[]; readonly byKey: Map<string, JsonObject> }>();

  /**
   * @param licenseId the license the transaction is bound to
   * @param lastSeq the sequence number of the license's newest committed event (0 when none)
   * @param source committed state
   */
  constructor(
    readonly licenseId: string,
    private lastSeq: number,
    private readonly source: TxSource,
  ) {}

  /** One record as this transaction sees it (its own writes first), or undefined. */
  async get(kind: string, key: string): Promise<JsonObject | undefined> {
    const w = this.pending.get(slot(kind, key));
    if (w !== undefined) return w.value === undefined ? undefined : structuredClone(w.value);
    const s = slot(kind, key);
    let v: JsonObject | undefined;
    if (this.seen.has(s)) v = this.seen.get(s);
    else {
      const all = this.listed.get(kind);
      v = all !== undefined ? all.byKey.get(key) : await this.source.get(kind, key);
      this.seen.set(s, v);
    }
    return v === undefined ? undefined : structuredClone(v);
  }

  /** Fetch records, and whole kinds, in one round trip where the store can (see {@link StoreTx.prefetch}). */
  async prefetch(records: ReadonlyArray<readonly [kind: string, key: string]>, kinds: readonly string[] = []): Promise<void> {
    if (this.source.getMany === undefined) return;
    const want = records.filter(([k, key]) => !this.seen.has(slot(k, key)) && !this.listed.has(k));
    const wholeKinds = kinds.filter((k) => !this.listed.has(k));
    if (want.length === 0 && wholeKinds.length === 0) return;
    this.seedMany({ records: want, kinds: wholeKinds }, await this.source.getMany(want, wholeKinds));
  }

  /**
   * For store implementations: what `hint` asked for, read along with the transaction's first
   * statement (`rows`: every committed record found; a hinted record not among them is absent).
   */
  seedMany(hint: ReadHint, rows: ReadonlyArray<StoreEntry & { readonly kind: string }>): void {
    const found = new Map(rows.map((r) => [slot(r.kind, r.key), r.value]));
    for (const [k, key] of hint.records) this.seen.set(slot(k, key), found.get(slot(k, key)));
    for (const k of hint.kinds ?? []) this.remember(k, rows.filter((r) => r.kind === k).map((r) => ({ key: r.key, value: r.value })));
  }

  /** Records of `kind` whose key starts with `prefix`, committed state merged with this transaction's writes, sorted by key. */
  async list(kind: string, prefix = ''): Promise<StoreEntry[]> {
    const merged = new Map<string, JsonObject>();
    const all = this.listed.get(kind);
    const committed = all !== undefined ? all.sorted.filter((e) => e.key.startsWith(prefix)).map((e) => ({ key: e.key, value: structuredClone(e.value) })) : await this.source.list(kind, prefix);
    if (all === undefined && prefix === '') this.remember(kind, committed.map((e) => ({ key: e.key, value: structuredClone(e.value) })));
    for (const e of committed) merged.set(e.key, e.value);
    for (const w of this.pending.values()) {
      if (w.kind !== kind || !w.key.startsWith(prefix)) continue;
      if (w.value === undefined) merged.delete(w.key);
      else merged.set(w.key, structuredClone(w.value));
    }
    return sortEntries([...merged].map(([key, value]) => ({ key, value })));
  }

  /** Keep every committed record of `kind` (copies nobody else holds). */
  private remember(kind: string, entries: StoreEntry[]): void {
    const sorted = sortEntries(entries);
    this.listed.set(kind, { sorted, byKey: new Map(sorted.map((e) => [e.key, e.value])) });
  }

  /** Buffer a create-or-replace (the value is copied). */
  put(kind: string, key: string, value: JsonObject): void {
    this.pending.set(slot(kind, key), { kind, key, value: structuredClone(value) });
  }

  /** Buffer a delete (no-op on commit when the record is absent). */
  delete(kind: string, key: string): void {
    this.pending.set(slot(kind, key), { kind, key, value: undefined });
  }

  /** Buffer an audit event; returns the sequence number it will have (`lastSeq` + 1, + 2, …). */
  append(event: AuditEventInput): number {
    this.lastSeq += 1;
    this.appended.push({ licenseId: this.licenseId, seq: this.lastSeq, at: event.at, actor: event.actor, kind: event.kind, details: structuredClone(event.details) });
    return this.lastSeq;
  }

  /** Every buffered write, at most one per record (the last one wins). */
  get writes(): PendingWrite[] {
    return [...this.pending.values()];
  }

  /** Every appended event with its sequence number, in order. */
  get events(): AuditEvent[] {
    return this.appended;
  }

  /** True when the transaction changed nothing (no write, no event): stores can skip the commit. */
  get empty(): boolean {
    return this.pending.size === 0 && this.appended.length === 0;
  }
}

/** Sort entries by key in code-unit order, the order every store returns. */
export function sortEntries(entries: StoreEntry[]): StoreEntry[] {
  return entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
