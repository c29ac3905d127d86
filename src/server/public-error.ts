/**
 * What a client may see of an error. The server's own failures (store, disk, bugs) become a fixed
 * message with no details: their text names directories, files and store internals that help an
 * attacker and not the client, who can only try again. The operator reads the full error in the
 * server's log instead. Every other message and detail loses any absolute path, defensively.
 */
import type { LicenseError, LicenseErrorCode, LicenseErrorJSON } from '../core/errors.js';

/** Codes that mean "the server is in trouble": the client gets this text and status only. */
const GENERIC: Partial<Record<LicenseErrorCode, { status: number; message: string }>> = {
  ERR_STORE_UNAVAILABLE: { status: 503, message: 'the license server cannot reach its store; try again later' },
  ERR_STORE_POISONED: { status: 503, message: 'the license server cannot reach its store; try again later' },
  ERR_IO: { status: 503, message: 'the license server could not read or write its data; try again later' },
  ERR_STORE_CORRUPT: { status: 500, message: 'the license server found a problem in its store and its operator must look at it; try again later' },
  ERR_INTERNAL: { status: 500, message: 'the license server failed unexpectedly; try again later' },
};

/** The error as sent to the client, its status when the code fixes one, and whether the operator must see the original. */
export interface PublicError {
  /** The `error` member of the response body. */
  readonly error: LicenseErrorJSON;
  /** The HTTP status for a server-side failure (undefined: the caller's table decides). */
  readonly status: number | undefined;
  /** A server-side failure: log the original error for the operator. */
  readonly internal: boolean;
}

/** The client's view of `err`. */
export function publicError(err: LicenseError): PublicError {
  const generic = GENERIC[err.code];
  if (generic !== undefined) return { error: { code: err.code, message: generic.message }, status: generic.status, internal: true };
  const out: LicenseErrorJSON = { code: err.code, message: withoutPaths(err.message) };
  const details = cleanDetails(err.details);
  if (Object.keys(details).length > 0) out.details = details;
  return { error: out, status: undefined, internal: false };
}

// A POSIX absolute path where a path can start (not inside a word or a URL), a Windows drive path,
// or a UNC path. The server's own endpoints (/v1/...) are names clients need, not paths.
const POSIX = /(^|[\s"'`(=,[{<])\/(?!v1\/)[^\s"'`)<>,;]+/g;
const WINDOWS = /\b[A-Za-z]:\\[^\s"'`)<>,;]*/g;
const UNC = /\\\\[^\s"'`)<>,;\\]+\\[^\s"'`)<>,;]*/g;

/** `s` with every absolute file path replaced by `<path>`. */
export function withoutPaths(s: string): string {
  return s
    .replace(POSIX, (_m, before: string) => `${before}<path>`)
    .replace(WINDOWS, '<path>')
    .replace(UNC, '<path>');
}

/** Keys that name places on the server's disk or its internals: dropped whatever their value. */
const DROPPED = new Set(['path', 'file', 'dir', 'directory', 'stack', 'cause', 'errno', 'syscall']);

function cleanDetails(details: Readonly<Record<string, unknown>>, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(details)) {
    if (DROPPED.has(k.toLowerCase())) continue;
    out[k] = cleanValue(v, depth);
  }
  return out;
}

function cleanValue(v: unknown, depth: number): unknown {
  if (typeof v === 'string') return withoutPaths(v);
  if (depth >= 4 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => cleanValue(x, depth + 1));
  if (v instanceof Error) return undefined;
  return cleanDetails(v as Record<string, unknown>, depth + 1);
}
