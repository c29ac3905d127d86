/**
 * Report ranges: a calendar day, ISO week (Monday to Monday) or month containing a moment, or a
 * custom span; and the buckets a range is charted in. All in UTC, so every server of a fleet and
 * every viewer agrees on where a day ends.
 */
import { LicenseError } from '../errors.js';
import { DATE, parseTimeWords } from '../time/time-words.js';

/** The calendar ranges. */
export type CalendarRange = 'day' | 'week' | 'month';

/**
 * What to report on. A bare `'day' | 'week' | 'month'` is the calendar period containing now;
 * `{ kind, at }` the one containing `at`; `{ kind: 'custom', from, to }` the span `[from, to)`.
 */
export type RangeSpec =
  | CalendarRange
  | {
      /** Which calendar period. */
      readonly kind: CalendarRange;
      /** A moment inside the period (Date, ms since the epoch, or ISO string); default now. */
      readonly at?: Date | number | string;
    }
  | {
      /** An explicit span. */
      readonly kind: 'custom';
      /** Start, inclusive (Date, ms since the epoch, or ISO string). */
      readonly from: Date | number | string;
      /** End, exclusive (Date, ms since the epoch, or ISO string); at most ten years after `from`. */
      readonly to: Date | number | string;
    };

/** Chart bucket width. */
export type BucketUnit = 'hour' | 'day' | 'week' | 'month';

/** A range resolved to instants (ms since the epoch, UTC). */
export interface ResolvedRange {
  /** The calendar period it came from, or `'custom'`. */
  readonly kind: CalendarRange | 'custom';
  /** Start, inclusive. */
  readonly from: number;
  /** End, exclusive. */
  readonly to: number;
  /** Bucket width of the chart series. */
  readonly unit: BucketUnit;
  /** Bucket edges: `edges[i]..edges[i+1]` is bucket i; first is `from`, last is `to`. */
  readonly edges: readonly number[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Longest custom range (ten years): beyond that a report is an archive query, not a dashboard. */
export const MAX_RANGE_MS = 3660 * DAY;

function instant(v: Date | number | string, what: string): number {
  // Text goes through the one time-words reader: a zoneless time would mean another instant per TZ.
  if (typeof v === 'string') return parseTimeWords(v, { name: what, dateAlone: 'start' }).getTime();
  const t = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : Number.NaN;
  if (!Number.isFinite(t)) throw new LicenseError('ERR_USAGE', `${what} must be a date (ISO-8601 such as 2027-01-31T00:00:00Z), got "${String(v)}"`, { field: what });
  return t;
}

/** Start of the UTC month containing `t`, moved by `add` months. */
export function monthStart(t: number, add = 0): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + add, 1);
}

function step(t: number, unit: BucketUnit): number {
  if (unit === 'hour') return t + HOUR;
  if (unit === 'day') return t + DAY;
  if (unit === 'week') return t + 7 * DAY;
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
}

function edgesOf(from: number, to: number, unit: BucketUnit): number[] {
  const edges = [from];
  for (let t = step(from, unit); t < to; t = step(t, unit)) edges.push(t);
  edges.push(to);
  return edges;
}

/**
 * Resolve a {@link RangeSpec} against `now`.
 *
 * @example
 * ```ts
 * resolveRange({ kind: 'week', at: '2027-03-03T10:00:00Z' }) // Monday 1 March 00:00Z .. Monday 8 March
 * ```
 */
export function resolveRange(spec: RangeSpec, now: number = Date.now()): ResolvedRange {
  const s = typeof spec === 'string' ? { kind: spec } : spec;
  if (s === null || typeof s !== 'object') throw new LicenseError('ERR_USAGE', 'range must be "day", "week", "month" or { kind: "custom", from, to }');
  if (s.kind === 'custom') {
    const c = s as { from: Date | number | string; to: Date | number | string };
    const from = instant(c.from, 'from');
    const to = instant(c.to, 'to');
    if (!(to > from)) throw new LicenseError('ERR_USAGE', `a custom range must end after it starts (from ${new Date(from).toISOString()}, to ${new Date(to).toISOString()})`);
    if (to - from > MAX_RANGE_MS) throw new LicenseError('ERR_USAGE', 'a custom range may span at most ten years; report on a shorter span');
    const span = to - from;
    const unit: BucketUnit = span <= 2 * DAY ? 'hour' : span <= 92 * DAY ? 'day' : span <= 730 * DAY ? 'week' : 'month';
    return { kind: 'custom', from, to, unit, edges: edgesOf(from, to, unit) };
  }
  const at = instant((s as { at?: Date | number | string }).at ?? now, 'at');
  const d = new Date(at);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (s.kind === 'day') return { kind: 'day', from: day, to: day + DAY, unit: 'hour', edges: edgesOf(day, day + DAY, 'hour') };
  if (s.kind === 'week') {
    const monday = day - ((d.getUTCDay() + 6) % 7) * DAY;
    return { kind: 'week', from: monday, to: monday + 7 * DAY, unit: 'day', edges: edgesOf(monday, monday + 7 * DAY, 'day') };
  }
  if (s.kind === 'month') {
    const from = monthStart(at);
    const to = monthStart(at, 1);
    return { kind: 'month', from, to, unit: 'day', edges: edgesOf(from, to, 'day') };
  }
  throw new LicenseError('ERR_USAGE', `unknown range "${String((s as { kind: unknown }).kind)}": use day, week, month or custom`);
}

