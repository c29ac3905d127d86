/**
 * A report's charts as inline SVG made on the server (no script): utilisation per seat type and
 * limit over the range as lines, credits consumed as bars. Colours come from classes in
 * portal.css (`c0`…`c7`), never a style attribute, so the page's CSP needs no `unsafe-inline`.
 * Each chart has a text alternative; the report's tables carry the same figures.
 */
import type { UsageReport } from '../../core/admin/report-types.js';
import { html, type Html } from './html.js';
import { utilisationPath } from '../../core/admin/chart-path.js';

const W = 760;
const H = 240;
const PAD = { l: 48, r: 16, t: 16, b: 40 };

function label(iso: string, unit: string): string {
  return unit === 'hour' ? iso.slice(11, 16) : unit === 'month' ? iso.slice(0, 7) : iso.slice(5, 10);
}

function xAxis(r: UsageReport, x: (i: number) => number): Html[] {
  const every = Math.max(1, Math.ceil(r.series.length / 12));
  const out: Html[] = [];
  for (let i = 0; i < r.series.length; i += every) out.push(html`<text x="${x(i).toFixed(1)}" y="${H - PAD.b + 16}" text-anchor="middle">${label((r.series[i] as { from: string }).from, r.range.unit)}</text>`);
  return out;
}

type Bucket = UsageReport['series'][number];

/** Utilisation over the range, one line per seat type (solid) and limit (dashed). */
export function utilisationChart(r: UsageReport): Html {
  const n = r.series.length;
  const x = (i: number) => PAD.l + ((i + 0.5) * (W - PAD.l - PAD.r)) / Math.max(1, n);
  const y = (v: number) => H - PAD.b - v * (H - PAD.t - PAD.b);
  const rows = [
    ...r.seats.map((s) => ({ name: s.type, dashed: false, at: (b: Bucket) => b.utilisation[s.type] })),
    ...r.limits.map((l) => ({ name: l.type === 'users' ? 'license users' : 'activations', dashed: true, at: (b: Bucket) => b.limitUtilisation[l.type] })),
  ];
  const grid = [0, 0.25, 0.5, 0.75, 1].map((v) => html`<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(v)}" y2="${y(v)}" class="grid"/><text x="${PAD.l - 6}" y="${y(v) + 4}" text-anchor="end">${v * 100} %</text>`);
  const lines = rows.map((row, k) => {
    const d = utilisationPath(r.series.map(row.at), x, y);
    return d === '' ? null : html`<path d="${d}" class="line c${k % 8}${row.dashed ? ' dashed' : ''}"/>`;
  });
  const legend = rows.map((row, k) => html`<li><span class="swatch c${k % 8}" aria-hidden="true"></span>${row.name}${row.dashed ? ' (limit)' : ''}</li>`);
  return html`<figure><figcaption>Utilisation over time</figcaption><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="Utilisation over time of ${rows.map((r) => r.name).join(', ') || 'nothing licensed'}">${grid}${lines}${xAxis(r, x)}</svg><ul class="legend">${legend}</ul></figure>`;
}

/** Credits consumed per bucket, as bars. */
export function creditsChart(r: UsageReport): Html {
  const n = r.series.length;
  const max = Math.max(1, ...r.series.map((b) => b.creditsConsumed));
  const bw = (W - PAD.l - PAD.r) / Math.max(1, n);
  const x = (i: number) => PAD.l + (i + 0.5) * bw;
  const y = (v: number) => H - PAD.b - (v / max) * (H - PAD.t - PAD.b);
  const grid = (max >= 2 ? [0, 0.5, 1] : [0, 1]).map((f) => html`<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(max * f)}" y2="${y(max * f)}" class="grid"/><text x="${PAD.l - 6}" y="${y(max * f) + 4}" text-anchor="end">${Math.round(max * f)}</text>`);
  const bars = r.series.map((b, i) =>
    b.creditsConsumed <= 0 ? null : html`<rect x="${(PAD.l + i * bw + bw * 0.15).toFixed(1)}" y="${y(b.creditsConsumed).toFixed(1)}" width="${(bw * 0.7).toFixed(1)}" height="${(H - PAD.b - y(b.creditsConsumed)).toFixed(1)}" class="bar"><title>${b.from}: ${b.creditsConsumed}</title></rect>`,
  );
  return html`<figure><figcaption>Credits consumed</figcaption><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="Credits consumed per ${r.range.unit}: ${r.credits.consumed} in all">${grid}${bars}${xAxis(r, x)}</svg></figure>`;
}
