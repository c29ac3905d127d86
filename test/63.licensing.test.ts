/**
 * The client runtime with an injected clock, fetch and timer: activation over the server's
 * handler, renewal halfway through the lease, grace while the server is down (not failure), then
 * ERR_LEASE_EXPIRED; a refusal ends verification at verifiedUntil; back-off doubles; checks stay
 * synchronous.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isLicenseError } from '../src/core/errors.js';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { fileClockGuard } from '../src/index.node.js';
import { Installation, type InstallationOptions } from '../src/node/licensing/installation.js';
import { Licensing, type LicensingOptions, type RenewalFailure, type StatusEvent } from '../src/node/licensing/licensing.js';
import { createLicenseServer } from '../src/server/index.js';
import { makeVendor } from './helpers/vendor.js';

const vendor = makeVendor();
const DAY = 86_400_000;
const T0 = Date.parse('2026-03-01T00:00:00Z');
const SECRET = 'test-app-secret';
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function world(opts: { graceDays?: number; maxActivations?: number } = {}) {
  let now = T0;
  let down = false;
  const server = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new MemoryStore(), adminToken: 't', now: () => now });
  const fetchFn = (async (url: string | URL | Request, init?: RequestInit) => {
    if (down) throw new TypeError('fetch failed: ECONNREFUSED');
    return server.handle(new Request(url as string, init));
  }) as typeof fetch;
  const timers: Array<{ fn: () => void; delay: number; cancelled: boolean }> = [];
  const schedule = (fn: () => void, delay: number) => {
    const t = { fn, delay, cancelled: false };
    timers.push(t);
    return { cancel: () => (t.cancelled = true) };
  };
  const open = async (key: string, machineId = 'm-1') => {
    const dir = mkdtempSync(join(tmpdir(), 'licit-rt-'));
    dirs.push(dir);
    return Licensing.open({ license: key, publicKeys: vendor.publicKeyPem, dir, secret: SECRET, server: 'http://licenses.test', machineId, now: () => now, fetch: fetchFn, schedule, retryMinMs: 1000, retryMaxMs: 8000 });
  };
  const pending = () => timers.filter((t) => !t.cancelled);
  return { server, open, timers, pending, setDown: (d: boolean) => (down = d), advance: (ms: number) => (now += ms), at: () => now };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('Licensing', () => {
  it('activates, renews halfway, and moves verifiedUntil two weeks ahead', async () => {
    const w = world();
    const key = await vendor.issue({ allowSuppliedMachineId: true, licenseId: 'LIC-R', features: ['pdf'], graceDays: 7 });
    const l = await w.open(key);
    expect(l.status).toBe('unactivated');
    expect(l.has('pdf')).toBe(false);
    expect(() => l.check()).toThrow(expect.objectContaining({ code: 'ERR_ACTIVATION_NOT_FOUND' }));
    const lease = await l.activate();
    expect(lease.verifiedUntil.toISOString()).toBe('2026-03-15T00:00:00.000Z');
    expect(l.status).toBe('verified');
    expect(l.has('pdf')).toBe(true);
    expect(l.has('nope')).toBe(false);
    // The renewal timer is due halfway through the lease.
    const next = w.pending().at(-1)!;
    expect(next.delay).toBe(7 * DAY);
    w.advance(7 * DAY);
    const renewed = new Promise((r) => l.once('renewed', r));
    next.fn();
    await renewed;
    expect(l.verifiedUntil?.toISOString()).toBe('2026-03-22T00:00:00.000Z');
    l.close();
  });

  it('a server that is down triggers grace, not failure; then ERR_LEASE_EXPIRED', async () => {
    const w = world();
    const key = await vendor.issue({ allowSuppliedMachineId: true, licenseId: 'LIC-G', features: ['pdf'], graceDays: 7 });
    const l = await w.open(key);
    await l.activate();
    const events: StatusEvent[] = [];
    const failures: RenewalFailure[] = [];
    l.on('status', (e) => events.push(e));
    l.on('renewal-failed', (f) => failures.push(f));
    w.setDown(true);
    w.advance(15 * DAY); // past verifiedUntil (14 days)
    await expect(l.renew()).rejects.toMatchObject({ code: 'ERR_SERVER_UNREACHABLE' });
    expect(failures[0]).toMatchObject({ unreachable: true, retryInMs: 1000 });
    expect(l.status).toBe('grace');
    expect(() => l.check()).not.toThrow();
    expect(l.has('pdf')).toBe(true);
    await flush();
    expect(events.map((e) => e.status)).toContain('grace');
    w.advance(7 * DAY); // past grace end (verifiedUntil + 7 days)
    expect(l.has('pdf')).toBe(false);
    let err: unknown;
    try {
      l.check();
    } catch (e) {
      err = e;
    }
    expect(isLicenseError(err, 'ERR_LEASE_EXPIRED')).toBe(true);
    await flush();
    expect(events.at(-1)?.status).toBe('expired');
    // The server comes back: renewal restores verification.
    w.setDown(false);
    await l.renew();
    expect(l.status).toBe('verified');
    l.close();
  });

  it('backs off 1, 2, 4, 8, 8 s while the server is down', async () => {
    const w = world();
    const key = await vendor.issue({ allowSuppliedMachineId: true, licenseId: 'LIC-B', graceDays: 3 });
    const l = await w.open(key);
    await l.activate();
    w.setDown(true);
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = w.pending().at(-1)!;
      const failed = new Promise<RenewalFailure>((r) => l.once('renewal-failed', r));
      t.fn();
      delays.push((await failed).retryInMs!);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000]);
    l.close();
  });

  it('a server that refuses (device reset) ends verification at verifiedUntil, with no grace', async () => {
    const w = world();
    const key = await vendor.issue({ allowSuppliedMachineId: true, licenseId: 'LIC-X', graceDays: 30, maxTransfers: 3 });
    const l = await w.open(key);
    const lease = await l.activate();
    const reset = await w.server.handle(new Request('http://x/v1/admin/devices/reset', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer t' }, body: JSON.stringify({ licenseId: 'LIC-X', deviceId: lease.deviceId }) }));
    expect(reset.status).toBe(200);
    w.advance(8 * DAY);
    await expect(l.renew()).rejects.toMatchObject({ code: 'ERR_ACTIVATION_NOT_FOUND' });
    expect(l.status).toBe('verified'); // the lease already granted still runs to its end
    w.advance(7 * DAY);
    expect(l.status).toBe('expired');
    l.close();
  });

  it('the lease survives a restart; a clock set back cannot stretch it', async () => {
    const w = world();
    const key = await vendor.issue({ allowSuppliedMachineId: true, licenseId: 'LIC-P', graceDays: 0 });
    const dir = mkdtempSync(join(tmpdir(), 'licit-rt-'));
    dirs.push(dir);
    const opts = { license: key, publicKeys: vendor.publicKeyPem, dir, secret: SECRET, machineId: 'm-p', now: () => w.at(), fetch: ((u: string, i: RequestInit) => w.server.handle(new Request(u, i))) as unknown as typeof fetch, server: 'http://s', autoRenew: false };
    const a = await Licensing.open(opts);
    await a.activate();
    const b = await Licensing.open(opts);
    expect(b.status).toBe('verified');
    expect(b.installation.id).toBe(a.installation.id);
    // Another machine id: the stored lease does not fit, the installation is not activated there.
    const c = await Licensing.open({ ...opts, machineId: 'other' });
    expect(c.status).toBe('unactivated');
    w.advance(15 * DAY);
    expect(b.status).toBe('expired');
    w.advance(-10 * DAY); // clock set back
    expect(b.status).toBe('expired');
  });

  it('a clock set back after the lease ran out does not bring it back in a later run (the mark keeps the time seen)', async () => {
    const w = world();
    const key = await vendor.issue({ allowSuppliedMachineId: true, licenseId: 'LIC-BACK', graceDays: 0 });
    const dir = mkdtempSync(join(tmpdir(), 'licit-rt-'));
    dirs.push(dir);
    const opts = { license: key, publicKeys: vendor.publicKeyPem, dir, secret: SECRET, machineId: 'm-back', now: () => w.at(), fetch: ((u: string, i: RequestInit) => w.server.handle(new Request(u, i))) as unknown as typeof fetch, server: 'http://s', autoRenew: false };
    await (await Licensing.open(opts)).activate();
    w.advance(30 * DAY);
    expect((await Licensing.open(opts)).status).toBe('expired'); // a run 30 days later
    w.advance(-30 * DAY); // the clock set back, then the application started again
    expect((await Licensing.open(opts)).status).toBe('expired');
  });

  it('a renewal refused by the server (a suspended license) leaves no grace, in this run and in every later one', async () => {
    const w = world();
    const key = await vendor.issue({ allowSuppliedMachineId: true, licenseId: 'LIC-SUSP', graceDays: 14, features: ['pdf'] });
    const dir = mkdtempSync(join(tmpdir(), 'licit-rt-'));
    dirs.push(dir);
    const opts = { license: key, publicKeys: vendor.publicKeyPem, dir, secret: SECRET, machineId: 'm-susp', now: () => w.at(), fetch: ((u: string, i: RequestInit) => w.server.handle(new Request(u, i))) as unknown as typeof fetch, server: 'http://s', autoRenew: false };
    const a = await Licensing.open(opts);
    await a.activate();
    const { changeLicenseState } = await import('../src/core/admin/registry.js');
    await changeLicenseState(w.server.vendor.store, 'LIC-SUSP', 'suspend', { actor: 'test', reason: 'unpaid' });
    w.advance(7 * DAY);
    await expect(a.renew()).rejects.toMatchObject({ code: 'ERR_LICENSE_SUSPENDED' });
    w.advance(8 * DAY); // past the lease (14 days), inside what would have been grace
    expect(a.status).toBe('expired');
    const later = await Licensing.open(opts); // a later run, e.g. with the server firewalled
    expect(later.status).toBe('expired');
    expect(later.has('pdf')).toBe(false);
    expect(() => later.check()).toThrow(expect.objectContaining({ code: 'ERR_LEASE_EXPIRED', message: expect.stringMatching(/refused renewal \(ERR_LICENSE_SUSPENDED\)/) }));
  });

  it('Licensing.open and Installation.open refuse to seal state without a secret, before touching the directory', async () => {
    const key = await vendor.issue({ allowSuppliedMachineId: true, licenseId: 'LIC-NOSECRET' });
    const dir = join(mkdtempSync(join(tmpdir(), 'licit-rt-')), 'state');
    dirs.push(dir);
    for (const secret of [undefined, '']) {
      const l = await Licensing.open({ license: key, publicKeys: vendor.publicKeyPem, dir, machineId: 'm-n', secret } as unknown as LicensingOptions).catch((e: unknown) => e);
      expect(isLicenseError(l, 'ERR_SECRET_REQUIRED')).toBe(true);
      expect((l as Error).message).toMatch(/^Licensing\.open needs .*`secret` option/);
      const i = await Installation.open({ dir, secret } as unknown as InstallationOptions).catch((e: unknown) => e);
      expect(isLicenseError(i, 'ERR_SECRET_REQUIRED')).toBe(true);
      expect((i as Error).message).toMatch(/^Installation\.open needs .*`secret` option/);
    }
    expect(existsSync(dir)).toBe(false);
    // Another application's secret does not open this installation's state.
    await Installation.open({ dir, secret: SECRET });
    await expect(Installation.open({ dir, secret: 'another-app' })).rejects.toMatchObject({ code: 'ERR_STATE_TAMPERED' });
  });

  it('an online renewal resets a trusted time that a clock set ahead once left behind', async () => {
    const w = world();
    const key = await vendor.issue({ allowSuppliedMachineId: true, licenseId: 'LIC-AHEAD', features: ['pdf'], graceDays: 7 });
    const l = await w.open(key);
    await l.activate();
    const back = w.at();
    w.advance(Date.parse('2099-01-01T00:00:00Z') - back); // one check with the clock far ahead
    expect(l.status).toBe('expired');
    w.advance(back + DAY - w.at()); // the clock is correct again
    expect(l.status).toBe('expired'); // trusted time never goes back on the clock's word...
    const lease = await l.renew(); // ...but the vendor's signed time resets it
    expect(lease.serverTime.getTime()).toBe(back + DAY);
    expect(l.status).toBe('verified');
    expect(() => l.check()).not.toThrow();
    expect(l.has('pdf')).toBe(true);
    expect(await l.installation.clock.lastSignedTime()).toEqual(lease.serverTime);
    l.close();
  });

  it('the high-water mark kept with the installation is believed at open, survives deleting the app guard file, and the next lease resets it', async () => {
    const w = world();
    const key = await vendor.issue({ allowSuppliedMachineId: true, licenseId: 'LIC-KEPT', graceDays: 7 });
    const dir = mkdtempSync(join(tmpdir(), 'licit-rt-'));
    dirs.push(dir);
    const opts = { license: key, publicKeys: vendor.publicKeyPem, dir, secret: SECRET, machineId: 'm-k', now: () => w.at(), fetch: ((u: string, i: RequestInit) => w.server.handle(new Request(u, i))) as unknown as typeof fetch, server: 'http://s', autoRenew: false };
    const a = await Licensing.open(opts);
    await a.activate();
    // The application's own guard keeps a copy in the installation; the clock is once set to 2099.
    const guardPath = join(mkdtempSync(join(tmpdir(), 'licit-rt-')), 'clock');
    dirs.push(guardPath);
    const appGuard = () => fileClockGuard(guardPath, { secret: SECRET, alsoKeepIn: [a.installation.clockStore] });
    await appGuard().check(new Date('2099-01-01T00:00:00Z'));
    rmSync(guardPath);
    expect(existsSync(guardPath)).toBe(false);
    const now = new Date(w.at());
    await expect(appGuard().check(now)).rejects.toMatchObject({ code: 'ERR_CLOCK_TAMPERED' });
    await expect((await Installation.open({ dir, secret: SECRET })).clock.check(now)).rejects.toMatchObject({ code: 'ERR_CLOCK_TAMPERED' });
    // A restarted application believes the installation's mark: 2099 is past the lease.
    const b = await Licensing.open(opts);
    expect(b.status).toBe('expired');
    w.advance(60_000);
    await b.renew();
    expect(b.status).toBe('verified');
    // The correction reached the installation's copy: the app guard passes with the clock as it is.
    expect(await appGuard().check(new Date(w.at()))).toEqual(new Date(w.at()));
    expect((await Licensing.open(opts)).status).toBe('verified');
  });

  it('feature checks are synchronous and do no I/O', async () => {
    const { readFileSync, statSync, writeFileSync } = await import('node:fs');
    let fetches = 0;
    const w = world();
    const key = await vendor.issue({ allowSuppliedMachineId: true, licenseId: 'LIC-S', features: ['a'] });
    const dir = mkdtempSync(join(tmpdir(), 'licit-rt-'));
    let seatReads = 0;
    const l = await Licensing.open({
      license: key, publicKeys: vendor.publicKeyPem, dir, secret: SECRET, server: 'http://licenses.test', machineId: 'm-s', now: w.at, autoRenew: false,
      fetch: ((u: string, i: RequestInit) => (fetches++, w.server.handle(new Request(u, i)))) as unknown as typeof fetch,
      seatUsage: () => (seatReads++, {}),
    });
    await l.activate();
    const before = { fetches, seatReads };
    // Take the state directory away and put a plain file in its place: any read, write, lock or
    // mkdir there would now fail (or recreate it), and no server call may happen either.
    rmSync(dir, { recursive: true, force: true });
    writeFileSync(dir, 'not a directory');
    for (let i = 0; i < 1000; i++) {
      const r = l.has('a');
      expect(r).toBe(true); // a boolean, not a promise
      expect(l.has('nope')).toBe(false);
      expect(l.check() as unknown).toBeUndefined();
      expect(l.status).toBe('verified');
    }
    await flush(); // anything a check might have started in the background gets its chance to run
    expect({ fetches, seatReads }).toEqual(before);
    expect(statSync(dir).isFile() && readFileSync(dir, 'utf8')).toBe('not a directory'); // nothing recreated or written
    rmSync(dir, { force: true });
    // The same checks after the lease ran out: still answered from memory.
    w.advance(60 * DAY);
    expect(l.has('a')).toBe(false);
    expect(() => l.check()).toThrow(expect.objectContaining({ code: 'ERR_LEASE_EXPIRED' }));
    expect(fetches).toBe(before.fetches);
    l.close();
  });

  it('an edited installation key or exchange state is refused, not trusted', async () => {
    const { readdirSync, readFileSync, writeFileSync } = await import('node:fs');
    const w = world();
    const key = await vendor.issue({ allowSuppliedMachineId: true, licenseId: 'LIC-T' });
    const l = await w.open(key);
    await l.activate();
    const dir = l.installation.dir;
    const state = readdirSync(dir).find((f) => f.startsWith('exchange-'))!;
    const bytes = readFileSync(join(dir, state));
    bytes[bytes.length - 1]! ^= 1;
    writeFileSync(join(dir, state), bytes);
    const opts = { license: key, publicKeys: vendor.publicKeyPem, dir, secret: SECRET, machineId: 'm-1', now: w.at, autoRenew: false };
    await expect(Licensing.open(opts)).rejects.toMatchObject({ code: 'ERR_STATE_TAMPERED' });
    const k = readFileSync(join(dir, 'installation.key'));
    k[20]! ^= 1;
    writeFileSync(join(dir, 'installation.key'), k);
    await expect(Licensing.open(opts)).rejects.toMatchObject({ code: 'ERR_STATE_TAMPERED' });
    l.close();
  });
});
