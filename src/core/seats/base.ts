/**
 * What the three counters (`SeatManager`, `Activations`, `FloatingSeats`) share: the store they
 * count in, the license limits, the clock and the actor recorded in audit events.
 */
import { withAuditChain } from '../admin/chained-store.js';
import type { Store } from '../store.js';
import { checkLimits, type SeatLimits, type SeatOptions } from './limits.js';

export abstract class LicenseCounter {
  /** The store, hash-chaining every audit event (so every licit writer keeps one verifiable log). */
  protected readonly store: Store;
  protected readonly license: SeatLimits;
  protected readonly now: () => number;
  protected readonly actor: string;

  constructor(store: Store, license: SeatLimits, options: SeatOptions = {}) {
    this.store = withAuditChain(store);
    this.license = checkLimits(license);
    this.now = options.now ?? Date.now;
    this.actor = options.actor ?? 'app';
  }
}
