/**
 * License users and the devices they activate: a license allows up to `maxUsers` users, each may
 * activate up to its own limit of devices (default `maxUserActivations`), all of them together up
 * to `maxActivations`; moving an activation to another device, or resetting a device that is out
 * of reach, counts against `maxTransfers`.
 */
import { LicenseCounter } from './base.js';
import { LicenseError } from '../errors.js';
import { once } from './once.js';
import { checkId, type JsonObject, type StoreTx } from '../store/store.js';
import { normalizeUserId } from './user-id.js';
import { auditEvent, type SeatAuditEvent } from './audit.js';
import { readCounters, writeCounters, type Counters } from './counters.js';
import type { ActOptions } from './limits.js';
import {
  ACT,
  ACTIVATION,
  actKey,
  activationNotFound,
  activationRecord,
  checkInfo,
  checkLabel,
  NOTHING,
  parseActivation,
  parseUser,
  USER,
  userNotFound,
  USERS,
  type Activation,
  type ActivationUsage,
  type LicenseUser,
  type UserRecord,
} from './activation-records.js';

export type { Activation, ActivationUsage, LicenseUser } from './activation-records.js';

/** Options of a move (transfer or reinstall). */
type MoveOptions = ActOptions & {
  /** What to record about the new device (host name, OS, …); at most 4096 characters of JSON. */
  info?: JsonObject;
};

/**
 * License users and device activations of one license.
 *
 * @example
 * ```ts
 * const acts = new Activations(store, { id: 'lic-1', seats: {}, maxUsers: 3, maxActivations: 5, maxUserActivations: 2 });
 * await acts.addUser('ann@example.com');
 * await acts.activate('ann@example.com', fingerprint, { info: { host: 'ann-laptop' } });
 * await acts.transfer('ann@example.com', fingerprint, newFingerprint); // counts against maxTransfers
 * ```
 */
export class Activations extends LicenseCounter {

  /**
   * Create a license user (adding one who exists changes nothing).
   * @throws `ERR_USERS_EXHAUSTED`
   */
  async addUser(userId: string, opts: ActOptions & {
      /** This user's own device limit (default: the license's `maxUserActivations`). */
      maxActivations?: number;
    } = {}): Promise<LicenseUser> {
    userId = normalizeUserId(userId);
    const own = opts.maxActivations === undefined ? null : this.checkUserLimit(opts.maxActivations);
    return this.store.transaction(this.license.id, async (tx) => {
      const existing = await tx.get(USER, userId);
      if (existing !== undefined) return this.toUser(userId, parseUser(userId, existing));
      const c = await readCounters(tx);
      const max = this.license.maxUsers;
      if (max !== undefined && c.users >= max) {
        throw new LicenseError('ERR_USERS_EXHAUSTED', `all license users are taken: ${max} licensed, ${c.users} in use; remove a user to make room or buy more`, { licensed: max, inUse: c.users });
      }
      const at = this.now();
      const rec: UserRecord = { createdAt: new Date(at).toISOString(), maxActivations: own, activations: 0 };
      c.users += 1;
      writeCounters(tx, c);
      tx.put(USER, userId, { ...rec });
      tx.append(auditEvent(at, opts.actor ?? this.actor, 'user.added', { user: userId, maxActivations: own, inUse: c.users }));
      return this.toUser(userId, rec);
    });
  }

  /**
   * Remove a license user and deactivate every device it activated, making room for others.
   * @throws `ERR_USER_NOT_FOUND`
   */
  async removeUser(userId: string, opts: ActOptions = {}): Promise<void> {
    userId = normalizeUserId(userId);
    await this.store.transaction(this.license.id, async (tx) => {
      const existing = await tx.get(USER, userId);
      if (existing === undefined) throw userNotFound(userId);
      const c = await readCounters(tx);
      const at = this.now();
      const actor = opts.actor ?? this.actor;
      const devices = await this.dropActivations(tx, c, userId);
      c.users = Math.max(0, c.users - 1);
      writeCounters(tx, c);
      tx.delete(USER, userId);
      tx.append(auditEvent(at, actor, 'user.removed', { user: userId, devices, inUse: c.users }));
    });
  }

