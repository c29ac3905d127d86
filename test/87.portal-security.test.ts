/**
 * The licensing portal's security model, over HTTP against a real server on loopback (cookies
 * handled by hand): who can sign in and how often, the cookie's flags, sessions that end, CSRF
 * tokens on every form, and a customer who tries every URL and form it can craft to see or change
 * another customer's licenses. Each attempt must fail and change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { createLicenseServer, type LicenseServer } from '../src/server/index.js';
import { removeAccount } from '../src/server/portal/index.js';
import { Browser, shownSecret } from './helpers/portal.js';
import { makeVendor } from './helpers/vendor.js';

const TOKEN = 'portal-admin-token-0123456789';
const LOW = { N: 1024, r: 8, p: 1 };
const vendor = makeVendor();
let clock = Date.now();
let server: LicenseServer;
let base: string;
let close: () => Promise<void>;

async function admin(path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(base + path, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json;
}

async function activate(licenseId: string, userId: string, deviceId: string): Promise<void> {
  const license = (await server.vendor.license(licenseId)).license;
  const acts = server.vendor.activations(license, 'test');
  await acts.addUser(userId);
  await acts.activate(userId, deviceId, { info: { host: `${deviceId}.local` } });
}

const devicesOf = async (licenseId: string) => server.vendor.activations((await server.vendor.license(licenseId)).license).devices();

/** A signed-in company administrator whose initial password was already changed. */
async function customer(company: string, email: string, initial: string, chosen: string): Promise<Browser> {
  const b = new Browser(base);
  const res = await b.signIn({ company, email, password: initial });
  if (res.headers.get('location') === '/portal/password') {
    const csrf = await b.csrf('/portal/password');
    const { res: r } = await b.post('/portal/password', { csrf, current: initial, next: chosen, repeat: chosen });
    expect(r.status).toBe(303);
  }
  return b;
}

let acme: Browser;
let globex: Browser;

