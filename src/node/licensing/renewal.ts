/**
 * `Licensing`'s renewal timer: one pending renewal at a time, on an unref'd timer (it never keeps
 * the application alive), with exponential back-off while the server cannot be reached.
 */
import type { Schedule } from './options.js';

const MAX_TIMER_MS = 2 ** 31 - 1;

/** The default timer: `setTimeout`, unref'd, clamped to what Node's timers can hold. */
export const defaultSchedule: Schedule = (fn, ms) => {
  const t = setTimeout(fn, Math.min(Math.max(0, ms), MAX_TIMER_MS));
  t.unref(); // never keeps the application alive
  return { cancel: () => clearTimeout(t) };
};

/** Runs `renew` when due; failures are the caller's to report (it is told nothing here). */
export class RenewalScheduler {
  readonly #schedule: Schedule;
  readonly #renew: () => Promise<unknown>;
  readonly #minMs: number;
  readonly #maxMs: number;
  #timer: { cancel(): void } | undefined;
  #closed = false;
  #failures = 0;

  constructor(schedule: Schedule, renew: () => Promise<unknown>, retry: { readonly minMs?: number | undefined; readonly maxMs?: number | undefined }) {
    this.#schedule = schedule;
    this.#renew = renew;
    this.#minMs = retry.minMs ?? 30_000;
    this.#maxMs = retry.maxMs ?? 3_600_000;
  }

  /** Renew after `delayMs` (replacing the pending timer); `undefined` only stops the pending one. Nothing after `close`. */
  next(delayMs: number | undefined): void {
    if (this.#closed) return;
    this.#timer?.cancel();
    if (delayMs === undefined) return;
    this.#timer = this.#schedule(() => {
      this.#timer = undefined;
      this.#renew().catch(() => undefined); // failures are reported through `renewal-failed`
    }, Math.max(0, delayMs));
  }

  /** One more failure to reach the server: the retry delay, doubling from `minMs` up to `maxMs`. */
  backoff(): number {
    this.#failures += 1;
    return Math.min(this.#maxMs, this.#minMs * 2 ** Math.min(this.#failures - 1, 30));
  }

  /** The server answered: the next failure starts the back-off again. */
  succeeded(): void {
    this.#failures = 0;
  }

  /** Stop the pending timer (a later `next` may start another). */
  cancel(): void {
    this.#timer?.cancel();
  }

  /** Stop for good. */
  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
  }
}
