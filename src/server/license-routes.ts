/**
 * The admin endpoints of the vendor's license registry (`/v1/admin/licenses*`, behind the admin
 * token): find licenses by id, customer, state and expiry, show one with every key signed for it,
 * and suspend, revoke or reinstate it. The rules live in core/admin/registry.ts; `licit licenses`
 * calls the same functions on a local store.
 */
import { changeActivationState } from '../core/admin/parties.js';
import { changeLicenseState, findLicenses, showLicense, type LicenseState, type PartyAction, type PartyKind } from '../core/admin/registry.js';
import { LicenseError } from '../core/errors.js';
import { parseTimeWords } from '../core/time/time-words.js';
import type { Route } from './admin-routes.js';
import { query, readJson, str, usage } from './request-body.js';
import type { Vendor } from './vendor.js';

const STATES: readonly LicenseState[] = ['active', 'suspended', 'revoked'];

function optionalInstant(url: URL, name: string): Date | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return undefined;
  try {
    return parseTimeWords(v, { field: name, name });
  } catch (e) {
    throw usage(e instanceof LicenseError ? e.message : `"${name}" must be a date`);
  }
}

/** The registry routes over `vendor`'s store; bodies up to `max` bytes. */
export function licenseRoutes(vendor: Vendor, max: number): Record<string, Route> {
  const change = (action: 'suspend' | 'revoke' | 'reinstate'): Route => async (req) => {
    const b = await readJson(req, max);
    const entry = await changeLicenseState(vendor.store, str(b, 'licenseId'), action, { actor: 'admin', reason: str(b, 'reason', true), now: vendor.now() });
    return { license: entry };
  };
  // The rules (which device or user, the fingerprint a revoked device keeps, its freed activation)
  // are core/admin/parties.ts, which `licit devices|users` calls on a local store.
  const party = (kind: PartyKind, action: PartyAction): Route => async (req) => {
    const b = await readJson(req, max);
    const licenseId = str(b, 'licenseId');
    const license = (await vendor.license(licenseId)).license;
    const acts = vendor.activations(license, 'admin');
    const r = await changeActivationState(vendor.store, acts, licenseId, { kind, id: str(b, kind === 'device' ? 'deviceId' : 'userId') }, action, { actor: 'admin', reason: str(b, 'reason', true), now: vendor.now() });
    return { licenseId, [kind === 'device' ? 'deviceId' : 'userId']: r.id, state: r.state };
  };

  return {
    'GET /v1/admin/licenses': async (_req, url) => {
      const state = url.searchParams.get('state') ?? undefined;
      if (state !== undefined && !STATES.includes(state as LicenseState)) throw usage(`"state" is one of ${STATES.join(', ')}`);
      const licenses = await findLicenses(vendor.store, {
        licenseId: url.searchParams.get('licenseId') ?? undefined,
        customer: url.searchParams.get('customer') ?? undefined,
        state: state as LicenseState | undefined,
        expiresBefore: optionalInstant(url, 'expiresBefore'),
        expiresAfter: optionalInstant(url, 'expiresAfter'),
      });
      return { licenses };
    },
    'GET /v1/admin/license': async (_req, url) => {
      const licenseId = query(url, 'licenseId');
      const shown = await showLicense(vendor.store, licenseId);
      if (shown === undefined) throw new LicenseError('ERR_LICENSE_NOT_REGISTERED', `the registry holds no license ${licenseId}`, { licenseId });
      return shown;
    },
    // One route per change core/admin/registry.ts's PARTY_ACTIONS allows (test/78b holds them equal).
    'POST /v1/admin/devices/suspend': party('device', 'suspend'),
    'POST /v1/admin/devices/revoke': party('device', 'revoke'),
    'POST /v1/admin/devices/reinstate': party('device', 'reinstate'),
    'POST /v1/admin/users/suspend': party('user', 'suspend'),
    'POST /v1/admin/users/revoke': party('user', 'revoke'),
    'POST /v1/admin/users/reinstate': party('user', 'reinstate'),
    'POST /v1/admin/licenses/suspend': change('suspend'),
    'POST /v1/admin/licenses/revoke': change('revoke'),
    'POST /v1/admin/licenses/reinstate': change('reinstate'),
  };
}
