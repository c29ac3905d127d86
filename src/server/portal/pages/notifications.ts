/**
 * A license's Notifications page (the Licence Manager's "Notifications"): the e-mail addresses
 * told of its alerts and automatic top-ups, each with the kinds it receives; add one, change its
 * kinds, remove it. The list is part of the license's settings (`changeSettings`, as `POST
 * /v1/admin/settings` saves it), edited inside the settings' transaction so two people changing it
 * at once both keep their change. The server sends no mail: the events carry the addresses, and
 * the vendor's webhook receiver mails them.
 */
import { checkEmail, NOTIFICATION_EVENTS, NOTIFICATION_KINDS, type NotificationKind, type Recipient } from '../../../core/admin/license-settings.js';
import { readSettings } from '../../../core/admin/settings-record.js';
import { LicenseError } from '../../../core/errors.js';
import { changeSettings } from '../../settings-routes.js';
import { actorOf, requireManager } from '../access.js';
import type { PortalRoute, SignedIn } from '../context.js';
import { field } from '../forms.js';
import { html, portalPath, type Html } from '../html.js';
import { csrfField, page, redirect } from '../layout.js';
import { openLicense, table, tabs, usable } from './common.js';

const LABELS: Record<NotificationKind, string> = {
  alerts: 'Threshold alerts',
  'top-ups': 'Automatic top-ups made',
  'top-up-failures': 'Automatic top-ups that failed',
};

/**
 * How notifications leave this server: the vendor sees each webhook endpoint and what it
 * receives; a customer only learns when nothing would reach anyone.
 */
function deliveries(ctx: SignedIn): Html {
  const hooks = ctx.deps.webhooks;
  const receives = (kinds: readonly string[] | '*', k: NotificationKind) => kinds === '*' || NOTIFICATION_EVENTS[k].some((e) => kinds.includes(e));
  const reached = NOTIFICATION_KINDS.filter((k) => hooks.some((h) => receives(h.kinds, k)));
  const vendor = ctx.session.principal.kind === 'vendor';
  const missing = NOTIFICATION_KINDS.filter((k) => !reached.includes(k)).map((k) => LABELS[k].toLowerCase());
  const warning =
    missing.length === 0
      ? null
      : vendor
        ? html`<div class="notice error"><p>This server hands ${missing.join(', ')} to no webhook endpoint: they are recorded in the license's log and reach nobody. Start <code>licit serve</code> with <code>--webhook URL</code> (and <code>--webhook-kinds</code> including ${missing.length === NOTIFICATION_KINDS.length ? 'alert.raised, topup.completed and topup.failed' : 'their event kinds'}), or give <code>createLicenseServer</code> its <code>webhooks</code>.</p></div>`
        : html`<div class="notice error"><p>The license server does not pass on ${missing.join(', ')} yet, so nobody is e-mailed about them; ask your vendor.</p></div>`;
  if (!vendor) return html`${warning}`;
  const rows = hooks.map((h) => [h.url, NOTIFICATION_KINDS.filter((k) => receives(h.kinds, k)).map((k) => LABELS[k]).join(', ') || html`<span class="muted">none of these</span>`]);
  return html`<h2>Webhook endpoints of this server</h2>${warning}${table('Webhook endpoints', ['Endpoint', 'Receives'], rows, 'This server has no webhook endpoint.')}`;
}

/** The kinds' checkboxes, ids unique on the page by `prefix`. */
function kindBoxes(prefix: string, checked: readonly NotificationKind[], about: string): Html {
  return html`<fieldset class="checks"><legend>Receives${about === '' ? '' : ` (${about})`}</legend>${NOTIFICATION_KINDS.map(
    (k) => html`<span><input type="checkbox" id="${prefix}-${k}" name="kinds" value="${k}"${checked.includes(k) ? html` checked` : null}><label for="${prefix}-${k}">${LABELS[k]}</label></span>`,
  )}</fieldset>`;
}

