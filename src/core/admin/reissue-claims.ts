/**
 * What a re-issue changes in a license's claims: the one rule the CLI (`licit licenses reissue`),
 * the admin API (`POST /v1/admin/licenses/reissue`, `/seats`) and the portal share. It starts from
 * the newest key's claims, so every claim a change does not name is carried over as it was
 * (customer, issuer, fingerprint, user sign-in, metadata, ...). Pure: the signing and recording are
 * server/reissue.ts's, which needs the vendor's signing key.
 */
import { LicenseError } from '../errors.js';
import type { LicenseClaims, LicenseInput } from '../license/claims.js';

/**
 * The changes of one re-issue. An absent field keeps the claim; `null` removes it (no expiry, no
 * limit, no edition). Seat counts are set per type (`{ basic: 12 }` sets basic to 12 and keeps the
 * other types); a count of 0 keeps the type with no seats.
 */
export interface LicenseChanges {
  readonly expiresAt?: Date | null | undefined;
  readonly maintenanceExpiresAt?: Date | null | undefined;
  readonly edition?: string | null | undefined;
  readonly seats?: Readonly<Record<string, number>> | undefined;
  readonly addFeatures?: readonly string[] | undefined;
  readonly removeFeatures?: readonly string[] | undefined;
  readonly maxActivations?: number | null | undefined;
  readonly maxUsers?: number | null | undefined;
  readonly maxUserActivations?: number | null | undefined;
  readonly maxTransfers?: number | null | undefined;
  readonly graceDays?: number | undefined;
  readonly credits?: number | null | undefined;
  readonly carriedCredits?: number | undefined;
}

/** The fields of {@link LicenseChanges} that are a whole number or `null`. */
const LIMITS = ['maxActivations', 'maxUsers', 'maxUserActivations', 'maxTransfers', 'credits'] as const;

function whole(v: unknown, name: string): number {
  if (!Number.isSafeInteger(v) || (v as number) < 0) throw new LicenseError('ERR_USAGE', `${name} must be a whole number of at least 0, got ${String(v)}`, { field: name });
  return v as number;
}

/** Whether `changes` names any claim (a re-issue without one only renews the key's issue time). */
export function namesAChange(changes: LicenseChanges): boolean {
  return Object.values(changes).some((v) => v !== undefined && !(Array.isArray(v) && v.length === 0));
}

/**
 * The input of the new key: the current key's claims with `changes` applied. Refuses a change that
 * cannot be meant (a negative count, a feature both added and removed) with `ERR_USAGE`; the claims
 * themselves are checked again when the key is signed (`ERR_KEY_INVALID_CLAIM`).
 */
export function reissueInput(c: LicenseClaims, changes: LicenseChanges): LicenseInput {
  // Built from entries, as the claims are: a type named "__proto__" is a type, not an assignment the object swallows.
  const seats: Record<string, number> = Object.fromEntries([...Object.entries(c.seats), ...Object.entries(changes.seats ?? {}).map(([type, n]) => [type, whole(n, `seats ${type}`)] as const)]);
  const removed = new Set(changes.removeFeatures ?? []);
  const both = (changes.addFeatures ?? []).find((f) => removed.has(f));
  if (both !== undefined) throw new LicenseError('ERR_USAGE', `feature "${both}" is both added and removed; name it once`, { field: 'features' });
  const features = [...new Set([...c.features, ...(changes.addFeatures ?? [])])].filter((f) => !removed.has(f));
  // `undefined`: keep the claim; `null`: drop it; a value: the new claim.
  const pick = <T>(change: T | null | undefined, claim: T | undefined): T | undefined => (change === undefined ? claim : change === null ? undefined : change);
  const limits: Record<string, number | undefined> = {};
  for (const k of LIMITS) {
    const v = changes[k];
    limits[k] = pick(v === undefined || v === null ? v : whole(v, k), c[k]);
  }
  const input: LicenseInput = {
    licenseId: c.licenseId,
    customer: c.customer,
    issuer: c.issuer,
    edition: pick(changes.edition, c.edition),
    features,
    // A maintenance feature must stay among the features: one removed goes from both.
    maintenanceFeatures: c.maintenanceFeatures.filter((f) => features.includes(f)),
    seats,
    ...limits,
    selfResets: c.selfResets,
    selfResetDays: c.selfResetDays,
    notBefore: c.notBefore,
    expiresAt: pick(changes.expiresAt, c.expiresAt),
    maintenanceExpiresAt: pick(changes.maintenanceExpiresAt, c.maintenanceExpiresAt),
    graceDays: changes.graceDays === undefined ? c.graceDays : whole(changes.graceDays, 'graceDays'),
    leaseDays: c.leaseDays,
    carriedCredits: changes.carriedCredits === undefined ? c.carriedCredits : whole(changes.carriedCredits, 'carriedCredits'),
    fingerprint: c.fingerprint,
    allowSuppliedMachineId: c.allowSuppliedMachineId,
    userAuth: c.userAuth,
    meta: { ...c.meta },
  };
  for (const k of Object.keys(input) as (keyof LicenseInput)[]) if (input[k] === undefined) delete input[k];
  return input;
}
