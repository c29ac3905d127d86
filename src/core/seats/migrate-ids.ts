/**
 * Bringing a store written before user ids were normalised (NFC, trimmed) to one record per user.
 * A store may hold `'ann'` and `' ann '`, or `José` composed and decomposed, as two users with two
 * seats. The merge keeps what a careful administrator would: the earliest record of each user, one
 * seat, every device once, no limit exceeded, and one audited event saying what changed. It runs
 * only when asked (`licit seats migrate-ids`, or {@link migrateUserIds}), after a dry run if wanted.
 */
import { LicenseCounter } from './base.js';
import { LicenseError } from '../errors.js';
import type { JsonObject, StoreEntry, StoreReader, StoreTx } from '../store/store.js';
import { auditEvent } from './audit.js';
import { readCounters, writeCounters, type Counters } from './counters.js';
import type { SeatLimits, SeatOptions } from './limits.js';

const SEAT = 'seat';
const USER = 'user';
const ACT = 'activation';

/** What happened to the records of one user id. */
export interface MergedUserId {
  /** The normalised id the records now live under. */
  readonly userId: string;
  /** The stored forms found (JSON-escaped in text output, since they differ only invisibly). */
  readonly forms: string[];
  /** The form whose record was kept (the earliest). */
  readonly kept: string;
  /** Seats freed because the user held more than one (type per freed seat). */
  readonly seatsFreed: string[];
  /** Devices deactivated: duplicates of a device activated under two forms, then the newest beyond the user's device limit. */
  readonly devicesDeactivated: string[];
}

/** The outcome of {@link migrateUserIds}. */
export interface UserIdMigration {
  /** True when nothing was written (`dryRun`). */
  readonly dryRun: boolean;
  /** Seat holders whose records were renamed or merged. */
  readonly seats: MergedUserId[];
  /** License users whose records (and activations) were renamed or merged. */
  readonly users: MergedUserId[];
  /** Sequence number of the audit event written (`user.ids-normalized`), when anything changed and this was not a dry run. */
  readonly eventSeq?: number;
}

const norm = (id: string) => id.normalize('NFC').trim();

/** Append one ordinary event of the merge (no-op in a dry run). */
type Emit = (kind: 'seat.released' | 'user.removed' | 'device.deactivated', details: JsonObject) => number;

/** Group records by the normalised form of their key; only groups that need work (a non-normal key, or several forms). */
function groups(entries: StoreEntry[], keyOf: (e: StoreEntry) => string = (e) => e.key): Map<string, StoreEntry[]> {
  const out = new Map<string, StoreEntry[]>();
  for (const e of entries) {
    const n = norm(keyOf(e));
    if (n === '') continue; // blank once trimmed: not a user any entry point can name; left as it is
    out.set(n, [...(out.get(n) ?? []), e]);
  }
  for (const [n, list] of out) if (list.length === 1 && list[0]!.key === n) out.delete(n);
  return out;
}

/** Earliest first by `field`; equal times prefer the form already normal, then code-unit order. */
function byEarliest(field: string, normal: string) {
  return (a: StoreEntry, b: StoreEntry): number => {
    const ta = Date.parse(String(a.value[field]));
    const tb = Date.parse(String(b.value[field]));
    if (ta !== tb) return (Number.isNaN(ta) ? Infinity : ta) - (Number.isNaN(tb) ? Infinity : tb);
    if ((a.key === normal) !== (b.key === normal)) return a.key === normal ? -1 : 1;
    return a.key < b.key ? -1 : 1;
  };
}

class UserIdMigrator extends LicenseCounter {
  async run(opts: { dryRun?: boolean; actor?: string }): Promise<UserIdMigration> {
    if (opts.dryRun === true) {
      // The same plan over a snapshot, with writes dropped.
      return this.store.read(this.license.id, async (r) => ({ ...(await this.migrate(r, undefined)), dryRun: true }));
    }
    return this.store.transaction(this.license.id, async (tx) => {
      const at = this.now();
      const actor = opts.actor ?? this.actor;
      const events: Emit = (kind, details) => tx.append(auditEvent(at, actor, kind, { ...details, reason: 'user-id-normalized' }));
      const result = await this.migrate(tx, tx, events);
      if (result.seats.length + result.users.length === 0) return result;
      const details: JsonObject = { seats: result.seats.map((m) => ({ ...m })), users: result.users.map((m) => ({ ...m })) };
      const eventSeq = tx.append(auditEvent(at, actor, 'user.ids-normalized', details));
      return { ...result, eventSeq };
    });
  }

  /**
   * Every seat freed, user merged away and device deactivated is also written as the ordinary
   * event (`seat.released`, `user.removed`, `device.deactivated`, with the count after it and
   * `reason: "user-id-normalized"`), so reports replaying the log count the merge like any change.
   */
  private async migrate(r: StoreReader, tx: StoreTx | undefined, emit: Emit = () => 0): Promise<UserIdMigration> {
    const c = await readCounters(r);
    const seats = await this.seats(r, tx, c, emit);
    const users = await this.users(r, tx, c, emit);
    if (tx !== undefined && seats.length + users.length > 0) writeCounters(tx, c);
    return { dryRun: false, seats, users };
  }

