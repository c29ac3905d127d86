/**
 * The vendor issues a license from the portal: the claims from a form, signed by
 * `issueLicense` with the server's own signing key (the key `licit serve` signs leases with), and
 * recorded as `POST /v1/admin/licenses` records a key (`Vendor.register`). The claims are checked
 * by `issueLicense` (`ERR_KEY_INVALID_CLAIM`), dates read by `parseTimeWords` as `licit issue`
 * reads them (a date alone runs through the end of that day). A license id that exists is refused:
 * a new issue of an existing license is a re-issue (its details page, pages/reissue.ts), which starts from its key.
 */
import { showLicense } from '../../../core/admin/registry.js';
import { LicenseError } from '../../../core/errors.js';
import type { LicenseInput } from '../../../core/license/claims.js';
import { parseTimeWords } from '../../../core/time/time-words.js';
import { issueLicense } from '../../../issuer/issue.js';
import { requireVendor } from '../access.js';
import type { PortalRoute, SignedIn } from '../context.js';
import { field, wholeField } from '../forms.js';
import { html, portalPath } from '../html.js';
import { csrfField, page, redirect } from '../layout.js';
import { listField } from './companies.js';

async function form(ctx: SignedIn): Promise<Response> {
  const text = (id: string, label: string, extra = '') => html`<div><label for="${id}">${label}</label><input id="${id}" name="${id}" type="text" autocomplete="off"${extra === '' ? null : html` ${extra}`}></div>`;
  const num = (id: string, label: string) => html`<div><label for="${id}">${label}</label><input id="${id}" name="${id}" type="number" min="0" inputmode="numeric"></div>`;
  return page({
    title: 'Issue a license',
    session: ctx.session,
    body: html`<p>The key is signed with this server's signing key and recorded in the registry, as <code>licit issue --store</code> does. Leave a field empty for no limit.</p>
<form class="stack" method="post" action="/portal/issue">${csrfField(ctx.session)}
${text('licenseId', 'License id', 'required')}${text('customer', 'Customer (as the company is matched by)')}${text('edition', 'Type / edition')}
${text('features', 'Features (comma-separated)')}${text('seats', 'Seats per user type (type=count, comma-separated)')}
<div><label for="expires">Expires (a date, or empty for never)</label><input id="expires" name="expires" type="date"></div>
${num('graceDays', 'Grace days after expiry')}${num('maxActivations', 'Activations')}${num('maxUsers', 'License users')}${num('maxUserActivations', 'Activations per user')}${num('maxTransfers', 'Transfers')}${num('credits', 'Credits')}
<div><button type="submit">Sign and record</button></div></form>`,
  });
}

/** Seats per user type as the forms take them: `type=count`, comma-separated (the Re-issue form too). */
export function seatsOf(f: URLSearchParams): Record<string, number> {
  const out: Array<[string, number]> = [];
  for (const p of listField(f, 'seats')) {
    const m = /^([^=\s]+)\s*=\s*(\d{1,9})$/.exec(p);
    if (m === null) throw new LicenseError('ERR_USAGE', `seats are written type=count (basic=10), got "${p}"`, { field: 'seats' });
    out.push([m[1] as string, Number(m[2])]);
  }
  // From entries: a type named "__proto__" stays a type instead of vanishing in an assignment.
  return Object.fromEntries(out);
}

async function issue(ctx: SignedIn): Promise<Response> {
  requireVendor(ctx.session.principal);
  const f = ctx.form as URLSearchParams;
  const licenseId = field(f, 'licenseId', 'The license id', 256);
  const vendor = ctx.deps.vendor;
  if ((await showLicense(vendor.store, licenseId)) !== undefined) throw new LicenseError('ERR_USAGE', `license ${licenseId} exists already; re-issue it from its page (Re-issue), or choose another id`, { field: 'licenseId' });
  const opt = (k: string) => ((f.get(k) ?? '').trim() === '' ? undefined : (f.get(k) as string).trim());
  const expires = opt('expires');
  const input: LicenseInput = {
    licenseId,
    ...(opt('customer') === undefined ? {} : { customer: opt('customer') }),
    ...(opt('edition') === undefined ? {} : { edition: opt('edition') }),
    features: listField(f, 'features'),
    seats: seatsOf(f),
    ...(expires === undefined ? {} : { expiresAt: parseTimeWords(expires, { name: 'expires', dateAlone: 'end' }) }),
  };
  for (const k of ['graceDays', 'maxActivations', 'maxUsers', 'maxUserActivations', 'maxTransfers', 'credits'] as const) {
    const v = wholeField(f, k, k);
    if (v !== undefined) (input as Record<string, unknown>)[k] = v;
  }
  const key = await issueLicense(input, { signingKey: vendor.signer, now: vendor.now });
  await vendor.register(await vendor.verifyKey(key), 'portal:vendor');
  ctx.session.flash = { kind: 'ok', text: `License ${licenseId} was issued and recorded.`, secret: key, secretLabel: `Its key, to send the customer (licit licenses show ${licenseId} --key prints it again):` };
  return redirect(portalPath('licenses', licenseId));
}

export const issueRoutes: readonly PortalRoute[] = [
  { method: 'GET', path: /^\/portal\/issue$/, access: 'vendor', handler: form },
  { method: 'POST', path: /^\/portal\/issue$/, access: 'vendor', handler: issue },
];
