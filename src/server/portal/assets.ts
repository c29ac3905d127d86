/**
 * The portal's two static files, compiled into the package with the rest of the server (no build
 * step of their own, no CDN): the style sheet and one small script. Pages link them by a URL that
 * carries their hash, so a new release is never mixed with a cached old file. Nothing inline: the
 * Content-Security-Policy allows scripts and styles from the server itself only.
 */
import { createHash } from 'node:crypto';

const CSS = `
:root { --fg: #1a1a1a; --muted: #4a4a4a; --bg: #ffffff; --panel: #f4f5f7; --line: #c9ccd1; --accent: #0b57d0; --accent-fg: #ffffff; --danger: #a50e0e; --ok: #146c2e; --warn: #7a4d00; }
* { box-sizing: border-box; }
html { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
body { margin: 0; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--bg); padding: .5rem; }
.skip:focus { left: .5rem; z-index: 10; }
header.top { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; padding: .75rem 1rem; background: #12263f; color: #fff; }
header.top a { color: #fff; }
header.top .brand { font-weight: 700; margin-right: auto; }
header.top nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; margin: 0; padding: 0; }
header.top form { margin: 0; }
header.top button { background: transparent; color: #fff; border: 1px solid #fff; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.25rem; margin: 1.5rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--panel); }
.table-wrap { overflow-x: auto; }
dl.facts { display: grid; grid-template-columns: minmax(10rem, max-content) 1fr; gap: .25rem 1rem; margin: 0; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
form.stack { display: grid; gap: .75rem; max-width: 28rem; }
form.inline { display: inline-flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin: 0; }
label { display: block; font-weight: 600; }
input, select, button { font: inherit; }
input[type=text], input[type=email], input[type=password], input[type=number], input[type=search], select { display: block; width: 100%; padding: .5rem; border: 1px solid #6b6f76; border-radius: 4px; background: #fff; color: var(--fg); min-height: 2.75rem; }
form.inline input, form.inline select { width: auto; }
button, .button { display: inline-block; padding: .5rem 1rem; min-height: 2.75rem; border: 1px solid var(--accent); border-radius: 4px; background: var(--accent); color: var(--accent-fg); cursor: pointer; text-decoration: none; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--danger); border-color: var(--danger); color: #fff; }
.notice { padding: .75rem 1rem; border-left: 4px solid var(--accent); background: var(--panel); margin: 1rem 0; }
.notice.error { border-color: var(--danger); }
.notice.ok { border-color: var(--ok); }
.notice.warn { border-color: var(--warn); }
.state-active { color: var(--ok); font-weight: 600; }
.state-suspended { color: var(--warn); font-weight: 600; }
.state-revoked { color: var(--danger); font-weight: 600; }
.muted { color: var(--muted); }
.pager { display: flex; gap: 1rem; align-items: center; margin: 1rem 0; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; }
ul.actions { list-style: none; margin: 0 0 1rem; padding: 0; gap: .5rem 1.25rem; }
caption { text-align: left; padding: .25rem 0; }
details > summary { cursor: pointer; color: var(--accent); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; word-break: break-all; }
.secret { font-size: 1.25rem; padding: .5rem; background: var(--panel); border: 1px dashed var(--line); display: inline-block; }
.tiles { display: flex; flex-wrap: wrap; gap: .75rem; margin: 1rem 0; padding: 0; list-style: none; }
.tiles li { border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; min-width: 10rem; background: var(--panel); }
.tiles .v { display: block; font-size: 1.5rem; font-weight: 600; }
fieldset { border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; margin: 0 0 1rem; min-width: 0; }
legend { font-weight: 700; padding: 0 .25rem; }
form.settings .fields { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: .75rem 1rem; align-items: end; }
fieldset.checks { border: 0; padding: 0; margin: 0; }
fieldset.checks legend { padding: 0; font-weight: 600; }
fieldset.checks span { display: flex; gap: .5rem; align-items: center; margin: .25rem 0; }
fieldset.checks label { display: inline; font-weight: 400; }
input[type=checkbox] { width: 1.25rem; height: 1.25rem; margin: 0; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
figure { margin: 1rem 0; }
figcaption { font-weight: 600; }
svg { width: 100%; max-width: 760px; height: auto; font-size: 11px; fill: var(--muted); }
svg .grid { stroke: #d0d4da; }
svg .line { fill: none; stroke-width: 2.5; }
svg .dashed { stroke-dasharray: 6 4; }
svg .bar { fill: #0b6e8a; }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1rem; padding: 0; }
.swatch { display: inline-block; width: .9rem; height: .9rem; margin-right: .35rem; vertical-align: -.1rem; border-radius: 2px; }
.c0 { stroke: #1d4ed8; background: #1d4ed8; } .c1 { stroke: #b91c1c; background: #b91c1c; } .c2 { stroke: #15803d; background: #15803d; } .c3 { stroke: #7e22ce; background: #7e22ce; }
.c4 { stroke: #c2410c; background: #c2410c; } .c5 { stroke: #0e7490; background: #0e7490; } .c6 { stroke: #a16207; background: #a16207; } .c7 { stroke: #be185d; background: #be185d; }
@media (max-width: 40rem) {
  main { padding: .75rem; }
  table.cards thead { position: absolute; left: -9999px; }
  table.cards, table.cards tbody, table.cards tr, table.cards td { display: block; width: 100%; }
  table.cards tr { border: 1px solid var(--line); border-radius: 4px; margin-bottom: .75rem; padding: .25rem; }
  table.cards td { border: 0; padding: .25rem .5rem; }
  table.cards td::before { content: attr(data-label) ": "; font-weight: 600; }
  dl.facts { grid-template-columns: 1fr; }
  dl.facts dd { margin-bottom: .5rem; }
}
`;

// Shows each <time datetime> in the viewer's own time zone and asks before destructive actions.
// Without it (scripts off) pages still work: times read in UTC and forms submit at once.
const JS = `
'use strict';
(function () {
  var fmt;
  try { fmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }); } catch (e) { return; }
  var zone = '';
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch (e) {}
  document.querySelectorAll('time[datetime]').forEach(function (el) {
    var d = new Date(el.getAttribute('datetime'));
    if (isNaN(d.getTime())) return;
    el.setAttribute('title', el.getAttribute('datetime'));
    el.textContent = fmt.format(d) + (zone ? ' (' + zone + ')' : '');
  });
  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (ev) {
      if (!window.confirm(form.getAttribute('data-confirm'))) ev.preventDefault();
    });
  });
})();
`;

interface Asset {
  readonly body: string;
  readonly type: string;
  readonly hash: string;
}

const asset = (body: string, type: string): Asset => ({ body, type, hash: createHash('sha256').update(body).digest('base64url').slice(0, 16) });

/** The files, by name under /portal/static/. */
export const ASSETS: Readonly<Record<string, Asset>> = { 'portal.css': asset(CSS, 'text/css; charset=utf-8'), 'portal.js': asset(JS, 'text/javascript; charset=utf-8') };

/** The URL a page links `name` by: its hash in the query, so a cached older copy is never used. */
export function assetUrl(name: 'portal.css' | 'portal.js'): string {
  return `/portal/static/${name}?v=${(ASSETS[name] as Asset).hash}`;
}

/** The answer for GET /portal/static/NAME, or undefined when there is no such file. */
export function assetResponse(name: string): Response | undefined {
  const a = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (a === undefined) return undefined;
  return new Response(a.body, { status: 200, headers: { 'content-type': a.type, 'cache-control': 'public, max-age=86400, immutable', etag: `"${a.hash}"`, 'x-content-type-options': 'nosniff' } });
}
