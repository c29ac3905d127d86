/**
 * Webhooks: the license server's events delivered to the vendor's other systems over HTTPS,
 * signed, in order per license, at least once.
 *
 * **The outbox is the audit log.** Every event a webhook reports (an activation, a top-up, a
 * threshold alert, a refused exchange, ...) is already an audit event, committed in the same
 * transaction as the change it records. The dispatcher keeps, per endpoint and license, the number
 * of the last event the endpoint acknowledged (a `webhook` record in the same store) and delivers
 * what follows. A crash, a restart or a receiver that is down for a day loses nothing: delivery
 * resumes from the stored cursor. The price of "at least once" is that an event whose 2xx was lost
 * comes again: every delivery carries a stable id (`<licenseId>:<seq>`) for the receiver to drop
 * duplicates by.
 *
 * **Signature** (as payment providers sign theirs): header `licit-signature: t=<unix seconds>,
 * v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. {@link verifyWebhook} checks one on the receiving
 * side, within a tolerance that makes an old delivery useless to replay.
 *
 * **Retries**: a delivery that fails (network error, timeout, any status but 2xx) is retried for
 * that endpoint and license with exponential back-off (1 s doubling to 10 min, with jitter); later
 * events of the license wait behind it, so order holds. Other licenses and endpoints go on.
 */
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { LicenseError } from '../core/errors.js';
import { toClock, type Clock, type NowOption } from '../core/time/clock.js';
import type { AuditEvent, JsonObject, Store } from '../core/store/store.js';
import type { EventKind } from '../core/store/audit-event.js';
import { observeCommits } from './commit-observer.js';

/** The kinds an endpoint receives when it names none: what a vendor's CRM, billing or support desk reacts to. */
export const DEFAULT_WEBHOOK_KINDS: readonly EventKind[] = [
  'device.activated',
  'device.deactivated',
  'device.reset',
  'device.transferred',
  'device.reinstalled',
  'alert.raised',
  'alert.cleared',
  'credits.topped-up',
  'topup.requested',
  'topup.completed',
  'topup.failed',
  'exchange.refused',
  'credits.overspent',
  'license.registered',
  'license.suspended',
  'license.revoked',
  'license.reinstated',
  'device.suspended',
  'device.revoked',
  'device.reinstated',
  'user.suspended',
  'user.revoked',
  'user.reinstated',
  'user.renamed',
];

/** Where to deliver and how to sign. */
export interface WebhookEndpoint {
  /** The receiver's URL (`https://…`; `http://` only for loopback and tests). */
  readonly url: string;
  /** The shared secret deliveries are signed with (at least 16 bytes). */
  readonly secret: string | Uint8Array;
  /** Event kinds to deliver (default {@link DEFAULT_WEBHOOK_KINDS}); `'*'` for every kind. */
  readonly kinds?: readonly EventKind[] | '*' | undefined;
  /** Names this endpoint's cursors in the store (default: the URL). Keep it when the URL moves. */
  readonly id?: string | undefined;
}

/** Options of {@link WebhookDispatcher}. */
export interface WebhookOptions {
  /** The endpoints. */
  readonly endpoints: readonly WebhookEndpoint[];
  /** How long one delivery may take before it counts as failed (default 10 s). */
  readonly timeoutMs?: number | undefined;
  /** First retry delay (default 1 s), doubled per failure up to {@link WebhookOptions.maxRetryMs}. */
  readonly retryMs?: number | undefined;
  /** Longest retry delay (default 10 min). */
  readonly maxRetryMs?: number | undefined;
  /** Look at every license for undelivered events this often (default 60 s); notifications make most deliveries immediate. */
  readonly scanMs?: number | undefined;
  /** Deliveries of one license fetched per round (default 100). */
  readonly batch?: number | undefined;
  /** Told about each failed delivery (default: one line on stderr). */
  readonly onError?: ((failure: { endpoint: string; licenseId: string; seq: number; error: string; retryInMs: number }) => void) | undefined;
  /** `fetch` to deliver with (tests). */
  readonly fetch?: typeof fetch | undefined;
  /** The clock for the signature timestamp (`() => ms`, default `Date.now`; tests pass their own). */
  readonly now?: Clock | undefined;
}

