/**
 * A license's alert settings over the admin API (`GET` and `POST /v1/admin/settings`, behind the
 * admin token), and the two calls the portal's Settings and Notifications pages and `licit
 * settings` make through it: what the license offers settings for, and a change checked and
 * saved by the one validator (core/admin/license-settings.ts) with its `settings.changed` event.
 */
import { settingsJson, type SettingsScope } from '../core/admin/license-settings.js';
import { readSettings, saveSettings, type SettingsChange } from '../core/admin/settings-record.js';
import type { License } from '../core/license/license.js';
import type { Route } from './admin-routes.js';
import { query, readJson, str } from './request-body.js';
import type { Vendor } from './vendor.js';

/**
 * What a license offers settings for: its seat types, its credits. The server adds seats by itself
 * (an automatic seat top-up re-issues the key through server/reissue.ts `addSeats`), so a seat
 * type's top-up is a setting like a credit one.
 */
export function settingsScope(license: License): SettingsScope {
  return { seatTypes: Object.keys(license.seats).sort(), credits: license.credits !== undefined, seatTopUps: true };
}

/** A license's settings as the admin API answers them (empty settings when none were saved). */
export async function settingsView(vendor: Vendor, license: License): Promise<Record<string, unknown>> {
  const s = await readSettings(vendor.store, license.id);
  return {
    licenseId: license.id,
    revision: s?.revision ?? 0,
    updatedAt: s?.updatedAt ?? null,
    updatedBy: s?.updatedBy ?? null,
    settings: s === undefined ? { seats: {}, recipients: [] } : settingsJson(s.settings),
    offers: settingsScope(license),
  };
}

/** Check and save a change to a license's settings (each part given replaces that part). */
export async function changeSettings(vendor: Vendor, license: License, change: SettingsChange, actor: string): Promise<{ revision: number; changed: string[] }> {
  const r = await saveSettings(vendor.store, license.id, change, settingsScope(license), { actor, now: vendor.now() });
  return { revision: r.revision, changed: r.changed };
}

/** The routes, keyed `METHOD /path`; bodies up to `max` bytes. */
export function settingsRoutes(vendor: Vendor, max: number): Record<string, Route> {
  const licenseOf = async (licenseId: string) => (await vendor.license(licenseId)).license;
  return {
    'GET /v1/admin/settings': async (_req, url) => settingsView(vendor, await licenseOf(query(url, 'licenseId'))),
    'POST /v1/admin/settings': async (req) => {
      const b = await readJson(req, max);
      const license = await licenseOf(str(b, 'licenseId'));
      const { licenseId: _id, ...change } = b;
      const r = await changeSettings(vendor, license, change, 'admin');
      return { ...(await settingsView(vendor, license)), changed: r.changed };
    },
  };
}
