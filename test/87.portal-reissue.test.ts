/**
 * Re-issuing a license and adding seats (issue #17, the vendor's re-issue; the Licence Manager's
 * "add licences" by hand or by an automatic top-up): one implementation, server/reissue.ts,
 * behind the portal's Re-issue and Add seats forms, `POST /v1/admin/licenses/reissue` and
 * `/seats`, and `licit licenses reissue` (the built CLI, on the server's FileStore). The same
 * change gives the same claims whichever way it is made; a retried top-up with its idempotency key
 * adds once; each seat count changed is a `seats.changed` event with its source, which the report
 * counts; an installation gets the new key with its next lease; a customer cannot reach either form.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequest, newNonce, openLease } from '../src/core/exchange/index.js';
import { inspectLicense } from '../src/core/license/inspect.js';
import { issueLicense } from '../src/issuer/index.js';
import { FileStore } from '../src/node/store/file-store.js';
import { createLicenseServer, type LicenseServer } from '../src/server/index.js';
import { addSeats } from '../src/server/reissue.js';
import { licitAsync } from './helpers/cli.js';
import { newInstallation } from './helpers/installation.js';
import { Browser, shownSecret } from './helpers/portal.js';
import { makeVendor } from './helpers/vendor.js';

const TOKEN = 'reissue-admin-token-0123456789';
const LOW = { N: 1024, r: 8, p: 1 };
const vendor = makeVendor();
const dir = join(mkdtempSync(join(tmpdir(), 'licit-87r-')), 'store');
const CLAIMS = { customer: 'Acme Corp', edition: 'basic', features: ['core', 'legacy'], seats: { basic: 10, pro: 2 }, maxActivations: 5, maxUsers: 5, expiresAt: new Date('2030-01-01T00:00:00Z'), meta: { order: 'PO-7' } };
let server: LicenseServer;
let fileStore: FileStore;
let base: string;
let close: () => Promise<void>;
let vendorBrowser: Browser;

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, any> }> {
  const res = await server.handle(new Request(`http://x${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }));
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const cli = (args: string[]) => licitAsync(args);

/** A key's claims without what differs between any two keys (license id, issue time). */
function sameAcrossLicenses(key: string): Record<string, unknown> {
  const { licenseId: _id, issuedAt: _at, ...rest } = inspectLicense(key).claims;
  return rest;
}

const seatEvents = async (licenseId: string) => (await server.vendor.store.events(licenseId)).filter((e) => e.kind === 'seats.changed').map((e): Record<string, unknown> => ({ actor: e.actor, ...e.details }));
const issues = async (licenseId: string) => (await api('GET', `/v1/admin/license?licenseId=${licenseId}`)).body.issues as { n: number; text: string; issuedBy: string; changes: Record<string, unknown> }[];

