/**
 * {@link withAuditChain}: a {@link Store} whose every audit event is hash-chained at write time.
 *
 * Why a wrapper and not a change inside each store: linking an event needs the previous hash, an
 * asynchronous read, while `StoreTx.append` is synchronous and the stores read the buffered
 * events synchronously at commit. The wrapper reads the head once at the start of each
 * transaction (inside it, under the license's lock), links each appended event as it comes, and
 * writes the new head in the same transaction, so the chain and the events commit together on
 * `MemoryStore`, `FileStore` and `PostgresStore` alike.
 */
import { LicenseError } from '../errors.js';
import type { AuditEvent, AuditEventInput, EventQuery, JsonObject, Store, StoreEntry, StoreReader, StoreTx, TransactionOptions } from '../store/store.js';
import { CHAIN_FIELD, HEAD_KEY, HEAD_KIND, RAW, genesisHash, isAuditHead, linkEvent, type AuditHead } from './audit-chain.js';

export { rawEvents } from './audit-chain.js';

const CHAINED = Symbol.for('licit.auditChain');

/**
 * Internal: the store's event count differs from the chain head. A LicenseError so that stores
 * pass it through unchanged (they wrap foreign errors); never escapes {@link withAuditChain}
 * unless the count keeps moving.
 */
class Resync extends LicenseError {
  constructor(
    licenseId: string,
    readonly lastSeq: number,
  ) {
    super('ERR_AUDIT_TAMPERED', `the audit log of license "${licenseId}" holds events the hash chain does not cover (written by a store not wrapped with withAuditChain); run \`licit log\` to see where`, { licenseId, lastSeq });
  }
}

/** A transaction that links each appended event to the one before. */
class ChainTx implements StoreTx {
  private prev: string;
  private head: AuditHead | undefined;

  constructor(
    private readonly inner: StoreTx,
    start: AuditHead | undefined,
  ) {
    this.prev = start?.hash ?? genesisHash(inner.licenseId);
  }

  get licenseId(): string {
    return this.inner.licenseId;
  }

  get(kind: string, key: string): Promise<JsonObject | undefined> {
    return this.inner.get(kind, key);
  }

  list(kind: string, prefix?: string): Promise<StoreEntry[]> {
    return this.inner.list(kind, prefix);
  }

  async prefetch(records: ReadonlyArray<readonly [kind: string, key: string]>, kinds?: readonly string[]): Promise<void> {
    await this.inner.prefetch?.(records, kinds);
  }

  put(kind: string, key: string, value: JsonObject): void {
    reserved(kind, key);
    this.inner.put(kind, key, value);
  }

  delete(kind: string, key: string): void {
    reserved(kind, key);
    this.inner.delete(kind, key);
  }

  append(event: AuditEventInput): number {
    // The number is part of what is hashed, so it must be known before the store numbers the
    // event: it is the head's number + 1, checked against what the store returns.
    const seq = (this.head?.seq ?? this.startSeq) + 1;
    const linked = linkEvent(this.licenseId, seq, event, this.prev);
    const got = this.inner.append({ at: event.at, actor: event.actor, kind: event.kind, details: linked.details });
    // The log holds events the chain does not cover (written around the wrapper): run the
    // transaction again numbering from the store's count. The chain then links over the gap and
    // verification names the first unchained event, while seats keep working.
    if (got !== seq) throw new Resync(this.licenseId, got - 1);
    this.prev = linked.hash;
    this.head = { seq, hash: linked.hash };
    return seq;
  }

  /** Sequence number of the head when the transaction started. */
  startSeq = 0;

  /** Write the new head, when events were appended. */
  finish(): void {
    if (this.head !== undefined) this.inner.put(HEAD_KIND, HEAD_KEY, { seq: this.head.seq, hash: this.head.hash });
  }
}

function reserved(kind: string, key: string): void {
  if (kind === HEAD_KIND && key === HEAD_KEY) throw new LicenseError('ERR_USAGE', `the record ${HEAD_KIND}/${HEAD_KEY} is the audit chain head; licit writes it`);
}

