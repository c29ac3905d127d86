/**
 * A usage report as one self-contained HTML page: inline CSS and inline SVG charts, no script and
 * nothing fetched from anywhere (a Content-Security-Policy of `default-src 'none'` says so to the
 * browser), so it can be mailed, archived or opened offline and looks the same.
 */
import { writeFile } from 'node:fs/promises';
import type { UsageReport } from '../../core/admin/report.js';
import { utilisationPath } from '../../core/admin/chart-path.js';

/** Options of {@link renderReportHtml}. */
export interface ReportHtmlOptions {
  /** Page title (default `License <id> — usage report`). */
  readonly title?: string;
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
const pct = (v: number | null): string => (v === null ? '–' : `${(v * 100).toFixed(1)} %`);
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];
const W = 760;
const H = 240;
const PAD = { l: 48, r: 16, t: 16, b: 40 };

/** Short bucket label: hour for day ranges, date otherwise. */
function label(iso: string, unit: string): string {
  return unit === 'hour' ? iso.slice(11, 16) : unit === 'month' ? iso.slice(0, 7) : iso.slice(5, 10);
}

/** X axis labels, at most ~12 of them. */
function xAxis(r: UsageReport, x: (i: number) => number): string {
  const n = r.series.length;
  const every = Math.max(1, Math.ceil(n / 12));
  let out = '';
  for (let i = 0; i < n; i += every) out += `<text x="${x(i).toFixed(1)}" y="${H - PAD.b + 16}" text-anchor="middle">${esc(label((r.series[i] as { from: string }).from, r.range.unit))}</text>`;
  return out;
}

/** Utilisation per seat type over the range, one line each (0–100 %). */
function utilisationChart(r: UsageReport): string {
  const n = r.series.length;
  const types = r.seats.map((s) => s.type);
  const x = (i: number) => PAD.l + ((i + 0.5) * (W - PAD.l - PAD.r)) / Math.max(1, n);
  const y = (v: number) => H - PAD.b - v * (H - PAD.t - PAD.b);
  let grid = '';
  for (const v of [0, 0.25, 0.5, 0.75, 1]) grid += `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(v)}" y2="${y(v)}" class="grid"/><text x="${PAD.l - 6}" y="${y(v) + 4}" text-anchor="end">${v * 100} %</text>`;
  let lines = '';
  // Seat types solid, then activations and users dashed, in the colours that follow.
  const rows: { name: string; dashed: boolean; at: (b: UsageReport['series'][number]) => number | null | undefined }[] = [
    ...types.map((t) => ({ name: t, dashed: false, at: (b: UsageReport['series'][number]) => b.utilisation[t] })),
    ...r.limits.map((l) => ({ name: l.type, dashed: true, at: (b: UsageReport['series'][number]) => b.limitUtilisation[l.type] })),
  ];
  rows.forEach((row, k) => {
    const color = COLORS[k % COLORS.length] as string;
    const d = utilisationPath(r.series.map(row.at), x, y);
    if (d !== '') lines += `<path d="${d}" fill="none" stroke="${color}" stroke-width="2.5"${row.dashed ? ' stroke-dasharray="6 4"' : ''}/>`;
  });
  const legend = rows.map((row, k) => `<span><i style="background:${COLORS[k % COLORS.length]}"></i>${esc(row.name)}</span>`).join('');
  return `<figure><figcaption>Utilisation over time</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="Seat utilisation over time">${grid}${lines}${xAxis(r, x)}</svg><div class="legend">${legend}</div></figure>`;
}

/** Credits consumed per bucket, as bars. */
function creditsChart(r: UsageReport): string {
  const n = r.series.length;
  const max = Math.max(1, ...r.series.map((b) => b.creditsConsumed));
  const bw = (W - PAD.l - PAD.r) / Math.max(1, n);
  const x = (i: number) => PAD.l + (i + 0.5) * bw;
  const y = (v: number) => H - PAD.b - (v / max) * (H - PAD.t - PAD.b);
  let grid = '';
  for (const f of [0, 0.5, 1]) grid += `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(max * f)}" y2="${y(max * f)}" class="grid"/><text x="${PAD.l - 6}" y="${y(max * f) + 4}" text-anchor="end">${Math.round(max * f)}</text>`;
  let bars = '';
  r.series.forEach((b, i) => {
    if (b.creditsConsumed <= 0) return;
    bars += `<rect x="${(PAD.l + i * bw + bw * 0.15).toFixed(1)}" y="${y(b.creditsConsumed).toFixed(1)}" width="${(bw * 0.7).toFixed(1)}" height="${(H - PAD.b - y(b.creditsConsumed)).toFixed(1)}" fill="#0891b2"><title>${esc(b.from)}: ${b.creditsConsumed}</title></rect>`;
  });
  return `<figure><figcaption>Credits consumed</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="Credits consumed">${grid}${bars}${xAxis(r, x)}</svg></figure>`;
}

