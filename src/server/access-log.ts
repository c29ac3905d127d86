/**
 * The access log: one line per request, so an operator sees what was answered and what was
 * refused (429s, 503s) and from where.
 */

/** One answered request. */
export interface AccessLogEntry {
  /** When the answer was ready. */
  readonly time: Date;
  /** The HTTP method. */
  readonly method: string;
  /** The path, without the query. */
  readonly path: string;
  /** The HTTP status answered. */
  readonly status: number;
  /** Milliseconds spent answering. */
  readonly ms: number;
  /** The error code of a refusal (undefined for a success). */
  readonly code: string | undefined;
  /** The client's address, when known (see `trustProxy`). */
  readonly client: string | undefined;
  /**
   * What the answer did that the vendor should see, at the end of the line: a same-machine
   * reinstall is `reinstall LICENSE-ID OLD-DEVICE -> NEW-DEVICE (transfer counted|no transfer)`.
   */
  readonly note?: string | undefined;
  /** The request's id: the caller's `X-Request-Id` when sane, else a new UUID (also sent back in `X-Request-Id`). */
  readonly requestId?: string | undefined;
  /** The license the request was about, when known. */
  readonly licenseId?: string | undefined;
}

/**
 * `true`: one line per request on stderr; `false`: none; a function: called with each entry
 * instead (ship them to your own logger).
 */
export type AccessLogOption = boolean | 'json' | ((entry: AccessLogEntry) => void);

/** Printable text only, bounded: method and path come from the client and must not forge log lines. */
const clean = (s: string, max: number) => (s.length > max ? `${s.slice(0, max)}…` : s).replace(/[^\x21-\x7e]/g, '?');

/** `2026-12-01T10:00:00.000Z POST /v1/activate 429 3ms ERR_RATE_LIMITED 203.0.113.9`, then the note if any. */
export function formatAccessLine(e: AccessLogEntry): string {
  const line = `${e.time.toISOString()} ${clean(e.method, 16)} ${clean(e.path, 256)} ${e.status} ${Math.round(e.ms)}ms ${e.code ?? '-'} ${e.client === undefined ? '-' : clean(e.client, 64)}`;
  return e.note === undefined ? line : `${line} ${e.note.replace(/[^\x20-\x7e]/g, '?').slice(0, 512)}`;
}

/**
 * One JSON object per line, with pino's field names (`level` 30, `time` in ms, `msg`), so log
 * shippers and `pino-pretty` read it as they read pino's: time, request id, method, route,
 * status, licit error code, duration, license id, client.
 */
export function formatAccessJson(e: AccessLogEntry): string {
  return JSON.stringify({
    level: e.status >= 500 ? 50 : e.status >= 400 ? 40 : 30,
    time: e.time.getTime(),
    msg: 'request',
    requestId: e.requestId,
    method: clean(e.method, 16),
    route: clean(e.path, 256),
    status: e.status,
    code: e.code ?? null,
    ms: Math.round(e.ms * 10) / 10,
    licenseId: e.licenseId ?? null,
    client: e.client ?? null,
    ...(e.note === undefined ? {} : { note: e.note.slice(0, 512) }),
  });
}

/** The sink for an option: stderr, the user's function, or nothing. */
export function accessLogSink(option: AccessLogOption | undefined, byDefault: boolean): ((entry: AccessLogEntry) => void) | undefined {
  if (typeof option === 'function') return option;
  if (option === 'json') return (e) => process.stderr.write(`${formatAccessJson(e)}\n`);
  if (option ?? byDefault) return (e) => process.stderr.write(`${formatAccessLine(e)}\n`);
  return undefined;
}

/** An operator message on stderr with a timestamp (errors the client was not shown, dropped connections). */
export function logOperator(message: string, error?: unknown): void {
  if (error === undefined) console.error(`${new Date().toISOString()} licit server: ${message}`);
  else console.error(`${new Date().toISOString()} licit server: ${message}`, error);
}
