/**
 * The admin endpoints that re-issue a license (behind the admin token): `POST
 * /v1/admin/licenses/reissue` with the changes, and `POST /v1/admin/licenses/seats` to add seats of
 * one type (by hand, or an automatic top-up with `"source": "auto"`). Both read their body
 * strictly and call server/reissue.ts, the code `licit licenses reissue` and the portal call.
 */
import { LicenseError } from '../core/errors.js';
import type { JsonObject } from '../core/store/store.js';
import { parseTimeWords } from '../core/time/time-words.js';
import type { Route } from './admin-routes.js';
import { addSeats, reissueLicense, type LicenseChanges, type ReissueOptions } from './reissue.js';
import { idempotency, int, readJson, str, usage } from './request-body.js';
import type { Vendor } from './vendor.js';

/** An instant (text as `licit issue` reads it: a date alone is the end of that day), `null`, or absent. */
function instant(b: JsonObject, name: string): Date | null | undefined {
  const v = b[name];
  if (v === undefined || v === null) return v;
  if (typeof v !== 'string') throw usage(`"${name}" must be a date (2027-12-31, or an ISO 8601 time) or null`);
  try {
    return parseTimeWords(v, { field: name, name, dateAlone: 'end' });
  } catch (e) {
    throw usage(e instanceof LicenseError ? e.message : `"${name}" must be a date`);
  }
}

/** A whole number, `null` (the limit removed), or absent. */
function limit(b: JsonObject, name: string): number | null | undefined {
  return b[name] === null ? null : int(b, name, true);
}

function names(b: JsonObject, name: string): string[] | undefined {
  const v = b[name];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x !== '')) throw usage(`"${name}" must be an array of names`);
  return v as string[];
}

function seats(b: JsonObject): Record<string, number> | undefined {
  const v = b.seats;
  if (v === undefined) return undefined;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw usage('"seats" must be an object of user type to count ({"basic": 12})');
  for (const type of Object.keys(v)) int(v, type);
  return v as Record<string, number>;
}

/** The changes a body names (the fields of {@link LicenseChanges}). */
export function changesOf(b: JsonObject): LicenseChanges {
  const edition = b.edition === null ? null : str(b, 'edition', true);
  return {
    expiresAt: instant(b, 'expiresAt'),
    maintenanceExpiresAt: instant(b, 'maintenanceExpiresAt'),
    edition,
    seats: seats(b),
    addFeatures: names(b, 'addFeatures'),
    removeFeatures: names(b, 'removeFeatures'),
    maxActivations: limit(b, 'maxActivations'),
    maxUsers: limit(b, 'maxUsers'),
    maxUserActivations: limit(b, 'maxUserActivations'),
    maxTransfers: limit(b, 'maxTransfers'),
    graceDays: int(b, 'graceDays', true),
    credits: limit(b, 'credits'),
    carriedCredits: int(b, 'carriedCredits', true),
  };
}

function optionsOf(req: Request, b: JsonObject): ReissueOptions {
  if (b.source !== undefined && b.source !== 'manual' && b.source !== 'auto') throw usage('"source" is manual (default) or auto');
  if (b.rotate !== undefined && typeof b.rotate !== 'boolean') throw usage('"rotate" must be true or false');
  const key = idempotency(req, b);
  return { source: b.source === 'auto' ? 'auto' : 'manual', actor: 'admin', issuedBy: str(b, 'issuedBy', true) ?? 'admin', rotate: b.rotate === true, ...(key === undefined ? {} : { idempotencyKey: key }) };
}

/** The routes over `vendor` (its store, signing key and clock); bodies up to `max` bytes. */
export function reissueRoutes(vendor: Vendor, max: number): Record<string, Route> {
  const ctx = { store: vendor.store, signingKey: vendor.signer, now: vendor.now };
  return {
    'POST /v1/admin/licenses/reissue': async (req) => {
      const b = await readJson(req, max);
      const r = await reissueLicense(ctx, str(b, 'licenseId'), changesOf(b), optionsOf(req, b));
      return { ...r };
    },
    'POST /v1/admin/licenses/seats': async (req) => {
      const b = await readJson(req, max);
      const r = await addSeats(ctx, str(b, 'licenseId'), str(b, 'type'), int(b, 'add') as number, optionsOf(req, b));
      return { ...r };
    },
  };
}
