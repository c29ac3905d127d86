/**
 * The license server tried as an attacker would, over real HTTP on a real store (FileStore in a
 * temporary directory, and PostgreSQL): a stranger who knows a license id, an installation that
 * reports impossible usage, a licensee who deletes ledgers and installation folders to get credits
 * back, one supplied machine id on several machines, replayed and future-dated request codes.
 * Each case failed on the server before round 2 (see docs/security.md, "Threats").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequest, newNonce, openLease, type InstallationSigner, type RequestInput } from '../src/core/exchange/index.js';
import type { Store } from '../src/core/store/store.js';
import { hashComponent } from '../src/node/fingerprint/index.js';
import { FileStore } from '../src/node/store/file-store.js';
import { CreditLedger } from '../src/node/ledger/credit-ledger.js';
import { Licensing } from '../src/node/licensing/licensing.js';
import { PostgresStore } from '../src/postgres/index.js';
import { createLicenseServer, type LicenseServer } from '../src/server/index.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';
import { listening } from './helpers/listening.js';
import { makeVendor } from './helpers/vendor.js';
import { newInstallation as installation } from './helpers/installation.js';

const vendor = makeVendor();
const stranger = makeVendor();
const ADMIN = 'trust-admin-token';
const work = mkdtempSync(join(tmpdir(), 'licit-trust-'));
let pg: TestPostgres | undefined;
beforeAll(async () => {
  pg = await startPostgres();
}, 120_000);
afterAll(async () => {
  await pg?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** A strong fingerprint (a system UUID and a machine id), as a physical machine has. */
const machine = (name: string) => `fp1:su=${hashComponent('app', 'system-uuid', `uuid-${name}`)},mi=${hashComponent('app', 'machine-id', `mid-${name}`)}`;

let stores = 0;
const backends: [string, () => Store][] = [
  ['FileStore', () => new FileStore(join(work, `store-${++stores}`))],
  ['PostgresStore', () => new PostgresStore({ connectionString: (pg as TestPostgres).url, schema: (pg as TestPostgres).schema(), poolSize: 2 })],
];

