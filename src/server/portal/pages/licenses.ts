/**
 * The licenses a person may see (paged, searchable) and one license's details: identity, type
 * and edition, status, lifecycle (recorded, first activated, expiry and grace, maintenance),
 * activation limits and device rules, user allocation, activation history and last validation.
 * Every figure comes from the registry (core/admin/registry.ts) and the license's activations
 * (core/seats), the code `licit licenses show` and `GET /v1/admin/devices` read. The vendor also
 * suspends, revokes and reinstates here, with changeLicenseState as the CLI and API do, and
 * re-issues (pages/reissue.ts, server/reissue.ts as the CLI and API).
 */
import { changeLicenseState } from '../../../core/admin/registry.js';
import { LicenseError } from '../../../core/errors.js';
import { managesUsers, requireVendor, visibleDevices, visibleLicensePage } from '../access.js';
import type { PortalRoute, SignedIn } from '../context.js';
import { field } from '../forms.js';
import { html, portalPath, type Html } from '../html.js';
import { csrfField, page, redirect, when } from '../layout.js';
import { ofLimit, openLicense, pageNumber, pager, table, tabs, type Opened } from './common.js';
import { newestEvents, oldestEvent } from './event-scan.js';
import { reissueForm } from './reissue.js';

const state = (s: string) => html`<span class="state-${s}">${s}</span>`;

async function list(ctx: SignedIn): Promise<Response> {
  const q = (ctx.url.searchParams.get('q') ?? '').trim().slice(0, 200);
  const size = ctx.deps.pageSize;
  const n = pageNumber(ctx.url);
  const { entries, total } = await visibleLicensePage(ctx.deps.vendor.store, ctx.session.principal, { q, page: n, size, now: ctx.deps.vendor.now });
  const rows = entries.map((e) => [
    html`<a href="${portalPath('licenses', e.licenseId)}">${e.licenseId}</a>`,
    e.customer ?? '—',
    e.edition ?? '—',
    state(e.state),
    e.expiresAt === undefined ? 'never' : when(e.expiresAt),
    when(e.issuedAt),
  ]);
  const search = html`<form class="inline" method="get" action="/portal/licenses" role="search"><div><label for="q">Find a license (id or customer)</label><input id="q" name="q" type="search" value="${q}"></div><button type="submit" class="secondary">Search</button></form>`;
  return page({
    title: 'Licenses',
    session: ctx.session,
    body: html`${search}${table('Licenses; select one to manage it', ['License', 'Customer', 'Edition', 'State', 'Expires', 'Issued'], rows, q === '' ? 'No licenses yet.' : 'No license matches.')}${pager(ctx.url, n, total, size)}`,
  });
}

function facts(rows: readonly (readonly [string, unknown])[]): Html {
  return html`<dl class="facts">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v as string}</dd>`)}</dl>`;
}

async function details(ctx: SignedIn, [id]: readonly string[]): Promise<Response> {
  const o: Opened = await openLicense(ctx, id as string);
  const { entry, license: l } = o;
  const store = ctx.deps.vendor.store;
  const acts = l === undefined ? undefined : ctx.deps.vendor.activations(l, 'portal');
  const usage = acts === undefined ? undefined : await acts.usage();
  const devices = acts === undefined ? [] : visibleDevices(ctx.session.principal, await acts.devices());
  const lastValidation = devices.reduce<Date | undefined>((a, d) => (a === undefined || d.validatedAt > a ? d.validatedAt : a), undefined);
  const firstActivation = await oldestEvent(store, entry.licenseId, (e) => e.kind === 'device.activated');
  const history = await newestEvents(store, entry.licenseId, 20, (e) => /^(device|user)\./.test(e.kind) && !e.kind.startsWith('user.auth') && (ctx.session.principal.kind !== 'license-user' || e.details.user === ctx.session.principal.email));
  const status = o.unusable !== undefined ? html`<span class="state-revoked">${o.unusable.code === 'ERR_LICENSE_EXPIRED' ? 'expired' : 'not usable'}</span> <span class="muted">${o.unusable.message}</span>` : html`${l?.status ?? ''}${l?.report.warning === undefined ? null : html` <span class="muted">${l.report.warning}</span>`}`;
  const principal = ctx.session.principal;
  const stateForm =
    principal.kind !== 'vendor'
      ? null
      : html`<h2>Vendor actions</h2><form class="inline" method="post" action="${portalPath('licenses', entry.licenseId, 'state')}" data-confirm="Change the state of this license?">${csrfField(ctx.session)}
