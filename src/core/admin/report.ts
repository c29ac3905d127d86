/**
 * Usage reports over a day, week, month or custom range, computed from a license's audit events
 * (and, optionally, a credits ledger's history). Definitions, exactly:
 *
 * - **In use** (per seat type) at an instant: named seats assigned plus floating leases checked out,
 *   replayed from event 1 (`seat.assigned`/`lease.checked-out` +1, `seat.released`/
 *   `lease.checked-in`/`lease.expired` −1, `seat.reassigned` moves one between types).
 * - **Licensed** at an instant: the newest count an event states (`seats.changed` `to`, or the
 *   `licensed` figure seat events carry); before the first one, that event's prior figure
 *   (`from`, or the figure itself); for a type no event states, `options.licensed[type]`.
 * - **Available licenses**: `max(0, licensed − in use)` at the end of the range (or now, if the
 *   range has not ended).
 * - **Average utilisation**: time-weighted, `∫ in use dt / ∫ licensed dt` over the part of the
 *   range that has elapsed (`null` when nothing was licensed); **peak** is the highest in use.
 * - **Top-ups**: `seats.changed` events in the range that raised a count (seat top-ups, of which
 *   `automatic` came from the auto top-up hook) plus credit top-ups in the range.
 * - **Licenses added**: the sum of `to − from` over those seat top-ups.
 * - **Credits consumed**: the sum of `consume` and `carry` amounts of the ledger history in the
 *   range when one is given, else of `credits.consumed` events; credits added likewise from
 *   `topup` records or `credits.topped-up` events.
 * - **End-of-month additions**: for every calendar month the range touches, the licenses added and
 *   credit top-ups over the *whole* month (what an invoice covers), even where the range cuts it.
 * - **Activations** and **license users** ({@link LimitReport}, beside the seat types): devices
 *   activated and users added, against `options.maxActivations` / `options.maxUsers`. In use is the
 *   `inUse` figure the event states when it has one (`device.activated`, `device.deactivated`,
 *   `device.reset`, `user.activations-reset` for activations; `user.added`, `user.removed` for
 *   users), else replayed (+1 / −1, `device.reset` −its users, `user.activations-reset` and
 *   `user.removed` −their devices). `device.transferred` moves an activation and changes nothing.
 *
 * Events are taken in sequence order; an event stamped earlier than the one before (clock skew
 * between servers) counts at the earlier event's time.
 */
import type { AuditEvent, JsonObject, Store } from '../store.js';
import type { EventKind } from '../audit-event.js';
import { readVerifiedLog } from './audit-chain.js';
import { monthStart, resolveRange, type BucketUnit, type RangeSpec, type ResolvedRange } from './range.js';

/** One entry of a credits ledger's history (the shape of `CreditLedger.history()` entries). */
export interface CreditHistoryEntry {
  /** `topup` adds credits; `consume` and `carry` count as consumed. */
  readonly kind: 'consume' | 'topup' | 'carry';
  /** Credits moved (a positive count). */
  readonly amount: number;
  /** When (Date, ms since the epoch, or ISO string); entries with an unparseable time are skipped. */
  readonly time: Date | number | string;
}