describe.each(backends)('license server on %s, attacked', (_name, makeStore) => {
  let url: string;
  let close: () => Promise<void>;
  let store: Store;
  beforeAll(async () => {
    store = makeStore();
    // Rate limits are tried in test/66; here one loopback client makes many requests on purpose.
    ({ url, close } = await listening({ signingKey: vendor.privateKeyPem, store, adminToken: ADMIN, topUpPolicy: ({ requested }) => requested, rateLimit: false, accessLog: false }));
  });
  afterAll(() => close());

  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const get = async (path: string) => {
    const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } });
    return (await res.json()) as Record<string, any>;
  };
  const ask = async (op: RequestInput['operation'], inst: InstallationSigner, fields: Partial<RequestInput> & { licenseId: string }) =>
    post(`/v1/${op}`, { request: await createRequest({ operation: op, fingerprint: machine('x'), nonce: newNonce(), clientTime: new Date(), ...fields }, inst) });
  const register = async (key: string) => expect((await post('/v1/admin/licenses', { license: key }, { authorization: `Bearer ${ADMIN}` })).status).toBe(200);

  it('a license id alone activates nothing, leaks no key, and gets no credits', async () => {
    const key = await vendor.issue({ licenseId: 'LIC-ID-ONLY', maxActivations: 2, credits: 100 });
    await register(key);
    // Missing key, garbage key, a key of this license id signed by someone else, the customer's key of another license.
    const forged = await stranger.issue({ licenseId: 'LIC-ID-ONLY', maxActivations: 99 });
    const otherLicense = await vendor.issue({ licenseId: 'LIC-SOMEONE-ELSE' });
    const attempts: Partial<RequestInput>[] = [{}, { licenseKey: 'x' }, { licenseKey: forged }, { licenseKey: otherLicense }];
    for (const extra of attempts) {
      for (let i = 0; i < 2; i++) {
        const r = await ask('activate', installation(), { licenseId: 'LIC-ID-ONLY', fingerprint: machine(`attacker-${i}`), ...extra });
        expect(r.status).toBe(400);
        expect(r.body.error.code).toBe('ERR_EXCHANGE_UNPROVEN');
        expect(JSON.stringify(r.body)).not.toContain(key.slice(8, 60)); // the customer's key never leaks
      }
    }
    const stolenTopUp = await ask('topup', installation(), { licenseId: 'LIC-ID-ONLY', topUp: { credits: 5000, idempotencyKey: 'steal' } });
    expect(stolenTopUp.body.error.code).toBe('ERR_EXCHANGE_UNPROVEN');
    // Nothing was counted: the customer's two machines both activate.
    for (const name of ['customer-1', 'customer-2']) {
      expect((await ask('activate', installation(), { licenseId: 'LIC-ID-ONLY', licenseKey: key, fingerprint: machine(name) })).status).toBe(200);
    }
    const usage = await get('/v1/admin/usage?licenseId=LIC-ID-ONLY');
    expect(usage.activations.activations).toMatchObject({ inUse: 2 });
    expect(usage.credits.toppedUp).toBe(0);
    // Every refusal is in the audit log.
    const log = await get('/v1/admin/log?licenseId=LIC-ID-ONLY');
    const refused = log.events.filter((e: { kind: string }) => e.kind === 'exchange.refused');
    expect(refused.length).toBe(attempts.length * 2 + 1);
    expect(new Set(refused.map((e: { details: { reason: string } }) => e.details.reason))).toEqual(new Set(['missing', 'ERR_KEY_MALFORMED', 'ERR_KEY_UNKNOWN_SIGNER', 'other-license']));
  });

  it('a newer issue reaches only a requester that proved an older issue of the same license', async () => {
    const old = await vendor.issue({ licenseId: 'LIC-REISSUE', features: ['a'] }, new Date(Date.now() - 86_400_000));
    const newer = await vendor.issue({ licenseId: 'LIC-REISSUE', features: ['a', 'b'] });
    await register(newer);
    const r = await ask('activate', installation(), { licenseId: 'LIC-REISSUE', licenseKey: old });
    expect(r.status).toBe(200);
    expect((await openLease(r.body.lease, vendor.publicKeyPem)).licenseKey).toBe(newer.replace(/\s+/g, ''));
  });

  it('usage only from activated installations, and only what the license could have sold', async () => {
    const key = await vendor.issue({ licenseId: 'LIC-USAGE', credits: 100, seats: { basic: 5 } });
    await register(key);
    const outsider = await ask('usage', installation(), { licenseId: 'LIC-USAGE', licenseKey: key, consumed: 9007199254740991, seats: { basic: 999_999 } });
    expect(outsider.body.error.code).toBe('ERR_ACTIVATION_NOT_FOUND');
    const inst = installation();
    expect((await ask('activate', inst, { licenseId: 'LIC-USAGE', licenseKey: key })).status).toBe(200);
    const huge = await ask('usage', inst, { licenseId: 'LIC-USAGE', licenseKey: key, spent: 9007199254740991, ledgerId: 'ab'.repeat(16), consumed: 9007199254740991 });
    expect(huge.body.error).toMatchObject({ code: 'ERR_EXCHANGE_IMPLAUSIBLE', details: { reason: 'credits' } });
    const seats = await ask('usage', inst, { licenseId: 'LIC-USAGE', licenseKey: key, seats: { basic: 999_999 } });
    expect(seats.body.error).toMatchObject({ code: 'ERR_EXCHANGE_IMPLAUSIBLE', details: { reason: 'seats', licensed: 5 } });
    const unknownType = await ask('usage', inst, { licenseId: 'LIC-USAGE', licenseKey: key, seats: { premium: 1 } });
    expect(unknownType.body.error.code).toBe('ERR_EXCHANGE_IMPLAUSIBLE');
    // An activation refused for the limit records none of the usage it carried.
    const key1 = await vendor.issue({ licenseId: 'LIC-USAGE-1', credits: 100, maxActivations: 1 });
    expect((await ask('activate', installation(), { licenseId: 'LIC-USAGE-1', licenseKey: key1, fingerprint: machine('u1-a') })).status).toBe(200);
    const over = await ask('activate', installation(), { licenseId: 'LIC-USAGE-1', licenseKey: key1, fingerprint: machine('u1-b'), spent: 90, ledgerId: 'ef'.repeat(16), consumed: 90 });
    expect(over.body.error.code).toBe('ERR_ACTIVATIONS_EXHAUSTED');
    expect((await get('/v1/admin/usage?licenseId=LIC-USAGE-1')).credits.consumed).toBe(0);
    const fine = await ask('usage', inst, { licenseId: 'LIC-USAGE', licenseKey: key, spent: 40, ledgerId: 'cd'.repeat(16), consumed: 40, seats: { basic: 3 } });
    expect(fine.body).toMatchObject({ ok: true, recorded: true, floor: 40 });
    const usage = await get('/v1/admin/usage?licenseId=LIC-USAGE');
    expect(usage.credits.consumed).toBe(40);
    expect(Object.values(usage.seatsReported)).toEqual([{ basic: 3 }]);
  });

  it('deleting ledgers and installation folders never returns a credit', async () => {
    const key = await vendor.issue({ licenseId: 'LIC-CREDITS', credits: 1000, maxActivations: 1, allowSuppliedMachineId: true });
    const secret = 'trust-test-app-secret';
    const spendAll = async (round: number) => {
      const dir = join(work, `credits-${_name}-install`);
      const ledgerDir = join(work, `credits-${_name}-ledger`);
      const mirrorDir = join(work, `credits-${_name}-mirror`);
      const licensing0 = await Licensing.open({ license: key, publicKeys: vendor.publicKeyPem, dir, secret, server: url, autoRenew: false, fingerprint: machine('credits') });
      const ledger = await CreditLedger.open(licensing0.license, { secret, dir: ledgerDir, mirrorDir, recover: true });
      licensing0.close();
      const licensing = await Licensing.open({ license: key, publicKeys: vendor.publicKeyPem, dir, secret, server: url, autoRenew: false, fingerprint: machine('credits'), ledger });
      await licensing.activate();
      let spent = 0;
      for (;;) {
        try {
          await ledger.consume(100);
          spent += 100;
        } catch (e) {
          expect((e as { code?: string }).code).toBe('ERR_CREDITS_EXHAUSTED');
          break;
        }
      }
      await licensing.renew(); // reports what was spent
      licensing.close();
      await ledger.close();
      // The attacker deletes the ledger, its mirror and the installation folder.
      for (const d of [dir, ledgerDir, mirrorDir]) rmSync(d, { recursive: true, force: true });
      return { round, spent };
    };
    const rounds = [await spendAll(1), await spendAll(2), await spendAll(3)];
    expect(rounds.map((r) => r.spent)).toEqual([1000, 0, 0]);
    const usage = await get('/v1/admin/usage?licenseId=LIC-CREDITS');
    expect(usage.credits.consumed).toBe(1000);
  });

  it('two installations that spend between renewals add up; overspend raises an alert event', async () => {
    const key = await vendor.issue({ licenseId: 'LIC-TWO', credits: 100, maxActivations: 2 });
    const a = installation();
    const b = installation();
    expect((await ask('activate', a, { licenseId: 'LIC-TWO', licenseKey: key, fingerprint: machine('two-a') })).status).toBe(200);
    expect((await ask('activate', b, { licenseId: 'LIC-TWO', licenseKey: key, fingerprint: machine('two-b') })).status).toBe(200);
    const ra = await ask('renew', a, { licenseId: 'LIC-TWO', licenseKey: key, fingerprint: machine('two-a'), spent: 70, ledgerId: '01'.repeat(16), consumed: 70 });
    expect(ra.body.floor).toBe(70);
    const rb = await ask('renew', b, { licenseId: 'LIC-TWO', licenseKey: key, fingerprint: machine('two-b'), spent: 60, ledgerId: '02'.repeat(16), consumed: 60 });
    expect(rb.body.floor).toBe(130);
    // A restored (older) ledger reports less: nothing is given back.
    const rolled = await ask('renew', a, { licenseId: 'LIC-TWO', licenseKey: key, fingerprint: machine('two-a'), spent: 10, ledgerId: '01'.repeat(16), consumed: 10 });
    expect(rolled.body.floor).toBe(130);
    const events = (await get('/v1/admin/events?licenseId=LIC-TWO')).events as { kind: string; details: Record<string, unknown> }[];
    expect(events.filter((e) => e.kind === 'credits.overspent')).toEqual([expect.objectContaining({ details: expect.objectContaining({ consumed: 130, allowance: 100, over: 30 }) })]);
  });

  it('a ledger copied to new hardware counts once; a forked copy adds what it spends after reporting', async () => {
    const key = await vendor.issue({ licenseId: 'LIC-COPY', credits: 1000, maxActivations: 2 });
    const ledger = 'aa'.repeat(16);
    const [old, moved, fork] = [installation(), installation(), installation()];
    const f = (i: InstallationSigner, name: string, spent: number) => ask('renew', i, { licenseId: 'LIC-COPY', licenseKey: key, fingerprint: machine(name), spent, ledgerId: ledger, consumed: spent });
    expect((await ask('activate', old, { licenseId: 'LIC-COPY', licenseKey: key, fingerprint: machine('copy-old') })).status).toBe(200);
    expect((await f(old, 'copy-old', 300)).body.floor).toBe(300);
    // The old machine is retired; its ledger files are copied to the new one, which spends 200 more.
    await post('/v1/admin/devices/reset', { licenseId: 'LIC-COPY', deviceId: old.kid }, { authorization: `Bearer ${ADMIN}` });
    expect((await ask('activate', moved, { licenseId: 'LIC-COPY', licenseKey: key, fingerprint: machine('copy-new') })).status).toBe(200);
    expect((await f(moved, 'copy-new', 500)).body.floor).toBe(500);
    // A second copy of the same files on another machine: its spending adds up, from its first report on.
    expect((await ask('activate', fork, { licenseId: 'LIC-COPY', licenseKey: key, fingerprint: machine('copy-fork') })).status).toBe(200);
    expect((await f(fork, 'copy-fork', 500)).body.floor).toBe(500);
    expect((await f(fork, 'copy-fork', 650)).body.floor).toBe(650);
    expect((await f(moved, 'copy-new', 600)).body.floor).toBe(750);
  });

  it('a reinstall on the same machine takes no transfer (audited, the moved-from installation is not renewed); with credits it counts one', async () => {
    const key = await vendor.issue({ licenseId: 'LIC-MOVE', maxActivations: 1, maxTransfers: 1 });
    const [first, second, third] = [installation(), installation(), installation()];
    const fp = machine('move');
    expect((await ask('activate', first, { licenseId: 'LIC-MOVE', licenseKey: key, fingerprint: fp })).status).toBe(200);
    expect((await ask('activate', second, { licenseId: 'LIC-MOVE', licenseKey: key, fingerprint: fp })).status).toBe(200);
    expect((await ask('renew', first, { licenseId: 'LIC-MOVE', licenseKey: key, fingerprint: fp })).body.error.code).toBe('ERR_ACTIVATION_NOT_FOUND');
    expect((await ask('activate', third, { licenseId: 'LIC-MOVE', licenseKey: key, fingerprint: fp })).status).toBe(200);
    expect((await ask('renew', second, { licenseId: 'LIC-MOVE', licenseKey: key, fingerprint: fp })).body.error.code).toBe('ERR_ACTIVATION_NOT_FOUND');
    expect((await get('/v1/admin/usage?licenseId=LIC-MOVE')).activations.transfers).toMatchObject({ used: 0 });
    const events = (await get('/v1/admin/events?licenseId=LIC-MOVE')).events as { kind: string; details: Record<string, unknown> }[];
    expect(events.filter((e) => e.kind === 'device.reinstalled').map((e) => e.details)).toEqual([
      expect.objectContaining({ from: first.kid, device: second.kid, transferCounted: false }),
      expect.objectContaining({ from: second.kid, device: third.kid, transferCounted: false }),
    ]);
    // With credits, a free reinstall would restart what a deleted ledger had not reported: it counts.
    const metered = await vendor.issue({ licenseId: 'LIC-MOVE-CR', maxActivations: 1, maxTransfers: 1, credits: 100 });
    const fields = { licenseId: 'LIC-MOVE-CR', licenseKey: metered, fingerprint: machine('move-cr') };
    expect((await ask('activate', installation(), fields)).status).toBe(200);
    expect((await ask('activate', installation(), fields)).status).toBe(200);
    expect((await ask('activate', installation(), fields)).body.error.code).toBe('ERR_TRANSFERS_EXHAUSTED');
    expect((await get('/v1/admin/usage?licenseId=LIC-MOVE-CR')).activations.transfers).toMatchObject({ used: 1 });
  });

  it('a reinstall is found by the machine index among many activations, in a store written before the index, and never through an entry a reset left behind', async () => {
    const key = await vendor.issue({ licenseId: 'LIC-INDEX', maxActivations: 12, maxTransfers: 5 });
    const fields = (name: string) => ({ licenseId: 'LIC-INDEX', licenseKey: key, fingerprint: machine(`index-${name}`) });
    const first = installation();
    expect((await ask('activate', first, fields('a'))).status).toBe(200);
    for (let i = 0; i < 8; i++) expect((await ask('activate', installation(), fields(`other-${i}`))).status).toBe(200);
    // As an older licit left it: activations, no index.
    const indexKeys = await store.read('LIC-INDEX', async (r) => (await r.list('server.machine')).map((e) => e.key));
    expect(indexKeys).toContain('built');
    await store.transaction('LIC-INDEX', async (tx) => {
      for (const k of indexKeys) tx.delete('server.machine', k);
    });
    const again = installation();
    const moved = await ask('activate', again, fields('a'));
    expect(moved.status).toBe(200);
    expect((await ask('renew', first, fields('a'))).body.error.code).toBe('ERR_ACTIVATION_NOT_FOUND');
    expect((await store.read('LIC-INDEX', (r) => r.list('server.machine'))).length).toBe(10); // rebuilt: 9 machines and the mark
    // The vendor resets that device: its index entry stays behind, names a device that is gone,
    // and the machine's next installation is a new activation, not a reinstall of nothing.
    expect((await post(`/v1/admin/devices/reset`, { licenseId: 'LIC-INDEX', deviceId: again.kid }, { authorization: `Bearer ${ADMIN}` })).status).toBe(200);
    const fresh = await ask('activate', installation(), fields('a'));
    expect(fresh.status).toBe(200);
    const events = (await get('/v1/admin/events?licenseId=LIC-INDEX')).events as { kind: string; details: Record<string, unknown> }[];
    expect(events.filter((e) => e.kind === 'device.reinstalled').map((e) => e.details.from)).toEqual([first.kid]);
    expect(events.filter((e) => e.kind === 'device.activated')).toHaveLength(10);
  });

  it('a supplied machine id is refused unless the license allows it; allowed, one id does not serve three machines', async () => {
    const supplied = `fp1:mi=${hashComponent('app', 'machine-id', 'shared-id')}`;
    const strict = await vendor.issue({ licenseId: 'LIC-NO-MID', maxActivations: 1 });
    const refused = await ask('activate', installation(), { licenseId: 'LIC-NO-MID', licenseKey: strict, fingerprint: supplied, fingerprintSource: 'operator' });
    expect(refused.body.error.code).toBe('ERR_MACHINE_ID_NOT_ALLOWED');
    const fleet = await vendor.issue({ licenseId: 'LIC-MID', maxActivations: 1, maxTransfers: 0, allowSuppliedMachineId: true });
    const machines = [installation(), installation(), installation()];
    const results = [];
    for (const m of machines) results.push(await ask('activate', m, { licenseId: 'LIC-MID', licenseKey: fleet, fingerprint: supplied, fingerprintSource: 'operator' }));
    expect(results.map((r) => r.body.error?.code ?? 'ok')).toEqual(['ok', 'ERR_TRANSFERS_EXHAUSTED', 'ERR_TRANSFERS_EXHAUSTED']);
    const renewals = [];
    for (const m of machines) renewals.push(await ask('renew', m, { licenseId: 'LIC-MID', licenseKey: fleet, fingerprint: supplied, fingerprintSource: 'operator' }));
    expect(renewals.filter((r) => r.status === 200)).toHaveLength(1);
  });

  it('a second VM of the same kind (same CPU model, same hypervisor-default MAC) is another machine, never a move of the first', async () => {
    const weak = `fp1:cp=${hashComponent('app', 'cpu', 'QEMU Virtual CPU')},ml=${hashComponent('app', 'mac', '02:fc:00:00:00:01')}`;
    const key = await vendor.issue({ licenseId: 'LIC-VM', maxActivations: 2, maxTransfers: 0 });
    const guests = [installation(), installation(), installation()];
    const codes = [];
    for (const g of guests) codes.push((await ask('activate', g, { licenseId: 'LIC-VM', licenseKey: key, fingerprint: weak })).body.error?.code ?? 'ok');
    expect(codes).toEqual(['ok', 'ok', 'ERR_ACTIVATIONS_EXHAUSTED']);
    // Nobody was moved out: both guests that activated still renew.
    for (const g of guests.slice(0, 2)) expect((await ask('renew', g, { licenseId: 'LIC-VM', licenseKey: key, fingerprint: weak })).status).toBe(200);
    const events = (await get('/v1/admin/events?licenseId=LIC-VM')).events as { kind: string }[];
    expect(events.filter((e) => e.kind === 'device.reinstalled')).toEqual([]);
  });

  it('each code works once, for as long as it could be accepted; future-dated codes are refused', async () => {
    const key = await vendor.issue({ licenseId: 'LIC-REPLAY', maxActivations: 1 });
    const inst = installation();
    const fields = { licenseId: 'LIC-REPLAY', licenseKey: key };
    expect((await ask('activate', inst, fields)).status).toBe(200);
    const deactivate = await createRequest({ operation: 'deactivate', fingerprint: machine('x'), nonce: newNonce(), clientTime: new Date(), ...fields }, inst);
    expect((await post('/v1/deactivate', { request: deactivate })).body).toMatchObject({ ok: true, deactivated: true });
    expect((await ask('activate', inst, fields)).status).toBe(200);
    for (let i = 0; i < 40; i++) expect((await ask('renew', inst, fields)).status).toBe(200);
    const replay = await post('/v1/deactivate', { request: deactivate });
    expect(replay.body.error.code).toBe('ERR_EXCHANGE_REPLAYED');
    expect((await ask('renew', inst, fields)).status).toBe(200); // still activated
    const future = await ask('renew', inst, { ...fields, clientTime: new Date('9000-01-01T00:00:00Z') });
    expect(future.body.error.code).toBe('ERR_EXCHANGE_FUTURE');
  });
});

