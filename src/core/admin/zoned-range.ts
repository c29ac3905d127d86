/**
 * Report ranges in a time zone the vendor names: the day, ISO week and month containing a moment
 * begin at local midnight there (a day is 23 or 25 hours when the clocks change), and chart
 * buckets follow the local calendar. Pure: the zone's rules come from the runtime's Intl database.
 * Without a zone, ranges are UTC (range.ts).
 */
import { LicenseError } from '../errors.js';
import { DATE, parseTimeWords } from '../time/time-words.js';
import { resolveRange, MAX_RANGE_MS, type BucketUnit, type RangeSpec, type ResolvedRange } from './range.js';

const HOUR = 3_600_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's formatter; `ERR_USAGE` for a name the runtime does not know. */
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'short' });
    } catch {
      throw new LicenseError('ERR_USAGE', `unknown time zone "${timeZone}": give an IANA zone name such as Europe/Berlin, America/New_York or UTC`, { field: 'timeZone' });
    }
    formatters.set(timeZone, f);
  }
  return f;
}

interface LocalParts {
  readonly y: number;
  readonly m: number; // 0-based
  readonly d: number;
  readonly h: number;
  readonly mi: number;
  readonly s: number;
  /** 0 = Monday … 6 = Sunday. */
  readonly weekday: number;
}

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** The local calendar and clock at instant `t` in `timeZone`. */
function local(t: number, timeZone: string): LocalParts {
  const p: Record<string, string> = {};
  for (const x of formatter(timeZone).formatToParts(new Date(t))) p[x.type] = x.value;
  return { y: Number(p.year), m: Number(p.month) - 1, d: Number(p.day), h: Number(p.hour), mi: Number(p.minute), s: Number(p.second), weekday: WEEKDAYS.indexOf(p.weekday as string) };
}

/** How far the zone's clock is ahead of UTC at instant `t`, in ms. */
function offset(t: number, timeZone: string): number {
  const l = local(t, timeZone);
  return Date.UTC(l.y, l.m, l.d, l.h, l.mi, l.s) - Math.floor(t / 1000) * 1000;
}

/**
 * The instant the zone's clock shows this local date and time (out-of-range fields roll over, as
 * Date.UTC does). In a gap (spring forward) the next valid instant; in an overlap the first.
 */
export function zonedInstant(timeZone: string, y: number, m: number, d: number, h = 0, mi = 0, s = 0): number {
  const wall = Date.UTC(y, m, d, h, mi, s);
  let t = wall - offset(wall, timeZone);
  t = wall - offset(t, timeZone);
  return t;
}

function step(t: number, unit: BucketUnit, timeZone: string): number {
  if (unit === 'hour') return t + HOUR;
  const l = local(t, timeZone);
  if (unit === 'day') return zonedInstant(timeZone, l.y, l.m, l.d + 1, l.h, l.mi, l.s);
  if (unit === 'week') return zonedInstant(timeZone, l.y, l.m, l.d + 7, l.h, l.mi, l.s);
  return zonedInstant(timeZone, l.y, l.m + 1, l.d, l.h, l.mi, l.s);
}

function edgesOf(from: number, to: number, unit: BucketUnit, timeZone: string): number[] {
  const edges = [from];
  for (let t = step(from, unit, timeZone); t < to; t = step(t, unit, timeZone)) edges.push(t);
  edges.push(to);
  return edges;
}

/**
 * {@link resolveRange} in `timeZone` (an IANA name such as `Europe/Berlin`): calendar periods
 * start at local midnight, buckets follow the local calendar. `UTC` gives what resolveRange gives.
 *
 * @example
 * ```ts
 * resolveZonedRange({ kind: 'day', at: '2027-03-28T12:00Z' }, Date.now(), 'Europe/Berlin') // 23 hours: the clocks go forward
 * ```
 */
export function resolveZonedRange(spec: RangeSpec, now: number, timeZone: string): ResolvedRange {
  formatter(timeZone); // refuses an unknown zone before anything else
  const utc = resolveRange(spec, now); // checks the spec (and a custom span) the one way
  if (utc.kind === 'custom') {
    // Dates alone are the zone's midnights; instants stay what they are.
    const c = spec as { from: Date | number | string; to: Date | number | string };
    const from = dayOrInstant(c.from, timeZone, utc.from);
    const to = dayOrInstant(c.to, timeZone, utc.to);
    if (!(to > from)) throw new LicenseError('ERR_USAGE', 'a custom range must end after it starts');
    if (to - from > MAX_RANGE_MS) throw new LicenseError('ERR_USAGE', 'a custom range may span at most ten years; report on a shorter span');
    return { kind: 'custom', from, to, unit: utc.unit, edges: edgesOf(from, to, utc.unit, timeZone) };
  }
  const s = typeof spec === 'string' ? { kind: spec } : (spec as { kind: string; at?: Date | number | string });
  const at = s.at === undefined ? now : atInstant(s.at, timeZone);
  const l = local(at, timeZone);
  if (utc.kind === 'day') {
    const from = zonedInstant(timeZone, l.y, l.m, l.d);
    const to = zonedInstant(timeZone, l.y, l.m, l.d + 1);
    return { kind: 'day', from, to, unit: 'hour', edges: edgesOf(from, to, 'hour', timeZone) };
  }
  if (utc.kind === 'week') {
    const from = zonedInstant(timeZone, l.y, l.m, l.d - l.weekday);
    const to = zonedInstant(timeZone, l.y, l.m, l.d - l.weekday + 7);
    return { kind: 'week', from, to, unit: 'day', edges: edgesOf(from, to, 'day', timeZone) };
  }
  const from = zonedInstant(timeZone, l.y, l.m, 1);
  const to = zonedInstant(timeZone, l.y, l.m + 1, 1);
  return { kind: 'month', from, to, unit: 'day', edges: edgesOf(from, to, 'day', timeZone) };
}

/** A custom range end: a date alone is the zone's midnight starting that day, else the instant. */
function dayOrInstant(v: Date | number | string, timeZone: string, utc: number): number {
  const date = typeof v === 'string' ? DATE.exec(v.trim()) : null;
  return date === null ? utc : zonedInstant(timeZone, Number(date[1]), Number(date[2]) - 1, Number(date[3]));
}

/**
 * `at` of a calendar spec as an instant. A date alone (`2027-03-15`) names that day in the zone
 * (its local noon, safely inside it), not the UTC midnight that may fall on the day before.
 */
function atInstant(v: Date | number | string, timeZone: string): number {
  if (typeof v !== 'string') return v instanceof Date ? v.getTime() : v;
  const date = DATE.exec(v.trim());
  if (date !== null) return zonedInstant(timeZone, Number(date[1]), Number(date[2]) - 1, Number(date[3]), 12);
  return parseTimeWords(v, { name: 'at', dateAlone: 'start' }).getTime();
}
