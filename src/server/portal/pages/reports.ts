/**
 * A license's usage report: available, average utilisation, top-ups, licenses added, credits, by
 * day, week, month or custom dates in a chosen time zone, with charts (inline SVG made on the
 * server) and end-of-month additions, and the same report as CSV. The figures are what
 * `GET /v1/admin/reports` answers (admin-call.ts): one range parser, one report.
 */
import type { UsageReport } from '../../../core/admin/report-types.js';
import { managesUsers, requireManager } from '../access.js';
import { adminGet } from '../admin-call.js';
import { creditsChart, utilisationChart } from '../chart.js';
import type { PortalRoute, SignedIn } from '../context.js';
import { html, portalPath } from '../html.js';
import { page, securityHeaders, when } from '../layout.js';
import { openLicense, table, tabs } from './common.js';

const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)} %`);

/** The range fields of the query (as `GET /v1/admin/reports` reads them). */
function rangeParams(url: URL): Record<string, string | undefined> {
  const get = (k: string) => {
    const v = url.searchParams.get(k)?.trim();
    return v === undefined || v === '' ? undefined : v.slice(0, 100);
  };
  const range = get('range') ?? 'month';
  return { range, at: range === 'custom' ? undefined : get('at'), from: range === 'custom' ? get('from') : undefined, to: range === 'custom' ? get('to') : undefined, timeZone: get('timeZone') };
}

async function report(ctx: SignedIn, licenseId: string): Promise<{ report: UsageReport; params: Record<string, string | undefined> }> {
  requireManager(ctx.session.principal, 'see reports');
  const o = await openLicense(ctx, licenseId);
  const params = rangeParams(ctx.url);
  const r = await adminGet(ctx.deps.vendor, '/v1/admin/reports', { licenseId: o.entry.licenseId, ...params });
  return { report: r.report as UsageReport, params };
}

async function show(ctx: SignedIn, [id]: readonly string[]): Promise<Response> {
  const { report: r, params } = await report(ctx, id as string);
  const opt = (v: string, label: string) => html`<option value="${v}"${params.range === v ? html` selected` : null}>${label}</option>`;
  const form = html`<form class="inline" method="get" action="${portalPath('licenses', r.licenseId, 'report')}">
<div><label for="range">Period</label><select id="range" name="range">${opt('day', 'Day')}${opt('week', 'Week')}${opt('month', 'Month')}${opt('custom', 'Custom dates')}</select></div>
<div><label for="at">Day, week or month of (date)</label><input id="at" name="at" type="date" value="${params.at ?? ''}"></div>
<div><label for="from">From (custom)</label><input id="from" name="from" type="date" value="${params.from ?? ''}"></div>
<div><label for="to">To (custom)</label><input id="to" name="to" type="date" value="${params.to ?? ''}"></div>
<div><label for="timeZone">Time zone</label><input id="timeZone" name="timeZone" type="text" value="${params.timeZone ?? 'UTC'}" autocomplete="off"></div>
<button type="submit" class="secondary">Show</button></form>`;
  const csv = new URL(ctx.url);
  csv.pathname = portalPath('licenses', r.licenseId, 'report.csv');
  // Seat totals lead unless the license limits only activations or users (as licit report --html does).
  const seatTiles = r.seats.length > 0 || r.limits.length === 0 ? html`<li><span class="v">${r.totals.available}</span> available of ${r.totals.licensed} licensed seats</li>
<li><span class="v">${pct(r.totals.averageUtilisation)}</span> average utilisation</li>` : null;
  const cards = html`<ul class="tiles">
${seatTiles}
${r.limits.map((l) => html`<li><span class="v">${l.available ?? '—'}</span> ${l.type === 'users' ? 'license users' : 'activations'} available${l.licensed === null ? '' : ` of ${l.licensed}`}, ${pct(l.averageUtilisation)} used</li>`)}
<li><span class="v">${r.topUps.total}</span> top-ups (${r.topUps.seats} of seats, ${r.topUps.credits} of credits; ${r.topUps.automatic} automatic)</li>
<li><span class="v">${r.licensesAdded}</span> licenses added</li>
<li><span class="v">${r.credits.consumed}</span> credits consumed, ${r.credits.added} added</li>
</ul>`;
  const seats = table(
    'Seats per type, activations and license users',
    ['Type', 'Licensed', 'In use', 'Available', 'Average utilisation', 'Peak'],
    [...r.seats.map((s) => [s.type, String(s.licensed), String(s.inUse), String(s.available), pct(s.averageUtilisation), String(s.peakInUse)]), ...r.limits.map((l) => [l.type, String(l.licensed ?? '—'), String(l.inUse), String(l.available ?? '—'), pct(l.averageUtilisation), String(l.peakInUse)])],
    'Nothing licensed by seat, activation or user.',
  );
  const months = table('End-of-month additions', ['Month', 'Licenses added', 'By type', 'Seat top-ups', 'Credit top-ups', 'Credits added'], r.monthly.map((m) => [m.month, String(m.licensesAdded), Object.entries(m.byType).map(([t, n]) => `${t} +${n}`).join(', ') || '—', String(m.seatTopUps), String(m.creditTopUps), String(m.creditsAdded)]), 'No month in the range.');
  return page({
    title: `Report of ${r.licenseId}`,
    session: ctx.session,
    body: html`${tabs(r.licenseId, 'report', managesUsers(ctx.session.principal))}${form}
<p>${r.range.kind}: ${when(r.range.from)} to ${when(r.range.to)}${r.range.until === r.range.to ? null : html` (so far: until ${when(r.range.until)})`}. <a href="${csv.pathname}${csv.search}" download>Download as CSV</a></p>
${cards}${utilisationChart(r)}${creditsChart(r)}<h2>Seats, activations and users</h2>${seats}<h2>End-of-month additions</h2>${months}`,
  });
}

/** A CSV cell: quoted, and a leading = + - @ neutralised so a spreadsheet does not run it as a formula. */
function cell(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

async function csv(ctx: SignedIn, [id]: readonly string[]): Promise<Response> {
  const { report: r } = await report(ctx, id as string);
  const types = r.seats.map((s) => s.type);
  const limits = r.limits.map((l) => l.type);
  const head = ['from', 'to', ...types.flatMap((t) => [`${t} in use`, `${t} utilisation`]), ...limits.flatMap((l) => [`${l} in use`, `${l} utilisation`]), 'credits consumed', 'licenses added'];
  const rows = r.series.map((b) => [b.from, b.to, ...types.flatMap((t) => [b.inUse[t] ?? 0, b.utilisation[t] ?? '']), ...limits.flatMap((l) => [b.limitInUse[l] ?? 0, b.limitUtilisation[l] ?? '']), b.creditsConsumed, b.licensesAdded]);
  const text = [head, ...rows].map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
  const name = `${r.licenseId.replace(/[^A-Za-z0-9_.-]/g, '_')}-${r.range.kind}-${r.range.from.slice(0, 10)}.csv`;
  return new Response(text, { status: 200, headers: { ...securityHeaders(), 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}"` } });
}

export const reportRoutes: readonly PortalRoute[] = [
  { method: 'GET', path: /^\/portal\/licenses\/([^/]+)\/report$/, access: 'session', handler: show },
  { method: 'GET', path: /^\/portal\/licenses\/([^/]+)\/report\.csv$/, access: 'session', handler: csv },
];
