/**
 * The portal's cookies: read from the `Cookie` header, written with `Set-Cookie`. The session
 * cookie is HttpOnly and SameSite=Strict always; Secure (and then named with the `__Host-` prefix,
 * which browsers accept only from a secure origin, on path `/`, without a domain) whenever the
 * portal is reached over HTTPS. Plain HTTP is for testing on one's own machine: browsers drop a
 * Secure cookie sent over it (localhost aside), so there the cookie cannot be Secure.
 */

/** The cookies of a request, by name (the first of a repeated name wins). */
export function readCookies(req: Request): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.get('cookie') ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const name = part.slice(0, i).trim();
    if (!out.has(name)) out.set(name, part.slice(i + 1).trim());
  }
  return out;
}

/** The session cookie's name: `__Host-licit_portal` over HTTPS, `licit_portal` over plain HTTP. */
export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-licit_portal' : 'licit_portal';
}

/** A `Set-Cookie` value; `maxAgeSeconds` 0 removes the cookie. */
export function cookie(name: string, value: string, opts: { secure: boolean; maxAgeSeconds: number }): string {
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Strict${opts.secure ? '; Secure' : ''}; Max-Age=${opts.maxAgeSeconds}`;
}

/** The cookie that ends a session in the browser. */
export function clearSessionCookie(secure: boolean): string {
  return cookie(sessionCookieName(secure), '', { secure, maxAgeSeconds: 0 });
}

/** The sign-in form's own cookie (double-submit token before there is a session). */
export function preCookieName(secure: boolean): string {
  return secure ? '__Host-licit_portal_pre' : 'licit_portal_pre';
}
