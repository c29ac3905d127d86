/**
 * The admin API of the portal's companies (`/v1/admin/portal/*`, behind the admin token like
 * every admin route): list companies, create one, change its licenses, add an administrator
 * account (the initial password is in the answer, once). The functions are companies.ts's, the
 * ones `licit portal` and the vendor's portal page call.
 */
import { LicenseError } from '../../core/errors.js';
import type { JsonObject } from '../../core/store/store.js';
import type { Route } from '../admin-routes.js';
import { readJson, str, usage } from '../request-body.js';
import type { Vendor } from '../vendor.js';
import { addAccount, changeCompanyLicenses, createCompany, listAccounts, listCompanies, removeAccount, resetAccountPassword } from './companies.js';

function strings(body: JsonObject, name: string): string[] | undefined {
  const v = body[name];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw usage(`"${name}" must be an array of strings`);
  return v as string[];
}

/** The routes, keyed `METHOD /path`; bodies up to `max` bytes. */
export function portalAdminRoutes(vendor: Vendor, max: number): Record<string, Route> {
  const by = { actor: 'admin', now: vendor.now };
  return {
    'GET /v1/admin/portal/companies': async () => {
      const companies = [];
      for (const c of await listCompanies(vendor.store)) companies.push({ ...c, accounts: await listAccounts(vendor.store, c.code) });
      return { companies };
    },
    'POST /v1/admin/portal/companies': async (req) => {
      const b = await readJson(req, max);
      const company = await createCompany(vendor.store, { code: str(b, 'code'), name: str(b, 'name'), customers: strings(b, 'customers') ?? [], licenseIds: strings(b, 'licenseIds') ?? [] }, by);
      return { company };
    },
    'POST /v1/admin/portal/companies/licenses': async (req) => {
      const b = await readJson(req, max);
      const company = await changeCompanyLicenses(vendor.store, str(b, 'code'), { addCustomers: strings(b, 'addCustomers'), removeCustomers: strings(b, 'removeCustomers'), addLicenseIds: strings(b, 'addLicenseIds'), removeLicenseIds: strings(b, 'removeLicenseIds') }, by);
      return { company };
    },
    'POST /v1/admin/portal/accounts': async (req) => {
      const b = await readJson(req, max);
      const r = await addAccount(vendor.store, str(b, 'code'), str(b, 'email'), { password: str(b, 'password', true) }, by);
      return { account: r.account, initialPassword: r.initialPassword, mustChange: true };
    },
    'POST /v1/admin/portal/accounts/password': async (req) => {
      const b = await readJson(req, max);
      const r = await resetAccountPassword(vendor.store, str(b, 'code'), str(b, 'email'), { password: str(b, 'password', true) }, by);
      return { email: r.email, initialPassword: r.initialPassword, mustChange: true };
    },
    'POST /v1/admin/portal/accounts/remove': async (req) => {
      const b = await readJson(req, max);
      const removed = await removeAccount(vendor.store, str(b, 'code'), str(b, 'email'), by);
      if (!removed) throw new LicenseError('ERR_USER_NOT_FOUND', `company ${String(b.code)} has no account ${String(b.email)}`, { company: b.code, email: b.email });
      return { removed: true };
    },
  };
}