describe('per-license rate limit', () => {
  it('counts only requests that proved the license: a stranger naming its id cannot use up its budget', async () => {
    const { MemoryStore } = await import('../src/core/store/memory-store.js');
    const server = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new MemoryStore(), rateLimit: { perClient: { requests: 1000, perSeconds: 60 }, perLicense: { requests: 3, perSeconds: 3600 } } });
    const key = await vendor.issue({ licenseId: 'LIC-BUDGET', maxActivations: 10 });
    const send = async (fields: Partial<RequestInput>) => {
      const request = await createRequest({ operation: 'activate', licenseId: 'LIC-BUDGET', fingerprint: machine(newNonce()), nonce: newNonce(), clientTime: new Date(), ...fields }, installation());
      const res = await server.handle(new Request('http://x/v1/activate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request }) }), { clientAddress: '203.0.113.9' });
      return ((await res.json()) as { error?: { code: string } }).error?.code ?? 'ok';
    };
    for (let i = 0; i < 10; i++) expect(await send({ licenseKey: await stranger.issue({ licenseId: 'LIC-BUDGET' }) })).toBe('ERR_EXCHANGE_UNPROVEN');
    expect([await send({ licenseKey: key }), await send({ licenseKey: key }), await send({ licenseKey: key }), await send({ licenseKey: key })]).toEqual(['ok', 'ok', 'ok', 'ERR_RATE_LIMITED']);
  });
});

