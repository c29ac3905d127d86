/**
 * The one reader of a date or time a person types (`licit issue --expires`, `issueLicense` given
 * text, `licit verify --now`, report ranges). A date alone names a whole UTC day; a time must say
 * its zone, so the same words mean the same instant on every machine whatever its `TZ`.
 */
import { LicenseError } from '../errors.js';

/** Which end of a day a date alone stands for. */
export type DayEdge = 'start' | 'end';

/** Options of {@link parseTimeWords}. */
export interface TimeWordsOptions {
  /**
   * What a date alone (`2027-12-31`) means: `'start'` its first instant (`2027-12-31T00:00:00Z`),
   * `'end'` its last second (`2027-12-31T23:59:59Z`; license dates are whole seconds and an end
   * is inclusive, so a license expiring on 2027-12-31 is valid all of that day, UTC, until
   * 2028-01-01T00:00:00Z). Default `'start'`.
   */
  readonly dateAlone?: DayEdge;
  /** How messages name the value (`--expires`, `expiresAt`). Default `"date"`. */
  readonly name?: string;
  /** The `details.field` of a refusal. Default: {@link TimeWordsOptions.name}. */
  readonly field?: string;
}

const DAY_MS = 86_400_000;
/** A date alone, `2027-12-31` (year, month, day captured): the one pattern for it. */
export const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?$/i;

/** A calendar day as written, or undefined when it does not exist (2027-02-30 is not rolled into March). */
function dayStart(y: string, m: string, d: string): number | undefined {
  const t = Date.UTC(Number(y), Number(m) - 1, Number(d));
  const back = new Date(t);
  if (back.getUTCFullYear() !== Number(y) || back.getUTCMonth() !== Number(m) - 1 || back.getUTCDate() !== Number(d)) return undefined;
  // Date.UTC reads years 0 to 99 as 1900 to 1999; licit's dates are four-digit years from 1970.
  return Number(y) < 1970 ? undefined : t;
}

function refuser(name: string, field: string, value: string) {
  return (why: string, example: string): LicenseError => new LicenseError('ERR_USAGE', `${name} ${why}, got "${value}". Write ${example}`, { field, value });
}

/**
 * Read a date or an instant typed by a person. Accepted: a date alone, `YYYY-MM-DD`, naming a whole
 * UTC day (see {@link TimeWordsOptions.dateAlone}); a date and time with its zone,
 * `YYYY-MM-DDTHH:MM[:SS[.fff]]Z` or `…+01:00`. A time without a zone is refused
 * (`ERR_USAGE`, the message shows both fixes), as is anything else, or a day that does not exist.
 *
 * @example
 * ```ts
 * parseTimeWords('2027-12-31', { dateAlone: 'end' })  // 2027-12-31T23:59:59Z: valid all of 2027-12-31 UTC
 * parseTimeWords('2027-12-31T10:00+01:00')           // 2027-12-31T09:00:00Z
 * parseTimeWords('2027-12-31T10:00')                 // ERR_USAGE: write 2027-12-31T10:00Z or 2027-12-31T10:00+01:00
 * ```
 */
export function parseTimeWords(value: string, options: TimeWordsOptions = {}): Date {
  const name = options.name ?? 'date';
  const field = options.field ?? name;
  if (typeof value !== 'string') throw new LicenseError('ERR_USAGE', `${name} must be a date such as 2027-12-31 or 2027-12-31T10:00Z`, { field });
  const refuse = refuser(name, field, value);
  const text = value.trim();
  const date = DATE.exec(text);
  if (date !== null) {
    const start = dayStart(date[1]!, date[2]!, date[3]!);
    if (start === undefined) throw refuse('names a day that does not exist', 'a calendar date such as 2027-12-31');
    // The last whole second: ends are inclusive and licit dates are whole seconds, so nothing of the day is lost.
    return new Date(options.dateAlone === 'end' ? start + DAY_MS - 1000 : start);
  }
  const dt = DATE_TIME.exec(text);
  if (dt === null) throw refuse('must be a date (2027-12-31: the whole day, UTC) or a date and time with its zone', '2027-12-31, 2027-12-31T10:00Z or 2027-12-31T10:00+01:00');
  const [, y, mo, d, h, mi, s = '0', frac = '', zone] = dt as unknown as [string, string, string, string, string, string, string | undefined, string | undefined, string | undefined];
  if (zone === undefined) {
    // Read in the machine's zone, the same words would be a different instant under every TZ.
    throw refuse('has a time but no time zone, so it would mean a different instant on every machine', `${text}Z for UTC, or ${text}+01:00 for a time one hour ahead of UTC (any offset)`);
  }
  const start = dayStart(y, mo, d);
  if (start === undefined) throw refuse('names a day that does not exist', 'a calendar date such as 2027-12-31');
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) throw refuse('has a time of day out of range', 'hours 00-23, minutes and seconds 00-59, such as 2027-12-31T23:59:59Z');
  let offset = 0;
  if (zone.toUpperCase() !== 'Z') {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) throw refuse('has a zone offset out of range', 'an offset from -23:59 to +23:59, such as +01:00');
    offset = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const ms = Math.floor(Number(`0.${frac || '0'}`) * 1000);
  return new Date(start + ((Number(h) * 60 + Number(mi)) * 60 + Number(s)) * 1000 + ms - offset);
}

/** An instant as licit prints it: ISO-8601 UTC with `Z`, milliseconds only when there are any (`2028-01-01T00:00:00Z`). */
export function formatInstant(d: Date): string {
  return d.toISOString().replace('.000Z', 'Z');
}

/**
 * An expiry or maintenance end as people read it: the exact instant, and which day it closes or
 * opens when it falls on a day's edge. `2027-12-31T23:59:59Z (end of 2027-12-31 UTC)` is what
 * `--expires 2027-12-31` signs today; `2027-12-31T00:00:00Z (start of 2027-12-31 UTC)` is what
 * earlier releases of licit signed for the same words, and such keys keep that meaning.
 */
export function describeEnd(d: Date): string {
  const t = d.getTime();
  if ((t + 1000) % DAY_MS === 0) return `${formatInstant(d)} (end of ${new Date(t).toISOString().slice(0, 10)} UTC)`;
  if (t % DAY_MS === 0) return `${formatInstant(d)} (start of ${new Date(t).toISOString().slice(0, 10)} UTC)`;
  return formatInstant(d);
}
