/**
 * The portal's customers: companies (a code customers sign in with, and which licenses are theirs)
 * and their administrators' accounts. One company lives under the store id `portal:<CODE>` (as
 * trials live under `trial:<product>`), so companies never wait on each other's transactions and
 * each has its own hash-chained audit trail (`portal.*` events, and the password events of
 * {@link LicenseUserCredentials}, which keeps the accounts' scrypt hashes and lockouts: the same
 * rule as license users' passwords, not a copy of it).
 *
 * A license belongs to a company when its registry entry's `customer` is one of the company's
 * customer names (exactly), or its id is one of the company's license ids. The CLI
 * (`licit portal`), the admin API (`/v1/admin/portal/*`) and the portal's vendor pages all call
 * these functions.
 */
import { randomBytes } from 'node:crypto';
import { auditEvent } from '../../core/store/audit-event.js';
import { registryEntry, showLicense, type RegistryEntry } from '../../core/admin/registry.js';
import { ensureLicenseIndex, indexedLicensesOf } from '../../core/admin/license-index.js';
import { toClock, type Clock } from '../../core/time/clock.js';
import { LicenseError } from '../../core/errors.js';
import { checkId, type JsonObject, type Store } from '../../core/store/store.js';
import { LicenseUserCredentials } from '../auth/credentials.js';
import type { ScryptParams } from '../auth/password.js';

/** Store ids of companies start with this. */
export const COMPANY_PREFIX = 'portal:';
const COMPANY_KIND = 'portal.company';
const ACCOUNT_KIND = 'portal.account';

/** A customer company of the vendor. */
export interface Company {
  /** What its people type at sign-in (upper case letters, digits, `-`, `_`). */
  readonly code: string;
  readonly name: string;
  /** Licenses whose `customer` claim is one of these are the company's. */
  readonly customers: readonly string[];
  /** And these licenses, whatever their customer claim. */
  readonly licenseIds: readonly string[];
  readonly createdAt: string;
}

/** A customer administrator's portal account. */
export interface Account {
  readonly email: string;
  readonly role: 'admin';
  readonly createdAt: string;
}

/** Who acts, when, and (tests only) a cheaper scrypt. */
export interface ActBy {
  readonly actor: string;
  readonly now?: Clock | undefined;
  /** @internal tests only */
  readonly scrypt?: ScryptParams | undefined;
}

/** A company code as stored: trimmed, upper case; `ERR_USAGE` unless 2 to 32 of A-Z 0-9 - _. */
export function companyCode(value: unknown): string {
  const code = typeof value === 'string' ? value.trim().toUpperCase() : '';
  if (!/^[A-Z0-9][A-Z0-9_-]{1,31}$/.test(code)) throw new LicenseError('ERR_USAGE', 'a company code is 2 to 32 letters, digits, "-" or "_", starting with a letter or digit', { field: 'company' });
  return code;
}

/** An e-mail address as stored: trimmed, lower case; `ERR_USAGE` unless it looks like one. */
export function accountEmail(value: unknown): string {
  const email = typeof value === 'string' ? value.normalize('NFC').trim().toLowerCase() : '';
  if (email.length > 254 || !/^[^\s@]+@[^\s@]+$/.test(email)) throw new LicenseError('ERR_USAGE', 'an e-mail address is needed (name@example.com)', { field: 'email' });
  return checkId(email, 'e-mail');
}

const storeId = (code: string) => `${COMPANY_PREFIX}${code}`;

function parseCompany(code: string, v: JsonObject): Company {
  const list = (x: unknown) => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : []);
  if (typeof v.name !== 'string' || typeof v.createdAt !== 'string') throw new LicenseError('ERR_STORE_CORRUPT', `the portal record of company ${code} is malformed`, { company: code });
  return { code, name: v.name, customers: list(v.customers), licenseIds: list(v.licenseIds), createdAt: v.createdAt };
}

function names(values: readonly unknown[] | undefined, what: string): string[] {
  return [...new Set((values ?? []).map((v) => checkId(typeof v === 'string' ? v.trim() : v, what)))].sort();
}