beforeAll(async () => {
  server = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new MemoryStore(), adminToken: TOKEN, now: () => clock, accessLog: false, portal: { scrypt: LOW } });
  const bound = await server.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${bound.port}`;
  close = () => bound.close(100);
  for (const [id, customerName] of [['LIC-A1', 'Acme Corp'], ['LIC-A2', 'Acme Corp'], ['LIC-G1', 'Globex'], ['LIC-X', '<script>alert(1)</script>']] as const) {
    await admin('/v1/admin/licenses', { license: await vendor.issue({ licenseId: id, customer: customerName, maxActivations: 5, maxUsers: 5 }) });
  }
  await admin('/v1/admin/portal/companies', { code: 'acme', name: 'Acme Corp', customers: ['Acme Corp'] });
  await admin('/v1/admin/portal/companies', { code: 'GLOBEX', name: 'Globex', licenseIds: ['LIC-G1'] });
  await admin('/v1/admin/portal/accounts', { code: 'ACME', email: 'it@acme.example', password: 'acme-initial-1' });
  await admin('/v1/admin/portal/accounts', { code: 'GLOBEX', email: 'it@globex.example', password: 'globex-initial-1' });
  await activate('LIC-A1', 'ann@acme.example', 'acme-laptop');
  await activate('LIC-G1', 'gus@globex.example', 'globex-laptop');
  acme = await customer('ACME', 'it@acme.example', 'acme-initial-1', 'acme-chosen-pass');
  globex = await customer('globex', 'it@globex.example', 'globex-initial-1', 'globex-chosen-pass');
}, 120_000);

afterAll(async () => {
  await close?.();
});

describe('the portal is served, strictly', () => {
  it('redirects /portal to sign-in, with a strict CSP, no inline script or style, labels on every input, a viewport', async () => {
    const b = new Browser(base);
    const { res } = await b.get('/portal');
    expect([res.status, res.headers.get('location')]).toEqual([303, '/portal/sign-in']);
    const { res: page, body } = await b.get('/portal/sign-in');
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(body).toContain('name="viewport"');
    // Every script has a src and no body; no <style>, no style="" attribute, no on* handler.
    for (const m of body.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)) {
      expect(m[1]).toMatch(/src="\/portal\/static\//);
      expect(m[2]).toBe('');
    }
    expect(body).not.toMatch(/<style|style=|\son[a-z]+=/i);
    // No request anywhere but this server.
    expect(body).not.toMatch(/(src|href|action)="(https?:)?\/\//);
    for (const m of body.matchAll(/<input([^>]*)>/g)) {
      if (/type="hidden"/.test(m[1] as string)) continue;
      const id = /id="([^"]+)"/.exec(m[1] as string)?.[1];
      expect(id, m[0]).toBeDefined();
      expect(body).toContain(`<label for="${id}"`);
    }
    const css = await fetch(`${base}/portal/static/portal.css`);
    expect([css.status, css.headers.get('content-type')]).toEqual([200, 'text/css; charset=utf-8']);
    expect(await css.text()).toContain('@media');
    const js = await fetch(`${base}/portal/static/portal.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await fetch(`${base}/portal/static/..%2Fpackage.json`)).status).toBe(404);
  });

  it('a session cookie is an opaque id: HttpOnly, SameSite=Strict; Secure with the __Host- prefix when a trusted proxy says HTTPS', async () => {
    const b = new Browser(base);
    const csrf = await b.csrf('/portal/sign-in');
    const { res } = await b.post('/portal/sign-in', { csrf, company: 'ACME', email: 'it@acme.example', password: 'acme-chosen-pass' });
    expect(res.status).toBe(303);
    const set = res.headers.getSetCookie().find((c) => c.startsWith('licit_portal='));
    expect(set).toMatch(/^licit_portal=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    // Behind a TLS proxy (trustProxy): Secure and __Host-.
    const proxied = createLicenseServer({ signingKey: vendor.privateKeyPem, store: server.vendor.store, adminToken: TOKEN, trustProxy: true, portal: { scrypt: LOW } });
    const h = { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.5' };
    const page = await proxied.handle(new Request('http://portal.example/portal/sign-in', { headers: h }));
    const pre = page.headers.getSetCookie()[0] as string;
    expect(pre).toMatch(/^__Host-licit_portal_pre=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Secure; Max-Age=3600$/);
    const token = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1] as string;
    const signed = await proxied.handle(
      new Request('http://portal.example/portal/sign-in', { method: 'POST', headers: { ...h, cookie: pre.split(';')[0] as string, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf: token, company: 'ACME', email: 'it@acme.example', password: 'acme-chosen-pass' }).toString() }),
    );
    expect(signed.status).toBe(303);
    // Behind a proxy that rewrites Host, the form's Origin is checked against X-Forwarded-Host.
    const viaProxy = (origin: string) =>
      proxied.handle(
        new Request('http://127.0.0.1:8787/portal/sign-in', {
          method: 'POST',
          headers: { ...h, 'x-forwarded-host': 'licenses.example.com', origin, cookie: pre.split(';')[0] as string, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ csrf: token, company: 'ACME', email: 'it@acme.example', password: 'acme-chosen-pass' }).toString(),
        }),
      );
    expect((await viaProxy('https://licenses.example.com')).status).toBe(303);
    expect((await viaProxy('https://evil.example')).status).toBe(403);
    expect(signed.headers.getSetCookie().some((c) => /^__Host-licit_portal=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Secure; Max-Age=\d+$/.test(c))).toBe(true);
  });
});

