/**
 * A license's Settings page (the Licence Manager's "My Licences" → settings per SKU): for each
 * seat type and for credits, a notification threshold and an automatic top-up, beside the
 * figures they watch. Saved by `changeSettings`, the call `POST /v1/admin/settings` makes, so the
 * same values are refused the same way (`ERR_SETTINGS_INVALID`). The vendor and the company's
 * administrators change them; the server acts on them after every change of seats or credits.
 */
import { AlertMonitor } from '../../../core/admin/alerts.js';
import { settingsRules, type FigureSettings } from '../../../core/admin/license-settings.js';
import { readSettings } from '../../../core/admin/settings-record.js';
import { LicenseError } from '../../../core/errors.js';
import type { License } from '../../../core/license/license.js';
import { SeatManager } from '../../../core/seats/index.js';
import { creditBalance, creditFigures } from '../../credit-figures.js';
import { changeSettings, settingsScope } from '../../settings-routes.js';
import { actorOf, requireManager } from '../access.js';
import type { PortalRoute, SignedIn } from '../context.js';
import { html, portalPath, type Html } from '../html.js';
import { csrfField, page, redirect, when } from '../layout.js';
import { openLicense, tabs, usable } from './common.js';

/** One figure on the page: `credits` or a seat type, with what it stands at now. */
interface Figure {
  readonly name: string;
  readonly legend: string;
  readonly now: string;
  /** "vacant seats" or "credits left". */
  readonly left: string;
  readonly unit: 'seats' | 'credits';
}

async function figures(ctx: SignedIn, l: License): Promise<Figure[]> {
  const out: Figure[] = [];
  const scope = settingsScope(l);
  if (scope.credits) {
    const b = creditBalance(await creditFigures(ctx.deps.vendor.store, l));
    out.push({ name: 'credits', legend: 'Credits', now: b === undefined ? '' : `${b.remaining} of ${b.allowance} left`, left: 'credits left', unit: 'credits' });
  }
  const usage = await new SeatManager(ctx.deps.vendor.store, l, { now: ctx.deps.vendor.now, actor: 'portal' }).usage();
  for (const type of scope.seatTypes) {
    const u = usage.find((x) => x.type === type);
    out.push({ name: type, legend: `Seats of type ${type}`, now: u === undefined ? '' : `${u.licensed} licensed, ${u.inUse} in use, ${u.available} vacant`, left: 'vacant seats', unit: 'seats' });
  }
  return out;
}

function fieldset(f: Figure, i: number, s: FigureSettings | undefined, raised: boolean): Html {
  const mode = s?.notify?.remainingAtMost !== undefined ? 'remaining' : s?.notify?.usedPercentAtLeast !== undefined ? 'percent' : '';
  const value = s?.notify?.remainingAtMost ?? s?.notify?.usedPercentAtLeast ?? '';
  const opt = (v: string, label: string) => html`<option value="${v}"${mode === v ? html` selected` : null}>${label}</option>`;
  const topUp = html`<div><label for="t${i}-at">Add automatically when ${f.left} are at most</label><input id="t${i}-at" name="t${i}.at" type="number" min="0" inputmode="numeric" value="${s?.topUp?.remainingAtMost ?? ''}"></div>
<div><label for="t${i}-add">${f.unit === 'credits' ? 'Credits' : 'Seats'} to add each time</label><input id="t${i}-add" name="t${i}.add" type="number" min="1" inputmode="numeric" value="${s?.topUp?.add ?? ''}"></div>`;
  return html`<fieldset><legend>${f.legend}</legend><input type="hidden" name="f${i}" value="${f.name}">
<p class="muted">Now: ${f.now}${raised ? html` · <strong>notification threshold crossed</strong>` : null}</p>
<div class="fields"><div><label for="n${i}-mode">Notify when</label><select id="n${i}-mode" name="n${i}.mode">${opt('', 'never')}${opt('remaining', `${f.left} are at most`)}${opt('percent', 'percent used is at least')}</select></div>
<div><label for="n${i}-value">Threshold</label><input id="n${i}-value" name="n${i}.value" type="number" min="0" step="any" inputmode="decimal" value="${value}"></div>
${topUp}</div></fieldset>`;
}

