/**
 * `licit users rename USER NEW_USER` (a license user's changed e-mail) as a real process, against a
 * local FileStore and a real `licit serve`: both run server/rename-user.ts (POST
 * /v1/admin/users/rename's code), keep the user's devices and password, audit `user.renamed`, and
 * print the same. `user.renamed` is delivered to webhooks by default, as the other user lifecycle
 * kinds are.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Activations } from '../src/core/seats/index.js';
import { verifyLicense } from '../src/core/license/verify.js';
import { FileStore } from '../src/node/store/file-store.js';
import { LicenseUserCredentials } from '../src/server/auth/credentials.js';
import { DEFAULT_WEBHOOK_KINDS } from '../src/server/webhooks.js';
import { licit } from './helpers/cli.js';
import { startServer } from './helpers/serve.js';
import { makeVendor, type TestVendor } from './helpers/vendor.js';

const TOKEN = 'rename-admin-token-0123456789';
let vendor: TestVendor;
let root: string;
let keyPath: string;
let key: string;
let server: { url: string; proc: ChildProcess };
const procs: ChildProcess[] = [];

beforeAll(async () => {
  vendor = makeVendor();
  root = mkdtempSync(join(tmpdir(), 'licit-rename-cli-'));
  key = await vendor.issue({ licenseId: 'LIC-RN', customer: 'ACME', maxUsers: 3, maxActivations: 4 });
  keyPath = join(root, 'license.key');
  writeFileSync(keyPath, key);
  server = await startServer(['--signing-key', vendor.keyPath, '--store', join(root, 'server-store'), '--no-rate-limit'], procs, { LICIT_ADMIN_TOKEN: TOKEN });
}, 60_000);
afterAll(() => {
  for (const p of procs) p.kill();
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
  if (vendor !== undefined) rmSync(vendor.dir, { recursive: true, force: true });
});

async function admin(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, any>> {
  const res = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return (await res.json()) as Record<string, any>;
}

describe('licit users rename', () => {
  it('against a local store: devices and password kept, audited, the old id gone; refusals exit 1, usage mistakes 2', async () => {
    const dir = join(root, 'local-store');
    const store = new FileStore(dir);
    const license = await verifyLicense(key, { publicKeys: [vendor.publicKeyPem] });
    const acts = new Activations(store, license, { actor: 'test' });
    await acts.addUser('ann@acme.example');
    await acts.activate('ann@acme.example', 'laptop', {});
    await new LicenseUserCredentials(store, 'LIC-RN', {}).setPassword('ann@acme.example', 'ann-password-1', { mustChange: false, actor: 'test' });
    await store.close();
    const flags = ['--store', dir, '--license', keyPath, '--public-key', vendor.pubPath];
    const r = licit(['users', 'rename', 'ann@acme.example', ' ann@new.example ', ...flags, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toEqual({ ok: true, licenseId: 'LIC-RN', userId: 'ann@new.example', from: 'ann@acme.example', devices: ['laptop'], seat: null, passwordMoved: true });
    expect(licit(['users', 'rename', 'ann@new.example', 'ann@third.example', ...flags]).stdout).toBe('ann@new.example is now ann@third.example on license LIC-RN, with 1 device(s) and the password.\n');
    const listed = licit(['users', 'list', ...flags, '--json']).json() as unknown as { users: { userId: string }[] };
    expect(listed.users.map((u) => u.userId)).toEqual(['ann@third.example']);
    const after = new FileStore(dir);
    try {
      expect((await after.events('LIC-RN')).filter((e) => e.kind === 'user.renamed').map((e) => e.actor)).toHaveLength(2);
      await new LicenseUserCredentials(after, 'LIC-RN', {}).checkPassword('ann@third.example', 'ann-password-1', { actor: 'test' });
    } finally {
      await after.close();
    }
    const unknown = licit(['users', 'rename', 'nobody@acme.example', 'x@acme.example', ...flags, '--json']);
    expect(unknown.code).toBe(1);
    expect(unknown.json().error?.code).toBe('ERR_USER_NOT_FOUND');
    // Renaming (removing, suspending) someone who is not a user: the message points at the list first.
    expect(unknown.json().error?.message).toBe('"nobody@acme.example" is not a user of this license; check the id against its users (licit users list), or add the user first');
    const usage = licit(['users', 'rename', 'ann@third.example', ...flags]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('"rename" takes 2 arguments, got 1');
  });

  it("against a license server: POST /v1/admin/users/rename's answer, printed the same", async () => {
    expect((await admin('POST', '/v1/admin/licenses', { license: key })).ok).toBe(true);
    expect((await admin('POST', '/v1/admin/users', { licenseId: 'LIC-RN', userId: 'bob@acme.example' })).ok).toBe(true);
    const flags = ['--server', server.url, '--license-id', 'LIC-RN'];
    const r = licit(['users', 'rename', 'bob@acme.example', 'bob@new.example', ...flags, '--json'], { env: { LICIT_ADMIN_TOKEN: TOKEN } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toEqual({ ok: true, licenseId: 'LIC-RN', userId: 'bob@new.example', from: 'bob@acme.example', devices: [], seat: null, passwordMoved: false });
    const users = (await admin('GET', '/v1/admin/users?licenseId=LIC-RN')).users as { userId: string }[];
    expect(users.map((u) => u.userId)).toEqual(['bob@new.example']);
    expect((await admin('POST', '/v1/admin/users', { licenseId: 'LIC-RN', userId: 'carol@acme.example' })).ok).toBe(true);
    const taken = licit(['users', 'rename', 'bob@new.example', 'carol@acme.example', ...flags, '--json'], { env: { LICIT_ADMIN_TOKEN: TOKEN } });
    expect(taken.code).toBe(1);
    expect(taken.json().error?.code).toBe('ERR_USER_EXISTS');
  });

  it('user.renamed is a default webhook kind, beside the other user lifecycle kinds', () => {
    for (const k of ['user.suspended', 'user.revoked', 'user.reinstated', 'user.renamed'] as const) expect(DEFAULT_WEBHOOK_KINDS).toContain(k);
  });
});
