/**
 * Serve a fetch-style handler on `node:http`, exposed to the internet: the body size enforced
 * while reading, timeouts that drop slow clients (slowloris), and a connection cap that keeps room
 * for new clients by closing the oldest idle connection instead of refusing the newcomer.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { LicenseError } from '../core/errors.js';
import { logOperator, type AccessLogEntry } from './access-log.js';

/** Timeouts of the HTTP server, in milliseconds. */
export interface HttpTimeouts {
  /** From a connection's (or request's) first byte to the end of its headers (default 5,000). Slower: 408 and closed. */
  readonly headers?: number | undefined;
  /** From the first byte to the end of the body (default 15,000). Slower: 408 and closed. */
  readonly request?: number | undefined;
  /** How long a kept-alive connection may wait for its next request (default 5,000). */
  readonly keepAlive?: number | undefined;
  /** A connection with no byte in either direction for this long is closed, unless its answer is being computed (default 10,000). */
  readonly idle?: number | undefined;
}

/** What {@link serveHttp} needs besides the handler. */
export interface HttpOptions {
  /** Largest request body read, in bytes; a larger one is answered 413 and the connection closed. */
  readonly maxBodyBytes: number;
  /** Connections open at once (default 1,000). */
  readonly maxConnections?: number | undefined;
  /** See {@link HttpTimeouts}. */
  readonly timeouts?: HttpTimeouts | undefined;
  /** The access log sink (for answers given here, not by the handler: 413, 500). */
  readonly log?: ((entry: AccessLogEntry) => void) | undefined;
  /** Tell the operator about connections closed at the cap (at most one line per 10 s). */
  readonly notices?: boolean | undefined;
}

/** What the handler learns about the connection. */
export interface ClientInfo {
  /** The socket's peer address. */
  readonly clientAddress?: string | undefined;
}

/** The defaults of {@link HttpTimeouts} and the connection cap. */
export const HTTP_DEFAULTS = { maxConnections: 1000, headers: 5_000, request: 15_000, keepAlive: 5_000, idle: 10_000, maxHeadersCount: 100, maxHeaderSize: 16 * 1024 } as const;

/** The part of the cap kept free for newcomers: above it, each new connection evicts the oldest idle one. */
const RESERVE = 0.1;

/** Convert a Node request into a WHATWG `Request`, reading at most `max` bytes of body. */
async function toRequest(req: IncomingMessage, host: string, max: number): Promise<Request | 'too-large'> {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [v]) headers.append(k, x);
  }
  const url = `http://${req.headers.host ?? host}${req.url ?? '/'}`;
  if (req.method === 'GET' || req.method === 'HEAD') return new Request(url, { method: req.method, headers });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > max) return 'too-large';
    chunks.push(c);
  }
  return new Request(url, { method: req.method ?? 'POST', headers, body: Buffer.concat(chunks) });
}

async function respond(res: ServerResponse, r: Response): Promise<void> {
  const body = Buffer.from(await r.arrayBuffer());
  // A HEAD answer says the length of the body it does not send.
  const headers: Record<string, string | string[]> = { 'content-length': String(body.length), ...Object.fromEntries(r.headers) };
  // Several Set-Cookie lines stay several (fromEntries keeps the last one only).
  const cookies = r.headers.getSetCookie();
  if (cookies.length > 1) headers['set-cookie'] = cookies;
  res.writeHead(r.status, headers);
  res.end(body);
}

/**
 * Why listening failed, as a LicenseError that says what to do: a busy or forbidden port is
 * `ERR_IO` (choose another port), a host that is no address of this machine is `ERR_USAGE`.
 */
function listenError(e: NodeJS.ErrnoException, port: number, host: string): Error {
  switch (e.code) {
    case 'EADDRINUSE':
      return new LicenseError('ERR_IO', `port ${port} on ${host} is already in use by another program: stop it or choose another port`, { port, host }, { cause: e });
    case 'EACCES':
      return new LicenseError('ERR_IO', `not allowed to listen on port ${port} on ${host} (ports below 1024 need privileges): choose a port from 1024 to 65535`, { port, host }, { cause: e });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EADDRNOTAVAIL':
    case 'EINVAL':
      return new LicenseError('ERR_USAGE', `cannot listen on host "${host}": it is not a valid address of this machine (${e.code}); give a valid address such as 127.0.0.1, 0.0.0.0 or :: or a host name of this machine`, { port, host }, { cause: e });
    default:
      return e;
  }
}