/**
 * The page for one report.
 *
 * @example
 * ```ts
 * const html = renderReportHtml(await computeReport(store, 'lic-1', 'month'))
 * ```
 */
export function renderReportHtml(report: UsageReport, options: ReportHtmlOptions = {}): string {
  const r = report;
  const title = options.title ?? `License ${r.licenseId} — usage report`;
  const card = (name: string, value: string, note = '') => `<div class="card"><div class="v">${esc(value)}</div><div class="n">${esc(name)}</div>${note === '' ? '' : `<div class="s">${esc(note)}</div>`}</div>`;
  const rows = r.seats
    .map((s) => `<tr><td>${esc(s.type)}</td><td>${s.licensed}</td><td>${s.inUse}</td><td>${s.available}</td><td>${pct(s.averageUtilisation)}</td><td>${s.peakInUse}</td><td>${s.topUps}</td><td>${s.licensesAdded}</td></tr>`)
    .join('');
  const limitRows = r.limits
    .map((l) => `<tr><td>${esc(l.type)}</td><td>${l.licensed ?? '–'}</td><td>${l.inUse}</td><td>${l.available ?? '–'}</td><td>${pct(l.averageUtilisation)}</td><td>${l.peakInUse}</td><td>–</td><td>–</td></tr>`)
    .join('');
  // The seat totals are the headline unless the license only limits activations or users.
  const seatCards = r.seats.length > 0 || r.limits.length === 0;
  const limitCards = r.limits
    .map((l) => card(l.type === 'users' ? 'Available license users' : 'Available activations', l.available === null ? '–' : String(l.available), l.licensed === null ? `${l.inUse} in use, no limit known` : `of ${l.licensed} licensed, ${pct(l.averageUtilisation)} used`))
    .join('\n');
  const months = r.monthly
    .map((m) => `<tr><td>${esc(m.month)}</td><td>${m.licensesAdded}</td><td>${esc(Object.entries(m.byType).map(([t, n]) => `${t} +${n}`).join(', ') || '–')}</td><td>${m.seatTopUps}</td><td>${m.creditTopUps}</td><td>${m.creditsAdded}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#111827;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}.muted{color:#6b7280}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}.card{border:1px solid #e5e7eb;border-radius:8px;padding:12px 16px;min-width:140px;background:#f9fafb}
.card .v{font-size:24px;font-weight:600}.card .n{color:#374151}.card .s{color:#6b7280;font-size:12px}
table{border-collapse:collapse}td,th{border-bottom:1px solid #e5e7eb;padding:6px 12px;text-align:right}td:first-child,th:first-child{text-align:left}
figure{margin:16px 0}figcaption{font-weight:600;margin-bottom:4px}svg{max-width:100%;height:auto;font-size:11px;fill:#374151}.grid{stroke:#e5e7eb}
.legend span{margin-right:16px}.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px;border-radius:2px}
</style></head><body>
<h1>${esc(title)}</h1>
<div class="muted">${esc(r.range.kind)} ${esc(r.range.from)} – ${esc(r.range.to)}${r.range.until !== r.range.to ? ` (up to ${esc(r.range.until)})` : ''} · generated ${esc(r.generatedAt)}</div>
<div class="cards">
${seatCards ? `${card('Available licenses', String(r.totals.available), `of ${r.totals.licensed} licensed`)}\n${card('Average utilisation', pct(r.totals.averageUtilisation))}` : ''}
${limitCards}
${card('Top-ups', String(r.topUps.total), `${r.topUps.seats} of seats, ${r.topUps.credits} of credits; ${r.topUps.automatic} automatic`)}
${card('Licenses added', String(r.licensesAdded))}
${card('Credits consumed', String(r.credits.consumed), `${r.credits.added} added`)}
${card('Alerts raised', String(r.alertsRaised))}
</div>
${utilisationChart(r)}
${creditsChart(r)}
<h2>Seats per type, activations and users</h2>
<table><thead><tr><th>Type</th><th>Licensed</th><th>In use</th><th>Available</th><th>Avg. utilisation</th><th>Peak</th><th>Top-ups</th><th>Added</th></tr></thead><tbody>${rows + limitRows || '<tr><td colspan="8">No seat types, activations or users.</td></tr>'}</tbody></table>
<h2>End-of-month additions</h2>
<table><thead><tr><th>Month</th><th>Licenses added</th><th>By type</th><th>Seat top-ups</th><th>Credit top-ups</th><th>Credits added</th></tr></thead><tbody>${months}</tbody></table>
</body></html>
`;
}

/** Write {@link renderReportHtml}'s page to `path` (mode 0644). */
export async function writeReportHtml(path: string, report: UsageReport, options: ReportHtmlOptions = {}): Promise<void> {
  await writeFile(path, renderReportHtml(report, options), { encoding: 'utf8', mode: 0o644 });
}