/**
 * Wrap a store so that every audit event written through it is hash-chained and the chain head is
 * kept current. Reads, `events()` and `close()` pass through. Wrapping twice returns the same
 * wrapper. Wrap the store *everywhere* it is written (app, license server, CLI): an event written
 * around the wrapper breaks the chain, and the next chained write refuses with
 * `ERR_AUDIT_TAMPERED` rather than hide it.
 *
 * @example
 * ```ts
 * const store = withAuditChain(new FileStore('/var/lib/myapp/licit'))
 * await new SeatManager(store, license).assign('ann@example.com', 'basic')
 * const log = await readVerifiedLog(store, license.id) // throws ERR_AUDIT_TAMPERED when edited
 * ```
 */
export function withAuditChain(store: Store): Store {
  if ((store as { [CHAINED]?: boolean })[CHAINED] === true) return store;
  const wrapped: Store & { [CHAINED]: boolean; [RAW]: Store } = {
    [CHAINED]: true,
    transaction<T>(licenseId: string, fn: (tx: StoreTx) => Promise<T>, options?: TransactionOptions): Promise<T> {
      const attempt = (lastSeq: number | undefined) =>
        store.transaction(licenseId, async (tx) => {
          const raw = await tx.get(HEAD_KIND, HEAD_KEY);
          // A malformed head restarts the chain at genesis; verification reports the break.
          const head = isAuditHead(raw) ? raw : undefined;
          const ctx = new ChainTx(tx, head);
          ctx.startSeq = lastSeq ?? head?.seq ?? 0;
          const value = await fn(ctx);
          ctx.finish();
          return value;
        }, options);
      return (async () => {
        let lastSeq: number | undefined;
        for (let i = 0; ; i++) {
          try {
            return await attempt(lastSeq);
          } catch (e) {
            if (!(e instanceof Resync) || i >= 4) throw e;
            lastSeq = e.lastSeq;
          }
        }
      })();
    },
    read<T>(licenseId: string, fn: (reader: StoreReader) => Promise<T>): Promise<T> {
      return store.read(licenseId, fn);
    },
    // Callers see the details they wrote; readVerifiedLog reads the links through rawEvents().
    async events(licenseId: string, query?: EventQuery) {
      return (await store.events(licenseId, query)).map(stripChain);
    },
    [RAW]: store,
    ...(store.licenseIds === undefined ? {} : { licenseIds: () => (store.licenseIds as () => Promise<string[]>).call(store) }),
    close() {
      return store.close();
    },
  };
  return wrapped;
}

function stripChain(e: AuditEvent): AuditEvent {
  if (!Object.hasOwn(e.details, CHAIN_FIELD)) return e;
  const details = { ...e.details };
  delete details[CHAIN_FIELD];
  return { ...e, details };
}

/** True when `store` came from {@link withAuditChain}. */
export function isAuditChained(store: Store): boolean {
  return (store as { [CHAINED]?: boolean })[CHAINED] === true;
}

/**
 * A {@link Store} whose transactions and reads of `tx.licenseId` all run inside `tx`, a transaction
 * the caller already holds open on `base`: code written against `Store` (activations, the
 * registry, the exchange's records) joins the caller's transaction instead of opening its own, so
 * a whole exchange reads one snapshot and commits once. Its writes become visible to others only
 * when the caller's transaction commits; `events()` reads the committed trail. When `base` is
 * chained, `tx` already links events, so the joined store counts as chained too (no second link).
 */
export function joinTransaction(tx: StoreTx, base: Store): Store {
  const same = (licenseId: string) => {
    if (licenseId !== tx.licenseId) throw new LicenseError('ERR_INTERNAL', `a transaction of license "${tx.licenseId}" was asked for license "${licenseId}"`);
  };
  return {
    ...(isAuditChained(base) ? { [CHAINED]: true } : {}),
    async transaction<T>(licenseId: string, fn: (t: StoreTx) => Promise<T>, options?: TransactionOptions): Promise<T> {
      same(licenseId);
      // The joined transaction is open already: its hint becomes a prefetch.
      if (options?.reads !== undefined) await tx.prefetch?.(options.reads.records, options.reads.kinds);
      return fn(tx);
    },
    read<T>(licenseId: string, fn: (r: StoreReader) => Promise<T>): Promise<T> {
      same(licenseId);
      return fn(tx);
    },
    events: (licenseId: string, query?: EventQuery) => base.events(licenseId, query),
    close: async () => undefined,
  };
}
