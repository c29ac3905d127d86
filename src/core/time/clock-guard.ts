/**
 * Clock-rollback detection. The guard remembers the highest time it has seen (sealed, so it
 * cannot be edited) and refuses a clock set back by more than a tolerance. The time licit then
 * believes is the larger of the system clock and that high-water mark.
 *
 * A mark set by a clock that was once wrong (a single check at 2099) would lock the application out
 * for good, so a time the vendor signed resets it ({@link ClockGuard.acceptSignedTime}): the server
 * time of a fresh lease. The state may be kept in several stores at once (the guard's file and the
 * installation's state directory, {@link ClockGuardOptions.alsoKeepIn}) and checked against times other
 * records prove have passed ({@link ClockGuardOptions.witnesses}), so deleting or restoring one file
 * does not undo the detection.
 */
import { utf8 } from '../codec/bytes.js';
import { LicenseError } from '../errors.js';
import type { Lease } from '../exchange/lease.js';
import { requireSecret } from '../crypto/require-secret.js';
import { deriveSealKey, seal, unseal, type SealKey } from '../crypto/seal.js';

/** Where the sealed high-water mark lives (a file in Node; anything in other runtimes). */
export interface SealedStateStore {
  /** The stored bytes, or `undefined` when nothing was stored yet. */
  read(): Promise<Uint8Array | undefined>;
  /** Replace the stored bytes atomically. */
  write(bytes: Uint8Array): Promise<void>;
}

/**
 * A record that proves some time has already passed on this machine, e.g. the credit ledger (its
 * records carry the time they were written). The guard never writes to it.
 *
 * @example
 * ```ts
 * const ledgerWitness: TimeWitness = {
 *   highestKnownTime: async () => (await ledger.history()).reduce<Date | undefined>((t, e) => (t === undefined || e.time > t ? e.time : t), undefined),
 * }
 * ```
 */
export interface TimeWitness {
  /** The latest time the record holds, or `undefined` when it holds none. */
  highestKnownTime(): Promise<Date | undefined> | Date | undefined;
}

/** Options of {@link ClockGuard}. */
export interface ClockGuardOptions {
  /** Where to keep the sealed state. */
  readonly store: SealedStateStore;
  /** Application secret the seal key is derived from. Required: there is no default (`ERR_SECRET_REQUIRED`). */
  readonly secret: string | Uint8Array;
  /** How far back the clock may step without being called tampering. Default 10 minutes (NTP corrections, DST bugs). */
  readonly toleranceMs?: number | undefined;
  /**
   * More stores that keep the same sealed state, e.g. `installation.clockStore`. Every write goes to
   * all of them; a read believes the copy that accepted the newest signed time (the highest mark
   * among equals), so a deleted or restored copy is outvoted by the others. Default: none.
   */
  readonly alsoKeepIn?: readonly SealedStateStore[] | undefined;
  /**
   * Records whose latest time counts as seen (read when the state is loaded and before a refusal).
   * Times a signed correction discarded are not believed again. Default: none.
   */
  readonly witnesses?: readonly TimeWitness[] | undefined;
}

/** What {@link ClockGuard.acceptSignedTime} did. */
export interface SignedTimeResult {
  /** True when the signed time was newer than every signed time accepted before and now anchors the mark. */
  readonly accepted: boolean;
  /** The mark that was thrown away because it was ahead of the signed time (a clock that was wrong), if any. */
  readonly discarded: Date | undefined;
  /** The high-water mark now. */
  readonly highWaterMark: Date;
}

/** The guard's sealed state (ms since the epoch; 0 when never set). */
interface GuardState {
  /** Highest time seen since the last signed time was accepted. */
  readonly mark: number;
  /** Server time of the newest signed time accepted (0: none yet). */
  readonly signed: number;
  /** Witness times up to this one predate that signed time and are not believed again. */
  readonly discardedUpTo: number;
}

const AAD_V1 = utf8('licit-clock-guard-v1'); // 8 bytes: the mark alone (read, never written)
const AAD = utf8('licit-clock-guard-v2'); // 24 bytes: mark, signed, discardedUpTo
const EMPTY: GuardState = { mark: 0, signed: 0, discardedUpTo: 0 };
/** Persist the mark only when it moved by this much, so a hot verify loop does not write a file each time. */
const PERSIST_STEP_MS = 60_000;