/** Create a company. `ERR_ACCOUNT_EXISTS` when the code is taken. */
export async function createCompany(store: Store, input: { code: unknown; name: unknown; customers?: readonly unknown[]; licenseIds?: readonly unknown[] }, by: ActBy): Promise<Company> {
  const code = companyCode(input.code);
  const name = checkId(typeof input.name === 'string' ? input.name.trim() : input.name, 'company name');
  const customers = names(input.customers, 'customer');
  const licenseIds = names(input.licenseIds, 'license id');
  const at = toClock(by.now)();
  return store.transaction(storeId(code), async (tx) => {
    if ((await tx.get(COMPANY_KIND, 'info')) !== undefined) throw new LicenseError('ERR_ACCOUNT_EXISTS', `a company with code ${code} exists already; choose another code`, { company: code });
    const rec = { name, customers, licenseIds, createdAt: new Date(at).toISOString() };
    tx.put(COMPANY_KIND, 'info', rec);
    tx.append(auditEvent(at, by.actor, 'portal.company-created', { company: code, name, customers, licenseIds }));
    return parseCompany(code, rec);
  });
}

/** Add licenses (by customer name or id) to a company, or take them away. */
export async function changeCompanyLicenses(store: Store, code: unknown, change: { addCustomers?: readonly unknown[]; removeCustomers?: readonly unknown[]; addLicenseIds?: readonly unknown[]; removeLicenseIds?: readonly unknown[] }, by: ActBy): Promise<Company> {
  const c = companyCode(code);
  const at = toClock(by.now)();
  return store.transaction(storeId(c), async (tx) => {
    const raw = await tx.get(COMPANY_KIND, 'info');
    if (raw === undefined) throw noCompany(c);
    const cur = parseCompany(c, raw);
    const drop = (from: readonly string[], gone: string[]) => from.filter((x) => !gone.includes(x));
    const customers = [...new Set([...drop(cur.customers, names(change.removeCustomers, 'customer')), ...names(change.addCustomers, 'customer')])].sort();
    const licenseIds = [...new Set([...drop(cur.licenseIds, names(change.removeLicenseIds, 'license id')), ...names(change.addLicenseIds, 'license id')])].sort();
    const rec = { ...raw, customers, licenseIds };
    tx.put(COMPANY_KIND, 'info', rec);
    tx.append(auditEvent(at, by.actor, 'portal.company-changed', { company: c, customers, licenseIds }));
    return parseCompany(c, rec);
  });
}

export function noCompany(code: string): LicenseError {
  return new LicenseError('ERR_USAGE', `there is no company with code ${code}; create it first (licit portal company add, or POST /v1/admin/portal/companies)`, { company: code });
}

/** One company, or undefined. */
export async function getCompany(store: Store, code: string): Promise<Company | undefined> {
  const raw = await store.read(storeId(code), (r) => r.get(COMPANY_KIND, 'info'));
  return raw === undefined ? undefined : parseCompany(code, raw);
}

/** Every company, by code. */
export async function listCompanies(store: Store): Promise<Company[]> {
  if (store.licenseIds === undefined) throw new LicenseError('ERR_STORE_UNAVAILABLE', 'this store cannot list what it holds (it has no licenseIds()); use a store licit ships');
  const out: Company[] = [];
  for (const id of await store.licenseIds()) {
    if (!id.startsWith(COMPANY_PREFIX)) continue;
    const c = await getCompany(store, id.slice(COMPANY_PREFIX.length));
    if (c !== undefined) out.push(c);
  }
  return out;
}

/** True when the registry entry is one of the company's licenses. */
export function ownsLicense(company: Company, entry: RegistryEntry): boolean {
  return company.licenseIds.includes(entry.licenseId) || (entry.customer !== undefined && company.customers.includes(entry.customer));
}

/**
 * The company's licenses in the registry, by license id: found in the license index
 * (core/admin/license-index.ts), so this reads the company's licenses only, each checked against
 * its registry entry.
 */
export async function companyLicenses(store: Store, company: Company): Promise<RegistryEntry[]> {
  await ensureLicenseIndex(store);
  const out: RegistryEntry[] = [];
  for (const { licenseId } of await indexedLicensesOf(store, company)) {
    const e = await registryEntry(store, licenseId);
    if (e !== undefined && ownsLicense(company, e)) out.push(e);
  }
  return out;
}

/** The registry entry of `licenseId` when it is the company's, else undefined (whether it exists or not). */
export async function companyLicense(store: Store, company: Company, licenseId: string): Promise<RegistryEntry | undefined> {
  if (licenseId.startsWith(COMPANY_PREFIX)) return undefined;
  const shown = await showLicense(store, checkId(licenseId, 'license id'));
  return shown !== undefined && ownsLicense(company, shown.entry) ? shown.entry : undefined;
}

