/**
 * `licit devices` and `licit users` end to end: the built CLI as a real process, against a local
 * FileStore and against a real `licit serve` over its admin API, with the same output both ways;
 * refusals exit 1, usage mistakes 2. A same-machine reinstall through the server is reported (an
 * audit event and a note on the access log line) and takes no transfer.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequest, newNonce, type InstallationSigner } from '../src/core/exchange/index.js';
import { withAuditChain } from '../src/core/admin/chained-store.js';
import { Activations } from '../src/core/seats/index.js';
import { hashComponent } from '../src/node/fingerprint/index.js';
import { FileStore } from '../src/node/store/file-store.js';
import { licit, type CliResult } from './helpers/cli.js';
import { startServer } from './helpers/serve.js';
import { makeVendor, type TestVendor } from './helpers/vendor.js';
import { newInstallation as installation } from './helpers/installation.js';

const TOKEN = 'devices-admin-token';
const LIMITS = { maxUsers: 2, maxActivations: 4, maxTransfers: 1 };
let vendor: TestVendor;
let root: string;
let keyPath: string;
let key: string;
let server: { url: string; proc: ChildProcess };
let serverErr = '';
const procs: ChildProcess[] = [];

/** A strong hardware fingerprint (system UUID and machine id), as a physical machine has. */
const machine = (name: string) => `fp1:su=${hashComponent('app', 'system-uuid', `uuid-${name}`)},mi=${hashComponent('app', 'machine-id', `mid-${name}`)}`;

async function post(path: string, body: unknown, admin = false): Promise<Record<string, any>> {
  const send = () => fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(admin ? { authorization: `Bearer ${TOKEN}` } : {}) }, body: JSON.stringify(body) });
  // fetch reuses a kept-alive connection the server may have closed while the CLI runs took their
  // time; that request never reached the server, so it is sent once more on a new connection.
  const res = await send().catch((e: { cause?: { code?: string } }) => (e.cause?.code === 'UND_ERR_SOCKET' ? send() : Promise.reject(e)));
  return (await res.json()) as Record<string, any>;
}
/** Activate an installation through the server, as an application's Licensing does. */
async function activate(licenseId: string, licenseKey: string, inst: InstallationSigner, fp: string, user = 'ann@example.com') {
  return post('/v1/activate', { request: await createRequest({ operation: 'activate', licenseId, licenseKey, user, fingerprint: fp, nonce: newNonce(), clientTime: new Date() }, inst) });
}

beforeAll(async () => {
  vendor = makeVendor();
  root = mkdtempSync(join(tmpdir(), 'licit-devices-cli-'));
  key = await vendor.issue({ licenseId: 'LIC-DEV', customer: 'ACME', ...LIMITS });
  keyPath = join(root, 'license.key');
  writeFileSync(keyPath, key);
  server = await startServer(['--signing-key', vendor.keyPath, '--store', join(root, 'server-store'), '--no-rate-limit'], procs, { LICIT_ADMIN_TOKEN: TOKEN });
  server.proc.stderr!.on('data', (d: Buffer) => (serverErr += d.toString()));
  expect((await post('/v1/admin/licenses', { license: key }, true)).ok).toBe(true);
}, 60_000);
afterAll(() => {
  for (const p of procs) p.kill();
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
  if (vendor !== undefined) rmSync(vendor.dir, { recursive: true, force: true });
});

/** The two targets: flags, and how to activate a device there (returns its device id). */
interface Target {
  readonly name: string;
  readonly flags: string[];
  activate(user: string, name: string): Promise<string>;
}

const local = (): Target => {
  const dir = join(root, 'local-store');
  let t = Date.now();
  const activate = async (user: string, name: string) => {
    // Open and closed around each use: the CLI processes lock the same directory.
    const store = withAuditChain(new FileStore(dir));
    try {
      return (await new Activations(store, { id: 'LIC-DEV', seats: {}, ...LIMITS }, { now: () => (t += 1000) }).activate(user, `dev-${name}`)).deviceId;
    } finally {
      await store.close();
    }
  };
  return { name: 'local store', flags: ['--store', dir, '--license', keyPath, '--public-key', vendor.pubPath], activate };
};
const remote = (): Target => ({
  name: 'server',
  flags: ['--server', server.url, '--license-id', 'LIC-DEV'],
  activate: async (user, name) => {
    const inst = installation();
    const r = await activate('LIC-DEV', key, inst, machine(name), user);
    expect(r.ok, JSON.stringify(r)).toBe(true);
    return inst.kid;
  } });

const run = (t: Target, ...args: string[]): CliResult => licit([...args, ...t.flags], { env: { LICIT_ADMIN_TOKEN: TOKEN } });
/** Exit code and error code of a refused `--json` run. */
const refusal = (r: CliResult) => [r.code, r.json().error?.code];

