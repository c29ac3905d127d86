/**
 * The vendor's license server as a fetch-style handler: `(Request) => Promise<Response>`, JSON in
 * and out. Installations call the exchange endpoints with signed request codes; administrators call
 * `/v1/admin/*` with a bearer token (admin-routes.ts). Every refusal is
 * `{ ok: false, error: { code, message } }` with the library's codes (responses.ts); input is read
 * by request-body.ts.
 */
import { readFileSync } from 'node:fs';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { utf8 } from '../core/codec/bytes.js';
import { openRequest } from '../core/exchange/request.js';
import { sha256Digest } from '../node/crypto/digest.js';
import { ERROR_CODES, LicenseError, isLicenseError, type LicenseErrorCode } from '../core/errors.js';
import type { JsonObject, Store } from '../core/store/store.js';
import { openStoreLazily } from './open-store.js';
import { Vendor, type VendorOptions } from './vendor.js';
import { accessLogSink, type AccessLogEntry, type AccessLogOption } from './access-log.js';
import { clientAddress } from './client-address.js';
import type { ClientInfo, HttpTimeouts } from './http.js';
import { ServerLimits, type RateLimitOptions } from './limits.js';
import { adminRoutes, type Route } from './admin-routes.js';
import { licenseRoutes } from './license-routes.js';
import { reissueRoutes } from './reissue-routes.js';
import { withAuditChain } from '../core/admin/chained-store.js';
import { WebhookDispatcher, type WebhookOptions } from './webhooks.js';
import { observeCommits } from './commit-observer.js';
import { ServerAlerts, type ServerAlertsOptions } from './license-alerts.js';
import { settingsRoutes } from './settings-routes.js';
import { openApiDocument } from './openapi.js';
import { startTrial, type TrialPolicy } from './trials.js';
import { checkFresh, requestWindow } from './identity-policy.js';
import { createServerMetrics, type ServerMetrics } from './metrics.js';
import { credentials, readJson, str, usage } from './request-body.js';
import { fail, json } from './responses.js';
import { createPortal, portalAdminRoutes, type PortalOptions } from './portal/index.js';

/** Options of {@link createLicenseServer}. */
export interface LicenseServerOptions extends Omit<VendorOptions, 'store'> {
  /**
   * Where activations, users, usage and the audit log live. Default: `$LICIT_STORE`, a `FileStore`
   * directory (one server process on one machine) or a `postgres://` URL (a `PostgresStore`, for
   * several server processes; needs the optional `pg` package), else a `FileStore` in `./licit-store`.
   */
  readonly store?: Store | undefined;
  /** Bearer token for `/v1/admin/*`. Without one, administrative endpoints answer 401. */
  readonly adminToken?: string | undefined;
  /** Largest request body accepted, in bytes (default 64 KiB). */
  readonly maxBodyBytes?: number | undefined;
  /**
   * Rate limits on the exchange endpoints (per client address and per license) and on failed admin
   * tokens (per client); a refusal is 429 `ERR_RATE_LIMITED` with a `Retry-After` header and
   * `details.retryAfterSeconds`. Defaults: 60 requests per 60 s per client, 120 per 60 s per license,
   * 10 failed admin tokens per 600 s per client. `false` turns all three off; each can be changed or
   * turned off alone.
   *
   * @example
   * ```ts
   * createLicenseServer({ signingKey, rateLimit: { perClient: { requests: 600, perSeconds: 60 }, perLicense: false } })
   * ```
   */
  readonly rateLimit?: RateLimitOptions | false | undefined;
  /**
   * Reverse proxies in front of the server whose `X-Forwarded-For` to believe: `true` for one (nginx,
   * a load balancer), a number for a chain, `false` (default) for none. The client is the address
   * the outermost trusted proxy saw; entries the client wrote itself are ignored. Leave it off when
   * clients reach the server directly: they could then claim any address and dodge the per-client limits.
   */
  readonly trustProxy?: boolean | number | undefined;
  /**
   * Connections open at once on `listen()` (default 1,000; keep it below the process's open-file
   * limit, `ulimit -n`). From 90 % of it a new connection closes the oldest connection that has no
   * answer being computed (an idle keep-alive, a client still sending its request), so slow clients
   * cannot take every place; past it new connections are closed.
   */
  readonly maxConnections?: number | undefined;
  /**
   * Timeouts of `listen()` in milliseconds: `headers` 5,000 (first byte to end of headers), `request`
   * 15,000 (to end of body), `keepAlive` 5,000 (between requests), `idle` 10,000 (no byte either way,
   * while no answer is being computed). A slow client is answered 408 or dropped.
   */
  readonly timeouts?: HttpTimeouts | undefined;
  /**
   * One line per request on stderr, `time method path status ms code client`
   * (`2026-12-01T10:00:00.000Z POST /v1/activate 429 3ms ERR_RATE_LIMITED 203.0.113.9`), or a
   * function that receives each {@link AccessLogEntry}, or `false` for none. Default: on for
   * `listen()`, off for `handle()` mounted in another framework (which keeps its own log).
   */
  readonly accessLog?: AccessLogOption | undefined;
  /**
   * Deliver audit events (activations, deactivations, transfers, threshold alerts, top-ups, refused
   * exchanges, ...) to the vendor's other systems: signed HTTPS POSTs from the store's own log,
   * resumed after a restart from a cursor kept in the store (see `WebhookDispatcher`). `listen()`
   * starts delivering; a server mounted with `handle()` calls `server.webhooks.start()` itself.
   */
  readonly webhooks?: WebhookOptions | undefined;
  /**
   * Prometheus metrics at `GET /v1/admin/metrics` (behind the admin token): requests by route,
   * status and code, latency histograms, refusals, store errors, process metrics. Needs the
   * optional peer dependency `prom-client`. Default off.
   */
  readonly metrics?: boolean | undefined;
  /**
   * Trials per product (`{ 'acme-cad': { days: 30, features: ['export'] } }`): `POST /v1/trial`
   * hands out a node-locked trial license once per machine and product (`requestTrial` in licit/node).
   */
  readonly trials?: Readonly<Record<string, TrialPolicy>> | undefined;
  /**
   * The licensing portal at `/portal` (docs/portal.md): web pages where the vendor (signing in with
   * the admin token) and its customers' administrators and license users (company code, e-mail,
   * password) manage licenses, devices and users. On by default; `false` turns it off.
   */
  readonly portal?: PortalOptions | false | undefined;
  /**
   * Act on each license's alert settings (thresholds, automatic credit top-ups, notification
   * recipients; set in the portal or with `POST /v1/admin/settings`): after every change to a
   * license's seats or credits, its rules are checked and `alert.*` and `topup.*` events written
   * (delivered by `webhooks`). On by default; `false` turns it off (settings are then kept, not acted on).
   */
  readonly alerts?: ServerAlertsOptions | false | undefined;
}

