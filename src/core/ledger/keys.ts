/**
 * The idempotency keys a ledger remembers: the key of each of the last {@link KEY_WINDOW} consumes
 * that carried one, so a retry after an error, a reopen or in another process is answered with the
 * original consume instead of charging again. Built from the chain on every full read (so it
 * survives reopening and sees what other processes wrote) and extended as records are appended.
 *
 * Bounded, not complete: keys live in the records forever, but memory holds only the newest
 * {@link KEY_WINDOW} (at most about 20 MB with 128-byte keys). A retry comes seconds or minutes
 * after its error, not 65,536 keyed consumes later; a key older than that is charged as new.
 */
import type { KeyedConsume } from './plan.js';
import type { LedgerRecord } from './record.js';

/** How many keyed consumes are remembered (the newest). */
export const KEY_WINDOW = 65_536;

/** The newest keyed consumes of one chain, by key. */
export class IdempotencyIndex {
  // Insertion order is age: the first entry is the oldest, evicted first.
  readonly #byKey = new Map<string, KeyedConsume>();

  constructor(readonly window: number = KEY_WINDOW) {}

  /** The consume recorded under `key`, if remembered. */
  get(key: string): KeyedConsume | undefined {
    return this.#byKey.get(key);
  }

  /** How many keys are remembered. */
  get size(): number {
    return this.#byKey.size;
  }

  /** Every remembered key, oldest first (for a snapshot). */
  entries(): [string, KeyedConsume][] {
    return [...this.#byKey];
  }

  /** Forget everything, then remember `entries` (oldest first), e.g. from a snapshot. */
  load(entries: Iterable<readonly [string, KeyedConsume]>): void {
    this.#byKey.clear();
    for (const [k, c] of entries) this.#byKey.set(k, c);
  }

  /** Forget everything (before re-reading a chain from its first record). */
  clear(): void {
    this.#byKey.clear();
  }

  /**
   * Remember the keys of `records`, which continue a chain whose carried total before them was
   * `carried` (0 before the first record). Returns the carried total after them.
   */
  add(records: Iterable<LedgerRecord>, carried: number): number {
    let c = carried;
    for (const r of records) {
      if (r.kind === 'carry') c += r.amount;
      const key = r.idempotencyKey;
      if (key === undefined) continue;
      // A key reused past the window: the newest record under it is the one a retry means.
      this.#byKey.delete(key);
      this.#byKey.set(key, { seq: r.seq, amount: r.amount, consumed: r.consumed, toppedUp: r.toppedUp, spent: r.consumed - c });
      if (this.#byKey.size > this.window) this.#byKey.delete(this.#byKey.keys().next().value as string);
    }
    return c;
  }
}
