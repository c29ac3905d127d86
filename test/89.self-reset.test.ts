/**
 * Self-service reset (issue #16): a license's holder frees a lost device from the application,
 * without the vendor, as often per period as the license allows, and never more; a license that
 * does not allow it, another user's device, or a spent budget frees nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRequest, newNonce, type InstallationSigner, type RequestInput } from '../src/core/exchange/index.js';
import { isLicenseError } from '../src/core/errors.js';
import { verifyLicense } from '../src/core/license/verify.js';
import { hashComponent } from '../src/node/fingerprint/index.js';
import { Licensing } from '../src/node/licensing/licensing.js';
import { FileStore } from '../src/node/store/file-store.js';
import { createLicenseServer, type LicenseServer } from '../src/server/index.js';
import { makeVendor } from './helpers/vendor.js';
import { newInstallation } from './helpers/installation.js';

const vendor = makeVendor();
const ADMIN = 'self-reset-admin';
const DAY = 86_400_000;
const work = mkdtempSync(join(tmpdir(), 'licit-self-reset-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const machine = (name: string) => `fp1:su=${hashComponent('app', 'system-uuid', `uuid-${name}`)},bs=${hashComponent('app', 'board-serial', `board-${name}`)}`;

/** A server on a FileStore whose clock the test moves. */
function server(): { s: LicenseServer; clock: { t: number } } {
  const clock = { t: Date.now() };
  const s = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new FileStore(mkdtempSync(join(work, 'store-'))), adminToken: ADMIN, rateLimit: false, now: () => clock.t });
  return { s, clock };
}