/** The passwords of a company's accounts (scrypt hashes and lockouts, keyed by e-mail). */
export function accountCredentials(store: Store, code: string, by: { now?: Clock | undefined; scrypt?: ScryptParams | undefined }): LicenseUserCredentials {
  return new LicenseUserCredentials(store, storeId(code), { now: by.now, ...(by.scrypt === undefined ? {} : { scrypt: by.scrypt }) });
}

/** A random initial password: 16 characters a person can copy without confusing 0/O or 1/l. */
export function initialPassword(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(32);
  let out = '';
  for (const b of bytes) {
    if (b >= 224) continue; // 224 = 4 * 56: no modulo bias
    out += alphabet[b % 56];
    if (out.length === 16) break;
  }
  return out.length === 16 ? out : initialPassword();
}

/**
 * Add an administrator account to a company with an initial password (given, or made here and
 * returned once) that must be changed at first sign-in. `ERR_ACCOUNT_EXISTS` when the e-mail has one.
 */
export async function addAccount(store: Store, code: unknown, email: unknown, opts: { password?: string | undefined }, by: ActBy): Promise<{ account: Account; initialPassword: string }> {
  const c = companyCode(code);
  const e = accountEmail(email);
  const password = opts.password ?? initialPassword();
  const at = toClock(by.now)();
  await store.transaction(storeId(c), async (tx) => {
    if ((await tx.get(COMPANY_KIND, 'info')) === undefined) throw noCompany(c);
    if ((await tx.get(ACCOUNT_KIND, e)) !== undefined) throw new LicenseError('ERR_ACCOUNT_EXISTS', `company ${c} has an account for ${e} already; reset its password instead`, { company: c, email: e });
    tx.put(ACCOUNT_KIND, e, { role: 'admin', createdAt: new Date(at).toISOString() });
    tx.append(auditEvent(at, by.actor, 'portal.account-added', { company: c, email: e, role: 'admin' }));
  });
  await accountCredentials(store, c, by).setPassword(e, password, { mustChange: true, actor: by.actor });
  return { account: { email: e, role: 'admin', createdAt: new Date(at).toISOString() }, initialPassword: password };
}

/**
 * Give an account a new initial password (given, or made here and returned once), to be changed at
 * its next sign-in; clears a lockout. For an administrator who forgot the password or is locked out.
 */
export async function resetAccountPassword(store: Store, code: unknown, email: unknown, opts: { password?: string | undefined }, by: ActBy): Promise<{ email: string; initialPassword: string }> {
  const c = companyCode(code);
  const e = accountEmail(email);
  if ((await getAccount(store, c, e)) === undefined) throw new LicenseError('ERR_USER_NOT_FOUND', `company ${c} has no account ${e}; add it with licit portal add-admin`, { company: c, email: e });
  const password = opts.password ?? initialPassword();
  await accountCredentials(store, c, by).setPassword(e, password, { mustChange: true, actor: by.actor });
  return { email: e, initialPassword: password };
}

/** One account of a company, or undefined. */
export async function getAccount(store: Store, code: string, email: string): Promise<Account | undefined> {
  const raw = await store.read(storeId(code), (r) => r.get(ACCOUNT_KIND, email));
  return raw === undefined ? undefined : { email, role: 'admin', createdAt: String(raw.createdAt) };
}

/** Every account of a company, by e-mail. */
export async function listAccounts(store: Store, code: string): Promise<Account[]> {
  return store.read(storeId(code), async (r) => (await r.list(ACCOUNT_KIND)).map((x) => ({ email: x.key, role: 'admin' as const, createdAt: String(x.value.createdAt) })));
}

/** Remove an account and its password. False when there was none. */
export async function removeAccount(store: Store, code: unknown, email: unknown, by: ActBy): Promise<boolean> {
  const c = companyCode(code);
  const e = accountEmail(email);
  const at = toClock(by.now)();
  const removed = await store.transaction(storeId(c), async (tx) => {
    if ((await tx.get(ACCOUNT_KIND, e)) === undefined) return false;
    tx.delete(ACCOUNT_KIND, e);
    tx.append(auditEvent(at, by.actor, 'portal.account-removed', { company: c, email: e }));
    return true;
  });
  if (removed) await accountCredentials(store, c, by).clearPassword(e, { actor: by.actor });
  return removed;
}
