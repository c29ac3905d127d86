/**
 * Floating (concurrent) seats: instead of naming users, a license's seats of a type are borrowed
 * by whoever runs the software now. A checkout is a lease with a time-to-live; the holder renews
 * it with heartbeats and checks it in when done. A holder that dies without checking in (SIGKILL,
 * power loss, a container that is torn down) gives its seat back when the lease runs out: nothing
 * on the dead side has to cooperate.
 *
 * A type is used either as named seats ({@link SeatManager}) or as floating seats, not both: the two
 * count separately.
 */
import { LicenseCounter } from './base.js';
import { LicenseError } from '../errors.js';
import { checkId, type JsonObject, type Store, type StoreTx } from '../store/store.js';
import { auditEvent } from './audit.js';
import { seatsFor, unknownType, type ActOptions, type SeatLimits, type SeatOptions } from './limits.js';
import { exhausted, type SeatUsage } from './seats.js';

/** A floating seat held by someone. */
export interface FloatingLease {
  /** Opaque lease id: what {@link FloatingSeats.heartbeat} and {@link FloatingSeats.checkin} take. */
  readonly id: string;
  /** The user type the seat is of, e.g. `"basic"`. */
  readonly type: string;
  /** Who holds it: a user, host or process name, for reports. */
  readonly holder: string;
  /** When the seat was checked out (heartbeats do not change it). */
  readonly checkedOutAt: Date;
  /** The seat is free again at this instant unless a heartbeat comes first. */
  readonly expiresAt: Date;
}

/** Options of {@link FloatingSeats}. */
export interface FloatingOptions extends SeatOptions {
  /** Lease time-to-live in milliseconds (default 60 000; 100 ms to 7 days). Heartbeat well within it (every third). */
  readonly ttlMs?: number;
}

const LEASE = 'lease';
const MIN_TTL = 100;
const MAX_TTL = 7 * 24 * 3600_000;

function parseLease(id: string, v: JsonObject): FloatingLease & { expiresMs: number } {
  const { type, holder, checkedOutAt, expiresAt } = v;
  if (typeof type !== 'string' || typeof holder !== 'string' || typeof checkedOutAt !== 'number' || typeof expiresAt !== 'number') {
    throw new LicenseError('ERR_STORE_CORRUPT', `the floating seat lease "${id}" is malformed; restore the store from a backup`, { leaseId: id });
  }
  return { id, type, holder, checkedOutAt: new Date(checkedOutAt), expiresAt: new Date(expiresAt), expiresMs: expiresAt };
}

const strip = ({ id, type, holder, checkedOutAt, expiresAt }: FloatingLease): FloatingLease => ({ id, type, holder, checkedOutAt, expiresAt });

/**
 * Check floating seats in and out.
 *
 * @example
 * ```ts
 * const floating = new FloatingSeats(store, license, { ttlMs: 30_000 });
 * const lease = await floating.checkout('build-agent-7', 'basic');
 * const timer = setInterval(() => floating.heartbeat(lease.id), 10_000);
 * // … work …
 * clearInterval(timer);
 * await floating.checkin(lease.id);
 * ```
 */
export class FloatingSeats extends LicenseCounter {
  /** The lease time-to-live in milliseconds. */
  readonly ttlMs: number;

  /** Throws `ERR_USAGE` when `options.ttlMs` is not a whole number from 100 ms to 7 days. */
  constructor(store: Store, license: SeatLimits, options: FloatingOptions = {}) {
    super(store, license, options);
    const ttl = options.ttlMs ?? 60_000;
    if (!Number.isSafeInteger(ttl) || ttl < MIN_TTL || ttl > MAX_TTL) {
      throw new LicenseError('ERR_USAGE', `ttlMs must be a whole number of milliseconds from ${MIN_TTL} to ${MAX_TTL}, got ${String(ttl)}`);
    }
    this.ttlMs = ttl;
  }