async function ask(s: LicenseServer, clock: { t: number }, op: RequestInput['operation'], inst: InstallationSigner, fields: Partial<RequestInput> & { licenseId: string }) {
  const request = await createRequest({ operation: op, fingerprint: machine(inst.kid), nonce: newNonce(), clientTime: new Date(clock.t), ...fields }, inst);
  const res = await s.handle(new Request(`http://x/v1/${op}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request }) }));
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}
async function admin(s: LicenseServer, path: string) {
  return (await (await s.handle(new Request(`http://x${path}`, { headers: { authorization: `Bearer ${ADMIN}` } }))).json()) as Record<string, any>;
}

describe('self-service device reset', () => {
  it('frees a lost device as often per period as the license says, takes no transfer, and says when the next is possible', async () => {
    const { s, clock } = server();
    const key = await vendor.issue({ licenseId: 'LIC-SELF', maxActivations: 1, maxTransfers: 0, selfResets: 1, selfResetDays: 30 });
    const fields = { licenseId: 'LIC-SELF', licenseKey: key };
    const [lost, replacement, third] = [newInstallation(), newInstallation(), newInstallation()];
    expect((await ask(s, clock, 'activate', lost, fields)).status).toBe(200);
    // The refusal tells the application what it may offer: this user's devices and the budget.
    const full = await ask(s, clock, 'activate', replacement, fields);
    expect(full.body.error.code).toBe('ERR_ACTIVATIONS_EXHAUSTED');
    expect(full.body.error.details.selfResets).toEqual({ allowed: 1, periodDays: 30 });
    expect(full.body.error.details.devices.map((d: { deviceId: string }) => d.deviceId)).toEqual([lost.kid]);

    expect((await ask(s, clock, 'activate', replacement, { ...fields, resetDevice: lost.kid })).status).toBe(200);
    expect((await ask(s, clock, 'renew', lost, fields)).body.error.code).toBe('ERR_ACTIVATION_NOT_FOUND');
    const usage = await admin(s, '/v1/admin/usage?licenseId=LIC-SELF');
    expect(usage.activations.transfers).toMatchObject({ used: 0 });
    expect(usage.activations.activations).toMatchObject({ inUse: 1 });

    // The budget is spent: refused, with the date of the next one, and nothing changed.
    clock.t += 10 * DAY;
    const spent = await ask(s, clock, 'activate', third, { ...fields, resetDevice: replacement.kid });
    expect(spent.body.error.code).toBe('ERR_SELF_RESETS_EXHAUSTED');
    expect(Date.parse(spent.body.error.details.retryAt) - (clock.t - 10 * DAY)).toBe(30 * DAY);
    expect((await ask(s, clock, 'renew', replacement, fields)).status).toBe(200);

    // A period after the first reset, one more.
    clock.t += 21 * DAY;
    expect((await ask(s, clock, 'activate', third, { ...fields, resetDevice: replacement.kid })).status).toBe(200);
    expect((await ask(s, clock, 'renew', replacement, fields)).body.error.code).toBe('ERR_ACTIVATION_NOT_FOUND');
    const events = (await admin(s, '/v1/admin/events?licenseId=LIC-SELF')).events as { kind: string; actor: string; details: Record<string, unknown> }[];
    expect(events.filter((e) => e.kind === 'device.self-reset').map((e) => [e.details.device, e.details.by, e.actor])).toEqual([
      [lost.kid, replacement.kid, `installation:${replacement.kid}`],
      [replacement.kid, third.kid, `installation:${third.kid}`],
    ]);
  });

  it('is refused on a license that does not allow it, and for another user\'s device: nothing freed', async () => {
    const { s, clock } = server();
    const closed = await vendor.issue({ licenseId: 'LIC-CLOSED', maxActivations: 1 });
    const owner = newInstallation();
    expect((await ask(s, clock, 'activate', owner, { licenseId: 'LIC-CLOSED', licenseKey: closed })).status).toBe(200);
    const r = await ask(s, clock, 'activate', newInstallation(), { licenseId: 'LIC-CLOSED', licenseKey: closed, resetDevice: owner.kid });
    expect(r.body.error.code).toBe('ERR_SELF_RESET_NOT_ALLOWED');
    expect((await ask(s, clock, 'renew', owner, { licenseId: 'LIC-CLOSED', licenseKey: closed })).status).toBe(200);

    const shared = await vendor.issue({ licenseId: 'LIC-USERS', maxActivations: 2, maxUserActivations: 1, selfResets: 5 });
    const bobs = newInstallation();
    expect((await ask(s, clock, 'activate', bobs, { licenseId: 'LIC-USERS', licenseKey: shared, user: 'bob' })).status).toBe(200);
    const ann = await ask(s, clock, 'activate', newInstallation(), { licenseId: 'LIC-USERS', licenseKey: shared, user: 'ann', resetDevice: bobs.kid });
    expect(ann.body.error.code).toBe('ERR_ACTIVATION_NOT_FOUND');
    expect((await ask(s, clock, 'renew', bobs, { licenseId: 'LIC-USERS', licenseKey: shared, user: 'bob' })).status).toBe(200);
  });

  it('is asked for from the application with licensing.activate({ resetDevice }); only an activation carries it', async () => {
    const { s } = server();
    const key = await vendor.issue({ licenseId: 'LIC-APP', maxActivations: 1, selfResets: 2, allowSuppliedMachineId: true });
    const open = (name: string) =>
      Licensing.open({
        license: key,
        publicKeys: vendor.publicKeyPem,
        dir: join(work, name),
        secret: 'app-secret',
        machineId: name,
        server: 'http://in-process',
        autoRenew: false,
        fetch: ((u: string, i: RequestInit) => s.handle(new Request(u, i))) as unknown as typeof fetch,
      });
    const old = await open('old-laptop');
    await old.activate();
    const fresh = await open('new-laptop');
    const refused = await fresh.activate().catch((e: unknown) => e);
    expect(isLicenseError(refused) && refused.code).toBe('ERR_ACTIVATIONS_EXHAUSTED');
    const devices = (refused as { details: { devices: { deviceId: string }[] } }).details.devices;
    await fresh.activate({ resetDevice: devices[0]?.deviceId as string });
    expect(fresh.status).toBe('verified');
    await expect(old.renew()).rejects.toMatchObject({ code: 'ERR_ACTIVATION_NOT_FOUND' });
    await expect(createRequest({ operation: 'renew', licenseId: 'LIC-APP', fingerprint: machine('x'), nonce: newNonce(), clientTime: new Date(), resetDevice: 'abc' }, newInstallation())).rejects.toMatchObject({ code: 'ERR_USAGE' });
    // The claims survive signing: what the vendor sold is what the key says.
    const license = await verifyLicense(key, { publicKeys: vendor.publicKeyPem, machine: () => undefined });
    expect([license.selfResets, license.selfResetDays]).toEqual([2, 30]);
  });
});