describe.each([['local store', local], ['server', remote]] as const)('licit devices and users against a %s', (_name, make) => {
  it('add, list, rename, reset and remove, with the same output from both targets', async () => {
    const t = make();
    const add = run(t, 'users', 'add', ' ann@example.com ', '--max-activations', '2', '--json');
    expect(add.code, add.stderr).toBe(0);
    expect(add.json()).toEqual({ ok: true, licenseId: 'LIC-DEV', user: { userId: 'ann@example.com', createdAt: expect.any(String), maxActivations: 2, activations: 0 } });
    expect(run(t, 'users', 'add', 'bob@example.com').stdout).toBe('bob@example.com is a user of license LIC-DEV (0 of unlimited devices).\n');
    expect(refusal(run(t, 'users', 'add', 'carol@example.com', '--json'))).toEqual([1, 'ERR_USERS_EXHAUSTED']);

    const laptop = await t.activate('ann@example.com', `${t.name}-laptop`);
    const desk = await t.activate('ann@example.com', `${t.name}-desk`);
    const bobs = await t.activate('bob@example.com', `${t.name}-bob`);
    const users = run(t, 'users', 'list');
    expect(users.stdout).toMatch(/^License LIC-DEV: 2 of 2 users\nUSER\tDEVICES\tSINCE\nann@example.com\t2 of 2\t\S+Z\nbob@example.com\t1 of unlimited\t\S+Z\n$/);

    const renamed = run(t, 'devices', 'rename', laptop, "Ann's laptop", '--json');
    expect(renamed.json()).toEqual({ ok: true, licenseId: 'LIC-DEV', deviceId: laptop, label: "Ann's laptop" });
    const list = run(t, 'devices', 'list', '--json').json();
    expect(list.usage).toEqual({ users: { licensed: 2, inUse: 2 }, activations: { licensed: 4, inUse: 3 }, transfers: { licensed: 1, used: 0 } });
    const devices = list.devices as Record<string, unknown>[];
    expect(devices.find((d) => d.deviceId === laptop)).toMatchObject({ userId: 'ann@example.com', label: "Ann's laptop", activatedAt: expect.any(String), validatedAt: expect.any(String) });
    expect(Object.keys(devices.find((d) => d.deviceId === desk)!).sort()).toEqual(['activatedAt', 'deviceId', 'info', 'userId', 'validatedAt']);
    const text = run(t, 'devices', 'list').stdout;
    expect(text).toMatch(/^License LIC-DEV: 3 of 4 activations, 0 of 1 transfers used\nUSER\tDEVICE\tLABEL\tACTIVATED\tLAST SEEN\n/);
    expect(text).toContain(`ann@example.com\t${laptop}\tAnn's laptop\t`);
    expect(text).toContain(`ann@example.com\t${desk}\t-\t`);
    expect(run(t, 'devices', 'rename', laptop, '').stdout).toBe(`Device ${laptop} of license LIC-DEV has no name now.\n`);

    // A reset counts one transfer; the next is refused (exit 1) unless it is a goodwill reset.
    expect(run(t, 'devices', 'reset', desk).stdout).toBe(`Reset device ${desk} of license LIC-DEV (activations removed for ann@example.com); one transfer counted.\n`);
    expect(refusal(run(t, 'devices', 'reset', laptop, '--json'))).toEqual([1, 'ERR_TRANSFERS_EXHAUSTED']);
    expect(run(t, 'devices', 'reset', laptop, '--goodwill', '--json').json()).toEqual({ ok: true, licenseId: 'LIC-DEV', deviceId: laptop, users: ['ann@example.com'], transferCounted: false });
    expect(refusal(run(t, 'devices', 'rename', 'no-such-device', 'x', '--json'))).toEqual([1, 'ERR_ACTIVATION_NOT_FOUND']);
    expect(refusal(run(t, 'devices', 'rename', bobs, 'tab\there', '--json'))).toEqual([2, 'ERR_USAGE']);

    expect(run(t, 'users', 'reset', 'bob@example.com', '--json').json()).toEqual({ ok: true, licenseId: 'LIC-DEV', userId: 'bob@example.com', devices: [bobs] });
    expect(run(t, 'users', 'remove', 'bob@example.com').stdout).toBe('Removed bob@example.com from license LIC-DEV, with their devices.\n');
    expect(refusal(run(t, 'users', 'remove', 'bob@example.com', '--json'))).toEqual([1, 'ERR_USER_NOT_FOUND']);
    expect(run(t, 'users', 'list', '--json').json().users).toEqual([{ userId: 'ann@example.com', createdAt: expect.any(String), maxActivations: 2, activations: 0 }]);
    expect(run(t, 'devices', 'list').stdout).toBe('License LIC-DEV: 0 of 4 activations, 1 of 1 transfers used\nNo devices activated.\n');
  });
});

