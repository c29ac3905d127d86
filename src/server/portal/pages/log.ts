/**
 * A license's audit log, its hash chain verified first (`GET /v1/admin/log`: an edited or cut log
 * is `ERR_AUDIT_TAMPERED`, shown with the first bad entry), filtered by kind and period, newest
 * first, paged.
 */
import type { AuditEvent } from '../../../core/store/store.js';
import { LicenseError } from '../../../core/errors.js';
import { managesUsers, requireManager } from '../access.js';
import { adminGet } from '../admin-call.js';
import type { PortalRoute, SignedIn } from '../context.js';
import { html, portalPath } from '../html.js';
import { page, when } from '../layout.js';
import { openLicense, pageNumber, pager, table, tabs } from './common.js';

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
  const log = await adminGet(ctx.deps.vendor, '/v1/admin/log', { licenseId });
  const all = log.events as AuditEvent[];
  const kind = (ctx.url.searchParams.get('kind') ?? '').trim().slice(0, 64);
  const from = day(ctx.url, 'from', false);
  const to = day(ctx.url, 'to', true);
  const kinds = [...new Set(all.map((e) => e.kind))].sort();
  const shown = all.filter((e) => (kind === '' || e.kind === kind || e.kind.startsWith(`${kind}.`)) && (from === undefined || Date.parse(e.at) >= from) && (to === undefined || Date.parse(e.at) < to)).reverse();
  const size = ctx.deps.pageSize;
  const n = pageNumber(ctx.url);
  const rows = shown.slice((n - 1) * size, n * size).map((e) => [String(e.seq), when(e.at), e.kind, e.actor, html`<span class="mono">${JSON.stringify(e.details)}</span>`]);
  const opt = (v: string, label: string) => html`<option value="${v}"${kind === v ? html` selected` : null}>${label}</option>`;
  const groups = [...new Set(kinds.map((k) => k.split('.')[0] as string))];
  const form = html`<form class="inline" method="get" action="${portalPath('licenses', licenseId, 'log')}">
<div><label for="kind">Kind</label><select id="kind" name="kind">${opt('', 'All')}${groups.map((g) => opt(g, `${g}.*`))}${kinds.map((k) => opt(k, k))}</select></div>
<div><label for="from">From</label><input id="from" name="from" type="date" value="${ctx.url.searchParams.get('from') ?? ''}"></div>
<div><label for="to">To</label><input id="to" name="to" type="date" value="${ctx.url.searchParams.get('to') ?? ''}"></div>
<button type="submit" class="secondary">Filter</button></form>`;
  const head = log.head as { seq?: number; hash?: string } | null;
  return page({
    title: `Log of ${licenseId}`,
    session: ctx.session,
    body: html`${tabs(licenseId, 'log', managesUsers(ctx.session.principal))}<p class="notice ok">The hash chain of all ${all.length} events was verified${head?.hash === undefined ? '' : html`; its head is <code>${head.hash}</code>`}.</p>${form}
${table('Audit events, newest first (times in your time zone)', ['#', 'When', 'Kind', 'By', 'Details'], rows, 'No event matches.')}${pager(ctx.url, n, shown.length, size)}`,
  });
}

export const logRoutes: readonly PortalRoute[] = [{ method: 'GET', path: /^\/portal\/licenses\/([^/]+)\/log$/, access: 'session', handler: show }];
