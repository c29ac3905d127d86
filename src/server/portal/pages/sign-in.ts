/**
 * Sign-in, sign-out and the password change: the customer's form (company code, e-mail,
 * password), the vendor's (the admin token), and the change of an initial password that every
 * other page waits for. The sign-in forms carry a double-submit token (a cookie of their own and
 * the same value in the form), so another site cannot sign a browser in to an account of its choosing.
 */
import { randomBytes } from 'node:crypto';
import { LicenseError, isLicenseError } from '../../../core/errors.js';
import { PASSWORD_MIN_LENGTH } from '../../auth/password.js';
import type { Ctx, PortalRoute, SignedIn } from '../context.js';
import { clearSessionCookie, cookie, preCookieName, readCookies, sessionCookieName } from '../cookies.js';
import { errorPage } from '../error-page.js';
import { sameSecret } from '../forms.js';
import { html, type Html } from '../html.js';
import { csrfField, page, redirect } from '../layout.js';
import { changeOwnPassword, signInCustomer, signInVendor } from '../sign-in.js';
import type { Principal } from '../sessions.js';

function plainHttpNotice(ctx: Ctx): Html {
  return ctx.secure ? html`` : html`<p class="notice warn">This portal is reached over plain HTTP: fine on your own machine, but put it behind HTTPS (a reverse proxy with <code>trustProxy</code>) before anyone else signs in.</p>`;
}

function signInPage(ctx: Ctx, vendor: boolean, error?: unknown): Response {
  const pre = randomBytes(32).toString('base64url');
  const set = cookie(preCookieName(ctx.secure), pre, { secure: ctx.secure, maxAgeSeconds: 3600 });
  const fields = vendor
    ? html`<div><label for="token">Admin token</label><input id="token" name="token" type="password" autocomplete="current-password" required></div>`
    : html`<div><label for="company">Company code</label><input id="company" name="company" type="text" autocomplete="organization" autocapitalize="characters" required value="${ctx.form?.get('company') ?? ''}"></div>
<div><label for="email">E-mail</label><input id="email" name="email" type="email" autocomplete="username" required value="${ctx.form?.get('email') ?? ''}"></div>
<div><label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required></div>`;
  const failed = error === undefined ? null : html`<div class="notice error" role="alert"><p>${isLicenseError(error) ? error.message : 'sign-in failed'}</p></div>`;
  const other = vendor ? html`<p><a href="/portal/sign-in">Customer sign-in</a></p>` : html`<p class="muted">Use the company code and the e-mail address from your registration e-mail. The vendor's staff: <a href="/portal/vendor/sign-in">vendor sign-in</a>.</p>`;
  const status = error === undefined ? 200 : isLicenseError(error, 'ERR_RATE_LIMITED') ? 429 : isLicenseError(error, 'ERR_USAGE') ? 400 : 401;
  const res = page({
    title: vendor ? 'Vendor sign-in' : 'Sign in',
    status,
    notice: plainHttpNotice(ctx),
    headers: isLicenseError(error) ? { 'x-licit-error': error.code, ...(typeof error.details.retryAfterSeconds === 'number' ? { 'retry-after': String(error.details.retryAfterSeconds) } : {}) } : {},
    body: html`${failed}<form class="stack" method="post" action="${vendor ? '/portal/vendor/sign-in' : '/portal/sign-in'}">
<input type="hidden" name="csrf" value="${pre}">
${fields}
<div><button type="submit">Sign in</button></div>
</form>${other}`,
  });
  res.headers.append('set-cookie', set);
  return res;
}

/** Sign in: check the double-submit token and the client's failure budget, then who it is. */
async function signIn(ctx: Ctx, who: (form: URLSearchParams) => Promise<{ principal: Principal; mustChange: boolean }>, vendor: boolean): Promise<Response> {
  const form = ctx.form as URLSearchParams;
  if (!sameSecret(form.get('csrf'), readCookies(ctx.req).get(preCookieName(ctx.secure)) ?? '') || (form.get('csrf') ?? '') === '') {
    return errorPage(new LicenseError('ERR_CSRF_REJECTED', 'this sign-in form was refused (it is too old, or came from another site); reload the sign-in page and try again', { reason: 'sign-in token' }), undefined);
  }
  const key = ctx.client ?? 'unknown client';
  const budget = ctx.deps.failures?.peek(key);
  if (budget !== undefined && !budget.ok) {
    return signInPage(ctx, vendor, new LicenseError('ERR_RATE_LIMITED', `too many failed sign-ins from your address: try again in ${budget.retryAfterSeconds} seconds`, { retryAfterSeconds: budget.retryAfterSeconds }));
  }
  let result: { principal: Principal; mustChange: boolean };
  try {
    result = await who(form);
  } catch (e) {
    if (isLicenseError(e, 'ERR_USER_AUTH_FAILED') || isLicenseError(e, 'ERR_UNAUTHORIZED')) ctx.deps.failures?.take(key);
    if (isLicenseError(e) && ['ERR_USER_AUTH_FAILED', 'ERR_UNAUTHORIZED', 'ERR_RATE_LIMITED', 'ERR_USAGE'].includes(e.code)) return signInPage(ctx, vendor, e);
    throw e;
  }
  // A new id at every sign-in: an id planted before sign-in is worth nothing after it.
  ctx.deps.sessions.end(ctx.sessionId);
  const { id } = ctx.deps.sessions.create(result.principal, result.mustChange);
  return redirect(result.mustChange ? '/portal/password' : '/portal/licenses', [
    cookie(sessionCookieName(ctx.secure), id, { secure: ctx.secure, maxAgeSeconds: ctx.deps.sessions.maxAgeSeconds }),
    cookie(preCookieName(ctx.secure), '', { secure: ctx.secure, maxAgeSeconds: 0 }),
  ]);
}

