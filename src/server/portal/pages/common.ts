/**
 * What the license pages share: the license a signed-in person opened (checked by access.ts), its
 * verified key when the key is still valid, the tabs between its pages, a pager, and a table that
 * turns into cards on a phone.
 */
import type { RegistryEntry } from '../../../core/admin/registry.js';
import { isLicenseError, type LicenseError } from '../../../core/errors.js';
import type { License } from '../../../core/license/license.js';
import { visibleLicense } from '../access.js';
import type { SignedIn } from '../context.js';
import { html, portalPath, type Html, type Part } from '../html.js';

/** A license the person may see: its registry entry, and the verified key unless it expired. */
export interface Opened {
  readonly entry: RegistryEntry;
  readonly license: License | undefined;
  /** Why the key is not usable now (expired, not yet valid), when it is not. */
  readonly unusable: LicenseError | undefined;
}

/** Open a license for the signed-in person (404 when it is not theirs, whether it exists or not). */
export async function openLicense(ctx: SignedIn, licenseId: string): Promise<Opened> {
  const entry = await visibleLicense(ctx.deps.vendor.store, ctx.session.principal, licenseId);
  try {
    return { entry, license: (await ctx.deps.vendor.license(licenseId)).license, unusable: undefined };
  } catch (e) {
    if (isLicenseError(e) && ['ERR_LICENSE_EXPIRED', 'ERR_LICENSE_NOT_YET_VALID', 'ERR_KEY_UNKNOWN_SIGNER'].includes(e.code)) return { entry, license: undefined, unusable: e };
    throw e;
  }
}

/** The verified key; its refusal (an expired license) when there is none: the admin API refuses the same. */
export function usable(o: Opened): License {
  if (o.license === undefined) throw o.unusable as LicenseError;
  return o.license;
}

/** Tabs between a license's pages (credits, reports, the log, settings and notifications for the vendor and the company's administrators). */
export function tabs(licenseId: string, current: 'details' | 'devices' | 'users' | 'seats' | 'credits' | 'report' | 'log' | 'settings' | 'notifications', manager = true): Html {
  const all: [typeof current, string, string][] = [
    ['details', 'Details', portalPath('licenses', licenseId)],
    ['devices', 'Devices', portalPath('licenses', licenseId, 'devices')],
    ['users', 'License users', portalPath('licenses', licenseId, 'users')],
    ['seats', 'Seats', portalPath('licenses', licenseId, 'seats')],
    ['credits', 'Credits', portalPath('licenses', licenseId, 'credits')],
    ['report', 'Reports', portalPath('licenses', licenseId, 'report')],
    ['log', 'Log', portalPath('licenses', licenseId, 'log')],
    ['settings', 'Settings', portalPath('licenses', licenseId, 'settings')],
    ['notifications', 'Notifications', portalPath('licenses', licenseId, 'notifications')],
  ];
  const shown = manager ? all : all.slice(0, 3);
  return html`<nav aria-label="License"><ul class="actions">${shown.map(([key, label, href]) => (key === current ? html`<li><a href="${href}" aria-current="page"><strong>${label}</strong></a></li>` : html`<li><a href="${href}">${label}</a></li>`))}</ul></nav>`;
}

/** A table that reads as cards on a narrow screen (each cell labelled with its column). */
export function table(caption: string, columns: readonly string[], rows: readonly (readonly Part[])[], empty: string): Html {
  if (rows.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<div class="table-wrap"><table class="cards"><caption class="muted">${caption}</caption>
<thead><tr>${columns.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>
<tbody>${rows.map((r) => html`<tr>${r.map((cell, i) => html`<td data-label="${columns[i] ?? ''}">${cell}</td>`)}</tr>`)}</tbody></table></div>`;
}

/** The page number asked for (1 when absent or not a number). */
export function pageNumber(url: URL): number {
  const n = Number(url.searchParams.get('page') ?? '1');
  return Number.isSafeInteger(n) && n >= 1 ? n : 1;
}

/** Links to the page before and after, keeping the other query parameters. */
export function pager(url: URL, pageNo: number, total: number, size: number): Html {
  const pages = Math.max(1, Math.ceil(total / size));
  const link = (n: number, label: string) => {
    const u = new URL(url);
    u.searchParams.set('page', String(n));
    return html`<a href="${u.pathname}${u.search}">${label}</a>`;
  };
  return html`<nav class="pager" aria-label="Pages">${pageNo > 1 ? link(pageNo - 1, 'Previous page') : null}<span>Page ${Math.min(pageNo, pages)} of ${pages} (${total} in all)</span>${pageNo < pages ? link(pageNo + 1, 'Next page') : null}</nav>`;
}

/** A limit: "3 of 5", or "3 (no limit)". */
export function ofLimit(used: number, limit: number | undefined): string {
  return limit === undefined ? `${used} (no limit)` : `${used} of ${limit}`;
}