describe('signing in', () => {
  it('a wrong password, an unknown e-mail and an unknown company fail alike; an initial password must be changed before anything else', async () => {
    const b = new Browser(base);
    const failures = [
      { company: 'ACME', email: 'it@acme.example', password: 'wrong-password' },
      { company: 'ACME', email: 'nobody@acme.example', password: 'wrong-password' },
      { company: 'NOPE', email: 'it@acme.example', password: 'wrong-password' },
    ];
    const messages = [];
    for (const f of failures) {
      const res = await b.signIn(f);
      expect(res.status).toBe(401);
      expect(res.headers.get('set-cookie') ?? '').not.toContain('licit_portal=');
      messages.push(/role="alert"><p>([^<]+)/.exec(await res.text())?.[1]);
    }
    expect(new Set(messages).size).toBe(1);
    // A new account: its initial password leads to the password page only.
    const created = await admin('/v1/admin/portal/accounts', { code: 'ACME', email: 'second@acme.example' });
    const initial = created.initialPassword as string;
    expect(initial).toMatch(/^[A-Za-z0-9]{16}$/);
    const c = new Browser(base);
    const res = await c.signIn({ company: 'acme', email: 'Second@Acme.example', password: initial });
    expect(res.headers.get('location')).toBe('/portal/password');
    expect((await c.get('/portal/licenses')).res.headers.get('location')).toBe('/portal/password');
    expect((await c.get('/portal/licenses/LIC-A1')).res.headers.get('location')).toBe('/portal/password');
    const csrf = await c.csrf('/portal/password');
    expect((await c.post('/portal/licenses/LIC-A1/devices/reset', { csrf, deviceId: 'acme-laptop' })).res.status).toBe(403);
    const same = await c.post('/portal/password', { csrf, current: initial, next: initial, repeat: initial });
    expect(same.res.status).toBe(400);
    const changed = await c.post('/portal/password', { csrf, current: initial, next: 'second-chosen-1', repeat: 'second-chosen-1' });
    expect([changed.res.status, changed.res.headers.get('location')]).toEqual([303, '/portal/licenses']);
    expect((await c.get('/portal/licenses')).res.status).toBe(200);
    // Stored only as a scrypt hash.
    const rec = await server.vendor.store.read('portal:ACME', (r) => r.get('server.credential', 'second@acme.example'));
    expect(rec?.hash).toMatch(/^scrypt\$/);
    expect(JSON.stringify(rec)).not.toContain('second-chosen-1');
  });

  it('an account locks after 5 wrong passwords; a client is limited across accounts', async () => {
    await admin('/v1/admin/portal/accounts', { code: 'GLOBEX', email: 'locked@globex.example', password: 'globex-locked-1' });
    const b = new Browser(base, { 'x-test': 'lock' });
    for (let i = 0; i < 5; i++) expect((await b.signIn({ company: 'GLOBEX', email: 'locked@globex.example', password: `wrong-${i}-xxxx` })).status).toBe(401);
    const locked = await b.signIn({ company: 'GLOBEX', email: 'locked@globex.example', password: 'globex-locked-1' });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    // Per client: a server with a budget of 3 failures, any account.
    const strict = createLicenseServer({ signingKey: vendor.privateKeyPem, store: server.vendor.store, adminToken: TOKEN, accessLog: false, portal: { scrypt: LOW, signInFailures: { requests: 3, perSeconds: 600 } } });
    const bound = await strict.listen(0, '127.0.0.1');
    try {
      const s = new Browser(`http://127.0.0.1:${bound.port}`);
      for (let i = 0; i < 3; i++) expect((await s.signIn({ company: 'ACME', email: `guess${i}@acme.example`, password: 'guessed-password' })).status).toBe(401);
      expect((await s.signIn({ company: 'ACME', email: 'it@acme.example', password: 'acme-chosen-pass' })).status).toBe(429);
      expect((await s.signIn({ token: TOKEN })).status).toBe(429);
    } finally {
      await bound.close(100);
    }
  });

  it('the vendor signs in with the admin token; a wrong token fails', async () => {
    const v = new Browser(base);
    expect((await v.signIn({ token: 'not-the-token' })).status).toBe(401);
    const res = await v.signIn({ token: TOKEN });
    expect([res.status, res.headers.get('location')]).toEqual([303, '/portal/licenses']);
    const { body } = await v.get('/portal/licenses');
    for (const id of ['LIC-A1', 'LIC-A2', 'LIC-G1', 'LIC-X']) expect(body).toContain(id);
    // Text from a license is shown as text.
    expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(body).not.toContain('<script>alert(1)');
  });

  it('a sign-in form from elsewhere (no or another double-submit token) is refused', async () => {
    const b = new Browser(base);
    await b.csrf('/portal/sign-in');
    const none = await b.post('/portal/sign-in', { company: 'ACME', email: 'it@acme.example', password: 'acme-chosen-pass' });
    expect(none.res.status).toBe(403);
    const other = await b.post('/portal/sign-in', { csrf: 'A'.repeat(43), company: 'ACME', email: 'it@acme.example', password: 'acme-chosen-pass' });
    expect(other.res.status).toBe(403);
    expect(b.cookies.has('licit_portal')).toBe(false);
  });
});

