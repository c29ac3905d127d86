/**
 * A failure as a portal page: the error's message (server-side failures as a fixed text, logged
 * in full for the operator, as the JSON API does), its code, and the HTTP status its code means.
 */
import { isLicenseError, LicenseError } from '../../core/errors.js';
import { logOperator } from '../access-log.js';
import { publicError } from '../public-error.js';
import { html } from './html.js';
import { page, securityHeaders } from './layout.js';

const STATUS: Record<string, number> = {
  ERR_USAGE: 400,
  ERR_SETTINGS_INVALID: 400,
  ERR_SESSION_EXPIRED: 401,
  ERR_USER_AUTH_FAILED: 401,
  ERR_UNAUTHORIZED: 401,
  ERR_CSRF_REJECTED: 403,
  ERR_FORBIDDEN: 403,
  ERR_LICENSE_NOT_REGISTERED: 404,
  ERR_USER_NOT_FOUND: 404,
  ERR_ACTIVATION_NOT_FOUND: 404,
  ERR_ACCOUNT_EXISTS: 409,
  ERR_USER_EXISTS: 409,
  ERR_BODY_TOO_LARGE: 413,
  ERR_RATE_LIMITED: 429,
};

/** A failure as a page: the code, what to do, the status its code means. */
export function errorPage(e: unknown, session: Parameters<typeof page>[0]['session']): Response {
  const err = isLicenseError(e) ? e : new LicenseError('ERR_INTERNAL', 'the portal failed unexpectedly');
  const shown = publicError(err);
  if (shown.internal) logOperator(`portal answered ${err.code}; the error was:`, e);
  const status = shown.status ?? STATUS[err.code] ?? (err.code.endsWith('_EXHAUSTED') || err.code === 'ERR_LICENSE_STATE' ? 409 : 403);
  const headers: Record<string, string> = { ...securityHeaders(), 'x-licit-error': err.code };
  const retry = err.details.retryAfterSeconds;
  if (err.code === 'ERR_RATE_LIMITED' && typeof retry === 'number') headers['retry-after'] = String(retry);
  const next = err.code === 'ERR_SESSION_EXPIRED' ? html`<p><a href="/portal/sign-in">Sign in</a></p>` : html`<p><a href="/portal/licenses">Back to the licenses</a></p>`;
  return page({ title: 'That did not work', status, session, headers, body: html`<div class="notice error" role="alert"><p>${shown.error.message}</p><p class="muted">Error code <code>${err.code}</code></p></div>${next}` });
}