/** The JSON body of one delivery. */
export interface WebhookDelivery {
  /** Stable across retries: `<licenseId>:<seq>`. Drop a delivery whose id you have seen. */
  readonly id: string;
  /** The event kind, e.g. `device.activated`. */
  readonly type: string;
  /** The license the event belongs to. */
  readonly licenseId: string;
  /** The event's number in the license's audit log. */
  readonly seq: number;
  /** When it happened (ISO 8601). */
  readonly at: string;
  /** Who did it (`system`, `admin`, a user id). */
  readonly actor: string;
  /** The event's details, as `licit log` shows them. */
  readonly data: JsonObject;
}

const KIND = 'webhook';
const cursorKey = (endpointId: string) => `cursor:${endpointId}`;

/** A webhook endpoint as {@link WebhookDispatcher.endpoints} shows it (no secret). */
export interface WebhookEndpointView {
  readonly id: string;
  /** Origin and path only. */
  readonly url: string;
  readonly kinds: readonly string[] | '*';
}

interface ResolvedEndpoint {
  readonly id: string;
  readonly url: URL;
  readonly secret: Uint8Array;
  readonly kinds: ReadonlySet<string> | '*';
}

interface Lane {
  /** Retry not before this time (ms); 0 when healthy. */
  retryAt: number;
  failures: number;
  timer?: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Delivers audit events to webhook endpoints from the store's log, resuming after restarts.
 *
 * @example
 * ```ts
 * const hooks = new WebhookDispatcher(store, { endpoints: [{ url: 'https://crm.example.com/licit', secret: process.env.HOOK_SECRET! }] })
 * await hooks.start()           // delivers what is pending, then follows new events
 * hooks.notify('LIC-1')         // after a commit: deliver that license's new events now
 * await hooks.stop()
 * ```
 */
export class WebhookDispatcher {
  readonly #store: Store;
  readonly #endpoints: ResolvedEndpoint[];
  readonly #timeoutMs: number;
  readonly #retryMs: number;
  readonly #maxRetryMs: number;
  readonly #scanMs: number;
  readonly #batch: number;
  readonly #fetch: typeof fetch;
  readonly #now: Clock;
  readonly #onError: NonNullable<WebhookOptions['onError']>;
  /** Licenses with work to look at, and the one running pass per license. */
  readonly #dirty = new Set<string>();
  readonly #running = new Map<string, Promise<void>>();
  readonly #lanes = new Map<string, Lane>();
  #scanTimer: ReturnType<typeof setInterval> | undefined;
  #stopped = false;

  /**
   * Where deliveries go, for the pages that say so: each endpoint's id, address (without user,
   * password or query, which may carry credentials) and the event kinds it receives (`'*'`: all).
   */
  get endpoints(): readonly WebhookEndpointView[] {
    return this.#endpoints.map((e) => ({ id: e.id, url: `${e.url.origin}${e.url.pathname}`, kinds: e.kinds === '*' ? '*' : [...e.kinds] }));
  }

