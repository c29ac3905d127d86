/**
 * A license's users: assign one (with an initial password the user must change, shown once),
 * change its e-mail (its devices, seat, limit and password kept), set a new initial password, set its own device limit within the license's, reset its
 * activations, remove it. Each is the call `POST /v1/admin/users*` makes (`Activations`,
 * `LicenseUserCredentials`, `renameLicenseUser`), so limits and refusals are the same everywhere. Only the vendor and
 * the company's administrators manage users; a license user sees itself.
 */
import { normalizeUserId } from '../../../core/seats/user-id.js';
import { userNotFound } from '../../../core/seats/activation-records.js';
import { LicenseUserCredentials } from '../../auth/credentials.js';
import { acceptablePassword } from '../../auth/password.js';
import { renameLicenseUser } from '../../rename-user.js';
import { actorOf, managesUsers, requireManager } from '../access.js';
import { initialPassword } from '../companies.js';
import type { PortalRoute, SignedIn } from '../context.js';
import { field, wholeField } from '../forms.js';
import { html, portalPath, type Html } from '../html.js';
import { csrfField, page, redirect, when } from '../layout.js';
import { ofLimit, openLicense, pageNumber, pager, table, tabs, usable } from './common.js';

function credentials(ctx: SignedIn, licenseId: string): LicenseUserCredentials {
  const scrypt = ctx.deps.signIn.scrypt;
  return new LicenseUserCredentials(ctx.deps.vendor.store, licenseId, { now: ctx.deps.vendor.now, ...(scrypt === undefined ? {} : { scrypt }) });
}

function rowActions(ctx: SignedIn, licenseId: string, userId: string): Html {
  const post = (action: string, label: string, confirm: string, extra: Html = html``, cls = 'secondary') =>
    html`<form class="inline" method="post" action="${portalPath('licenses', licenseId, 'users', action)}" data-confirm="${confirm}">${csrfField(ctx.session)}<input type="hidden" name="userId" value="${userId}">${extra}<button type="submit" class="${cls}" aria-label="${label} for ${userId}">${label}</button></form>`;
  const limitId = `limit-${Buffer.from(userId).toString('hex').slice(0, 64)}`;
  const emailId = `email-${Buffer.from(userId).toString('hex').slice(0, 64)}`;
  return html`<div class="actions">${post(
    'rename',
    'Change e-mail',
    `Change the e-mail address of ${userId}? The user signs in with the new one; devices, seat and password stay.`,
    html`<label for="${emailId}">New e-mail</label><input id="${emailId}" name="newUserId" type="email" autocomplete="off" required>`,
  )}${post('password', 'New initial password', `Give ${userId} a new initial password?`)}${post('reset', 'Reset activations', `Deactivate every device of ${userId}?`)}${post(
    'limit',
    'Set device limit',
    `Change the device limit of ${userId}?`,
    html`<label for="${limitId}">Devices (empty: the license's)</label><input id="${limitId}" name="maxActivations" type="number" min="0" inputmode="numeric">`,
  )}${post('remove', 'Remove', `Remove ${userId} and deactivate its devices?`, html``, 'danger')}</div>`;
}

async function list(ctx: SignedIn, [id]: readonly string[]): Promise<Response> {
  const l = usable(await openLicense(ctx, id as string));
  const acts = ctx.deps.vendor.activations(l, 'portal');
  const p = ctx.session.principal;
  const users = (await acts.users()).filter((u) => p.kind !== 'license-user' || u.userId === p.email);
  const usage = await acts.usage();
  const creds = credentials(ctx, l.id);
  const size = ctx.deps.pageSize;
  const n = pageNumber(ctx.url);
  const shown = users.slice((n - 1) * size, n * size);
  const rows = [];
  for (const u of shown) {
    const row: (Html | string)[] = [u.userId, when(u.createdAt), ofLimit(u.activations, u.maxActivations), (await creds.hasPassword(u.userId)) ? 'set' : 'none'];
    if (managesUsers(p)) row.push(rowActions(ctx, l.id, u.userId));
    rows.push(row);
  }
  const assign = managesUsers(p)
    ? html`<h2>Assign a license user</h2><form class="stack" method="post" action="${portalPath('licenses', l.id, 'users')}">${csrfField(ctx.session)}
<div><label for="new-user">E-mail of the new user</label><input id="new-user" name="userId" type="email" autocomplete="off" required></div>
<div><label for="new-limit">Devices this user may activate (optional)</label><input id="new-limit" name="maxActivations" type="number" min="0" inputmode="numeric"></div>
<div><button type="submit">Assign license user</button></div></form>`
    : html`<p><a href="/portal/password">Change your password</a></p>`;
  const columns = ['User', 'Added', 'Devices', 'Password', ...(managesUsers(p) ? ['Actions'] : [])];
  return page({
    title: `License users of ${l.id}`,
    session: ctx.session,
    body: html`${tabs(l.id, 'users', managesUsers(ctx.session.principal))}<p>License users: ${ofLimit(usage.users.inUse, usage.users.licensed)}. Activations: ${ofLimit(usage.activations.inUse, usage.activations.licensed)}${l.maxUserActivations === undefined ? '' : `; each user at most ${l.maxUserActivations} unless set below`}.</p>