  /**
   * Set how many devices one user may activate (`undefined`: follow the license's `maxUserActivations`).
   * Lowering it below what is active deactivates nothing; new activations are refused until it fits.
   * @throws `ERR_USER_NOT_FOUND`, `ERR_USAGE` (above the license's `maxActivations`)
   */
  async setUserLimit(userId: string, maxActivations: number | undefined, opts: ActOptions = {}): Promise<LicenseUser> {
    userId = normalizeUserId(userId);
    const own = maxActivations === undefined ? null : this.checkUserLimit(maxActivations);
    return this.store.transaction(this.license.id, async (tx) => {
      const existing = await tx.get(USER, userId);
      if (existing === undefined) throw userNotFound(userId);
      const rec = { ...parseUser(userId, existing), maxActivations: own };
      tx.put(USER, userId, { ...rec });
      tx.append(auditEvent(this.now(), opts.actor ?? this.actor, 'user.limit-changed', { user: userId, maxActivations: own }));
      return this.toUser(userId, rec);
    });
  }

  /** Every license user, sorted by id. */
  async users(): Promise<LicenseUser[]> {
    return this.store.read(this.license.id, async (r) => (await r.list(USER)).map((e) => this.toUser(e.key, parseUser(e.key, e.value))));
  }

  /**
   * Activate `deviceId` for `userId`. Activating a device the user already activated only
   * refreshes its validation time.
   * @throws `ERR_USER_NOT_FOUND`, `ERR_ACTIVATIONS_EXHAUSTED` (per user or per license; the message says which)
   */
  async activate(
    userId: string,
    deviceId: string,
    opts: ActOptions & {
      /** What to record about the device (host name, OS, …); at most 4096 characters of JSON. */
      info?: JsonObject;
    } = {},
  ): Promise<Activation> {
    userId = normalizeUserId(userId);
    checkId(deviceId, 'device id');
    const info = checkInfo(opts.info);
    return this.store.transaction(this.license.id, async (tx) =>
      once(tx, opts.idempotencyKey, 'device.activate', { userId, deviceId }, ACTIVATION, async () => {
        const userRaw = await tx.get(USER, userId);
        if (userRaw === undefined) throw userNotFound(userId);
        const user = parseUser(userId, userRaw);
        const at = this.now();
        const existing = await tx.get(ACT, actKey(userId, deviceId));
        if (existing !== undefined) {
          const a = parseActivation(existing);
          const refreshed = { ...a, validatedAt: new Date(at) };
          tx.put(ACT, actKey(userId, deviceId), activationRecord(refreshed));
          return refreshed;
        }
        const c = await readCounters(tx);
        this.checkRoom(userId, user, c);
        user.activations += 1;
        c.activations += 1;
        const a: Activation = { userId, deviceId, activatedAt: new Date(at), validatedAt: new Date(at), info };
        writeCounters(tx, c);
        tx.put(USER, userId, { ...user });
        tx.put(ACT, actKey(userId, deviceId), activationRecord(a));
        tx.append(auditEvent(at, opts.actor ?? this.actor, 'device.activated', { user: userId, device: deviceId, userActivations: user.activations, inUse: c.activations }));
        return a;
      }),
    );
  }

  /**
   * Record that an activated device checked in now (its "last validation"). Not an audit event:
   * it changes no entitlement, and a fleet validating hourly would drown the trail.
   * @throws `ERR_ACTIVATION_NOT_FOUND`
   */
  async validate(userId: string, deviceId: string): Promise<Activation> {
    userId = normalizeUserId(userId);
    checkId(deviceId, 'device id');
    return this.store.transaction(this.license.id, async (tx) => {
      const existing = await tx.get(ACT, actKey(userId, deviceId));
      if (existing === undefined) throw activationNotFound(userId, deviceId);
      const a = { ...parseActivation(existing), validatedAt: new Date(this.now()) };
      tx.put(ACT, actKey(userId, deviceId), activationRecord(a));
      return a;
    });
  }