describe('what the CLI refuses', () => {
  it('usage mistakes exit 2, naming the fix', () => {
    const store = ['--store', join(root, 'unused'), '--license', keyPath, '--public-key', vendor.pubPath];
    const srv = ['--server', 'http://127.0.0.1:9', '--license-id', 'LIC-DEV', '--admin-token', 'x'];
    const cases: [string[], RegExp][] = [
      [['devices', 'list'], /missing --store .* or --server URL/],
      [['devices', 'list', ...store, '--server', 'http://127.0.0.1:9'], /not both/],
      [['users', 'list', '--server', 'http://127.0.0.1:9', '--license-id', 'LIC-DEV'], /LICIT_ADMIN_TOKEN/],
      [['users', 'list', ...srv.slice(0, 2), '--admin-token', 'x'], /missing --license-id/],
      [['users', 'list', ...store, '--license-id', 'LIC-DEV'], /--license-id goes with --server/],
      [['devices', 'list', ...srv, '--license', keyPath], /--license goes with --store/],
      [['devices', 'list', '--server', 'ftp://x', '--license-id', 'L', '--admin-token', 'x'], /http:\/\/ or https:\/\//],
      [['devices', 'rest', 'x', ...store], /Did you mean "reset"/],
      [['devices', 'rename', 'only-one', ...store], /takes 2 arguments, got 1/],
      [['devices', 'list', '--goodwill', ...store], /--goodwill only applies to "reset"/],
      [['users', 'remove', 'ann', '--max-activations', '2', ...store], /only applies to "add"/],
      [['users', 'add', 'ann', '--max-activations', 'two', ...store], /--max-activations must be a non-negative whole number/],
      [['users'], /missing action/],
    ];
    for (const [args, message] of cases) {
      const r = licit([...args, '--json'], { env: { LICIT_ADMIN_TOKEN: '' } });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.json().error?.message, args.join(' ')).toMatch(message);
    }
  });

  it('a wrong token, an unknown license and an unreachable server are refusals (exit 1)', () => {
    const srv = (id: string, token: string) => ['--server', server.url, '--license-id', id, '--admin-token', token];
    expect(refusal(licit(['devices', 'list', ...srv('LIC-DEV', 'wrong'), '--json']))).toEqual([1, 'ERR_UNAUTHORIZED']);
    expect(refusal(licit(['users', 'list', ...srv('LIC-NOBODY', TOKEN), '--json']))).toEqual([1, 'ERR_LICENSE_NOT_REGISTERED']);
    const down = licit(['devices', 'list', '--server', 'http://127.0.0.1:9', '--license-id', 'LIC-DEV', '--admin-token', TOKEN]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^licit: ERR_SERVER_UNREACHABLE: the license server http:\/\/127\.0\.0\.1:9 cannot be reached/);
  });
});

describe('a reinstall on the same machine', () => {
  it('is reported (device.reinstalled, access log line), keeps the name and takes no transfer', async () => {
    expect(server.proc.exitCode, serverErr).toBeNull();
    const reKey = await vendor.issue({ licenseId: 'LIC-RE', maxActivations: 1, maxTransfers: 0 });
    const [before, after] = [installation(), installation()];
    expect((await activate('LIC-RE', reKey, before, machine('re'))).ok).toBe(true);
    const srv = ['--server', server.url, '--license-id', 'LIC-RE'];
    expect(licit(['devices', 'rename', before.kid, 'build box', ...srv], { env: { LICIT_ADMIN_TOKEN: TOKEN } }).code).toBe(0);
    // The same machine, a new installation: it takes over, with no transfer left on the license.
    expect(await activate('LIC-RE', reKey, after, machine('re'))).toMatchObject({ ok: true, deviceId: after.kid, activated: true });
    const list = licit(['devices', 'list', ...srv, '--json'], { env: { LICIT_ADMIN_TOKEN: TOKEN } }).json();
    expect(list.devices).toEqual([expect.objectContaining({ deviceId: after.kid, label: 'build box' })]);
    expect(list.usage).toMatchObject({ transfers: { licensed: 0, used: 0 } });
    const events = (await (await fetch(`${server.url}/v1/admin/events?licenseId=LIC-RE`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { events: { kind: string; details: Record<string, unknown> }[] };
    expect(events.events.filter((e) => e.kind === 'device.reinstalled').map((e) => e.details)).toEqual([
      { user: 'ann@example.com', from: before.kid, device: after.kid, transfers: 0, transferCounted: false },
    ]);
    await new Promise((r) => setTimeout(r, 100));
    expect(serverErr).toMatch(new RegExp(`Z POST /v1/activate 200 \\d+ms - 127\\.0\\.0\\.1 reinstall LIC-RE ${before.kid} -> ${after.kid} \\(no transfer\\)\\n`));
    // The replaced installation is never renewed again.
    const renew = await post('/v1/renew', { request: await createRequest({ operation: 'renew', licenseId: 'LIC-RE', licenseKey: reKey, user: 'ann@example.com', fingerprint: machine('re'), nonce: newNonce(), clientTime: new Date() }, before) });
    expect(renew.error?.code).toBe('ERR_ACTIVATION_NOT_FOUND');
  });
});
