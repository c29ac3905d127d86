/**
 * Renaming a license user (a person's e-mail address changed): everything licit keeps under the
 * user's id moves to the new id in one transaction of the license, so the user keeps its devices,
 * its seat, its own device limit and (through `records`) its password, and no count changes. One
 * audited `user.renamed` event names both ids.
 */
import { LicenseCounter } from './base.js';
import { LicenseError } from '../errors.js';
import type { JsonObject, StoreTx } from '../store/store.js';
import { REGISTRY_KIND } from '../admin/registry.js';
import { auditEvent } from './audit.js';
import { normalizeUserId } from './user-id.js';
import type { SeatLimits, SeatOptions } from './limits.js';
import { ACT, actKey, parseActivation, activationRecord, parseUser, USER, userNotFound, type Activation } from './activation-records.js';

const SEAT = 'seat';

/** What {@link renameUser} moved. */
export interface UserRename {
  /** The id the user had. */
  readonly from: string;
  /** The id it has now. */
  readonly to: string;
  /** The devices it keeps, now activated under `to`. */
  readonly devices: string[];
  /** The type of the named seat it keeps, or null when it held none. */
  readonly seat: string | null;
  /** The record kinds of `records` that held something of the user and moved with it. */
  readonly moved: string[];
  /** Sequence number of the `user.renamed` event. */
  readonly eventSeq: number;
}

/** Options of {@link renameUser}. */
export type RenameOptions = SeatOptions & {
  /**
   * More record kinds kept under the user id that move with the user (the license server passes
   * its password records). A record of the new id in one of them that the old id lacks is
   * deleted: a password left behind by a removed user must not become the renamed user's.
   */
  readonly records?: readonly string[];
  /** Runs inside the same transaction after the move (the license server updates its own indexes). */
  readonly within?: (tx: StoreTx, rename: { readonly from: string; readonly to: string; readonly activations: readonly Activation[] }) => Promise<void>;
};

/** The refusal when the new id is taken: stable, so callers can say "choose another address". */
export function userExists(userId: string, as: string): LicenseError {
  return new LicenseError('ERR_USER_EXISTS', `"${userId}" is already ${as} of this license; choose another id, or remove that user first`, { userId, as });
}

class UserRenamer extends LicenseCounter {
  async run(fromId: string, toId: string, opts: RenameOptions): Promise<UserRename> {
    const from = normalizeUserId(fromId, 'user id');
    const to = normalizeUserId(toId, 'new user id');
    if (from === to) throw new LicenseError('ERR_USAGE', `the new user id is the same as the old one ("${to}")`, { userId: to });
    const kinds = [...new Set(opts.records ?? [])].filter((k) => ![USER, ACT, SEAT, REGISTRY_KIND].includes(k));
    return this.store.transaction(this.license.id, async (tx) => {
      const user = await tx.get(USER, from);
      if (user === undefined) throw userNotFound(from);
      if ((await tx.get(USER, to)) !== undefined) throw userExists(to, 'a license user');
      if ((await tx.list(ACT, `${to}\n`)).length > 0) throw userExists(to, 'a user with activated devices');
      const seat = await tx.get(SEAT, from);
      if ((await tx.get(SEAT, to)) !== undefined) throw userExists(to, 'a seat holder');
      // The user itself, with its own device limit and count.
      tx.delete(USER, from);
      tx.put(USER, to, { ...parseUser(from, user) });
      // Its activations: keys and the user they name.
      const activations: Activation[] = [];
      for (const e of await tx.list(ACT, `${from}\n`)) {
        const a: Activation = { ...parseActivation(e.value), userId: to };
        tx.delete(ACT, e.key);
        tx.put(ACT, actKey(to, a.deviceId), activationRecord(a));
        activations.push(a);
      }
      const devices = activations.map((a) => a.deviceId);
      // Its named seat, type and `since` kept.
      if (seat !== undefined) {
        tx.delete(SEAT, from);
        tx.put(SEAT, to, seat);
      }
      // The vendor's say on it (suspended): the person keeps it; a suspension of the new id stands.
      const state = await tx.get(REGISTRY_KIND, `user:${from}`);
      if (state !== undefined) {
        tx.delete(REGISTRY_KIND, `user:${from}`);
        if ((await tx.get(REGISTRY_KIND, `user:${to}`))?.state !== 'suspended') tx.put(REGISTRY_KIND, `user:${to}`, state);
      }
      const moved: string[] = [];
      for (const kind of kinds) {
        const rec = await tx.get(kind, from);
        if (rec === undefined) {
          if ((await tx.get(kind, to)) !== undefined) tx.delete(kind, to);
          continue;
        }
        tx.delete(kind, from);
        tx.put(kind, to, rec);
        moved.push(kind);
      }
      if (opts.within !== undefined) await opts.within(tx, { from, to, activations });
      const type = typeof seat?.type === 'string' ? seat.type : null;
      const details: JsonObject = { user: to, from, devices, seat: type, moved };
      const eventSeq = tx.append(auditEvent(this.now(), opts.actor ?? this.actor, 'user.renamed', details));
      return { from, to, devices, seat: type, moved, eventSeq };
    });
  }
}

/**
 * Give a license user a new id (its e-mail address changed), in one transaction: the user record
 * (its own device limit and count), each activation (keyed and naming the new id; `activatedAt`,
 * `validatedAt`, info and name kept), its named seat (type and `since` kept), the vendor's
 * suspension of it, and each record of `records` kinds keyed by the id. Counts do not change, so
 * no limit is crossed; one `user.renamed` event (`{ user, from, devices, seat, moved }`) is
 * audited. An installation keeps its activation when it next renews as the new id or as none.
 *
 * @throws `ERR_USER_NOT_FOUND` (no user `from`), `ERR_USER_EXISTS` (`to` is a license user, holds
 *   activations or a seat; nothing changed), `ERR_USAGE` (an id that is not one, or the same id)
 *
 * @example
 * ```ts
 * await renameUser(store, license, 'ann@old.example', 'ann@new.example', { actor: 'admin' })
 * ```
 */
export async function renameUser(store: ConstructorParameters<typeof UserRenamer>[0], license: SeatLimits, from: string, to: string, options: RenameOptions = {}): Promise<UserRename> {
  return new UserRenamer(store, license, options).run(from, to, options);
}
