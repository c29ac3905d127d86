/**
 * The vendor's license registry and the lifecycle of what was sold, through the real CLI and the
 * license server on one FileStore: `licit issue --store` records who issued what; `licit licenses`
 * lists, finds, shows (with every key), re-issues with the changes recorded, and suspends, revokes
 * and reinstates; the server then refuses renewals and activations with the license's state (a
 * deactivation still goes through), the admin API shows the same registry, and every change is in
 * the verified audit log.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequest, newNonce, type InstallationSigner, type RequestInput } from '../src/core/exchange/index.js';
import { inspectLicense } from '../src/core/license/inspect.js';
import { FileStore } from '../src/node/store/file-store.js';
import { createLicenseServer, type LicenseServer } from '../src/server/index.js';
import { licitAsync } from './helpers/cli.js';
import { makeVendor } from './helpers/vendor.js';
import { newInstallation as installation } from './helpers/installation.js';

const vendor = makeVendor();
const TOKEN = 'registry-admin-token';
const dir = join(mkdtempSync(join(tmpdir(), 'licit-79-')), 'store');
let server: LicenseServer;
let fileStore: FileStore;

async function call(method: string, path: string, body?: unknown, admin = false): Promise<{ status: number; body: Record<string, any> }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(admin ? { authorization: `Bearer ${TOKEN}` } : {}) };
  const res = await server.handle(new Request(`http://x${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }));
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function ask(op: RequestInput['operation'], inst: InstallationSigner, key: string, fingerprint = 'fp1:mi=AAAAAAAAAAAAAAAAAAAAAA') {
  const request = await createRequest({ operation: op, licenseId: inspectLicense(key).claims.licenseId, licenseKey: key, fingerprint, nonce: newNonce(), clientTime: new Date() }, inst);
  return call('POST', `/v1/${op}`, { request });
}

const run = (args: string[]) => licitAsync(args);
const cli = (...args: string[]) => run([...args, '--store', dir, '--json']);

beforeAll(() => {
  fileStore = new FileStore(dir);
  server = createLicenseServer({ signingKey: vendor.privateKeyPem, store: fileStore, adminToken: TOKEN, rateLimit: false });
});
afterAll(async () => {
  await fileStore.close();
});

describe('license registry', () => {
  let key = '';

  it('licit issue --store records the key, who issued it and when; licenses list and show find it', async () => {
    const r = await run(['issue', '--signing-key', vendor.keyPath, '--license-id', 'LIC-REG-1', '--customer', 'ACME GmbH', '--seats', 'basic=5', '--expires', '2099-12-31', '--store', dir, '--issued-by', 'alice', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, licenseId: 'LIC-REG-1', recorded: true });
    key = r.json().key as string;
    await run(['issue', '--signing-key', vendor.keyPath, '--license-id', 'LIC-REG-2', '--customer', 'Other Ltd', '--store', dir, '--json']);
    const list = (await cli('licenses', 'list'));
    expect(list.code, list.stderr).toBe(0);
    expect((list.json().licenses as { licenseId: string }[]).map((l) => l.licenseId)).toEqual(['LIC-REG-1', 'LIC-REG-2']);
    const acme = (await cli('licenses', 'list', '--customer', 'acme')).json().licenses as Record<string, unknown>[];
    expect(acme).toEqual([expect.objectContaining({ licenseId: 'LIC-REG-1', customer: 'ACME GmbH', issuedBy: 'alice', state: 'active', issues: 1, seats: { basic: 5 }, expiresAt: '2099-12-31T23:59:59.000Z' })]);
    expect(((await cli('licenses', 'list', '--expires-before', '2100-01-01')).json().licenses as unknown[]).length).toBe(1); // the perpetual one never expires
    const shown = (await run(['licenses', 'show', 'LIC-REG-1', '--key', '--store', dir, '--json'])).json();
    expect((shown.issues as { text: string }[])[0]?.text).toBe(key);
    expect((await cli('licenses', 'show', 'LIC-NOPE')).json().error?.code).toBe('ERR_LICENSE_NOT_REGISTERED');
    expect((await cli('licenses', 'show', 'LIC-NOPE')).code).toBe(1);
    expect((await cli('licenses', 'lst')).code).toBe(2);
    expect((await cli('licenses', 'lst')).json().error?.message).toMatch(/Did you mean "list"/);
  });

  it('a re-issue keeps the license id, records what changed, and an older key never replaces it', async () => {
    const r = await run(['licenses', 'reissue', 'LIC-REG-1', '--signing-key', vendor.keyPath, '--seats', 'basic=20', '--feature', 'reports', '--issued-by', 'bob', '--store', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const newKey = r.json().key as string;
    expect(inspectLicense(newKey).claims).toMatchObject({ licenseId: 'LIC-REG-1', customer: 'ACME GmbH', seats: { basic: 20 }, features: ['reports'] });
    expect(r.json().changes).toEqual({ features: { from: [], to: ['reports'] }, seats: { from: { basic: 5 }, to: { basic: 20 } } });
    const shown = (await cli('licenses', 'show', 'LIC-REG-1')).json();
    expect(shown.license).toMatchObject({ issues: 2, issuedBy: 'bob', seats: { basic: 20 } });
    // Signed with a key pair picked by mistake: refused, nothing recorded (installations would not trust it).
    const other = makeVendor();
    const wrong = await run(['licenses', 'reissue', 'LIC-REG-1', '--signing-key', other.keyPath, '--seats', 'basic=99', '--store', dir, '--json']);
    expect(wrong.code).toBe(1);
    expect(wrong.json().error?.code).toBe('ERR_KEY_UNKNOWN_SIGNER');
    expect(wrong.json().error?.message).toMatch(/--rotate/);
    expect((await cli('licenses', 'show', 'LIC-REG-1')).json().license).toMatchObject({ issues: 2, seats: { basic: 20 } });
    // The first key again (an admin pasting an old key): refused, nothing changes.
    const old = await call('POST', '/v1/admin/licenses', { license: key }, true);
    expect(old.status).toBe(409);
    expect(old.body.error.code).toBe('ERR_LICENSE_SUPERSEDED');
    key = newKey;
  });

  it('suspend, reinstate and revoke: the server refuses renewals and activations with the state; deactivation still goes through', async () => {
    const a = installation();
    expect((await ask('activate', a, key)).status).toBe(200);
    const s = (await cli('licenses', 'suspend', 'LIC-REG-1', '--reason', 'invoice 2027-04 unpaid'));
    expect(s.code, s.stdout + s.stderr).toBe(0);
    expect(s.json().license).toMatchObject({ state: 'suspended', stateReason: 'invoice 2027-04 unpaid' });
    const refused = await ask('renew', a, key);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('ERR_LICENSE_SUSPENDED');
    expect(refused.body.error.message).toMatch(/invoice 2027-04 unpaid/);
    expect((await ask('activate', installation(), key, 'fp1:mi=BBBBBBBBBBBBBBBBBBBBBB')).body.error.code).toBe('ERR_LICENSE_SUSPENDED');
    expect((await cli('licenses', 'reinstate', 'LIC-REG-1')).json().license).toMatchObject({ state: 'active' });
    expect((await ask('renew', a, key)).status).toBe(200);
    // Revoke through the admin API this time: the same registry.
    const revoked = await call('POST', '/v1/admin/licenses/revoke', { licenseId: 'LIC-REG-1', reason: 'refunded' }, true);
    expect(revoked.body.license).toMatchObject({ state: 'revoked', stateReason: 'refunded' });
    expect((await ask('renew', a, key)).body.error.code).toBe('ERR_LICENSE_REVOKED');
    const again = (await cli('licenses', 'reinstate', 'LIC-REG-1'));
    expect(again.code).toBe(1);
    expect(again.json().error?.code).toBe('ERR_LICENSE_STATE');
    // The customer may still free the device.
    expect((await ask('deactivate', a, key)).body).toMatchObject({ ok: true, deactivated: true });
    const list = await call('GET', '/v1/admin/licenses?state=revoked', undefined, true);
    expect(list.body.licenses.map((l: { licenseId: string }) => l.licenseId)).toEqual(['LIC-REG-1']);
    expect((await call('GET', '/v1/admin/license?licenseId=LIC-REG-1', undefined, true)).body.issues).toHaveLength(2);
    expect((await call('GET', '/v1/admin/licenses', undefined, false)).status).toBe(401);
  });

  it('every change is in the verified audit log', async () => {
    const log = await run(['log', '--store', dir, '--license-id', 'LIC-REG-1', '--json']);
    expect(log.code, log.stderr).toBe(0);
    const kinds = (log.json().events as { kind: string }[]).map((e) => e.kind).filter((k) => k.startsWith('license.'));
    expect(kinds).toEqual(['license.registered', 'license.registered', 'license.suspended', 'license.reinstated', 'license.revoked']);
    // The refused renewals are in the log too, with the state that refused them.
    const refused = (log.json().events as { kind: string; details: { code?: string; reason?: string } }[]).filter((e) => e.kind === 'exchange.refused');
    expect(refused.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(refused)).toMatch(/ERR_LICENSE_SUSPENDED/);
    expect(JSON.stringify(refused)).toMatch(/ERR_LICENSE_REVOKED/);
    // A mistyped id leaves nothing behind.
    expect((await cli('licenses', 'suspend', 'LIC-TYPO')).json().error?.code).toBe('ERR_LICENSE_NOT_REGISTERED');
    expect(existsSync(join(dir, 'l-LIC-TYPO'))).toBe(false);
  });

  it('issueLicense with a store records the key too, and keeps the license\'s signer unless rotating', async () => {
    const { issueLicense } = await import('../src/issuer/index.js');
    const { showLicense } = await import('../src/core/admin/registry.js');
    const { MemoryStore } = await import('../src/core/store/memory-store.js');
    const store = new MemoryStore();
    await issueLicense({ licenseId: 'LIC-LIB', customer: 'Lib Ltd' }, { signingKey: vendor.privateKeyPem, store, issuedBy: 'api' });
    expect((await showLicense(store, 'LIC-LIB'))?.entry).toMatchObject({ customer: 'Lib Ltd', issuedBy: 'api', issues: 1 });
    const other = makeVendor();
    await expect(issueLicense({ licenseId: 'LIC-LIB', customer: 'Lib Ltd' }, { signingKey: other.privateKeyPem, store })).rejects.toMatchObject({ code: 'ERR_KEY_UNKNOWN_SIGNER' });
    expect((await showLicense(store, 'LIC-LIB'))?.entry.issues).toBe(1);
    await issueLicense({ licenseId: 'LIC-LIB', customer: 'Lib Ltd' }, { signingKey: other.privateKeyPem, store, rotate: true });
    expect((await showLicense(store, 'LIC-LIB'))?.entry.issues).toBe(2);
  });

  it('a device or a license user can be suspended and reinstated; a revoked device frees its activation and its machine cannot come back', async () => {
    const key3 = await vendor.issue({ licenseId: 'LIC-REG-3', maxActivations: 3, maxTransfers: 0 });
    expect((await call('POST', '/v1/admin/licenses', { license: key3 }, true)).status).toBe(200);
    const a = installation();
    const fpA = 'fp1:mi=AAAAAAAAAAAAAAAA';
    expect((await ask('activate', a, key3, fpA)).status).toBe(200);
    const devices = (await call('GET', '/v1/admin/devices?licenseId=LIC-REG-3', undefined, true)).body.devices as { deviceId: string; userId: string }[];
    const { deviceId, userId } = devices[0]!;
    expect((await call('POST', '/v1/admin/devices/suspend', { licenseId: 'LIC-REG-3', deviceId, reason: 'stolen laptop' }, true)).body).toMatchObject({ state: 'suspended' });
    const refused = await ask('renew', a, key3, fpA);
    expect(refused.body.error.code).toBe('ERR_DEVICE_SUSPENDED');
    expect(refused.body.error.message).toMatch(/stolen laptop/);
    await call('POST', '/v1/admin/devices/reinstate', { licenseId: 'LIC-REG-3', deviceId }, true);
    expect((await ask('renew', a, key3, fpA)).status).toBe(200);
    expect((await call('POST', '/v1/admin/users/suspend', { licenseId: 'LIC-REG-3', userId }, true)).body).toMatchObject({ state: 'suspended' });
    expect((await ask('renew', a, key3, fpA)).body.error.code).toBe('ERR_USER_SUSPENDED');
    await call('POST', '/v1/admin/users/reinstate', { licenseId: 'LIC-REG-3', userId }, true);
    expect((await ask('renew', a, key3, fpA)).status).toBe(200);
    // Revoked: the activation is freed (no transfer counted), and neither it nor a reinstall on that machine comes back.
    expect((await call('POST', '/v1/admin/devices/revoke', { licenseId: 'LIC-REG-3', deviceId, reason: 'refund' }, true)).body).toMatchObject({ state: 'revoked' });
    expect((await call('GET', '/v1/admin/devices?licenseId=LIC-REG-3', undefined, true)).body.devices).toEqual([]);
    expect((await ask('renew', a, key3, fpA)).body.error.code).toBe('ERR_DEVICE_REVOKED');
    expect((await ask('activate', installation(), key3, fpA)).body.error.code).toBe('ERR_DEVICE_REVOKED');
    expect((await ask('activate', installation(), key3, 'fp1:mi=BBBBBBBBBBBBBBBB')).status).toBe(200);
    expect((await call('POST', '/v1/admin/devices/reinstate', { licenseId: 'LIC-REG-3', deviceId }, true)).body.error.code).toBe('ERR_LICENSE_STATE');
  });
});