/** What {@link createLicenseServer} returns. */
export interface LicenseServer {
  /**
   * Answer one HTTP request. Pass the client's address when you mount this handler yourself, so
   * the per-client rate limits apply (`listen()` does).
   */
  handle(req: Request, info?: ClientInfo): Promise<Response>;
  /** Listen on `node:http`; resolves once listening with the bound port. */
  listen(
    port: number,
    host?: string,
  ): Promise<{
    /** The port bound (the one chosen by the OS when `port` was 0). */
    port: number;
    /** The address bound (default host `127.0.0.1`). */
    host: string;
    /**
     * Stop listening, close idle connections, let the requests being answered finish (at most
     * `graceMs`, default 10 s, then their connections are cut); resolves once the server is closed.
     * `licit serve` does this on SIGTERM and SIGINT.
     */
    close(graceMs?: number): Promise<void>;
  }>;
  /** The vendor logic behind the endpoints. */
  readonly vendor: Vendor;
  /** The webhook dispatcher when `webhooks` were given (started by `listen()`, stopped by its `close()`). */
  readonly webhooks: WebhookDispatcher | undefined;
  /** The alert checks run after each change (`idle()` resolves once none is pending); undefined with `alerts: false`. */
  readonly alerts: ServerAlerts | undefined;
}

const digest = (s: string) => sha256Digest(utf8(s));

/**
 * Create a license server.
 *
 * Exchange (no token; the request code is signed by the installation):
 * `POST /v1/activate`, `/v1/renew`, `/v1/deactivate`, `/v1/usage`, `/v1/topup` with `{ "request": "LICITR1-…" }`
 * (`topup`: an activated installation asks for credits; `topUpPolicy` decides what is granted).
 *
 * Administration (`Authorization: Bearer <adminToken>`):
 * `POST /v1/admin/licenses {license}`, `GET /v1/admin/devices?licenseId=`,
 * `POST /v1/admin/devices/reset {licenseId, deviceId, countTransfer?}`, `POST /v1/admin/devices/rename {licenseId, deviceId, label}`,
 * `GET /v1/admin/users?licenseId=`, `POST /v1/admin/users {licenseId, userId, maxActivations?}`, `POST /v1/admin/users/remove {licenseId, userId}`,
 * `POST /v1/admin/users/reset {licenseId, userId}`, `POST /v1/admin/users/rename {licenseId, userId, newUserId}`, `POST /v1/admin/topups {licenseId, credits | token}`,
 * `GET /v1/admin/usage?licenseId=`, `GET /v1/admin/events?licenseId=`,
 * `GET /v1/admin/reports?licenseId=&range=day|week|month|custom[&at=|&from=&to=]` and
 * `GET /v1/admin/log?licenseId=` (the hash-chained audit log, verified; `ERR_AUDIT_TAMPERED` when edited).
 *
 * @example
 * ```ts
 * import { createLicenseServer } from 'licit/server'
 * import { FileStore } from 'licit/node'
 * const server = createLicenseServer({ signingKey: readFileSync('vendor.key', 'utf8'), store: new FileStore('/var/lib/licit'), adminToken: process.env.ADMIN_TOKEN })
 * // store omitted: $LICIT_STORE (a directory or a postgres:// URL) or ./licit-store
 * await server.listen(8080)
 * ```
 */