async function show(ctx: SignedIn, [id]: readonly string[]): Promise<Response> {
  requireManager(ctx.session.principal, 'change who is notified');
  const l = usable(await openLicense(ctx, id as string));
  const recipients = (await readSettings(ctx.deps.vendor.store, l.id))?.settings.recipients ?? [];
  const action = portalPath('licenses', l.id, 'notifications');
  const csrf = csrfField(ctx.session);
  const rows = recipients.map((r, i) => [
    r.email,
    r.kinds.length === 0 ? html`<span class="muted">nothing</span>` : r.kinds.map((k) => LABELS[k]).join(', '),
    html`<details><summary>Edit<span class="visually-hidden"> ${r.email}</span></summary><form class="stack" method="post" action="${action}">${csrf}<input type="hidden" name="action" value="save"><input type="hidden" name="email" value="${r.email}">${kindBoxes(`r${i}`, r.kinds, r.email)}<div><button type="submit">Save changes</button></div></form></details>
<form class="inline" method="post" action="${action}" data-confirm="Stop notifying ${r.email}?">${csrf}<input type="hidden" name="action" value="remove"><input type="hidden" name="email" value="${r.email}"><button type="submit" class="danger" aria-label="Remove ${r.email}">Remove</button></form>`,
  ]);
  return page({
    title: `Notifications of ${l.id}`,
    session: ctx.session,
    body: html`${tabs(l.id, 'notifications')}<p>Who hears of this license's alerts and automatic top-ups. The thresholds are on the <a href="${portalPath('licenses', l.id, 'settings')}">Settings</a> page. The license server hands each notification, with these addresses, to the vendor's systems, which send the e-mail.</p>
${table('Notification recipients', ['E-mail', 'Receives', 'Actions'], rows, 'Nobody is notified yet.')}
<h2>Add a recipient</h2><form class="stack" method="post" action="${action}">${csrf}<input type="hidden" name="action" value="add">
<div><label for="new-email">E-mail address</label><input id="new-email" name="email" type="email" autocomplete="email" required></div>
${kindBoxes('new', NOTIFICATION_KINDS, '')}<div><button type="submit">Add recipient</button></div></form>${deliveries(ctx)}`,
  });
}

async function change(ctx: SignedIn, [id]: readonly string[]): Promise<Response> {
  requireManager(ctx.session.principal, 'change who is notified');
  const l = usable(await openLicense(ctx, id as string));
  const form = ctx.form as URLSearchParams;
  const op = form.get('action');
  const email = checkEmail(field(form, 'email', 'The e-mail address', 254));
  const kinds = form.getAll('kinds');
  const same = (r: Recipient) => r.email.toLowerCase() === email.toLowerCase();
  // Applied to the list as it is inside the settings' transaction.
  const edit = (current: readonly Recipient[]): unknown => {
    if (op === 'add') {
      if (current.some(same)) throw new LicenseError('ERR_SETTINGS_INVALID', `${email} is on the list already; change what it receives with Edit`, { field: 'email' });
      return [...current, { email, kinds }];
    }
    if (!current.some(same)) throw new LicenseError('ERR_SETTINGS_INVALID', `${email} is not on the list (someone may have removed it); reload the page`, { field: 'email' });
    if (op === 'save') return current.map((r) => (same(r) ? { email: r.email, kinds } : r));
    if (op === 'remove') return current.filter((r) => !same(r));
    throw new LicenseError('ERR_USAGE', 'submit the form from the Notifications page', { field: 'action' });
  };
  await changeSettings(ctx.deps.vendor, l, { recipients: edit }, actorOf(ctx.session.principal));
  ctx.session.flash = { kind: 'ok', text: op === 'add' ? `${email} will be notified.` : op === 'remove' ? `${email} is no longer notified.` : `The notifications of ${email} were saved.` };
  return redirect(portalPath('licenses', l.id, 'notifications'));
}

export const notificationRoutes: readonly PortalRoute[] = [
  { method: 'GET', path: /^\/portal\/licenses\/([^/]+)\/notifications$/, access: 'session', handler: show },
  { method: 'POST', path: /^\/portal\/licenses\/([^/]+)\/notifications$/, access: 'session', handler: change },
];
