/**
 * Event replay for usage reports: walks a license's audit events in sequence order and keeps, per
 * seat type and limit, what is in use and licensed (moving the timeline forward before each event),
 * plus the range's tallies (top-ups, credits, alerts) and the whole calendar months it touches.
 * The definitions every figure follows are in report.ts.
 */
import type { EventKind } from '../store/audit-event.js';
import type { AuditEvent, JsonObject } from '../store/store.js';
import { monthStart, type ResolvedRange } from './range.js';
import type { CreditHistoryEntry, LimitName, ReportOptions } from './report-types.js';
import { addAt, type Accumulator, type Timeline } from './report-timeline.js';

const num = (d: JsonObject, k: string): number | undefined => {
  const v = d[k];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
};
const str = (d: JsonObject, k: string): string | undefined => {
  const v = d[k];
  return typeof v === 'string' ? v : undefined;
};
const countOf = (d: JsonObject, k: string): number => {
  const v = d[k];
  return Array.isArray(v) ? v.length : 0;
};
const monthKey = (t: number) => new Date(t).toISOString().slice(0, 7);

/** A ledger entry's time, given as Date, ms since the epoch or ISO string (NaN when unparseable). */
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
/** The limits in the order reports list them. */
export const LIMIT_NAMES: readonly LimitName[] = ['activations', 'users'];

/** Additions over one whole calendar month, as they accumulate. */
export interface MonthTally {
  added: number;
  byType: Map<string, number>;
  seatTopUps: number;
  creditTopUps: number;
  creditsAdded: number;
}

/** The replayed state of one report: accumulators per seat type and limit, and the range's tallies. */
export class EventReplay {
  readonly types = new Map<string, Accumulator>();
  readonly limits = new Map<LimitName, Accumulator>();
  /** Every calendar month the range touches, oldest first. */
  readonly months = new Map<string, MonthTally>();
  /** Per bucket: credits consumed and seats added. */
  readonly bCredits: Float64Array;
  readonly bAdded: Float64Array;
  seatTopUps = 0;
  automatic = 0;
  creditTopUps = 0;
  licensesAdded = 0;
  consumed = 0;
  creditsAdded = 0;
  alertsRaised = 0;
  inRangeEvents = 0;
  /** Credit figures come from a ledger history (`options.credits`), not audit events. */
  readonly useLedger: boolean;
  readonly #time: Timeline;
  readonly #options: ReportOptions;
  readonly #mFrom: number;
  readonly #mTo: number;
  /** Licensed counts known before any event states one: the first statement's prior figure. */
  readonly #initial = new Map<string, number>();

