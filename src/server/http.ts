/** Serve a fetch-style handler on `node:http`, with the body size enforced while reading. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LicenseError } from '../core/errors.js';

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
  res.writeHead(r.status, { ...Object.fromEntries(r.headers), 'content-length': String(body.length) });
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

/** Listen on `port`/`host`; resolves with the bound address and a `close()`. */
export function serveHttp(handle: (req: Request) => Promise<Response>, port: number, host: string, max: number): Promise<{ port: number; host: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const r = await toRequest(req, host, max);
        if (r === 'too-large') {
          res.writeHead(413, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
          res.end(JSON.stringify({ ok: false, error: { code: 'ERR_KEY_TOO_LARGE', message: `the request body is larger than ${max} bytes` } }));
          req.destroy();
          return;
        }
        await respond(res, await handle(r));
      } catch {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ ok: false, error: { code: 'ERR_INTERNAL', message: 'the license server failed unexpectedly' } }));
      }
    })();
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(listenError(e, port, host)));
    server.listen(port, host, () => {
      const a = server.address() as AddressInfo;
      resolve({
        port: a.port,
        host: a.address,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
