/**
 * The licensing portal at `/portal`: server-rendered pages over the same admin code the CLI and
 * the admin API call. This module is the router and the gate every request passes: the session
 * from its cookie (ended when idle, old, or its account is gone), the vendor-only routes, the
 * forced password change, and for every POST the form's origin and CSRF token, before a handler
 * runs. Failures become pages with the error's code and what to do.
 */
import { createHash } from 'node:crypto';
import { LicenseError } from '../../core/errors.js';
import { TokenBuckets, type RateLimit } from '../rate-limit.js';
import type { Vendor } from '../vendor.js';
import type { WebhookEndpointView } from '../webhooks.js';
import type { ScryptParams } from '../auth/password.js';
import { stillAllowed } from './access.js';
import { assetResponse } from './assets.js';
import type { Ctx, PortalDeps, PortalRoute, SignedIn } from './context.js';
import { readCookies, sessionCookieName } from './cookies.js';
import { errorPage } from './error-page.js';
import { checkCsrf, checkSameOrigin, readForm } from './forms.js';
import { html } from './html.js';
import { page, redirect } from './layout.js';
import { SessionStore, type SessionOptions } from './sessions.js';
import { signInRoutes } from './pages/sign-in.js';
import { licenseRoutes } from './pages/licenses.js';
import { deviceRoutes } from './pages/devices.js';
import { userRoutes } from './pages/users.js';
import { companyRoutes } from './pages/companies.js';
import { creditRoutes } from './pages/credits.js';
import { logRoutes } from './pages/log.js';
import { reportRoutes } from './pages/reports.js';
import { seatRoutes } from './pages/seats.js';
import { issueRoutes } from './pages/issue.js';
import { settingsRoutes } from './pages/settings.js';
import { notificationRoutes } from './pages/notifications.js';
import { reissueRoutes } from './pages/reissue.js';

/** Options of the portal (`createLicenseServer({ portal })`). */
export interface PortalOptions extends SessionOptions {
  /**
   * Send the session cookie `Secure` (named `__Host-licit_portal`): `true`, `false`, or `'auto'`
   * (default): when the request came over HTTPS, which the server knows from a trusted proxy's
   * `X-Forwarded-Proto` (`trustProxy`). Plain HTTP is for trying the portal on one's own machine.
   */
  readonly secureCookies?: boolean | 'auto' | undefined;
  /** Failed sign-ins per client address (default 10 per 600 s), or `false`. */
  readonly signInFailures?: RateLimit | false | undefined;
  /** Rows per page of every list (default 50). */
  readonly pageSize?: number | undefined;
  /** @internal tests only: a cheaper scrypt for the passwords the portal sets and checks. */
  readonly scrypt?: ScryptParams | undefined;
}

/** The portal's handler, mounted by the server for `/portal` and everything under it. */
export interface Portal {
  handle(req: Request, url: URL, client: string | undefined): Promise<Response>;
  /** The sessions (for tests and metrics). */
  readonly sessions: SessionStore;
}

const ROUTES: readonly PortalRoute[] = [...signInRoutes, ...licenseRoutes, ...deviceRoutes, ...userRoutes, ...seatRoutes, ...creditRoutes, ...reportRoutes, ...logRoutes, ...settingsRoutes, ...notificationRoutes, ...issueRoutes, ...reissueRoutes, ...companyRoutes];

/** Create the portal over the server's vendor logic. */
export function createPortal(vendor: Vendor, options: PortalOptions & { adminToken?: string | undefined; trustProxy?: boolean | number | undefined; webhooks?: readonly WebhookEndpointView[] | undefined }): Portal {
  const sessions = new SessionStore(vendor.now, options);
  const token = options.adminToken === undefined || options.adminToken === '' ? undefined : createHash('sha256').update(options.adminToken).digest();
  const deps: PortalDeps = {
    vendor,
    sessions,
    signIn: { store: vendor.store, now: vendor.now, adminTokenDigest: token, scrypt: options.scrypt },
    failures: options.signInFailures === false ? undefined : new TokenBuckets(options.signInFailures ?? { requests: 10, perSeconds: 600 }, { now: vendor.now }),
    secureCookies: options.secureCookies ?? 'auto',
    trustProxy: options.trustProxy !== undefined && options.trustProxy !== false && options.trustProxy !== 0,
    pageSize: options.pageSize ?? 50,
    webhooks: options.webhooks ?? [],
  };

  const handle = async (req: Request, url: URL, client: string | undefined): Promise<Response> => {
    const secure = deps.secureCookies === 'auto' ? deps.trustProxy && (req.headers.get('x-forwarded-proto') ?? '').split(',')[0]?.trim() === 'https' : deps.secureCookies;
    const sessionId = readCookies(req).get(sessionCookieName(secure));
    let session = sessions.get(sessionId);
    const base = { req, url, deps, client, secure, form: undefined };
    try {
      if (req.method === 'GET' && url.pathname.startsWith('/portal/static/')) {
        return assetResponse(url.pathname.slice('/portal/static/'.length)) ?? notFound(session);
      }
      if (url.pathname === '/portal' || url.pathname === '/portal/') return redirect(session === undefined ? '/portal/sign-in' : '/portal/licenses');
      const found = match(req.method, url.pathname);
      if (found === undefined) return notFound(session);
      if (found === 'method') return page({ title: 'Not allowed', status: 405, session, body: html`<p>${req.method} is not allowed here.</p>`, headers: { allow: 'GET, POST' } });
      const { route, params } = found;
      if (route.access !== 'none') {
        if (session !== undefined && !(await stillAllowed(vendor.store, session.principal))) {
          sessions.end(sessionId);
          session = undefined;
        }
        if (session === undefined || sessionId === undefined) {
          if (req.method === 'GET') return redirect('/portal/sign-in');
          throw new LicenseError('ERR_SESSION_EXPIRED', 'your session has ended (signed out, idle, or the server restarted); sign in again. Nothing was changed');
        }
        if (route.access === 'vendor' && session.principal.kind !== 'vendor') return notFound(session);
        if (session.mustChangePassword && route.beforePasswordChange !== true) {
          if (req.method === 'GET') return redirect('/portal/password');
          throw new LicenseError('ERR_FORBIDDEN', 'change your initial password first; nothing else was changed');
        }
      }
      let form: URLSearchParams | undefined;
      if (req.method === 'POST') {
        checkSameOrigin(req, deps.trustProxy);
        form = await readForm(req);
        if (route.access !== 'none') checkCsrf(form, session as NonNullable<typeof session>);
      }
      const ctx: Ctx = { ...base, session, sessionId, form };
      return await (route.handler as (c: Ctx | SignedIn, p: readonly string[]) => Promise<Response>)(ctx, params);
    } catch (e) {
      return errorPage(e, session);
    }
  };
  return { handle, sessions };
}

function match(method: string, pathname: string): { route: PortalRoute; params: string[] } | 'method' | undefined {
  let other = false;
  for (const route of ROUTES) {
    const m = route.path.exec(pathname);
    if (m === null) continue;
    if (route.method !== method) {
      other = true;
      continue;
    }
    try {
      return { route, params: m.slice(1).map((s) => decodeURIComponent(s)) };
    } catch {
      return undefined;
    }
  }
  return other ? 'method' : undefined;
}

function notFound(session: Parameters<typeof page>[0]['session']): Response {
  return page({ title: 'Not found', status: 404, session, body: html`<p>There is no such page. <a href="/portal/licenses">Back to the licenses</a>.</p>` });
}
