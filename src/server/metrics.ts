/**
 * Prometheus metrics of the license server, with `prom-client` (an optional peer dependency: the
 * server loads it only when `metrics` is on). Served behind the admin token at
 * `GET /v1/admin/metrics`, in a registry of the server's own (two servers in one process, or an
 * application with its own metrics, never collide).
 *
 * - `licit_http_requests_total{route,status,code}`: every answer; `route` is one of the server's
 *   routes (`POST /v1/renew`) or `unknown`, so a client cannot grow the label set.
 * - `licit_http_request_duration_seconds{route}`: a latency histogram per route.
 * - `licit_refusals_total{code}`: refusals by licit error code (rate limits, limits, policy).
 * - `licit_store_errors_total{code}`: the store could not be reached or read.
 */
import { LicenseError } from '../core/errors.js';
import type { AccessLogEntry } from './access-log.js';

type PromClient = typeof import('prom-client');

/** What the server records per request. */
export interface ServerMetrics {
  observe(entry: AccessLogEntry & { readonly route: string }): void;
  /** The exposition text and its content type. */
  render(): Promise<{ text: string; contentType: string }>;
}

const STORE_CODES = new Set(['ERR_STORE_UNAVAILABLE', 'ERR_STORE_POISONED', 'ERR_STORE_CORRUPT']);

/** Load prom-client and make the server's metrics; `ERR_USAGE` naming the package when it is not installed. */
export async function createServerMetrics(): Promise<ServerMetrics> {
  let prom: PromClient;
  try {
    prom = await import('prom-client');
  } catch (e) {
    throw new LicenseError('ERR_USAGE', 'metrics need the prom-client package: npm install prom-client (it is an optional peer dependency of licit)', {}, { cause: e });
  }
  const registry = new prom.Registry();
  const requests = new prom.Counter({ name: 'licit_http_requests_total', help: 'Requests answered, by route, HTTP status and licit error code', labelNames: ['route', 'status', 'code'] as const, registers: [registry] });
  const duration = new prom.Histogram({
    name: 'licit_http_request_duration_seconds',
    help: 'Time to answer, by route',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const refusals = new prom.Counter({ name: 'licit_refusals_total', help: 'Refusals, by licit error code', labelNames: ['code'] as const, registers: [registry] });
  const storeErrors = new prom.Counter({ name: 'licit_store_errors_total', help: 'Answers that failed because the store could not be reached or read', labelNames: ['code'] as const, registers: [registry] });
  prom.collectDefaultMetrics({ register: registry, prefix: 'licit_' });
  return {
    observe(e) {
      requests.inc({ route: e.route, status: String(e.status), code: e.code ?? '' });
      duration.observe({ route: e.route }, e.ms / 1000);
      if (e.code !== undefined) {
        refusals.inc({ code: e.code });
        if (STORE_CODES.has(e.code)) storeErrors.inc({ code: e.code });
      }
    },
    async render() {
      return { text: await registry.metrics(), contentType: registry.contentType };
    },
  };
}
