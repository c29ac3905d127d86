/**
 * The portal's Settings and Notifications pages over real HTTP and a FileStore: a customer's
 * administrator sets thresholds, a credit top-up and recipients for the company's own license
 * (the admin API then answers the same settings), a wrong value is an error page that changes
 * nothing, and another company's administrator, crafting the URLs and POSTs with its own valid
 * session and form token, is told the license does not exist and changes nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../src/node/store/file-store.js';
import { Browser } from './helpers/portal.js';
import { listening, type Listening } from './helpers/listening.js';
import { makeVendor } from './helpers/vendor.js';

const TOKEN = 'portal-settings-token-0123456789';
const vendor = makeVendor();
const dir = mkdtempSync(join(tmpdir(), 'licit-87s-'));
let srv: Listening;
let acme: Browser;
let globex: Browser;

async function admin(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, any>> {
  const res = await fetch(srv.url + path, { method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const json = (await res.json()) as Record<string, any>;
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json;
}

async function customer(company: string, email: string, initial: string): Promise<Browser> {
  const b = new Browser(srv.url);
  await b.signIn({ company, email, password: initial });
  const csrf = await b.csrf('/portal/password');
  const { res } = await b.post('/portal/password', { csrf, current: initial, next: `${initial}-chosen`, repeat: `${initial}-chosen` });
  expect(res.status).toBe(303);
  return b;
}

/** Every input of a page has a label, and nothing is inline. */
function wellFormed(body: string): void {
  expect(body).not.toMatch(/<style|style=|\son[a-z]+=/i);
  for (const m of body.matchAll(/<(?:input|select)([^>]*)>/g)) {
    if (/type="hidden"/.test(m[1] as string)) continue;
    const id = /id="([^"]+)"/.exec(m[1] as string)?.[1];
    expect(id, m[0]).toBeDefined();
    expect(body).toContain(`<label for="${id}"`);
  }
}

beforeAll(async () => {
  srv = await listening({ signingKey: vendor.privateKeyPem, store: new FileStore(dir), adminToken: TOKEN, accessLog: false, portal: { scrypt: { N: 1024, r: 8, p: 1 } } });
  await admin('POST', '/v1/admin/licenses', { license: await vendor.issue({ licenseId: 'LIC-A', customer: 'Acme Corp', credits: 1000, seats: { basic: 5 } }) });
  await admin('POST', '/v1/admin/licenses', { license: await vendor.issue({ licenseId: 'LIC-G', customer: 'Globex', credits: 50 }) });
  await admin('POST', '/v1/admin/portal/companies', { code: 'ACME', name: 'Acme Corp', customers: ['Acme Corp'] });
  await admin('POST', '/v1/admin/portal/companies', { code: 'GLOBEX', name: 'Globex', customers: ['Globex'] });
  await admin('POST', '/v1/admin/portal/accounts', { code: 'ACME', email: 'it@acme.example', password: 'acme-initial-1' });
  await admin('POST', '/v1/admin/portal/accounts', { code: 'GLOBEX', email: 'it@globex.example', password: 'globex-initial-1' });
  acme = await customer('ACME', 'it@acme.example', 'acme-initial-1');
  globex = await customer('GLOBEX', 'it@globex.example', 'globex-initial-1');
}, 60_000);