<div><label for="action">Action</label><select id="action" name="action"><option value="suspend">Suspend</option><option value="reinstate">Reinstate</option><option value="revoke">Revoke (final)</option></select></div>
<div><label for="reason">Reason (optional)</label><input id="reason" name="reason" type="text" maxlength="200"></div>
<button type="submit" class="danger">Apply</button></form>
${reissueForm(ctx, entry, l?.claims)}`;
  const body = html`${tabs(entry.licenseId, 'details', managesUsers(ctx.session.principal))}
<h2>Identity</h2>${facts([
    ['License id', html`<span class="mono">${entry.licenseId}</span>`],
    ['Customer', entry.customer ?? '—'],
    ['Type / edition', entry.edition ?? '—'],
    ['Features', entry.features.length === 0 ? '—' : entry.features.join(', ')],
    ['Seats', Object.keys(entry.seats).length === 0 ? '—' : Object.entries(entry.seats).map(([t, n]) => `${t}: ${n}`).join(', ')],
  ])}
<h2>Status</h2>${facts([
    ['State', html`${state(entry.state)}${entry.stateReason === undefined ? null : html` <span class="muted">(${entry.stateReason})</span>`}`],
    ['Validity', status],
    ['Last validation', when(lastValidation)],
  ])}
<h2>Lifecycle</h2>${facts([
    ['Recorded', when(entry.firstRecordedAt)],
    ['Current key issued', html`${when(entry.issuedAt)} by ${entry.issuedBy} (${entry.issues} ${entry.issues === 1 ? 'key' : 'keys'})`],
    ['First activation', when(firstActivation?.at)],
    ['Expires', entry.expiresAt === undefined ? 'never' : when(entry.expiresAt)],
    ['Grace period', l === undefined ? '—' : l.graceDays === 0 ? 'none' : html`${l.graceDays} days${l.report.graceEndsAt === undefined ? null : html`, until ${when(l.report.graceEndsAt)}`}`],
    ['Maintenance until', entry.maintenanceExpiresAt === undefined ? '—' : when(entry.maintenanceExpiresAt)],
  ])}
<h2>Activation rules</h2>${facts([
    ['Activations', usage === undefined ? '—' : ofLimit(usage.activations.inUse, usage.activations.licensed)],
    ['Activations per user', l?.maxUserActivations === undefined ? 'no limit' : String(l.maxUserActivations)],
    ['Transfers', usage === undefined ? '—' : ofLimit(usage.transfers.used, usage.transfers.licensed)],
    ['Device binding', l === undefined ? '—' : l.fingerprint !== undefined ? 'locked to one machine' : 'any machine'],
    ['Supplied machine ids', l === undefined ? '—' : l.allowSuppliedMachineId ? 'allowed' : 'not allowed'],
    ['User sign-in', l === undefined ? '—' : l.userAuth],
  ])}
<h2>User allocation</h2>${facts([['License users', usage === undefined ? '—' : ofLimit(usage.users.inUse, usage.users.licensed)]])}
<p><a href="${portalPath('licenses', entry.licenseId, 'users')}">Manage license users</a> · <a href="${portalPath('licenses', entry.licenseId, 'devices')}">Manage devices</a></p>
<h2>Activation history</h2>${table('The latest 20 device and user events, newest first', ['When', 'What', 'User', 'Device', 'By'], history.map((e) => [when(e.at), e.kind, String(e.details.user ?? '—'), String(e.details.device ?? e.details.from ?? '—'), e.actor]), 'Nothing yet.')}
${stateForm}`;
  return page({ title: `License ${entry.licenseId}`, session: ctx.session, body });
}

async function changeState(ctx: SignedIn, [id]: readonly string[]): Promise<Response> {
  requireVendor(ctx.session.principal);
  const o = await openLicense(ctx, id as string);
  const form = ctx.form as URLSearchParams;
  const action = field(form, 'action', 'The action');
  if (action !== 'suspend' && action !== 'revoke' && action !== 'reinstate') throw new LicenseError('ERR_USAGE', 'the action is suspend, revoke or reinstate', { field: 'action' });
  const reason = (form.get('reason') ?? '').trim().slice(0, 200);
  const e = await changeLicenseState(ctx.deps.vendor.store, o.entry.licenseId, action, { actor: 'portal:vendor', reason: reason === '' ? undefined : reason, now: ctx.deps.vendor.now() });
  ctx.session.flash = { kind: 'ok', text: `License ${e.licenseId} is ${e.state}.` };
  return redirect(portalPath('licenses', e.licenseId));
}

export const licenseRoutes: readonly PortalRoute[] = [
  { method: 'GET', path: /^\/portal\/licenses$/, access: 'session', handler: list },
  { method: 'GET', path: /^\/portal\/licenses\/([^/]+)$/, access: 'session', handler: details },
  { method: 'POST', path: /^\/portal\/licenses\/([^/]+)\/state$/, access: 'vendor', handler: changeState },
];