${table('License users', columns, rows, 'No license user yet.')}${pager(ctx.url, n, users.length, size)}${assign}`,
  });
}

type Act = (ctx: SignedIn, licenseId: string, userId: string) => Promise<{ text: string; secret?: string; endsSessions?: boolean }>;

/** A user action: the license opened for this person, a manager only, the user id from the form. */
function action(run: Act): (ctx: SignedIn, params: readonly string[]) => Promise<Response> {
  return async (ctx, [id]) => {
    requireManager(ctx.session.principal);
    const l = usable(await openLicense(ctx, id as string));
    const userId = field(ctx.form as URLSearchParams, 'userId', 'The user', 256);
    const r = await run(ctx, l.id, userId);
    // A new initial password, or a removed user: that user's portal sessions end.
    if (r.endsSessions === true) {
      const p = ctx.session.principal;
      ctx.deps.sessions.endAllOf(p.kind === 'vendor' ? undefined : p.company, normalizeUserId(userId));
    }
    ctx.session.flash = { kind: 'ok', text: r.text, ...(r.secret === undefined ? {} : { secret: r.secret }) };
    return redirect(portalPath('licenses', l.id, 'users'));
  };
}

const acts = async (ctx: SignedIn, licenseId: string) => ctx.deps.vendor.activations(usable(await openLicense(ctx, licenseId)), actorOf(ctx.session.principal));

const assign: Act = async (ctx, licenseId, userId) => {
  const own = wholeField(ctx.form as URLSearchParams, 'maxActivations', 'The device limit');
  const password = initialPassword();
  acceptablePassword(password);
  const a = await acts(ctx, licenseId);
  let user = await a.addUser(userId, own === undefined ? {} : { maxActivations: own });
  if (own !== undefined && user.maxActivations !== own) user = await a.setUserLimit(user.userId, own);
  await credentials(ctx, licenseId).setPassword(user.userId, password, { mustChange: true, actor: actorOf(ctx.session.principal) });
  return { text: `${user.userId} is a license user of ${licenseId}.`, secret: password };
};

const newPassword: Act = async (ctx, licenseId, userId) => {
  const password = initialPassword();
  const id = normalizeUserId(userId);
  if (!(await (await acts(ctx, licenseId)).users()).some((u) => u.userId === id)) throw userNotFound(id);
  await credentials(ctx, licenseId).setPassword(id, password, { mustChange: true, actor: actorOf(ctx.session.principal) });
  return { text: `${id} has a new initial password.`, secret: password, endsSessions: true };
};

const resetUser: Act = async (ctx, licenseId, userId) => {
  const devices = await (await acts(ctx, licenseId)).resetUser(userId);
  return { text: `${devices.length} device${devices.length === 1 ? '' : 's'} of ${userId} deactivated.` };
};

const limit: Act = async (ctx, licenseId, userId) => {
  const own = wholeField(ctx.form as URLSearchParams, 'maxActivations', 'The device limit');
  const u = await (await acts(ctx, licenseId)).setUserLimit(userId, own);
  return { text: `${u.userId} may activate ${u.maxActivations === undefined ? "as many devices as the license allows" : `${u.maxActivations} device${u.maxActivations === 1 ? '' : 's'}`}.` };
};

const rename: Act = async (ctx, licenseId, userId) => {
  const to = field(ctx.form as URLSearchParams, 'newUserId', 'The new e-mail', 256);
  const l = usable(await openLicense(ctx, licenseId));
  const r = await renameLicenseUser(ctx.deps.vendor, l, userId, to, actorOf(ctx.session.principal));
  const kept = `${r.devices.length} device${r.devices.length === 1 ? '' : 's'}${r.seat === null ? '' : `, a ${r.seat} seat`}${r.moved.length > 0 ? ' and the password' : ''}`;
  return { text: `${r.from} is now ${r.to}, keeping ${kept}.`, endsSessions: true };
};

const remove: Act = async (ctx, licenseId, userId) => {
  await (await acts(ctx, licenseId)).removeUser(userId);
  await credentials(ctx, licenseId).clearPassword(userId, { actor: actorOf(ctx.session.principal) });
  return { text: `${userId} was removed.`, endsSessions: true };
};

export const userRoutes: readonly PortalRoute[] = [
  { method: 'GET', path: /^\/portal\/licenses\/([^/]+)\/users$/, access: 'session', handler: list },
  { method: 'POST', path: /^\/portal\/licenses\/([^/]+)\/users$/, access: 'session', handler: action(assign) },
  { method: 'POST', path: /^\/portal\/licenses\/([^/]+)\/users\/password$/, access: 'session', handler: action(newPassword) },
  { method: 'POST', path: /^\/portal\/licenses\/([^/]+)\/users\/reset$/, access: 'session', handler: action(resetUser) },
  { method: 'POST', path: /^\/portal\/licenses\/([^/]+)\/users\/limit$/, access: 'session', handler: action(limit) },
  { method: 'POST', path: /^\/portal\/licenses\/([^/]+)\/users\/remove$/, access: 'session', handler: action(remove) },
  { method: 'POST', path: /^\/portal\/licenses\/([^/]+)\/users\/rename$/, access: 'session', handler: action(rename) },
];
