/**
 * `licit devices suspend|revoke|reinstate` and `licit users suspend|revoke|reinstate` end to end: the built
 * CLI as real processes, against a local FileStore (installations activated and renewed with
 * `licit request` and `licit respond`, the offline exchange, so the vendor's own rules answer them)
 * and against a real `licit serve` (installations over HTTP, a webhook receiver). Both print the
 * same; the next renewal or activation is refused with the state; every change is in the verified
 * audit log, and the server delivers it to its webhooks. Refusals exit 1, usage mistakes 2. The CLI
 * acts through core/admin/parties.ts, the code behind the admin API's routes, on both targets.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATE_ACTIONS as DEVICE_ACTIONS } from '../src/cli/commands/devices.js';
import { STATE_ACTIONS as USER_ACTIONS } from '../src/cli/commands/users.js';
import { withAuditChain } from '../src/core/admin/chained-store.js';
import { PARTY_ACTIONS } from '../src/core/admin/registry.js';
import { createRequest, newNonce } from '../src/core/exchange/index.js';
import { Activations } from '../src/core/seats/index.js';
import { hashComponent } from '../src/node/fingerprint/index.js';
import { FileStore } from '../src/node/store/file-store.js';
import { verifyWebhook } from '../src/server/webhooks.js';
import { licitAsync } from './helpers/cli.js';
import { startServer } from './helpers/serve.js';
import { makeVendor, type TestVendor } from './helpers/vendor.js';
import { newInstallation } from './helpers/installation.js';

const TOKEN = 'state-admin-token';
const HOOK_SECRET = 'state-webhook-secret-0123456789';
const LICENSE = { licenseId: 'LIC-ST', customer: 'ACME', maxUsers: 3, maxActivations: 4, allowSuppliedMachineId: true };
let vendor: TestVendor;
let root: string;
let keyPath: string;
let key: string;
let server: { url: string; proc: ChildProcess };
let receiver: Server;
const procs: ChildProcess[] = [];
/** Webhook deliveries received: the event kind and whether its signature held. */
const deliveries: { type: string; data: Record<string, unknown>; signed: boolean }[] = [];

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  json(): Record<string, any>;
}

const licit = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> => licitAsync(args, { LICIT_ADMIN_TOKEN: TOKEN, ...env });

/** A strong hardware fingerprint (system UUID and machine id), as a physical machine has. */
const machine = (name: string) => `fp1:su=${hashComponent('app', 'system-uuid', `uuid-${name}`)},mi=${hashComponent('app', 'machine-id', `mid-${name}`)}`;

async function post(path: string, body: unknown, admin = false): Promise<Record<string, any>> {
  const send = () => fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(admin ? { authorization: `Bearer ${TOKEN}` } : {}) }, body: JSON.stringify(body) });
  // A kept-alive connection the server closed while a CLI run took its time: sent again on a new one.
  const res = await send().catch((e: { cause?: { code?: string } }) => (e.cause?.code === 'UND_ERR_SOCKET' ? send() : Promise.reject(e)));
  return (await res.json()) as Record<string, any>;
}

/** What an exchange answered: done, or refused with a code and the message the installation shows. */
type Answer = { ok: true; deviceId: string } | { ok: false; code: string; message: string };
const answerOf = (j: Record<string, any>): Answer => (j.ok === true ? { ok: true, deviceId: String(j.deviceId) } : { ok: false, code: j.error.code, message: j.error.message });

/** One installation on a machine: `ask` activates it the first time and renews it after. */
interface Installed {
  ask(): Promise<Answer>;
}

/** A target: its CLI flags, and installations on it (activated the way real ones are). */
interface Target {
  readonly name: string;
  readonly flags: string[];
  install(machineName: string, user: string): Installed;
  /** Every event kind in the target's audit log of LIC-ST, after verifying its chain. */
  eventKinds(): Promise<string[]>;
}

