/**
 * The shapes of a usage report and its options (definitions of every figure: report.ts).
 */
import type { NowOption } from '../time/clock.js';
import type { BucketUnit } from './range.js';

/** One entry of a credits ledger's history (the shape of `CreditLedger.history()` entries). */
export interface CreditHistoryEntry {
  /** `topup` adds credits; `consume` and `carry` count as consumed. */
  readonly kind: 'consume' | 'topup' | 'carry';
  /** Credits moved (a positive count). */
  readonly amount: number;
  /** When (Date, ms since the epoch, or ISO string); entries with an unparseable time are skipped. */
  readonly time: Date | number | string;
}

/** Options of `computeReport` and `buildReport`. */
export interface ReportOptions {
  /**
   * The clock (`() => ms`; default `Date.now`): decides the calendar range and how much of it
   * elapsed. A fixed `Date` or number still works but is deprecated (`LegacyNow`).
   */
  readonly now?: NowOption;
  /** Seats licensed per type when no event says (e.g. `license.seats`). */
  readonly licensed?: Readonly<Record<string, number>>;
  /** A credits ledger history; when given, credit figures come from it instead of audit events. */
  readonly credits?: readonly CreditHistoryEntry[];
  /** Devices that may be active at once (`license.maxActivations`); undefined: no limit known. */
  readonly maxActivations?: number | undefined;
  /** License users allowed (`license.maxUsers`); undefined: no limit known. */
  readonly maxUsers?: number | undefined;
  /** Verify the audit chain first (`readVerifiedLog`); default false. `computeReport` only. */
  readonly verify?: boolean;
  /**
   * An IANA time zone (`Europe/Berlin`) whose local calendar the range and its buckets follow;
   * default UTC. (The `monthly` additions stay whole UTC months.)
   */
  readonly timeZone?: string | undefined;
}

/** Per seat type. */
export interface SeatTypeReport {
  /** The seat type's name. */
  readonly type: string;
  /** Licensed at the end of the range. */
  readonly licensed: number;
  /** In use at the end of the range. */
  readonly inUse: number;
  /** `max(0, licensed - inUse)`. */
  readonly available: number;
  /** Time-weighted share of licensed seats in use, 0..1 (`null`: nothing licensed in the range). */
  readonly averageUtilisation: number | null;
  /** Highest number in use at any moment of the range. */
  readonly peakInUse: number;
  /** Seat top-ups of this type in the range. */
  readonly topUps: number;
  /** Seats added by them. */
  readonly licensesAdded: number;
}

/** The two license-wide limits reported beside the seat types. */
export type LimitName = 'activations' | 'users';

/**
 * Device activations or license users against the license's limit (`maxActivations`/`maxUsers`).
 * Present when the limit is given or the history has such events. With no limit known,
 * `licensed`, `available` and `averageUtilisation` are `null`.
 */
export interface LimitReport {
  /** Which limit: device activations or license users. */
  readonly type: LimitName;
  /** The limit (`null`: not given, e.g. unlimited or the license key was not supplied). */
  readonly licensed: number | null;
  /** Active devices / users at the end of the range. */
  readonly inUse: number;
  /** `max(0, licensed - inUse)`, `null` without a limit. */
  readonly available: number | null;
  /** Time-weighted share of the limit in use, 0..1 (`null` without a limit). */
  readonly averageUtilisation: number | null;
  /** Highest number in use at any moment of the range. */
  readonly peakInUse: number;
}

/** One chart bucket. */
export interface ReportBucket {
  /** Bucket start, inclusive (ISO-8601 UTC). */
  readonly from: string;
  /** Bucket end, exclusive (ISO-8601 UTC). */
  readonly to: string;
  /** Average utilisation per type in the bucket (`null` before it starts or with nothing licensed). */
  readonly utilisation: Readonly<Record<string, number | null>>;
  /** In use per type at the end of the bucket (or now). */
  readonly inUse: Readonly<Record<string, number>>;
  /** Average utilisation of each {@link LimitReport} row in the bucket (same rules as `utilisation`). */
  readonly limitUtilisation: Readonly<Partial<Record<LimitName, number | null>>>;
  /** Activations / users in use at the end of the bucket (or now). */
  readonly limitInUse: Readonly<Partial<Record<LimitName, number>>>;
  /** Credits consumed within the bucket. */
  readonly creditsConsumed: number;
  /** Seats added by seat top-ups within the bucket (all types). */
  readonly licensesAdded: number;
}

/** Additions over one calendar month. */
export interface MonthAdditions {
  /** `YYYY-MM`. */
  readonly month: string;
  /** Seats added by seat top-ups over the whole month (all types). */
  readonly licensesAdded: number;
  /** Seats added per seat type (types with additions only). */
  readonly byType: Readonly<Record<string, number>>;
  /** Number of seat top-ups (`seats.changed` events that raised a count). */
  readonly seatTopUps: number;
  /** Number of credit top-ups. */
  readonly creditTopUps: number;
  /** Credits added by those top-ups. */
  readonly creditsAdded: number;
}

/** A usage report. Times are ISO-8601 UTC. */
export interface UsageReport {
  /** The license reported on. */
  readonly licenseId: string;
  /** The resolved range. */
  readonly range: {
    /** `day`, `week`, `month` or `custom`. */
    readonly kind: string;
    /** Start, inclusive. */
    readonly from: string;
    /** End, exclusive. */
    readonly to: string;
    /** How far the figures reach: `to`, or now while the range is still running (never before `from`). */
    readonly until: string;
    /** Width of the `series` buckets. */
    readonly unit: BucketUnit;
  };
  /** When the report was computed (`options.now`). */
  readonly generatedAt: string;
  /** One row per seat type, sorted by type name. */
  readonly seats: readonly SeatTypeReport[];
  /** Activations and license users against their limits, beside the seat types (sorted: activations, users). */
  readonly limits: readonly LimitReport[];
  /** Across every seat type (not `limits`, which count devices and users): sums, and utilisation time-weighted over all seats. */
  readonly totals: {
    /** Seats licensed at the end of the range, all types. */
    readonly licensed: number;
    /** Seats in use at the end of the range, all types. */
    readonly inUse: number;
    /** Sum of each type's `available`. */
    readonly available: number;
    /** Time-weighted share of all licensed seats in use, 0..1 (`null`: nothing licensed). */
    readonly averageUtilisation: number | null;
  };
  /** Top-ups within the range. */
  readonly topUps: {
    /** Seat top-ups (`seats.changed` events that raised a count). */
    readonly seats: number;
    /** Of `total`, the automatic ones (`source: 'auto'`): seats added by the top-up hook, credits by the server's automatic top-up or an installation's granted ask. */
    readonly automatic: number;
    /** Credit top-ups. */
    readonly credits: number;
    /** `seats + credits`. */
    readonly total: number;
  };
  /** Seats added by seat top-ups within the range, all types. */
  readonly licensesAdded: number;
  /** Credits within the range. */
  readonly credits: {
    /** Credits consumed (`consume` and `carry` entries, or `credits.consumed` events). */
    readonly consumed: number;
    /** Credits added by top-ups. */
    readonly added: number;
    /** Where the figures came from: `options.credits` (`ledger`) or the audit events (`audit`). */
    readonly source: 'ledger' | 'audit';
  };
  /** `alert.raised` events within the range. */
  readonly alertsRaised: number;
  /** Audit events stamped within the range. */
  readonly events: number;
  /** Additions over every calendar month the range touches, whole months, oldest first. */
  readonly monthly: readonly MonthAdditions[];
  /** Chart buckets covering the range in order (`range.unit` wide). */
  readonly series: readonly ReportBucket[];
}