beforeAll(async () => {
  fileStore = new FileStore(dir);
  server = createLicenseServer({ signingKey: vendor.privateKeyPem, store: fileStore, adminToken: TOKEN, accessLog: false, rateLimit: false, portal: { scrypt: LOW } });
  const bound = await server.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${bound.port}`;
  close = () => bound.close(100);
  for (const id of ['LIC-P', 'LIC-A', 'LIC-C']) expect((await api('POST', '/v1/admin/licenses', { license: await vendor.issue({ licenseId: id, ...CLAIMS }) })).status).toBe(200);
  expect((await api('POST', '/v1/admin/portal/companies', { code: 'ACME', name: 'Acme Corp', customers: ['Acme Corp'] })).status).toBe(200);
  expect((await api('POST', '/v1/admin/portal/accounts', { code: 'ACME', email: 'it@acme.example', password: 'acme-initial-1' })).status).toBe(200);
  vendorBrowser = new Browser(base);
  expect((await vendorBrowser.signIn({ token: TOKEN })).status).toBe(303);
}, 60_000);

afterAll(async () => {
  await close?.();
  await fileStore?.close();
});

describe('re-issue: one rule behind the portal, the admin API and the CLI', () => {
  it('the same change gives the same claims, the same recorded changes and the same seats.changed events', async () => {
    // The portal: the Re-issue form on the license's details page.
    const page = await vendorBrowser.get('/portal/licenses/LIC-P');
    expect(page.body).toContain('action="/portal/licenses/LIC-P/reissue"');
    expect(page.body).toMatch(/<form class="stack" method="post" action="\/portal\/licenses\/LIC-P\/reissue" data-confirm="[^"]+"><input type="hidden" name="csrf"/);
    expect(page.body).toContain('<label for="re-expires">');
    const csrf = await vendorBrowser.csrf('/portal/licenses/LIC-P');
    const empty = await vendorBrowser.post('/portal/licenses/LIC-P/reissue', { csrf, expires: '', seats: '' });
    expect(empty.res.status).toBe(400);
    expect(empty.body).toContain('ERR_USAGE');
    const posted = await vendorBrowser.post('/portal/licenses/LIC-P/reissue', { csrf, expires: '2031-06-30', seats: 'basic=12', addFeatures: 'export', removeFeatures: 'legacy', maxActivations: '9', edition: 'pro', maxUsers: '' });
    expect([posted.res.status, posted.res.headers.get('location')], posted.body.slice(0, 600)).toEqual([303, '/portal/licenses/LIC-P']);
    const shown = await vendorBrowser.get('/portal/licenses/LIC-P');
    const portalKey = shownSecret(shown.body);
    expect(shown.body).toMatch(/License LIC-P was re-issued \(key 2, changed/);

    // The admin API.
    const viaApi = await api('POST', '/v1/admin/licenses/reissue', { licenseId: 'LIC-A', expiresAt: '2031-06-30', seats: { basic: 12 }, addFeatures: ['export'], removeFeatures: ['legacy'], maxActivations: 9, edition: 'pro' });
    expect(viaApi.status, JSON.stringify(viaApi.body)).toBe(200);
    expect(viaApi.body).toMatchObject({ ok: true, licenseId: 'LIC-A', issue: 2, reissued: true, seats: [{ type: 'basic', from: 10, to: 12 }] });

    // The CLI, on the server's own store.
    const viaCli = await cli(['licenses', 'reissue', 'LIC-C', '--signing-key', vendor.keyPath, '--expires', '2031-06-30', '--seats', 'basic=12', '--feature', 'export', '--remove-feature', 'legacy', '--max-activations', '9', '--edition', 'pro', '--issued-by', 'carol', '--store', dir, '--json']);
    expect(viaCli.code, viaCli.stderr + viaCli.stdout).toBe(0);
    expect(viaCli.json()).toMatchObject({ ok: true, licenseId: 'LIC-C', issue: 2, seats: [{ type: 'basic', from: 10, to: 12 }] });

    const claims = sameAcrossLicenses(portalKey);
    expect(claims).toMatchObject({ edition: 'pro', features: ['core', 'export'], seats: { basic: 12, pro: 2 }, maxActivations: 9, maxUsers: 5, expiresAt: new Date('2031-06-30T23:59:59Z'), meta: { order: 'PO-7' }, customer: 'Acme Corp' });
    expect(sameAcrossLicenses(viaApi.body.key as string)).toEqual(claims);
    expect(sameAcrossLicenses(viaCli.json().key as string)).toEqual(claims);

    const recorded = await Promise.all(['LIC-P', 'LIC-A', 'LIC-C'].map(async (id) => (await issues(id)).at(-1)));
    expect(recorded.map((i) => i?.issuedBy)).toEqual(['portal:vendor', 'admin', 'carol']);
    expect(recorded[1]?.changes).toEqual(recorded[0]?.changes);
    expect(recorded[2]?.changes).toEqual(recorded[0]?.changes);
    expect(Object.keys(recorded[0]?.changes ?? {}).sort()).toEqual(['edition', 'expiresAt', 'features', 'maxActivations', 'seats']);
    for (const [id, actor] of [['LIC-P', 'portal:vendor'], ['LIC-A', 'admin'], ['LIC-C', 'carol']] as const) {
      expect(await seatEvents(id)).toEqual([{ actor, type: 'basic', from: 10, to: 12, licensed: 12, source: 'manual' }]);
    }
  }, 30_000);

  it("the portal form removes a claim the key has (the API's null), and refuses one both given and removed", async () => {
    const page = await vendorBrowser.get('/portal/licenses/LIC-C');
    expect(page.body).toContain('<input type="checkbox" id="re-clear-maxUsers" name="clear" value="maxUsers"><label for="re-clear-maxUsers">');
    // Only the claims the key has: it has no end of maintenance.
    expect(page.body).not.toContain('re-clear-maintenanceExpiresAt');
    const csrf = await vendorBrowser.csrf('/portal/licenses/LIC-C');
    const before = (await issues('LIC-C')).length;
    const both = await vendorBrowser.post('/portal/licenses/LIC-C/reissue', { csrf, maxUsers: '7', clear: 'maxUsers' });
    expect([both.res.status, both.body.includes('both given a new value and removed')]).toEqual([400, true]);
    const odd = await vendorBrowser.post('/portal/licenses/LIC-C/reissue', { csrf, clear: 'customer' });
    expect(odd.res.status).toBe(400);
    expect((await issues('LIC-C')).length).toBe(before);
    const removed = await vendorBrowser.post('/portal/licenses/LIC-C/reissue', { csrf, clear: 'maxUsers', idempotencyKey: 'form-C-1' });
    expect(removed.res.status, removed.body.slice(0, 400)).toBe(303);
    // The same form sent again (its hidden key): nothing more is signed.
    const again = await vendorBrowser.post('/portal/licenses/LIC-C/reissue', { csrf, clear: 'maxUsers', idempotencyKey: 'form-C-1' });
    expect(again.res.status).toBe(303);
    expect((await vendorBrowser.get('/portal/licenses/LIC-C')).body).toContain('the form was sent twice');
    expect((await issues('LIC-C')).length).toBe(before + 1);
    expect(page.body).toMatch(/action="\/portal\/licenses\/LIC-C\/reissue"[^>]*><input type="hidden" name="csrf" value="[^"]+"><input type="hidden" name="idempotencyKey" value="[A-Za-z0-9_-]{22}">/);
    const claims = (await server.vendor.license('LIC-C')).license.claims;
    expect([claims.maxUsers, claims.maxActivations]).toEqual([undefined, 9]);
    expect((await issues('LIC-C')).at(-1)?.changes).toEqual({ maxUsers: { from: 5, to: null } });
  });

  it('an installation gets the re-issued key with its next lease', async () => {
    const first = await vendor.issue({ licenseId: 'LIC-I', ...CLAIMS });
    expect((await api('POST', '/v1/admin/licenses', { license: first })).status).toBe(200);
    const inst = newInstallation();
    const ask = async (operation: 'activate' | 'renew') => {
      const request = await createRequest({ operation, licenseId: 'LIC-I', licenseKey: first, fingerprint: 'fp1:mi=AAAAAAAAAAAAAAAAAAAAAA', nonce: newNonce(), clientTime: new Date() }, inst);
      const res = await server.handle(new Request(`http://x/v1/${operation}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request }) }));
      const body = (await res.json()) as Record<string, any>;
      expect(res.status, JSON.stringify(body)).toBe(200);
      return openLease(body.lease as string, vendor.publicKeyPem);
    };
    // A lease carries a key only when it is not the one the installation sent.
    expect((await ask('activate')).licenseKey).toBeUndefined();
    const r = await api('POST', '/v1/admin/licenses/reissue', { licenseId: 'LIC-I', maxActivations: 7 });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect((await ask('renew')).licenseKey).toBe(r.body.key);
  });
});