function passwordPage(ctx: SignedIn, error?: unknown): Response {
  const forced = ctx.session.mustChangePassword ? html`<p class="notice warn">Your password is an initial one: choose your own before you continue.</p>` : null;
  const failed = error === undefined ? null : html`<div class="notice error" role="alert"><p>${isLicenseError(error) ? error.message : 'the password was not changed'}</p></div>`;
  return page({
    title: 'Change password',
    session: ctx.session,
    status: error === undefined ? 200 : isLicenseError(error, 'ERR_RATE_LIMITED') ? 429 : isLicenseError(error, 'ERR_USER_AUTH_FAILED') ? 401 : 400,
    body: html`${forced}${failed}<form class="stack" method="post" action="/portal/password">${csrfField(ctx.session)}
<div><label for="current">Current password</label><input id="current" name="current" type="password" autocomplete="current-password" required></div>
<div><label for="next">New password (at least ${PASSWORD_MIN_LENGTH} characters)</label><input id="next" name="next" type="password" autocomplete="new-password" minlength="${PASSWORD_MIN_LENGTH}" required></div>
<div><label for="repeat">New password again</label><input id="repeat" name="repeat" type="password" autocomplete="new-password" minlength="${PASSWORD_MIN_LENGTH}" required></div>
<div><button type="submit">Change password</button></div>
</form>`,
  });
}

export const signInRoutes: readonly PortalRoute[] = [
  { method: 'GET', path: /^\/portal\/sign-in$/, access: 'none', handler: async (ctx: Ctx) => (ctx.session !== undefined ? redirect('/portal/licenses') : signInPage(ctx, false)) },
  { method: 'GET', path: /^\/portal\/vendor\/sign-in$/, access: 'none', handler: async (ctx: Ctx) => signInPage(ctx, true) },
  {
    method: 'POST',
    path: /^\/portal\/sign-in$/,
    access: 'none',
    handler: (ctx: Ctx) => signIn(ctx, (f) => signInCustomer(ctx.deps.signIn, { company: f.get('company') ?? '', email: f.get('email') ?? '', password: f.get('password') ?? '' }), false),
  },
  { method: 'POST', path: /^\/portal\/vendor\/sign-in$/, access: 'none', handler: (ctx: Ctx) => signIn(ctx, async (f) => ({ principal: signInVendor(ctx.deps.signIn, f.get('token') ?? ''), mustChange: false }), true) },
  {
    method: 'POST',
    path: /^\/portal\/sign-out$/,
    access: 'session',
    beforePasswordChange: true,
    handler: async (ctx: SignedIn) => {
      ctx.deps.sessions.end(ctx.sessionId);
      return redirect('/portal/sign-in', [clearSessionCookie(ctx.secure)]);
    },
  },
  { method: 'GET', path: /^\/portal\/password$/, access: 'session', beforePasswordChange: true, handler: async (ctx: SignedIn) => passwordPage(ctx) },
  {
    method: 'POST',
    path: /^\/portal\/password$/,
    access: 'session',
    beforePasswordChange: true,
    handler: async (ctx: SignedIn) => {
      const f = ctx.form as URLSearchParams;
      const next = f.get('next') ?? '';
      try {
        if (next !== (f.get('repeat') ?? '')) throw new LicenseError('ERR_USAGE', 'the two new passwords differ; type the same one twice');
        if (next === (f.get('current') ?? '')) throw new LicenseError('ERR_USAGE', 'the new password is the current one; choose another');
        await changeOwnPassword(ctx.deps.signIn, ctx.session.principal, f.get('current') ?? '', next);
      } catch (e) {
        if (isLicenseError(e) && ['ERR_USAGE', 'ERR_USER_AUTH_FAILED', 'ERR_RATE_LIMITED'].includes(e.code)) return passwordPage(ctx, e);
        throw e;
      }
      const p = ctx.session.principal;
      // Other browsers signed in with the old password are signed out.
      if (p.kind !== 'vendor') ctx.deps.sessions.endAllOf(p.company, p.email, ctx.session);
      ctx.session.mustChangePassword = false;
      ctx.session.flash = { kind: 'ok', text: 'Your password was changed.' };
      return redirect('/portal/licenses');
    },
  },
];
