/**
 * What a developer new to licit runs into when following the docs and getting things wrong: each
 * mistake is a LicenseError with a stable code whose message says what to do, and a refused call
 * changes nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyLicense } from '../src/core/license/verify.js';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { CreditLedger } from '../src/node/ledger/credit-ledger.js';
import { Installation } from '../src/node/licensing/installation.js';
import { Licensing } from '../src/node/licensing/licensing.js';
import { createLicenseServer } from '../src/server/index.js';
import { licit } from './helpers/cli.js';
import { makeVendor } from './helpers/vendor.js';
import { refusal } from './helpers/refusal.js';

const vendor = makeVendor();
const work = mkdtempSync(join(tmpdir(), 'licit-newcomer-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let dirs = 0;
const fresh = () => join(work, `d-${++dirs}`);


describe('admin API: setting a user password', () => {
  it('a refused password adds no user (before, the user was added and the call still answered ERR_USAGE)', async () => {
    const server = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new MemoryStore(), adminToken: 'adm', accessLog: false });
    const post = async (path: string, body: unknown) => {
      const res = await server.handle(new Request(`http://x${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer adm' }, body: JSON.stringify(body) }));
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };
    const key = await vendor.issue({ licenseId: 'LIC-NEW-PW', userAuth: 'password' });
    expect((await post('/v1/admin/licenses', { license: key })).status).toBe(200);
    const short = await post('/v1/admin/users', { licenseId: 'LIC-NEW-PW', userId: 'bob', password: 'short' });
    expect(short.status).toBe(400);
    expect(short.body.error.code).toBe('ERR_USAGE');
    const usage = await server.handle(new Request('http://x/v1/admin/usage?licenseId=LIC-NEW-PW', { headers: { authorization: 'Bearer adm' } }));
    expect(((await usage.json()) as any).activations.users.inUse).toBe(0);
    const ok = await post('/v1/admin/users', { licenseId: 'LIC-NEW-PW', userId: 'bob', password: 'long enough secret' });
    expect(ok.body).toMatchObject({ ok: true, passwordSet: true });
  });
});

describe('Licensing.open options', () => {
  it('says which option is missing, and refuses a server that is not an http(s) URL at open, not as ERR_INTERNAL at activate', async () => {
    const key = await vendor.issue({ licenseId: 'LIC-NEW-OPT' });
    const e1 = await refusal(Licensing.open({ license: key, publicKeys: vendor.publicKeyPem, secret: 's' } as never));
    expect(e1.code).toBe('ERR_USAGE');
    expect(e1.message).toMatch(/missing or not text: dir/);
    expect(e1.details.missing).toEqual(['dir']);
    for (const server of ['not a url', 'ftp://licenses.example.com']) {
      const e = await refusal(Licensing.open({ license: key, publicKeys: vendor.publicKeyPem, dir: fresh(), secret: 's', server }));
      expect(e.code).toBe('ERR_USAGE');
      expect(e.message).toMatch(/`server` option must be the license server's http\(s\) URL/);
    }
    const e2 = await refusal(Licensing.open({ license: key, publicKeys: vendor.publicKeyPem, dir: fresh(), secret: 's', credentials: 'a password' as never }));
    expect(e2.code).toBe('ERR_USAGE');
    expect(e2.message).toMatch(/`credentials` option must be/);
  });

  it("a credentials callback that throws is ERR_USER_AUTH_REQUIRED (not ERR_INTERNAL, a licit bug), nothing is sent, and the app's error is the cause", async () => {
    const key = await vendor.issue({ licenseId: 'LIC-NEW-CB', userAuth: 'password' });
    let fetched = 0;
    const cancelled = new Error('user cancelled');
    const l = await Licensing.open({
      license: key, publicKeys: vendor.publicKeyPem, dir: fresh(), secret: 's', server: 'http://127.0.0.1:9', autoRenew: false, machineId: 'm-1', user: 'ann',
      credentials: async () => { throw cancelled; },
      fetch: (async () => { fetched++; throw new Error('no fetch expected'); }) as typeof fetch,
    });
    const e = await refusal(l.activate());
    expect(e.code).toBe('ERR_USER_AUTH_REQUIRED');
    expect(e.message).toMatch(/`credentials` callback failed \(user cancelled\)/);
    expect(e.cause).toBe(cancelled);
    expect(fetched).toBe(0);
    const bad = await Licensing.open({ license: key, publicKeys: vendor.publicKeyPem, dir: fresh(), secret: 's', server: 'http://127.0.0.1:9', autoRenew: false, machineId: 'm-2', credentials: async () => ({ pass: 'x' }) as never, fetch: (async () => { fetched++; throw new Error('no fetch expected'); }) as typeof fetch });
    expect((await refusal(bad.activate())).code).toBe('ERR_USAGE');
    expect(fetched).toBe(0);
    l.close();
    bad.close();
  });
});

describe('secrets and clocks', () => {
  it('an installation opened with another secret names the secret first, before advising to delete the key', async () => {
    const dir = fresh();
    await Installation.open({ dir, secret: 'right secret' });
    const e = await refusal(Installation.open({ dir, secret: 'wrong secret' }));
    expect(e.code).toBe('ERR_STATE_TAMPERED');
    expect(e.message).toMatch(/sealed with another secret .*--secret-file or LICIT_SECRET.*Only if the secret is right, remove/);
  });

  it('CreditLedger takes the same `now` as Licensing (ms), as well as a Date', async () => {
    const license = await verifyLicense(await vendor.issue({ licenseId: 'LIC-NEW-NOW', credits: 10 }), { publicKeys: [vendor.publicKeyPem] });
    const at = Date.parse('2030-01-02T03:04:05Z');
    const ledger = await CreditLedger.open(license, { secret: 's', dir: fresh(), mirrorDir: fresh(), now: () => at });
    await ledger.consume(2);
    expect((await ledger.history())[0]?.time.getTime()).toBe(at);
    const e = await refusal(ledger.consume('3' as never));
    expect(e.message).toMatch(/got string "3"/);
    await ledger.close();
  });
});

describe('licit respond on a license whose users sign in', () => {
  it('says that a request code carries no sign-in and to activate online', async () => {
    const key = await vendor.issue({ licenseId: 'LIC-NEW-RESP', userAuth: 'password' });
    const keyFile = join(work, 'resp.key');
    writeFileSync(keyFile, key);
    const secretFile = join(work, 'app.secret');
    writeFileSync(secretFile, 'app secret\n');
    const req = licit(['request', '--license', keyFile, '--public-key', join(vendor.dir, 'vendor.pub'), '--secret-file', secretFile, '--dir', fresh(), '--salt', 'com.example.test']);
    expect(req.code).toBe(0);
    const r = licit(['respond', '--signing-key', join(vendor.dir, 'vendor.key'), '--store', fresh(), '--json'], { input: req.stdout });
    expect(r.code).toBe(1);
    const out = r.json();
    expect(out.error?.code).toBe('ERR_USER_AUTH_REQUIRED');
    expect(out.error?.message).toMatch(/A request code carries no sign-in.*activate this installation online/);
  });
});

describe('licit verify and inspect take a key file, as --license does', () => {
  it('KEY may be @FILE or the path of a file; garbage is still ERR_KEY_MALFORMED', async () => {
    const key = await vendor.issue({ licenseId: 'LIC-NEW-FILE' });
    const keyFile = join(work, 'file.key');
    writeFileSync(keyFile, `${key}\n`);
    const pub = join(vendor.dir, 'vendor.pub');
    for (const arg of [keyFile, `@${keyFile}`]) {
      const r = licit(['verify', '--public-key', pub, arg, '--json']);
      expect(r.code).toBe(0);
      expect(r.json()).toMatchObject({ ok: true, status: 'valid', license: { licenseId: 'LIC-NEW-FILE' } });
      expect(licit(['inspect', arg, '--json']).json()).toMatchObject({ ok: true, verified: false });
    }
    expect(licit(['verify', '--public-key', pub, `@${join(work, 'missing.key')}`, '--json']).json().error?.code).toBe('ERR_USAGE');
    expect(licit(['verify', '--public-key', pub, 'not-a-key', '--json']).json().error?.code).toBe('ERR_KEY_MALFORMED');
  });
});