  /**
   * Deactivate one device of one user (done from the device itself; free, not a transfer).
   * @throws `ERR_ACTIVATION_NOT_FOUND`
   */
  async deactivate(userId: string, deviceId: string, opts: ActOptions = {}): Promise<void> {
    userId = normalizeUserId(userId);
    checkId(deviceId, 'device id');
    await this.store.transaction(this.license.id, async (tx) =>
      once(tx, opts.idempotencyKey, 'device.deactivate', { userId, deviceId }, NOTHING, async () => {
        if ((await tx.get(ACT, actKey(userId, deviceId))) === undefined) throw activationNotFound(userId, deviceId);
        const c = await readCounters(tx);
        await this.dropOne(tx, c, userId, deviceId);
        writeCounters(tx, c);
        tx.append(auditEvent(this.now(), opts.actor ?? this.actor, 'device.deactivated', { user: userId, device: deviceId, inUse: c.activations }));
      }),
    );
  }

  /**
   * Reset a device that is out of reach (lost, broken, reinstalled): every activation on it is
   * removed. Counts as one transfer unless `countTransfer: false` (a vendor's goodwill reset).
   * @returns the users whose activation was removed
   * @throws `ERR_ACTIVATION_NOT_FOUND`, `ERR_TRANSFERS_EXHAUSTED`
   */
  async resetDevice(deviceId: string, opts: ActOptions & {
      /** Count the reset as one transfer (default true; false for a vendor's goodwill reset). */
      countTransfer?: boolean;
    } = {}): Promise<string[]> {
    checkId(deviceId, 'device id');
    return this.store.transaction(this.license.id, async (tx) =>
      once(tx, opts.idempotencyKey, 'device.reset', { deviceId, countTransfer: opts.countTransfer !== false }, USERS, async () => {
        const users = (await tx.list(ACT)).map((e) => parseActivation(e.value)).filter((a) => a.deviceId === deviceId).map((a) => a.userId);
        if (users.length === 0) throw new LicenseError('ERR_ACTIVATION_NOT_FOUND', `device "${deviceId}" is not activated on this license`, { deviceId });
        const c = await readCounters(tx);
        if (opts.countTransfer !== false) this.takeTransfer(c);
        for (const u of users) await this.dropOne(tx, c, u, deviceId);
        writeCounters(tx, c);
        tx.append(auditEvent(this.now(), opts.actor ?? this.actor, 'device.reset', { device: deviceId, users, transfers: c.transfers, inUse: c.activations }));
        return users;
      }),
    );
  }

  /**
   * Deactivate every device of one user ("reset total activations"); an administrative action,
   * not counted as a transfer.
   * @returns the devices that were deactivated
   * @throws `ERR_USER_NOT_FOUND`
   */
  async resetUser(userId: string, opts: ActOptions = {}): Promise<string[]> {
    userId = normalizeUserId(userId);
    return this.store.transaction(this.license.id, async (tx) => {
      if ((await tx.get(USER, userId)) === undefined) throw userNotFound(userId);
      const c = await readCounters(tx);
      const devices = await this.dropActivations(tx, c, userId);
      writeCounters(tx, c);
      tx.append(auditEvent(this.now(), opts.actor ?? this.actor, 'user.activations-reset', { user: userId, devices, inUse: c.activations }));
      return devices;
    });
  }

  /**
   * Move one user's activation from one device to another in one step; counts one transfer.
   * @throws `ERR_ACTIVATION_NOT_FOUND`, `ERR_TRANSFERS_EXHAUSTED`, `ERR_USAGE` (target already active)
   */
  async transfer(userId: string, fromDevice: string, toDevice: string, opts: MoveOptions = {}): Promise<Activation> {
    return this.move('device.transferred', userId, fromDevice, toDevice, { ...opts, countTransfer: true });
  }

