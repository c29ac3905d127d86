/** The machine check `licit verify` uses for node-locked licenses (loaded only when a license needs it). */
import type { MachineCheck } from '../core/verify.js';

/** A check against this machine's fingerprint, computed with `salt` (the application's salt). */
export function machineCheckFor(salt: string | undefined): MachineCheck {
  return async (stored, licenseId) => {
    const { machineCheck } = await import('../node/machine-check.js');
    await machineCheck({ salt })(stored, licenseId);
  };
}
