/**
 * licit's one clock shape. Every `now` option takes a {@link Clock}: a function returning
 * milliseconds since the epoch, as `Date.now` does (inject a fake one in tests). Older options took
 * a fixed `Date`, a `Date | number`, or a function returning a `Date`; those still work
 * ({@link LegacyNow}, deprecated) and are normalised here, in one place, so no caller converts times
 * by hand. Nothing is logged for the old forms: the deprecation lives in the types and the docs.
 */
import { LicenseError } from '../errors.js';

/**
 * A clock: milliseconds since the epoch, like `Date.now`.
 *
 * @example
 * ```ts
 * let t = Date.parse('2027-01-01T00:00:00Z')
 * const now: Clock = () => t   // a test clock; move it with t += 86_400_000
 * ```
 */
export type Clock = () => number;

/**
 * The forms `now` options took before licit had one clock shape: a fixed `Date`, a fixed number of
 * milliseconds, or a function returning either. Still accepted.
 *
 * @deprecated Pass a {@link Clock} instead: `now: () => ms` (or `now: () => date.getTime()`).
 */
export type LegacyNow = Date | number | (() => Date | number);

/** What a `now` option accepts: a {@link Clock}, or (deprecated) one of the {@link LegacyNow} forms. */
export type NowOption = Clock | LegacyNow;

/** The range of a JavaScript `Date` (±100,000,000 days around the epoch). */
const MAX_TIME_MS = 8.64e15;

/**
 * The {@link Clock} for a `now` option: `Date.now` when it is absent, the function itself (its
 * result checked) when it is one, a clock that always returns the given time for a fixed `Date` or
 * number. A time that is not one (an invalid `Date`, NaN, a string, out of a `Date`'s range) is
 * `ERR_USAGE` naming `what`: a fixed one at once, a function's when it returns it.
 */
export function toClock(now: NowOption | undefined, what = 'the `now` option'): Clock {
  if (now === undefined) return Date.now;
  if (typeof now === 'function') {
    const read = now;
    return () => {
      const v = read();
      // The common case, a finite number in range, costs two comparisons (checks run on hot paths).
      return typeof v === 'number' && Math.abs(v) <= MAX_TIME_MS ? v : msOf(v, what);
    };
  }
  const fixed = msOf(now, what);
  return () => fixed;
}

function msOf(v: unknown, what: string): number {
  const ms = v instanceof Date ? v.getTime() : v;
  if (typeof ms === 'number' && Number.isFinite(ms) && Math.abs(ms) <= MAX_TIME_MS) return ms;
  const got = v instanceof Date ? 'an invalid Date' : typeof v === 'number' ? String(v) : typeof v;
  throw new LicenseError('ERR_USAGE', `${what} must be a clock returning milliseconds since the epoch, such as Date.now (a Date is still accepted), got ${got}`);
}