/**
 * A range as text: the `--range`, `--at`, `--from` and `--to` flags of `licit report`, or the
 * `range`, `at`, `from` and `to` query parameters of `GET /v1/admin/reports`. Absent is `undefined`.
 */
export interface RangeText {
  /** `day`, `week`, `month` or `custom`. */
  readonly range?: string | undefined;
  /** A moment inside a calendar range (ISO-8601). */
  readonly at?: string | undefined;
  /** Start of a custom range (ISO-8601), inclusive. */
  readonly from?: string | undefined;
  /** End of a custom range (ISO-8601), exclusive. */
  readonly to?: string | undefined;
}

/** Options of {@link parseRangeText}. */
export interface ParseRangeOptions {
  /** The range when `range` is absent; without one an absent `range` is refused. */
  readonly default?: CalendarRange;
}

/** How a refusal names a parameter: the same text from the CLI and over HTTP. */
const param = (name: string) => `${name} (--${name})`;

/**
 * An ISO-8601 date or date-time read by the one time-words reader: a date alone is that day's
 * first instant (UTC; `to` is exclusive, so `from 2027-01-01 to 2027-02-01` is January), a time
 * must name its zone, a calendar date that does not exist (2027-02-30) is refused, not rolled over.
 */
function isoText(value: string, name: string): Date {
  return parseTimeWords(value, { name: param(name), field: name, dateAlone: 'start' });
}

/**
 * A checked date or date-time; a date alone stays text (`2027-01-01`), so a report in a named time
 * zone reads it as that zone's day (resolveZonedRange) while a UTC report reads its UTC midnight.
 */
function keepDate(value: string, name: string): Date | string {
  const d = isoText(value, name);
  return DATE.test(value.trim()) ? value.trim() : d;
}

/**
 * The one parser of a report range given as text, used by `licit report` and by
 * `GET /v1/admin/reports`, so both accept and refuse the same input with the same `ERR_USAGE`.
 * The span itself (ends after it starts, at most ten years) is checked by {@link resolveRange}.
 *
 * @example
 * ```ts
 * parseRangeText({ range: 'custom', from: '2027-01-01', to: '2027-02-01' }) // { kind: 'custom', from: Date, to: Date }
 * ```
 */
export function parseRangeText(text: RangeText, options: ParseRangeOptions = {}): RangeSpec {
  const kind = text.range ?? options.default;
  if (kind === undefined) throw new LicenseError('ERR_USAGE', `${param('range')} is required: day, week, month or custom`, { field: 'range' });
  if (kind === 'custom') {
    if (text.at !== undefined) throw new LicenseError('ERR_USAGE', `${param('at')} applies to day, week and month; a custom range takes from and to`, { field: 'at' });
    for (const name of ['from', 'to'] as const) {
      if (text[name] === undefined) throw new LicenseError('ERR_USAGE', `a custom range needs ${param('from')} and ${param('to')}; ${name} is missing`, { field: name });
    }
    return { kind: 'custom', from: keepDate(text.from as string, 'from'), to: keepDate(text.to as string, 'to') };
  }
  if (kind === 'day' || kind === 'week' || kind === 'month') {
    if (text.from !== undefined || text.to !== undefined) throw new LicenseError('ERR_USAGE', `${param('from')} and ${param('to')} need range custom`, { field: text.from !== undefined ? 'from' : 'to' });
    return text.at === undefined ? kind : { kind, at: keepDate(text.at, 'at') };
  }
  throw new LicenseError('ERR_USAGE', `${param('range')} must be day, week, month or custom, got "${kind}"`, { field: 'range' });
}