  /**
   * Borrow a seat of `type` for `holder`. Leases that ran out are returned first (each with a
   * `lease.expired` audit event), so a dead holder's seat is reused here.
   * @throws `ERR_UNKNOWN_USER_TYPE`, `ERR_SEATS_EXHAUSTED`
   */
  async checkout(holder: string, type: string, opts: ActOptions = {}): Promise<FloatingLease> {
    checkId(holder, 'holder');
    checkId(type, 'user type');
    const licensed = seatsFor(this.license, type);
    if (licensed === undefined) throw unknownType(this.license, type);
    const id = globalThis.crypto.randomUUID();
    return this.store.transaction(this.license.id, async (tx) => {
      const now = this.now();
      const live = await this.reap(tx, now);
      const inUse = live.filter((l) => l.type === type).length;
      if (inUse >= licensed) {
        const soonest = Math.min(...live.filter((l) => l.type === type).map((l) => l.expiresMs));
        const e = exhausted(this.license.id, type, licensed, inUse);
        throw new LicenseError(e.code, `${e.message}; the next lease lapses at ${Number.isFinite(soonest) ? new Date(soonest).toISOString() : 'once one is checked in'} unless renewed`, { ...e.details, floating: true });
      }
      const lease: FloatingLease = { id, type, holder, checkedOutAt: new Date(now), expiresAt: new Date(now + this.ttlMs) };
      tx.put(LEASE, id, { type, holder, checkedOutAt: now, expiresAt: now + this.ttlMs });
      tx.append(auditEvent(now, opts.actor ?? holder, 'lease.checked-out', { lease: id, holder, type, ttlMs: this.ttlMs, inUse: inUse + 1, licensed }));
      return lease;
    });
  }

  /**
   * Renew a lease for another time-to-live. Not an audit event (it extends, it does not change
   * who holds what).
   * @throws `ERR_LEASE_EXPIRED` when the lease ran out or was checked in: check out again
   */
  async heartbeat(leaseId: string): Promise<FloatingLease> {
    checkId(leaseId, 'lease id');
    return this.store.transaction(this.license.id, async (tx) => {
      const now = this.now();
      const raw = await tx.get(LEASE, leaseId);
      const lease = raw === undefined ? undefined : parseLease(leaseId, raw);
      if (lease === undefined || lease.expiresMs <= now) {
        throw new LicenseError('ERR_LEASE_EXPIRED', `floating seat lease "${leaseId}" ${lease === undefined ? 'is not held (checked in or reclaimed)' : `ran out at ${lease.expiresAt.toISOString()}`}; check out a seat again`, { leaseId });
      }
      const renewed = { ...strip(lease), expiresAt: new Date(now + this.ttlMs) };
      tx.put(LEASE, leaseId, { type: lease.type, holder: lease.holder, checkedOutAt: lease.checkedOutAt.getTime(), expiresAt: now + this.ttlMs });
      return renewed;
    });
  }

  /** Give a seat back. Returns false when the lease was no longer held (already checked in or reclaimed). */
  async checkin(leaseId: string, opts: ActOptions = {}): Promise<boolean> {
    checkId(leaseId, 'lease id');
    return this.store.transaction(this.license.id, async (tx) => {
      const raw = await tx.get(LEASE, leaseId);
      if (raw === undefined) return false;
      const lease = parseLease(leaseId, raw);
      tx.delete(LEASE, leaseId);
      tx.append(auditEvent(this.now(), opts.actor ?? lease.holder, 'lease.checked-in', { lease: leaseId, holder: lease.holder, type: lease.type }));
      return true;
    });
  }

  /** Leases that have not run out, sorted by id. */
  async active(): Promise<FloatingLease[]> {
    const now = this.now();
    return this.store.read(this.license.id, async (r) => (await r.list(LEASE)).map((e) => parseLease(e.key, e.value)).filter((l) => l.expiresMs > now).map(strip));
  }

  /** Per type: floating seats licensed, held now, available. */
  async usage(): Promise<SeatUsage[]> {
    const live = await this.active();
    const types = new Set([...Object.keys(this.license.seats), ...live.map((l) => l.type)]);
    return [...types].sort().map((type) => {
      const licensed = seatsFor(this.license, type) ?? 0;
      const inUse = live.filter((l) => l.type === type).length;
      return { type, licensed, inUse, available: Math.max(0, licensed - inUse), over: inUse > licensed };
    });
  }

  /** Delete every lapsed lease (with an audit event each) and return the live ones. */
  private async reap(tx: StoreTx, now: number): Promise<Array<FloatingLease & { expiresMs: number }>> {
    const live: Array<FloatingLease & { expiresMs: number }> = [];
    for (const e of await tx.list(LEASE)) {
      const l = parseLease(e.key, e.value);
      if (l.expiresMs > now) {
        live.push(l);
        continue;
      }
      tx.delete(LEASE, l.id);
      tx.append(auditEvent(now, 'system', 'lease.expired', { lease: l.id, holder: l.holder, type: l.type, expiredAt: l.expiresAt.toISOString() }));
    }
    return live;
  }
}
