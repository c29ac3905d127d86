/**
 * The license server acting on a license's alert settings, end to end over real HTTP and a
 * FileStore: an installation's renewals report the credits its ledger spent; crossing the
 * notification threshold raises exactly one alert, delivered once by webhook with the addresses
 * configured for alerts; crossing the top-up threshold adds the configured credits once through
 * the vendor's top-up code (source `auto`), which the report counts as automatic, the
 * installation's next renewal delivers to its ledger, and the recipients of top-ups hear of.
 * Seats assigned down to a seat type's threshold re-issue the license with more seats, once.
 * `licit settings` sets them through the server and shows them from the same store.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLicense } from '../src/core/license/verify.js';
import { CreditLedger } from '../src/node/ledger/credit-ledger.js';
import { Licensing } from '../src/node/licensing/licensing.js';
import { FileStore } from '../src/node/store/file-store.js';
import { SeatManager } from '../src/core/seats/index.js';
import { verifyWebhook, type WebhookDelivery } from '../src/server/webhooks.js';
import { execFile } from 'node:child_process';
import { LICIT_BIN } from './helpers/cli.js';
import { listening, type Listening } from './helpers/listening.js';
import { makeVendor } from './helpers/vendor.js';

const SECRET = 'whsec-alerts-0123456789';
const TOKEN = 'alerts-admin-token';
const vendor = makeVendor();
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'licit-77b-'));
  dirs.push(d);
  return d;
};

const storeDir = tmp();
let got: WebhookDelivery[] = [];
let hooks: Server;
let srv: Listening;
const failures: { licenseId: string; error: string }[] = [];

async function admin(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: Record<string, any> }> {
  const res = await fetch(srv.url + path, { method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

/** The built CLI as a process, awaited without blocking this process's server (spawnSync would). */
function licit(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string; json: () => Record<string, any> }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [LICIT_BIN, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr, json: () => JSON.parse(stdout) as Record<string, any> });
    });
  });
}

/** Every check the last requests scheduled has run, and every event it wrote was delivered. */
async function settled(): Promise<void> {
  await srv.server.alerts?.idle();
  await srv.server.webhooks?.idle();
}

beforeAll(async () => {
  const read = (req: IncomingMessage) => new Promise<string>((res) => {
    let b = '';
    req.setEncoding('utf8').on('data', (d: string) => (b += d)).on('end', () => res(b));
  });
  hooks = createServer(async (req, res) => {
    got.push(verifyWebhook(await read(req), req.headers['licit-signature'] as string, SECRET));
    res.writeHead(204).end();
  });
  await new Promise<void>((res) => hooks.listen(0, '127.0.0.1', () => res()));
  srv = await listening({
    signingKey: vendor.privateKeyPem,
    store: new FileStore(storeDir),
    adminToken: TOKEN,
    accessLog: false,
    portal: false,
    webhooks: { endpoints: [{ url: `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hooks`, secret: SECRET }] },
    alerts: { onError: (f) => failures.push(f) },
  });
}, 60_000);

