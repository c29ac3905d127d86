/**
 * The license server's handler in process (no sockets): activation limits, device reset, renewal
 * of a changed machine with the components that changed, admin token, body limits, validation,
 * top-ups delivered in the lease, container policy.
 */
import { describe, expect, it } from 'vitest';
import { createRequest, newNonce, openLease, type InstallationSigner, type RequestInput } from '../src/core/exchange/index.js';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { hashComponent } from '../src/node/fingerprint/index.js';
import { createLicenseServer } from '../src/server/index.js';
import { makeVendor } from './helpers/vendor.js';
import { newInstallation as installation } from './helpers/installation.js';

const vendor = makeVendor();
const TOKEN = 'admin-secret-token';
const T0 = Date.parse('2026-03-01T00:00:00Z');

const fp = (parts: Record<string, string>) => `fp1:${Object.entries(parts).map(([k, v]) => `${k}=${hashComponent('licit', k === 'su' ? 'system-uuid' : k === 'cp' ? 'cpu' : k === 'mi' ? 'machine-id' : 'mac', v)}`).join(',')}`;

function setup(opts: Partial<Parameters<typeof createLicenseServer>[0]> = {}) {
  let now = T0;
  const server = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new MemoryStore(), adminToken: TOKEN, now: () => now, ...opts });
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await server.handle(new Request(`http://x${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) }));
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await server.handle(new Request(`http://x${path}`, { headers }));
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const admin = { authorization: `Bearer ${TOKEN}` };
  const ask = async (op: RequestInput['operation'], inst: InstallationSigner, key: string, fingerprint: string, extra: Partial<RequestInput> = {}) =>
    post(`/v1/${op}`, { request: await createRequest({ operation: op, licenseId: (await import('../src/core/license/inspect.js')).inspectLicense(key).claims.licenseId as string, licenseKey: key, fingerprint, nonce: newNonce(), clientTime: new Date(now), ...extra }, inst) });
  return { server, post, get, admin, ask, advance: (ms: number) => (now += ms) };
}

describe('license server', () => {
  it('administration works on a node-locked license: registering it, reading its devices and usage (no machine is asked)', async () => {
    const s = setup();
    const boundTo = fp({ su: 'UUID-1', mi: 'M-1' });
    const key = await vendor.issue({ licenseId: 'LIC-LOCKED', fingerprint: boundTo, maxActivations: 1 });
    const reg = await s.post('/v1/admin/licenses', { license: key }, s.admin);
    expect(reg.status, JSON.stringify(reg.body)).toBe(200);
    expect((await s.get('/v1/admin/usage?licenseId=LIC-LOCKED', s.admin)).status).toBe(200);
    expect((await s.get('/v1/admin/devices?licenseId=LIC-LOCKED', s.admin)).status).toBe(200);
    // The machine check still applies to exchanges: another machine is refused, the bound one activates.
    expect((await s.ask('activate', installation(), key, fp({ su: 'UUID-2', mi: 'M-2' }))).body.error.code).toBe('ERR_FINGERPRINT_MISMATCH');
    expect((await s.ask('activate', installation(), key, boundTo)).status).toBe(200);
  });

  it('activation limit 1: the second machine is refused until the first device is reset', async () => {
    const s = setup();
    const key = await vendor.issue({ licenseId: 'LIC-LIMIT', maxActivations: 1, maxTransfers: 5 });
    const a = installation();
    const b = installation();
    const first = await s.ask('activate', a, key, fp({ mi: 'A' }));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ ok: true, licenseId: 'LIC-LIMIT', deviceId: a.kid, activated: true, verifiedUntil: '2026-03-15T00:00:00.000Z' });
    const lease = await openLease(first.body.lease, vendor.publicKeyPem);
    expect(lease.installationId).toBe(a.kid);

    const second = await s.ask('activate', b, key, fp({ mi: 'B' }));
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('ERR_ACTIVATIONS_EXHAUSTED');

    expect((await s.post('/v1/admin/devices/reset', { licenseId: 'LIC-LIMIT', deviceId: a.kid })).status).toBe(401);
    const reset = await s.post('/v1/admin/devices/reset', { licenseId: 'LIC-LIMIT', deviceId: a.kid }, s.admin);
    expect(reset.body).toMatchObject({ ok: true, users: ['default'] });
    expect((await s.ask('activate', b, key, fp({ mi: 'B' }))).status).toBe(200);
    // The reset device learns it on renewal.
    const renewA = await s.ask('renew', a, key, fp({ mi: 'A' }));
    expect(renewA.body.error.code).toBe('ERR_ACTIVATION_NOT_FOUND');
    const devices = await s.get('/v1/admin/devices?licenseId=LIC-LIMIT', s.admin);
    expect(devices.body.devices.map((d: { deviceId: string }) => d.deviceId)).toEqual([b.kid]);
    expect(devices.body.usage.transfers.used).toBe(1);
  });

  it('renewal of a machine whose hardware changed names the components that changed', async () => {
    const s = setup();
    const key = await vendor.issue({ licenseId: 'LIC-HW' });
    const a = installation();
    expect((await s.ask('activate', a, key, fp({ su: 'uuid-1', cp: 'cpu-1', mi: 'mid-1' }))).status).toBe(200);
    // A new CPU only: still the same machine (tolerant match), renewal succeeds.
    s.advance(86_400_000);
    const ok = await s.ask('renew', a, key, fp({ su: 'uuid-1', cp: 'cpu-2', mi: 'mid-1' }));
    expect(ok.status).toBe(200);
    expect(ok.body.verifiedUntil).toBe('2026-03-16T00:00:00.000Z');
    // A new motherboard and OS: refused, with what changed.
    const bad = await s.ask('renew', a, key, fp({ su: 'uuid-9', cp: 'cpu-1', mi: 'mid-9' }));
    expect(bad.body.error.code).toBe('ERR_FINGERPRINT_MISMATCH');
    expect(bad.body.error.details.changed).toEqual(expect.arrayContaining(['system-uuid', 'machine-id']));
    expect(bad.body.error.message).toMatch(/system-uuid/);
  });

  it('reports usage, raises the floor, and delivers top-ups in the lease', async () => {
    const s = setup();
    const key = await vendor.issue({ licenseId: 'LIC-CR', credits: 100, carriedCredits: 3, seats: { basic: 2 } });
    const a = installation();
    const act = await s.ask('activate', a, key, fp({ mi: 'A' }), { consumed: 10, seats: { basic: 2 } });
    expect(act.body.floor).toBe(10);
    const top = await s.post('/v1/admin/topups', { licenseId: 'LIC-CR', credits: 50 }, s.admin);
    expect(top.body).toMatchObject({ ok: true, credits: 50, added: true });
    // A lower report never lowers the floor.
    const renew = await s.ask('renew', a, key, fp({ mi: 'A' }), { consumed: 4 });
    expect(renew.body.floor).toBe(10);
    const lease = await openLease(renew.body.lease, vendor.publicKeyPem);
    expect(lease.topUps).toEqual([top.body.token]);
    const usage = await s.get('/v1/admin/usage?licenseId=LIC-CR', s.admin);
    expect(usage.body.credits).toEqual({ licensed: 100, toppedUp: 50, consumed: 10 });
    const events = await s.get('/v1/admin/events?licenseId=LIC-CR', s.admin);
    expect(events.body.events.map((e: { kind: string }) => e.kind)).toEqual(['license.registered', 'user.added', 'device.activated', 'credits.consumed', 'credits.topped-up']);
  });

  it('admin top-ups with an idempotency key: a retry after a lost answer adds once', async () => {
    const s = setup();
    const key = await vendor.issue({ licenseId: 'LIC-IDEM', credits: 100 });
    const a = installation();
    await s.ask('activate', a, key, fp({ mi: 'A' }));
    const first = await s.post('/v1/admin/topups', { licenseId: 'LIC-IDEM', credits: 40 }, { ...s.admin, 'idempotency-key': 'order-17' });
    expect(first.body).toMatchObject({ ok: true, credits: 40, added: true });
    s.advance(60_000); // a retry a minute later would sign a different token if the id were random
    const again = await s.post('/v1/admin/topups', { licenseId: 'LIC-IDEM', credits: 40 }, { ...s.admin, 'idempotency-key': 'order-17' });
    expect(again.body).toMatchObject({ ok: true, credits: 40, added: false, tokenId: first.body.tokenId, token: first.body.token });
    // The body field is the same key.
    const field = await s.post('/v1/admin/topups', { licenseId: 'LIC-IDEM', credits: 40, idempotencyKey: 'order-17' }, s.admin);
    expect(field.body).toMatchObject({ added: false, tokenId: first.body.tokenId });
    // The same key for another amount names another top-up: refused, not silently merged.
    expect((await s.post('/v1/admin/topups', { licenseId: 'LIC-IDEM', credits: 41 }, { ...s.admin, 'idempotency-key': 'order-17' })).body.error.code).toBe('ERR_IDEMPOTENCY_CONFLICT');
    // Another key is another top-up.
    expect((await s.post('/v1/admin/topups', { licenseId: 'LIC-IDEM', credits: 40 }, { ...s.admin, 'idempotency-key': 'order-18' })).body.added).toBe(true);
    const usage = await s.get('/v1/admin/usage?licenseId=LIC-IDEM', s.admin);
    expect(usage.body.credits.toppedUp).toBe(80);
    const events = (await s.get('/v1/admin/events?licenseId=LIC-IDEM', s.admin)).body.events as Array<{ kind: string }>;
    expect(events.filter((e) => e.kind === 'credits.topped-up')).toHaveLength(2);
    const lease = await openLease((await s.ask('renew', a, key, fp({ mi: 'A' }))).body.lease, vendor.publicKeyPem);
    expect(lease.topUps).toHaveLength(2);
    expect(lease.topUps).toContain(first.body.token);
  });

  it('without a store it keeps its records in a FileStore at $LICIT_STORE', async () => {
    const { mkdtempSync, readdirSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = join(mkdtempSync(join(tmpdir(), 'licit-62-')), 'store');
    const saved = process.env.LICIT_STORE;
    try {
      process.env.LICIT_STORE = dir;
      const s = setup({ store: undefined });
      const key = await vendor.issue({ licenseId: 'LIC-DEFSTORE' });
      expect((await s.ask('activate', installation(), key, fp({ mi: 'A' }))).status).toBe(200);
      expect(readdirSync(dir).some((f) => readdirSync(join(dir, f)).includes('log-0000000001'))).toBe(true);
      // A second server on the same default store sees the activation.
      const again = setup({ store: undefined });
      expect((await again.get('/v1/admin/devices?licenseId=LIC-DEFSTORE', again.admin)).body.devices).toHaveLength(1);
      // A postgres:// URL is now honoured (opened as a PostgresStore, as `licit serve --store` does;
      // test/76 serves from one): creating the server no longer refuses it.
      process.env.LICIT_STORE = 'postgres://localhost/licit';
      expect(() => setup({ store: undefined })).not.toThrow();
    } finally {
      if (saved === undefined) delete process.env.LICIT_STORE;
      else process.env.LICIT_STORE = saved;
      rmSync(join(dir, '..'), { recursive: true, force: true });
    }
  });

  it('a re-issued key registered by the admin reaches the installation in the next lease', async () => {
    const s = setup();
    const old = await vendor.issue({ licenseId: 'LIC-UP', seats: { basic: 2 } }, new Date(T0 - 1000_000));
    const a = installation();
    await s.ask('activate', a, old, fp({ mi: 'A' }));
    const reissued = await vendor.issue({ licenseId: 'LIC-UP', seats: { basic: 5 } }, new Date(T0));
    expect((await s.post('/v1/admin/licenses', { license: reissued }, s.admin)).status).toBe(200);
    const renew = await s.ask('renew', a, old, fp({ mi: 'A' }));
    expect((await openLease(renew.body.lease, vendor.publicKeyPem)).licenseKey).toBe(reissued);
    // An older issue cannot replace it.
    const older = await s.post('/v1/admin/licenses', { license: old }, s.admin);
    expect([older.status, older.body.error.code]).toEqual([409, 'ERR_LICENSE_SUPERSEDED']);
  });

  it('deactivation is signed by the installation and frees the activation', async () => {
    const s = setup();
    const key = await vendor.issue({ licenseId: 'LIC-DE', maxActivations: 1 });
    const a = installation();
    const b = installation();
    await s.ask('activate', a, key, fp({ mi: 'A' }));
    expect((await s.ask('deactivate', a, key, fp({ mi: 'A' }))).body).toMatchObject({ ok: true, deactivated: true });
    expect((await s.ask('activate', b, key, fp({ mi: 'B' }))).status).toBe(200);
  });

  it('license users: assign, per-user limit, remove; unknown users refused when auto-add is off', async () => {
    const s = setup({ autoAddUsers: false });
    const key = await vendor.issue({ licenseId: 'LIC-U', maxUsers: 2, maxActivations: 4 });
    await s.post('/v1/admin/licenses', { license: key }, s.admin);
    expect((await s.ask('activate', installation(), key, fp({ mi: 'A' }), { user: 'ann@example.com' })).body.error.code).toBe('ERR_USER_NOT_FOUND');
    expect((await s.post('/v1/admin/users', { licenseId: 'LIC-U', userId: 'ann@example.com', maxActivations: 1 }, s.admin)).body.user).toMatchObject({ userId: 'ann@example.com', maxActivations: 1 });
    expect((await s.ask('activate', installation(), key, fp({ mi: 'A' }), { user: 'ann@example.com' })).status).toBe(200);
    const second = await s.ask('activate', installation(), key, fp({ mi: 'B' }), { user: 'ann@example.com' });
    expect(second.body.error).toMatchObject({ code: 'ERR_ACTIVATIONS_EXHAUSTED', details: { scope: 'user' } });
    expect((await s.post('/v1/admin/users/remove', { licenseId: 'LIC-U', userId: 'ann@example.com' }, s.admin)).status).toBe(200);
    expect((await s.get('/v1/admin/devices?licenseId=LIC-U', s.admin)).body.devices).toEqual([]);
    // A license this server was never told about: its own code and a 404, not a usage error.
    const unknown = await s.get('/v1/admin/devices?licenseId=LIC-NEVER', s.admin);
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'ERR_LICENSE_NOT_REGISTERED']);
  });

  it('container policy: refuse, or accept only an operator-supplied machine id', async () => {
    const key = await vendor.issue({ licenseId: 'LIC-C', allowSuppliedMachineId: true });
    const refuse = setup({ containerPolicy: 'refuse' });
    expect((await refuse.ask('activate', installation(), key, fp({ mi: 'A' }), { container: true })).body.error.details.reason).toBe('container');
    const mid = setup({ containerPolicy: 'machine-id' });
    expect((await mid.ask('activate', installation(), key, fp({ mi: 'A' }), { container: true })).body.error.code).toBe('ERR_FINGERPRINT_MISMATCH');
    expect((await mid.ask('activate', installation(), key, fp({ mi: 'A' }), { container: true, fingerprintSource: 'operator' })).status).toBe(200);
  });

  it('validates input: JSON errors with library codes, size limits, methods, stale requests, foreign keys', async () => {
    const s = setup({ maxBodyBytes: 2048 });
    expect((await s.post('/v1/activate', '{not json')).body.error.code).toBe('ERR_USAGE');
    expect((await s.post('/v1/activate', { request: 42 })).body.error.code).toBe('ERR_USAGE');
    expect((await s.post('/v1/activate', { request: 'LICITR1-AAAA' })).body.error.code).toBe('ERR_KEY_MALFORMED');
    const big = await s.post('/v1/activate', { request: 'x'.repeat(5000) });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('ERR_BODY_TOO_LARGE');
    const wrongType = await s.server.handle(new Request('http://x/v1/activate', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' }));
    expect(wrongType.status).toBe(400);
    expect((await s.get('/v1/activate')).status).toBe(405);
    expect((await s.get('/v1/nothing')).status).toBe(404);
    expect((await s.get('/v1/admin/usage?licenseId=x', { authorization: 'Bearer wrong' })).body.error.code).toBe('ERR_UNAUTHORIZED');
    const key = await vendor.issue({ licenseId: 'LIC-V' });
    const oldReq = await s.ask('activate', installation(), key, fp({ mi: 'A' }), { clientTime: new Date(T0 - 40 * 86_400_000) });
    expect(oldReq.body.error.code).toBe('ERR_EXCHANGE_STALE');
    const foreign = await makeVendor().issue({ licenseId: 'LIC-F' });
    expect((await s.ask('activate', installation(), foreign, fp({ mi: 'A' }))).body.error).toMatchObject({ code: 'ERR_EXCHANGE_UNPROVEN', details: { reason: 'ERR_KEY_UNKNOWN_SIGNER' } });
    const expired = await vendor.issue({ licenseId: 'LIC-E', expiresAt: new Date(T0 - 86_400_000) }, new Date(T0 - 10 * 86_400_000));
    expect((await s.ask('activate', installation(), expired, fp({ mi: 'A' }))).body.error.code).toBe('ERR_LICENSE_EXPIRED');
    const health = await s.get('/v1/health');
    expect(health.body).toMatchObject({ ok: true, kid: vendor.kid });
  });

  it('serves reports and the verified, hash-chained audit log; an edited log is refused', async () => {
    const store = new MemoryStore();
    const s = setup({ store });
    const key = await vendor.issue({ licenseId: 'LIC-LOG', seats: { basic: 2 }, credits: 100, maxActivations: 3 }, new Date(T0 - 1000_000));
    await s.ask('activate', installation(), key, fp({ mi: 'A' }), { consumed: 7 });
    await s.post('/v1/admin/topups', { licenseId: 'LIC-LOG', credits: 25 }, s.admin);
    await s.post('/v1/admin/licenses', { license: await vendor.issue({ licenseId: 'LIC-LOG', seats: { basic: 5 }, credits: 100, maxActivations: 3 }, new Date(T0)) }, s.admin);
    const log = await s.get('/v1/admin/log?licenseId=LIC-LOG', s.admin);
    expect(log.body.ok).toBe(true);
    expect(log.body.events.map((e: { kind: string }) => e.kind)).toEqual(['license.registered', 'user.added', 'device.activated', 'credits.consumed', 'credits.topped-up', 'license.registered', 'seats.changed']);
    expect(log.body.head.seq).toBe(7);
    const report = await s.get('/v1/admin/reports?licenseId=LIC-LOG&range=month&at=2026-03-01T00:00:00Z', s.admin);
    expect(report.body.ok, JSON.stringify(report.body)).toBe(true);
    expect(JSON.stringify(report.body.report)).toMatch(/25/);
    // Device activations are reported against the license's maxActivations.
    expect(report.body.report.limits).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'activations', licensed: 3, inUse: 1 })]));
    expect((await s.get('/v1/admin/reports?licenseId=LIC-LOG&range=year', s.admin)).body.error.code).toBe('ERR_USAGE');
    // Events after a sequence number: a valid number filters, anything else is a 400 (never read as 0).
    const after = await s.get('/v1/admin/events?licenseId=LIC-LOG&afterSeq=5', s.admin);
    expect(after.body.events.map((e: { seq: number }) => e.seq)).toEqual([6, 7]);
    for (const bad of ['abc', '-1', '1.5', '', '1e3']) {
      const r = await s.get(`/v1/admin/events?licenseId=LIC-LOG&afterSeq=${encodeURIComponent(bad)}`, s.admin);
      expect(r.status, bad).toBe(400);
      expect(r.body.error.code).toBe('ERR_USAGE');
      expect(r.body.error.message).toContain('afterSeq');
    }
    // Edit one event behind the server's back: the log no longer verifies.
    const events = (store as unknown as { licenses: Map<string, { events: Array<{ details: Record<string, unknown> }> }> }).licenses.get('LIC-LOG')!.events;
    events[4]!.details.credits = 2500;
    expect((await s.get('/v1/admin/log?licenseId=LIC-LOG', s.admin)).body.error.code).toBe('ERR_AUDIT_TAMPERED');
  });
});
