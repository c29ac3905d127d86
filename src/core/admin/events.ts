/**
 * The audit events of administration: seat counts changed (licenses added), credits topped up or
 * consumed as the server learns of them, alerts raised and cleared, automatic top-ups asked for.
 * They go through the same store and chain as the seat events, so reports and the log see one
 * history. The license server writes the first three kinds; {@link AlertMonitor} the rest.
 */
import { checkId, type JsonObject, type Store } from '../store/store.js';
import { LicenseError } from '../errors.js';
import { auditEvent } from '../store/audit-event.js';

// The kinds and the builder live with every other kind in core/store/audit-event.ts.
export { ADMIN_KINDS, type AdminKind } from '../store/audit-event.js';

/** The one event builder, {@link auditEvent}, under the name administration code has used. */
export const adminEvent = auditEvent;

/** Where a change came from: an administrator by hand, the automatic top-up hook, or the vendor (a new license key). */
export type ChangeSource = 'manual' | 'auto' | 'vendor';

const SOURCES: readonly string[] = ['manual', 'auto', 'vendor'];

function count(v: unknown, what: string, min = 0): number {
  if (!Number.isSafeInteger(v) || (v as number) < min) throw new LicenseError('ERR_USAGE', `${what} must be a whole number of at least ${min}, got ${String(v)}`, { field: what });
  return v as number;
}

function source(v: unknown): ChangeSource {
  if (v === undefined) return 'manual';
  if (typeof v !== 'string' || !SOURCES.includes(v)) throw new LicenseError('ERR_USAGE', `source must be one of ${SOURCES.join(', ')}`);
  return v as ChangeSource;
}

/** Common options of the `record…` helpers. */
export interface RecordOptions {
  /** Who did it (default `"admin"`). */
  readonly actor?: string;
  /** When (default now). */
  readonly at?: Date | number;
  /** Where the change came from (default `"manual"`). */
  readonly source?: ChangeSource;
}

/**
 * Record that the licensed seat count of one user type changed from `from` to `to` (a top-up
 * adds, a downgrade removes). Reports count `to - from > 0` as licenses added.
 *
 * @example
 * ```ts
 * await recordSeatsChange(store, 'lic-1', { type: 'basic', from: 10, to: 15, source: 'auto' })
 * ```
 */
export async function recordSeatsChange(store: Store, licenseId: string, change: { type: string; from: number; to: number } & RecordOptions): Promise<number> {
  checkId(change.type, 'seat type');
  const details = { type: change.type, from: count(change.from, 'from'), to: count(change.to, 'to'), licensed: change.to, source: source(change.source) };
  return store.transaction(licenseId, async (tx) => tx.append(adminEvent(change.at ?? Date.now(), change.actor ?? 'admin', 'seats.changed', details)));
}

/** Record that `credits` credits were added to the license (a top-up token applied). */
export async function recordCreditTopUp(store: Store, licenseId: string, topUp: { credits: number; tokenId?: string } & RecordOptions): Promise<number> {
  const details: JsonObject = { credits: count(topUp.credits, 'credits', 1), source: source(topUp.source) };
  if (topUp.tokenId !== undefined) details.tokenId = checkId(topUp.tokenId, 'token id');
  return store.transaction(licenseId, async (tx) => tx.append(adminEvent(topUp.at ?? Date.now(), topUp.actor ?? 'admin', 'credits.topped-up', details)));
}

/**
 * Record credits consumed as the server learns of them (a renewal or usage report carrying a new
 * total): `amount` is the increase since the last report, `consumed` the new running total.
 */
export async function recordCreditUsage(store: Store, licenseId: string, usage: { amount: number; consumed?: number; remaining?: number } & Omit<RecordOptions, 'source'>): Promise<number> {
  const details: JsonObject = { amount: count(usage.amount, 'amount') };
  if (usage.consumed !== undefined) details.consumed = count(usage.consumed, 'consumed');
  if (usage.remaining !== undefined) details.remaining = count(usage.remaining, 'remaining');
  return store.transaction(licenseId, async (tx) => tx.append(adminEvent(usage.at ?? Date.now(), usage.actor ?? 'system', 'credits.consumed', details)));
}
