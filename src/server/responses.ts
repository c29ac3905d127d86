/**
 * How the license server answers: JSON with no caching, and a refusal's HTTP status from its code.
 */
import { LicenseError, isLicenseError, type LicenseErrorCode } from '../core/errors.js';
import { logOperator } from './access-log.js';
import { publicError } from './public-error.js';

/** HTTP status per code; codes not listed: 400 for a key, exchange or fingerprint refusal, else 403. */
const STATUS: Partial<Record<LicenseErrorCode, number>> = {
  ERR_USAGE: 400,
  ERR_SETTINGS_INVALID: 400,
  ERR_UNAUTHORIZED: 401,
  ERR_USER_NOT_FOUND: 404,
  ERR_ACTIVATION_NOT_FOUND: 404,
  ERR_ACTIVATIONS_EXHAUSTED: 409,
  ERR_USERS_EXHAUSTED: 409,
  ERR_SEATS_EXHAUSTED: 409,
  ERR_SEAT_CONFLICT: 409,
  ERR_USER_EXISTS: 409,
  ERR_TRANSFERS_EXHAUSTED: 409,
  ERR_EXCHANGE_REPLAYED: 409,
  ERR_USER_AUTH_REQUIRED: 401,
  ERR_USER_AUTH_FAILED: 401,
  ERR_RATE_LIMITED: 429,
  ERR_STORE_POISONED: 503,
  ERR_KEY_TOO_LARGE: 413,
  ERR_BODY_TOO_LARGE: 413,
  ERR_IDEMPOTENCY_CONFLICT: 409,
  ERR_LICENSE_SUPERSEDED: 409,
  ERR_LICENSE_NOT_REGISTERED: 404,
  ERR_LICENSE_STATE: 409,
  ERR_TRIAL_USED: 409,
  ERR_ACCOUNT_EXISTS: 409,
  ERR_SESSION_EXPIRED: 401,
  ERR_DEVICE_SUSPENDED: 403,
  ERR_DEVICE_REVOKED: 403,
  ERR_USER_SUSPENDED: 403,
  ERR_USER_REVOKED: 403,
  ERR_TRIAL_UNAVAILABLE: 404,
  ERR_LICENSE_SUSPENDED: 403,
  ERR_LICENSE_REVOKED: 403,
  ERR_STORE_UNAVAILABLE: 503,
  ERR_STORE_CORRUPT: 500,
  ERR_INTERNAL: 500,
};

/** A JSON answer that no cache keeps. */
export function json(status: number, body: Record<string, unknown>): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } });
}

/**
 * The refusal sent for `e`. The server's own failures (store, disk, bugs) are sent as a fixed
 * message without details and logged in full for the operator; every other message loses any
 * absolute path. Never a stack trace.
 */
export function fail(e: unknown): Response {
  const err = isLicenseError(e) ? e : new LicenseError('ERR_INTERNAL', 'the license server failed unexpectedly; see its log');
  const shown = publicError(err);
  if (shown.internal) logOperator(`answered ${err.code} to a client; the error was:`, e);
  const status = shown.status ?? STATUS[err.code] ?? (err.code.startsWith('ERR_KEY_') || err.code.startsWith('ERR_EXCHANGE_') || err.code.startsWith('ERR_FINGERPRINT') ? 400 : 403);
  const res = json(status, { ok: false, error: shown.error });
  const retry = err.details.retryAfterSeconds;
  if (err.code === 'ERR_RATE_LIMITED' && typeof retry === 'number') res.headers.set('retry-after', String(retry));
  return res;
}
