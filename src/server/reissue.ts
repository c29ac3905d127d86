/**
 * Re-issuing a license: a new key for the same license id, signed from the newest key in the
 * vendor's registry with some claims changed (core/admin/reissue-claims.ts), and registered as
 * every key is (server/license-registry.ts), so installations get it with their next lease. The
 * one implementation behind `licit licenses reissue`, `POST /v1/admin/licenses/reissue` and
 * `/seats`, and the portal's Re-issue and Add seats forms.
 *
 * The newest key is read, the new one signed and registered in one store transaction: two
 * re-issues of one license at once cannot both start from the same key and lose one's change
 * (two seat top-ups add up). With an idempotency key the re-issue is recorded under it in that
 * transaction, so a retried automatic top-up whose answer was lost returns the first result
 * instead of adding the seats again.
 */
import { canonicalJson } from '../core/admin/canonical.js';
import { REGISTRY_KIND } from '../core/admin/registry.js';
import { reissueInput, type LicenseChanges } from '../core/admin/reissue-claims.js';
import { LicenseError } from '../core/errors.js';
import type { LicenseClaims } from '../core/license/claims.js';
import { inspectLicense } from '../core/license/inspect.js';
import type { JsonObject, JsonValue, Store } from '../core/store/store.js';
import { issueLicense, signedLicense } from '../issuer/issue.js';
import { toSigner, type SigningKeyInput } from '../issuer/signer.js';
import { sha256Hex } from '../node/crypto/digest.js';
import { KINDS } from './kinds.js';
import { registerLicenseIn, type SeatChange } from './license-registry.js';

export type { LicenseChanges } from '../core/admin/reissue-claims.js';

/** Where a re-issue works: the vendor's store, the vendor's signing key, a clock. */
export interface ReissueContext {
  readonly store: Store;
  /** The vendor's signing key (the license's signer, unless `rotate`). */
  readonly signingKey: SigningKeyInput;
  /** Milliseconds now (default `Date.now`): the new key's issue time. */
  readonly now?: (() => number) | undefined;
}

/** Who re-issues, and why. */
export interface ReissueOptions {
  /** `manual`: an administrator (CLI, API, portal); `auto`: an automatic top-up. On each `seats.changed` event. */
  readonly source: 'manual' | 'auto';
  /** Who, for the audit log (`admin`, `portal:vendor`, an OS user, ...). */
  readonly actor: string;
  /** Recorded as the key's issuer in the registry (default `actor`). */
  readonly issuedBy?: string | undefined;
  /** Sign with another vendor key than the license's newest (a key rotation). */
  readonly rotate?: boolean | undefined;
  /** The same key again returns the first re-issue's result (nothing signed or added); with other changes it is `ERR_IDEMPOTENCY_CONFLICT`. */
  readonly idempotencyKey?: string | undefined;
}

/** What a re-issue did. */
export interface Reissued {
  readonly licenseId: string;
  /** The new key (whitespace removed): send it to the customer; installations get it with their next lease. */
  readonly key: string;
  /** Its number among the license's keys (`licit licenses show`). */
  readonly issue: number;
  /** The claims it changed, as the registry records them (`{ from, to }` each). */
  readonly changes: Readonly<Record<string, { from: unknown; to: unknown }>>;
  /** Seat counts it changed, one `seats.changed` event each. */
  readonly seats: readonly SeatChange[];
  /** False when an idempotency key named an earlier re-issue: that one's result, nothing done now. */
  readonly reissued: boolean;
}

function notRegistered(licenseId: string): LicenseError {
  return new LicenseError('ERR_LICENSE_NOT_REGISTERED', `the registry holds no license ${licenseId}; record its key first (licit issue --store, POST /v1/admin/licenses, or the portal's Issue a license)`, { licenseId });
}

/**
 * Sign a new key of `licenseId` with `changes` applied to the newest key's claims, and record it.
 * Refused: a license the registry does not hold (`ERR_LICENSE_NOT_REGISTERED`), a revoked one
 * (`ERR_LICENSE_STATE`), a key of another signer unless `rotate` (`ERR_KEY_UNKNOWN_SIGNER`), an
 * expiry already past (`ERR_KEY_INVALID_CLAIM`); nothing is recorded then.
 */
export function reissueLicense(ctx: ReissueContext, licenseId: string, changes: LicenseChanges, options: ReissueOptions): Promise<Reissued> {
  return reissue(ctx, licenseId, () => changes, options, { op: 'reissue', changes: JSON.parse(JSON.stringify(changes)) as JsonValue });
}

/**
 * Add `n` seats of `type` to a license (the Licence Manager's "add licences", by hand or by an
 * automatic top-up): a re-issue with that type's count raised by `n` from the newest key's, one
 * `seats.changed` event with `source`. A type the license does not have is `ERR_UNKNOWN_USER_TYPE`
 * (a new type is a re-issue that sets its seats). Idempotent by `idempotencyKey`.
 */