/** Options of {@link computeReport} and {@link buildReport}. */
export interface ReportOptions {
  /** The current time (default `Date.now()`): decides the calendar range and how much of it elapsed. */
  readonly now?: Date | number;
  /** Seats licensed per type when no event says (e.g. `license.seats`). */
  readonly licensed?: Readonly<Record<string, number>>;
  /** A credits ledger history; when given, credit figures come from it instead of audit events. */
  readonly credits?: readonly CreditHistoryEntry[];
  /** Devices that may be active at once (`license.maxActivations`); undefined: no limit known. */
  readonly maxActivations?: number | undefined;
  /** License users allowed (`license.maxUsers`); undefined: no limit known. */
  readonly maxUsers?: number | undefined;
  /** Verify the audit chain first (`readVerifiedLog`); default false. {@link computeReport} only. */
  readonly verify?: boolean;
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
    /** Of those, the ones made by the auto top-up hook (`source: 'auto'`). */
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

interface TypeAcc {
  inUse: number;
  licensed: number | undefined;
  usedMs: number;
  licMs: number;
  peak: number;
  topUps: number;
  added: number;
  bUsed: Float64Array;
  bLic: Float64Array;
  bEnd: Float64Array;
  /** In use when the range starts (undefined until then). */
  start: number | undefined;
  /** In use and licensed when the range ends (or now). */
  end: { inUse: number; licensed: number } | undefined;
}

const num = (d: JsonObject, k: string): number | undefined => {
  const v = d[k];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
};
const str = (d: JsonObject, k: string): string | undefined => {
  const v = d[k];
  return typeof v === 'string' ? v : undefined;
};
const timeOf = (v: Date | number | string): number => (v instanceof Date ? v.getTime() : typeof v === 'number' ? v : Date.parse(v));
/** Event kinds that move seats in use or licensed. */
const SEAT_KINDS: ReadonlySet<string> = new Set<EventKind>(['seat.assigned', 'seat.reassigned', 'seat.released', 'lease.checked-out', 'lease.checked-in', 'lease.expired', 'seats.changed']);
/** Event kinds that move activations or users in use, and which limit each moves. */
const LIMIT_KINDS: ReadonlyMap<string, readonly LimitName[]> = new Map<EventKind, readonly LimitName[]>([
  ['device.activated', ['activations']],
  ['device.deactivated', ['activations']],
  ['device.reset', ['activations']],
  ['user.activations-reset', ['activations']],
  ['user.added', ['users']],
  ['user.removed', ['users', 'activations']],
]);
const LIMIT_NAMES: readonly LimitName[] = ['activations', 'users'];
const countOf = (d: JsonObject, k: string): number => {
  const v = d[k];
  return Array.isArray(v) ? v.length : 0;
};
const addAt = (a: Float64Array, i: number, v: number) => {
  a[i] = (a[i] ?? 0) + v;
};
const monthKey = (t: number) => new Date(t).toISOString().slice(0, 7);

/**
 * Read a license's events from `store` and compute its report (see the module comment for the
 * exact definitions). The license server's `GET /v1/admin/reports` is this call.
 *
 * @example
 * ```ts
 * const r = await computeReport(store, 'lic-1', 'month', { licensed: license.seats })
 * console.log(r.seats.map((s) => `${s.type}: ${s.available} left, ${Math.round((s.averageUtilisation ?? 0) * 100)} % used`))
 * ```
 */
export async function computeReport(store: Store, licenseId: string, range: RangeSpec, options: ReportOptions = {}): Promise<UsageReport> {
  const events = options.verify === true ? (await readVerifiedLog(store, licenseId)).events : await store.events(licenseId);
  return buildReport(licenseId, events, range, options);
}

/** {@link computeReport} over events already read (pure; one pass). */
export function buildReport(licenseId: string, events: readonly AuditEvent[], range: RangeSpec, options: ReportOptions = {}): UsageReport {
  const now = options.now === undefined ? Date.now() : timeOf(options.now);
  const r: ResolvedRange = resolveRange(range, now);
  const until = Math.max(r.from, Math.min(r.to, now));
  const running = now < r.to;
  const edges = r.edges;
  const nb = edges.length - 1;
  const mFrom = monthStart(r.from);
  const mTo = monthStart(r.to - 1, 1);
  const months = new Map<string, { added: number; byType: Map<string, number>; seatTopUps: number; creditTopUps: number; creditsAdded: number }>();
  for (let m = mFrom; m < mTo; m = monthStart(m, 1)) months.set(monthKey(m), { added: 0, byType: new Map(), seatTopUps: 0, creditTopUps: 0, creditsAdded: 0 });
  const monthOf = (t: number) => (t >= mFrom && t < mTo ? months.get(monthKey(t)) : undefined);

  // Licensed counts known before any event states one: the first statement's prior figure.
  const initial = new Map<string, number>();
  for (const e of events) {
    const d = e.details;
    const type = str(d, 'type');
    if (type === undefined || initial.has(type)) continue;
    if (e.kind === 'seats.changed') {
      const from = num(d, 'from');
      if (from !== undefined) initial.set(type, from);
    } else if (e.kind === 'seat.assigned' || e.kind === 'seat.reassigned' || e.kind === 'lease.checked-out') {
      const lic = num(d, 'licensed');
      if (lic !== undefined) initial.set(type, lic);
    }
  }
  const types = new Map<string, TypeAcc>();
  const limits = new Map<LimitName, TypeAcc>();
  /** Every accumulator, seat types and limits alike, for the integration loops. */
  const accs: TypeAcc[] = [];
  const newAcc = (licensed: number | undefined): TypeAcc => {
    const a: TypeAcc = { inUse: 0, licensed, usedMs: 0, licMs: 0, peak: 0, topUps: 0, added: 0, bUsed: new Float64Array(nb), bLic: new Float64Array(nb), bEnd: new Float64Array(nb), start: undefined, end: undefined };
    accs.push(a);
    return a;
  };
  const acc = (type: string): TypeAcc => {
    let a = types.get(type);
    if (a === undefined) {
      a = newAcc(initial.get(type) ?? (options.licensed !== undefined && Object.hasOwn(options.licensed, type) ? options.licensed[type] : undefined));
      types.set(type, a);
    }
    return a;
  };
  const limitOf = (name: LimitName): number | undefined => {
    const v = name === 'activations' ? options.maxActivations : options.maxUsers;
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  };
  const limitAcc = (name: LimitName): TypeAcc => {
    let a = limits.get(name);
    if (a === undefined) {
      a = newAcc(limitOf(name));
      limits.set(name, a);
    }
    return a;
  };
  // Every type the history mentions exists from the start, so time before its first event counts.
  for (const t of Object.keys(options.licensed ?? {})) acc(t);
  for (const t of initial.keys()) acc(t);
  for (const name of LIMIT_NAMES) if (limitOf(name) !== undefined) limitAcc(name);
  for (const e of events) {
    const moves = LIMIT_KINDS.get(e.kind);
    if (moves !== undefined) for (const name of moves) if (name !== 'activations' || e.kind !== 'user.removed' || countOf(e.details, 'devices') > 0) limitAcc(name);
    if (!SEAT_KINDS.has(e.kind)) continue;
    const type = str(e.details, 'type');
    if (type !== undefined) acc(type);
  }

  const bCredits = new Float64Array(nb);
  const bAdded = new Float64Array(nb);
  let cursor = r.from; // integrated up to here
  let bucket = 0;
  /** Integrate every type's state from `cursor` up to `t` (clamped to the elapsed range). */
  const advance = (t: number) => {
    const end = Math.min(t, until);
    while (cursor < end) {
      const edge = Math.min(edges[bucket + 1] as number, end);
      const dt = edge - cursor;
      for (const a of accs) {
        const lic = a.licensed ?? 0;
        a.usedMs += a.inUse * dt;
        a.licMs += lic * dt;
        addAt(a.bUsed, bucket, a.inUse * dt);
        addAt(a.bLic, bucket, lic * dt);
      }
      cursor = edge;
      if (cursor === edges[bucket + 1] && bucket < nb - 1) bucket++;
    }
  };
  const bucketOf = (t: number): number => {
    let lo = 0;
    let hi = nb - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((edges[mid] as number) <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  /** After the range; a range still running ends at now inclusive (an event stamped this millisecond counts). */
  const past = (t: number) => t > until || (t === until && !running);
  const inRange = (t: number) => t >= r.from && !past(t);

  let seatTopUps = 0;
  let automatic = 0;
  let creditTopUps = 0;
  let licensesAdded = 0;
  let consumed = 0;
  let creditsAdded = 0;
  let alertsRaised = 0;
  let inRangeEvents = 0;
  const useLedger = options.credits !== undefined;
  let last = Number.NEGATIVE_INFINITY;
  let started = false;
  let ended = false;
  // Events after the range still run (for whole-month additions): freeze the state at its end.
  const snapshotEnd = () => {
    ended = true;
    for (const a of accs) a.end = { inUse: a.inUse, licensed: a.licensed ?? 0 };
  };
  const snapshotStart = () => {
    started = true;
    for (const a of accs) {
      a.start = a.inUse;
      a.peak = Math.max(a.peak, a.inUse);
    }
  };

  const use = (type: string | undefined, delta: number, t: number) => {
    if (type === undefined) return;
    const a = acc(type);
    a.inUse = Math.max(0, a.inUse + delta);
    if (inRange(t) && a.inUse > a.peak) a.peak = a.inUse;
  };
  /** Activations or users after an event: the count it states (`inUse`), else the old count moved by `delta`. */
  const setLimit = (name: LimitName, stated: number | undefined, delta: number, t: number) => {
    const a = limitAcc(name);
    a.inUse = stated !== undefined ? Math.max(0, stated) : Math.max(0, a.inUse + delta);
    if (inRange(t) && a.inUse > a.peak) a.peak = a.inUse;
  };

  for (const e of events) {
    let t = Date.parse(e.at);
    if (Number.isNaN(t)) continue;
    if (t < last) t = last; // clock skew: keep time monotone in commit order
    last = t;
    if (t >= mTo && past(t)) break;
    if (t > r.from) advance(t);
    if (!started && t >= r.from) snapshotStart();
    if (!ended && past(t)) snapshotEnd();
    const d = e.details;
    const live = inRange(t);
    if (live) inRangeEvents++;
    switch (e.kind) {
      case 'seat.assigned':
      case 'lease.checked-out': {
        const type = str(d, 'type');
        const lic = num(d, 'licensed');
        if (type !== undefined && lic !== undefined) acc(type).licensed = lic;
        use(type, 1, t);
        break;
      }
      case 'seat.reassigned': {
        use(str(d, 'from'), -1, t);
        const type = str(d, 'type');
        const lic = num(d, 'licensed');
        if (type !== undefined && lic !== undefined) acc(type).licensed = lic;
        use(type, 1, t);
        break;
      }
      case 'seat.released':
      case 'lease.checked-in':
      case 'lease.expired':
        use(str(d, 'type'), -1, t);
        break;
      case 'seats.changed': {
        const type = str(d, 'type');
        const from = num(d, 'from');
        const to = num(d, 'to');
        if (type === undefined || to === undefined) break;
        const a = acc(type);
        a.licensed = to;
        const added = from !== undefined && to > from ? to - from : 0;
        if (added > 0) {
          if (live) {
            seatTopUps++;
            if (d.source === 'auto') automatic++;
            licensesAdded += added;
            a.topUps++;
            a.added += added;
            addAt(bAdded, bucketOf(t), added);
          }
          const m = monthOf(t);
          if (m !== undefined) {
            m.added += added;
            m.seatTopUps++;
            m.byType.set(type, (m.byType.get(type) ?? 0) + added);
          }
        }
        break;
      }
      case 'credits.topped-up': {
        if (useLedger) break;
        const c = num(d, 'credits') ?? 0;
        if (live) {
          creditTopUps++;
          creditsAdded += c;
        }
        const m = monthOf(t);
        if (m !== undefined) {
          m.creditTopUps++;
          m.creditsAdded += c;
        }
        break;
      }
      case 'credits.consumed': {
        if (useLedger || !live) break;
        const c = num(d, 'amount') ?? 0;
        consumed += c;
        addAt(bCredits, bucketOf(t), c);
        break;
      }
      case 'alert.raised':
        if (live) alertsRaised++;
        break;
      case 'device.activated':
        setLimit('activations', num(d, 'inUse'), 1, t);
        break;
      case 'device.deactivated':
        setLimit('activations', num(d, 'inUse'), -1, t);
        break;
      case 'device.reset':
        setLimit('activations', num(d, 'inUse'), -countOf(d, 'users'), t);
        break;
      case 'user.activations-reset':
        setLimit('activations', num(d, 'inUse'), -countOf(d, 'devices'), t);
        break;
      case 'user.added':
        setLimit('users', num(d, 'inUse'), 1, t);
        break;
      case 'user.removed': {
        setLimit('users', num(d, 'inUse'), -1, t);
        // Its devices were deactivated with it; the event states the user count only.
        const devices = countOf(d, 'devices');
        if (devices > 0) setLimit('activations', undefined, -devices, t);
        break;
      }
      default:
        break;
    }
    // In use at the end of each bucket: the state after the last event before the bucket's end.
    if (!past(t)) {
      const b = t < r.from ? -1 : bucketOf(t);
      if (b >= 0) for (const a of accs) (a.bEnd as Float64Array)[b] = a.inUse + 1; // +1: "set" marker
    }
  }
  advance(until);
  if (!started) snapshotStart();
  if (!ended) snapshotEnd();

  for (const c of options.credits ?? []) {
    const t = timeOf(c.time);
    if (Number.isNaN(t)) continue;
    if (c.kind === 'topup') {
      if (inRange(t)) {
        creditTopUps++;
        creditsAdded += c.amount;
      }
      const m = monthOf(t);
      if (m !== undefined) {
        m.creditTopUps++;
        m.creditsAdded += c.amount;
      }
    } else if (inRange(t)) {
      consumed += c.amount;
      addAt(bCredits, bucketOf(t), c.amount);
    }
  }

  const lastBucket = until > r.from ? bucketOf(until - 1) : -1;
  // Carry "in use at bucket end" forward through buckets without events.
  for (const a of accs) {
    let carry = a.start ?? 0;
    for (let b = 0; b < nb; b++) {
      if (a.bEnd[b] !== 0) carry = (a.bEnd[b] as number) - 1;
      a.bEnd[b] = b > lastBucket ? Number.NaN : carry;
    }
  }
  const seats: SeatTypeReport[] = [];
  let totUsed = 0;
  let totLic = 0;
  for (const [type, a] of [...types].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    const { inUse, licensed } = a.end ?? { inUse: 0, licensed: a.licensed ?? 0 };
    totUsed += a.usedMs;
    totLic += a.licMs;
    seats.push({ type, licensed, inUse, available: Math.max(0, licensed - inUse), averageUtilisation: a.licMs > 0 ? a.usedMs / a.licMs : null, peakInUse: a.peak, topUps: a.topUps, licensesAdded: a.added });
  }
  const limitRows: LimitReport[] = [];
  for (const name of LIMIT_NAMES) {
    const a = limits.get(name);
    if (a === undefined) continue;
    const inUse = a.end?.inUse ?? 0;
    const licensed = a.licensed ?? null;
    limitRows.push({ type: name, licensed, inUse, available: licensed === null ? null : Math.max(0, licensed - inUse), averageUtilisation: a.licMs > 0 ? a.usedMs / a.licMs : null, peakInUse: a.peak });
  }
  const series: ReportBucket[] = [];
  for (let b = 0; b < nb; b++) {
    const utilisation: Record<string, number | null> = {};
    const inUse: Record<string, number> = {};
    for (const [type, a] of types) {
      utilisation[type] = (a.bLic[b] as number) > 0 ? (a.bUsed[b] as number) / (a.bLic[b] as number) : null;
      if (!Number.isNaN(a.bEnd[b] as number)) inUse[type] = a.bEnd[b] as number;
    }
    const limitUtilisation: Partial<Record<LimitName, number | null>> = {};
    const limitInUse: Partial<Record<LimitName, number>> = {};
    for (const [name, a] of limits) {
      limitUtilisation[name] = (a.bLic[b] as number) > 0 ? (a.bUsed[b] as number) / (a.bLic[b] as number) : null;
      if (!Number.isNaN(a.bEnd[b] as number)) limitInUse[name] = a.bEnd[b] as number;
    }
    series.push({ from: new Date(edges[b] as number).toISOString(), to: new Date(edges[b + 1] as number).toISOString(), utilisation, inUse, limitUtilisation, limitInUse, creditsConsumed: bCredits[b] as number, licensesAdded: bAdded[b] as number });
  }
  const totalLicensed = seats.reduce((s, x) => s + x.licensed, 0);
  const totalInUse = seats.reduce((s, x) => s + x.inUse, 0);
  return {
    licenseId,
    range: { kind: r.kind, from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString(), until: new Date(until).toISOString(), unit: r.unit },
    generatedAt: new Date(now).toISOString(),
    seats,
    limits: limitRows,
    totals: { licensed: totalLicensed, inUse: totalInUse, available: seats.reduce((s, x) => s + x.available, 0), averageUtilisation: totLic > 0 ? totUsed / totLic : null },
    topUps: { seats: seatTopUps, automatic, credits: creditTopUps, total: seatTopUps + creditTopUps },
    licensesAdded,
    credits: { consumed, added: creditsAdded, source: useLedger ? 'ledger' : 'audit' },
    alertsRaised,
    events: inRangeEvents,
    monthly: [...months].map(([month, m]) => ({ month, licensesAdded: m.added, byType: Object.fromEntries(m.byType), seatTopUps: m.seatTopUps, creditTopUps: m.creditTopUps, creditsAdded: m.creditsAdded })),
    series,
  };
}