  /**
   * A reinstall on the same machine: the new installation takes over the activation of the old one
   * (which is never renewed again), its label kept. Audited as `device.reinstalled` with both ids.
   * No transfer is counted unless `countTransfer: true`: the machine did not change (the license
   * server counts one where it cannot tell, docs/seats.md "Reinstalls").
   * @throws `ERR_ACTIVATION_NOT_FOUND`, `ERR_TRANSFERS_EXHAUSTED` (only when counted), `ERR_USAGE` (new id already active)
   */
  async reinstall(userId: string, fromDevice: string, toDevice: string, opts: MoveOptions & {
      /** Count the reinstall as one transfer (default false). */
      countTransfer?: boolean;
    } = {}): Promise<Activation> {
    return this.move('device.reinstalled', userId, fromDevice, toDevice, { ...opts, countTransfer: opts.countTransfer === true });
  }

  /**
   * Name a device (every activation on it), so administrators tell "ann's laptop" from a
   * fingerprint; shown by `devices()`. An empty label removes the name. Audited as `device.renamed`.
   * @returns the activations renamed
   * @throws `ERR_ACTIVATION_NOT_FOUND`, `ERR_USAGE` (label over 100 characters or with control characters)
   */
  async rename(deviceId: string, label: string, opts: ActOptions = {}): Promise<Activation[]> {
    checkId(deviceId, 'device id');
    const name = checkLabel(label);
    return this.store.transaction(this.license.id, async (tx) => {
      const on = (await tx.list(ACT)).map((e) => parseActivation(e.value)).filter((a) => a.deviceId === deviceId);
      if (on.length === 0) throw new LicenseError('ERR_ACTIVATION_NOT_FOUND', `device "${deviceId}" is not activated on this license`, { deviceId });
      const renamed = on.map(({ label: _old, ...a }): Activation => (name === '' ? a : { ...a, label: name }));
      for (const a of renamed) tx.put(ACT, actKey(a.userId, deviceId), activationRecord(a));
      tx.append(auditEvent(this.now(), opts.actor ?? this.actor, 'device.renamed', { device: deviceId, label: name === '' ? null : name, previous: on[0]?.label ?? null, users: on.map((a) => a.userId) }));
      return renamed;
    });
  }

  private async move(kind: 'device.transferred' | 'device.reinstalled', userId: string, fromDevice: string, toDevice: string, opts: MoveOptions & { countTransfer: boolean }): Promise<Activation> {
    userId = normalizeUserId(userId);
    checkId(fromDevice, 'device id');
    checkId(toDevice, 'device id');
    const info = checkInfo(opts.info);
    return this.store.transaction(this.license.id, async (tx) =>
      once(tx, opts.idempotencyKey, kind === 'device.transferred' ? 'device.transfer' : 'device.reinstall', { userId, fromDevice, toDevice }, ACTIVATION, async () => {
        const fromRaw = await tx.get(ACT, actKey(userId, fromDevice));
        if (fromRaw === undefined) throw activationNotFound(userId, fromDevice);
        if ((await tx.get(ACT, actKey(userId, toDevice))) !== undefined) {
          throw new LicenseError('ERR_USAGE', `"${userId}" has already activated device "${toDevice}"; deactivate "${fromDevice}" instead of transferring`, { userId, deviceId: toDevice });
        }
        const c = await readCounters(tx);
        if (opts.countTransfer) this.takeTransfer(c);
        const at = this.now();
        // The same machine keeps the name it was given; another machine starts unnamed.
        const label = kind === 'device.reinstalled' ? parseActivation(fromRaw).label : undefined;
        const a: Activation = { userId, deviceId: toDevice, activatedAt: new Date(at), validatedAt: new Date(at), info, ...(label === undefined ? {} : { label }) };
        tx.delete(ACT, actKey(userId, fromDevice));
        tx.put(ACT, actKey(userId, toDevice), activationRecord(a));
        writeCounters(tx, c);
        const details = { user: userId, from: fromDevice, device: toDevice, transfers: c.transfers };
        tx.append(auditEvent(at, opts.actor ?? this.actor, kind, kind === 'device.transferred' ? details : { ...details, transferCounted: opts.countTransfer }));
        return a;
      }),
    );
  }

  /** One user's activation of one device, or undefined: a single read, whatever the license holds. */
  async device(userId: string, deviceId: string): Promise<Activation | undefined> {
    userId = normalizeUserId(userId);
    checkId(deviceId, 'device id');
    const raw = await this.store.read(this.license.id, (r) => r.get(ACT, actKey(userId, deviceId)));
    return raw === undefined ? undefined : parseActivation(raw);
  }

