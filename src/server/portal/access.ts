/**
 * The one place that decides what a signed-in person may see and change. The vendor sees every
 * license; a customer's administrator the company's licenses; a license user the licenses it
 * signed in to, and only its own devices there. A license that is not the person's is answered
 * exactly as one that does not exist (`ERR_LICENSE_NOT_REGISTERED`, 404), so ids cannot be probed.
 */
import { registryEntry, showLicense, type RegistryEntry } from '../../core/admin/registry.js';
import { ensureLicenseIndex, indexedLicenses, indexedLicensesOf } from '../../core/admin/license-index.js';
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

/**
 * One page of the licenses the person may see, by license id, and how many there are in all. The
 * candidates come from the license index (core/admin/license-index.ts: all licenses for the vendor,
 * the company's customers' and listed ids for a company), so a page reads the index and then only
 * the registry entries it shows, each checked against the person's company again (an index entry
 * is a hint).
 */
export async function visibleLicensePage(store: Store, p: Principal, opts: { q?: string | undefined; page: number; size: number; now?: (() => number) | undefined }): Promise<{ entries: RegistryEntry[]; total: number }> {
  await ensureLicenseIndex(store, opts.now);
  const company = p.kind === 'vendor' ? undefined : await getCompany(store, p.company);
  if (p.kind !== 'vendor' && company === undefined) return { entries: [], total: 0 };
  let candidates = company === undefined ? await indexedLicenses(store) : await indexedLicensesOf(store, company);
  const q = opts.q?.toLowerCase() ?? '';
  if (p.kind === 'license-user') candidates = candidates.filter((c) => p.licenses.includes(c.licenseId));
  if (q !== '') candidates = candidates.filter((c) => c.licenseId.toLowerCase().includes(q) || (c.customer ?? '').toLowerCase().includes(q));
  const entries: RegistryEntry[] = [];
  for (const c of candidates.slice((opts.page - 1) * opts.size, opts.page * opts.size)) {
    const e = await registryEntry(store, c.licenseId);
    if (e !== undefined && (company === undefined || ownsLicense(company, e))) entries.push(e);
  }
  return { entries, total: candidates.length };
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
