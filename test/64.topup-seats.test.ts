/**
 * Installation-facing top-ups and seat usage, end to end in process: an AlertMonitor's automatic
 * top-up hook calls `Licensing.requestTopUp`, the server's `topUpPolicy` grants, the granted token
 * reaches the real CreditLedger through the lease, and a retry with the same idempotency key adds
 * nothing twice. Seat usage from the `seatUsage` option reaches the server's usage view.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AlertMonitor } from '../src/core/admin/alerts.js';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { verifyLicense } from '../src/core/license/verify.js';
import { CreditLedger } from '../src/node/ledger/credit-ledger.js';
import { Licensing, type LicensingOptions } from '../src/node/licensing/licensing.js';
import { createLicenseServer, type TopUpPolicyRequest } from '../src/server/index.js';
import { makeVendor } from './helpers/vendor.js';

const vendor = makeVendor();
const T0 = Date.parse('2026-03-01T00:00:00Z');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'licit-64-'));
  dirs.push(d);
  return d;
};

function world(policy?: (r: TopUpPolicyRequest) => number | Promise<number>) {
  const now = T0;
  const asks: TopUpPolicyRequest[] = [];
  const server = createLicenseServer({
    signingKey: vendor.privateKeyPem,
    store: new MemoryStore(),
    adminToken: 't',
    now: () => now,
    ...(policy === undefined ? {} : { topUpPolicy: (r: TopUpPolicyRequest) => (asks.push(r), policy(r)) }),
  });
  let lost = false; // drop the next answer after the server has handled the request
  const fetchFn = (async (url: string | URL | Request, init?: RequestInit) => {
    const res = await server.handle(new Request(url as string, init));
    if (lost) {
      lost = false;
      throw new TypeError('fetch failed: socket hang up');
    }
    return res;
  }) as typeof fetch;
  const admin = async (path: string) => (await (await server.handle(new Request(`http://x${path}`, { headers: { authorization: 'Bearer t' } }))).json()) as Record<string, any>;
  const open = (key: string, extra: Partial<LicensingOptions> = {}) =>
    Licensing.open({ license: key, publicKeys: vendor.publicKeyPem, dir: tmp(), secret: 'test-app-secret', server: 'http://licenses.test', machineId: 'm-64', now: () => now, fetch: fetchFn, autoRenew: false, ...extra });
  return { server, asks, admin, open, loseNextAnswer: () => (lost = true) };
}

describe('installation-facing top-ups', () => {
  it('an alert hook asks, the policy grants, the ledger gets the credits once even when an answer is lost', async () => {
    const w = world(({ requested }) => Math.min(requested, 500));
    const key = await vendor.issue({ allowSuppliedMachineId: true, licenseId: 'LIC-AUTO', credits: 100 });
    const license = await verifyLicense(key, { publicKeys: vendor.publicKeyPem, now: new Date(T0) });
    const ledger = await CreditLedger.open(license, { secret: 's', publicKeys: vendor.publicKeyPem, dir: tmp(), mirrorDir: tmp() });
    const l = await w.open(key, { ledger });
    await expect(l.requestTopUp(10)).rejects.toMatchObject({ code: 'ERR_ACTIVATION_NOT_FOUND' });
    await l.activate();
    await ledger.consume(95);

    // The application's own monitor (its own store), with the automatic top-up hook calling licit.
    let failNext = true;
    const monitor = new AlertMonitor(new MemoryStore(), license.id, {
      rules: [{ id: 'credits-low', metric: 'credits', remainingAtMost: 10, topUp: { credits: 1000 } }],
      now: () => T0,
      retryMs: 0,
      topUp: async (r) => {
        if (failNext) {
          failNext = false;
          w.loseNextAnswer(); // the server grants, the answer never arrives: the hook fails and is retried
        }
        return l.requestTopUp(Number(r.want.credits), { idempotencyKey: r.idempotencyKey });
      },
    });
    const first = await monitor.check({ credits: await ledger.balance() });
    expect(first.topUps).toEqual([expect.objectContaining({ ok: false, attempt: 1 })]);
    expect((await ledger.balance()).toppedUp).toBe(0); // the lost answer never reached the ledger
    const retry = await monitor.check({ credits: await ledger.balance() });
    expect(retry.topUps).toEqual([expect.objectContaining({ ok: true, attempt: 2 })]);

    // Granted once (policy capped it at 500), applied once, asked twice.
    expect(w.asks).toHaveLength(1);
    expect(w.asks[0]).toMatchObject({ licenseId: 'LIC-AUTO', requested: 1000, installation: l.installation.id });
    expect(await ledger.balance()).toMatchObject({ toppedUp: 500, allowance: 600, remaining: 505 });
    const usage = await w.admin('/v1/admin/usage?licenseId=LIC-AUTO');
    expect(usage.credits.toppedUp).toBe(500);
    const events = (await w.admin('/v1/admin/events?licenseId=LIC-AUTO')).events as Array<{ kind: string; actor: string; details: Record<string, unknown> }>;
    const requested = events.filter((e) => e.kind === 'topup.requested');
    expect(requested).toHaveLength(2);
    expect(requested[0]?.details).toMatchObject({ credits: 1000, device: l.installation.id, key: 'LIC-AUTO:credits-low:1' });
    expect(events.filter((e) => e.kind === 'credits.topped-up')).toEqual([expect.objectContaining({ actor: `installation:${l.installation.id}`, details: expect.objectContaining({ credits: 500, source: 'auto' }) })]);

    // Asking directly with the same key again: same token, not added; a renewal re-delivers nothing new.
    const again = await l.requestTopUp(1000, { idempotencyKey: 'LIC-AUTO:credits-low:1' });
    expect(again).toMatchObject({ granted: 500, added: false });
    await l.renew();
    expect((await ledger.balance()).toppedUp).toBe(500);
    l.close();
  });

  it('without a policy the server records the ask and grants nothing; only activated installations may ask', async () => {
    const w = world();
    const key = await vendor.issue({ allowSuppliedMachineId: true, licenseId: 'LIC-NOPOL', credits: 10 });
    const l = await w.open(key);
    await l.activate();
    const r = await l.requestTopUp(50, { idempotencyKey: 'k1' });
    expect(r).toEqual({ licenseId: 'LIC-NOPOL', idempotencyKey: 'k1', requested: 50, granted: 0, tokenId: null, added: false });
    const events = (await w.admin('/v1/admin/events?licenseId=LIC-NOPOL')).events as Array<{ kind: string }>;
    expect(events.map((e) => e.kind)).toContain('topup.requested');
    expect(events.map((e) => e.kind)).not.toContain('credits.topped-up');
    await expect(l.requestTopUp(0)).rejects.toMatchObject({ code: 'ERR_USAGE' });
    // A reset device cannot ask (a bare license key is not enough).
    await w.server.handle(new Request('http://x/v1/admin/devices/reset', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer t' }, body: JSON.stringify({ licenseId: 'LIC-NOPOL', deviceId: l.installation.id }) }));
    await expect(l.requestTopUp(5)).rejects.toMatchObject({ code: 'ERR_ACTIVATION_NOT_FOUND' });
    l.close();
  });
});

describe('seat usage', () => {
  it('the seatUsage counts travel in every request and the server records them', async () => {
    const w = world();
    const key = await vendor.issue({ allowSuppliedMachineId: true, licenseId: 'LIC-SEATS', seats: { basic: 10, advanced: 2 } });
    let inUse = { basic: 3, advanced: 1 };
    const l = await w.open(key, { seatUsage: async () => inUse });
    await l.activate();
    let usage = await w.admin('/v1/admin/usage?licenseId=LIC-SEATS');
    expect(usage.seatsReported).toEqual({ [l.installation.id]: { basic: 3, advanced: 1 } });
    inUse = { basic: 7, advanced: 2 };
    await l.renew();
    usage = await w.admin('/v1/admin/usage?licenseId=LIC-SEATS');
    expect(usage.seatsReported).toEqual({ [l.installation.id]: { basic: 7, advanced: 2 } });
    l.close();
  });
});
