/**
 * The portal's screens over HTTP: license list (paged) and details, devices with details and
 * reset, license users (assign with an initial password, a new one, a device limit, reset,
 * remove), a license user's own view, and the vendor's suspend/revoke/reinstate and companies.
 * Each action must land in the store through the same admin code the CLI and the admin API use
 * (the audit log says so).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { LicenseUserCredentials } from '../src/server/auth/credentials.js';
import { createLicenseServer, type LicenseServer } from '../src/server/index.js';
import { Browser, shownSecret } from './helpers/portal.js';
import { makeVendor } from './helpers/vendor.js';

const TOKEN = 'portal-screens-token-0123456789';
const LOW = { N: 1024, r: 8, p: 1 };
const vendor = makeVendor();
let server: LicenseServer;
let base: string;
let close: () => Promise<void>;
let acme: Browser;
let vendorBrowser: Browser;

async function admin(path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(base + path, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json;
}

const acts = async (id: string) => server.vendor.activations((await server.vendor.license(id)).license, 'test');
const events = async (id: string) => server.vendor.store.events(id);

async function signedIn(who: { company: string; email: string; password: string }, chosen: string): Promise<Browser> {
  const b = new Browser(base);
  const res = await b.signIn(who);
  expect(res.status).toBe(303);
  if (res.headers.get('location') === '/portal/password') {
    const csrf = await b.csrf('/portal/password');
    expect((await b.post('/portal/password', { csrf, current: who.password, next: chosen, repeat: chosen })).res.status).toBe(303);
  }
  return b;
}

beforeAll(async () => {
  server = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new MemoryStore(), adminToken: TOKEN, accessLog: false, portal: { scrypt: LOW, pageSize: 2 } });
  const bound = await server.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${bound.port}`;
  close = () => bound.close(100);
  const year = new Date(Date.now() + 365 * 86_400_000);
  await admin('/v1/admin/licenses', { license: await vendor.issue({ licenseId: 'LIC-A1', customer: 'Acme Corp', edition: 'pro', features: ['export'], maxActivations: 4, maxUsers: 3, maxUserActivations: 2, maxTransfers: 5, expiresAt: year, graceDays: 7 }) });
  await admin('/v1/admin/licenses', { license: await vendor.issue({ licenseId: 'LIC-S', customer: 'Acme Corp', seats: { basic: 1, pro: 2 } }) });
  for (const id of ['LIC-A2', 'LIC-A3']) await admin('/v1/admin/licenses', { license: await vendor.issue({ licenseId: id, customer: 'Acme Corp' }) });
  await admin('/v1/admin/licenses', { license: await vendor.issue({ licenseId: 'LIC-OLD', customer: 'Acme Corp', expiresAt: new Date(Date.now() + 2000) }) });
  await admin('/v1/admin/portal/companies', { code: 'ACME', name: 'Acme Corp', customers: ['Acme Corp'] });
  await admin('/v1/admin/portal/accounts', { code: 'ACME', email: 'it@acme.example', password: 'acme-initial-1' });
  const a = await acts('LIC-A1');
  await a.addUser('ann@acme.example');
  await a.activate('ann@acme.example', 'ann-laptop', { info: { host: 'ann-laptop.local', os: 'linux' } });
  await a.activate('ann@acme.example', 'ann-desktop', { info: { host: 'ann-desktop.local' } });
  acme = await signedIn({ company: 'ACME', email: 'it@acme.example', password: 'acme-initial-1' }, 'acme-chosen-pass');
  vendorBrowser = new Browser(base);
  expect((await vendorBrowser.signIn({ token: TOKEN })).status).toBe(303);
}, 120_000);

afterAll(async () => {
  await close?.();
});

describe('licenses', () => {
  it('the list is paged and searchable', async () => {
    const one = await acme.get('/portal/licenses');
    expect(one.body).toContain('Page 1 of 3 (5 in all)');
    expect(one.body).toContain('LIC-A1');
    expect(one.body).not.toContain('LIC-OLD');
    const three = await acme.get('/portal/licenses?page=3');
    expect(three.body).toContain('LIC-S');
    const two = await acme.get('/portal/licenses?page=2');
    expect(two.body).toContain('LIC-OLD');
    expect(two.body).toContain('Previous page');
    const found = await acme.get('/portal/licenses?q=a3');
    expect(found.body).toContain('LIC-A3');
    expect(found.body).toContain('(1 in all)');
  });

  it('details: identity, status, lifecycle, limits, allocation, history, last validation', async () => {
    const { res, body } = await acme.get('/portal/licenses/LIC-A1');
    expect(res.status).toBe(200);
    for (const text of ['Identity', 'Acme Corp', 'pro', 'export', 'State', 'active', 'Validity', 'valid', 'Last validation', 'Lifecycle', 'First activation', 'Expires', '7 days', 'Activations', '2 of 4', 'Activations per user', 'Transfers', '0 of 5', 'License users', '1 of 3', 'Activation history', 'device.activated', 'ann-laptop']) expect(body, text).toContain(text);
    expect(body).toMatch(/<time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z">\d{4}-\d\d-\d\d \d\d:\d\d UTC<\/time>/);
    // Customers get no vendor actions.
    expect(body).not.toContain('Vendor actions');
  });

  it('an expired license still shows its details; its devices are refused as the admin API refuses them', async () => {
    await new Promise((r) => setTimeout(r, 2500));
    const d = await acme.get('/portal/licenses/LIC-OLD');
    expect(d.res.status).toBe(200);
    expect(d.body).toContain('expired');
    const devices = await acme.get('/portal/licenses/LIC-OLD/devices');
    expect(devices.res.status).toBe(403);
    expect(devices.body).toContain('ERR_LICENSE_EXPIRED');
  });
});

describe('devices', () => {
  it('lists devices with details, and Reset frees the activation through Activations.resetDevice (one transfer, audited)', async () => {
    const list = await acme.get('/portal/licenses/LIC-A1/devices');
    expect(list.body).toContain('ann-laptop');
    expect(list.body).toContain('ann-desktop');
    const detail = await acme.get('/portal/licenses/LIC-A1/devices/ann-laptop');
    expect(detail.body).toContain('ann-laptop.local');
    expect(detail.body).toContain('linux');
    expect(detail.body).toContain('device.activated');
    const csrf = await acme.csrf('/portal/licenses/LIC-A1/devices');
    const { res } = await acme.post('/portal/licenses/LIC-A1/devices/reset', { csrf, deviceId: 'ann-laptop' });
    expect([res.status, res.headers.get('location')]).toEqual([303, '/portal/licenses/LIC-A1/devices']);
    const after = await acme.get('/portal/licenses/LIC-A1/devices');
    expect(after.body).toContain('Device ann-laptop was reset');
    expect((await (await acts('LIC-A1')).devices()).map((d) => d.deviceId)).toEqual(['ann-desktop']);
    expect((await (await acts('LIC-A1')).usage()).transfers.used).toBe(1);
    const reset = (await events('LIC-A1')).find((e) => e.kind === 'device.reset');
    expect(reset?.actor).toBe('portal:ACME:it@acme.example');
    // A name for a device, through Activations.rename.
    const named = await acme.post('/portal/licenses/LIC-A1/devices/rename', { csrf, deviceId: 'ann-desktop', label: "Ann's desktop" });
    expect([named.res.status, named.res.headers.get('location')]).toEqual([303, '/portal/licenses/LIC-A1/devices/ann-desktop']);
    expect((await acme.get('/portal/licenses/LIC-A1/devices')).body).toContain('Ann&#39;s desktop');
    expect((await (await acts('LIC-A1')).devices())[0]?.label).toBe("Ann's desktop");
    // A device that is not activated: not found, nothing counted.
    const again = await acme.post('/portal/licenses/LIC-A1/devices/reset', { csrf, deviceId: 'ann-laptop' });
    expect(again.res.status).toBe(404);
    expect((await (await acts('LIC-A1')).usage()).transfers.used).toBe(1);
  });
});

describe('license users', () => {
  let bobInitial = '';
  it('assign a license user: an initial password shown once, which the user must change at first sign-in', async () => {
    const csrf = await acme.csrf('/portal/licenses/LIC-A1/users');
    const { res } = await acme.post('/portal/licenses/LIC-A1/users', { csrf, userId: 'bob@acme.example', maxActivations: '1' });
    expect(res.status).toBe(303);
    const page = await acme.get('/portal/licenses/LIC-A1/users');
    bobInitial = shownSecret(page.body);
    expect(page.body).toContain('bob@acme.example');
    // Shown once.
    expect((await acme.get('/portal/licenses/LIC-A1/users')).body).not.toContain(bobInitial);
    const users = await (await acts('LIC-A1')).users();
    expect(users.find((u) => u.userId === 'bob@acme.example')?.maxActivations).toBe(1);
    // The application's own sign-in accepts it (and says it must be changed).
    const creds = new LicenseUserCredentials(server.vendor.store, 'LIC-A1');
    expect(await creds.checkPassword('bob@acme.example', bobInitial)).toEqual({ mustChange: true });
  });

  it('the license user signs in, changes its password, and sees its own license and devices only, with no user management', async () => {
    const bob = await signedIn({ company: 'acme', email: 'bob@acme.example', password: bobInitial }, 'bob-chosen-pass');
    const list = await bob.get('/portal/licenses');
    expect(list.body).toContain('LIC-A1');
    expect(list.body).not.toContain('LIC-A2');
    expect((await bob.get('/portal/licenses/LIC-A2')).res.status).toBe(404);
    const users = await bob.get('/portal/licenses/LIC-A1/users');
    expect(users.body).toContain('bob@acme.example');
    expect(users.body).not.toContain('ann@acme.example');
    expect(users.body).not.toContain('Assign a license user');
    expect((await bob.get('/portal/licenses/LIC-A1/devices')).body).not.toContain('ann-desktop');
    const csrf = await bob.csrf('/portal/licenses/LIC-A1/users');
    const removed = await bob.post('/portal/licenses/LIC-A1/users/remove', { csrf, userId: 'ann@acme.example' });
    expect(removed.res.status).toBe(403);
    expect(removed.body).toContain('ERR_FORBIDDEN');
    const reset = await bob.post('/portal/licenses/LIC-A1/devices/reset', { csrf, deviceId: 'ann-desktop' });
    expect(reset.res.status).toBe(404);
    expect((await (await acts('LIC-A1')).devices()).map((d) => d.deviceId)).toEqual(['ann-desktop']);
    const creds = new LicenseUserCredentials(server.vendor.store, 'LIC-A1');
    expect(await creds.checkPassword('bob@acme.example', 'bob-chosen-pass')).toEqual({ mustChange: false });
  });

  it('a device limit, a new initial password, reset activations and remove, each through Activations and the credentials', async () => {
    const csrf = await acme.csrf('/portal/licenses/LIC-A1/users');
    expect((await acme.post('/portal/licenses/LIC-A1/users/limit', { csrf, userId: 'ann@acme.example', maxActivations: '2' })).res.status).toBe(303);
    expect((await (await acts('LIC-A1')).users()).find((u) => u.userId === 'ann@acme.example')?.maxActivations).toBe(2);
    // Above the license's own limit: refused by the same rule as the API.
    const over = await acme.post('/portal/licenses/LIC-A1/users/limit', { csrf, userId: 'ann@acme.example', maxActivations: '99' });
    expect(over.res.status).toBe(400);
    expect((await acme.post('/portal/licenses/LIC-A1/users/password', { csrf, userId: 'ann@acme.example' })).res.status).toBe(303);
    const secret = shownSecret((await acme.get('/portal/licenses/LIC-A1/users')).body);
    expect(await new LicenseUserCredentials(server.vendor.store, 'LIC-A1').checkPassword('ann@acme.example', secret)).toEqual({ mustChange: true });
    expect((await acme.post('/portal/licenses/LIC-A1/users/reset', { csrf, userId: 'ann@acme.example' })).res.status).toBe(303);
    expect(await (await acts('LIC-A1')).devices()).toEqual([]);
    expect((await acme.post('/portal/licenses/LIC-A1/users/remove', { csrf, userId: 'bob@acme.example' })).res.status).toBe(303);
    expect((await (await acts('LIC-A1')).users()).map((u) => u.userId)).toEqual(['ann@acme.example']);
    expect(await new LicenseUserCredentials(server.vendor.store, 'LIC-A1').hasPassword('bob@acme.example')).toBe(false);
    const kinds = (await events('LIC-A1')).map((e) => e.kind);
    for (const k of ['user.added', 'user.limit-changed', 'user.password-set', 'user.activations-reset', 'user.removed', 'user.password-cleared']) expect(kinds).toContain(k);
    // Users beyond the license's maxUsers: ERR_USERS_EXHAUSTED, as everywhere.
    for (const u of ['c1@acme.example', 'c2@acme.example']) await acme.post('/portal/licenses/LIC-A1/users', { csrf, userId: u });
    const full = await acme.post('/portal/licenses/LIC-A1/users', { csrf, userId: 'c3@acme.example' });
    expect(full.res.status).toBe(409);
    expect(full.body).toContain('ERR_USERS_EXHAUSTED');
  });
});

describe('seats per user type', () => {
  it('usage per type, assign, a full type refused, change of type, release: SeatManager as licit seats uses it', async () => {
    const page = await acme.get('/portal/licenses/LIC-S/seats');
    expect(page.res.status).toBe(200);
    expect(page.body).toContain('basic');
    const csrf = await acme.csrf('/portal/licenses/LIC-S/seats');
    expect((await acme.post('/portal/licenses/LIC-S/seats', { csrf, userId: 'ann@acme.example', type: 'basic', mode: 'assign' })).res.status).toBe(303);
    const full = await acme.post('/portal/licenses/LIC-S/seats', { csrf, userId: 'bob@acme.example', type: 'basic', mode: 'assign' });
    expect(full.res.status).toBe(409);
    expect(full.body).toContain('ERR_SEATS_EXHAUSTED');
    const conflict = await acme.post('/portal/licenses/LIC-S/seats', { csrf, userId: 'ann@acme.example', type: 'pro', mode: 'assign' });
    expect(conflict.body).toContain('ERR_SEAT_CONFLICT');
    expect((await acme.post('/portal/licenses/LIC-S/seats', { csrf, userId: 'ann@acme.example', type: 'pro', mode: 'reassign' })).res.status).toBe(303);
    expect((await acme.get('/portal/licenses/LIC-S/seats')).body).toContain('ann@acme.example holds a pro seat.');
    expect((await acme.post('/portal/licenses/LIC-S/seats/release', { csrf, userId: 'ann@acme.example' })).res.status).toBe(303);
    const kinds = (await events('LIC-S')).filter((e) => e.kind.startsWith('seat.')).map((e) => `${e.kind} ${e.actor}`);
    expect(kinds).toEqual(['seat.assigned portal:ACME:it@acme.example', 'seat.reassigned portal:ACME:it@acme.example', 'seat.released portal:ACME:it@acme.example']);
  });
});

describe('the vendor', () => {
  it('sees every license, suspends, reinstates and revokes through changeLicenseState', async () => {
    const d = await vendorBrowser.get('/portal/licenses/LIC-A2');
    expect(d.body).toContain('Vendor actions');
    const csrf = await vendorBrowser.csrf('/portal/licenses/LIC-A2');
    expect((await vendorBrowser.post('/portal/licenses/LIC-A2/state', { csrf, action: 'suspend', reason: 'unpaid invoice' })).res.status).toBe(303);
    const after = await vendorBrowser.get('/portal/licenses/LIC-A2');
    expect(after.body).toContain('state-suspended');
    expect(after.body).toContain('unpaid invoice');
    // The customer sees it too.
    expect((await acme.get('/portal/licenses/LIC-A2')).body).toContain('state-suspended');
    expect((await vendorBrowser.post('/portal/licenses/LIC-A2/state', { csrf, action: 'reinstate' })).res.status).toBe(303);
    expect((await vendorBrowser.post('/portal/licenses/LIC-A2/state', { csrf, action: 'revoke' })).res.status).toBe(303);
    const final = await vendorBrowser.post('/portal/licenses/LIC-A2/state', { csrf, action: 'reinstate' });
    expect(final.res.status).toBe(409);
    expect(final.body).toContain('ERR_LICENSE_STATE');
    expect((await events('LIC-A2')).filter((e) => e.kind.startsWith('license.')).map((e) => `${e.kind} ${e.actor}`)).toEqual(['license.registered admin', 'license.suspended portal:vendor', 'license.reinstated portal:vendor', 'license.revoked portal:vendor']);
  });

  it('issues a license with the server\'s signing key and records it; the customer sees it', async () => {
    const csrf = await vendorBrowser.csrf('/portal/issue');
    const { res } = await vendorBrowser.post('/portal/issue', { csrf, licenseId: 'LIC-NEW', customer: 'Acme Corp', edition: 'team', features: 'export, reports', seats: 'basic=3, pro=1', expires: '2099-12-31', graceDays: '7', maxActivations: '6', maxUsers: '', credits: '500' });
    expect([res.status, res.headers.get('location')]).toEqual([303, '/portal/licenses/LIC-NEW']);
    const page = await vendorBrowser.get('/portal/licenses/LIC-NEW');
    const key = shownSecret(page.body);
    expect(key).toMatch(/^LICIT1-/);
    const l = await server.vendor.verifyKey(key);
    expect([l.customer, l.edition, [...l.features].sort(), l.seats, l.maxActivations, l.maxUsers, l.credits, l.graceDays, l.expiresAt?.toISOString()]).toEqual(['Acme Corp', 'team', ['export', 'reports'], { basic: 3, pro: 1 }, 6, undefined, 500, 7, '2099-12-31T23:59:59.000Z']);
    expect((await events('LIC-NEW'))[0]).toMatchObject({ kind: 'license.registered', actor: 'portal:vendor' });
    expect((await acme.get('/portal/licenses?q=LIC-NEW')).body).toContain('LIC-NEW');
    // An existing id, a malformed seat count, a customer: refused.
    const dup = await vendorBrowser.post('/portal/issue', { csrf, licenseId: 'LIC-NEW' });
    expect(dup.res.status).toBe(400);
    expect((await vendorBrowser.post('/portal/issue', { csrf, licenseId: 'LIC-NEW2', seats: 'basic:3' })).res.status).toBe(400);
    const own = await acme.csrf();
    expect((await acme.post('/portal/issue', { csrf: own, licenseId: 'LIC-MINE', customer: 'Acme Corp' })).res.status).toBe(404);
    expect((await acme.get('/portal/issue')).res.status).toBe(404);
  });

  it('creates a company, links a license, adds an administrator (initial password shown once)', async () => {
    const csrf = await vendorBrowser.csrf('/portal/companies');
    expect((await vendorBrowser.post('/portal/companies', { csrf, code: 'initech', name: 'Initech', customers: '', licenseIds: 'LIC-A3' })).res.status).toBe(303);
    const dup = await vendorBrowser.post('/portal/companies', { csrf, code: 'INITECH', name: 'Initech again' });
    expect(dup.res.status).toBe(409);
    expect((await vendorBrowser.post('/portal/companies/accounts', { csrf, code: 'INITECH', email: 'boss@initech.example' })).res.status).toBe(303);
    const page = await vendorBrowser.get('/portal/companies');
    const initial = shownSecret(page.body);
    expect(page.body).toContain('boss@initech.example');
    const boss = await signedIn({ company: 'INITECH', email: 'boss@initech.example', password: initial }, 'initech-chosen');
    const list = await boss.get('/portal/licenses');
    expect(list.body).toContain('LIC-A3');
    expect(list.body).not.toContain('LIC-A1');
    // Forgot the password: the vendor gives a new initial one; the old sessions end.
    expect((await vendorBrowser.post('/portal/companies/accounts/change', { csrf, code: 'initech', email: 'Boss@initech.example', action: 'password' })).res.status).toBe(303);
    const again = shownSecret((await vendorBrowser.get('/portal/companies')).body);
    expect((await boss.get('/portal/licenses')).res.headers.get('location')).toBe('/portal/sign-in');
    expect((await new Browser(base).signIn({ company: 'INITECH', email: 'boss@initech.example', password: 'initech-chosen' })).status).toBe(401);
    const back = await signedIn({ company: 'INITECH', email: 'boss@initech.example', password: again }, 'initech-chosen-2');
    expect((await back.get('/portal/licenses')).res.status).toBe(200);
    // The admin API does the same, and removes an account.
    const api = await admin('/v1/admin/portal/accounts/password', { code: 'INITECH', email: 'boss@initech.example' });
    expect(api.initialPassword).toMatch(/^[A-Za-z0-9]{16}$/);
    expect((await vendorBrowser.post('/portal/companies/accounts/change', { csrf, code: 'INITECH', email: 'boss@initech.example', action: 'remove' })).res.status).toBe(303);
    expect((await new Browser(base).signIn({ company: 'INITECH', email: 'boss@initech.example', password: api.initialPassword as string })).status).toBe(401);
    const gone = await fetch(`${base}/v1/admin/portal/accounts/remove`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ code: 'INITECH', email: 'boss@initech.example' }) });
    expect(gone.status).toBe(404);
  });
});
