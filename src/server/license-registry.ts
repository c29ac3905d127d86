/**
 * The licenses a server knows: the newest issue of each key, registered by an admin or by the first
 * request that proves it, and the proof every request must carry (the license key itself).
 */
import { LicenseError, isLicenseError } from '../core/errors.js';
import type { LicenseClaims } from '../core/license/claims.js';
import { authenticLicenseClaims } from '../core/license/verify.js';
import type { ExchangeRequest } from '../core/exchange/request.js';
import type { License } from '../core/license/license.js';
import type { Store, StoreTx } from '../core/store/store.js';
import { adminEvent, type ChangeSource } from '../core/admin/events.js';
import { assertLicenseActive, recordIssueIn } from '../core/admin/registry.js';
import { indexedRegistration } from '../core/admin/license-index.js';
import { KINDS } from './kinds.js';
import type { VendorContext } from './vendor-types.js';

/** The registered key text of a license, or undefined when this server does not know it. */
export async function registeredText(store: Store, licenseId: string): Promise<string | undefined> {
  const stored = await store.read(licenseId, (r) => r.get(KINDS.license, 'key'));
  return typeof stored?.text === 'string' ? stored.text : undefined;
}

/**
 * The registered key text, read in the same snapshot as the vendor's say on the license: a
 * suspended or revoked license is refused here (`ERR_LICENSE_SUSPENDED`, `ERR_LICENSE_REVOKED`)
 * unless `allowInactive` (a deactivation or a usage report still goes through: they give back or
 * tell, never take).
 */
async function registeredActiveText(store: Store, licenseId: string, allowInactive: boolean): Promise<string | undefined> {
  return store.read(licenseId, async (r) => {
    if (!allowInactive) await assertLicenseActive(r, licenseId);
    const stored = await r.get(KINDS.license, 'key');
    return typeof stored?.text === 'string' ? stored.text : undefined;
  });
}

/**
 * Register (or replace with a newer issue of) a license key: the key the server answers with, and
 * the vendor's registry entry (core/admin/registry.ts: who issued it, each re-issue and what it
 * changed, the license's state), in one transaction.
 */
export async function registerLicense(v: Pick<VendorContext, 'store' | 'now'>, license: License, actor: string, issuedBy?: string): Promise<void> {
  // The license index (core/admin/license-index.ts) learns of it around the transaction.
  await indexedRegistration(v.store, license.id, () => v.store.transaction(license.id, (tx) => registerLicenseIn(tx, license, { actor, issuedBy, now: v.now() })), v.now);
}

/** A seat count that a newly registered key changed. */
export interface SeatChange {
  readonly type: string;
  readonly from: number;
  readonly to: number;
}

/**
 * {@link registerLicense} inside `tx` (a re-issue signs and registers in the transaction that read
 * the key it starts from). Each seat type whose count the key changes is a `seats.changed` event
 * with `seatSource` (default `vendor`: a key registered as it came; a re-issue says `manual` or
 * `auto`, which reports count as automatic top-ups). Returns what the registry recorded as changed
 * (core/admin/registry.ts) and those seat changes.
 */
export async function registerLicenseIn(
  tx: StoreTx,
  license: License,
  by: { actor: string; issuedBy?: string | undefined; now: number; source?: 'issuer' | 'admin' | 'exchange'; seatSource?: ChangeSource; seatsBefore?: Readonly<Record<string, number>> },
): Promise<{ outcome: 'recorded' | 'reissued' | 'unchanged'; changes: Record<string, { from: unknown; to: unknown }>; seats: SeatChange[] }> {
  const { actor, now: at } = by;
  const cur = await tx.get(KINDS.license, 'key');
  if (typeof cur?.issuedAt === 'string' && new Date(cur.issuedAt) > license.issuedAt) {
    throw new LicenseError('ERR_LICENSE_SUPERSEDED', `the server holds a newer issue of license ${license.id} (${cur.issuedAt}); an older one never replaces it. Register the newest key the vendor issued`, { licenseId: license.id, registeredIssuedAt: cur.issuedAt, issuedAt: license.issuedAt.toISOString() });
  }
  // The registry entry (and the license.registered event); nothing when this very key is recorded.
  const { outcome, changes } = await recordIssueIn(tx, license, { actor, issuedBy: by.issuedBy, source: by.source ?? (actor === 'system' ? 'exchange' : actor === 'issuer' ? 'issuer' : 'admin'), now: at });
  if (cur?.text === license.text) return { outcome, changes, seats: [] };
  tx.put(KINDS.license, 'key', { text: license.text, issuedAt: license.issuedAt.toISOString(), seats: { ...license.seats } });
  // A re-issued key with other seat counts: licenses added (or removed), as reports count them.
  // `seatsBefore`: a re-issue of a license only the registry held (issueLicense with a store) knows them from its key.
  const before = cur?.seats !== null && typeof cur?.seats === 'object' && !Array.isArray(cur.seats) ? (cur.seats as Record<string, number>) : by.seatsBefore;
  const changed: SeatChange[] = [];
  if (before !== undefined) {
    for (const type of new Set([...Object.keys(before), ...Object.keys(license.seats)])) {
      const from = typeof before[type] === 'number' ? before[type] : 0;
      const to = license.seatsFor(type);
      if (from === to) continue;
      tx.append(adminEvent(at, actor, 'seats.changed', { type, from, to, licensed: to, source: by.seatSource ?? 'vendor' }));
      changed.push({ type, from, to });
    }
  }
  return { outcome, changes, seats: changed };
}