  /** One seat per user: the earliest assignment is kept (its type and `since`), the others freed. */
  private async seats(r: StoreReader, tx: StoreTx | undefined, c: Counters, emit: Emit): Promise<MergedUserId[]> {
    const out: MergedUserId[] = [];
    for (const [userId, list] of groups(await r.list(SEAT))) {
      const [keep, ...rest] = [...list].sort(byEarliest('since', userId)) as [StoreEntry, ...StoreEntry[]];
      const seatsFreed: string[] = [];
      for (const e of rest) {
        const type = String(e.value.type);
        c.seats[type] = Math.max(0, (c.seats[type] ?? 0) - 1);
        seatsFreed.push(type);
        tx?.delete(SEAT, e.key);
        emit('seat.released', { user: e.key, type, inUse: c.seats[type] ?? 0, mergedInto: userId });
      }
      if (keep.key !== userId) {
        tx?.delete(SEAT, keep.key);
        tx?.put(SEAT, userId, keep.value);
      }
      out.push({ userId, forms: list.map((e) => e.key), kept: keep.key, seatsFreed, devicesDeactivated: [] });
    }
    return out;
  }

  /**
   * One license user per id: the earliest is kept (its own device limit too); the devices of every
   * form move to it, each device once (its earliest activation), and when they are more than the
   * user may activate the newest are deactivated, so no limit is exceeded after the merge.
   */
  private async users(r: StoreReader, tx: StoreTx | undefined, c: Counters, emit: Emit): Promise<MergedUserId[]> {
    const out: MergedUserId[] = [];
    const byUser = groups(await r.list(USER));
    // Activations stored under a non-normal user form whose user record is already normal would be stranded: include them.
    for (const a of await r.list(ACT)) {
      const user = String(a.value.user);
      const n = norm(user);
      if (user !== n && n !== '' && !byUser.has(n)) {
        const rec = await r.get(USER, n);
        if (rec !== undefined) byUser.set(n, [{ key: n, value: rec }]);
      }
    }
    for (const [userId, list] of byUser) {
      const [keep, ...rest] = [...list].sort(byEarliest('createdAt', userId)) as [StoreEntry, ...StoreEntry[]];
      // Every activation of every form, earliest first.
      const acts: StoreEntry[] = [];
      for (const e of list) acts.push(...(await r.list(ACT, `${e.key}\n`)));
      for (const a of await r.list(ACT)) if (norm(String(a.value.user)) === userId && !acts.some((x) => x.key === a.key)) acts.push(a);
      acts.sort(byEarliest('activatedAt', ''));
      const devicesDeactivated: string[] = [];
      const kept: StoreEntry[] = [];
      for (const a of acts) {
        if (kept.some((k) => k.value.device === a.value.device)) devicesDeactivated.push(String(a.value.device));
        else kept.push(a);
      }
      const own = keep.value.maxActivations;
      const limit = typeof own === 'number' ? own : this.license.maxUserActivations;
      while (limit !== undefined && kept.length > limit) devicesDeactivated.push(String(kept.pop()!.value.device));
      for (const device of devicesDeactivated) {
        c.activations = Math.max(0, c.activations - 1);
        emit('device.deactivated', { user: userId, device, inUse: c.activations });
      }
      for (const e of rest) {
        c.users = Math.max(0, c.users - 1);
        emit('user.removed', { user: e.key, devices: [], inUse: c.users, mergedInto: userId });
      }
      if (tx !== undefined) {
        for (const e of list) tx.delete(USER, e.key);
        for (const a of acts) tx.delete(ACT, a.key);
        tx.put(USER, userId, { ...keep.value, activations: kept.length });
        for (const a of kept) tx.put(ACT, `${userId}\n${String(a.value.device)}`, { ...a.value, user: userId });
      }
      out.push({ userId, forms: list.map((e) => e.key), kept: keep.key, seatsFreed: [], devicesDeactivated });
    }
    return out;
  }
}

/**
 * Merge the records of user ids that are one user once normalised (Unicode NFC, surrounding
 * whitespace trimmed; see `normalizeUserId`), in one transaction of one license:
 *
 * - **seats**: the earliest assignment is kept under the normal id (its type and `since`); the
 *   other forms' seats are freed, so usage only goes down;
 * - **license users**: the earliest user is kept (with its own device limit); the devices of all
 *   forms move to it, a device activated under two forms once (its earliest activation); if the
 *   user then has more devices than it may activate, the most recently activated are deactivated
 *   (they activate again, counted, on their next exchange);
 * - one `user.ids-normalized` audit event lists every id, the forms found, what was kept, the
 *   seats freed and the devices deactivated. Running it again changes nothing.
 *
 * `dryRun: true` computes the same answer from a snapshot and writes nothing.
 *
 * @example
 * ```ts
 * const plan = await migrateUserIds(store, license, { dryRun: true }) // look first
 * if (plan.seats.length + plan.users.length > 0) await migrateUserIds(store, license, { actor: 'admin' })
 * ```
 */
export async function migrateUserIds(
  store: ConstructorParameters<typeof UserIdMigrator>[0],
  license: SeatLimits,
  options: SeatOptions & {
    /** Compute and return the merge without writing it. Default false. */
    readonly dryRun?: boolean;
  } = {},
): Promise<UserIdMigration> {
  if (options.dryRun !== undefined && typeof options.dryRun !== 'boolean') throw new LicenseError('ERR_USAGE', 'dryRun must be true or false');
  return new UserIdMigrator(store, license, options).run({ dryRun: options.dryRun, actor: options.actor });
}
