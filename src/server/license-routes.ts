/**
 * The admin endpoints of the vendor's license registry (`/v1/admin/licenses*`, behind the admin
 * token): find licenses by id, customer, state and expiry, show one with every key signed for it,
 * and suspend, revoke or reinstate it. The rules live in core/admin/registry.ts; `licit licenses`
 * calls the same functions on a local store.
 */
import { changeLicenseState, changePartyState, findLicenses, showLicense, type LicenseState } from '../core/admin/registry.js';
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
  const party = (kind: 'device' | 'user', action: 'suspend' | 'revoke' | 'reinstate'): Route => async (req) => {
    const b = await readJson(req, max);
    const licenseId = str(b, 'licenseId');
    const id = str(b, kind === 'device' ? 'deviceId' : 'userId');
    const license = (await vendor.license(licenseId)).license;
    const acts = vendor.activations(license, 'admin');
    let fingerprint: string | undefined;
    if (kind === 'device') {
      const device = (await acts.devices()).find((d) => d.deviceId === id);
      if (device === undefined && action !== 'reinstate') throw new LicenseError('ERR_ACTIVATION_NOT_FOUND', `license ${licenseId} has no device ${id}`, { licenseId, deviceId: id });
      fingerprint = typeof device?.info.fingerprint === 'string' ? device.info.fingerprint : undefined;
    }
    const r = await changePartyState(vendor.store, licenseId, { kind, id, fingerprint }, action, { actor: 'admin', reason: str(b, 'reason', true), now: vendor.now() });
    // A revoked device frees its activation (no transfer counted: the vendor ended it).
    if (kind === 'device' && action === 'revoke' && fingerprint !== undefined) await acts.resetDevice(id, { countTransfer: false });
    return { licenseId, [kind === 'device' ? 'deviceId' : 'userId']: id, state: r.state };
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
    'POST /v1/admin/devices/suspend': party('device', 'suspend'),
    'POST /v1/admin/devices/revoke': party('device', 'revoke'),
    'POST /v1/admin/devices/reinstate': party('device', 'reinstate'),
    'POST /v1/admin/users/suspend': party('user', 'suspend'),
    'POST /v1/admin/users/reinstate': party('user', 'reinstate'),
    'POST /v1/admin/licenses/suspend': change('suspend'),
    'POST /v1/admin/licenses/revoke': change('revoke'),
    'POST /v1/admin/licenses/reinstate': change('reinstate'),
  };
}
