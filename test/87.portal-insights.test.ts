/**
 * The portal's Licence Manager screens: credits (remaining, licensed, topped up, consumed, history,
 * the vendor's top-up, idempotent per form), the usage report with its SVG charts and CSV export,
 * and the audit log, verified, filtered by kind and period. License users and other companies get
 * none of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { createLicenseServer, type LicenseServer } from '../src/server/index.js';
import { Browser } from './helpers/portal.js';
import { makeVendor } from './helpers/vendor.js';

const TOKEN = 'portal-insights-token-0123456789';
const vendor = makeVendor();
const base0 = new MemoryStore();
let server: LicenseServer;
let base: string;
let close: () => Promise<void>;
let acme: Browser;
let vendorB: Browser;

async function admin(path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(base + path, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json;
}

async function signedIn(who: { company: string; email: string; password: string }, chosen: string): Promise<Browser> {
  const b = new Browser(base);
  const res = await b.signIn(who);
  if (res.headers.get('location') === '/portal/password') {
    const csrf = await b.csrf('/portal/password');
    expect((await b.post('/portal/password', { csrf, current: who.password, next: chosen, repeat: chosen })).res.status).toBe(303);
  }
  return b;
}

beforeAll(async () => {
  server = createLicenseServer({ signingKey: vendor.privateKeyPem, store: base0, adminToken: TOKEN, accessLog: false, portal: { scrypt: { N: 1024, r: 8, p: 1 } } });
  const bound = await server.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${bound.port}`;
  close = () => bound.close(100);
  await admin('/v1/admin/licenses', { license: await vendor.issue({ licenseId: 'LIC-C1', customer: 'Acme Corp', credits: 1000, maxActivations: 4, maxUsers: 4 }) });
  await admin('/v1/admin/licenses', { license: await vendor.issue({ licenseId: 'LIC-G', customer: 'Globex', credits: 10 }) });
  await admin('/v1/admin/portal/companies', { code: 'ACME', name: 'Acme Corp', customers: ['Acme Corp'] });
  await admin('/v1/admin/portal/accounts', { code: 'ACME', email: 'it@acme.example', password: 'acme-initial-1' });
  const license = (await server.vendor.license('LIC-C1')).license;
  const acts = server.vendor.activations(license, 'test');
  await acts.addUser('ann@acme.example');
  await acts.activate('ann@acme.example', 'laptop');
  acme = await signedIn({ company: 'ACME', email: 'it@acme.example', password: 'acme-initial-1' }, 'acme-chosen-pass');
  vendorB = new Browser(base);
  expect((await vendorB.signIn({ token: TOKEN })).status).toBe(303);
}, 120_000);

afterAll(async () => {
  await close?.();
});

describe('credits', () => {
  it('shows what GET /v1/admin/usage answers; the vendor adds credits once per form', async () => {
    const page = await acme.get('/portal/licenses/LIC-C1/credits');
    expect(page.res.status).toBe(200);
    expect(page.body).toMatch(/<span class="v">1000<\/span> remaining/);
    expect(page.body).not.toContain('Add credits');
    const vendorPage = (await vendorB.get('/portal/licenses/LIC-C1/credits')).body;
    const csrf = /name="csrf" value="([^"]+)"/.exec(vendorPage)?.[1] as string;
    const key = /name="idempotencyKey" value="([^"]+)"/.exec(vendorPage)?.[1] as string;
    expect((await vendorB.post('/portal/licenses/LIC-C1/credits', { csrf, idempotencyKey: key, credits: '250' })).res.status).toBe(303);
    expect((await vendorB.get('/portal/licenses/LIC-C1/credits')).body).toContain('250 credits added');
    expect((await vendorB.post('/portal/licenses/LIC-C1/credits', { csrf, idempotencyKey: key, credits: '250' })).res.status).toBe(303);
    expect((await vendorB.get('/portal/licenses/LIC-C1/credits')).body).toContain('were added already');
    const usage = (await (await fetch(`${base}/v1/admin/usage?licenseId=LIC-C1`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { credits: { toppedUp: number } };
    expect(usage.credits.toppedUp).toBe(250);
    const after = await acme.get('/portal/licenses/LIC-C1/credits');
    expect(after.body).toMatch(/<span class="v">1250<\/span> remaining/);
    expect(after.body).toContain('credits.topped-up');
    // A customer cannot add credits, to its own license or another's.
    const own = await acme.csrf('/portal/licenses/LIC-C1/credits');
    expect((await acme.post('/portal/licenses/LIC-C1/credits', { csrf: own, idempotencyKey: 'k1', credits: '99999' })).res.status).toBe(404);
    expect((await acme.post('/portal/licenses/LIC-G/credits', { csrf: own, idempotencyKey: 'k2', credits: '99999' })).res.status).toBe(404);
    expect(usage.credits.toppedUp).toBe(250);
  });
});

describe('reports', () => {
  it('a month with charts as inline SVG (no inline style), the figures of GET /v1/admin/reports, and CSV', async () => {
    const { res, body } = await acme.get('/portal/licenses/LIC-C1/report?range=month&timeZone=Europe/Berlin');
    expect(res.status).toBe(200);
    expect(body).toContain('<svg viewBox');
    expect(body).toContain('Utilisation over time');
    expect(body).toContain('Credits consumed');
    expect(body).toContain('End-of-month additions');
    expect(body).not.toMatch(/style=|<style/);
    const api = (await (await fetch(`${base}/v1/admin/reports?licenseId=LIC-C1&range=month&timeZone=Europe/Berlin`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { report: { topUps: { total: number }; range: { from: string } } };
    expect(body).toContain(`<span class="v">${api.report.topUps.total}</span> top-ups`);
    expect(body).toContain(`datetime="${api.report.range.from}"`);
    const csv = await acme.get('/portal/licenses/LIC-C1/report.csv?range=week');
    expect(csv.res.status).toBe(200);
    expect(csv.res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.res.headers.get('content-disposition')).toMatch(/^attachment; filename="LIC-C1-week-\d{4}-\d\d-\d\d\.csv"$/);
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe('"from","to","activations in use","activations utilisation","users in use","users utilisation","credits consumed","licenses added"');
    expect(lines.length).toBe(8); // a week by day
    const bad = await acme.get('/portal/licenses/LIC-C1/report?range=custom&from=2027-02-01&to=2027-01-01');
    expect(bad.res.status).toBe(400);
    expect(bad.body).toContain('ERR_USAGE');
  });
});

describe('the log', () => {
  it('verified, filtered by kind and period; an event written around the chain is named', async () => {
    const all = await acme.get('/portal/licenses/LIC-C1/log');
    expect(all.body).toMatch(/The hash chain of all \d+ events was verified/);
    expect(all.body).toContain('license.registered');
    const devices = await acme.get('/portal/licenses/LIC-C1/log?kind=device');
    expect(devices.body).toContain('device.activated');
    expect(devices.body).not.toContain('<td data-label="Kind">license.registered');
    const future = await acme.get('/portal/licenses/LIC-C1/log?from=2999-01-01');
    expect(future.body).toContain('No event matches.');
    expect((await acme.get('/portal/licenses/LIC-C1/log?from=yesterday')).res.status).toBe(400);
    await base0.transaction('LIC-C1', async (tx) => {
      tx.append({ at: new Date().toISOString(), actor: 'sneaky', kind: 'device.reset', details: { device: 'laptop' } });
    });
    const tampered = await acme.get('/portal/licenses/LIC-C1/log');
    expect(tampered.body).toContain('ERR_AUDIT_TAMPERED');
    expect(tampered.res.status).not.toBe(200);
  });
});

describe('who may see them', () => {
  it('another company’s license answers 404; a license user is refused', async () => {
    for (const p of ['credits', 'report', 'report.csv', 'log']) expect((await acme.get(`/portal/licenses/LIC-G/${p}`)).res.status, p).toBe(404);
    const csrf = await acme.csrf('/portal/licenses/LIC-C1/users');
    await acme.post('/portal/licenses/LIC-C1/users', { csrf, userId: 'bob@acme.example' });
    const secret = /<code class="secret">([^<]+)<\/code>/.exec((await acme.get('/portal/licenses/LIC-C1/users')).body)?.[1] as string;
    const bob = await signedIn({ company: 'ACME', email: 'bob@acme.example', password: secret }, 'bob-chosen-pass');
    expect((await bob.get('/portal/licenses/LIC-C1')).body).not.toContain('>Credits<');
    for (const p of ['credits', 'report', 'report.csv', 'log']) {
      const r = await bob.get(`/portal/licenses/LIC-C1/${p}`);
      expect(r.res.status, p).toBe(403);
      expect(r.body).toContain('ERR_FORBIDDEN');
    }
  });
});
