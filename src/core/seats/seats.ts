/**
 * Named seats per user type: the "how many basic and advanced users may exist" rule of a license.
 * Every check-and-insert runs inside one store transaction, so a limit holds across processes
 * and machines sharing the store.
 */
import { LicenseCounter } from './base.js';
import { LicenseError } from '../errors.js';
import { once, type ResultCodec } from './once.js';
import { checkId, type JsonObject, type StoreReader } from '../store/store.js';
import { normalizeUserId } from './user-id.js';
import { auditEvent } from './audit.js';
import { readCounters, writeCounters } from './counters.js';
import { seatsFor, unknownType, type ActOptions } from './limits.js';

/** One user holding a seat. */
export interface SeatAssignment {
  /** The user holding the seat. */
  readonly userId: string;
  /** The seat's user type, e.g. `"basic"`. */
  readonly type: string;
  /** When the user got a seat of this type. */
  readonly since: Date;
}

/** Seats of one user type. */
export interface SeatUsage {
  /** The user type these counts are for. */
  readonly type: string;
  /** Seats the license grants (0 for a type it no longer has). */
  readonly licensed: number;
  /** Users holding a seat of the type. */
  readonly inUse: number;
  /** `licensed - inUse`, never below 0. */
  readonly available: number;
  /** True when more are in use than licensed (after a key with fewer seats was registered). */
  readonly over: boolean;
}

/** What a user may reach; see {@link SeatManager.access}. */
export type AccessLevel = 'full' | 'admin-only' | 'denied';

/** The answer of {@link SeatManager.access}. */
export interface AccessDecision {
  /** What the user may reach: `full`, `admin-only` or `denied`. */
  readonly access: AccessLevel;
  /** The user's seat type, when the user holds one. */
  readonly type?: string;
  /** Why access is not full (`ERR_SEATS_EXCEEDED` or `ERR_USER_NOT_FOUND`); absent when full. */
  readonly error?: LicenseError;
}

const SEAT = 'seat';

/** Seat assignments as idempotency results. */
const ASSIGNMENT: ResultCodec<SeatAssignment> = {
  encode: (a) => ({ userId: a.userId, type: a.type, since: a.since.toISOString() }),
  decode: (j) => toAssignment(String((j as JsonObject).userId), j as JsonObject),
};

function toAssignment(userId: string, v: JsonObject): SeatAssignment {
  if (typeof v.type !== 'string' || typeof v.since !== 'string') {
    throw new LicenseError('ERR_STORE_CORRUPT', `the seat record of "${userId}" is malformed; release and assign the user again, or restore the store from a backup`, { userId });
  }
  return { userId, type: v.type, since: new Date(v.since) };
}

/**
 * Assign, reassign and release named seats of a license, and answer who may work.
 *
 * @example
 * ```ts
 * const seats = new SeatManager(store, license);       // license.seats = { basic: 10, advanced: 2 }
 * await seats.assign('ann@example.com', 'advanced');
 * (await seats.usage()).find((u) => u.type === 'advanced'); // { licensed: 2, inUse: 1, available: 1, … }
 * (await seats.access('ann@example.com')).access;       // 'full'
 * ```
 */
export class SeatManager extends LicenseCounter {

  /**
   * Give `userId` a seat of `type`. Assigning a user who already holds a seat of that type
   * changes nothing; one who holds another type must be {@link reassign}ed.
   * @throws `ERR_UNKNOWN_USER_TYPE`, `ERR_SEATS_EXHAUSTED` (message says licensed and in use), `ERR_SEAT_CONFLICT` (the user holds another type), `ERR_USAGE`
   */
  async assign(userId: string, type: string, opts: ActOptions = {}): Promise<SeatAssignment> {
    userId = normalizeUserId(userId);
    const licensed = this.licensedFor(type);
    return this.store.transaction(this.license.id, async (tx) =>
      once(tx, opts.idempotencyKey, 'seat.assign', { userId, type }, ASSIGNMENT, async () => {
        const existing = await tx.get(SEAT, userId);
        if (existing !== undefined) {
          const a = toAssignment(userId, existing);
          if (a.type === type) return a;
          throw new LicenseError('ERR_SEAT_CONFLICT', `"${userId}" already holds a ${a.type} seat; reassign the user to change the type`, { userId, type: a.type });
        }
        const c = await readCounters(tx);
        const inUse = c.seats[type] ?? 0;
        if (inUse >= licensed) throw exhausted(this.license.id, type, licensed, inUse);
        const at = this.now();
        c.seats[type] = inUse + 1;
        writeCounters(tx, c);
        tx.put(SEAT, userId, { type, since: new Date(at).toISOString() });
        tx.append(auditEvent(at, opts.actor ?? this.actor, 'seat.assigned', { user: userId, type, inUse: inUse + 1, licensed }));
        return { userId, type, since: new Date(at) };
      }),
    );
  }

