/** Issuing license keys and top-up tokens. */
import { License } from '../core/license/license.js';
import { inspectLicense } from '../core/license/inspect.js';
import { evaluateStatus } from '../core/license/policy.js';
import { assertSameSigner, recordIssue } from '../core/admin/registry.js';
import type { Store } from '../core/store/store.js';
import { isPrintableText } from '../core/codec/text.js';
import { claimsToMap, normalizeInput, type LicenseInput } from '../core/license/claims.js';
import { sealEnvelope } from '../core/crypto/envelope.js';
import { LicenseError } from '../core/errors.js';
import { toClock, type NowOption } from '../core/time/clock.js';
import { topUpClaims } from '../core/exchange/topup.js';
import { Fingerprint } from '../core/fingerprint/fingerprint.js';
import { toSigner, type SigningKeyInput } from './signer.js';

/** Options of {@link issueLicense} and {@link issueTopUp}. */
export interface IssueOptions {
  /** The vendor's private key. */
  readonly signingKey: SigningKeyInput;
  /**
   * The clock whose time is recorded as the issue time (`() => ms`; default `Date.now`). A fixed
   * `Date` still works but is deprecated (`LegacyNow` in the core's clock).
   */
  readonly now?: NowOption;
  /**
   * Record the key in the vendor's license registry in this store (the one the license server
   * uses; see `licit licenses`): who issued it (`issuedBy`), when, and what a re-issue changed.
   * A key signed by another vendor key than the license's newest is refused
   * (`ERR_KEY_UNKNOWN_SIGNER`) unless `rotate`. License keys only; ignored by `issueTopUp`.
   */
  readonly store?: Store | undefined;
  /** Who signs, recorded with the key (with `store`). Default `issuer`. */
  readonly issuedBy?: string | undefined;
  /** Allow recording a key signed by a new vendor key (a key rotation; with `store`). */
  readonly rotate?: boolean | undefined;
}

/**
 * Sign a license key. Validates every claim first (`ERR_KEY_INVALID_CLAIM`).
 *
 * @example
 * ```ts
 * import { issueLicense } from 'licit/issuer'
 * const key = await issueLicense(
 *   { customer: 'ACME', edition: 'pro', features: ['export'], seats: { basic: 10, advanced: 2 }, expiresAt: new Date('2027-12-31') },
 *   { signingKey: readFileSync('vendor.key', 'utf8') })
 * ```
 */
export async function issueLicense(input: LicenseInput, options: IssueOptions): Promise<string> {
  // A node-lock the verifier cannot read would make a key that never verifies: refuse it here,
  // and sign the one standard form (a pasted fingerprint may carry spaces or line breaks).
  const fingerprint = input.fingerprint === undefined ? undefined : Fingerprint.parse(input.fingerprint).toString();
  const claims = normalizeInput(fingerprint === undefined ? input : { ...input, fingerprint }, issuedAt(options));
  const signer = toSigner(options.signingKey);
  const key = await sealEnvelope('license', claimsToMap(claims), signer);
  if (options.store !== undefined) {
    await assertSameSigner(options.store, claims.licenseId, signer.kid, options.rotate === true);
    await recordIssue(options.store, signedLicense(key), { actor: options.issuedBy ?? 'issuer', issuedBy: options.issuedBy ?? 'issuer', source: 'issuer' });
  }
  return key;
}

/**
 * The {@link License} of a key this process has just signed (`issueLicense`), to record it: its
 * claims decoded, its status as of when it starts to be valid. Authentic by construction, so no
 * second signature check (one with the signing key's own public half would prove nothing anyway).
 * Not for keys from anywhere else: verify those with `verifyLicense`.
 */
export function signedLicense(key: string): License {
  const { claims, kid } = inspectLicense(key);
  const from = new Date(Math.max(claims.issuedAt.getTime(), claims.notBefore?.getTime() ?? 0));
  return new License(claims, kid, key.replace(/\s+/g, ''), evaluateStatus(claims, from));
}

/** What a top-up grants. */
export interface TopUpInput {
  /** The license to top up. */
  readonly licenseId: string;
  /** Credits to add (1 to 4294967295). */
  readonly credits: number;
  /** Unique id; applying the same token twice adds once. Default: random. */
  readonly tokenId?: string;
}

/** Sign a top-up token (`LICITT1-…`) adding `credits` to one license. */
export async function issueTopUp(input: TopUpInput, options: IssueOptions): Promise<string> {
  const { licenseId, credits } = input;
  if (!isPrintableText(licenseId, 128)) throw new LicenseError('ERR_USAGE', 'a top-up needs the license id (1 to 128 printable characters)');
  if (input.tokenId !== undefined && !isPrintableText(input.tokenId, 128)) throw new LicenseError('ERR_USAGE', 'a top-up token id must be 1 to 128 printable characters');
  if (!Number.isInteger(credits) || credits < 1 || credits > 0xffffffff) throw new LicenseError('ERR_USAGE', 'top-up credits must be a whole number from 1 to 4294967295');
  const tokenId = input.tokenId ?? `TOP-${Array.from(globalThis.crypto.getRandomValues(new Uint8Array(10)), (b) => b.toString(16).padStart(2, '0')).join('').toUpperCase()}`;
  return sealEnvelope('topup', topUpClaims({ tokenId, licenseId, credits, issuedAt: issuedAt(options) }), toSigner(options.signingKey));
}

/** The issue time to record: the options' clock read once. */
function issuedAt(options: IssueOptions): Date {
  return new Date(toClock(options.now, 'the issue option now')());
}
