/**
 * Changing a license user's e-mail (the Qbitec pages' "change e-mail"): `renameUser` in the core
 * moves the user, its activations, its seat, its own limit, its suspension and its password in one
 * transaction; the admin API (`POST /v1/admin/users/rename`) and the portal's license users page
 * call it. A renamed user keeps its devices, seat and password, an installation renews as the new
 * id, and a new id that is taken is refused with `ERR_USER_EXISTS` with nothing changed.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyId } from '../src/core/crypto/keys.js';
import { changePartyState, recordIssue } from '../src/core/admin/registry.js';
import { createRequest, newNonce, type InstallationSigner, type RequestInput } from '../src/core/exchange/index.js';
import { LicenseError } from '../src/core/errors.js';
import { verifyLicense } from '../src/core/license/verify.js';
import { Activations, SeatManager, renameUser } from '../src/core/seats/index.js';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { hashComponent } from '../src/node/fingerprint/index.js';
import { CREDENTIAL_KIND, LicenseUserCredentials } from '../src/server/auth/credentials.js';
import { createLicenseServer, type LicenseServer } from '../src/server/index.js';
import { KINDS } from '../src/server/kinds.js';
import { Browser } from './helpers/portal.js';
import { makeVendor } from './helpers/vendor.js';

const LOW = { N: 1024, r: 8, p: 1 };
const LIMITS = { id: 'LIC-R', seats: { basic: 2, pro: 1 }, maxUsers: 3, maxActivations: 4, maxUserActivations: 2 };

async function refusal(p: Promise<unknown>): Promise<LicenseError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(LicenseError);
  return e as LicenseError;
}

describe('renameUser (core)', () => {
  it('moves the user, its devices, seat, own limit, suspension and listed records in one transaction, audited once', async () => {
    const store = new MemoryStore();
    const acts = new Activations(store, LIMITS, { actor: 'test' });
    await acts.addUser('ann@old.example', { maxActivations: 1 });
    await acts.activate('ann@old.example', 'laptop', { info: { host: 'ann-laptop' } });
    await acts.rename('laptop', "Ann's laptop");
    await acts.addUser('bob@acme.example');
    await acts.activate('bob@acme.example', 'desk');
    await new SeatManager(store, LIMITS).assign('ann@old.example', 'pro');
    await store.transaction('LIC-R', async (tx) => tx.put('app.secret', 'ann@old.example', { v: 1 }));
    const before = await acts.usage();
    const seq = (await store.events('LIC-R')).length;

    const r = await renameUser(store, LIMITS, ' ann@old.example ', 'ann@new.example', { actor: 'admin', records: ['app.secret'] });
    expect(r).toMatchObject({ from: 'ann@old.example', to: 'ann@new.example', devices: ['laptop'], seat: 'pro', moved: ['app.secret'] });

    expect((await acts.users()).map((u) => [u.userId, u.maxActivations, u.activations])).toEqual([
      ['ann@new.example', 1, 1],
      ['bob@acme.example', 2, 1],
    ]);
    const [laptop] = await acts.devices('ann@new.example');
    expect(laptop).toMatchObject({ userId: 'ann@new.example', deviceId: 'laptop', label: "Ann's laptop", info: { host: 'ann-laptop' } });
    expect(await acts.devices('ann@old.example')).toEqual([]);
    expect(await acts.usage()).toEqual(before);
    const seats = new SeatManager(store, LIMITS);
    expect((await seats.access('ann@new.example')).type).toBe('pro');
    expect((await seats.access('ann@old.example')).access).toBe('denied');
    expect(await store.read('LIC-R', (x) => x.get('app.secret', 'ann@new.example'))).toEqual({ v: 1 });
    expect(await store.read('LIC-R', (x) => x.get('app.secret', 'ann@old.example'))).toBeUndefined();
    // The renamed user may still activate only as many devices as its own limit.
    expect((await refusal(acts.activate('ann@new.example', 'second'))).code).toBe('ERR_ACTIVATIONS_EXHAUSTED');
    const events = (await store.events('LIC-R')).slice(seq);
    expect(events.map((e) => e.kind)).toEqual(['user.renamed']);
    expect(events[0]?.details).toMatchObject({ user: 'ann@new.example', from: 'ann@old.example', devices: ['laptop'], seat: 'pro', moved: ['app.secret'] });
  });

  it('refuses a new id that is taken (a user, a seat holder) with ERR_USER_EXISTS, and changes nothing', async () => {
    const store = new MemoryStore();
    const acts = new Activations(store, LIMITS);
    await acts.addUser('ann@acme.example');
    await acts.activate('ann@acme.example', 'laptop');
    await acts.addUser('bob@acme.example');
    await new SeatManager(store, LIMITS).assign('carol@acme.example', 'basic');
    const seq = (await store.events('LIC-R')).length;
    const onUser = await refusal(renameUser(store, LIMITS, 'ann@acme.example', 'bob@acme.example'));
    expect(onUser.code).toBe('ERR_USER_EXISTS');
    expect(onUser.details).toMatchObject({ userId: 'bob@acme.example' });
    expect((await refusal(renameUser(store, LIMITS, 'ann@acme.example', 'carol@acme.example'))).code).toBe('ERR_USER_EXISTS');
    expect((await refusal(renameUser(store, LIMITS, 'nobody@acme.example', 'new@acme.example'))).code).toBe('ERR_USER_NOT_FOUND');
    expect((await refusal(renameUser(store, LIMITS, 'ann@acme.example', ' ann@acme.example'))).code).toBe('ERR_USAGE');
    expect((await store.events('LIC-R')).length).toBe(seq);
    expect((await acts.devices()).map((a) => a.userId)).toEqual(['ann@acme.example']);
  });

  it('a password a removed user left under the new id is dropped, never given to the renamed user; a suspension moves with the user', async () => {
    const store = new MemoryStore();
    const vendor = makeVendor();
    const license = await verifyLicense(await vendor.issue({ licenseId: 'LIC-P', maxUsers: 5 }), { publicKeys: [vendor.publicKeyPem] });
    await recordIssue(store, license, { actor: 'test', source: 'admin' });
    const acts = new Activations(store, license);
    const creds = new LicenseUserCredentials(store, 'LIC-P', { scrypt: LOW });
    await acts.addUser('ann@acme.example');
    await creds.setPassword('gone@acme.example', 'left-behind-1');
    await changePartyState(store, 'LIC-P', { kind: 'user', id: 'ann@acme.example' }, 'suspend', { actor: 'vendor' });
    await renameUser(store, license, 'ann@acme.example', 'gone@acme.example', { records: [CREDENTIAL_KIND] });
    expect(await creds.hasPassword('gone@acme.example')).toBe(false);
    expect(await store.read('LIC-P', (r) => r.get('registry', 'user:gone@acme.example'))).toMatchObject({ state: 'suspended' });
    expect(await store.read('LIC-P', (r) => r.get('registry', 'user:ann@acme.example'))).toBeUndefined();
  });
});

describe('POST /v1/admin/users/rename and the portal', () => {
  const TOKEN = 'portal-rename-token-0123456789';
  const vendor = makeVendor();
  let server: LicenseServer;
  let base: string;
  let close: () => Promise<void>;
  const call = async (path: string, body: unknown) => {
    const res = await fetch(base + path, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const acts = async () => server.vendor.activations((await server.vendor.license('LIC-N')).license, 'test');
  const creds = () => new LicenseUserCredentials(server.vendor.store, 'LIC-N', { scrypt: LOW });
  const inst: InstallationSigner = (() => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const raw = new Uint8Array(Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url'));
    return { kid: keyId(raw), publicKey: raw, sign: (m) => new Uint8Array(sign(null, m, privateKey)) };
  })();
  let key = '';
  const exchange = async (op: RequestInput['operation'], user: string | undefined, on = { licenseId: 'LIC-N', licenseKey: () => key }) => {
    const fingerprint = `fp1:su=${hashComponent('app', 'system-uuid', 'uuid-r')},bs=${hashComponent('app', 'board-serial', 'board-r')}`;
    const request = await createRequest({ operation: op, fingerprint, nonce: newNonce(), clientTime: new Date(), licenseId: on.licenseId, licenseKey: on.licenseKey(), ...(user === undefined ? {} : { user }) }, inst);
    const res = await fetch(`${base}/v1/${op}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request }) });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    server = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new MemoryStore(), adminToken: TOKEN, accessLog: false, rateLimit: false, portal: { scrypt: LOW } });
    const bound = await server.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${bound.port}`;
    close = () => bound.close(100);
    key = await vendor.issue({ licenseId: 'LIC-N', customer: 'Acme Corp', maxUsers: 5, maxActivations: 5 });
    expect((await call('/v1/admin/licenses', { license: key })).status).toBe(200);
    expect((await call('/v1/admin/portal/companies', { code: 'ACME', name: 'Acme Corp', customers: ['Acme Corp'] })).status).toBe(200);
    expect((await call('/v1/admin/portal/accounts', { code: 'ACME', email: 'it@acme.example', password: 'acme-admin-pass-1' })).status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await close?.();
  });

  it('the admin API renames: the installation renews as the new id, the password and devices stay; a taken id is 409 ERR_USER_EXISTS', async () => {
    expect((await call('/v1/admin/users', { licenseId: 'LIC-N', userId: 'dan@old.example', password: 'dan-password-1', mustChange: false })).status).toBe(200);
    expect((await exchange('activate', 'dan@old.example')).status).toBe(200);
    expect((await call('/v1/admin/users', { licenseId: 'LIC-N', userId: 'eve@acme.example' })).status).toBe(200);

    const taken = await call('/v1/admin/users/rename', { licenseId: 'LIC-N', userId: 'dan@old.example', newUserId: 'eve@acme.example' });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('ERR_USER_EXISTS');
    expect((await call('/v1/admin/users/rename', { licenseId: 'LIC-N', userId: 'nobody@acme.example', newUserId: 'x@acme.example' })).body.error.code).toBe('ERR_USER_NOT_FOUND');

    const ok = await call('/v1/admin/users/rename', { licenseId: 'LIC-N', userId: 'dan@old.example', newUserId: 'dan@new.example' });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toMatchObject({ licenseId: 'LIC-N', userId: 'dan@new.example', from: 'dan@old.example', devices: [inst.kid], seat: null, passwordMoved: true });
    expect((await (await acts()).devices()).map((a) => [a.userId, a.deviceId])).toEqual([['dan@new.example', inst.kid]]);
    expect(await server.vendor.store.read('LIC-N', (r) => r.get(KINDS.installation, inst.kid))).toMatchObject({ user: 'dan@new.example' });
    await expect(creds().checkPassword('dan@new.example', 'dan-password-1')).resolves.toEqual({ mustChange: false });
    expect(await creds().hasPassword('dan@old.example')).toBe(false);
    // The installation renews as the new id, without a new activation; as the old one it is not activated.
    expect((await exchange('renew', 'dan@new.example')).status).toBe(200);
    expect((await exchange('renew', 'dan@old.example')).body.error.code).toBe('ERR_ACTIVATION_NOT_FOUND');
    expect((await (await acts()).usage()).activations.inUse).toBe(1);
  });

  it('an application that names no user renews after its user ("default") is renamed; one naming the old id is not activated', async () => {
    // Licenses without sign-in: an application that sets no user activates as "default". Renaming
    // that user (the newcomer's first rename) moved the activation, but the renewal still asked for
    // "default" and was refused ERR_ACTIVATION_NOT_FOUND; it now renews as its activation's user.
    const dKey = await vendor.issue({ licenseId: 'LIC-D', customer: 'Acme Corp', maxActivations: 2 });
    const on = { licenseId: 'LIC-D', licenseKey: () => dKey };
    const activated = await exchange('activate', undefined, on);
    expect(activated.status, JSON.stringify(activated.body)).toBe(200);
    expect(activated.body.user).toBe('default');
    const ok = await call('/v1/admin/users/rename', { licenseId: 'LIC-D', userId: 'default', newUserId: 'gus@acme.example' });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const renewed = await exchange('renew', undefined, on);
    expect(renewed.status, JSON.stringify(renewed.body)).toBe(200);
    expect(renewed.body.user).toBe('gus@acme.example');
    expect((await exchange('usage', undefined, on)).status).toBe(200);
    // Naming a user still speaks for that user: the old id holds no activation.
    expect((await exchange('renew', 'default', on)).body.error.code).toBe('ERR_ACTIVATION_NOT_FOUND');
    expect((await exchange('renew', 'gus@acme.example', on)).status).toBe(200);
    const dActs = await server.vendor.activations((await server.vendor.license('LIC-D')).license, 'test');
    expect((await dActs.devices()).map((a) => [a.userId, a.deviceId])).toEqual([['gus@acme.example', inst.kid]]);
    expect((await dActs.usage()).activations.inUse).toBe(1);
    expect((await exchange('deactivate', undefined, on)).status).toBe(200);
    expect((await dActs.usage()).activations.inUse).toBe(0);
  });

  it('the portal: an administrator changes a user’s e-mail; the user signs in with the new one and the same password', async () => {
    expect((await call('/v1/admin/users', { licenseId: 'LIC-N', userId: 'fay@old.example', password: 'fay-password-1', mustChange: false })).status).toBe(200);
    await (await acts()).activate('fay@old.example', 'fay-laptop');
    const fay = new Browser(base);
    expect((await fay.signIn({ company: 'ACME', email: 'fay@old.example', password: 'fay-password-1' })).status).toBe(303);
    expect((await fay.get('/portal/licenses')).res.status).toBe(200);

    const it = new Browser(base);
    expect((await it.signIn({ company: 'ACME', email: 'it@acme.example', password: 'acme-admin-pass-1' })).status).toBe(303);
    let csrf = await it.csrf('/portal/password');
    expect((await it.post('/portal/password', { csrf, current: 'acme-admin-pass-1', next: 'acme-admin-chosen', repeat: 'acme-admin-chosen' })).res.status).toBe(303);
    const page = await it.get('/portal/licenses/LIC-N/users');
    expect(page.body).toContain('aria-label="Change e-mail for fay@old.example"');
    csrf = await it.csrf('/portal/licenses/LIC-N/users');
    const taken = await it.post('/portal/licenses/LIC-N/users/rename', { csrf, userId: 'fay@old.example', newUserId: 'eve@acme.example' });
    expect(taken.res.status).toBe(409);
    expect(taken.body).toContain('ERR_USER_EXISTS');
    const done = await it.post('/portal/licenses/LIC-N/users/rename', { csrf, userId: 'fay@old.example', newUserId: 'fay@new.example' });
    expect(done.res.status).toBe(303);
    expect((await it.get('/portal/licenses/LIC-N/users')).body).toContain('fay@old.example is now fay@new.example, keeping 1 device and the password.');
    expect((await (await acts()).devices('fay@new.example')).map((a) => a.deviceId)).toEqual(['fay-laptop']);
    const log = await server.vendor.store.events('LIC-N');
    expect(log.at(-1)).toMatchObject({ kind: 'user.renamed', actor: 'portal:ACME:it@acme.example', details: { user: 'fay@new.example', from: 'fay@old.example' } });

    // The old address's portal session ended; the old address no longer signs in, the new one does with the same password.
    expect((await fay.get('/portal/licenses')).res.status).toBe(303);
    expect((await new Browser(base).signIn({ company: 'ACME', email: 'fay@old.example', password: 'fay-password-1' })).status).toBe(401);
    const renamed = new Browser(base);
    expect((await renamed.signIn({ company: 'ACME', email: 'fay@new.example', password: 'fay-password-1' })).status).toBe(303);
    expect((await renamed.get('/portal/licenses/LIC-N/devices')).body).toContain('fay-laptop');
  });
});