  /**
   * Move `userId` to a seat of another type (the old seat is freed in the same step).
   * @throws `ERR_USER_NOT_FOUND`, `ERR_UNKNOWN_USER_TYPE`, `ERR_SEATS_EXHAUSTED`
   */
  async reassign(userId: string, type: string, opts: ActOptions = {}): Promise<SeatAssignment> {
    userId = normalizeUserId(userId);
    const licensed = this.licensedFor(type);
    return this.store.transaction(this.license.id, async (tx) =>
      once(tx, opts.idempotencyKey, 'seat.reassign', { userId, type }, ASSIGNMENT, async () => {
        const existing = await tx.get(SEAT, userId);
        if (existing === undefined) throw notFound(userId);
        const old = toAssignment(userId, existing);
        if (old.type === type) return old;
        const c = await readCounters(tx);
        const inUse = c.seats[type] ?? 0;
        if (inUse >= licensed) throw exhausted(this.license.id, type, licensed, inUse);
        const at = this.now();
        c.seats[type] = inUse + 1;
        c.seats[old.type] = Math.max(0, (c.seats[old.type] ?? 0) - 1);
        writeCounters(tx, c);
        tx.put(SEAT, userId, { type, since: new Date(at).toISOString() });
        tx.append(auditEvent(at, opts.actor ?? this.actor, 'seat.reassigned', { user: userId, from: old.type, type, inUse: inUse + 1, licensed }));
        return { userId, type, since: new Date(at) };
      }),
    );
  }

  /**
   * Free the seat of `userId`. Always allowed, also while over the limit (that is how usage fits again).
   * @throws `ERR_USER_NOT_FOUND`
   */
  async release(userId: string, opts: ActOptions = {}): Promise<SeatAssignment> {
    userId = normalizeUserId(userId);
    return this.store.transaction(this.license.id, async (tx) =>
      once(tx, opts.idempotencyKey, 'seat.release', { userId }, ASSIGNMENT, async () => {
        const existing = await tx.get(SEAT, userId);
        if (existing === undefined) throw notFound(userId);
        const old = toAssignment(userId, existing);
        const c = await readCounters(tx);
        const inUse = Math.max(0, (c.seats[old.type] ?? 0) - 1);
        c.seats[old.type] = inUse;
        writeCounters(tx, c);
        tx.delete(SEAT, userId);
        tx.append(auditEvent(this.now(), opts.actor ?? this.actor, 'seat.released', { user: userId, type: old.type, inUse }));
        return old;
      }),
    );
  }

  /** Every user holding a seat, with its type, sorted by user id: "which users hold which license type". */
  async list(): Promise<SeatAssignment[]> {
    return this.store.read(this.license.id, async (r) => (await r.list(SEAT)).map((e) => toAssignment(e.key, e.value)));
  }

  /** Per user type: licensed, in use, available. Lists the license's types and any type still in use. */
  async usage(): Promise<SeatUsage[]> {
    return this.store.read(this.license.id, (r) => this.usageFrom(r));
  }

  /**
   * What `userId` may reach now. `full` when the user holds a seat of a type that is within its
   * limit. When a newer key lowered the seats of the user's type below what is in use, nothing is
   * deleted: administrators get `admin-only` (they may reach administration, to remove users) and
   * everyone else `denied` with `ERR_SEATS_EXCEEDED`, until usage fits again. A user without a
   * seat is `denied` with `ERR_USER_NOT_FOUND` (an administrator: `admin-only`).
   */
  async access(
    userId: string,
    opts: {
      /** The user is an administrator: `admin-only` instead of `denied` (default false). */
      admin?: boolean;
    } = {},
  ): Promise<AccessDecision> {
    userId = normalizeUserId(userId);
    return this.store.read(this.license.id, async (r) => {
      const rec = await r.get(SEAT, userId);
      const fallback = opts.admin === true ? 'admin-only' : 'denied';
      if (rec === undefined) return { access: fallback, error: notFound(userId) };
      const { type } = toAssignment(userId, rec);
      const c = await readCounters(r);
      const licensed = seatsFor(this.license, type) ?? 0;
      const inUse = c.seats[type] ?? 0;
      if (inUse <= licensed) return { access: 'full', type };
      const error = new LicenseError(
        'ERR_SEATS_EXCEEDED',
        `${inUse} users hold a ${type} seat but the license grants ${licensed}; an administrator must remove ${inUse - licensed} ${type} user${inUse - licensed === 1 ? '' : 's'} or register a key with more seats`,
        { type, licensed, inUse },
      );
      return { access: fallback, type, error };
    });
  }

  private async usageFrom(r: StoreReader): Promise<SeatUsage[]> {
    const c = await readCounters(r);
    const types = new Set([...Object.keys(this.license.seats), ...Object.keys(c.seats)]);
    return [...types].sort().map((type) => {
      const licensed = seatsFor(this.license, type) ?? 0;
      const inUse = c.seats[type] ?? 0;
      return { type, licensed, inUse, available: Math.max(0, licensed - inUse), over: inUse > licensed };
    });
  }

  private licensedFor(type: string): number {
    checkId(type, 'user type');
    const n = seatsFor(this.license, type);
    if (n === undefined) throw unknownType(this.license, type);
    return n;
  }
}

function notFound(userId: string): LicenseError {
  return new LicenseError('ERR_USER_NOT_FOUND', `"${userId}" holds no seat on this license; assign one first`, { userId });
}

/** `ERR_SEATS_EXHAUSTED` with the numbers a person needs to decide what to do. */
export function exhausted(licenseId: string, type: string, licensed: number, inUse: number): LicenseError {
  return new LicenseError(
    'ERR_SEATS_EXHAUSTED',
    `all ${type} seats are taken: ${licensed} licensed, ${inUse} in use; release a ${type} user or buy more ${type} seats`,
    { licenseId, type, licensed, inUse },
  );
}