/**
 * Proof of license, the part that needs no store: the request must carry a license key signed by
 * the vendor for the license it names. The key proves the requester holds that license (a license
 * id alone proves nothing); it may be an older or newer issue than the registered one, and may
 * have expired (the registered issue decides what is granted). Checked before any transaction.
 */
export async function proveOffer(v: Pick<VendorContext, 'publicKeys'>, req: ExchangeRequest): Promise<LicenseClaims> {
  if (req.licenseKey === undefined) {
    throw new LicenseError('ERR_EXCHANGE_UNPROVEN', `the request for license ${req.licenseId} carries no license key; send the license key installed on this machine with the request (licit does so itself)`, { licenseId: req.licenseId, reason: 'missing' });
  }
  let offered: LicenseClaims;
  try {
    offered = await authenticLicenseClaims(req.licenseKey, v.publicKeys);
  } catch (e) {
    if (!isLicenseError(e)) throw e;
    // One message whatever failed: a forger learns nothing about what was close.
    // The signer's key id is public (it is in the key); it lets an operator see a wrong --signing-key.
    const kid = e.code === 'ERR_KEY_UNKNOWN_SIGNER' && typeof e.details.kid === 'string' ? { kid: e.details.kid } : {};
    throw new LicenseError('ERR_EXCHANGE_UNPROVEN', `the license key sent with the request is not a license key of this vendor; send the key installed on this machine, or ask the vendor for it`, { licenseId: req.licenseId, reason: e.code, ...kid });
  }
  if (offered.licenseId !== req.licenseId) {
    throw new LicenseError('ERR_EXCHANGE_UNPROVEN', `the license key sent is for license ${offered.licenseId}, the request names ${req.licenseId}`, { licenseId: req.licenseId, reason: 'other-license' });
  }
  return offered;
}

/**
 * The license a proven request is answered for (run {@link proveOffer} first), read from `v.store`
 * (the exchange's transaction): the registered (newest) issue, checked against the request's
 * machine. A license the server does not know is {@link NotRegistered}: the caller registers the
 * offered key in a transaction of its own (a first proof registers the license whatever the
 * exchange then decides) and runs the exchange again.
 */
export async function registeredLicense(v: VendorContext, req: ExchangeRequest & { licenseKey: string }): Promise<{ license: License; replaced: boolean }> {
  const storedText = await registeredActiveText(v.store, req.licenseId, req.operation === 'deactivate' || req.operation === 'usage');
  if (storedText === undefined) throw new NotRegistered(req.licenseId);
  const license = await v.verifyKey(storedText, req.fingerprint);
  // A lease carries the registered key only to a requester that proved this license (above).
  return { license, replaced: req.licenseKey.replace(/\s+/g, '') !== license.text };
}

/** Register the key a request proved (its first proof of a license the server does not know). */
export async function registerOffered(v: VendorContext, req: ExchangeRequest & { licenseKey: string }): Promise<void> {
  await registerLicense(v, await v.verifyKey(req.licenseKey, req.fingerprint), 'system');
}

/** Internal signal of {@link registeredLicense}; a LicenseError so that every store passes it through as it is. */
export class NotRegistered extends LicenseError {
  constructor(licenseId: string) {
    super('ERR_LICENSE_NOT_REGISTERED', `this server does not know license ${licenseId} yet`, { licenseId });
  }
}
