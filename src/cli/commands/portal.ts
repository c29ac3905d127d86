/**
 * `licit portal`: the licensing portal's customer companies in a store (the one `licit serve`
 * uses): list them, create one (its code, name, and which licenses are its own), add licenses to
 * one, add an administrator account (its initial password printed once, changed at first sign-in).
 * The functions are the portal's (src/server/portal/companies.ts), the same the admin API
 * (`/v1/admin/portal/*`) and the vendor's portal page call.
 */
import { LicenseError, loadPortalCompanies } from '../../cli-internals.js';
import { parseFlags, required, type Verb } from '../context.js';
import { didYouMean } from '../help.js';
import { readTextFile } from '../files.js';
import { openStore } from '../store-arg.js';
import { defaultIssuer } from './licenses.js';

const USAGE = 'licit portal companies|add-company|link|add-admin|reset-admin|remove-admin [CODE] --store DIR|postgres://... [--schema NAME] [--name TEXT] [--customer NAME...] [--license-id ID...] [--email ADDRESS] [--password-file FILE] [--actor NAME] [--json]';
const ACTIONS = ['companies', 'add-company', 'link', 'add-admin', 'reset-admin', 'remove-admin'] as const;

export const run: Verb = async (argv) => {
  const s = { type: 'string' } as const;
  const many = { type: 'string', multiple: true } as const;
  const { values: v, positionals } = parseFlags(argv, { store: s, schema: s, name: s, customer: many, 'license-id': many, email: s, 'password-file': s, actor: s }, USAGE);
  const [action, code, ...rest] = positionals;
  if (action === undefined || !(ACTIONS as readonly string[]).includes(action)) {
    const guess = action === undefined ? undefined : didYouMean(action, ACTIONS);
    throw new LicenseError('ERR_USAGE', `${action === undefined ? 'missing action' : `unknown action "${action}"${guess === undefined ? '' : `. Did you mean "${guess}"?`}`}\nUsage: ${USAGE}`);
  }
  if (rest.length > 0) throw new LicenseError('ERR_USAGE', `unexpected argument "${rest[0]}"\nUsage: ${USAGE}`);
  if (action === 'companies' ? code !== undefined : code === undefined) throw new LicenseError('ERR_USAGE', `${action === 'companies' ? '"companies" takes no code' : `"${action}" takes the company code`}\nUsage: ${USAGE}`);
  const by = { actor: v.actor ?? defaultIssuer() };
  const { addAccount, changeCompanyLicenses, createCompany, listAccounts, listCompanies, removeAccount, resetAccountPassword } = await loadPortalCompanies();
  const store = await openStore(required(v.store, '--store', USAGE), { schema: v.schema, poolSize: 1, applicationName: 'licit-cli' });
  try {
    switch (action) {
      case 'companies': {
        const companies = [];
        for (const c of await listCompanies(store)) companies.push({ ...c, accounts: await listAccounts(store, c.code) });
        const text = companies.map((c) => `${c.code}  ${c.name}  customers: ${c.customers.join(', ') || '-'}  licenses: ${c.licenseIds.join(', ') || '-'}  administrators: ${c.accounts.map((a) => a.email).join(', ') || '-'}`);
        return { data: { companies }, text: text.length === 0 ? 'No company yet (licit portal add-company CODE --name NAME).' : text.join('\n') };
      }
      case 'add-company': {
        const company = await createCompany(store, { code, name: required(v.name, '--name', USAGE), customers: v.customer ?? [], licenseIds: v['license-id'] ?? [] }, by);
        return { data: { company }, text: `Company ${company.code} (${company.name}) created; its licenses: customers ${company.customers.join(', ') || '-'}, ids ${company.licenseIds.join(', ') || '-'}.` };
      }
      case 'link': {
        const company = await changeCompanyLicenses(store, code, { addCustomers: v.customer ?? [], addLicenseIds: v['license-id'] ?? [] }, by);
        return { data: { company }, text: `Company ${company.code}: customers ${company.customers.join(', ') || '-'}, license ids ${company.licenseIds.join(', ') || '-'}.` };
      }
      case 'reset-admin': {
        const password = v['password-file'] === undefined ? undefined : readTextFile(v['password-file'], '--password-file').replace(/\r?\n$/, '');
        const r = await resetAccountPassword(store, code, required(v.email, '--email', USAGE), { password }, by);
        return { data: { email: r.email, initialPassword: r.initialPassword, mustChange: true }, text: `${r.email} signs in to company ${String(code).trim().toUpperCase()} with the new initial password\n  ${r.initialPassword}\nwhich must be changed at its next sign-in.` };
      }
      case 'remove-admin': {
        const email = required(v.email, '--email', USAGE);
        if (!(await removeAccount(store, code, email, by))) throw new LicenseError('ERR_USER_NOT_FOUND', `company ${String(code).trim().toUpperCase()} has no account ${email}; see licit portal companies`, { company: code, email });
        return { data: { removed: true }, text: `The account ${email} of company ${String(code).trim().toUpperCase()} was removed.` };
      }
      default: {
        const password = v['password-file'] === undefined ? undefined : readTextFile(v['password-file'], '--password-file').replace(/\r?\n$/, '');
        const r = await addAccount(store, code, required(v.email, '--email', USAGE), { password }, by);
        return {
          data: { account: r.account, initialPassword: r.initialPassword, mustChange: true },
          text: `${r.account.email} can sign in to the portal with company code ${String(code).trim().toUpperCase()} and the initial password\n  ${r.initialPassword}\nwhich must be changed at first sign-in.`,
        };
      }
    }
  } finally {
    await store.close();
  }
};
