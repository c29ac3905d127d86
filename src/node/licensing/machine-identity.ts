/**
 * Which machine `Licensing` speaks for: a fingerprint string or machine id the application supplies,
 * else this machine's hardware fingerprint under the vendor's salt.
 */
import { LicenseError } from '../../core/errors.js';
import type { PublicKeyInput } from '../../core/crypto/keys.js';
import { saltForVendor } from '../../core/fingerprint/salt.js';
import { getFingerprint, hashComponent, Fingerprint } from '../fingerprint/index.js';
import { inContainer } from '../fingerprint/environment.js';
import type { LicensingOptions } from './options.js';

/** The fingerprint sent with every request, where it came from, and whether the process looks containerised. */
export interface MachineIdentity {
  readonly text: string;
  readonly source: 'hardware' | 'operator';
  readonly container: boolean;
}

export async function resolveMachineIdentity(o: LicensingOptions): Promise<MachineIdentity> {
  if (o.fingerprint !== undefined) return { text: Fingerprint.parse(o.fingerprint).toString(), source: 'operator', container: inContainer() };
  // No salt shared by every vendor (it would link their fingerprints): the vendor's own, from its
  // first public key, unless the application sets one.
  const first = Array.isArray(o.publicKeys) ? (o.publicKeys as readonly PublicKeyInput[])[0] : (o.publicKeys as PublicKeyInput);
  if (first === undefined && (o.salt === undefined || o.salt === '')) throw new LicenseError('ERR_USAGE', 'publicKeys is empty: pass the vendor public key(s) to trust');
  const salt = o.salt !== undefined && o.salt !== '' ? o.salt : saltForVendor(first as PublicKeyInput);
  // The end user's environment replaces the hardware only when the application opts in.
  const id = o.machineId ?? (o.machineIdFromEnv === true ? process.env.LICIT_MACHINE_ID : undefined);
  if (id !== undefined && id.trim() !== '') return { text: `fp1:mi=${hashComponent(salt, 'machine-id', id)}`, source: 'operator', container: inContainer() };
  const fp = await getFingerprint({ salt });
  return { text: fp.toString(), source: 'hardware', container: fp.container };
}