/**
 * Detects a system clock set back to stretch a license. Pass it to `verifyLicense({ clockGuard })`.
 *
 * @example
 * ```ts
 * const clockGuard = new ClockGuard({ store: new SealedFile('/var/lib/app/clock'), secret: APP_SECRET })
 * const trusted = await clockGuard.check() // rejects ERR_CLOCK_TAMPERED after a rollback
 * ```
 */
export class ClockGuard {
  /** How far back the clock may step, in ms. */
  readonly toleranceMs: number;
  readonly #stores: readonly SealedStateStore[];
  readonly #witnesses: readonly TimeWitness[];
  readonly #secret: string | Uint8Array;
  #key: Promise<SealKey> | undefined;
  #state: GuardState | undefined;
  #persisted = -Infinity;

  /** A guard over `options.store` (and `options.alsoKeepIn`), sealed with a key derived from `options.secret`. Throws `ERR_SECRET_REQUIRED` without a secret. */
  constructor(options: ClockGuardOptions) {
    this.#secret = requireSecret(options?.secret, 'the clock guard');
    this.#stores = [options.store, ...(options.alsoKeepIn ?? [])];
    this.#witnesses = options.witnesses ?? [];
    this.toleranceMs = options.toleranceMs ?? 10 * 60_000;
  }