describe('re-issue refusals, and an expired license renewed by a re-issue', () => {
  it('an expired key needs a new expiry; a revoked license or an unknown one is refused, nothing signed', async () => {
    // Recorded in the registry only (issueLicense with a store): the server learns the key from the re-issue.
    await issueLicense({ licenseId: 'LIC-E', customer: 'Acme Corp', seats: { basic: 2 }, expiresAt: new Date('2020-06-01T00:00:00Z') }, { signingKey: vendor.privateKeyPem, now: () => Date.parse('2020-01-01T00:00:00Z'), store: server.vendor.store });
    const stale = await api('POST', '/v1/admin/licenses/reissue', { licenseId: 'LIC-E', maxUsers: 3 });
    expect([stale.status, stale.body.error?.code]).toEqual([400, 'ERR_KEY_INVALID_CLAIM']);
    expect(stale.body.error.message).toMatch(/expired on 2020-06-01.*give a new expiry date/);
    const renewed = await api('POST', '/v1/admin/licenses/reissue', { licenseId: 'LIC-E', expiresAt: '2035-01-01', seats: { basic: 4 }, maxUsers: null });
    expect(renewed.status, JSON.stringify(renewed.body)).toBe(200);
    expect(renewed.body).toMatchObject({ issue: 2, seats: [{ type: 'basic', from: 2, to: 4 }], changes: { expiresAt: { from: '2020-06-01T00:00:00.000Z', to: '2035-01-01T23:59:59.000Z' } } });
    expect((await api('GET', '/v1/admin/devices?licenseId=LIC-E')).status).toBe(200);
    expect((await api('POST', '/v1/admin/licenses/revoke', { licenseId: 'LIC-E', reason: 'refunded' })).status).toBe(200);
    const revoked = await api('POST', '/v1/admin/licenses/reissue', { licenseId: 'LIC-E', maxUsers: 3 });
    expect([revoked.status, revoked.body.error?.code]).toEqual([409, 'ERR_LICENSE_STATE']);
    expect(revoked.body.error.message).toMatch(/issue a new license/);
    expect((await issues('LIC-E')).length).toBe(2);
    const unknown = await api('POST', '/v1/admin/licenses/reissue', { licenseId: 'LIC-NONE', maxUsers: 3 });
    expect([unknown.status, unknown.body.error?.code]).toEqual([404, 'ERR_LICENSE_NOT_REGISTERED']);
    expect((await api('POST', '/v1/admin/licenses/reissue', { licenseId: 'LIC-A', seats: { basic: -1 } })).body.error?.code).toBe('ERR_USAGE');
    expect((await api('POST', '/v1/admin/licenses/reissue', { licenseId: 'LIC-A', source: 'robot' })).body.error?.code).toBe('ERR_USAGE');
  });
});

