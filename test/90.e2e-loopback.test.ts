/**
 * End to end on loopback: a real `licit serve` process, two client processes with different
 * fingerprints (explicit machine ids), activation limit 1. The second is refused; the first device
 * is reset through the admin API; the second then succeeds; the first learns it was reset.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { licit } from './helpers/cli.js';
import { startServer as startLicitServer } from './helpers/serve.js';
import { makeVendor } from './helpers/vendor.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLIENT = fileURLToPath(new URL('./fixtures/exchange-client.ts', import.meta.url));
const TOKEN = 'e2e-admin-token';
const vendor = makeVendor();
const work = mkdtempSync(join(tmpdir(), 'licit-e2e-'));
const procs: ChildProcess[] = [];
let base = '';

/** Start `licit serve` on `store` with this test's vendor key and admin token. */
const startServer = (store: string, env: NodeJS.ProcessEnv = {}) => startLicitServer(['--signing-key', vendor.keyPath, '--store', store], procs, { LICIT_ADMIN_TOKEN: TOKEN, ...env });

function client(job: Record<string, unknown>): Promise<Record<string, any>> {
  const proc = spawn(process.execPath, ['--import', 'tsx', CLIENT, JSON.stringify({ publicKey: vendor.publicKeyPem, server: base, op: 'activate', ...job })], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(proc);
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => proc.on('exit', () => (out.trim() === '' ? reject(new Error(`client printed nothing: ${err}`)) : resolve(JSON.parse(out.trim()) as Record<string, any>))));
}

async function admin(path: string, body?: unknown): Promise<Record<string, any>> {
  const res = await fetch(`${base}${path}`, body === undefined ? { headers: { authorization: `Bearer ${TOKEN}` } } : { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await res.json()) as Record<string, any>;
}

beforeAll(async () => {
  base = (await startServer(join(work, 'store'))).url;
});
afterAll(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/** `licit serve` as a blocking process: for startup refusals only (it never returns once listening). */
const serve = (...args: string[]) => licit(['serve', '--signing-key', vendor.keyPath, '--json', ...args], { env: { LICIT_ADMIN_TOKEN: TOKEN } });

describe('loopback end to end', () => {
  it('limit 1: second machine refused, reset the first, second succeeds', async () => {
    const license = await vendor.issue({ allowSuppliedMachineId: true, licenseId: 'LIC-E2E', maxActivations: 1, maxTransfers: 3, features: ['x'] });
    const a = { license, dir: join(work, 'client-a'), machineId: 'machine-a' };
    const b = { license, dir: join(work, 'client-b'), machineId: 'machine-b' };

    const first = await client(a);
    expect(first).toMatchObject({ ok: true, status: 'verified' });
    expect(Date.parse(first.verifiedUntil) - Date.now()).toBeGreaterThan(13 * 86_400_000);

    const refused = await client(b);
    expect(refused).toMatchObject({ ok: false, code: 'ERR_ACTIVATIONS_EXHAUSTED', status: 'unactivated' });

    const reset = await admin('/v1/admin/devices/reset', { licenseId: 'LIC-E2E', deviceId: first.deviceId });
    expect(reset).toMatchObject({ ok: true, users: ['default'] });

    const second = await client(b);
    expect(second).toMatchObject({ ok: true, status: 'verified' });
    expect(second.deviceId).not.toBe(first.deviceId);

    // The first machine renews in a new process: its lease is still installed, the server says it was reset.
    const renewA = await client({ ...a, op: 'renew' });
    expect(renewA).toMatchObject({ ok: false, code: 'ERR_ACTIVATION_NOT_FOUND', status: 'verified' });

    const devices = await admin('/v1/admin/devices?licenseId=LIC-E2E');
    expect(devices.devices.map((d: { deviceId: string }) => d.deviceId)).toEqual([second.deviceId]);
    expect(devices.usage.activations).toEqual({ licensed: 1, inUse: 1 });
  });

  it('an admin endpoint without the token is refused with JSON', async () => {
    const res = await fetch(`${base}/v1/admin/devices?licenseId=LIC-E2E`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ERR_UNAUTHORIZED');
    const big = await fetch(`${base}/v1/activate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request: 'x'.repeat(200_000) }) });
    expect(big.status).toBe(413);
  });

  it('serve refuses a file as --store at startup instead of answering 503 to every request', () => {
    const file = join(work, 'afile');
    writeFileSync(file, 'not a store');
    const f = serve('--store', file, '--port', '0');
    expect(f.code).toBe(2); // exits instead of listening and answering 503
    expect(f.json().error?.code).toBe('ERR_USAGE');
    expect(f.json().error?.message).toMatch(/--store .*afile is a file, not a directory/);
    const under = serve('--store', join(file, 'sub'), '--port', '0');
    expect(under.json().error?.message).toMatch(/--store .* is a file/);
  });

  it('serve on a busy port or a bad --host fails with a code and what to do', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    try {
      const port = (busy.address() as { port: number }).port;
      const b = serve('--store', join(work, 'store-busy'), '--port', String(port));
      expect(b.code).toBe(1);
      expect(b.json().error?.code).toBe('ERR_IO');
      expect(b.json().error?.message).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(b.json().error?.message).toContain('choose another port');
    } finally {
      await new Promise((r) => busy.close(r));
    }
    const h = serve('--store', join(work, 'store-host'), '--port', '0', '--host', '999.1.1.1');
    expect(h.code).toBe(2);
    expect(h.json().error?.code).toBe('ERR_USAGE');
    expect(h.json().error?.message).toMatch(/--host: .*"999\.1\.1\.1".*valid address/);
  });
});
