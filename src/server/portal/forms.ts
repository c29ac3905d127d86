/**
 * Reading a portal form, and the checks every POST passes before anything is read from it: the
 * form came from this portal (the browser's `Sec-Fetch-Site` and `Origin`, when it sends them) and
 * carries this session's synchronizer token. A missing, foreign or stale token is
 * `ERR_CSRF_REJECTED` and nothing is done.
 */
import { timingSafeEqual } from 'node:crypto';
import { LicenseError } from '../../core/errors.js';
import type { Session } from './sessions.js';

/** Longest form body read, in bytes: the portal's forms are a few fields. */
export const MAX_FORM_BYTES = 16 * 1024;

/** The fields of an `application/x-www-form-urlencoded` body (at most {@link MAX_FORM_BYTES}). */
export async function readForm(req: Request): Promise<URLSearchParams> {
  const type = req.headers.get('content-type') ?? '';
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) throw new LicenseError('ERR_USAGE', 'send the form as application/x-www-form-urlencoded (submit it from the portal page)');
  const body = await req.arrayBuffer();
  if (body.byteLength > MAX_FORM_BYTES) throw new LicenseError('ERR_BODY_TOO_LARGE', `the form is larger than ${MAX_FORM_BYTES} bytes`, { limit: MAX_FORM_BYTES });
  return new URLSearchParams(new TextDecoder().decode(body));
}

function rejected(why: string): LicenseError {
  return new LicenseError('ERR_CSRF_REJECTED', `this form was refused (${why}); nothing was changed. Reload the page and submit it again`, { reason: why });
}

/**
 * Refuse a POST another site made the browser send (when the browser says so). The portal's own
 * origin is the request's `Host`, or behind a trusted proxy that rewrites it, `X-Forwarded-Host`.
 */
export function checkSameOrigin(req: Request, trustProxy = false): void {
  const site = req.headers.get('sec-fetch-site');
  if (site !== null && site !== 'same-origin' && site !== 'none') throw rejected('it was sent from another site');
  const origin = req.headers.get('origin');
  // "null": an opaque origin (a no-referrer page, a sandbox); Sec-Fetch-Site and the token decide.
  if (origin === null || origin === 'null') return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw rejected('it was sent from another site');
  }
  const forwarded = trustProxy ? req.headers.get('x-forwarded-host')?.split(',')[0]?.trim() : undefined;
  if (host !== (req.headers.get('host') ?? new URL(req.url).host) && host !== forwarded) throw rejected('it was sent from another site');
}

/** Equal strings, compared in constant time. */
export function sameSecret(a: string | null | undefined, b: string): boolean {
  if (typeof a !== 'string') return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Refuse a form without this session's token. */
export function checkCsrf(form: URLSearchParams, session: Session): void {
  if (!sameSecret(form.get('csrf'), session.csrf)) throw rejected(form.get('csrf') === null ? 'it carries no form token' : 'its form token is not this session\'s');
}

/** A required text field, trimmed; `ERR_USAGE` naming its label when empty or too long. */
export function field(form: URLSearchParams, name: string, label: string, max = 1024): string {
  const v = (form.get(name) ?? '').trim();
  if (v === '' || v.length > max) throw new LicenseError('ERR_USAGE', `${label} is required${v.length > max ? ` (at most ${max} characters)` : ''}`, { field: name });
  return v;
}

/** An optional whole number field (empty: undefined). */
export function wholeField(form: URLSearchParams, name: string, label: string): number | undefined {
  const v = (form.get(name) ?? '').trim();
  if (v === '') return undefined;
  if (!/^\d{1,9}$/.test(v)) throw new LicenseError('ERR_USAGE', `${label} must be a whole number`, { field: name });
  return Number(v);
}
