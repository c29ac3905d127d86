/**
 * What the three counters (`SeatManager`, `Activations`, `FloatingSeats`) share: the store they
 * count in, the license limits, the clock and the actor recorded in audit events.
 */
import { withAuditChain } from '../admin/chained-store.js';
import { toClock, type Clock } from '../time/clock.js';
import { LicenseError } from '../errors.js';
import type { Store } from '../store/store.js';
import { checkLimits, type SeatLimits, type SeatOptions } from './limits.js';

/** Base of the seat-side managers: the chained store, checked limits, clock and default actor. */
export abstract class LicenseCounter {
  /** The store, hash-chaining every audit event (so every licit writer keeps one verifiable log). */
  protected readonly store: Store;
  /** The license limits, checked once by {@link checkLimits} at construction. */
  protected readonly license: SeatLimits;
  /** Clock in milliseconds since the epoch (default `Date.now`). */
  protected readonly now: Clock;
  /** Actor recorded in audit events when a call gives none (default `"app"`). */
  protected readonly actor: string;

  /** Count in `store` under `license`'s limits; throws `ERR_KEY_INVALID_CLAIM` for impossible limits. */
  constructor(store: Store, license: SeatLimits, options: SeatOptions = {}) {
    if (store === null || typeof store !== 'object' || typeof store.transaction !== 'function') {
      throw new LicenseError('ERR_USAGE', 'a Store is required (MemoryStore, FileStore from licit/node, or PostgresStore from licit/postgres)');
    }
    if (license === null || typeof license !== 'object') throw new LicenseError('ERR_USAGE', 'the license (a verified License, or its limits) is required');
    this.store = withAuditChain(store);
    this.license = checkLimits(license);
    this.now = toClock(options.now);
    this.actor = options.actor ?? 'app';
  }
}
