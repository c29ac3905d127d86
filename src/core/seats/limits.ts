/**
 * What a license allows, as the seat logic needs it. A verified `License` satisfies this type as
 * it is; tests pass a plain object so they need no signed key.
 */
import type { Clock } from '../time/clock.js';
import { LicenseError } from '../errors.js';
import { checkId } from '../store/store.js';
import type { License } from '../license/license.js';

/**
 * The limits of one license, as a verified {@link License} carries them. An absent maximum means
 * "no limit". Plain objects fit too, so tests and tools need no signed key.
 *
 * - `seats`: seats per user type, e.g. `{ basic: 10, advanced: 2 }`
 * - `maxUsers`: license users (who may activate devices)
 * - `maxActivations`: devices activated on the license, all users together
 * - `maxUserActivations`: default maximum devices per license user
 * - `maxTransfers`: transfers (device moves and device resets) over the license's life
 *
 * @example
 * ```ts
 * const limits: SeatLimits = { id: 'lic-1', seats: { basic: 10, advanced: 2 }, maxUsers: 5, maxActivations: 10 };
 * ```
 */
export type SeatLimits = Pick<License, 'id' | 'seats'> & Partial<Pick<License, 'maxUsers' | 'maxActivations' | 'maxUserActivations' | 'maxTransfers'>>;

/** Options shared by every seat-side manager. */
export interface SeatOptions {
  /** Clock in milliseconds since the epoch (default `Date.now`); tests and trusted-time callers pass their own. */
  readonly now?: Clock;
  /** Who acts when a call does not say (default `"app"`); recorded in every audit event. */
  readonly actor?: string;
}

/** Per-call options of every operation that changes state. */
export interface ActOptions {
  /** Who does it (recorded in the audit event); defaults to the manager's actor. */
  readonly actor?: string;
  /**
   * Makes a retry safe: the first call with this key (1 to 128 printable characters) acts and its
   * result is stored with it in the same transaction; a later call with the key and the same
   * arguments returns that result without acting again (also after an error, a reopen or in another
   * process); the key with other arguments is `ERR_IDEMPOTENCY_CONFLICT`.
   */
  readonly idempotencyKey?: string;
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** Refuse limits a verified license could never carry (negative, fractional, non-numeric). */
export function checkLimits(limits: SeatLimits): SeatLimits {
  checkId(limits.id, 'license id');
  if (typeof limits.seats !== 'object' || limits.seats === null) {
    throw new LicenseError('ERR_KEY_INVALID_CLAIM', `license ${limits.id} has no seats table`, { claim: 'seats' });
  }
  for (const [type, n] of Object.entries(limits.seats)) {
    checkId(type, 'user type');
    if (!isCount(n)) throw new LicenseError('ERR_KEY_INVALID_CLAIM', `license ${limits.id}: seats for "${type}" must be a whole number >= 0, got ${String(n)}`, { claim: 'seats', type });
  }
  for (const claim of ['maxUsers', 'maxActivations', 'maxUserActivations', 'maxTransfers'] as const) {
    const n = limits[claim];
    if (n !== undefined && !isCount(n)) throw new LicenseError('ERR_KEY_INVALID_CLAIM', `license ${limits.id}: ${claim} must be a whole number >= 0, got ${String(n)}`, { claim });
  }
  return limits;
}

/** The number of seats a license grants for `type`, or undefined when it does not know the type. */
export function seatsFor(limits: SeatLimits, type: string): number | undefined {
  return Object.hasOwn(limits.seats, type) ? limits.seats[type] : undefined;
}

/** `ERR_UNKNOWN_USER_TYPE` listing the types the license knows. */
export function unknownType(limits: SeatLimits, type: string): LicenseError {
  const known = Object.keys(limits.seats);
  return new LicenseError(
    'ERR_UNKNOWN_USER_TYPE',
    `license ${limits.id} has no user type "${type}"; it knows ${known.length === 0 ? 'no types at all' : known.map((t) => `"${t}"`).join(', ')}`,
    { type, known },
  );
}