describe('a customer cannot see or change another customer’s data', () => {
  it('sees only its own licenses in the list', async () => {
    const { body } = await acme.get('/portal/licenses');
    expect(body).toContain('LIC-A1');
    expect(body).toContain('LIC-A2');
    expect(body).not.toContain('LIC-G1');
    expect(body).not.toContain('LIC-X');
    expect((await acme.get('/portal/licenses?q=LIC-G')).body).not.toContain('LIC-G1');
  });

  it('another company’s license ids in URLs answer as licenses that do not exist', async () => {
    for (const path of ['/portal/licenses/LIC-G1', '/portal/licenses/LIC-G1/devices', '/portal/licenses/LIC-G1/users', '/portal/licenses/LIC-G1/seats', '/portal/licenses/LIC-G1/credits', '/portal/licenses/LIC-G1/report', '/portal/licenses/LIC-G1/report.csv', '/portal/licenses/LIC-G1/log', '/portal/licenses/LIC-G1/devices/globex-laptop', '/portal/licenses/LIC-X', '/portal/licenses/portal%3AGLOBEX', '/portal/licenses/LIC-NONE']) {
      const { res, body } = await acme.get(path);
      expect(res.status, path).toBe(404);
      expect(body, path).not.toContain('globex-laptop');
      expect(body, path).not.toContain('gus@globex.example');
    }
    const missing = await acme.get('/portal/licenses/LIC-NONE');
    const foreign = await acme.get('/portal/licenses/LIC-G1');
    expect(foreign.body.replaceAll('LIC-G1', 'ID')).toBe(missing.body.replaceAll('LIC-NONE', 'ID'));
    // Its own device of another license id's name does not leak either.
    expect((await acme.get('/portal/licenses/LIC-A1/devices/globex-laptop')).res.status).toBe(404);
  });

  it('forged forms with its own valid token cannot reset, assign, remove or suspend on another company’s license', async () => {
    const csrf = await acme.csrf();
    const attempts: [string, Record<string, string>][] = [
      ['/portal/licenses/LIC-G1/devices/reset', { deviceId: 'globex-laptop' }],
      ['/portal/licenses/LIC-G1/users', { userId: 'mallory@acme.example' }],
      ['/portal/licenses/LIC-G1/users/remove', { userId: 'gus@globex.example' }],
      ['/portal/licenses/LIC-G1/users/reset', { userId: 'gus@globex.example' }],
      ['/portal/licenses/LIC-G1/users/password', { userId: 'gus@globex.example' }],
      ['/portal/licenses/LIC-G1/users/limit', { userId: 'gus@globex.example', maxActivations: '0' }],
      ['/portal/licenses/LIC-G1/devices/rename', { deviceId: 'globex-laptop', label: 'pwned' }],
      ['/portal/licenses/LIC-G1/seats', { userId: 'mallory', type: 'basic' }],
      ['/portal/licenses/LIC-G1/seats/release', { userId: 'gus@globex.example' }],
      ['/portal/licenses/LIC-G1/credits', { idempotencyKey: 'x', credits: '1000' }],
      ['/portal/licenses/LIC-G1/state', { action: 'suspend' }],
      ['/portal/licenses/LIC-A1/state', { action: 'suspend' }],
      // Its own license, another company's device: not found there.
      ['/portal/licenses/LIC-A1/devices/reset', { deviceId: 'globex-laptop' }],
      ['/portal/companies', { code: 'EVIL', name: 'Evil' }],
      ['/portal/companies/licenses', { code: 'ACME', licenseIds: 'LIC-G1' }],
      ['/portal/companies/accounts', { code: 'GLOBEX', email: 'mallory@acme.example' }],
    ];
    for (const [path, form] of attempts) {
      const { res } = await acme.post(path, { csrf, ...form });
      expect(res.status, path).toBe(404);
    }
    expect((await devicesOf('LIC-G1')).map((d) => [d.deviceId, d.label])).toEqual([['globex-laptop', undefined]]);
    const users = await server.vendor.activations((await server.vendor.license('LIC-G1')).license).users();
    expect(users.map((u) => u.userId)).toEqual(['gus@globex.example']);
    expect((await server.vendor.store.read('LIC-G1', (r) => r.get('registry', 'info')))?.state).toBe('active');
    expect((await server.vendor.store.read('LIC-A1', (r) => r.get('registry', 'info')))?.state).toBe('active');
    const globexCompany = await server.vendor.store.read('portal:ACME', (r) => r.get('portal.company', 'info'));
    expect(globexCompany?.licenseIds).toEqual([]);
  });

  it('every POST needs this session’s CSRF token, from this site', async () => {
    const own = await acme.csrf();
    const foreign = await globex.csrf();
    const path = '/portal/licenses/LIC-A1/devices/reset';
    const tries: [Record<string, string>, Record<string, string>][] = [
      [{ deviceId: 'acme-laptop' }, {}],
      [{ deviceId: 'acme-laptop', csrf: foreign }, {}],
      [{ deviceId: 'acme-laptop', csrf: `${own.slice(0, -1)}${own.endsWith('A') ? 'B' : 'A'}` }, {}],
      [{ deviceId: 'acme-laptop', csrf: own }, { origin: 'https://evil.example' }],
      [{ deviceId: 'acme-laptop', csrf: own }, { 'sec-fetch-site': 'cross-site' }],
    ];
    for (const [form, headers] of tries) {
      const { res, body } = await acme.post(path, form, headers);
      expect(res.status, JSON.stringify([form, headers])).toBe(403);
      expect(body).toContain('ERR_CSRF_REJECTED');
    }
    // A JSON body is not a form.
    const json = await fetch(base + path, { method: 'POST', headers: { cookie: acme.cookieHeader(), 'content-type': 'application/json' }, body: JSON.stringify({ csrf: own, deviceId: 'acme-laptop' }) });
    expect(json.status).toBe(400);
    expect((await devicesOf('LIC-A1')).map((d) => d.deviceId)).toEqual(['acme-laptop']);
  });

  it('a session ends when idle, when signed out, when its account is removed or its license user removed; an ended session changes nothing', async () => {
    const b = await customer('ACME', 'it@acme.example', 'acme-chosen-pass', 'unused');
    const csrf = await b.csrf();
    clock += 31 * 60_000;
    expect((await b.get('/portal/licenses')).res.headers.get('location')).toBe('/portal/sign-in');
    const late = await b.post('/portal/licenses/LIC-A1/devices/reset', { csrf, deviceId: 'acme-laptop' });
    expect(late.res.status).toBe(401);
    expect(late.body).toContain('ERR_SESSION_EXPIRED');
    expect((await devicesOf('LIC-A1')).length).toBe(1);
    // The other sessions were idle as long: sign them in again.
    acme = await customer('ACME', 'it@acme.example', 'acme-chosen-pass', 'unused');
    globex = await customer('GLOBEX', 'it@globex.example', 'globex-chosen-pass', 'unused');
    const c = await customer('ACME', 'it@acme.example', 'acme-chosen-pass', 'unused');
    const cookie = c.cookieHeader();
    const token = await c.csrf();
    expect((await c.post('/portal/sign-out', { csrf: token })).res.headers.get('location')).toBe('/portal/sign-in');
    const replay = await fetch(`${base}/portal/licenses`, { headers: { cookie }, redirect: 'manual' });
    expect(replay.headers.get('location')).toBe('/portal/sign-in');
    // An account removed while signed in: its session ends at its next request.
    const second = await customer('ACME', 'second@acme.example', 'second-chosen-1', 'unused');
    expect((await second.get('/portal/licenses')).res.status).toBe(200);
    expect(await removeAccount(server.vendor.store, 'ACME', 'second@acme.example', { actor: 'test' })).toBe(true);
    expect((await second.get('/portal/licenses')).res.headers.get('location')).toBe('/portal/sign-in');
    expect((await new Browser(base).signIn({ company: 'ACME', email: 'second@acme.example', password: 'second-chosen-1' })).status).toBe(401);
    // A license user removed from its license loses the portal at once: by the portal (its sessions
    // end) or by the admin API (the next request finds it is no user any more).
    const token2 = await acme.csrf('/portal/licenses/LIC-A1/users');
    await acme.post('/portal/licenses/LIC-A1/users', { csrf: token2, userId: 'lu@acme.example' });
    const luInitial = shownSecret((await acme.get('/portal/licenses/LIC-A1/users')).body);
    const lu = await customer('ACME', 'lu@acme.example', luInitial, 'lu-chosen-pass');
    expect((await lu.get('/portal/licenses/LIC-A1')).res.status).toBe(200);
    await acme.post('/portal/licenses/LIC-A1/users/remove', { csrf: token2, userId: 'lu@acme.example' });
    expect((await lu.get('/portal/licenses/LIC-A1')).res.headers.get('location')).toBe('/portal/sign-in');
    await admin('/v1/admin/users', { licenseId: 'LIC-A1', userId: 'lu@acme.example', password: 'lu-password-2', mustChange: false });
    const lu2 = await customer('ACME', 'lu@acme.example', 'lu-password-2', 'unused');
    expect((await lu2.get('/portal/licenses/LIC-A1')).res.status).toBe(200);
    await admin('/v1/admin/users/remove', { licenseId: 'LIC-A1', userId: 'lu@acme.example' });
    expect((await lu2.get('/portal/licenses/LIC-A1')).res.headers.get('location')).toBe('/portal/sign-in');
    expect((await new Browser(base).signIn({ company: 'ACME', email: 'lu@acme.example', password: 'lu-password-2' })).status).toBe(401);
    // A made-up session id is no session.
    const forged = await fetch(`${base}/portal/licenses`, { headers: { cookie: `licit_portal=${'A'.repeat(43)}` }, redirect: 'manual' });
    expect(forged.headers.get('location')).toBe('/portal/sign-in');
  });
});
