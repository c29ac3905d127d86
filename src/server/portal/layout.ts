/**
 * The frame of every portal page and the headers of every portal answer: a strict
 * Content-Security-Policy (scripts and styles from this server only, nothing inline, no frames),
 * no caching of pages, no referrer to other sites, and a page that reads on a phone (viewport, responsive CSS).
 */
import { assetUrl } from './assets.js';
import { html, raw, type Html, type Part } from './html.js';
import type { Session } from './sessions.js';

/** The policy of every portal page. `form-action 'self'`: a page cannot post anywhere else either. */
export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/** Headers of every portal answer. */
export function securityHeaders(): Record<string, string> {
  return {
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    // same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on the portal's own forms.
    'referrer-policy': 'same-origin',
    'cross-origin-opener-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
    'cache-control': 'no-store',
  };
}

/** A time the viewer's browser shows in its own zone (portal.js); UTC without scripts. */
export function when(iso: string | Date | undefined | null): Html {
  if (iso === undefined || iso === null) return html`<span class="muted">—</span>`;
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  if (Number.isNaN(d.getTime())) return html`${String(iso)}`;
  const text = `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return html`<time datetime="${d.toISOString()}">${text}</time>`;
}

/** The hidden field every form of a session carries. */
export function csrfField(session: Session): Html {
  return html`<input type="hidden" name="csrf" value="${session.csrf}">`;
}

function nav(session: Session | undefined): Html {
  if (session === undefined) return html``;
  const p = session.principal;
  const who = p.kind === 'vendor' ? 'Vendor administrator' : `${p.email} (${p.company})`;
  const links: Part[] = session.mustChangePassword
    ? [html`<li><a href="/portal/password">Change password</a></li>`]
    : [
        html`<li><a href="/portal/licenses">Licenses</a></li>`,
        p.kind === 'vendor' ? html`<li><a href="/portal/issue">Issue a license</a></li>` : null,
        p.kind === 'vendor' ? html`<li><a href="/portal/companies">Companies</a></li>` : null,
        p.kind === 'vendor' ? null : html`<li><a href="/portal/password">Password</a></li>`,
      ];
  return html`<nav aria-label="Portal"><ul>${links}</ul></nav>
<span>${who}</span>
<form method="post" action="/portal/sign-out">${csrfField(session)}<button type="submit">Sign out</button></form>`;
}

function flash(session: Session | undefined): Html {
  const f = session?.flash;
  if (f === undefined || session === undefined) return html``;
  session.flash = undefined;
  const secret = f.secret === undefined ? null : html`<p>${f.secretLabel ?? 'Initial password (shown once; give it to the user, who must change it at first sign-in):'} <code class="secret">${f.secret}</code></p>`;
  return html`<div class="notice ${f.kind}" role="${f.kind === 'error' ? 'alert' : 'status'}"><p>${f.text}</p>${secret}</div>`;
}

/** A whole page as a Response. */
export function page(opts: { title: string; body: Html; session?: Session | undefined; status?: number; headers?: Record<string, string>; notice?: Html }): Response {
  const doc = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title} · licensing portal</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assetUrl('portal.css')}">
<script src="${assetUrl('portal.js')}" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><span class="brand"><a href="/portal">Licensing portal</a></span>${nav(opts.session)}</header>
<main id="main" tabindex="-1">
${flash(opts.session)}${opts.notice ?? raw('')}
<h1>${opts.title}</h1>
${opts.body}
</main>
</body>
</html>
`;
  const headers = new Headers({ 'content-type': 'text/html; charset=utf-8', ...securityHeaders(), ...(opts.headers ?? {}) });
  return new Response(doc.text, { status: opts.status ?? 200, headers });
}

/** A 303 to `location` (after a form, so a reload does not post again), with cookies to set. */
export function redirect(location: string, cookies: readonly string[] = []): Response {
  const headers = new Headers({ location, ...securityHeaders() });
  for (const c of cookies) headers.append('set-cookie', c);
  return new Response(null, { status: 303, headers });
}