  constructor(store: Store, options: WebhookOptions) {
    this.#store = store;
    if (!Array.isArray(options?.endpoints) || options.endpoints.length === 0) throw new LicenseError('ERR_USAGE', 'webhooks need at least one endpoint: { url, secret }');
    const ids = new Set<string>();
    this.#endpoints = options.endpoints.map((e) => {
      let url: URL;
      try {
        url = new URL(e.url);
      } catch {
        throw new LicenseError('ERR_USAGE', `the webhook URL ${JSON.stringify(e.url)} is not a URL`);
      }
      const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
        throw new LicenseError('ERR_USAGE', `the webhook URL ${url.href} must use https (plain http only to localhost): deliveries carry license data`);
      }
      const secret = typeof e.secret === 'string' ? new TextEncoder().encode(e.secret) : e.secret;
      if (!(secret instanceof Uint8Array) || secret.length < 16) throw new LicenseError('ERR_USAGE', `the webhook secret for ${url.href} must be at least 16 bytes; generate one with \`openssl rand -hex 32\``);
      const id = e.id ?? url.href;
      if (ids.has(id)) throw new LicenseError('ERR_USAGE', `two webhook endpoints have the id ${id}; give each its own \`id\``);
      ids.add(id);
      return { id, url, secret, kinds: e.kinds === '*' ? '*' : new Set<string>(e.kinds ?? DEFAULT_WEBHOOK_KINDS) };
    });
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#retryMs = options.retryMs ?? 1000;
    this.#maxRetryMs = options.maxRetryMs ?? 600_000;
    this.#scanMs = options.scanMs ?? 60_000;
    this.#batch = options.batch ?? 100;
    this.#fetch = options.fetch ?? fetch;
    this.#now = toClock(options.now);
    this.#onError =
      options.onError ??
      ((f) => process.stderr.write(`${new Date().toISOString()} licit webhooks: delivery ${f.licenseId}:${f.seq} to ${f.endpoint} failed (${f.error}); retrying in ${Math.round(f.retryInMs / 1000)} s\n`));
  }

  /**
   * Deliver what is pending for every license the store holds, then look again every `scanMs`.
   * Needs a store that lists its licenses (`licenseIds`, every store licit ships).
   */
  async start(): Promise<void> {
    if (this.#scanTimer === undefined) {
      // First the timer, so a scan that fails now (store unreachable) is tried again later.
      this.#scanTimer = setInterval(() => void this.#scan().catch(() => undefined), this.#scanMs);
      this.#scanTimer.unref?.();
    }
    await this.#scan();
  }

  /** New events may have been committed for `licenseId`: deliver them now. */
  notify(licenseId: string): void {
    if (this.#stopped) return;
    this.#dirty.add(licenseId);
    if (!this.#running.has(licenseId)) this.#kick(licenseId);
  }

  /** Resolve once nothing is pending and nothing is being delivered (tests and graceful shutdown). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running.values()]);
  }

  /** Stop scanning and retrying; deliveries in flight finish. Undelivered events stay in the log for the next start. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#scanTimer !== undefined) clearInterval(this.#scanTimer);
    for (const lane of this.#lanes.values()) if (lane.timer !== undefined) clearTimeout(lane.timer);
    await Promise.all([...this.#running.values()]);
  }

  async #scan(): Promise<void> {
    const list = this.#store.licenseIds;
    if (list === undefined) throw new LicenseError('ERR_USAGE', 'this store cannot list its licenses, so webhooks cannot find pending events after a restart; use a store licit ships');
    for (const id of await list.call(this.#store)) this.notify(id);
  }

  #kick(licenseId: string): void {
    const run = (async () => {
      while (this.#dirty.delete(licenseId) && !this.#stopped) {
        await Promise.all(this.#endpoints.map((ep) => this.#deliverLicense(ep, licenseId)));
      }
    })()
      .catch((e: unknown) => this.#onError({ endpoint: '*', licenseId, seq: 0, error: (e as Error).message, retryInMs: this.#scanMs }))
      .finally(() => this.#running.delete(licenseId));
    this.#running.set(licenseId, run);
  }

  /** Deliver this license's events after the endpoint's cursor, in order, until one fails. */
  async #deliverLicense(ep: ResolvedEndpoint, licenseId: string): Promise<void> {
    const laneKey = `${ep.id}\n${licenseId}`;
    const lane = this.#lanes.get(laneKey) ?? { retryAt: 0, failures: 0 };
    this.#lanes.set(laneKey, lane);
    if (lane.retryAt > Date.now()) return; // its retry timer will notify
    for (;;) {
      const cursor = await this.#store.read(licenseId, async (r) => Number((await r.get(KIND, cursorKey(ep.id)))?.seq ?? 0));
      const events = await this.#store.events(licenseId, { afterSeq: cursor, limit: this.#batch });
      if (events.length === 0) return;
      // `delivered`: the last event handled (sent, or skipped as not subscribed); `stored`: what the
      // cursor record holds. It moves past what was skipped before each delivery, and past each
      // delivery once answered, so a crash re-sends at most the one delivery in flight.
      let delivered = cursor;
      let stored = cursor;
      const store = async (seq: number) => {
        if (seq <= stored) return;
        await this.#advance(ep.id, licenseId, seq);
        stored = seq;
      };
      for (const e of events) {
        if (ep.kinds === '*' || ep.kinds.has(e.kind)) {
          await store(delivered);
          const error = await this.#post(ep, e);
          if (error !== undefined) {
            this.#fail(lane, ep.url.href, licenseId, e.seq, error);
            return;
          }
          await store(e.seq);
        }
        delivered = e.seq;
      }
      lane.failures = 0;
      lane.retryAt = 0;
      await store(delivered);
      if (events.length < this.#batch) return;
    }
  }

  /** Store the cursor (never backwards: another process may have delivered further). */
  async #advance(endpointId: string, licenseId: string, seq: number): Promise<void> {
    await this.#store.transaction(licenseId, async (tx) => {
      const cur = Number((await tx.get(KIND, cursorKey(endpointId)))?.seq ?? 0);
      if (seq > cur) tx.put(KIND, cursorKey(endpointId), { seq });
    });
  }

  #fail(lane: Lane, endpoint: string, licenseId: string, seq: number, error: string): void {
    lane.failures++;
    const base = Math.min(this.#maxRetryMs, this.#retryMs * 2 ** Math.min(30, lane.failures - 1));
    const wait = Math.round(base / 2 + randomInt(Math.max(1, Math.round(base / 2))));
    lane.retryAt = Date.now() + wait;
    this.#onError({ endpoint, licenseId, seq, error, retryInMs: wait });
    if (lane.timer !== undefined) clearTimeout(lane.timer);
    lane.timer = setTimeout(() => {
      lane.timer = undefined;
      lane.retryAt = 0;
      this.notify(licenseId);
    }, wait);
    lane.timer.unref?.();
  }

  /** POST one event; undefined when the receiver answered 2xx, else why not. */
  async #post(ep: ResolvedEndpoint, e: AuditEvent): Promise<string | undefined> {
    const delivery: WebhookDelivery = { id: `${e.licenseId}:${e.seq}`, type: e.kind, licenseId: e.licenseId, seq: e.seq, at: e.at, actor: e.actor, data: e.details };
    const body = JSON.stringify(delivery);
    const t = Math.floor(this.#now() / 1000);
    try {
      const res = await this.#fetch(ep.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'licit-webhooks/1', 'licit-webhook-id': delivery.id, 'licit-signature': signature(ep.secret, t, body) },
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
        redirect: 'manual',
      });
      await res.arrayBuffer().catch(() => undefined);
      return res.status >= 200 && res.status < 300 ? undefined : `HTTP ${res.status}`;
    } catch (err) {
      return (err as Error).name === 'TimeoutError' ? `no answer within ${this.#timeoutMs} ms` : (err as Error).message;
    }
  }
}