describe('weak hardware identities', () => {
  it('never count as the same machine, and a vendor can refuse them', async () => {
    const { MemoryStore } = await import('../src/core/store/memory-store.js');
    // A VM without SMBIOS: only a CPU model and a hypervisor-default MAC, both shared with other guests.
    const weak = `fp1:cp=${hashComponent('app', 'cpu', 'QEMU Virtual CPU')},ml=${hashComponent('app', 'mac', '02:fc:00:00:00:01')}`;
    const key = await vendor.issue({ licenseId: 'LIC-WEAK', maxActivations: 2, maxTransfers: 0 });
    const allow = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new MemoryStore(), rateLimit: false });
    const activate = async (server: LicenseServer) => {
      const request = await createRequest({ operation: 'activate', licenseId: 'LIC-WEAK', licenseKey: key, fingerprint: weak, nonce: newNonce(), clientTime: new Date() }, installation());
      const res = await server.handle(new Request('http://x/v1/activate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request }) }));
      return ((await res.json()) as { error?: { code: string } }).error?.code ?? 'ok';
    };
    // Two guests with the same weak fingerprint are two activations, not a "move" of one (no transfer spent, nobody deactivated).
    expect([await activate(allow), await activate(allow), await activate(allow)]).toEqual(['ok', 'ok', 'ERR_ACTIVATIONS_EXHAUSTED']);
    const refuse = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new MemoryStore(), rateLimit: false, weakIdentity: 'refuse' });
    expect(await activate(refuse)).toBe('ERR_FINGERPRINT_WEAK');
  });
});
