/**
 * What an exchange reads, and how it reads it in few round trips: everything it is going to need
 * asked for at once (one query on PostgreSQL), and the top-up tokens a lease carries.
 */
import { REGISTRY_KIND } from '../core/admin/registry.js';
import type { ExchangeRequest } from '../core/exchange/request.js';
import { ACT, USER, actKey } from '../core/seats/activation-records.js';
import { COUNTERS_KEY, COUNTERS_KIND } from '../core/seats/counters.js';
import { normalizeUserId } from '../core/seats/user-id.js';
import type { ReadHint, Store, StoreTx } from '../core/store/store.js';
import { KINDS } from './kinds.js';

/** Top-up tokens a lease carries at most (the newest). */
export const MAX_TOPUPS = 64;

/**
 * What an exchange is going to read, asked for at once: on PostgreSQL with the transaction's first
 * statement instead of one round trip per record (the user is the request's, or the default;
 * another user's records are read as they are needed). Undefined for a user id no store holds:
 * the exchange refuses it where it reads it.
 */
export function exchangeReads(req: ExchangeRequest, defaultUser: string): ReadHint | undefined {
  let user: string;
  try {
    user = normalizeUserId(req.user ?? defaultUser);
  } catch {
    return undefined;
  }
  const id = req.installationId;
  return {
    records: [
      [KINDS.license, 'key'],
      [REGISTRY_KIND, 'info'],
      [KINDS.installation, id],
      [ACT, actKey(user, id)],
      [USER, user],
      [REGISTRY_KIND, `device:${id}`],
      [REGISTRY_KIND, `user:${user}`],
      [KINDS.credits, 'total'],
      [KINDS.machine, 'built'],
      [COUNTERS_KIND, COUNTERS_KEY],
    ],
    kinds: [KINDS.topup],
  };
}

/**
 * Fetch `reads` in `tx` where the store did not already with the transaction's first statement
 * (a store wrapper that drops the hint): one round trip on PostgreSQL, nothing when all is read.
 */
export async function prefetchExchange(tx: StoreTx, reads: ReadHint | undefined): Promise<void> {
  if (reads !== undefined) await tx.prefetch?.(reads.records, reads.kinds);
}

/** The newest top-up tokens stored for a license (a lease carries at most {@link MAX_TOPUPS}). */
export function topUpTokens(store: Store, licenseId: string): Promise<string[]> {
  return store.read(licenseId, async (r) => (await r.list(KINDS.topup)).map((e) => e.value.token).filter((t): t is string => typeof t === 'string').slice(-MAX_TOPUPS));
}