  constructor(range: ResolvedRange, time: Timeline, options: ReportOptions) {
    this.#time = time;
    this.#options = options;
    this.useLedger = options.credits !== undefined;
    this.bCredits = new Float64Array(time.nb);
    this.bAdded = new Float64Array(time.nb);
    this.#mFrom = monthStart(range.from);
    this.#mTo = monthStart(range.to - 1, 1);
    for (let m = this.#mFrom; m < this.#mTo; m = monthStart(m, 1)) this.months.set(monthKey(m), { added: 0, byType: new Map(), seatTopUps: 0, creditTopUps: 0, creditsAdded: 0 });
  }

  /** Replay `events` in sequence order, then the ledger history when one was given. */
  run(events: readonly AuditEvent[]): void {
    this.#prepare(events);
    const time = this.#time;
    let last = Number.NEGATIVE_INFINITY;
    for (const e of events) {
      let t = Date.parse(e.at);
      if (Number.isNaN(t)) continue;
      if (t < last) t = last; // clock skew: keep time monotone in commit order
      last = t;
      if (t >= this.#mTo && time.past(t)) break;
      time.enter(t);
      this.#apply(e, t);
      time.leave(t);
    }
    time.finish();
    for (const c of this.#options.credits ?? []) this.#applyLedger(c);
  }

  /** Every type the history mentions exists from the start, so time before its first event counts. */
  #prepare(events: readonly AuditEvent[]): void {
    for (const e of events) {
      const d = e.details;
      const type = str(d, 'type');
      if (type === undefined || this.#initial.has(type)) continue;
      if (e.kind === 'seats.changed') {
        const from = num(d, 'from');
        if (from !== undefined) this.#initial.set(type, from);
      } else if (e.kind === 'seat.assigned' || e.kind === 'seat.reassigned' || e.kind === 'lease.checked-out') {
        const lic = num(d, 'licensed');
        if (lic !== undefined) this.#initial.set(type, lic);
      }
    }
    for (const t of Object.keys(this.#options.licensed ?? {})) this.#acc(t);
    for (const t of this.#initial.keys()) this.#acc(t);
    for (const name of LIMIT_NAMES) if (this.#limitOf(name) !== undefined) this.#limitAcc(name);
    for (const e of events) {
      const moves = LIMIT_KINDS.get(e.kind);
      if (moves !== undefined) for (const name of moves) if (name !== 'activations' || e.kind !== 'user.removed' || countOf(e.details, 'devices') > 0) this.#limitAcc(name);
      if (!SEAT_KINDS.has(e.kind)) continue;
      const type = str(e.details, 'type');
      if (type !== undefined) this.#acc(type);
    }
  }

  #apply(e: AuditEvent, t: number): void {
    const d = e.details;
    const live = this.#time.inRange(t);
    if (live) this.inRangeEvents++;
    switch (e.kind) {
      case 'seat.assigned':
      case 'lease.checked-out': {
        const type = str(d, 'type');
        const lic = num(d, 'licensed');
        if (type !== undefined && lic !== undefined) this.#acc(type).licensed = lic;
        this.#use(type, 1, t);
        break;
      }
      case 'seat.reassigned': {
        this.#use(str(d, 'from'), -1, t);
        const type = str(d, 'type');
        const lic = num(d, 'licensed');
        if (type !== undefined && lic !== undefined) this.#acc(type).licensed = lic;
        this.#use(type, 1, t);
        break;
      }
      case 'seat.released':
      case 'lease.checked-in':
      case 'lease.expired':
        this.#use(str(d, 'type'), -1, t);
        break;
      case 'seats.changed': {
        const type = str(d, 'type');
        const from = num(d, 'from');
        const to = num(d, 'to');
        if (type === undefined || to === undefined) break;
        const a = this.#acc(type);
        a.licensed = to;
        const added = from !== undefined && to > from ? to - from : 0;
        if (added > 0) {
          if (live) {
            this.seatTopUps++;
            if (d.source === 'auto') this.automatic++;
            this.licensesAdded += added;
            a.topUps++;
            a.added += added;
            addAt(this.bAdded, this.#time.bucketOf(t), added);
          }
          const m = this.#monthOf(t);
          if (m !== undefined) {
            m.added += added;
            m.seatTopUps++;
            m.byType.set(type, (m.byType.get(type) ?? 0) + added);
          }
        }
        break;
      }
      case 'credits.topped-up': {
        if (this.useLedger) break;
        this.#creditTopUp(num(d, 'credits') ?? 0, t, live);
        if (live && d.source === 'auto') this.automatic++;
        break;
      }
      case 'credits.consumed': {
        if (this.useLedger || !live) break;
        const c = num(d, 'amount') ?? 0;
        this.consumed += c;
        addAt(this.bCredits, this.#time.bucketOf(t), c);
        break;
      }
      case 'alert.raised':
        if (live) this.alertsRaised++;
        break;
      case 'device.activated':
        this.#setLimit('activations', num(d, 'inUse'), 1, t);
        break;
      case 'device.deactivated':
        this.#setLimit('activations', num(d, 'inUse'), -1, t);
        break;
      case 'device.reset':
        this.#setLimit('activations', num(d, 'inUse'), -countOf(d, 'users'), t);
        break;
      case 'user.activations-reset':
        this.#setLimit('activations', num(d, 'inUse'), -countOf(d, 'devices'), t);
        break;
      case 'user.added':
        this.#setLimit('users', num(d, 'inUse'), 1, t);
        break;
      case 'user.removed': {
        this.#setLimit('users', num(d, 'inUse'), -1, t);
        // Its devices were deactivated with it; the event states the user count only.
        const devices = countOf(d, 'devices');
        if (devices > 0) this.#setLimit('activations', undefined, -devices, t);
        break;
      }
      default:
        break;
    }
  }

  /** One entry of a credits ledger's history: a top-up, or credits consumed (`consume`, `carry`). */
  #applyLedger(c: CreditHistoryEntry): void {
    const t = timeOf(c.time);
    if (Number.isNaN(t)) return;
    if (c.kind === 'topup') this.#creditTopUp(c.amount, t, this.#time.inRange(t));
    else if (this.#time.inRange(t)) {
      this.consumed += c.amount;
      addAt(this.bCredits, this.#time.bucketOf(t), c.amount);
    }
  }

  #creditTopUp(credits: number, t: number, live: boolean): void {
    if (live) {
      this.creditTopUps++;
      this.creditsAdded += credits;
    }
    const m = this.#monthOf(t);
    if (m !== undefined) {
      m.creditTopUps++;
      m.creditsAdded += credits;
    }
  }

  #monthOf(t: number): MonthTally | undefined {
    return t >= this.#mFrom && t < this.#mTo ? this.months.get(monthKey(t)) : undefined;
  }

  #acc(type: string): Accumulator {
    let a = this.types.get(type);
    if (a === undefined) {
      const licensed = this.#options.licensed;
      a = this.#time.newAcc(this.#initial.get(type) ?? (licensed !== undefined && Object.hasOwn(licensed, type) ? licensed[type] : undefined));
      this.types.set(type, a);
    }
    return a;
  }

  #limitOf(name: LimitName): number | undefined {
    const v = name === 'activations' ? this.#options.maxActivations : this.#options.maxUsers;
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  }

  #limitAcc(name: LimitName): Accumulator {
    let a = this.limits.get(name);
    if (a === undefined) {
      a = this.#time.newAcc(this.#limitOf(name));
      this.limits.set(name, a);
    }
    return a;
  }

  #use(type: string | undefined, delta: number, t: number): void {
    if (type === undefined) return;
    const a = this.#acc(type);
    a.inUse = Math.max(0, a.inUse + delta);
    if (this.#time.inRange(t) && a.inUse > a.peak) a.peak = a.inUse;
  }

  /** Activations or users after an event: the count it states (`inUse`), else the old count moved by `delta`. */
  #setLimit(name: LimitName, stated: number | undefined, delta: number, t: number): void {
    const a = this.#limitAcc(name);
    a.inUse = stated !== undefined ? Math.max(0, stated) : Math.max(0, a.inUse + delta);
    if (this.#time.inRange(t) && a.inUse > a.peak) a.peak = a.inUse;
  }
}
