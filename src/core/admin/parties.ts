/**
 * Stopping one device or one license user of a license, with its activations: what the admin API
 * (`POST /v1/admin/devices/suspend`, …) and `licit devices|users suspend|revoke|reinstate` both
 * call. The state itself is a registry record (registry.ts: `changePartyState`, and
 * `assertPartiesActive`, which the exchange checks).
 */
import { LicenseError } from '../errors.js';
import type { Activations } from '../seats/activations.js';
import { userNotFound } from '../seats/activation-records.js';
import type { Store } from '../store/store.js';
import { normalizeUserId } from '../seats/user-id.js';
import { changePartyState, type PartyAction, type PartyKind, type PartyState } from './registry.js';

/**
 * Suspend, revoke or reinstate one device or license user of a registered license, with the
 * activations it concerns: the one implementation behind the admin API (`POST
 * /v1/admin/devices/suspend`, …) and `licit devices|users suspend|revoke|reinstate` (local store).
 * `acts` counts the license on `store`. A device must be activated on the license, and a user must
 * be one of its users, except to be reinstated (whatever became of them since). Revoking a device
 * records its fingerprint, so its machine cannot activate the license again, and frees its
 * activation (no transfer counted: the vendor ended it); revoking a user removes the user (their
 * devices deactivated) and refuses that id any later exchange. A user id is normalised first (NFC,
 * trimmed), as every store keeps it.
 * @throws `ERR_ACTIVATION_NOT_FOUND`, `ERR_USER_NOT_FOUND`, `ERR_LICENSE_NOT_REGISTERED`,
 *   `ERR_LICENSE_STATE` (e.g. reinstating a revoked device or user)
 */
export async function changeActivationState(
  store: Store,
  acts: Activations,
  licenseId: string,
  party: { readonly kind: PartyKind; readonly id: string },
  action: PartyAction,
  by: { actor: string; reason?: string | undefined; now?: Date | number },
): Promise<{ id: string; state: PartyState }> {
  const id = party.kind === 'user' ? normalizeUserId(party.id) : party.id;
  let fingerprint: string | undefined;
  let activated = false;
  if (party.kind === 'device') {
    const device = (await acts.devices()).find((d) => d.deviceId === id);
    if (device === undefined && action !== 'reinstate') throw new LicenseError('ERR_ACTIVATION_NOT_FOUND', `license ${licenseId} has no device ${id}`, { licenseId, deviceId: id });
    activated = device !== undefined;
    fingerprint = typeof device?.info.fingerprint === 'string' ? device.info.fingerprint : undefined;
  } else if (action !== 'reinstate' && !(await acts.users()).some((u) => u.userId === id)) {
    throw userNotFound(id);
  }
  const r = await changePartyState(store, licenseId, { kind: party.kind, id, fingerprint }, action, by);
  if (party.kind === 'device' && action === 'revoke' && activated) await acts.resetDevice(id, { countTransfer: false, actor: by.actor });
  // A revoked user is removed (their devices deactivated, their place freed) and stays refused:
  // the exchange will not add that id again (ERR_USER_REVOKED).
  if (party.kind === 'user' && action === 'revoke' && (await acts.users()).some((u) => u.userId === id)) await acts.removeUser(id, { actor: by.actor });
  return { id, state: r.state };
}
