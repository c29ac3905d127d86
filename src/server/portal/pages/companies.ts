/**
 * The vendor's page of customer companies: create one (its code, name, and which licenses are its
 * own: by customer name or license id), change its licenses, and give it administrator accounts
 * (an initial password shown once, changed at first sign-in). The same functions as
 * `licit portal` and `/v1/admin/portal/*` (companies.ts).
 */
import { LicenseError } from '../../../core/errors.js';
import { addAccount, changeCompanyLicenses, createCompany, listAccounts, listCompanies, removeAccount, resetAccountPassword } from '../companies.js';
import type { PortalRoute, SignedIn } from '../context.js';
import { field } from '../forms.js';
import { html } from '../html.js';
import { csrfField, page, redirect } from '../layout.js';
import { pageNumber, pager, table } from './common.js';

/** A comma- or line-separated list from a form field. */
export function listField(form: URLSearchParams, name: string): string[] {
  return (form.get(name) ?? '')
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

async function list(ctx: SignedIn): Promise<Response> {
  const store = ctx.deps.vendor.store;
  const all = await listCompanies(store);
  const size = ctx.deps.pageSize;
  const n = pageNumber(ctx.url);
  const rows = [];
  for (const c of all.slice((n - 1) * size, n * size)) {
    const accounts = await listAccounts(store, c.code);
    rows.push([html`<span class="mono">${c.code}</span>`, c.name, c.customers.join(', ') || '—', c.licenseIds.join(', ') || '—', accounts.map((a) => a.email).join(', ') || '—']);
  }
  const csrf = csrfField(ctx.session);
  return page({
    title: 'Companies',
    session: ctx.session,
    body: html`<p>A company's people sign in with its code. Its licenses are those whose customer is one of its customer names, and those listed by id.</p>
${table('Customer companies', ['Code', 'Name', 'Customer names', 'License ids', 'Administrators'], rows, 'No company yet.')}${pager(ctx.url, n, all.length, size)}
<h2>Create a company</h2><form class="stack" method="post" action="/portal/companies">${csrf}
<div><label for="c-code">Company code</label><input id="c-code" name="code" type="text" required pattern="[A-Za-z0-9][A-Za-z0-9_-]{1,31}"></div>
<div><label for="c-name">Name</label><input id="c-name" name="name" type="text" required></div>
<div><label for="c-customers">Customer names (as in the licenses' customer claim; comma-separated)</label><input id="c-customers" name="customers" type="text"></div>
<div><label for="c-licenses">License ids (comma-separated)</label><input id="c-licenses" name="licenseIds" type="text"></div>
<div><button type="submit">Create company</button></div></form>
<h2>Add licenses to a company</h2><form class="stack" method="post" action="/portal/companies/licenses">${csrf}
<div><label for="l-code">Company code</label><input id="l-code" name="code" type="text" required></div>
<div><label for="l-customers">Customer names to add</label><input id="l-customers" name="customers" type="text"></div>
<div><label for="l-licenses">License ids to add</label><input id="l-licenses" name="licenseIds" type="text"></div>
<div><button type="submit">Add</button></div></form>
<h2>Add an administrator</h2><form class="stack" method="post" action="/portal/companies/accounts">${csrf}
<div><label for="a-code">Company code</label><input id="a-code" name="code" type="text" required></div>
<div><label for="a-email">E-mail</label><input id="a-email" name="email" type="email" required autocomplete="off"></div>
<div><button type="submit">Add administrator</button></div></form>
<h2>An administrator who forgot the password, or left</h2><form class="stack" method="post" action="/portal/companies/accounts/change">${csrf}
<div><label for="r-code">Company code</label><input id="r-code" name="code" type="text" required></div>
<div><label for="r-email">E-mail</label><input id="r-email" name="email" type="email" required autocomplete="off"></div>
<div><label for="r-action">Action</label><select id="r-action" name="action"><option value="password">New initial password</option><option value="remove">Remove the account</option></select></div>
<div><button type="submit" class="danger">Apply</button></div></form>`,
  });
}

async function create(ctx: SignedIn): Promise<Response> {
  const f = ctx.form as URLSearchParams;
  const c = await createCompany(ctx.deps.vendor.store, { code: field(f, 'code', 'The company code', 32), name: field(f, 'name', 'The name', 200), customers: listField(f, 'customers'), licenseIds: listField(f, 'licenseIds') }, { actor: 'portal:vendor', now: ctx.deps.vendor.now });
  ctx.session.flash = { kind: 'ok', text: `Company ${c.code} was created.` };
  return redirect('/portal/companies');
}

async function addLicenses(ctx: SignedIn): Promise<Response> {
  const f = ctx.form as URLSearchParams;
  const c = await changeCompanyLicenses(ctx.deps.vendor.store, field(f, 'code', 'The company code', 32), { addCustomers: listField(f, 'customers'), addLicenseIds: listField(f, 'licenseIds') }, { actor: 'portal:vendor', now: ctx.deps.vendor.now });
  ctx.session.flash = { kind: 'ok', text: `Company ${c.code} now has customers ${c.customers.join(', ') || '—'} and licenses ${c.licenseIds.join(', ') || '—'}.` };
  return redirect('/portal/companies');
}

async function account(ctx: SignedIn): Promise<Response> {
  const f = ctx.form as URLSearchParams;
  const r = await addAccount(ctx.deps.vendor.store, field(f, 'code', 'The company code', 32), field(f, 'email', 'The e-mail', 254), {}, { actor: 'portal:vendor', now: ctx.deps.vendor.now, scrypt: ctx.deps.signIn.scrypt });
  ctx.session.flash = { kind: 'ok', text: `${r.account.email} can sign in to company ${String(f.get('code')).trim().toUpperCase()}.`, secret: r.initialPassword };
  return redirect('/portal/companies');
}

async function changeAccount(ctx: SignedIn): Promise<Response> {
  const f = ctx.form as URLSearchParams;
  const code = field(f, 'code', 'The company code', 32);
  const email = field(f, 'email', 'The e-mail', 254);
  const by = { actor: 'portal:vendor', now: ctx.deps.vendor.now, scrypt: ctx.deps.signIn.scrypt };
  if (f.get('action') === 'remove') {
    if (!(await removeAccount(ctx.deps.vendor.store, code, email, by))) throw new LicenseError('ERR_USER_NOT_FOUND', `company ${code} has no account ${email}`, { company: code, email });
    ctx.session.flash = { kind: 'ok', text: `The account ${email} of ${code} was removed.` };
  } else {
    const r = await resetAccountPassword(ctx.deps.vendor.store, code, email, {}, by);
    ctx.session.flash = { kind: 'ok', text: `${r.email} has a new initial password.`, secret: r.initialPassword };
  }
  // Either way, that person's sessions end.
  ctx.deps.sessions.endAllOf(code.toUpperCase(), email.toLowerCase());
  return redirect('/portal/companies');
}

export const companyRoutes: readonly PortalRoute[] = [
  { method: 'GET', path: /^\/portal\/companies$/, access: 'vendor', handler: list },
  { method: 'POST', path: /^\/portal\/companies$/, access: 'vendor', handler: create },
  { method: 'POST', path: /^\/portal\/companies\/licenses$/, access: 'vendor', handler: addLicenses },
  { method: 'POST', path: /^\/portal\/companies\/accounts$/, access: 'vendor', handler: account },
  { method: 'POST', path: /^\/portal\/companies\/accounts\/change$/, access: 'vendor', handler: changeAccount },
];