afterAll(async () => {
  await srv?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the Settings page', () => {
  it('a company administrator sets thresholds and a credit top-up; the admin API answers the same', async () => {
    const { res, body } = await acme.get('/portal/licenses/LIC-A/settings');
    expect(res.status).toBe(200);
    wellFormed(body);
    expect(body).toContain('<legend>Credits</legend>');
    expect(body).toContain('1000 of 1000 left');
    expect(body).toContain('<legend>Seats of type basic</legend>');
    expect(body).toContain('<label for="t1-add">Seats to add each time</label>');
    const csrf = await acme.csrf('/portal/licenses/LIC-A/settings');
    const form = { csrf, f0: 'credits', 'n0.mode': 'remaining', 'n0.value': '300', 't0.at': '100', 't0.add': '500', f1: 'basic', 'n1.mode': 'percent', 'n1.value': '80', 't1.at': '1', 't1.add': '3' };
    const saved = await acme.post('/portal/licenses/LIC-A/settings', form);
    expect([saved.res.status, saved.res.headers.get('location')]).toEqual([303, '/portal/licenses/LIC-A/settings']);
    const after = await acme.get('/portal/licenses/LIC-A/settings');
    expect(after.body).toContain('The settings were saved');
    expect(after.body).toMatch(/id="t0-add" name="t0.add"[^>]*value="500"/);
    expect(after.body).toMatch(/<option value="percent" selected>/);
    const api = await admin('GET', '/v1/admin/settings?licenseId=LIC-A');
    expect(api.settings).toEqual({ seats: { basic: { notify: { usedPercentAtLeast: 80 }, topUp: { remainingAtMost: 1, add: 3 } } }, credits: { notify: { remainingAtMost: 300 }, topUp: { remainingAtMost: 100, add: 500 } }, recipients: [] });
    expect(api.updatedBy).toBe('portal:ACME:it@acme.example');

    // A top-up that does not lift the figure past its threshold: an error page, nothing saved.
    const bad = await acme.post('/portal/licenses/LIC-A/settings', { ...form, 't0.add': '50' });
    expect(bad.res.status).toBe(400);
    expect(bad.body).toContain('ERR_SETTINGS_INVALID');
    expect(bad.body).toMatch(/add more than 100, or lower the threshold/);
    const half = await acme.post('/portal/licenses/LIC-A/settings', { ...form, 'n0.value': '' });
    expect([half.res.status, /enter the threshold for credits/.test(half.body)]).toEqual([400, true]);
    expect((await admin('GET', '/v1/admin/settings?licenseId=LIC-A')).revision).toBe(api.revision);
  });

  it('the Notifications page adds, edits and removes recipients', async () => {
    const page = await acme.get('/portal/licenses/LIC-A/notifications');
    expect(page.res.status).toBe(200);
    wellFormed(page.body);
    expect(page.body).toContain('Nobody is notified yet.');
    const csrf = await acme.csrf('/portal/licenses/LIC-A/notifications');
    // Sent by hand: the form repeats "kinds" once per box ticked.
    const send = (form: Record<string, string>, kinds: string[] = []) => {
      const body = new URLSearchParams({ csrf, ...form });
      for (const k of kinds) body.append('kinds', k);
      return fetch(`${srv.url}/portal/licenses/LIC-A/notifications`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: acme.cookieHeader() }, body, redirect: 'manual' });
    };
    expect((await send({ action: 'add', email: 'ops@acme.example' }, ['alerts'])).status).toBe(303);
    expect((await send({ action: 'add', email: 'billing@acme.example' }, ['top-ups', 'top-up-failures'])).status).toBe(303);
    expect((await send({ action: 'save', email: 'OPS@acme.example' }, ['alerts', 'top-up-failures'])).status).toBe(303);
    const dup = await send({ action: 'add', email: 'ops@ACME.example' }, []);
    expect([dup.status, /on the list already/.test(await dup.text())]).toEqual([400, true]);
    expect((await send({ action: 'add', email: 'not an address' }, [])).status).toBe(400);
    expect((await send({ action: 'remove', email: 'billing@acme.example' })).status).toBe(303);
    const api = await admin('GET', '/v1/admin/settings?licenseId=LIC-A');
    expect(api.settings.recipients).toEqual([{ email: 'ops@acme.example', kinds: ['alerts', 'top-up-failures'] }]);
    // The thresholds set on the Settings page are untouched.
    expect(api.settings.credits.topUp).toEqual({ remainingAtMost: 100, add: 500 });
    const shown = await acme.get('/portal/licenses/LIC-A/notifications');
    expect(shown.body).toContain('ops@acme.example');
    expect(shown.body).toContain('Threshold alerts, Automatic top-ups that failed');
  });

  it("another company's administrator can neither see nor change them, whatever it crafts", async () => {
    const before = await admin('GET', '/v1/admin/settings?licenseId=LIC-A');
    for (const path of ['/portal/licenses/LIC-A/settings', '/portal/licenses/LIC-A/notifications']) {
      const { res, body } = await globex.get(path);
      expect([res.status, body.includes('ERR_LICENSE_NOT_REGISTERED')]).toEqual([404, true]);
    }
    // Its own session's valid form token, posted at Acme's license.
    const csrf = await globex.csrf('/portal/licenses/LIC-G/settings');
    const s = await globex.post('/portal/licenses/LIC-A/settings', { csrf, f0: 'credits', 'n0.mode': 'remaining', 'n0.value': '999', 't0.at': '', 't0.add': '' });
    expect(s.res.status).toBe(404);
    const n = await globex.post('/portal/licenses/LIC-A/notifications', { csrf, action: 'add', email: 'spy@globex.example', kinds: 'alerts' });
    expect(n.res.status).toBe(404);
    const r = await globex.post('/portal/licenses/LIC-A/notifications', { csrf, action: 'remove', email: 'ops@acme.example' });
    expect(r.res.status).toBe(404);
    const after = await admin('GET', '/v1/admin/settings?licenseId=LIC-A');
    expect([after.revision, after.settings]).toEqual([before.revision, before.settings]);
    // Its own license works, and the vendor sees both.
    expect((await globex.post('/portal/licenses/LIC-G/settings', { csrf, f0: 'credits', 'n0.mode': 'remaining', 'n0.value': '10' })).res.status).toBe(303);
    const v = new Browser(srv.url);
    expect((await v.signIn({ token: TOKEN })).status).toBe(303);
    expect((await v.get('/portal/licenses/LIC-A/settings')).res.status).toBe(200);
    expect((await v.get('/portal/licenses/LIC-G/notifications')).res.status).toBe(200);
  });

  it('the Notifications page says how notifications leave the server: webhook endpoints to the vendor, a warning when none would', async () => {
    // This server has no webhook: the customer is told nobody is e-mailed, the vendor how to fix it.
    const none = await acme.get('/portal/licenses/LIC-A/notifications');
    expect(none.body).toContain('does not pass on threshold alerts, automatic top-ups made, automatic top-ups that failed yet');
    expect(none.body).not.toContain('Webhook endpoints');
    const v = new Browser(srv.url);
    await v.signIn({ token: TOKEN });
    const vendorNone = await v.get('/portal/licenses/LIC-A/notifications');
    expect(vendorNone.body).toContain('This server has no webhook endpoint.');
    expect(vendorNone.body).toContain('--webhook URL');

    // A server whose one endpoint takes alerts only: the vendor sees it (no credentials, no query),
    // and the kinds that reach nobody.
    const other = await listening({
      signingKey: vendor.privateKeyPem,
      store: new FileStore(mkdtempSync(join(tmpdir(), 'licit-87s-hooks-'))),
      adminToken: TOKEN,
      accessLog: false,
      webhooks: { endpoints: [{ url: 'http://user:pw@127.0.0.1:9/hooks/licit?token=abc', secret: 'whsec-0123456789abcdef', kinds: ['alert.raised', 'alert.cleared'] }], onError: () => undefined },
      portal: { scrypt: { N: 1024, r: 8, p: 1 } },
    });
    try {
      const h = (await fetch(`${other.url}/v1/admin/licenses`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ license: await vendor.issue({ licenseId: 'LIC-H', customer: 'Hooli', credits: 10 }) }) })).status;
      expect(h).toBe(200);
      const w = new Browser(other.url);
      await w.signIn({ token: TOKEN });
      const page = await w.get('/portal/licenses/LIC-H/notifications');
      wellFormed(page.body);
      expect(page.body).toMatch(/<td data-label="Endpoint">http:\/\/127.0.0.1:9\/hooks\/licit<\/td><td data-label="Receives">Threshold alerts<\/td>/);
      expect(page.body).not.toMatch(/token=abc|user:pw/);
      expect(page.body).toContain('hands automatic top-ups made, automatic top-ups that failed to no webhook endpoint');
    } finally {
      await other.close();
    }
  });
});
