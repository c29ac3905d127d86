/**
 * Licensing keeps its trusted time with the credit ledger it is given, not only in the
 * installation's `clock.sealed`: deleting (or restoring) that one file does not take trusted time
 * back behind what the ledger's records prove has passed. A fresh signed lease still resets a mark
 * a wrong clock left in the ledger (issue #12: "kept with the ledger and installation state").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { CreditLedger } from '../src/node/ledger/credit-ledger.js';
import { Licensing } from '../src/node/licensing/licensing.js';
import { createLicenseServer } from '../src/server/index.js';
import { makeVendor } from './helpers/vendor.js';

const vendor = makeVendor();
const DAY = 86_400_000;
const T0 = Date.parse('2026-03-01T00:00:00Z');
const SECRET = 'test-app-secret';
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('Licensing trusted time and the ledger', () => {
  it('deleting clock.sealed does not take trusted time back behind the ledger; a fresh lease still corrects it', async () => {
    let now = T0;
    const server = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new MemoryStore(), adminToken: 't', now: () => now });
    const fetchFn = (async (url: string | URL | Request, init?: RequestInit) => server.handle(new Request(url as string, init))) as typeof fetch;
    const key = await vendor.issue({ allowSuppliedMachineId: true, licenseId: 'LIC-WIT', graceDays: 0, credits: 100 });
    const root = mkdtempSync(join(tmpdir(), 'licit-63b-'));
    dirs.push(root);
    const dir = join(root, 'inst');
    const ledgerOf = () => CreditLedger.open({ id: 'LIC-WIT', credits: 100, carriedCredits: 0 }, { secret: SECRET, publicKeys: vendor.publicKeyPem, dir: join(root, 'p'), mirrorDir: join(root, 'm'), now: () => now });
    const open = async (ledger: CreditLedger) =>
      Licensing.open({ license: key, publicKeys: vendor.publicKeyPem, dir, secret: SECRET, server: 'http://s', machineId: 'm-1', now: () => now, fetch: fetchFn, autoRenew: false, ledger });
    let ledger = await ledgerOf();
    const a = await open(ledger);
    const lease = await a.activate();
    expect(lease.verifiedUntil.getTime()).toBe(T0 + 14 * DAY);
    a.close();
    // Twenty days later (the lease ran out), the application spends a credit, then stops.
    now = T0 + 20 * DAY;
    await ledger.consume(1);
    const b = await open(ledger);
    expect(b.status).toBe('expired');
    b.close();
    await ledger.close();
    // The user deletes the installation's copy of the mark and sets the clock back to day 1.
    rmSync(join(dir, 'clock.sealed'));
    now = T0 + DAY;
    ledger = await ledgerOf();
    const c = await open(ledger);
    expect(c.status).toBe('expired'); // the ledger's records say day 20 has passed
    c.close();
    // A fresh lease from the vendor is the way out, also for a ledger once written at 2099.
    now = T0 + 20 * DAY;
    await ledger.consume(1, { idempotencyKey: 'ok' });
    const d = await open(ledger);
    await d.renew();
    expect(d.status).toBe('verified');
    d.close();
    await ledger.close();
  });

  it('a ledger written while the clock said 2099 does not lock Licensing out once a fresh lease is installed', async () => {
    let now = T0;
    const server = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new MemoryStore(), adminToken: 't', now: () => now });
    const fetchFn = (async (url: string | URL | Request, init?: RequestInit) => server.handle(new Request(url as string, init))) as typeof fetch;
    const key = await vendor.issue({ allowSuppliedMachineId: true, licenseId: 'LIC-WIT2', graceDays: 0, credits: 100 });
    const root = mkdtempSync(join(tmpdir(), 'licit-63b-'));
    dirs.push(root);
    const dir = join(root, 'inst');
    let clock = T0;
    const ledger = await CreditLedger.open({ id: 'LIC-WIT2', credits: 100, carriedCredits: 0 }, { secret: SECRET, publicKeys: vendor.publicKeyPem, dir: join(root, 'p'), mirrorDir: join(root, 'm'), now: () => clock });
    const open = () => Licensing.open({ license: key, publicKeys: vendor.publicKeyPem, dir, secret: SECRET, server: 'http://s', machineId: 'm-1', now: () => clock, fetch: fetchFn, autoRenew: false, ledger });
    const a = await open();
    await a.activate();
    a.close();
    clock = Date.parse('2099-01-01T00:00:00Z');
    await ledger.consume(1);
    clock = T0 + DAY;
    now = T0 + DAY;
    const b = await open();
    expect(b.status).toBe('expired'); // 2099 is what the ledger proves
    await b.renew(); // the vendor's signed time corrects it
    expect(b.status).toBe('verified');
    b.close();
    const c = await open();
    expect(c.status).toBe('verified');
    c.close();
    await ledger.close();
  });
});
