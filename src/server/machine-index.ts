/**
 * The activation a machine already holds, for a same-machine reinstall: found with one read of an
 * index (user and strong fingerprint -> device), not by walking the license's activations, so an
 * activation costs the same at 100 stored activations as at 10,000. An entry is a hint: the device
 * it names is read and its fingerprint compared, so an entry left behind by a reset or a
 * deactivation finds nothing. A store written before the index is indexed once, in the first
 * activation's transaction.
 */
import { sha256Digest } from '../core/crypto/digest.js';
import { toHex, utf8 } from '../core/codec/bytes.js';
import type { Activation, Activations } from '../core/seats/index.js';
import { normalizeUserId } from '../core/seats/user-id.js';
import type { StoreTx } from '../core/store/store.js';
import { KINDS } from './kinds.js';

const BUILT = 'built';

/** The index key of a machine for a user: fingerprints are long, keys are identifiers. */
function machineKey(user: string, fingerprint: string): string {
  return toHex(sha256Digest(utf8(`${normalizeUserId(user)}\n${fingerprint}`)));
}

/** Record that `deviceId` is `fingerprint`'s activation for `user`. */
export function indexMachine(tx: StoreTx, user: string, fingerprint: string, deviceId: string): void {
  tx.put(KINDS.machine, machineKey(user, fingerprint), { device: deviceId });
}

/** The activation of `user` on the machine `fingerprint` names, if it holds one. */
export async function activationOnMachine(tx: StoreTx, acts: Activations, user: string, fingerprint: string): Promise<Activation | undefined> {
  if ((await tx.get(KINDS.machine, BUILT)) === undefined) {
    for (const a of await acts.devices()) if (typeof a.info.fingerprint === 'string') indexMachine(tx, a.userId, a.info.fingerprint, a.deviceId);
    tx.put(KINDS.machine, BUILT, { built: true });
  }
  const hint = await tx.get(KINDS.machine, machineKey(user, fingerprint));
  if (typeof hint?.device !== 'string') return undefined;
  const a = await acts.device(user, hint.device);
  return a?.info.fingerprint === fingerprint ? a : undefined;
}
