/**
 * The portal in a real browser: Debian's headless Chromium, driven over the DevTools protocol on a
 * pipe (test/helpers/cdp.ts), signs in with a company code, changes the initial password with the
 * keyboard, opens a license, resets a device (accepting the confirmation the static script asks
 * for), assigns a license user, changes the automatic top-up threshold on the Settings page,
 * tries another customer's license, and reads the pages on a phone sized screen; then the vendor
 * signs in, opens its pages and re-issues a license. Every screen visited is checked with axe-core
 * (no serious or critical violation), for named controls and for text contrast. The page
 * must log no error (a Content-Security-Policy refusal would show there),
 * and times must be shown in the browser's own time zone. With PORTAL_SCREENSHOTS=1 it writes the
 * screenshots docs/portal.md shows.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSettings } from '../src/core/admin/settings-record.js';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { createLicenseServer, type LicenseServer } from '../src/server/index.js';
import { Chromium, findChromium } from './helpers/cdp.js';
import { makeVendor } from './helpers/vendor.js';

const CI = process.env.CI === 'true' || process.env.CI === '1';
const SHOTS = process.env.PORTAL_SCREENSHOTS === '1' ? new URL('../docs/portal/', import.meta.url) : undefined;
const TOKEN = 'portal-browser-token-0123456789';
const vendor = makeVendor();
let server: LicenseServer;
let base: string;
let close: () => Promise<void>;

async function admin(path: string, body: unknown): Promise<void> {
  const res = await fetch(base + path, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status, await res.text()).toBe(200);
}

const acts = async (id: string) => server.vendor.activations((await server.vendor.license(id)).license, 'test');

beforeAll(async () => {
  // A webhook endpoint that takes every notification (nobody listens there: deliveries just retry).
  const webhooks = { endpoints: [{ url: 'http://127.0.0.1:9/licit-events', secret: 'whsec-browser-0123456789' }], onError: () => undefined };
  server = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new MemoryStore(), adminToken: TOKEN, accessLog: false, webhooks, portal: { scrypt: { N: 1024, r: 8, p: 1 } } });
  const bound = await server.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${bound.port}`;
  close = () => bound.close(100);
  await admin('/v1/admin/licenses', { license: await vendor.issue({ licenseId: 'LIC-B1', customer: 'Acme Corp', edition: 'professional', features: ['export', 'reports'], maxActivations: 5, maxUsers: 10, maxTransfers: 3, expiresAt: new Date(Date.now() + 300 * 86_400_000), graceDays: 14, credits: 5000, seats: { basic: 10, pro: 3 } }) });
  await admin('/v1/admin/licenses', { license: await vendor.issue({ licenseId: 'LIC-OTHER', customer: 'Globex' }) });
  await admin('/v1/admin/portal/companies', { code: 'ACME', name: 'Acme Corp', customers: ['Acme Corp'] });
  await admin('/v1/admin/portal/accounts', { code: 'ACME', email: 'it@acme.example', password: 'acme-initial-1' });
  // Alert settings already there, as a company that set them up last month would have them.
  await admin('/v1/admin/settings', {
    licenseId: 'LIC-B1',
    credits: { notify: { remainingAtMost: 1000 }, topUp: { remainingAtMost: 250, add: 2000 } },
    seats: { basic: { notify: { remainingAtMost: 2 }, topUp: { remainingAtMost: 1, add: 5 } }, pro: { notify: { usedPercentAtLeast: 90 } } },
    recipients: [
      { email: 'it@acme.example', kinds: ['alerts', 'top-ups', 'top-up-failures'] },
      { email: 'finance@acme.example', kinds: ['top-ups'] },
    ],
  });
  const a = await acts('LIC-B1');
  await a.addUser('ann@acme.example');
  await a.activate('ann@acme.example', 'b-laptop', { info: { host: 'ann-laptop', os: 'Windows 11' } });
  await a.activate('ann@acme.example', 'b-desktop', { info: { host: 'ann-desktop', os: 'Ubuntu 24.04' } });
}, 120_000);

afterAll(async () => {
  await close?.();
});

describe('the portal in headless Chromium', () => {
  it('sign-in, password change by keyboard, a device reset, a license user assigned, another customer’s URL refused, readable on a phone', async (ctx) => {
    const found = findChromium();
    if ('missing' in found) {
      if (CI) throw new Error(found.missing);
      ctx.skip(found.missing);
      return;
    }
    const browser = await Chromium.launch(found.bin);
    // Every screen the test visits is checked: every control in the accessibility tree has a name
    // (its label), all text has WCAG's 4.5:1 contrast, and axe-core's rules (WCAG 2 A and AA, its
    // best practices) find no violation of impact serious or critical.
    const check = async (name: string) => {
      expect(await browser.unnamedControls(), name).toEqual([]);
      expect(await browser.lowContrast(), name).toEqual([]);
      expect(await browser.axe(), name).toEqual([]);
    };
    const shot = async (name: string) => {
      await check(name);
      if (SHOTS === undefined) return;
      mkdirSync(SHOTS, { recursive: true });
      writeFileSync(new URL(`${name}.png`, SHOTS), await browser.screenshot());
    };
    try {
      await browser.send('Emulation.setTimezoneOverride', { timezoneId: 'Asia/Tokyo' });
      await browser.send('Emulation.setDeviceMetricsOverride', { width: 1100, height: 900, deviceScaleFactor: 1, mobile: false });
      await browser.goto(`${base}/portal`);
      expect(await browser.eval<string>('location.pathname')).toBe('/portal/sign-in');
      expect(await browser.eval<string>('document.querySelector("h1").textContent')).toBe('Sign in');
      // The style sheet applied (no inline style is allowed, so this came from portal.css).
      expect(await browser.eval<string>('getComputedStyle(document.querySelector("header.top")).display')).toBe('flex');
      // The keyboard reaches the skip link first.
      await browser.press('Tab');
      expect(await browser.eval<string>('document.activeElement.className')).toBe('skip');
      await shot('sign-in');

      await browser.type('#company', 'acme');
      await browser.type('#email', 'it@acme.example');
      await browser.type('#password', 'acme-initial-1');
      await browser.click('form.stack button[type=submit]');
      expect(await browser.eval<string>('location.pathname'), await browser.eval<string>('document.body.innerText')).toBe('/portal/password');
      await check('password');
      await browser.type('#current', 'acme-initial-1');
      await browser.type('#next', 'acme-own-password');
      await browser.type('#repeat', 'acme-own-password');
      const loaded = browser.next('Page.loadEventFired');
      await browser.press('Enter');
      await loaded;
      expect(await browser.eval<string>('location.pathname')).toBe('/portal/licenses');
      expect(await browser.eval<string>('document.body.innerText')).toContain('Your password was changed.');
      expect(await browser.eval<string>('document.body.innerText')).not.toContain('LIC-OTHER');
      await shot('licenses');

      await browser.click('a[href="/portal/licenses/LIC-B1"]');
      expect(await browser.eval<string>('document.querySelector("h1").textContent')).toBe('License LIC-B1');
      // portal.js (a static file under the CSP) showed times in the browser's zone.
      const times = await browser.eval<string[]>('[...document.querySelectorAll("time")].map((t) => t.textContent)');
      expect(times.length).toBeGreaterThan(2);
      for (const t of times) expect(t).toContain('Asia/Tokyo');
      await shot('license-details');

      await browser.click('a[href="/portal/licenses/LIC-B1/devices"]');
      expect(await browser.eval<string>('document.body.innerText')).toContain('b-laptop');
      await shot('devices');
      await browser.click('a[href="/portal/licenses/LIC-B1/devices/b-desktop"]');
      expect(await browser.eval<string>('document.body.innerText')).toContain('ann-desktop');
      await check('device-details');
      await browser.click('a[href="/portal/licenses/LIC-B1/devices"]');
      await browser.click('button[aria-label="Reset device b-laptop"]');
      expect(await browser.eval<string>('document.body.innerText')).toContain('Device b-laptop was reset');
      expect((await (await acts('LIC-B1')).devices()).map((d) => d.deviceId)).toEqual(['b-desktop']);

      await browser.click('a[href="/portal/licenses/LIC-B1/users"]');
      await browser.type('#new-user', 'bob@acme.example');
      await browser.click('form.stack button[type=submit]');
      const secret = await browser.eval<string>('document.querySelector("code.secret")?.textContent ?? ""');
      expect(secret).toMatch(/^[A-Za-z0-9]{16}$/);
      expect((await (await acts('LIC-B1')).users()).map((u) => u.userId)).toContain('bob@acme.example');
      await shot('license-users');
      await browser.click('a[href="/portal/licenses/LIC-B1/seats"]');
      await shot('seats');
      await browser.click('a[href="/portal/licenses/LIC-B1/credits"]');
      await shot('credits');

      // Settings: the automatic credit top-up's threshold changed through the page.
      await browser.click('a[href="/portal/licenses/LIC-B1/settings"]');
      expect(await browser.eval<string>('document.querySelector("#t0-at").value')).toBe('250');
      await browser.eval('document.querySelector("#t0-at").value = ""');
      await browser.type('#t0-at', '400');
      await browser.click('form.settings button[type=submit]');
      expect(await browser.eval<string>('document.body.innerText')).toContain('The settings were saved');
      expect((await readSettings(server.vendor.store, 'LIC-B1'))?.settings.credits?.topUp).toEqual({ remainingAtMost: 400, add: 2000 });
      await shot('settings');
      await browser.click('a[href="/portal/licenses/LIC-B1/notifications"]');
      expect(await browser.eval<string>('document.body.innerText')).toContain('finance@acme.example');
      await shot('notifications');

      // The report: charts drawn on the server, readable without a script; and the verified log.
      await browser.click('a[href="/portal/licenses/LIC-B1/report"]');
      expect(await browser.eval<number>('document.querySelectorAll("svg[role=img]").length')).toBe(2);
      expect(await browser.eval<string>('getComputedStyle(document.querySelector("svg .grid")).stroke')).not.toBe('none');
      await shot('report');
      await browser.click('a[href="/portal/licenses/LIC-B1/log"]');
      expect(await browser.eval<string>('document.body.innerText')).toMatch(/The hash chain of all \d+ events was verified/);
      expect(await browser.eval<string>('document.body.innerText')).toContain('device.reset');
      await shot('log');

      // Another customer's license, typed into the address bar: the one error the page may log is its 404.
      expect(browser.errors).toEqual([]);
      await browser.goto(`${base}/portal/licenses/LIC-OTHER/devices`);
      expect(await browser.eval<string>('document.querySelector("h1").textContent')).toBe('That did not work');
      expect(await browser.eval<string>('document.body.innerText')).toContain('no license LIC-OTHER in your account');
      await check('not-found');
      expect(browser.errors.splice(0)).toEqual(['Failed to load resource: the server responded with a status of 404 (Not Found)']);

      // A phone: nothing wider than the screen.
      await browser.send('Emulation.setDeviceMetricsOverride', { width: 375, height: 800, deviceScaleFactor: 2, mobile: true });
      await browser.goto(`${base}/portal/licenses/LIC-B1/devices`);
      expect(await browser.eval<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
      await shot('devices-phone');
      await browser.goto(`${base}/portal/licenses/LIC-B1`);
      expect(await browser.eval<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
      await check('license-details-phone');

      // The vendor's pages: sign out, sign in with the admin token, companies and the issue form.
      await browser.send('Emulation.setDeviceMetricsOverride', { width: 1100, height: 900, deviceScaleFactor: 1, mobile: false });
      await browser.click('header.top form button[type=submit]');
      await browser.goto(`${base}/portal/vendor/sign-in`);
      await check('vendor-sign-in');
      await browser.type('#token', TOKEN);
      await browser.click('form.stack button[type=submit]');
      expect(await browser.eval<string>('location.pathname')).toBe('/portal/licenses');
      expect(await browser.eval<string>('document.body.innerText')).toContain('LIC-OTHER');
      await shot('vendor-licenses');
      await browser.click('a[href="/portal/companies"]');
      await shot('companies');
      await browser.click('a[href="/portal/issue"]');
      await shot('issue');
      // A re-issue from the license's page (server/reissue.ts, as the CLI and the admin API), confirmed in the browser.
      await browser.goto(`${base}/portal/licenses/LIC-B1`);
      await check('vendor-license-details');
      await browser.eval('document.querySelector(\'form[action="/portal/licenses/LIC-B1/reissue"]\').scrollIntoView()');
      await shot('reissue');
      await browser.type('#maxActivations', '8');
      await browser.click('form[action="/portal/licenses/LIC-B1/reissue"] button[type=submit]');
      expect(await browser.eval<string>('document.body.innerText')).toContain('License LIC-B1 was re-issued (key 2, changed maxActivations)');
      expect((await server.vendor.license('LIC-B1')).license.maxActivations).toBe(8);

      expect(browser.errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 180_000);
});
