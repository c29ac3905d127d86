/**
 * The public types of {@link CreditLedger}: its options, receipts, reports and events.
 *
 * The links name `CreditLedger` without importing it: TypeDoc finds it in `licit/node` beside
 * these types, and an import (even a type-only one) would make this file and credit-ledger.ts
 * import each other.
 */
import type { NowOption } from '../../core/time/clock.js';
import type { License } from '../../core/license/license.js';
import type { PublicKeyInput } from '../../core/crypto/keys.js';
import type { Balance, ThresholdEvent } from '../../core/ledger/plan.js';
import type { RecordKind } from '../../core/ledger/record.js';

/** What the ledger needs of a verified license. */
export type LedgerLicense = Pick<License, 'id' | 'credits' | 'carriedCredits'>;

/** Options of {@link CreditLedger.open}. */
export interface CreditLedgerOptions {
  /**
   * The application's own secret the ledger key is derived from (with the license id): a non-empty
   * string or bytes. Required, with no default: a default would be the same in every application,
   * so anyone could forge a ledger sealed with it. Missing or empty: `ERR_SECRET_REQUIRED`.
   */
  secret: string | Uint8Array;
  /**
   * The vendor public key(s) top-up tokens must be signed with. Needed by {@link CreditLedger.topUp},
   * which verifies every token itself; without them a top-up is refused with `ERR_USAGE`.
   */
  publicKeys?: PublicKeyInput | readonly PublicKeyInput[];
  /** Directory of the primary copy. Default: the platform's application-data directory for `appName`. */
  dir?: string;
  /** Directory of the mirror copy. Default: a less obvious per-platform location (see `defaultLedgerDirs`). */
  mirrorDir?: string;
  /** Application name for the default directories. Default `"licit"`. */
  appName?: string;
  /**
   * Clock for record times, `() => number` (ms, like `Date.now`, the one clock shape of licit's
   * options). Default `Date.now`. A function returning a `Date` still works but is deprecated.
   */
  now?: NowOption;
  /** A consumption floor besides the license's `carriedCredits` (e.g. from a renewal lease). Default 0. */
  floor?: number;
  /**
   * Start a new ledger at the vendor's floor when both copies are missing although the license
   * says credits were spent. Default false: that case is `ERR_LEDGER_MISSING`.
   */
  recover?: boolean;
  /** Remaining-credit thresholds that fire `threshold` events when crossed. */
  thresholds?: readonly number[];
  /** How long to wait for another process holding the ledger. Default 10 000 ms. */
  lockTimeoutMs?: number;
  /**
   * Compaction threshold in bytes: when a copy's active log segment passes it (and twice the size of
   * its snapshot), both copies write a sealed snapshot and start a new segment, so that opening reads
   * only the snapshot and the records after it. Old segments are kept (history and verify read
   * them). Default 1 MiB (about 7,500 records); lower it only to test compaction.
   */
  compactBytes?: number;
}

/** One entry of {@link CreditLedger.history}. */
export interface LedgerEntry {
  /** Record number: 0 for the first, then +1 each. */
  readonly seq: number;
  /** Credits spent (`consume`), added by a vendor top-up (`topup`), or consumption raised to a vendor floor (`carry`). */
  readonly kind: RecordKind;
  /** Credits consumed (consume, carry) or added (topup); always at least 1. */
  readonly amount: number;
  /** Total consumed after this entry. */
  readonly consumed: number;
  /** Total topped up after this entry. */
  readonly toppedUp: number;
  /** When it was written (the writer's clock; informational). */
  readonly time: Date;
  /** The application's text for a consume (empty when none given), or licit's for carry and topup. */
  readonly reason: string;
  /** The top-up token id (topup entries only). */
  readonly tokenId?: string;
  /** The idempotency key the application gave this consume, if any. */
  readonly idempotencyKey?: string;
}

/** Options of {@link CreditLedger.consume}. */
export interface ConsumeOptions {
  /** The application's text for the record (at most 200 bytes of UTF-8). Default empty. */
  reason?: string | undefined;
  /**
   * Makes the consume safe to retry: a consume with a key the ledger has recorded is not charged
   * again, and resolves with the original receipt (`repeated: true`), also after an error, a reopen
   * or from another process. 1 to 128 printable characters (128 bytes of UTF-8), e.g. an order id or
   * a UUID made once per user action. The same key with another amount is `ERR_IDEMPOTENCY_CONFLICT`. The ledger
   * remembers the keys of its last 65,536 keyed consumes (see docs/credits.md). Default: none.
   */
  idempotencyKey?: string | undefined;
}

/** The receipt of a durable consume. */
export interface ConsumeReceipt extends Balance {
  /** Sequence number of the record written (for a repeated consume: of the original record). */
  readonly seq: number;
  /**
   * True when the idempotency key had been recorded before: nothing was charged now, and the
   * balance fields are those right after the original consume.
   */
  readonly repeated: boolean;
}

/** The result of {@link CreditLedger.topUp}. */
export interface TopUpReceipt extends Balance {
  /** False when this token had been applied before (its credits count once). */
  readonly applied: boolean;
  /** The token's id, as verified. */
  readonly tokenId: string;
  /** The credits the token grants, as verified (added only when `applied`). */
  readonly credits: number;
}

/** State of one copy as {@link CreditLedger.verify} found it (before repairing it). */
export type CopyState = 'ok' | 'missing' | 'behind' | 'torn';

/** The result of {@link CreditLedger.verify}. */
export interface VerifyReport extends Balance {
  /** Records in the ledger (the newest record's `seq` + 1). */
  readonly records: number;
  /** What the primary copy looked like before any repair. */
  readonly primary: CopyState;
  /** What the mirror copy looked like before any repair. */
  readonly mirror: CopyState;
}

/**
 * What this ledger object has written since it was opened (see {@link CreditLedger.stats}).
 * Repairs of a copy at open or verify are not counted.
 */
export interface LedgerStats {
  /** Durable group commits: each is one write and one fdatasync per copy, acknowledging every record in it. */
  readonly commits: number;
  /** Records appended by those commits. */
  readonly records: number;
}

/** Events of a {@link CreditLedger}. */
export interface CreditLedgerEvents {
  /** Remaining credits crossed one of the application's thresholds. */
  threshold: [ThresholdEvent];
  /**
   * A copy was found missing, behind or torn while the ledger was open, and was rebuilt from the
   * other (someone deleted or restored a file, or a crash cut a write). What was found is given.
   */
  repaired: [CopyStates];
}

/** What each copy looked like when it was read, before any repair. */
export interface CopyStates {
  /** The primary copy. */
  readonly primary: CopyState;
  /** The mirror copy. */
  readonly mirror: CopyState;
}