export function createLicenseServer(options: LicenseServerOptions): LicenseServer {
  // After each commit that appended events (any exchange, admin route, portal form or top-up),
  // webhooks deliver them at once rather than at the next scan, and the license's alert settings
  // are checked; both only schedule work there, so no answer waits for them.
  let webhooks: WebhookDispatcher | undefined;
  let alerts: ServerAlerts | undefined;
  const base = options?.store ?? defaultStore();
  const chained = options?.auditChain === false ? base : withAuditChain(base);
  const observed = options?.webhooks !== undefined || options?.alerts !== false;
  const store = observed ? observeCommits(chained, (id, kinds) => (webhooks?.notify(id), alerts?.notify(id, kinds))) : chained;
  const vendor = new Vendor({ ...options, store, auditChain: false });
  if (options.webhooks !== undefined) webhooks = new WebhookDispatcher(vendor.store, { now: vendor.now, ...options.webhooks });
  if (options.alerts !== false) alerts = new ServerAlerts(vendor, options.alerts ?? {});
  const max = options.maxBodyBytes ?? 64 * 1024;
  const token = options.adminToken === undefined || options.adminToken === '' ? undefined : digest(options.adminToken);

  const authorize = (req: Request) => {
    const m = /^Bearer (.+)$/.exec(req.headers.get('authorization') ?? '');
    // Compare digests in constant time: the token's length and prefix leak nothing.
    if (token === undefined || m?.[1] === undefined || !timingSafeEqual(digest(m[1]), token)) {
      throw new LicenseError('ERR_UNAUTHORIZED', token === undefined ? 'administration is disabled on this server (no admin token configured)' : 'a valid admin token is required (Authorization: Bearer <token>)');
    }
  };

  // What an answer did that the access log line should say (a same-machine reinstall).
  const notes = new WeakMap<Request, string>();
  // The license a request was about, for the access log (exchange: the request code's; admin: ?licenseId=).
  const licenseOfRequest = new WeakMap<Request, string>();
  const exchange = async (op: string, body: JsonObject, httpReq: Request): Promise<Record<string, unknown>> => {
    const req = await openRequest(str(body, 'request'));
    licenseOfRequest.set(httpReq, req.licenseId);
    if (req.operation !== op && !(op === 'renew' && req.operation === 'activate') && !(op === 'activate' && req.operation === 'renew')) {
      throw usage(`this request code asks to ${req.operation}; send it to /v1/${req.operation}`);
    }
    const a = await vendor.answer(req, { credentials: credentials(body), ...(limits.countsLicenses ? { admit: (licenseId: string) => limits.license(licenseId) } : {}) });
    if ('lease' in a) {
      const out: Record<string, unknown> = { lease: a.lease, licenseId: a.licenseId, deviceId: a.deviceId, user: a.user, verifiedUntil: a.verifiedUntil.toISOString(), serverTime: a.serverTime.toISOString(), floor: a.floor, activated: a.activated };
      if (a.topUp !== undefined) out.topUp = { ...a.topUp, tokenId: a.topUp.tokenId ?? null };
      if (a.reinstalled !== undefined) notes.set(httpReq, `reinstall ${a.licenseId} ${a.reinstalled.from} -> ${a.deviceId} (${a.reinstalled.transferCounted ? 'transfer counted' : 'no transfer'})`);
      return out;
    }
    return a as Record<string, unknown>;
  };

  const health: Route = async () => ({ time: new Date(vendor.now()).toISOString(), kid: vendor.signer.kid });
  // Readiness: the store answers (a read of a license id no license can have). 503 with
  // ERR_STORE_UNAVAILABLE when it does not, so a load balancer sends traffic elsewhere.
  const ready: Route = async () => {
    const t0 = performance.now();
    await vendor.store.read(READY_PROBE_ID, (r) => r.get('ready', 'probe'));
    return { ready: true, storeMs: Math.round((performance.now() - t0) * 10) / 10 };
  };

  const routes: Record<string, Route> = {
    [`GET ${OPENAPI_PATH}`]: async () => openApiDocument(packageVersion()) as Record<string, unknown>,
    [`GET ${METRICS_PATH}`]: async () => {
      if (metricsReady === undefined) throw usage('metrics are off on this server: createLicenseServer({ metrics: true }) or licit serve --metrics');
      return (await (await metricsReady).render()) as unknown as Record<string, unknown>;
    },
    // For load balancers and monitors, also as HEAD: 200 with no body (answer() drops the body of every HEAD answer).
    'GET /v1/health': health,
    'HEAD /v1/health': health,
    'GET /v1/ready': ready,
    'HEAD /v1/ready': ready,
    'POST /v1/activate': async (req) => exchange('activate', await readJson(req, max), req),
    'POST /v1/renew': async (req) => exchange('renew', await readJson(req, max), req),
    'POST /v1/deactivate': async (req) => exchange('deactivate', await readJson(req, max), req),
    'POST /v1/usage': async (req) => exchange('usage', await readJson(req, max), req),
    'POST /v1/topup': async (req) => exchange('topup', await readJson(req, max), req),
    'POST /v1/trial': async (req) => {
        const code = await openRequest(str(await readJson(req, max), 'request'));
      licenseOfRequest.set(req, code.licenseId);
      checkFresh(code, vendor.now(), requestWindow(options));
      return startTrial(vendor, options.trials ?? {}, code);
    },
    ...adminRoutes(vendor, max),
    ...licenseRoutes(vendor, max),
    ...reissueRoutes(vendor, max),
    ...portalAdminRoutes(vendor, max),
    ...settingsRoutes(vendor, max),
  };

  const limits = new ServerLimits(options.rateLimit, vendor.now);
  // prom-client loads only when metrics are asked for (an optional peer dependency).
  const metricsReady = options.metrics === true ? createServerMetrics() : undefined;
  let metrics: ServerMetrics | undefined;
  // Handled here too: a server only mounted with handle() may never await it.
  metricsReady?.catch(() => undefined);
  const trustProxy = options.trustProxy ?? false;
  if (typeof trustProxy !== 'boolean' && !(Number.isSafeInteger(trustProxy) && trustProxy >= 0)) throw usage('trustProxy must be true, false or the number of proxies in front of the server');
  const portal = options.portal === false ? undefined : createPortal(vendor, { ...(options.portal ?? {}), adminToken: options.adminToken, trustProxy, webhooks: webhooks?.endpoints });

  const answer = async (original: Request, info: ClientInfo | undefined, log: ((entry: AccessLogEntry) => void) | undefined): Promise<Response> => {
    const req = original;
    const t0 = performance.now();
    let client: string | undefined;
    let code: string | undefined;
    let res: Response;
    // The caller's request id when it sends a sane one (a proxy's), else a new one: in the log and the answer.
    const given = req.headers.get('x-request-id');
    const requestId = given !== null && /^[\x21-\x7e]{1,128}$/.test(given) ? given : randomUUID();
    // The metrics label: one of the server's routes, or `unknown` (clients cannot grow the label set).
    let routeKey = 'unknown';
    try {
      client = clientAddress(info?.clientAddress, req.headers.get('x-forwarded-for'), trustProxy);
      const url = new URL(req.url);
      if (portal !== undefined && (url.pathname === '/portal' || url.pathname.startsWith('/portal/'))) {
        // The portal's pages: HTML, sessions and forms of their own (src/server/portal).
        routeKey = 'portal';
        res = await portal.handle(req, url, client);
        code = res.headers.get('x-licit-error') ?? undefined;
        res.headers.delete('x-licit-error');
      } else if (routes[`${req.method} ${url.pathname}`] === undefined) {
        const known = Object.keys(routes).some((r) => r.endsWith(` ${url.pathname}`));
        code = 'ERR_USAGE';
        res = json(known ? 405 : 404, { ok: false, error: { code, message: known ? `${req.method} is not allowed on ${url.pathname}` : `no endpoint ${url.pathname}` } });
      } else {
        const route = routes[`${req.method} ${url.pathname}`] as Route;
        routeKey = `${req.method} ${url.pathname}`;
        if (req.method === 'POST' && EXCHANGE_PATHS.has(url.pathname)) {
          // Per client first: it costs nothing.
          limits.client(client);
          // Per license is counted once the request proved its license (Vendor.answer's admit): a
          // stranger signing codes that merely name a license id cannot use up that license's budget.
        }
        if (url.pathname.startsWith('/v1/admin/')) limits.admin(client, req.headers.has('authorization'), () => authorize(req));
        const admLicense = url.searchParams.get('licenseId');
        if (admLicense !== null && url.pathname.startsWith('/v1/admin/')) licenseOfRequest.set(req, admLicense);
        const out = await route(req, url);
        // The OpenAPI document is answered as it is, not inside `{ ok: true, … }`; metrics as Prometheus text.
        if (url.pathname === METRICS_PATH) res = new Response(out.text as string, { status: 200, headers: { 'content-type': out.contentType as string, 'cache-control': 'no-store' } });
        else res = url.pathname === OPENAPI_PATH ? json(200, out) : json(200, { ok: true, ...out });
        if (req.method === 'HEAD') res = new Response(null, { status: 200, headers: { ...Object.fromEntries(res.headers), 'content-length': String(Buffer.byteLength(await res.text())) } });
      }
    } catch (e) {
      code = isLicenseError(e) ? e.code : 'ERR_INTERNAL';
      res = fail(e);
    }
    const entry: AccessLogEntry = { time: new Date(), method: req.method, path: safePath(req.url), status: res.status, ms: performance.now() - t0, code, client, note: notes.get(req), requestId, licenseId: licenseOfRequest.get(req) };
    log?.(entry);
    // The first answers may come before prom-client has loaded: wait for it once, count them too.
    if (metricsReady !== undefined && metrics === undefined) metrics = await metricsReady.catch(() => undefined);
    metrics?.observe({ ...entry, route: routeKey });
    res.headers.set('x-request-id', requestId);
    return res;
  };

  const handleLog = accessLogSink(options.accessLog, false);
  const handle = (req: Request, info?: ClientInfo): Promise<Response> => answer(req, info, handleLog);

  const listen = async (port: number, host = '127.0.0.1') => {
    const { serveHttp } = await import('./http.js');
    if (metricsReady !== undefined) await metricsReady; // a missing prom-client is said now, not at the first scrape
    const log = accessLogSink(options.accessLog, true);
    const bound = await serveHttp((req, info) => answer(req, info, log), port, host, {
      maxBodyBytes: max,
      maxConnections: options.maxConnections,
      timeouts: options.timeouts,
      log,
      notices: options.accessLog !== false,
    });
    if (webhooks === undefined && alerts === undefined) return bound;
    // Pending deliveries (from before a restart) start now; a failing scan is retried by the timer.
    void webhooks?.start().catch((e: unknown) => process.stderr.write(`${new Date().toISOString()} licit webhooks: cannot scan the store for pending events (${(e as Error).message}); retrying\n`));
    return {
      ...bound,
      close: async (graceMs?: number) => {
        await bound.close(graceMs);
        // The checks the last requests scheduled finish first, so their events are delivered.
        await alerts?.idle();
        await webhooks?.stop();
      },
    };
  };
  return { handle, listen, vendor, webhooks, alerts };
}