const local = (): Target => {
  const store = join(root, 'local-store');
  let n = 0;
  return {
    name: 'local store',
    flags: ['--store', store, '--license', keyPath, '--public-key', vendor.pubPath],
    install(machineName, user) {
      const dir = join(root, `installation-${++n}`);
      const flags = ['--license', keyPath, '--public-key', vendor.pubPath, '--dir', dir, '--fingerprint', machine(machineName), '--user', user, '--json'];
      return {
        // `licit request` (an installation's request code, offline) answered by `licit respond`.
        async ask() {
          const req = await licit(['request', ...flags], { LICIT_SECRET: 'state-app-secret' });
          expect(req.code, req.stderr).toBe(0);
          return answerOf((await licit(['respond', '--signing-key', vendor.keyPath, '--store', store, req.json().request as string, '--json'])).json());
        },
      };
    },
    async eventKinds() {
      const log = await licit(['log', '--store', store, '--license-id', 'LIC-ST', '--json']);
      expect(log.code, log.stderr).toBe(0);
      return (log.json().events as { kind: string }[]).map((e) => e.kind);
    },
  };
};

const remote = (): Target => ({
  name: 'server',
  flags: ['--server', server.url, '--license-id', 'LIC-ST'],
  install(machineName, user) {
    const inst = newInstallation();
    let activated = false;
    return {
      // POST /v1/activate, then /v1/renew, as an application's Licensing does.
      async ask() {
        const operation = activated ? 'renew' : 'activate';
        const j = await post(`/v1/${operation}`, { request: await createRequest({ operation, licenseId: 'LIC-ST', licenseKey: key, user, fingerprint: machine(machineName), nonce: newNonce(), clientTime: new Date() }, inst) });
        if (j.ok === true) activated = true;
        return answerOf(j);
      },
    };
  },
  async eventKinds() {
    const res = await fetch(`${server.url}/v1/admin/log?licenseId=LIC-ST`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return ((await res.json()) as { events: { kind: string }[] }).events.map((e) => e.kind);
  },
});

beforeAll(async () => {
  vendor = makeVendor();
  root = mkdtempSync(join(tmpdir(), 'licit-state-cli-'));
  key = await vendor.issue(LICENSE);
  keyPath = join(root, 'license.key');
  writeFileSync(keyPath, key);
  receiver = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      const j = JSON.parse(body) as { type: string; data: Record<string, unknown> };
      let signed = true;
      try {
        verifyWebhook(body, req.headers['licit-signature'] as string | undefined, HOOK_SECRET);
      } catch {
        signed = false;
      }
      deliveries.push({ type: j.type, data: j.data, signed });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
  writeFileSync(join(root, 'webhook-secret'), HOOK_SECRET);
  server = await startServer(
    ['--signing-key', vendor.keyPath, '--store', join(root, 'server-store'), '--no-rate-limit', '--webhook', hook, '--webhook-secret-file', join(root, 'webhook-secret')],
    procs,
    { LICIT_ADMIN_TOKEN: TOKEN },
  );
  expect((await post('/v1/admin/licenses', { license: key }, true)).ok).toBe(true);
}, 60_000);
afterAll(async () => {
  for (const p of procs) p.kill();
  await new Promise((r) => receiver?.close(r));
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
  if (vendor !== undefined) rmSync(vendor.dir, { recursive: true, force: true });
});

const STOPPED = ['device.suspended', 'device.reinstated', 'user.suspended', 'user.reinstated', 'device.revoked', 'user.revoked'];

describe.each([['local store', local], ['server', remote]] as const)('suspend, revoke and reinstate against a %s', (_name, make) => {
  it('stops a device or a user at its next exchange until reinstated; a revoked device is freed and its machine cannot come back', async () => {
    const t = make();
    const cli = (...args: string[]) => licit([...args, ...t.flags]);
    const laptop = t.install('laptop', 'ann@example.com');
    const first = await laptop.ask();
    expect(first.ok, JSON.stringify(first)).toBe(true);
    const device = (first as { deviceId: string }).deviceId;
    const desk = t.install('desk', 'bob@example.com');
    expect((await desk.ask()).ok).toBe(true);

    // Suspended: refused with the reason, in the same words from both targets; reinstated: renewed.
    const suspended = await cli('devices', 'suspend', device, '--reason', 'stolen laptop', '--json');
    expect(suspended.code, suspended.stderr).toBe(0);
    expect(suspended.json()).toEqual({ ok: true, licenseId: 'LIC-ST', deviceId: device, state: 'suspended' });
    expect(await laptop.ask()).toEqual({ ok: false, code: 'ERR_DEVICE_SUSPENDED', message: expect.stringMatching(/suspended by the vendor \(stolen laptop\)/) });
    expect((await desk.ask()).ok).toBe(true);
    // Suspending again changes nothing (and logs nothing).
    expect((await cli('devices', 'suspend', device)).stdout).toBe(`Device ${device} of license LIC-ST is suspended: its renewals, activations and top-ups are refused until reinstated.\n`);
    expect((await cli('devices', 'reinstate', device)).stdout).toBe(`Device ${device} of license LIC-ST is active.\n`);
    expect((await laptop.ask()).ok).toBe(true);

    // A user: every device of theirs is refused; their id is normalised as every store keeps it.
    const user = await cli('users', 'suspend', ' ann@example.com ', '--reason', 'left the company', '--json');
    expect(user.json()).toEqual({ ok: true, licenseId: 'LIC-ST', userId: 'ann@example.com', state: 'suspended' });
    expect(await laptop.ask()).toMatchObject({ ok: false, code: 'ERR_USER_SUSPENDED', message: expect.stringMatching(/left the company/) });
    expect((await desk.ask()).ok).toBe(true);
    expect((await cli('users', 'reinstate', 'ann@example.com')).stdout).toBe('License user ann@example.com of license LIC-ST is active.\n');
    expect((await laptop.ask()).ok).toBe(true);

    // Revoked: the activation is freed (no transfer counted), it is not renewed, and a reinstall on
    // that machine is refused; another machine activates as before.
    const revoked = await cli('devices', 'revoke', device, '--reason', 'refund');
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toBe(`Device ${device} of license LIC-ST is revoked (reason: refund): its activation is freed (no transfer counted) and its machine cannot activate the license again.\n`);
    const list = (await cli('devices', 'list', '--json')).json();
    expect(list.devices.map((d: { deviceId: string }) => d.deviceId)).not.toContain(device);
    expect(list.usage).toMatchObject({ activations: { inUse: 1 }, transfers: { used: 0 } });
    expect(await laptop.ask()).toMatchObject({ ok: false, code: 'ERR_DEVICE_REVOKED' });
    expect(await t.install('laptop', 'ann@example.com').ask()).toMatchObject({ ok: false, code: 'ERR_DEVICE_REVOKED', message: expect.stringMatching(/refund/) });
    expect((await t.install('new-laptop', 'ann@example.com').ask()).ok).toBe(true);

    // Revoking is final (exit 1, a refusal, not a usage mistake); unknown ones are refusals too.
    const again = await cli('devices', 'reinstate', device, '--json');
    expect([again.code, again.json().error?.code]).toEqual([1, 'ERR_LICENSE_STATE']);
    expect(again.json().error.message).toMatch(/is revoked; it cannot be reinstated/);
    const unknownDevice = await cli('devices', 'suspend', 'no-such-device', '--json');
    expect([unknownDevice.code, unknownDevice.json().error?.code]).toEqual([1, 'ERR_ACTIVATION_NOT_FOUND']);
    const unknownUser = await cli('users', 'suspend', 'carol@example.com', '--json');
    expect([unknownUser.code, unknownUser.json().error?.code]).toEqual([1, 'ERR_USER_NOT_FOUND']);

    // A revoked user: removed with their devices, and the id refused from then on, whatever adds it.
    const gone = await cli('users', 'revoke', 'bob@example.com', '--reason', 'fraud');
    expect(gone.code, gone.stderr).toBe(0);
    expect(gone.stdout).toBe('License user bob@example.com of license LIC-ST is revoked (reason: fraud): the user is removed, their devices deactivated, and the id is refused from now on.\n');
    expect(await desk.ask()).toMatchObject({ ok: false, code: 'ERR_USER_REVOKED', message: expect.stringMatching(/fraud/) });
    expect(await t.install('bobs-new-desk', 'bob@example.com').ask()).toMatchObject({ ok: false, code: 'ERR_USER_REVOKED' });
    expect((await cli('users', 'list', '--json')).json().users.map((u: { userId: string }) => u.userId)).not.toContain('bob@example.com');
    const back = await cli('users', 'reinstate', 'bob@example.com', '--json');
    expect([back.code, back.json().error?.code]).toEqual([1, 'ERR_LICENSE_STATE']);

    // Audited, in a log whose hash chain verifies.
    expect((await t.eventKinds()).filter((k) => STOPPED.includes(k))).toEqual(['device.suspended', 'device.reinstated', 'user.suspended', 'user.reinstated', 'device.revoked', 'user.revoked']);
  }, 120_000);
});

describe('the server delivers the changes to its webhooks', () => {
  it('device and user suspended, reinstated and revoked, signed (default kinds)', async () => {
    const until = Date.now() + 20_000;
    const got = () => deliveries.filter((d) => STOPPED.includes(d.type));
    while (got().length < STOPPED.length && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(got().map((d) => d.type)).toEqual(STOPPED);
    expect(got().every((d) => d.signed)).toBe(true);
    expect(got()[0]!.data).toMatchObject({ from: 'active', to: 'suspended', reason: 'stolen laptop' });
    expect(got()[2]!.data).toMatchObject({ userId: 'ann@example.com', reason: 'left the company' });
  });
});

describe('what the CLI refuses', () => {
  it('the CLI actions and the admin routes match the core rules: a device or a user is suspended, revoked or reinstated', () => {
    expect([...DEVICE_ACTIONS]).toEqual(PARTY_ACTIONS.device);
    expect([...USER_ACTIONS]).toEqual(PARTY_ACTIONS.user);
    const routes = [...readFileSync(new URL('../src/server/license-routes.ts', import.meta.url), 'utf8').matchAll(/'POST \/v1\/admin\/(device|user)s\/(\w+)'/g)].map((m) => `${m[1]} ${m[2]}`);
    expect(routes.sort()).toEqual(Object.entries(PARTY_ACTIONS).flatMap(([kind, actions]) => actions.map((a) => `${kind} ${a}`)).sort());
  });

  it('usage mistakes exit 2, naming the fix', async () => {
    const store = ['--store', join(root, 'unused'), '--license', keyPath, '--public-key', vendor.pubPath];
    const cases: [string[], RegExp][] = [
      [['users', 'revok', 'ann@example.com', ...store], /Did you mean "revoke"/],
      [['devices', 'suspend', ...store], /"suspend" takes 1 argument, got 0/],
      [['devices', 'revoke', 'a', 'b', ...store], /"revoke" takes 1 argument, got 2/],
      [['devices', 'suspnd', 'a', ...store], /Did you mean "suspend"/],
      [['users', 'reinstat', 'ann', ...store], /Did you mean "reinstate"/],
      [['devices', 'list', '--reason', 'x', ...store], /--reason only applies to "suspend", "revoke" and "reinstate"/],
      [['users', 'add', 'ann', '--reason', 'x', ...store], /--reason only applies to "suspend", "revoke" and "reinstate"/],
      [['devices', 'suspend', 'x', '--goodwill', ...store], /--goodwill only applies to "reset"/],
      [['devices', 'suspend', 'x', '--server', 'http://127.0.0.1:9', '--license-id', 'LIC-ST', '--reason', 'r', '--actor', 'me'], /--actor goes with --store/],
    ];
    for (const [args, message] of cases) {
      const r = await licit([...args, '--json']);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.json().error?.message, args.join(' ')).toMatch(message);
    }
  });

  it('a store whose registry does not hold the license: ERR_LICENSE_NOT_REGISTERED (exit 1), nothing changed', async () => {
    // Activations counted by an application's own code, never through an exchange: no registry entry.
    const dir = join(root, 'app-store');
    const store = withAuditChain(new FileStore(dir));
    const acts = new Activations(store, { id: 'LIC-ST', seats: {}, maxUsers: 3, maxActivations: 4 });
    await acts.addUser('ann@example.com');
    const device = (await acts.activate('ann@example.com', 'dev-1', { info: { fingerprint: machine('app') } })).deviceId;
    await store.close();
    const r = await licit(['devices', 'suspend', device, '--store', dir, '--license', keyPath, '--public-key', vendor.pubPath, '--json']);
    expect([r.code, r.json().error?.code]).toEqual([1, 'ERR_LICENSE_NOT_REGISTERED']);
    expect((await licit(['log', '--store', dir, '--license-id', 'LIC-ST', '--json'])).json().events.map((e: { kind: string }) => e.kind)).toEqual(['user.added', 'device.activated']);
  });

  it('each flag is described with an example in licit help', async () => {
    for (const verb of ['devices', 'users']) {
      const help = (await licit(['help', verb])).stdout;
      expect(help).toMatch(/--reason VALUE\s+why the (device|user) is suspended[^\n]*\n\s+e\.g\. --reason "[^"]+"/);
      expect(help).toMatch(/suspend\|/);
    }
  });
});
