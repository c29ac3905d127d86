/**
 * The one place that decides what a signed-in person may see and change. The vendor sees every
 * license; a customer's administrator the company's licenses; a license user the licenses it
 * signed in to, and only its own devices there. A license that is not the person's is answered
 * exactly as one that does not exist (`ERR_LICENSE_NOT_REGISTERED`, 404), so ids cannot be probed.
 */
import { findLicenses, showLicense, type RegistryEntry } from '../../core/admin/registry.js';
import { LicenseError } from '../../core/errors.js';
import { USER, type Activation } from '../../core/seats/activation-records.js';
import type { Store } from '../../core/store/store.js';
import { COMPANY_PREFIX, getAccount, getCompany, ownsLicense } from './companies.js';
import type { Principal } from './sessions.js';

function notYours(licenseId: string): LicenseError {
  return new LicenseError('ERR_LICENSE_NOT_REGISTERED', `there is no license ${licenseId} in your account; pick one from the list of licenses`, { licenseId });
}

/** False when the person's account or company was removed since sign-in (the session then ends). */
export async function stillAllowed(store: Store, p: Principal): Promise<boolean> {
  if (p.kind === 'vendor') return true;
  if ((await getCompany(store, p.company)) === undefined) return false;
  if (p.kind === 'customer-admin') return (await getAccount(store, p.company, p.email)) !== undefined;
  for (const licenseId of p.licenses) if (await isLicenseUser(store, licenseId, p.email)) return true;
  return false;
}

/** Whether `userId` is (still) a license user of the license. */
export async function isLicenseUser(store: Store, licenseId: string, userId: string): Promise<boolean> {
  return (await store.read(licenseId, (r) => r.get(USER, userId))) !== undefined;
}

/** The registry entry of a license the person may see; 404 otherwise, the same for foreign and missing. */
export async function visibleLicense(store: Store, p: Principal, licenseId: string): Promise<RegistryEntry> {
  if (licenseId === '' || licenseId.length > 256 || licenseId.startsWith(COMPANY_PREFIX)) throw notYours(licenseId);
  // A license user: the licenses it signed in to, while it is still a user there.
  if (p.kind === 'license-user' && (!p.licenses.includes(licenseId) || !(await isLicenseUser(store, licenseId, p.email)))) throw notYours(licenseId);
  const shown = await showLicense(store, licenseId);
  if (shown === undefined) throw notYours(licenseId);
  if (p.kind === 'vendor') return shown.entry;
  const company = await getCompany(store, p.company);
  if (company === undefined || !ownsLicense(company, shown.entry)) throw notYours(licenseId);
  return shown.entry;
}

/** Every license the person may see, by license id. */
export async function visibleLicenses(store: Store, p: Principal, filter: { q?: string | undefined } = {}): Promise<RegistryEntry[]> {
  const all = await findLicenses(store);
  const q = filter.q?.toLowerCase();
  const match = (e: RegistryEntry) => q === undefined || q === '' || e.licenseId.toLowerCase().includes(q) || (e.customer ?? '').toLowerCase().includes(q);
  if (p.kind === 'vendor') return all.filter(match);
  const company = await getCompany(store, p.company);
  if (company === undefined) return [];
  return all.filter((e) => ownsLicense(company, e) && (p.kind !== 'license-user' || p.licenses.includes(e.licenseId)) && match(e));
}

/** Whether the person manages a license's users (assign, remove, passwords, limits). */
export function managesUsers(p: Principal): boolean {
  return p.kind === 'vendor' || p.kind === 'customer-admin';
}

/** Refuse what only the vendor or a customer's administrator may do. */
export function requireManager(p: Principal, what = 'manage license users'): void {
  if (!managesUsers(p)) throw new LicenseError('ERR_FORBIDDEN', `only the company's portal administrators ${what}; ask one of them`);
}

/** Refuse what only the vendor may do (suspend, revoke, reinstate, re-issue, companies). */
export function requireVendor(p: Principal): void {
  if (p.kind !== 'vendor') throw new LicenseError('ERR_FORBIDDEN', 'only the vendor suspends, revokes, reinstates or re-issues a license; contact the vendor');
}

/** The devices of a license the person may see: every one, or a license user's own. */
export function visibleDevices(p: Principal, devices: readonly Activation[]): Activation[] {
  return p.kind === 'license-user' ? devices.filter((d) => d.userId === p.email) : [...devices];
}

/** Who the audit log names for what a person does in the portal. */
export function actorOf(p: Principal): string {
  return p.kind === 'vendor' ? 'portal:vendor' : p.kind === 'customer-admin' ? `portal:${p.company}:${p.email}` : p.email;
}