/** licit's version (src/server and dist/server both sit two levels below the package root). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** Where the Prometheus metrics are served (behind the admin token, like everything under /v1/admin/). */
const METRICS_PATH = '/v1/admin/metrics';

/** Where the OpenAPI 3.1 description of every route is served (no token: it describes, it reveals nothing). */
const OPENAPI_PATH = '/v1/openapi.json';

/** The license id the readiness probe reads: nothing is ever written under it. */
const READY_PROBE_ID = 'licit:ready-probe';

/** The exchange endpoints, which the rate limits count. */
const EXCHANGE_PATHS = new Set(['/v1/activate', '/v1/renew', '/v1/deactivate', '/v1/usage', '/v1/topup', '/v1/trial']);

/** The path of a URL for the access log, or "-" when it does not parse. */
function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '-';
  }
}

/**
 * The default store: `$LICIT_STORE` (a FileStore directory or a postgres:// URL), else a FileStore
 * at `./licit-store`, opened the one way the CLI opens `--store` (node/open-store.ts). A directory
 * is not checked here, as before: a file in its place shows as 503s and the operator's log.
 */
function defaultStore(): Store {
  const spec = process.env.LICIT_STORE;
  return openStoreLazily(spec === undefined || spec === '' ? 'licit-store' : spec, { applicationName: 'licit-server', flag: 'LICIT_STORE', checkDirectory: false, chain: false });
}

/** True when `code` is one of the library's error codes (for clients reading server errors). */
export function isErrorCode(code: unknown): code is LicenseErrorCode {
  return typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code);
}
