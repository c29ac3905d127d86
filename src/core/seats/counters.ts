/**
 * The per-license counters record. Counts are kept, not recomputed, so a check-and-insert reads one
 * record instead of scanning every seat; they change only inside the same transaction as the
 * records they count, so they cannot drift.
 */
import { LicenseError } from '../errors.js';
import type { JsonObject, StoreReader, StoreTx } from '../store/store.js';

/** How many of each counted thing a license holds. */
export interface Counters {
  /** Named seats in use per user type. */
  seats: Record<string, number>;
  /** License users. */
  users: number;
  /** Device activations, all users together. */
  activations: number;
  /** Transfers made so far (never decreases). */
  transfers: number;
}

export const COUNTERS_KIND = 'meta';
export const COUNTERS_KEY = 'counters';

const count = (v: unknown, what: string): number => {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new LicenseError('ERR_STORE_CORRUPT', `the store's counter "${what}" holds ${JSON.stringify(v)}, not a count; restore the store from a backup`, { counter: what });
  }
  return v;
};

/** Read the counters of the license behind `r` (zeros for a license never seen). */
export async function readCounters(r: StoreReader): Promise<Counters> {
  const raw = await r.get(COUNTERS_KIND, COUNTERS_KEY);
  const seatsRaw = raw?.seats;
  // Null prototype: user types are caller text, and "constructor" or "__proto__" must be plain keys.
  const seats: Record<string, number> = Object.create(null) as Record<string, number>;
  if (seatsRaw !== undefined) {
    if (typeof seatsRaw !== 'object' || seatsRaw === null || Array.isArray(seatsRaw)) {
      throw new LicenseError('ERR_STORE_CORRUPT', "the store's seat counters are not a table; restore the store from a backup");
    }
    for (const [t, n] of Object.entries(seatsRaw)) seats[t] = count(n, `seats.${t}`);
  }
  return { seats, users: count(raw?.users, 'users'), activations: count(raw?.activations, 'activations'), transfers: count(raw?.transfers, 'transfers') };
}

/** Write the counters back (types with no seat left are dropped, so the record stays small). */
export function writeCounters(tx: StoreTx, c: Counters): void {
  const seats: JsonObject = Object.create(null) as JsonObject;
  for (const [t, n] of Object.entries(c.seats)) if (n > 0) seats[t] = n;
  tx.put(COUNTERS_KIND, COUNTERS_KEY, { seats, users: c.users, activations: c.activations, transfers: c.transfers });
}