afterAll(async () => {
  await srv?.close();
  await new Promise<void>((res) => hooks.close(() => res()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('alerts on the server', () => {
  it('settings through the admin API: refused with ERR_SETTINGS_INVALID and nothing saved, then saved and audited', async () => {
    const key = await vendor.issue({ licenseId: 'LIC-SET', credits: 100, seats: { basic: 5 } });
    expect((await admin('POST', '/v1/admin/licenses', { license: key })).status).toBe(200);
    const bad = await admin('POST', '/v1/admin/settings', { licenseId: 'LIC-SET', seats: { gold: { topUp: { remainingAtMost: 1, add: 3 } } } });
    expect([bad.status, bad.json.error.code, bad.json.error.details.field]).toEqual([400, 'ERR_SETTINGS_INVALID', 'seats.gold']);
    expect(bad.json.error.message).toMatch(/no seats of type "gold"; its types are basic/);
    expect((await admin('POST', '/v1/admin/settings', { licenseId: 'LIC-SET', recipients: [{ email: 'x', kinds: [] }] })).json.error.code).toBe('ERR_SETTINGS_INVALID');
    expect((await admin('GET', '/v1/admin/settings?licenseId=LIC-SET')).json).toMatchObject({ revision: 0, settings: { seats: {}, recipients: [] }, offers: { seatTypes: ['basic'], credits: true, seatTopUps: true } });
    const ok = await admin('POST', '/v1/admin/settings', { licenseId: 'LIC-SET', seats: { basic: { notify: { usedPercentAtLeast: 80 } } } });
    expect([ok.status, ok.json.revision, ok.json.changed]).toEqual([200, 1, ['seats.basic.notify']]);
    const events = (await admin('GET', '/v1/admin/log?licenseId=LIC-SET')).json.events as { kind: string; actor: string }[];
    expect(events.filter((e) => e.kind === 'settings.changed')).toEqual([expect.objectContaining({ actor: 'admin' })]);
    expect((await admin('GET', '/v1/admin/settings?licenseId=NOPE')).status).toBe(404);
  });

  it('licit settings: set through the server, shown from the same store, refused with the field named', async () => {
    const env = { LICIT_ADMIN_TOKEN: TOKEN };
    const set = await licit(['settings', 'set', '--server', srv.url, '--license-id', 'LIC-SET', '--json', '--json-settings', JSON.stringify({ credits: { notify: { remainingAtMost: 10 } }, recipients: [{ email: 'ops@acme.example', kinds: ['alerts'] }] })], env);
    expect(set.code, set.stderr + set.stdout).toBe(0);
    expect(set.json()).toMatchObject({ ok: true, revision: 2, changed: ['credits.notify', 'recipients'] });
    const keyFile = join(tmp(), 'lic.key');
    writeFileSync(keyFile, await vendor.issue({ licenseId: 'LIC-SET', credits: 100, seats: { basic: 5 } }));
    const shown = await licit(['settings', 'show', '--store', storeDir, '--license', keyFile, '--public-key', vendor.pubPath]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('credits\tnotify when credits left <= 10; no automatic top-up');
    expect(shown.stdout).toContain('seats basic\tnotify when used >= 80%');
    expect(shown.stdout).toContain('notify\tops@acme.example: alerts');
    const bad = await licit(['settings', 'set', '--server', srv.url, '--license-id', 'LIC-SET', '--json', '--json-settings', '{"credits": {"topUp": {"remainingAtMost": 10, "add": 5}}}'], env);
    expect(bad.code).toBe(1);
    expect(bad.json().error).toMatchObject({ code: 'ERR_SETTINGS_INVALID' });
  });

  it('usage reports cross the thresholds: one alert, one automatic top-up, delivered with the recipients, counted automatic, applied at the next renewal', async () => {
    const key = await vendor.issue({ licenseId: 'LIC-CR', credits: 1000, allowSuppliedMachineId: true });
    expect((await admin('POST', '/v1/admin/licenses', { license: key })).status).toBe(200);
    const saved = await admin('POST', '/v1/admin/settings', {
      licenseId: 'LIC-CR',
      credits: { notify: { remainingAtMost: 300 }, topUp: { remainingAtMost: 100, add: 500 } },
      recipients: [
        { email: 'ops@acme.example', kinds: ['alerts'] },
        { email: 'billing@acme.example', kinds: ['top-ups', 'top-up-failures'] },
      ],
    });
    expect(saved.status, JSON.stringify(saved.json)).toBe(200);
    await settled();
    got = [];

    const license = await verifyLicense(key, { publicKeys: vendor.publicKeyPem });
    const ledger = await CreditLedger.open(license, { secret: 's', publicKeys: vendor.publicKeyPem, dir: tmp(), mirrorDir: tmp() });
    const app = await Licensing.open({ license: key, publicKeys: vendor.publicKeyPem, dir: tmp(), secret: 'app-secret', server: srv.url, machineId: 'm-77b', autoRenew: false, ledger });
    try {
      await app.activate();
      await settled();
      got = [];
      // 750 spent: 250 left, at or below 300. Reported with the renewal.
      await ledger.consume(750);
      await app.renew();
      await settled();
      expect(got.map((d) => d.type)).toEqual(['alert.raised']);
      expect(got[0]?.data).toMatchObject({ rule: 'credits.notify.r1', metric: 'credits', threshold: 300, value: 250, purpose: 'notify', figure: 'credits', recipients: ['ops@acme.example'] });
      // A second report still below: no second alert.
      await ledger.consume(10);
      await app.renew();
      await settled();
      expect(got.map((d) => d.type)).toEqual(['alert.raised']);

      // 90 left: the top-up rule adds 500 (590 left), which clears both rules.
      got = [];
      await ledger.consume(150);
      await app.renew();
      await settled();
      const types = got.map((d) => d.type);
      expect(types.filter((t) => t === 'credits.topped-up')).toHaveLength(1);
      expect(types).toEqual(expect.arrayContaining(['alert.raised', 'topup.requested', 'credits.topped-up', 'topup.completed', 'alert.cleared', 'alert.cleared']));
      const completed = got.find((d) => d.type === 'topup.completed');
      expect(completed?.data).toMatchObject({ key: 'LIC-CR:credits.topUp.r1:1', granted: { credits: 500, added: true }, purpose: 'topUp', recipients: ['billing@acme.example'] });
      expect(got.find((d) => d.type === 'credits.topped-up')).toMatchObject({ actor: 'alerts', data: { credits: 500, source: 'auto' } });
      // The top-up rule's own alert tells nobody; the notification rule's clearing tells ops.
      expect(got.find((d) => d.type === 'alert.raised')?.data).toMatchObject({ purpose: 'topUp', recipients: [] });
      expect(got.filter((d) => d.type === 'alert.cleared').map((d) => d.data.recipients)).toEqual(expect.arrayContaining([['ops@acme.example'], []]));

      // Checking again (another process, a retry) adds nothing.
      await Promise.all([1, 2, 3].map(() => srv.server.alerts?.check('LIC-CR')));
      const usage = (await admin('GET', '/v1/admin/usage?licenseId=LIC-CR')).json;
      expect(usage.credits).toEqual({ licensed: 1000, toppedUp: 500, consumed: 910 });
      const report = (await admin('GET', '/v1/admin/reports?licenseId=LIC-CR&range=day')).json.report;
      expect(report.topUps).toMatchObject({ credits: 1, automatic: 1, total: 1 });
      expect(report.alertsRaised).toBe(2);

      // The installation's next renewal brings the top-up to its ledger.
      expect((await ledger.balance()).toppedUp).toBe(0);
      await app.renew();
      expect(await ledger.balance()).toMatchObject({ toppedUp: 500, remaining: 590 });
      expect(failures).toEqual([]);
    } finally {
      app.close();
    }
  }, 30_000);

  it('seats assigned down to the threshold: the license is re-issued with more seats once (source auto), and the type re-arms', async () => {
    await admin('POST', '/v1/admin/licenses', { license: await vendor.issue({ licenseId: 'LIC-ST', seats: { basic: 3 } }) });
    const saved = await admin('POST', '/v1/admin/settings', { licenseId: 'LIC-ST', seats: { basic: { notify: { remainingAtMost: 1 }, topUp: { remainingAtMost: 0, add: 2 } } }, recipients: [{ email: 'billing@acme.example', kinds: ['top-ups'] }] });
    expect(saved.status, JSON.stringify(saved.json)).toBe(200);
    await settled();
    got = [];
    const seats = async () => new SeatManager(srv.server.vendor.store, (await srv.server.vendor.license('LIC-ST')).license);
    for (const u of ['u1@acme.example', 'u2@acme.example', 'u3@acme.example']) await (await seats()).assign(u, 'basic');
    await settled();
    const completed = got.filter((d) => d.type === 'topup.completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]?.data).toMatchObject({ key: 'LIC-ST:seats.basic.topUp.r1:1', granted: { type: 'basic', seats: 2, from: 3, to: 5, issue: 2, added: true }, figure: 'basic', recipients: ['billing@acme.example'] });
    expect(got.filter((d) => d.type === 'alert.raised').map((d) => d.data.rule)).toEqual(['seats.basic.notify.r1', 'seats.basic.topUp.r1']);
    const events = (await admin('GET', '/v1/admin/events?licenseId=LIC-ST')).json.events as { kind: string; actor: string; details: Record<string, unknown> }[];
    expect(events.filter((e) => e.kind === 'seats.changed')).toEqual([expect.objectContaining({ actor: 'alerts', details: expect.objectContaining({ type: 'basic', from: 3, to: 5, source: 'auto' }) })]);
    expect((await (await seats()).usage()).find((u) => u.type === 'basic')).toMatchObject({ licensed: 5, inUse: 3 });
    // A fourth user fits now; a check made again adds nothing.
    await (await seats()).assign('u4@acme.example', 'basic');
    await srv.server.alerts?.check('LIC-ST');
    await settled();
    expect((await admin('GET', '/v1/admin/license?licenseId=LIC-ST')).json.issues).toHaveLength(2);
    const report = (await admin('GET', '/v1/admin/reports?licenseId=LIC-ST&range=day')).json.report;
    expect(report.topUps).toMatchObject({ seats: 1, automatic: 1 });
    expect(report.licensesAdded).toBe(2);
    expect(failures).toEqual([]);
  }, 30_000);
});
