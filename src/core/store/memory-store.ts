/**
 * {@link Store} in memory, for tests and for single-process apps that keep no state across restarts.
 * Transactions of one license run one after another (a promise queue per license), so the same
 * atomicity the durable stores give across processes holds here within one process.
 */
import { LicenseError } from '../errors.js';
import { BufferedTx, checkId, sortEntries, type AuditEvent, type EventQuery, type JsonObject, type Store, type StoreEntry, type StoreReader, type StoreTx } from './store.js';

interface LicenseState {
  readonly records: Map<string, Map<string, JsonObject>>;
  readonly events: AuditEvent[];
  /** Tail of the queue of transactions on this license. */
  queue: Promise<unknown>;
}

/**
 * A {@link Store} held in this process's memory.
 *
 * @example
 * ```ts
 * const seats = new SeatManager(new MemoryStore(), { id: 'lic-1', seats: { basic: 2 } });
 * await seats.assign('ann@example.com', 'basic');
 * ```
 */
export class MemoryStore implements Store {
  private readonly licenses = new Map<string, LicenseState>();
  private closed = false;

  private state(licenseId: string): LicenseState {
    if (this.closed) throw new LicenseError('ERR_STORE_UNAVAILABLE', 'this MemoryStore was closed; create a new one');
    checkId(licenseId, 'license id');
    let s = this.licenses.get(licenseId);
    if (s === undefined) {
      s = { records: new Map(), events: [], queue: Promise.resolve() };
      this.licenses.set(licenseId, s);
    }
    return s;
  }

  /** Queue `fn` behind every earlier transaction of the license. */
  private serial<T>(s: LicenseState, fn: () => Promise<T>): Promise<T> {
    const run = s.queue.then(fn, fn);
    s.queue = run.catch(() => undefined);
    return run;
  }

  private source(s: LicenseState) {
    return {
      get: async (kind: string, key: string) => {
        const v = s.records.get(kind)?.get(key);
        return v === undefined ? undefined : structuredClone(v);
      },
      list: async (kind: string, prefix: string): Promise<StoreEntry[]> => {
        const out: StoreEntry[] = [];
        for (const [key, value] of s.records.get(kind) ?? []) if (key.startsWith(prefix)) out.push({ key, value: structuredClone(value) });
        return sortEntries(out);
      },
    };
  }

  async transaction<T>(licenseId: string, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const s = this.state(licenseId);
    return this.serial(s, async () => {
      const tx = new BufferedTx(licenseId, s.events.length, this.source(s));
      const result = await fn(tx);
      // Commit in one synchronous step: nothing can observe half of it.
      for (const w of tx.writes) {
        let byKind = s.records.get(w.kind);
        if (byKind === undefined) s.records.set(w.kind, (byKind = new Map()));
        if (w.value === undefined) byKind.delete(w.key);
        else byKind.set(w.key, w.value);
      }
      s.events.push(...tx.events);
      return result;
    });
  }

  async read<T>(licenseId: string, fn: (reader: StoreReader) => Promise<T>): Promise<T> {
    const s = this.state(licenseId);
    // Queued like a transaction so that a reader never sees one commit's writes and not another's.
    return this.serial(s, () => fn({ licenseId, ...this.source(s), list: (kind, prefix = '') => this.source(s).list(kind, prefix) }));
  }

  async events(licenseId: string, query: EventQuery = {}): Promise<AuditEvent[]> {
    const s = this.state(licenseId);
    const after = query.afterSeq ?? 0;
    const out = s.events.filter((e) => e.seq > after);
    return structuredClone(query.limit === undefined ? out : out.slice(0, query.limit));
  }

  async licenseIds(): Promise<string[]> {
    if (this.closed) throw new LicenseError('ERR_STORE_UNAVAILABLE', 'this MemoryStore was closed; create a new one');
    // A read of an unknown license creates an empty entry: only those holding something count.
    return [...this.licenses].filter(([, s]) => s.events.length > 0 || [...s.records.values()].some((m) => m.size > 0)).map(([id]) => id).sort();
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
