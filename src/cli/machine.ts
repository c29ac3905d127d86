/** The machine check `licit verify` and `licit credits` use for node-locked licenses (loaded only when a license needs it). */
import type { MachineCheck } from '../core/verify.js';

/**
 * A check against this machine's fingerprint, computed with `salt` (the application's salt), or
 * against a supplied machine id (`--machine-id`, for licenses bound to one).
 */
export function machineCheckFor(salt: string | undefined, machineId?: string): MachineCheck {
  return async (stored, licenseId) => {
    const { machineCheck } = await import('../node/machine-check.js');
    await machineCheck({ salt, machineId })(stored, licenseId);
  };
}