/** A whole number of milliseconds >= 1 (or connections), or ERR_USAGE naming the option. */
function positive(v: number | undefined, fallback: number, name: string): number {
  const n = v ?? fallback;
  if (!Number.isSafeInteger(n) || n < 1) throw new LicenseError('ERR_USAGE', `${name} must be a whole number >= 1, got ${String(v)}`);
  return n;
}

/** The limits of one server, defaults filled in and checked. */
export function httpLimits(o: Pick<HttpOptions, 'maxConnections' | 'timeouts'>) {
  const t = o.timeouts ?? {};
  const limits = {
    maxConnections: positive(o.maxConnections, HTTP_DEFAULTS.maxConnections, 'maxConnections'),
    headers: positive(t.headers, HTTP_DEFAULTS.headers, 'timeouts.headers'),
    request: positive(t.request, HTTP_DEFAULTS.request, 'timeouts.request'),
    keepAlive: positive(t.keepAlive, HTTP_DEFAULTS.keepAlive, 'timeouts.keepAlive'),
    idle: positive(t.idle, HTTP_DEFAULTS.idle, 'timeouts.idle'),
  };
  if (limits.headers > limits.request) throw new LicenseError('ERR_USAGE', `timeouts.headers (${limits.headers} ms) must not exceed timeouts.request (${limits.request} ms)`);
  return limits;
}

/** How long `close()` lets requests being answered finish before it cuts their connections. */
export const DRAIN_MS = 10_000;