  #sealKey(): Promise<SealKey> {
    this.#key ??= deriveSealKey(this.#secret, 'clock-guard');
    return this.#key;
  }

  /** Every store's state merged; `strict` refuses an altered copy, otherwise it counts as missing. */
  async #readStores(strict: boolean): Promise<GuardState> {
    let st = EMPTY;
    for (const store of this.#stores) {
      const bytes = await store.read();
      if (bytes === undefined) continue;
      const one = await this.#decode(bytes);
      if (one === undefined) {
        if (!strict) continue;
        throw new LicenseError(
          'ERR_STATE_TAMPERED',
          'the clock guard state was altered or belongs to another application (another secret). Restore it; or renew online or apply a response code from the vendor (licit request / licit apply), which resets it.',
        );
      }
      st = merge(st, one);
    }
    return st;
  }

  async #decode(bytes: Uint8Array): Promise<GuardState | undefined> {
    const key = await this.#sealKey();
    const plain = await unseal(key, bytes, AAD);
    if (plain?.length === 24) {
      const v = new DataView(plain.buffer, plain.byteOffset, 24);
      const st = { mark: v.getFloat64(0), signed: v.getFloat64(8), discardedUpTo: v.getFloat64(16) };
      return [st.mark, st.signed, st.discardedUpTo].every((n) => Number.isFinite(n) && n >= 0) && st.mark >= st.signed ? st : undefined;
    }
    const old = plain === undefined ? await unseal(key, bytes, AAD_V1) : undefined;
    const mark = old?.length === 8 ? new DataView(old.buffer, old.byteOffset, 8).getFloat64(0) : NaN;
    return Number.isFinite(mark) && mark >= 0 ? { mark, signed: 0, discardedUpTo: 0 } : undefined;
  }

  /** The latest witness time not discarded by a signed correction (0 when none). */
  async #witnessTime(discardedUpTo: number): Promise<number> {
    let best = 0;
    for (const w of this.#witnesses) {
      const t = (await w.highestKnownTime())?.getTime();
      if (t !== undefined && Number.isFinite(t) && t > discardedUpTo && t > best) best = t;
    }
    return best;
  }

  /** Read the stores and witnesses again, merged with what this guard holds in memory. */
  async #reload(): Promise<GuardState> {
    const disk = await this.#readStores(true);
    this.#persisted = disk.mark;
    let st = this.#state === undefined ? disk : merge(disk, this.#state);
    const w = await this.#witnessTime(st.discardedUpTo);
    if (w > st.mark) st = { ...st, mark: w };
    this.#state = st;
    return st;
  }

  async #load(): Promise<GuardState> {
    return this.#state ?? this.#reload();
  }

  async #write(st: GuardState): Promise<void> {
    const buf = new Uint8Array(24);
    const v = new DataView(buf.buffer);
    v.setFloat64(0, st.mark);
    v.setFloat64(8, st.signed);
    v.setFloat64(16, st.discardedUpTo);
    const sealed = await seal(await this.#sealKey(), buf, AAD);
    for (const store of this.#stores) await store.write(sealed);
    this.#state = st;
    this.#persisted = st.mark;
  }

  /** The highest time seen so far (ms since the epoch; 0 on first use). */
  async highWaterMark(): Promise<number> {
    return (await this.#load()).mark;
  }

  /** The server time of the newest signed time accepted ({@link ClockGuard.acceptSignedTime}), or `undefined`. */
  async lastSignedTime(): Promise<Date | undefined> {
    const { signed } = await this.#load();
    return signed === 0 ? undefined : new Date(signed);
  }

  /**
   * Check the system clock `now` against the mark. Resolves to the time to trust (the larger of
   * the two); rejects `ERR_CLOCK_TAMPERED` when `now` is further back than the tolerance, also after
   * reading the stores again (another process may have accepted a signed time since).
   */
  async check(now: Date = new Date()): Promise<Date> {
    const t = now.getTime();
    let st = await this.#load();
    if (t < st.mark - this.toleranceMs) st = await this.#reload();
    if (t < st.mark - this.toleranceMs) {
      throw new LicenseError(
        'ERR_CLOCK_TAMPERED',
        `the system clock (${now.toISOString()}) is behind a time this installation has already seen (${new Date(st.mark).toISOString()}). Set the clock correctly; if it is correct now, renew online or apply a response code from the vendor (licit request / licit apply) to reset the time check.`,
        { now: now.toISOString(), highWaterMark: new Date(st.mark).toISOString() },
      );
    }
    await this.observe(now);
    return new Date(Math.max(t, st.mark));
  }

  /** Raise the mark to `time` if it is later (a time known to have passed). Never lowers it. */
  async observe(time: Date): Promise<void> {
    const st = await this.#load();
    const t = time.getTime();
    if (!(t > st.mark)) return;
    this.#state = { ...st, mark: t };
    if (t - this.#persisted < PERSIST_STEP_MS) return;
    // Read, merge, write: a copy another guard corrected since must not be overwritten with a mark it discarded.
    const disk = merge(await this.#readStores(true), this.#state);
    await this.#write({ ...disk, mark: Math.max(disk.mark, t) });
  }

  /**
   * Anchor the mark to a time the vendor signed: the `serverTime` of a lease that answers a request
   * this installation made. Pass only a lease whose signature, binding and nonce you verified
   * (`verifyLease`, `Licensing.applyResponse` and `licit apply` do), at the moment you install it.
   *
   * When `lease.serverTime` is later than every signed time accepted before, the mark becomes that
   * time, **even when it is lower**: a mark ahead of the vendor's clock came from a clock that was
   * wrong, and is discarded (with the witness times of that era), so a clock that is correct now
   * passes {@link ClockGuard.check} again. A lease no newer than the last signed time accepted
   * (an old lease replayed) changes nothing: it can never lower the mark. Altered copies are
   * overwritten, since the signed time is better evidence than they were.
   *
   * @example
   * ```ts
   * const lease = await verifyLease(code, { publicKeys, ...binding, pending })
   * await clockGuard.acceptSignedTime(lease)
   * ```
   */
  async acceptSignedTime(lease: Lease): Promise<SignedTimeResult> {
    const s = lease?.serverTime instanceof Date ? lease.serverTime.getTime() : NaN;
    if (!Number.isFinite(s) || s <= 0) throw new LicenseError('ERR_USAGE', 'acceptSignedTime needs a verified lease (its serverTime)');
    let cur = await this.#readStores(false);
    if (this.#state !== undefined) cur = merge(cur, this.#state);
    if (s <= cur.signed) {
      return { accepted: false, discarded: undefined, highWaterMark: new Date(cur.mark) };
    }
    const seen = Math.max(cur.mark, await this.#witnessTime(cur.discardedUpTo));
    await this.#write({ mark: s, signed: s, discardedUpTo: Math.max(cur.discardedUpTo, seen) });
    return { accepted: true, discarded: seen > s ? new Date(seen) : undefined, highWaterMark: new Date(s) };
  }
}

/** The copy that accepted the newer signed time wins; between equals, the higher mark. */
function merge(a: GuardState, b: GuardState): GuardState {
  if (a.signed !== b.signed) return a.signed > b.signed ? a : b;
  return { mark: Math.max(a.mark, b.mark), signed: a.signed, discardedUpTo: Math.max(a.discardedUpTo, b.discardedUpTo) };
}
