/**
 * Named seats per user type (basic, advanced, …): how many each type has and uses, who holds one,
 * and for the vendor and the company's administrators assign, change the type of, and release a
 * seat. Each is `SeatManager`'s, as `licit seats --store` does on the same store, so a full type
 * is refused the same way (`ERR_SEATS_EXHAUSTED`). The vendor also adds seats to a type here
 * (pages/reissue.ts).
 */
import { SeatManager } from '../../../core/seats/index.js';
import { actorOf, managesUsers, requireManager } from '../access.js';
import type { PortalRoute, SignedIn } from '../context.js';
import { field } from '../forms.js';
import { html, portalPath } from '../html.js';
import { csrfField, page, redirect, when } from '../layout.js';
import { openLicense, pageNumber, pager, table, tabs, usable } from './common.js';
import { addSeatsForm } from './reissue.js';

async function show(ctx: SignedIn, [id]: readonly string[]): Promise<Response> {
  requireManager(ctx.session.principal, 'manage seats');
  const l = usable(await openLicense(ctx, id as string));
  const seats = new SeatManager(ctx.deps.vendor.store, l, { now: ctx.deps.vendor.now, actor: 'portal' });
  const usage = await seats.usage();
  const list = await seats.list();
  const size = ctx.deps.pageSize;
  const n = pageNumber(ctx.url);
  const csrf = csrfField(ctx.session);
  const rows = list.slice((n - 1) * size, n * size).map((s) => [
    s.userId,
    s.type,
    when(s.since),
    html`<form class="inline" method="post" action="${portalPath('licenses', l.id, 'seats', 'release')}" data-confirm="Release the seat of ${s.userId}?">${csrf}<input type="hidden" name="userId" value="${s.userId}"><button type="submit" class="secondary" aria-label="Release the seat of ${s.userId}">Release</button></form>`,
  ]);
  const types = usage.map((u) => u.type);
  // The vendor adds seats to a type (a re-issue, pages/reissue.ts); a company's administrators assign them.
  const vendor = ctx.session.principal.kind === 'vendor';
  const typeSelect = (idAttr: string) => html`<label for="${idAttr}">User type</label><select id="${idAttr}" name="type">${types.map((t) => html`<option value="${t}">${t}</option>`)}</select>`;
  const forms =
    types.length === 0
      ? html`<p class="muted">This license has no seats per user type.</p>`
      : html`<h2>Assign a seat</h2><form class="inline" method="post" action="${portalPath('licenses', l.id, 'seats')}">${csrf}
<div><label for="seat-user">User</label><input id="seat-user" name="userId" type="text" required autocomplete="off"></div><div>${typeSelect('seat-type')}</div>
<div><label for="seat-change">If the user holds another type</label><select id="seat-change" name="mode"><option value="assign">refuse</option><option value="reassign">change the type</option></select></div>
<button type="submit">Assign</button></form>`;
  return page({
    title: `Seats of ${l.id}`,
    session: ctx.session,
    body: html`${tabs(l.id, 'seats', managesUsers(ctx.session.principal))}
${table('Seats per user type', ['Type', 'Licensed', 'In use', 'Available', ...(vendor ? ['Add seats'] : [])], usage.map((u) => [u.type, String(u.licensed), String(u.inUse), html`${u.available}${u.over ? html` <span class="state-suspended">(more in use than licensed)</span>` : null}`, ...(vendor ? [addSeatsForm(ctx, l.id, u.type)] : [])]), 'No seats per user type.')}
<h2>Who holds a seat</h2>${table('Seat holders', ['User', 'Type', 'Since', 'Actions'], rows, 'No seat is assigned.')}${pager(ctx.url, n, list.length, size)}${forms}`,
  });
}

async function change(ctx: SignedIn, [id, action]: readonly string[]): Promise<Response> {
  requireManager(ctx.session.principal, 'manage seats');
  const l = usable(await openLicense(ctx, id as string));
  const form = ctx.form as URLSearchParams;
  const seats = new SeatManager(ctx.deps.vendor.store, l, { now: ctx.deps.vendor.now, actor: actorOf(ctx.session.principal) });
  const userId = field(form, 'userId', 'The user', 256);
  if (action === 'release') {
    const r = await seats.release(userId);
    ctx.session.flash = { kind: 'ok', text: `The ${r.type} seat of ${r.userId} was released.` };
  } else {
    const type = field(form, 'type', 'The user type', 256);
    const r = form.get('mode') === 'reassign' ? await seats.reassign(userId, type) : await seats.assign(userId, type);
    ctx.session.flash = { kind: 'ok', text: `${r.userId} holds a ${r.type} seat.` };
  }
  return redirect(portalPath('licenses', l.id, 'seats'));
}

export const seatRoutes: readonly PortalRoute[] = [
  { method: 'GET', path: /^\/portal\/licenses\/([^/]+)\/seats$/, access: 'session', handler: show },
  { method: 'POST', path: /^\/portal\/licenses\/([^/]+)\/seats$/, access: 'session', handler: (ctx: SignedIn, [id]: readonly string[]) => change(ctx, [id as string, 'assign']) },
  { method: 'POST', path: /^\/portal\/licenses\/([^/]+)\/seats\/(release)$/, access: 'session', handler: change },
];