  /** Activations, of one user or of everyone, sorted by user then device. */
  async devices(userId?: string): Promise<Activation[]> {
    if (userId !== undefined) userId = normalizeUserId(userId);
    return this.store.read(this.license.id, async (r) => (await r.list(ACT, userId === undefined ? '' : `${userId}\n`)).map((e) => parseActivation(e.value)));
  }

  /** The activation history of one device: every audit event that names it, oldest first. */
  async history(deviceId: string): Promise<SeatAuditEvent[]> {
    checkId(deviceId, 'device id');
    const events = await this.store.events(this.license.id);
    const names = (e: (typeof events)[number]) => {
      const { device, from, devices } = e.details;
      return device === deviceId || from === deviceId || (Array.isArray(devices) && devices.includes(deviceId));
    };
    return events.filter(names) as SeatAuditEvent[];
  }

  /** Users, activations and transfers against the license's limits. */
  async usage(): Promise<ActivationUsage> {
    const c = await this.store.read(this.license.id, readCounters);
    return {
      users: { licensed: this.license.maxUsers, inUse: c.users },
      activations: { licensed: this.license.maxActivations, inUse: c.activations },
      transfers: { licensed: this.license.maxTransfers, used: c.transfers },
    };
  }

  private checkRoom(userId: string, user: UserRecord, c: Counters): void {
    const own = user.maxActivations ?? this.license.maxUserActivations;
    if (own !== undefined && user.activations >= own) {
      throw new LicenseError('ERR_ACTIVATIONS_EXHAUSTED', `"${userId}" has activated ${user.activations} of ${own} allowed devices; deactivate or reset one of them, or raise the user's limit`, { userId, licensed: own, inUse: user.activations, scope: 'user' });
    }
    const total = this.license.maxActivations;
    if (total !== undefined && c.activations >= total) {
      throw new LicenseError('ERR_ACTIVATIONS_EXHAUSTED', `all device activations of the license are taken: ${total} licensed, ${c.activations} in use; deactivate or reset a device, or buy more activations`, { licensed: total, inUse: c.activations, scope: 'license' });
    }
  }

  private takeTransfer(c: Counters): void {
    const max = this.license.maxTransfers;
    if (max !== undefined && c.transfers >= max) {
      throw new LicenseError('ERR_TRANSFERS_EXHAUSTED', `all ${max} transfers of this license are used; ask the vendor to reset the device or to raise the limit`, { licensed: max, used: c.transfers });
    }
    c.transfers += 1;
  }

  /** Remove one activation and decrement both counts (the caller writes the counters). */
  private async dropOne(tx: StoreTx, c: Counters, userId: string, deviceId: string): Promise<void> {
    tx.delete(ACT, actKey(userId, deviceId));
    c.activations = Math.max(0, c.activations - 1);
    const raw = await tx.get(USER, userId);
    if (raw !== undefined) {
      const u = parseUser(userId, raw);
      tx.put(USER, userId, { ...u, activations: Math.max(0, u.activations - 1) });
    }
  }

  private async dropActivations(tx: StoreTx, c: Counters, userId: string): Promise<string[]> {
    const devices = (await tx.list(ACT, `${userId}\n`)).map((e) => parseActivation(e.value).deviceId);
    for (const d of devices) await this.dropOne(tx, c, userId, d);
    return devices;
  }

  private checkUserLimit(n: number): number {
    if (!Number.isSafeInteger(n) || n < 0) throw new LicenseError('ERR_USAGE', `a user's activation limit must be a whole number >= 0, got ${String(n)}`);
    const total = this.license.maxActivations;
    if (total !== undefined && n > total) throw new LicenseError('ERR_USAGE', `a user's activation limit (${n}) cannot exceed the license's ${total} activations`, { licensed: total });
    return n;
  }

  private toUser(userId: string, r: UserRecord): LicenseUser {
    return { userId, createdAt: new Date(r.createdAt), maxActivations: r.maxActivations ?? this.license.maxUserActivations, activations: r.activations };
  }
}