async function show(ctx: SignedIn, [id]: readonly string[]): Promise<Response> {
  requireManager(ctx.session.principal, 'change alert settings');
  const l = usable(await openLicense(ctx, id as string));
  const stored = await readSettings(ctx.deps.vendor.store, l.id);
  const list = await figures(ctx, l);
  // Which notification rules are raised now (the monitor's stored state), to show beside their figure.
  const raised = new Set<string>();
  if (stored !== undefined) {
    const { rules, purposes } = settingsRules(stored.settings, stored.stamps);
    const state = await new AlertMonitor(ctx.deps.vendor.store, l.id, { rules }).state();
    for (const [rule, st] of Object.entries(state.rules)) if (st.raised && purposes.get(rule)?.purpose === 'notify') raised.add(purposes.get(rule)?.figure as string);
  }
  const at = (name: string) => (name === 'credits' ? stored?.settings.credits : Object.hasOwn(stored?.settings.seats ?? {}, name) ? stored?.settings.seats[name] : undefined);
  const body =
    list.length === 0
      ? html`<p class="muted">This license has no seat types and sells no credits, so there is nothing to watch.</p>`
      : html`<form class="settings" method="post" action="${portalPath('licenses', l.id, 'settings')}">${csrfField(ctx.session)}
${list.map((f, i) => fieldset(f, i, at(f.name), raised.has(f.name)))}
<div><button type="submit">Save changes</button></div></form>`;
  return page({
    title: `Settings of ${l.id}`,
    session: ctx.session,
    body: html`${tabs(l.id, 'settings')}<p>The server checks these after every change of seats in use or credits. Crossing a notification threshold tells the addresses on the <a href="${portalPath('licenses', l.id, 'notifications')}">Notifications</a> page once, and again only after the figure has recovered. An automatic top-up adds when the figure falls to its threshold (seats by re-issuing the license key); installations receive the credits or the new key with their next renewal. Leave a field empty to turn it off.</p>
${body}<p class="muted">${stored === undefined ? 'Never changed.' : html`Last changed ${when(stored.updatedAt)} by ${stored.updatedBy}.`}</p>`,
  });
}

/** A number field as JSON (empty: undefined); anything else that is not a number is refused here. */
function num(form: URLSearchParams, name: string, field: string): number | undefined {
  const v = (form.get(name) ?? '').trim();
  if (v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new LicenseError('ERR_SETTINGS_INVALID', `${JSON.stringify(v.slice(0, 40))} is not a number; enter a number or leave the field empty`, { field });
  return n;
}

async function save(ctx: SignedIn, [id]: readonly string[]): Promise<Response> {
  requireManager(ctx.session.principal, 'change alert settings');
  const l = usable(await openLicense(ctx, id as string));
  const form = ctx.form as URLSearchParams;
  const seats: Record<string, unknown> = {};
  let credits: unknown = null;
  for (let i = 0; form.has(`f${i}`) && i < 1000; i++) {
    const name = form.get(`f${i}`) as string;
    const where = name === 'credits' ? 'credits' : `seats.${name}`;
    const mode = form.get(`n${i}.mode`) ?? '';
    const value = num(form, `n${i}.value`, `${where}.notify`);
    let notify: unknown;
    if (mode === 'remaining' || mode === 'percent') {
      if (value === undefined) throw new LicenseError('ERR_SETTINGS_INVALID', `enter the threshold for ${name === 'credits' ? 'credits' : `seats of type ${name}`}, or choose "never"`, { field: `${where}.notify` });
      notify = mode === 'remaining' ? { remainingAtMost: value } : { usedPercentAtLeast: value };
    }
    const atLeft = num(form, `t${i}.at`, `${where}.topUp.remainingAtMost`);
    const add = num(form, `t${i}.add`, `${where}.topUp.add`);
    // Both empty: no top-up; one of them: the validator says which is missing.
    const topUp = atLeft === undefined && add === undefined ? undefined : { ...(atLeft === undefined ? {} : { remainingAtMost: atLeft }), ...(add === undefined ? {} : { add }) };
    const f = { ...(notify === undefined ? {} : { notify }), ...(topUp === undefined ? {} : { topUp }) };
    if (name === 'credits') credits = f;
    else Object.defineProperty(seats, name, { value: f, enumerable: true, writable: true, configurable: true });
  }
  const r = await changeSettings(ctx.deps.vendor, l, { seats, credits }, actorOf(ctx.session.principal));
  ctx.session.flash = { kind: 'ok', text: r.changed.length === 0 ? 'Nothing was changed.' : 'The settings were saved; the server acts on them from now on.' };
  return redirect(portalPath('licenses', l.id, 'settings'));
}

export const settingsRoutes: readonly PortalRoute[] = [
  { method: 'GET', path: /^\/portal\/licenses\/([^/]+)\/settings$/, access: 'session', handler: show },
  { method: 'POST', path: /^\/portal\/licenses\/([^/]+)\/settings$/, access: 'session', handler: save },
];
