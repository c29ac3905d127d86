/**
 * `Licensing`'s HTTP client for the vendor's license server: one POST per exchange, and the line
 * between "unreachable" (retry; grace applies) and "refused" (the server's own error code, passed on).
 */
import { ERROR_CODES, LicenseError, isLicenseError, type LicenseErrorCode } from '../../core/errors.js';
import type { LicensingOptions, UserSignIn } from './options.js';

/** The exchanges the client posts (`POST /v1/<op>`). */
export type ServerOperation = 'activate' | 'renew' | 'deactivate' | 'topup' | 'trial';

/**
 * Post a request code (and, for an activation, the user's sign-in) to the license server. Resolves
 * with the server's `{ ok: true, … }` body; rejects `ERR_SERVER_UNREACHABLE` for a network failure,
 * a 5xx or an answer that is not licit's, else with the server's own refusal.
 */
export async function postToServer(o: LicensingOptions, op: ServerOperation, code: string, credentials?: UserSignIn): Promise<Record<string, unknown>> {
  const server = o.server;
  if (server === undefined) throw new LicenseError('ERR_USAGE', 'no license server configured (the `server` option); use createRequest/applyResponse to activate offline');
  const url = new URL(`v1/${op}`, String(server).endsWith('/') ? String(server) : `${String(server)}/`);
  const doFetch = o.fetch ?? globalThis.fetch;
  let res: Response;
  let body: unknown;
  try {
    res = await doFetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(credentials === undefined ? { request: code } : { request: code, credentials }), signal: AbortSignal.timeout(o.requestTimeoutMs ?? 10_000) });
    body = await res.json();
  } catch (e) {
    throw new LicenseError('ERR_SERVER_UNREACHABLE', `the license server ${url.origin} cannot be reached (${(e as Error)?.message ?? String(e)}); licit will retry`, { server: url.origin }, { cause: e });
  }
  const b = (body ?? {}) as { ok?: unknown; error?: { code?: unknown; message?: unknown; details?: unknown } };
  if (res.ok && b.ok === true) return b as Record<string, unknown>;
  const code2 = b.error?.code;
  if (res.status >= 500 || typeof code2 !== 'string' || !(ERROR_CODES as readonly string[]).includes(code2)) {
    throw new LicenseError('ERR_SERVER_UNREACHABLE', `the license server ${url.origin} failed (HTTP ${res.status}); licit will retry`, { server: url.origin, status: res.status });
  }
  const details = typeof b.error?.details === 'object' && b.error.details !== null ? (b.error.details as Record<string, unknown>) : {};
  throw new LicenseError(code2 as LicenseErrorCode, typeof b.error?.message === 'string' ? b.error.message : code2, details);
}

/** The user's sign-in for an activation: the `credentials` option, or what its function returns. */
export async function readSignIn(c: LicensingOptions['credentials']): Promise<UserSignIn | undefined> {
  let signIn: unknown;
  try {
    signIn = typeof c === 'function' ? await c() : c;
  } catch (e) {
    if (isLicenseError(e)) throw e;
    // The application's own callback failed (the user cancelled, the identity provider was down):
    // not a licit bug, and nothing was sent.
    throw new LicenseError('ERR_USER_AUTH_REQUIRED', `the \`credentials\` callback failed (${(e as Error)?.message ?? String(e)}), so no sign-in was sent and nothing was activated; call activate() again once the user can sign in`, {}, { cause: e });
  }
  if (signIn === undefined) return undefined;
  const o = signIn as Record<string, unknown> | null;
  if (o === null || typeof o !== 'object' || (typeof o.password !== 'string' && typeof o.idToken !== 'string')) {
    throw new LicenseError('ERR_USAGE', 'the `credentials` option (or what its function returned) must be { password: string } or { idToken: string }');
  }
  return o as UserSignIn;
}

/** `server` must be an http(s) URL; checked at open, so a typo is ERR_USAGE at once, not a failed renewal later. */
export function checkServer(server: unknown): void {
  let url: URL | undefined;
  try {
    url = typeof server === 'string' || server instanceof URL ? new URL(String(server)) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new LicenseError('ERR_USAGE', `the \`server\` option must be the license server's http(s) URL, such as https://licenses.example.com; got ${JSON.stringify(String(server)).slice(0, 200)}`);
  }
}
