/**
 * Renaming a license user on the license server (`POST /v1/admin/users/rename`, the portal's
 * "Change e-mail"): the core's {@link renameUser} with the server's own records of the user in the
 * same transaction: its password (`server.credential`), the installations that activated as it
 * (so they renew as the new id), and the same-machine index of its devices.
 */
import type { License } from '../core/license/license.js';
import { renameUser, type UserRename } from '../core/seats/rename-user.js';
import { CREDENTIAL_KIND } from './auth/credentials.js';
import { KINDS } from './kinds.js';
import { indexMachine } from './machine-index.js';
import type { Vendor } from './vendor.js';

/**
 * Give license user `from` of `license` the id `to`, keeping its devices, seat, device limit,
 * suspension and password; audited as `user.renamed`.
 * @throws `ERR_USER_NOT_FOUND`, `ERR_USER_EXISTS`, `ERR_USAGE`
 */
export async function renameLicenseUser(vendor: Pick<Vendor, 'store' | 'now'>, license: License, from: string, to: string, actor: string): Promise<UserRename> {
  return renameUser(vendor.store, license, from, to, {
    now: vendor.now,
    actor,
    records: [CREDENTIAL_KIND],
    within: async (tx, r) => {
      const indexed = (await tx.get(KINDS.machine, 'built')) !== undefined;
      for (const a of r.activations) {
        // The installation renews as the user its record names.
        const inst = await tx.get(KINDS.installation, a.deviceId);
        if (inst !== undefined && inst.user === r.from) tx.put(KINDS.installation, a.deviceId, { ...inst, user: r.to });
        // A reinstall on the same machine finds the activation under the new id (old entries are hints that find nothing).
        if (indexed && typeof a.info.fingerprint === 'string') indexMachine(tx, r.to, a.info.fingerprint, a.deviceId);
      }
    },
  });
}
