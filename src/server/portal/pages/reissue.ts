/**
 * The vendor re-issues a license from the portal: the Re-issue form on a license's details page
 * (new expiry, maintenance, edition, seats per user type, features, limits; an empty field keeps
 * the claim) and the Add seats action per user type on its seats page (the Licence Manager's "add
 * licences": pick the type, enter how many, confirm). Both call server/reissue.ts with the
 * server's signing key, the code `licit licenses reissue` and `POST /v1/admin/licenses/reissue`
 * and `/seats` call, so the new key, what the registry records and the `seats.changed` events are
 * the same whichever way the vendor takes. The routes are the vendor's only: a customer's POST is
 * answered as a page that does not exist.
 */
import { randomBytes } from 'node:crypto';
import type { RegistryEntry } from '../../../core/admin/registry.js';
import type { LicenseClaims } from '../../../core/license/claims.js';
import { namesAChange, type LicenseChanges } from '../../../core/admin/reissue-claims.js';
import { LicenseError } from '../../../core/errors.js';
import { parseTimeWords } from '../../../core/time/time-words.js';
import { addSeats, reissueLicense, type ReissueContext } from '../../reissue.js';
import { requireVendor } from '../access.js';
import type { PortalRoute, SignedIn } from '../context.js';
import { field, wholeField } from '../forms.js';
import { html, portalPath, type Html } from '../html.js';
import { csrfField, redirect } from '../layout.js';
import { openLicense } from './common.js';
import { listField } from './companies.js';
import { seatsOf } from './issue.js';

const ACTOR = 'portal:vendor';

const signing = (ctx: SignedIn): ReissueContext => ({ store: ctx.deps.vendor.store, signingKey: ctx.deps.vendor.signer, now: ctx.deps.vendor.now });

/** Claims the form can remove (the admin API's `null`), with what the box says. */
const REMOVABLE = [
  ['expiresAt', 'the expiry (the license no longer expires)'],
  ['maintenanceExpiresAt', 'the end of maintenance'],
  ['edition', 'the type / edition'],
  ['maxActivations', 'the activation limit'],
  ['maxUsers', 'the license user limit'],
  ['maxUserActivations', 'the limit of activations per user'],
  ['maxTransfers', 'the transfer limit'],
  ['credits', 'the credits'],
] as const satisfies readonly (readonly [keyof LicenseClaims, string])[];

/** The Re-issue form of the details page (the vendor's only); `claims`: the newest key's, to offer removing the claims it has. */
export function reissueForm(ctx: SignedIn, entry: RegistryEntry, claims?: LicenseClaims): Html {
  const text = (id: string, label: string) => html`<div><label for="${id}">${label}</label><input id="${id}" name="${id}" type="text" autocomplete="off"></div>`;
  const num = (id: string, label: string) => html`<div><label for="${id}">${label}</label><input id="${id}" name="${id}" type="number" min="0" inputmode="numeric"></div>`;
  const seats = Object.entries(entry.seats).map(([t, n]) => `${t}=${n}`).join(', ');
  const removable = claims === undefined ? [] : REMOVABLE.filter(([k]) => claims[k] !== undefined);
  return html`<h2>Re-issue</h2><p>Signs a new key of this license with this server's signing key, from its newest key with the changes below (an empty field keeps what the key says), and records it with what changed, as <code>licit licenses reissue</code> does. Installations get the new key with their next lease.</p>
<form class="stack" method="post" action="${portalPath('licenses', entry.licenseId, 'reissue')}" data-confirm="Sign a new key of license ${entry.licenseId} with these changes?">${csrfField(ctx.session)}<input type="hidden" name="idempotencyKey" value="${randomBytes(16).toString('base64url')}">
<div><label for="re-expires">New expiry date</label><input id="re-expires" name="expires" type="date"></div>
<div><label for="re-maintenance">New end of maintenance</label><input id="re-maintenance" name="maintenanceExpires" type="date"></div>
${text('edition', `Type / edition (now ${entry.edition ?? 'none'})`)}
${text('seats', `Seats per user type to set (type=count, comma-separated; now ${seats === '' ? 'none' : seats})`)}
${text('addFeatures', 'Features to add (comma-separated)')}${text('removeFeatures', 'Features to remove (comma-separated)')}
${num('maxActivations', 'Activations')}${num('maxUsers', 'License users')}${num('maxUserActivations', 'Activations per user')}${num('maxTransfers', 'Transfers')}${num('graceDays', 'Grace days after expiry')}${num('credits', 'Credits')}
${removable.length === 0 ? null : html`<fieldset class="checks"><legend>Remove from the new key</legend>${removable.map(([k, label]) => html`<span><input type="checkbox" id="re-clear-${k}" name="clear" value="${k}"><label for="re-clear-${k}">${label}</label></span>`)}</fieldset>`}
<div><button type="submit">Sign and record the new key</button></div></form>`;
}

/** The Add seats form of one user type's row on the seats page (the vendor's only). */
export function addSeatsForm(ctx: SignedIn, licenseId: string, type: string): Html {
  const id = `add-${type}`;
  return html`<form class="inline" method="post" action="${portalPath('licenses', licenseId, 'seats', 'add')}" data-confirm="Add these ${type} seats to license ${licenseId}? A new key is signed.">${csrfField(ctx.session)}<input type="hidden" name="type" value="${type}"><input type="hidden" name="idempotencyKey" value="${randomBytes(16).toString('base64url')}">
<div><label for="${id}">Seats to add (${type})</label><input id="${id}" name="add" type="number" min="1" max="100000" inputmode="numeric" required></div><button type="submit" class="secondary">Add seats</button></form>`;
}