export async function addSeats(ctx: ReissueContext, licenseId: string, type: string, n: number, options: ReissueOptions): Promise<Reissued & { type: string; from: number; to: number }> {
  if (!Number.isSafeInteger(n) || n < 1) throw new LicenseError('ERR_USAGE', `the number of seats to add must be a whole number of at least 1, got ${String(n)}`, { field: 'add' });
  const r = await reissue(
    ctx,
    licenseId,
    (c) => {
      // Own types only: "constructor" or "__proto__" is a type the license names, or none it has.
      const from = Object.hasOwn(c.seats, type) ? c.seats[type] : undefined;
      if (from === undefined) {
        const known = Object.keys(c.seats);
        throw new LicenseError('ERR_UNKNOWN_USER_TYPE', `license ${licenseId} has no user type "${type}"; it knows ${known.length === 0 ? 'no types at all' : known.map((t) => `"${t}"`).join(', ')} (to add a type, re-issue the license with its seats)`, { type, known });
      }
      return { seats: { [type]: from + n } };
    },
    options,
    { op: 'addSeats', type, n },
  );
  const s = r.seats.find((x) => x.type === type);
  return { ...r, type, from: s?.from ?? 0, to: s?.to ?? 0 };
}

async function reissue(ctx: ReissueContext, licenseId: string, change: (claims: LicenseClaims) => LicenseChanges, options: ReissueOptions, request: JsonObject): Promise<Reissued> {
  const now = ctx.now ?? Date.now;
  const signer = toSigner(ctx.signingKey);
  // Looked up first without a transaction: a mistyped id must not leave an empty license behind.
  if ((await ctx.store.read(licenseId, (r) => r.get(REGISTRY_KIND, 'info'))) === undefined) throw notRegistered(licenseId);
  const idem = options.idempotencyKey === undefined ? undefined : { id: sha256Hex(`licit-reissue\n${licenseId}\n${options.idempotencyKey}`).slice(0, 40), request: sha256Hex(canonicalJson(request)) };
  return ctx.store.transaction(licenseId, async (tx) => {
    if (idem !== undefined) {
      const prior = await tx.get(KINDS.reissue, idem.id);
      if (prior !== undefined) {
        if (prior.request !== idem.request) {
          throw new LicenseError('ERR_IDEMPOTENCY_CONFLICT', `the idempotency key "${options.idempotencyKey ?? ''}" was already used for another change of license ${licenseId}; use a new key for a new change`, { licenseId, idempotencyKey: options.idempotencyKey ?? '' });
        }
        return { ...(prior.result as unknown as Reissued), reissued: false };
      }
    }
    const info = await tx.get(REGISTRY_KIND, 'info');
    if (info === undefined) throw notRegistered(licenseId);
    if (info.state === 'revoked') throw new LicenseError('ERR_LICENSE_STATE', `license ${licenseId} is revoked; it cannot be re-issued (revoking is final: issue a new license)`, { licenseId, state: 'revoked', action: 'reissue' });
    if (options.rotate !== true && typeof info.kid === 'string' && info.kid !== signer.kid) {
      throw new LicenseError(
        'ERR_KEY_UNKNOWN_SIGNER',
        `license ${licenseId} was signed by key ${info.kid}, and this signing key is ${signer.kid}: nothing was recorded. Re-issue with the vendor's signing key of that license; if you are rotating keys (applications trust the new public key already), add --rotate (API: "rotate": true)`,
        { licenseId, kid: signer.kid, registeredKid: info.kid },
      );
    }
    const n = typeof info.issues === 'number' ? info.issues : 0;
    const newest = await tx.get(REGISTRY_KIND, `issue:${String(n).padStart(6, '0')}`);
    if (typeof newest?.text !== 'string') throw new LicenseError('ERR_STORE_CORRUPT', `the registry of license ${licenseId} lists ${n} keys but holds no text of key ${n}`, { licenseId });
    const claims = inspectLicense(newest.text).claims;
    const changes = change(claims);
    const input = reissueInput(claims, changes);
    const at = now();
    if (input.expiresAt instanceof Date && input.expiresAt.getTime() <= at) {
      throw new LicenseError('ERR_KEY_INVALID_CLAIM', `license ${licenseId} ${changes.expiresAt === undefined ? 'expired' : 'would expire'} on ${input.expiresAt.toISOString()}, before this re-issue; give a new expiry date in the future (or none)`, { claim: 'exp', licenseId });
    }
    const key = await issueLicense(input, { signingKey: signer, now: () => at });
    const r = await registerLicenseIn(tx, signedLicense(key), { actor: options.actor, issuedBy: options.issuedBy ?? options.actor, now: at, source: 'issuer', seatSource: options.source, seatsBefore: claims.seats });
    const result: Reissued = { licenseId, key: key.replace(/\s+/g, ''), issue: r.outcome === 'unchanged' ? n : n + 1, changes: r.changes, seats: r.seats, reissued: true };
    if (idem !== undefined) tx.put(KINDS.reissue, idem.id, { key: options.idempotencyKey ?? '', request: idem.request, at: new Date(at).toISOString(), result: result as unknown as JsonObject });
    return result;
  });
}

