/**
 * A license's credits: licensed, topped up, consumed and what remains (the figures
 * `GET /v1/admin/usage` answers), the history of credit events from the audit log (read back from the newest as far as the page
 * shows, its hash chain verified that far: event-page.ts), and for the
 * vendor "Add credits" (`Vendor.topUp`, the call `POST /v1/admin/topups` makes; the form carries
 * an idempotency key, so a second submit of the same form adds nothing).
 */
import { randomBytes } from 'node:crypto';
import { LicenseError } from '../../../core/errors.js';
import { actorOf, managesUsers, requireManager, requireVendor } from '../access.js';
import { adminGet } from '../admin-call.js';
import type { PortalRoute, SignedIn } from '../context.js';
import { field, wholeField } from '../forms.js';
import { html, portalPath } from '../html.js';
import { csrfField, page, redirect, when } from '../layout.js';
import { openLicense, pageNumber, table, tabs, usable } from './common.js';
import { eventPage, eventPager, verifiedNote } from './event-page.js';

async function show(ctx: SignedIn, [id]: readonly string[]): Promise<Response> {
  requireManager(ctx.session.principal, 'see credits');
  const o = await openLicense(ctx, id as string);
  const licenseId = o.entry.licenseId;
  const usage = await adminGet(ctx.deps.vendor, '/v1/admin/usage', { licenseId });
  const c = usage.credits as { licensed: number | null; toppedUp: number; consumed: number };
  const remaining = c.licensed === null ? null : Math.max(0, c.licensed + c.toppedUp - c.consumed);
  const size = ctx.deps.pageSize;
  const n = pageNumber(ctx.url);
  // Read back from the newest event only as far as this page needs (event-page.ts).
  const p = await eventPage(ctx.deps.vendor.store, licenseId, { page: n, size, match: (e) => e.kind.startsWith('credits.') || e.kind.startsWith('topup.') });
  const rows = p.events.map((e) => [when(e.at), e.kind, String(e.details.credits ?? e.details.consumed ?? e.details.amount ?? '—'), String(e.details.source ?? '—'), e.actor]);
  const topUp =
    ctx.session.principal.kind !== 'vendor'
      ? null
      : html`<h2>Add credits</h2><form class="inline" method="post" action="${portalPath('licenses', licenseId, 'credits')}">${csrfField(ctx.session)}<input type="hidden" name="idempotencyKey" value="${randomBytes(16).toString('base64url')}">
<div><label for="credits">Credits to add</label><input id="credits" name="credits" type="number" min="1" inputmode="numeric" required></div><button type="submit">Add credits</button></form>`;
  return page({
    title: `Credits of ${licenseId}`,
    session: ctx.session,
    body: html`${tabs(licenseId, 'credits', managesUsers(ctx.session.principal))}<ul class="tiles">
<li><span class="v">${remaining ?? '—'}</span> remaining${c.licensed === null ? ' (this license sells no credits)' : ''}</li>
<li><span class="v">${c.licensed ?? '—'}</span> licensed</li>
<li><span class="v">${c.toppedUp}</span> topped up</li>
<li><span class="v">${c.consumed}</span> consumed</li></ul>
<p class="muted">Remaining is licensed plus topped up minus consumed, as installations last reported it; a top-up reaches them with their next renewal.</p>
<h2>History</h2>${table('Credit events, newest first', ['When', 'What', 'Credits', 'Source', 'By'], rows, 'No credit event yet.')}${eventPager(ctx.url, n, size, p)}${verifiedNote(p)}${topUp}`,
  });
}

async function add(ctx: SignedIn, [id]: readonly string[]): Promise<Response> {
  requireVendor(ctx.session.principal);
  const license = usable(await openLicense(ctx, id as string));
  const form = ctx.form as URLSearchParams;
  const credits = wholeField(form, 'credits', 'The credits to add');
  if (credits === undefined || credits < 1) throw new LicenseError('ERR_USAGE', 'the credits to add must be a whole number of at least 1', { field: 'credits' });
  const idempotencyKey = field(form, 'idempotencyKey', 'The form key', 128);
  const r = await ctx.deps.vendor.topUp(license, { credits, idempotencyKey, source: 'manual', actor: actorOf(ctx.session.principal) });
  ctx.session.flash = { kind: 'ok', text: r.added ? `${credits} credits added to ${license.id}; installations receive them with their next renewal.` : `These ${credits} credits were added already (the form was sent twice); nothing more was added.` };
  return redirect(portalPath('licenses', license.id, 'credits'));
}

export const creditRoutes: readonly PortalRoute[] = [
  { method: 'GET', path: /^\/portal\/licenses\/([^/]+)\/credits$/, access: 'session', handler: show },
  { method: 'POST', path: /^\/portal\/licenses\/([^/]+)\/credits$/, access: 'vendor', handler: add },
];
