/**
 * A license's devices: each activation with its user, when it was activated and last validated,
 * its details and history, and Reset for a machine that is out of reach. Reset is
 * `Activations.resetDevice`, counted as a transfer, exactly as `licit devices reset` and
 * `POST /v1/admin/devices/reset` do. A license user sees and resets only its own devices.
 */
import { LicenseError } from '../../../core/errors.js';
import { actorOf, managesUsers, visibleDevices } from '../access.js';
import type { PortalRoute, SignedIn } from '../context.js';
import { field } from '../forms.js';
import { html, portalPath } from '../html.js';
import { csrfField, page, redirect, when } from '../layout.js';
import { openLicense, pageNumber, pager, table, tabs, usable } from './common.js';

async function list(ctx: SignedIn, [id]: readonly string[]): Promise<Response> {
  const o = await openLicense(ctx, id as string);
  const l = usable(o);
  const devices = visibleDevices(ctx.session.principal, await ctx.deps.vendor.activations(l, 'portal').devices());
  const size = ctx.deps.pageSize;
  const n = pageNumber(ctx.url);
  const rows = devices.slice((n - 1) * size, n * size).map((d) => [
    html`<a href="${portalPath('licenses', l.id, 'devices', d.deviceId)}"><span class="mono">${d.label ?? d.deviceId}</span></a>`,
    d.userId,
    when(d.activatedAt),
    when(d.validatedAt),
    html`<form class="inline" method="post" action="${portalPath('licenses', l.id, 'devices', 'reset')}" data-confirm="Reset this device? It must activate again to be used.">${csrfField(ctx.session)}<input type="hidden" name="deviceId" value="${d.deviceId}"><button type="submit" class="danger" aria-label="Reset device ${d.label ?? d.deviceId}">Reset</button></form>`,
  ]);
  return page({
    title: `Devices of ${l.id}`,
    session: ctx.session,
    body: html`${tabs(l.id, 'devices', managesUsers(ctx.session.principal))}<p>Reset a device you cannot reach any more (lost, broken, replaced) to free its activation for a new machine. A reset counts as one transfer.</p>
${table('Activated devices', ['Device', 'User', 'Activated', 'Last validated', 'Actions'], rows, 'No device is activated.')}${pager(ctx.url, n, devices.length, size)}`,
  });
}

async function detail(ctx: SignedIn, [id, deviceId]: readonly string[]): Promise<Response> {
  const o = await openLicense(ctx, id as string);
  const l = usable(o);
  const acts = ctx.deps.vendor.activations(l, 'portal');
  const mine = visibleDevices(ctx.session.principal, await acts.devices()).filter((d) => d.deviceId === deviceId);
  if (mine.length === 0) throw new LicenseError('ERR_ACTIVATION_NOT_FOUND', `license ${l.id} has no device ${String(deviceId)} you can see`, { deviceId });
  const history = await acts.history(deviceId as string);
  const shown = ctx.session.principal.kind === 'license-user' ? history.filter((e) => e.details.user === undefined || e.details.user === (ctx.session.principal as { email: string }).email) : history;
  const d = mine[0] as (typeof mine)[number];
  return page({
    title: `Device ${d.label ?? d.deviceId}`,
    session: ctx.session,
    body: html`${tabs(l.id, 'devices', managesUsers(ctx.session.principal))}<dl class="facts"><dt>Device id</dt><dd class="mono">${d.deviceId}</dd><dt>Name</dt><dd>${d.label ?? '—'}</dd>
<dt>Users</dt><dd>${mine.map((m) => m.userId).join(', ')}</dd><dt>Activated</dt><dd>${when(d.activatedAt)}</dd><dt>Last validated</dt><dd>${when(d.validatedAt)}</dd></dl>
<h2>Reported details</h2>${table('What the installation reported', ['Field', 'Value'], Object.entries(d.info).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]), 'Nothing reported.')}
<h2>History</h2>${table('Every event that names this device, oldest first', ['When', 'What', 'By'], shown.map((e) => [when(e.at), e.kind, e.actor]), 'Nothing yet.')}
<h2>Name</h2><form class="inline" method="post" action="${portalPath('licenses', l.id, 'devices', 'rename')}">${csrfField(ctx.session)}<input type="hidden" name="deviceId" value="${d.deviceId}"><div><label for="label">Name of this device (empty: none)</label><input id="label" name="label" type="text" maxlength="100" value="${d.label ?? ''}"></div><button type="submit" class="secondary">Save name</button></form>
<h2>Reset</h2><form class="inline" method="post" action="${portalPath('licenses', l.id, 'devices', 'reset')}" data-confirm="Reset this device?">${csrfField(ctx.session)}<input type="hidden" name="deviceId" value="${d.deviceId}"><button type="submit" class="danger">Reset this device</button></form>`,
  });
}

/** The license and a device of it the person may change: every one, or a license user's own alone. */
async function ownDevice(ctx: SignedIn, licenseId: string) {
  const l = usable(await openLicense(ctx, licenseId));
  const deviceId = field(ctx.form as URLSearchParams, 'deviceId', 'The device', 256);
  const acts = ctx.deps.vendor.activations(l, 'portal');
  const all = (await acts.devices()).filter((d) => d.deviceId === deviceId);
  const mine = visibleDevices(ctx.session.principal, all);
  // A license user changes only a device that is its own alone (a reset frees every user's activation on it).
  if (mine.length === 0 || mine.length !== all.length) throw new LicenseError('ERR_ACTIVATION_NOT_FOUND', `device "${deviceId}" is not activated on this license for you`, { deviceId });
  return { l, deviceId, acts };
}

async function rename(ctx: SignedIn, [id]: readonly string[]): Promise<Response> {
  const { l, deviceId, acts } = await ownDevice(ctx, id as string);
  const label = ((ctx.form as URLSearchParams).get('label') ?? '').trim();
  await acts.rename(deviceId, label, { actor: actorOf(ctx.session.principal) });
  ctx.session.flash = { kind: 'ok', text: label === '' ? `Device ${deviceId} has no name now.` : `Device ${deviceId} is named ${label}.` };
  return redirect(portalPath('licenses', l.id, 'devices', deviceId));
}

async function reset(ctx: SignedIn, [id]: readonly string[]): Promise<Response> {
  const { l, deviceId, acts } = await ownDevice(ctx, id as string);
  const users = await acts.resetDevice(deviceId, { countTransfer: true, actor: actorOf(ctx.session.principal) });
  ctx.session.flash = { kind: 'ok', text: `Device ${deviceId} was reset (${users.length} activation${users.length === 1 ? '' : 's'} freed).` };
  return redirect(portalPath('licenses', l.id, 'devices'));
}

export const deviceRoutes: readonly PortalRoute[] = [
  { method: 'GET', path: /^\/portal\/licenses\/([^/]+)\/devices$/, access: 'session', handler: list },
  { method: 'POST', path: /^\/portal\/licenses\/([^/]+)\/devices\/reset$/, access: 'session', handler: reset },
  { method: 'POST', path: /^\/portal\/licenses\/([^/]+)\/devices\/rename$/, access: 'session', handler: rename },
  { method: 'GET', path: /^\/portal\/licenses\/([^/]+)\/devices\/([^/]+)$/, access: 'session', handler: detail },
];