/** Listen on `port`/`host`; resolves with the bound address and a `close()`. */
export function serveHttp(
  handle: (req: Request, info: ClientInfo) => Promise<Response>,
  port: number,
  host: string,
  options: HttpOptions,
): Promise<{ port: number; host: string; close(graceMs?: number): Promise<void> }> {
  const max = options.maxBodyBytes;
  const limits = httpLimits(options);
  const log = options.log;
  /** Open connections, oldest first. */
  const open = new Set<Socket>();
  /** Connections whose answer is being computed: never evicted, never idle. */
  const busy = new Set<Socket>();
  const evictAbove = Math.max(0, limits.maxConnections - Math.max(1, Math.floor(limits.maxConnections * RESERVE)));

  const server = createServer(
    {
      headersTimeout: limits.headers,
      requestTimeout: limits.request,
      keepAliveTimeout: limits.keepAlive,
      // Node checks the two timeouts above only this often (30 s by default, which lets a slow client
      // hold its connection six times longer than headersTimeout says).
      connectionsCheckingInterval: Math.min(1000, limits.headers),
      maxHeaderSize: HTTP_DEFAULTS.maxHeaderSize,
    },
    (req, res) => {
      void (async () => {
        const t0 = performance.now();
        const socket = req.socket;
        try {
          const r = await toRequest(req, host, max);
          if (r === 'too-large') {
            res.writeHead(413, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
            res.end(JSON.stringify({ ok: false, error: { code: 'ERR_BODY_TOO_LARGE', message: `the request body is larger than ${max} bytes; send only the request code (and credentials), or raise maxBodyBytes` } }));
            lingerAndClose(req);
            log?.({ time: new Date(), method: req.method ?? '-', path: pathOf(req.url), status: 413, ms: performance.now() - t0, code: 'ERR_BODY_TOO_LARGE', client: socket.remoteAddress });
            return;
          }
          busy.add(socket);
          try {
            await respond(res, await handle(r, { clientAddress: socket.remoteAddress }));
          } finally {
            busy.delete(socket);
          }
        } catch (e) {
          logOperator(`${req.method ?? '-'} ${pathOf(req.url)} failed`, e);
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify({ ok: false, error: { code: 'ERR_INTERNAL', message: 'the license server failed unexpectedly; try again later' } }));
          log?.({ time: new Date(), method: req.method ?? '-', path: pathOf(req.url), status: 500, ms: performance.now() - t0, code: 'ERR_INTERNAL', client: socket.remoteAddress });
        }
      })();
    },
  );
  server.maxHeadersCount = HTTP_DEFAULTS.maxHeadersCount;
  // `Expect: 100-continue` with a body over the limit: answer 413 at once instead of inviting the
  // client to send it (it would then get a broken pipe instead of the answer).
  server.on('checkContinue', (req, res) => {
    const length = Number(req.headers['content-length']);
    if (Number.isFinite(length) && length > max) {
      res.writeHead(413, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
      res.end(JSON.stringify({ ok: false, error: { code: 'ERR_BODY_TOO_LARGE', message: `the request body is larger than ${max} bytes; send only the request code (and credentials), or raise maxBodyBytes` } }));
      log?.({ time: new Date(), method: req.method ?? '-', path: pathOf(req.url), status: 413, ms: 0, code: 'ERR_BODY_TOO_LARGE', client: req.socket.remoteAddress });
      lingerAndClose(req);
      return;
    }
    res.writeContinue();
    server.emit('request', req, res);
  });
  // The hard cap: past it node:http closes newcomers at once. Below it, from 90 %, a newcomer
  // closes the oldest idle connection instead, so slow clients cannot take the last places.
  server.maxConnections = limits.maxConnections;

  let evicted = 0;
  let dropped = 0;
  let flush: NodeJS.Timeout | undefined;
  const notice = () => {
    if (options.notices !== true || flush !== undefined) return;
    flush = setTimeout(() => {
      flush = undefined;
      logOperator(`at the connection cap (maxConnections ${limits.maxConnections}): closed ${evicted} idle or slow connections for newcomers, refused ${dropped} newcomers with every place busy, in the last 10 s`);
      evicted = 0;
      dropped = 0;
    }, 10_000);
    flush.unref();
  };

  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => {
      open.delete(socket);
      busy.delete(socket);
    });
    socket.setTimeout(limits.idle);
    if (open.size > evictAbove) {
      for (const s of open) {
        if (s !== socket && !busy.has(s)) {
          s.destroy();
          evicted++;
          notice();
          break;
        }
      }
    }
  });
  // Handling 'timeout' ourselves stops node:http from closing a connection whose answer is still being computed.
  server.on('timeout', (socket: Socket) => {
    if (!busy.has(socket)) socket.destroy();
  });
  server.on('drop', () => {
    dropped++;
    notice();
  });

  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(listenError(e, port, host)));
    server.listen(port, host, () => {
      const a = server.address() as AddressInfo;
      resolve({
        port: a.port,
        host: a.address,
        close: (graceMs = DRAIN_MS) =>
          new Promise<void>((done) => {
            if (flush !== undefined) clearTimeout(flush);
            // Graceful: stop accepting, close idle keep-alive connections, let requests being
            // answered finish (their connections close after the answer), and cut whatever is
            // left after graceMs.
            const cut = setTimeout(() => server.closeAllConnections(), graceMs);
            cut.unref();
            // A connection whose answer was just sent turns idle (keep-alive): close those as they come.
            const idle = setInterval(() => server.closeIdleConnections(), 50);
            idle.unref();
            server.close(() => {
              clearTimeout(cut);
              clearInterval(idle);
              done();
            });
            server.closeIdleConnections();
          }),
      });
    });
  });
}

/**
 * After answering 413, read and drop what the client is still sending for a moment before closing
 * (as web servers' "lingering close" does): closing at once resets the connection while the client
 * writes, and it sees a broken pipe instead of the answer.
 */
function lingerAndClose(req: IncomingMessage): void {
  req.resume();
  const close = setTimeout(() => req.socket.destroy(), 2000);
  close.unref();
  req.once('end', () => {
    clearTimeout(close);
    req.socket.end();
  });
}

/** The path of a request target, without its query (which may carry ids). */
function pathOf(url: string | undefined): string {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q === -1 ? u : u.slice(0, q);
}
