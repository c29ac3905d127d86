/**
 * Node-locking: compare the fingerprint a license is bound to with this machine's, and refuse
 * with an explanation of what changed.
 */
import { LicenseError } from '../../core/errors.js';
import type { PublicKeyInput } from '../../core/crypto/keys.js';
import type { MachineCheck } from '../../core/license/verify.js';
import { explain, getFingerprint, saltForVendor, type MatchStrategy } from '../fingerprint/index.js';

/** Options of {@link machineCheck}: the salt, given as `salt` or as the vendor's `publicKey`. */
export interface MachineCheckOptions {
  /** The application's fingerprint salt, the one used when the vendor bound the license. */
  readonly salt?: string | undefined;
  /**
   * The vendor's public key, when the application sets no salt of its own: the salt is then
   * `saltForVendor(publicKey)`, as `Licensing` derives it from its first public key. One of
   * `salt` and `publicKey` is required (`salt` wins when both are given).
   */
  readonly publicKey?: PublicKeyInput | undefined;
  /** How tolerant the comparison is (default `most`: a new network card keeps the license, a new motherboard does not). */
  readonly strategy?: MatchStrategy | undefined;
  /**
   * The machine id your operator assigns to this instance, for licenses bound with
   * `licit fingerprint --machine-id` (containers whose hardware changes on every start).
   */
  readonly machineId?: string | undefined;
}

/**
 * A machine check against this machine, for `verifyLicense(text, { machine })`. Throws
 * `ERR_USAGE` at once when neither `salt` nor `publicKey` is given.
 *
 * @example
 * ```ts
 * const license = await verifyLicense(key, { publicKeys, machine: machineCheck({ salt: 'my-app' }) })
 * ```
 */
export function machineCheck(options: MachineCheckOptions): MachineCheck {
  const salt = options?.salt !== undefined && options.salt !== '' ? options.salt : options?.publicKey !== undefined ? saltForVendor(options.publicKey) : undefined;
  if (salt === undefined) {
    throw new LicenseError('ERR_USAGE', 'machineCheck needs the fingerprint salt the license was bound with: { salt: "com.example.app" }, or { publicKey } (the vendor public key, for the salt Licensing derives from it when given none)');
  }
  return async (stored, licenseId) => {
    const current = await getFingerprint({ salt, machineId: options.machineId });
    const result = explain(stored, current, options.strategy);
    if (!result.ok) {
      throw new LicenseError('ERR_FINGERPRINT_MISMATCH', `this license is bound to another machine. ${result.text}\nIf the hardware changed, ask the vendor to reset the license for this machine.`, {
        licenseId,
        score: result.score,
        changed: [...result.changed],
      });
    }
  };
}
