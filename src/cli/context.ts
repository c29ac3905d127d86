/**
 * The contract between the CLI dispatcher and each verb. A verb parses its own flags with
 * {@link parseFlags}, does its work through the public API, and returns one {@link Outcome}
 * (or streams lines with {@link CliContext.line} for verbs that report as they go).
 * The dispatcher prints it: one JSON object with `--json`, readable text otherwise.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { LicenseError, parseTimeWords, type DayEdge } from '../cli-internals.js';
import { didYouMean } from './help.js';

export interface CliContext {
  /** True when `--json` was given anywhere on the command line. */
  readonly json: boolean;
  /** Print one streamed line: `data` as a JSON object with `--json`, else `text`. */
  line(data: Record<string, unknown>, text: string): void;
  /** Print a warning to standard error (never to stdout, which stays machine-readable). */
  warn(text: string): void;
  /** Read all of standard input as text (for `-` arguments). */
  readStdin(): Promise<string>;
}

/** What a verb hands back: JSON fields (merged after `"ok":true`) and the human text. */
export interface Outcome {
  readonly data: Record<string, unknown>;
  readonly text: string;
  /** Exit code; 0 unless the verb says otherwise. */
  readonly exitCode?: number;
}

export type Verb = (argv: string[], ctx: CliContext) => Promise<Outcome | undefined>;

type Options = NonNullable<ParseArgsConfig['options']>;

/** Thrown by {@link parseFlags} for `--help` / `-h`: the dispatcher prints `usage` and every flag, and exits 0. */
export class HelpRequested extends Error {
  constructor(
    readonly usage: string,
    /** The flags the verb parses, for one described line each. */
    readonly options: Readonly<Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>> = {},
  ) {
    super('help requested');
  }
}

/** Parse flags strictly; unknown flags and missing values become `ERR_USAGE`. `--json` is always accepted; `--help` prints the usage. */
export function parseFlags<O extends Options>(
  argv: string[],
  options: O,
  usage: string,
): ReturnType<typeof parseArgs<{ args: string[]; options: O & { json: { type: 'boolean' } }; allowPositionals: true; strict: true }>> {
  if (argv.includes('--help') || argv.includes('-h')) throw new HelpRequested(usage, options);
  // parseArgs reads "--credits -1" as a flag without its value; say what is wrong with the value instead.
  for (let i = 0; i + 1 < argv.length; i++) {
    const name = argv[i]?.startsWith('--') ? argv[i]!.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && /^-\d/.test(argv[i + 1]!)) {
      throw new LicenseError('ERR_USAGE', `--${name} must not be negative, got ${argv[i + 1]} (a text value that starts with "-" is written --${name}=${argv[i + 1]})\nUsage: ${usage}`);
    }
  }
  // ...and "consume -1" as an unknown option "-1".
  const negative = argv.find((a) => /^-\d/.test(a));
  if (negative !== undefined) throw new LicenseError('ERR_USAGE', `negative numbers are not accepted, got ${negative}\nUsage: ${usage}`);
  // parseArgs keeps the last of a repeated single-value flag; a repeated --customer is a mistake, not a choice.
  for (const [name, o] of Object.entries(options)) {
    if (o.multiple === true) continue;
    const n = argv.filter((a) => a === `--${name}` || a.startsWith(`--${name}=`) || (o.short !== undefined && a === `-${o.short}`)).length;
    if (n > 1) throw new LicenseError('ERR_USAGE', `--${name} is given ${n} times; give it once\nUsage: ${usage}`);
  }
  try {
    return parseArgs({ args: argv, options: { ...options, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  } catch (e) {
    // A mistyped flag: name the one that was probably meant.
    const unknown = /Unknown option '(--?[^']+)'/.exec((e as Error).message)?.[1];
    const guess = unknown?.startsWith('--') ? didYouMean(unknown.slice(2).split('=')[0]!, [...Object.keys(options), 'json', 'help']) : undefined;
    const hint = guess === undefined ? '' : ` Did you mean --${guess}?`;
    const what = unknown?.startsWith('--') === true ? `unknown flag ${unknown}.${hint} (\`--help\` lists every flag)` : (e as Error).message;
    throw new LicenseError('ERR_USAGE', `${what}\nUsage: ${usage}`, guess === undefined ? {} : { suggestion: `--${guess}` });
  }
}

/** A required string flag, or `ERR_USAGE` naming it. */
export function required(value: string | boolean | undefined | (string | boolean)[], flag: string, usage: string): string {
  if (typeof value !== 'string' || value === '') throw new LicenseError('ERR_USAGE', `missing ${flag}\nUsage: ${usage}`);
  return value;
}

/** A non-negative integer flag (or undefined when absent). */
export function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new LicenseError('ERR_USAGE', `${flag} must be a non-negative whole number, got "${value}"`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new LicenseError('ERR_USAGE', `${flag} is too large (${value}); the largest whole number licit reads is 9007199254740991 (2^53 - 1)`);
  return n;
}

/**
 * A date flag as a Date (or undefined when absent), read by the one time-words reader: a date alone
 * is the whole UTC day (`edge` says which end of it the flag means: `--expires 2027-12-31` is
 * `'end'`, valid through that day), a time must name its zone (`Z` or `+01:00`).
 */
export function isoDate(value: string | undefined, flag: string, edge: DayEdge = 'start'): Date | undefined {
  if (value === undefined) return undefined;
  return parseTimeWords(value, { name: flag, dateAlone: edge });
}

/** The text of a positional argument, or standard input when it is `-` or absent. */
export async function argOrStdin(positional: string | undefined, ctx: CliContext, what: string): Promise<string> {
  if (positional !== undefined && positional !== '-') return positional;
  const text = await ctx.readStdin();
  if (text.trim() === '') throw new LicenseError('ERR_USAGE', `no ${what} given: pass it as an argument or on standard input`);
  return text;
}