function signature(secret: Uint8Array, t: number, body: string): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/**
 * On the receiving side: check a delivery's `licit-signature` header against the raw body and the
 * shared secret, and that it was signed within `toleranceSeconds` (default 300) of now. Returns the
 * parsed delivery; throws `ERR_WEBHOOK_SIGNATURE` otherwise. Verify the raw bytes, before any
 * JSON parsing or re-serialising.
 *
 * @example
 * ```ts
 * app.post('/licit', express.raw({ type: 'application/json' }), (req, res) => {
 *   const d = verifyWebhook(req.body.toString('utf8'), req.get('licit-signature'), process.env.HOOK_SECRET!)
 *   if (!seen.has(d.id)) handle(d)
 *   res.sendStatus(204)
 * })
 * ```
 */
export function verifyWebhook(
  body: string,
  header: string | null | undefined,
  secret: string | Uint8Array,
  options: {
    toleranceSeconds?: number;
    /** The clock to check the signing time against (`() => ms`, default `Date.now`); a fixed number of ms is deprecated (`LegacyNow`). */
    now?: NowOption;
  } = {},
): WebhookDelivery {
  const parts = Object.fromEntries((header ?? '').split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const t = Number(parts.t);
  const given = parts.v1 ?? '';
  const key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  const expected = createHmac('sha256', key).update(`${parts.t}.${body}`).digest('hex');
  const ok = /^[0-9a-f]{64}$/.test(given) && timingSafeEqual(Buffer.from(given, 'hex'), Buffer.from(expected, 'hex'));
  if (!Number.isSafeInteger(t) || !ok) {
    throw new LicenseError('ERR_WEBHOOK_SIGNATURE', 'the webhook delivery is not signed with this secret (or its body was changed on the way); check the secret and verify the raw body');
  }
  const now = Math.floor(toClock(options.now, 'verifyWebhook option now')() / 1000);
  if (Math.abs(now - t) > (options.toleranceSeconds ?? 300)) {
    throw new LicenseError('ERR_WEBHOOK_SIGNATURE', `the webhook delivery was signed at ${new Date(t * 1000).toISOString()}, too far from now: a replay, or a clock that is off`, { signedAt: t });
  }
  return JSON.parse(body) as WebhookDelivery;
}

/**
 * `store`, telling `dispatcher` about every commit that appended events, so deliveries start at
 * once instead of at the next scan (see `observeCommits`).
 */
export function notifyingStore(store: Store, dispatcher: { notify(licenseId: string): void }): Store {
  return observeCommits(store, (licenseId) => dispatcher.notify(licenseId));
}