describe('adding seats: by hand or by an automatic top-up, idempotent by key', () => {
  it('a retried top-up with the same idempotency key adds once; another amount under it is refused', async () => {
    const body = { licenseId: 'LIC-A', type: 'pro', add: 3, source: 'auto' };
    const first = await api('POST', '/v1/admin/licenses/seats', body, { 'idempotency-key': 'topup-2027-05-a' });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toMatchObject({ reissued: true, type: 'pro', from: 2, to: 5, issue: 3 });
    const again = await api('POST', '/v1/admin/licenses/seats', body, { 'idempotency-key': 'topup-2027-05-a' });
    expect(again.body).toMatchObject({ reissued: false, type: 'pro', from: 2, to: 5, issue: 3, key: first.body.key });
    const other = await api('POST', '/v1/admin/licenses/seats', { ...body, add: 4 }, { 'idempotency-key': 'topup-2027-05-a' });
    expect([other.status, other.body.error?.code]).toEqual([409, 'ERR_IDEMPOTENCY_CONFLICT']);
    // The function another engineer's automatic top-up calls: the same rule, the same key space.
    const ctx = { store: server.vendor.store, signingKey: vendor.privateKeyPem };
    const viaFn = await addSeats(ctx, 'LIC-A', 'pro', 3, { source: 'auto', actor: 'auto-topup', idempotencyKey: 'topup-2027-05-a' });
    expect(viaFn).toMatchObject({ reissued: false, to: 5 });
    expect(inspectLicense((await issues('LIC-A')).at(-1)?.text as string).claims.seats).toEqual({ basic: 12, pro: 5 });
    expect((await seatEvents('LIC-A')).filter((e) => e.type === 'pro')).toEqual([{ actor: 'admin', type: 'pro', from: 2, to: 5, licensed: 5, source: 'auto' }]);
    // Two top-ups at once without a key both count: each starts from the key the other signed.
    await Promise.all([addSeats(ctx, 'LIC-A', 'pro', 1, { source: 'auto', actor: 'auto-topup' }), addSeats(ctx, 'LIC-A', 'pro', 1, { source: 'auto', actor: 'auto-topup' })]);
    expect(inspectLicense((await issues('LIC-A')).at(-1)?.text as string).claims.seats).toEqual({ basic: 12, pro: 7 });
    const unknown = await api('POST', '/v1/admin/licenses/seats', { licenseId: 'LIC-A', type: 'gold', add: 1 });
    expect(unknown.body.error).toMatchObject({ code: 'ERR_UNKNOWN_USER_TYPE' });
    expect(unknown.body.error.message).toMatch(/"basic", "pro".*re-issue/);
  });

  it('the portal adds seats per user type; the report counts the additions and the automatic ones', async () => {
    const seatsPage = await vendorBrowser.get('/portal/licenses/LIC-P/seats');
    expect(seatsPage.body).toContain('<label for="add-pro">Seats to add (pro)</label>');
    expect(seatsPage.body).toMatch(/action="\/portal\/licenses\/LIC-P\/seats\/add" data-confirm="Add these pro seats/);
    const csrf = await vendorBrowser.csrf('/portal/licenses/LIC-P/seats');
    const posted = await vendorBrowser.post('/portal/licenses/LIC-P/seats/add', { csrf, type: 'pro', add: '4' });
    expect([posted.res.status, posted.res.headers.get('location')], posted.body.slice(0, 600)).toEqual([303, '/portal/licenses/LIC-P/seats']);
    const after = await vendorBrowser.get('/portal/licenses/LIC-P/seats');
    expect(after.body).toContain('4 pro seats were added to license LIC-P (2 → 6)');
    expect(sameAcrossLicenses(shownSecret(after.body)).seats).toEqual({ basic: 12, pro: 6 });
    expect((await vendorBrowser.post('/portal/licenses/LIC-P/seats/add', { csrf, type: 'pro', add: '0' })).res.status).toBe(400);

    const report = async (id: string) => (await api('GET', `/v1/admin/reports?licenseId=${id}&range=month`)).body.report;
    expect((await report('LIC-P')).topUps).toMatchObject({ seats: 2, automatic: 0 });
    expect((await report('LIC-P')).licensesAdded).toBe(6);
    // LIC-A: the manual re-issue (+2 basic), the keyed automatic top-up (+3 pro), two more automatic (+1 pro each).
    expect((await report('LIC-A')).topUps).toMatchObject({ seats: 4, automatic: 3 });
    expect((await report('LIC-A')).licensesAdded).toBe(7);
  });
});

describe('a customer reaches neither form', () => {
  it('sees no Re-issue or Add seats form, and a crafted POST is refused with nothing changed', async () => {
    const acme = new Browser(base);
    const res = await acme.signIn({ company: 'ACME', email: 'it@acme.example', password: 'acme-initial-1' });
    expect(res.headers.get('location')).toBe('/portal/password');
    let csrf = await acme.csrf('/portal/password');
    expect((await acme.post('/portal/password', { csrf, current: 'acme-initial-1', next: 'acme-chosen-pass', repeat: 'acme-chosen-pass' })).res.status).toBe(303);
    const details = await acme.get('/portal/licenses/LIC-P');
    expect(details.res.status).toBe(200);
    expect(details.body).not.toContain('/reissue');
    expect((await acme.get('/portal/licenses/LIC-P/seats')).body).not.toContain('/seats/add');
    csrf = await acme.csrf('/portal/licenses/LIC-P');
    const before = (await issues('LIC-P')).length;
    const reissue = await acme.post('/portal/licenses/LIC-P/reissue', { csrf, seats: 'basic=999', expires: '2099-12-31' });
    const add = await acme.post('/portal/licenses/LIC-P/seats/add', { csrf, type: 'basic', add: '500' });
    for (const r of [reissue, add]) {
      expect(r.res.status).toBe(404);
      expect(r.body).not.toContain('LICIT');
    }
    expect((await issues('LIC-P')).length).toBe(before);
  });
});
