/**
 * Node-locking: compare the fingerprint a license is bound to with this machine's, and refuse
 * with an explanation of what changed.
 */
import { LicenseError } from '../core/errors.js';
import type { MachineCheck } from '../core/verify.js';
import { explain, getFingerprint, match } from './fingerprint/index.js';

export interface MachineCheckOptions {
  /** The application's fingerprint salt (the one the vendor used when binding the license). */
  readonly salt?: string | undefined;
}

/** A {@link MachineCheck} against this machine, for `verifyLicense({ machine })`. */
export function machineCheck(options: MachineCheckOptions = {}): MachineCheck {
  return async (stored, licenseId) => {
    const current = await getFingerprint({ salt: options.salt ?? '' });
    const result = match(stored, current);
    if (!result.ok) {
      const why = explain(stored, current);
      throw new LicenseError('ERR_FINGERPRINT_MISMATCH', `this license is bound to another machine (${why}). If the hardware changed, ask the vendor to reset the license for this machine.`, {
        licenseId,
        score: result.score,
        changed: result.changed,
      });
    }
  };
}