const date = (f: URLSearchParams, name: string): Date | undefined => {
  const v = (f.get(name) ?? '').trim();
  return v === '' ? undefined : parseTimeWords(v, { name, dateAlone: 'end' });
};

const secretLabel = (licenseId: string) => `The new key, to send the customer (licit licenses show ${licenseId} --key prints it again):`;

async function reissue(ctx: SignedIn, [id]: readonly string[]): Promise<Response> {
  requireVendor(ctx.session.principal);
  const { entry } = await openLicense(ctx, id as string);
  const f = ctx.form as URLSearchParams;
  const opt = (k: string) => ((f.get(k) ?? '').trim() === '' ? undefined : (f.get(k) as string).trim());
  const seats = seatsOf(f);
  const changes: { -readonly [K in keyof LicenseChanges]: LicenseChanges[K] } = {
    expiresAt: date(f, 'expires'),
    maintenanceExpiresAt: date(f, 'maintenanceExpires'),
    edition: opt('edition'),
    seats: Object.keys(seats).length === 0 ? undefined : seats,
    addFeatures: listField(f, 'addFeatures'),
    removeFeatures: listField(f, 'removeFeatures'),
    maxActivations: wholeField(f, 'maxActivations', 'Activations'),
    maxUsers: wholeField(f, 'maxUsers', 'License users'),
    maxUserActivations: wholeField(f, 'maxUserActivations', 'Activations per user'),
    maxTransfers: wholeField(f, 'maxTransfers', 'Transfers'),
    graceDays: wholeField(f, 'graceDays', 'Grace days'),
    credits: wholeField(f, 'credits', 'Credits'),
  };
  // A ticked "remove" box is the admin API's null; a claim both given and removed is a slip.
  for (const k of f.getAll('clear')) {
    const known = REMOVABLE.find(([r]) => r === k);
    if (known === undefined) throw new LicenseError('ERR_USAGE', `"${k}" is not a claim the form removes; submit the form from the license's page`, { field: 'clear' });
    const [claim, label] = known;
    if (changes[claim] !== undefined) throw new LicenseError('ERR_USAGE', `${label} is both given a new value and removed; do one or the other`, { field: claim });
    changes[claim] = null;
  }
  // An empty form is a slip, not a request for the same claims again (the CLI and API allow that).
  if (!namesAChange(changes)) throw new LicenseError('ERR_USAGE', 'fill in at least one change (an empty field keeps what the key says); nothing was signed', { field: 'expires' });
  // The form's own key: the same form sent twice (a double click, a browser's retry) signs once.
  const key = (f.get('idempotencyKey') ?? '') === '' ? undefined : field(f, 'idempotencyKey', 'The form key', 128);
  const r = await reissueLicense(signing(ctx), entry.licenseId, changes, { source: 'manual', actor: ACTOR, ...(key === undefined ? {} : { idempotencyKey: key }) });
  const what = Object.keys(r.changes);
  const text = r.reissued
    ? `License ${r.licenseId} was re-issued (key ${r.issue}${what.length === 0 ? '' : `, changed ${what.join(', ')}`}); installations get the new key with their next lease.`
    : `License ${r.licenseId} was re-issued with these changes already (key ${r.issue}; the form was sent twice); nothing more was signed.`;
  ctx.session.flash = { kind: 'ok', text, secret: r.key, secretLabel: secretLabel(r.licenseId) };
  return redirect(portalPath('licenses', r.licenseId));
}

async function add(ctx: SignedIn, [id]: readonly string[]): Promise<Response> {
  requireVendor(ctx.session.principal);
  const { entry } = await openLicense(ctx, id as string);
  const f = ctx.form as URLSearchParams;
  const type = field(f, 'type', 'The user type', 256);
  const n = wholeField(f, 'add', 'Seats to add');
  if (n === undefined || n < 1) throw new LicenseError('ERR_USAGE', 'enter how many seats to add (1 or more)', { field: 'add' });
  // The form's own key: the same form sent twice (a double click, a browser's retry) adds once.
  const key = (f.get('idempotencyKey') ?? '') === '' ? undefined : field(f, 'idempotencyKey', 'The form key', 128);
  const r = await addSeats(signing(ctx), entry.licenseId, type, n, { source: 'manual', actor: ACTOR, ...(key === undefined ? {} : { idempotencyKey: key }) });
  const text = r.reissued
    ? `${n} ${type} ${n === 1 ? 'seat was' : 'seats were'} added to license ${r.licenseId} (${r.from} → ${r.to}); installations get the new key with their next lease.`
    : `These ${n} ${type} seats were added already (the form was sent twice); nothing more was added. The key of that addition is below.`;
  ctx.session.flash = { kind: 'ok', text, secret: r.key, secretLabel: secretLabel(r.licenseId) };
  return redirect(portalPath('licenses', r.licenseId, 'seats'));
}

export const reissueRoutes: readonly PortalRoute[] = [
  { method: 'POST', path: /^\/portal\/licenses\/([^/]+)\/reissue$/, access: 'vendor', handler: reissue },
  { method: 'POST', path: /^\/portal\/licenses\/([^/]+)\/seats\/add$/, access: 'vendor', handler: add },
];
