/**
 * A license's audit log, newest first, filtered by kind and period, paged: a page reads back from
 * the newest event as far as it shows, and verifies the hash chain of what it read against the
 * head (event-page.ts; an edited or cut log is `ERR_AUDIT_TAMPERED`, shown with the first bad
 * entry). "Verify the whole log" (`?verify=all`) checks every event first, as `GET /v1/admin/log`
 * and `licit log` do.
 */
import { readVerifiedLog } from '../../../core/admin/audit-chain.js';
import { LicenseError } from '../../../core/errors.js';
import { EVENT_KINDS } from '../../../core/store/audit-event.js';
import { managesUsers, requireManager } from '../access.js';
import type { PortalRoute, SignedIn } from '../context.js';
import { html, portalPath } from '../html.js';
import { page, when } from '../layout.js';
import { openLicense, pageNumber, table, tabs } from './common.js';
import { eventPage, eventPager, verifiedNote } from './event-page.js';

function day(url: URL, name: string, end: boolean): number | undefined {
  const v = (url.searchParams.get(name) ?? '').trim();
  if (v === '') return undefined;
  if (!/^\d{4}-\d\d-\d\d$/.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`))) throw new LicenseError('ERR_USAGE', `"${name}" must be a date (YYYY-MM-DD)`, { field: name });
  return Date.parse(`${v}T00:00:00Z`) + (end ? 86_400_000 : 0);
}

async function show(ctx: SignedIn, [id]: readonly string[]): Promise<Response> {
  requireManager(ctx.session.principal, 'read the audit log');
  const o = await openLicense(ctx, id as string);
  const licenseId = o.entry.licenseId;
  const kind = (ctx.url.searchParams.get('kind') ?? '').trim().slice(0, 64);
  const from = day(ctx.url, 'from', false);
  const to = day(ctx.url, 'to', true);
  // ?verify=all: the whole chain first, as GET /v1/admin/log and licit log check it.
  const whole = ctx.url.searchParams.get('verify') === 'all' ? await readVerifiedLog(ctx.deps.vendor.store, licenseId) : undefined;
  const filtered = kind !== '' || from !== undefined || to !== undefined;
  const size = ctx.deps.pageSize;
  const n = pageNumber(ctx.url);
  const p = await eventPage(ctx.deps.vendor.store, licenseId, {
    page: n,
    size,
    match: filtered ? (e) => (kind === '' || e.kind === kind || e.kind.startsWith(`${kind}.`)) && (from === undefined || Date.parse(e.at) >= from) && (to === undefined || Date.parse(e.at) < to) : undefined,
  });
  const rows = p.events.map((e) => [String(e.seq), when(e.at), e.kind, e.actor, html`<span class="mono">${JSON.stringify(e.details)}</span>`]);
  const opt = (v: string, label: string) => html`<option value="${v}"${kind === v ? html` selected` : null}>${label}</option>`;
  const kinds = [...EVENT_KINDS].sort();
  const groups = [...new Set(kinds.map((k) => k.split('.')[0] as string))];
  const form = html`<form class="inline" method="get" action="${portalPath('licenses', licenseId, 'log')}">
<div><label for="kind">Kind</label><select id="kind" name="kind">${opt('', 'All')}${groups.map((g) => opt(g, `${g}.*`))}${kinds.map((k) => opt(k, k))}</select></div>
<div><label for="from">From</label><input id="from" name="from" type="date" value="${ctx.url.searchParams.get('from') ?? ''}"></div>
<div><label for="to">To</label><input id="to" name="to" type="date" value="${ctx.url.searchParams.get('to') ?? ''}"></div>
<button type="submit" class="secondary">Filter</button></form>`;
  const note = whole !== undefined ? html`<p class="notice ok">The hash chain of all ${whole.events.length} events was verified${whole.head.hash === '' ? '' : html`; its head is <code>${whole.head.hash}</code>`}.</p>` : html`${verifiedNote(p)}${p.tail.from <= 1 ? null : html`<p><a href="${portalPath('licenses', licenseId, 'log')}?verify=all">Verify the whole log</a></p>`}`;
  return page({
    title: `Log of ${licenseId}`,
    session: ctx.session,
    body: html`${tabs(licenseId, 'log', managesUsers(ctx.session.principal))}${note}${form}
${table('Audit events, newest first (times in your time zone)', ['#', 'When', 'Kind', 'By', 'Details'], rows, 'No event matches.')}${eventPager(ctx.url, n, size, p)}`,
  });
}

export const logRoutes: readonly PortalRoute[] = [{ method: 'GET', path: /^\/portal\/licenses\/([^/]+)\/log$/, access: 'session', handler: show }];
