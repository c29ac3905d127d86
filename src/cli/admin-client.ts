/**
 * The CLI's client of a license server's admin API (`/v1/admin/*`, Bearer token): the server's own
 * refusal passed on with its code, `ERR_SERVER_UNREACHABLE` when no licit server answers.
 */
import { ERROR_CODES, LicenseError, type LicenseErrorCode } from '../cli-internals.js';

const TIMEOUT_MS = 30_000;

/** `GET /v1/admin/<path>?query`. */
export function getAdmin(base: URL, token: string, path: string, query: Record<string, string>): Promise<Record<string, unknown>> {
  const url = adminUrl(base, path);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return call(url, token, { method: 'GET' });
}

/** `POST /v1/admin/<path>` with a JSON body. */
export function postAdmin(base: URL, token: string, path: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  return call(adminUrl(base, path), token, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

function adminUrl(base: URL, path: string): URL {
  return new URL(`v1/admin/${path}`, base.href.endsWith('/') ? base.href : `${base.href}/`);
}

async function call(url: URL, token: string, init: RequestInit): Promise<Record<string, unknown>> {
  let res: Response;
  let body: unknown;
  try {
    res = await fetch(url, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(TIMEOUT_MS) });
    body = await res.json();
  } catch (e) {
    throw new LicenseError('ERR_SERVER_UNREACHABLE', `the license server ${url.origin} cannot be reached or did not answer as licit does (${(e as Error)?.message ?? String(e)}); check --server`, { server: url.origin }, { cause: e });
  }
  const b = (body ?? {}) as { ok?: unknown; error?: { code?: unknown; message?: unknown; details?: unknown } };
  if (res.ok && b.ok === true) return b as Record<string, unknown>;
  const code = b.error?.code;
  if (typeof code !== 'string' || !(ERROR_CODES as readonly string[]).includes(code)) {
    throw new LicenseError('ERR_SERVER_UNREACHABLE', `the license server ${url.origin} failed (HTTP ${res.status}); check --server and the server's log`, { server: url.origin, status: res.status });
  }
  const details = typeof b.error?.details === 'object' && b.error.details !== null ? (b.error.details as Record<string, unknown>) : {};
  throw new LicenseError(code as LicenseErrorCode, typeof b.error?.message === 'string' ? b.error.message : code, details);
}
