/**
 * Node-locking: compare the fingerprint a license is bound to with this machine's, and refuse
 * with an explanation of what changed.
 */
import { LicenseError } from '../core/errors.js';
import type { MachineCheck } from '../core/verify.js';
import { DEFAULT_FINGERPRINT_SALT, explain, getFingerprint, type MatchStrategy } from './fingerprint/index.js';

/** Options of {@link machineCheck}. */
export interface MachineCheckOptions {
  /** The application's fingerprint salt, the one used when the vendor bound the license. Default: licit's default salt. */
  readonly salt?: string | undefined;
  /** How tolerant the comparison is (default `most`: a new network card keeps the license, a new motherboard does not). */
  readonly strategy?: MatchStrategy | undefined;
  /**
   * The machine id your operator assigns to this instance, for licenses bound with
   * `licit fingerprint --machine-id` (containers whose hardware changes on every start).
   */
  readonly machineId?: string | undefined;
}

/**
 * A machine check against this machine, for `verifyLicense(text, { machine })`.
 *
 * @example
 * ```ts
 * const license = await verifyLicense(key, { publicKeys, machine: machineCheck({ salt: 'my-app' }) })
 * ```
 */
export function machineCheck(options: MachineCheckOptions = {}): MachineCheck {
  return async (stored, licenseId) => {
    const current = await getFingerprint({ salt: options.salt ?? DEFAULT_FINGERPRINT_SALT, machineId: options.machineId });
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
