/**
 * Clock-rollback detection. The guard remembers the highest time it has seen (sealed, so it
 * cannot be edited) and refuses a clock set back by more than a tolerance. The time licit then
 * believes is the larger of the system clock and that high-water mark; server times from leases
 * raise the mark too ({@link ClockGuard.observe}).
 */
import { utf8 } from './bytes.js';
import { LicenseError } from './errors.js';
import { deriveSealKey, seal, unseal, type SealKey } from './seal.js';

/** Where the sealed high-water mark lives (a file in Node; anything in other runtimes). */
export interface SealedStateStore {
  /** The stored bytes, or `undefined` when nothing was stored yet. */
  read(): Promise<Uint8Array | undefined>;
  /** Replace the stored bytes atomically. */
  write(bytes: Uint8Array): Promise<void>;
}

/** Options of {@link ClockGuard}. */
export interface ClockGuardOptions {
  /** Where to keep the sealed state. */
  readonly store: SealedStateStore;
  /** Application secret the seal key is derived from. */
  readonly secret: string | Uint8Array;
  /** How far back the clock may step without being called tampering. Default 10 minutes (NTP corrections, DST bugs). */
  readonly toleranceMs?: number;
}

const AAD = utf8('licit-clock-guard-v1');
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
  readonly #store: SealedStateStore;
  readonly #secret: string | Uint8Array;
  #key: Promise<SealKey> | undefined;
  #mark: number | undefined; // highest time seen (ms)
  #persisted = -Infinity;

  /** A guard over `options.store`, sealed with a key derived from `options.secret`. */
  constructor(options: ClockGuardOptions) {
    this.#store = options.store;
    this.#secret = options.secret;
    this.toleranceMs = options.toleranceMs ?? 10 * 60_000;
  }

  #sealKey(): Promise<SealKey> {
    this.#key ??= deriveSealKey(this.#secret, 'clock-guard');
    return this.#key;
  }

  async #load(): Promise<number> {
    if (this.#mark !== undefined) return this.#mark;
    const bytes = await this.#store.read();
    if (bytes === undefined) {
      this.#mark = 0;
      return 0;
    }
    const plain = await unseal(await this.#sealKey(), bytes, AAD);
    const view = plain?.length === 8 ? new DataView(plain.buffer, plain.byteOffset, 8) : undefined;
    const mark = view?.getFloat64(0);
    if (mark === undefined || !Number.isFinite(mark) || mark < 0) {
      throw new LicenseError('ERR_STATE_TAMPERED', 'the clock guard state was altered or belongs to another application. Restore it, or contact the vendor to reset this installation.');
    }
    this.#mark = mark;
    this.#persisted = mark;
    return mark;
  }

  /** The highest time seen so far (ms since the epoch; 0 on first use). */
  async highWaterMark(): Promise<number> {
    return this.#load();
  }

  /**
   * Check the system clock `now` against the mark. Resolves to the time to trust
   * (the larger of the two); rejects `ERR_CLOCK_TAMPERED` when `now` is further back than the tolerance.
   */
  async check(now: Date = new Date()): Promise<Date> {
    const mark = await this.#load();
    const t = now.getTime();
    if (t < mark - this.toleranceMs) {
      throw new LicenseError('ERR_CLOCK_TAMPERED', `the system clock (${now.toISOString()}) is behind a time this installation has already seen (${new Date(mark).toISOString()}). Set the clock correctly and try again.`, {
        now: now.toISOString(),
        highWaterMark: new Date(mark).toISOString(),
      });
    }
    await this.observe(now);
    return new Date(Math.max(t, mark));
  }

  /** Raise the mark to `time` if it is later (e.g. a lease's server time). */
  async observe(time: Date): Promise<void> {
    const mark = await this.#load();
    const t = time.getTime();
    if (t <= mark) return;
    this.#mark = t;
    if (t - this.#persisted < PERSIST_STEP_MS) return;
    const buf = new Uint8Array(8);
    new DataView(buf.buffer).setFloat64(0, t);
    await this.#store.write(await seal(await this.#sealKey(), buf, AAD));
    this.#persisted = t;
  }
}
