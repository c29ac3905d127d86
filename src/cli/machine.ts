/** The machine check `licit verify` and `licit credits` use for node-locked licenses (loaded only when a license needs it). */
import { loadMachineCheck } from '../cli-internals.js';
import type { MachineCheck } from '../index.node.js';

/**
 * A check against this machine's fingerprint, computed with `salt` (the application's salt) or,
 * without one, with the salt derived from the first of `publicKeys` (as `Licensing` does), or
 * against a supplied machine id (`--machine-id`, for licenses bound to one).
 */
export function machineCheckFor(salt: string | undefined, machineId: string | undefined, publicKeys: readonly string[]): MachineCheck {
  return async (stored, licenseId) => {
    const { machineCheck } = await loadMachineCheck();
    await machineCheck({ salt, publicKey: publicKeys[0], machineId })(stored, licenseId);
  };
}
