/**
 * `verifyLicense`: signature first, over the exact bytes; then claims; then time policy.
 */
import { mapToClaims } from './claims.js';
import type { ClockGuard } from './clock-guard.js';
import { openEnvelope } from './envelope.js';
import { LicenseError } from './errors.js';
import { toKeyring, type PublicKeyInput } from './keys.js';
import { License } from './license.js';
import { assertReleaseCovered, assertUsable, evaluateStatus } from './policy.js';

/** Checks that this machine matches the fingerprint a license is bound to; throws `ERR_FINGERPRINT_MISMATCH`. */
export type MachineCheck = (storedFingerprint: string, licenseId: string) => void | Promise<void>;

export interface VerifyOptions {
  /** Vendor public keys to trust (several during key rotation). */
  readonly publicKeys: PublicKeyInput | readonly PublicKeyInput[];
  /** Time to evaluate at. Default: the system clock (through `clockGuard` when given). */
  readonly now?: Date | undefined;
  /** Release date of the running application; refused when after maintenance expiry. */
  readonly releaseDate?: Date | undefined;
  /** Refuses clocks set back; supplies the time to trust. */
  readonly clockGuard?: ClockGuard | undefined;
  /** Required for node-locked licenses (those issued with a fingerprint). */
  readonly machine?: MachineCheck | undefined;
}

/**
 * Verify a license key and evaluate it now. Resolves to a usable {@link License} (`valid` or
 * `grace`), or rejects with a {@link LicenseError}.
 *
 * @example
 * ```ts
 * import { verifyLicense } from 'licit'
 * const license = await verifyLicense(keyText, { publicKeys: [readFileSync('vendor.pub', 'utf8')] })
 * if (license.status === 'grace') console.warn(license.report.warning)
 * ```
 */
export async function verifyLicense(text: string, options: VerifyOptions): Promise<License> {
  if (options === null || typeof options !== 'object' || options.publicKeys === undefined) {
    throw new LicenseError('ERR_USAGE', 'verifyLicense(text, { publicKeys }) needs the vendor public key(s)');
  }
  const keyring = await toKeyring(options.publicKeys);
  const { claims: map, kid } = await openEnvelope(text, 'license', keyring);
  const claims = mapToClaims(map);
  let now = options.now ?? new Date();
  if (options.clockGuard !== undefined) now = await options.clockGuard.check(now);
  const report = evaluateStatus(claims, now);
  assertUsable(claims, report);
  assertReleaseCovered(claims, options.releaseDate);
  if (claims.fingerprint !== undefined) {
    if (options.machine === undefined) {
      throw new LicenseError('ERR_FINGERPRINT_MISMATCH', 'this license is bound to one machine; verify it with a machine check (the `machine` option, or `licit verify` on that machine)', { licenseId: claims.licenseId });
    }
    await options.machine(claims.fingerprint, claims.licenseId);
  }
  return new License(claims, kid, text.replace(/\s+/g, ''), report);
}
