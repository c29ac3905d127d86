/**
 * Offline activation through the CLI only: `licit request` on the machine, `licit respond` at the
 * vendor, `licit apply` back on the machine, with both codes wrapped at 64 columns as they would be
 * in an e-mail. Every refusal has its own code.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRequest, newNonce, openRequest } from '../src/core/exchange/index.js';
import { hashComponent } from '../src/node/fingerprint/index.js';
import { newInstallation } from './helpers/installation.js';
import { FileStore } from '../src/node/store/file-store.js';
import { Installation } from '../src/node/licensing/installation.js';
import { KINDS } from '../src/server/vendor.js';
import { licit } from './helpers/cli.js';
import { makeVendor } from './helpers/vendor.js';

const vendor = makeVendor();
const work = mkdtempSync(join(tmpdir(), 'licit-offline-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
/** The application's secret, as the CLI reads it (`--secret-file`; one trailing line break is not part of it). */
const SECRET = 'offline-cli-app-secret';
const secretFile = join(work, 'app.secret');
writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
const NO_ENV_SECRET = { LICIT_SECRET: undefined };

const wrap = (s: string) => s.trim().replace(/(.{64})/g, '$1\n');
/** What the CLI is given: the code wrapped at 64 columns, checked to really be wrapped (several lines, none longer). */
function wrapped(code: string): string {
  const text = wrap(code);
  const lines = text.split('\n');
  expect(code.length).toBeGreaterThan(128); // long enough that wrapping makes at least three lines
  expect(lines.length).toBeGreaterThanOrEqual(3);
  expect(lines.every((l) => l.length <= 64)).toBe(true);
  expect(lines.slice(0, -1).every((l) => l.length === 64)).toBe(true);
  expect(lines.join('')).toBe(code);
  return text;
}
const store = join(work, 'vendor-store');

function request(key: string, dir: string, machine: string): string {
  const r = licit(['request', '--license', key, '--public-key', vendor.pubPath, '--secret-file', secretFile, '--dir', join(work, dir), '--machine-id', machine], { env: NO_ENV_SECRET });
  expect(r.code, r.stderr).toBe(0);
  const code = r.stdout.trim();
  expect(code).toMatch(/^LICITR1-[A-Za-z0-9_-]+$/); // one line
  return code;
}
function respond(code: string) {
  return licit(['respond', '--signing-key', vendor.keyPath, '--store', store, '--json', '-'], { input: wrapped(code) });
}
function apply(key: string, dir: string, machine: string, response: string) {
  return licit(['apply', '--license', key, '--public-key', vendor.pubPath, '--secret-file', secretFile, '--dir', join(work, dir), '--machine-id', machine, '--json', '-'], { input: wrapped(response), env: NO_ENV_SECRET });
}

describe('offline round trip (CLI only)', () => {
  it('request → respond → apply installs a 14-day lease; refusals carry their own codes', async () => {
    const key = await vendor.issue({ allowSuppliedMachineId: true, customer: 'ACME', maxActivations: 2 });
    const req = request(key, 'a', 'machine-a');
    // respond() hands the CLI the request wrapped at 64 columns (checked in wrapped()); it must accept it.
    const resp = respond(req);
    expect(resp.code, resp.stderr).toBe(0);
    const response = resp.json().response as string;
    expect(response).toMatch(/^LICITL1-[A-Za-z0-9_-]+$/); // printed as one line
    expect(response.length).toBeGreaterThan(64);

    const ok = apply(key, 'a', 'machine-a', response);
    expect(ok.code, ok.stderr).toBe(0);
    const lease = ok.json().lease as { verifiedUntil: string; serverTime: string; status: string };
    expect(lease.status).toBe('verified');
    expect(Date.parse(lease.verifiedUntil) - Date.parse(lease.serverTime)).toBe(14 * 86_400_000);
    expect(lease.verifiedUntil).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    // The same response again: replayed.
    expect(apply(key, 'a', 'machine-a', response).json().error?.code).toBe('ERR_EXCHANGE_REPLAYED');
    // Another machine (different machine id): wrong machine.
    expect(apply(key, 'a', 'machine-b', response).json().error?.code).toBe('ERR_EXCHANGE_WRONG_MACHINE');
    // Another installation on the same machine: wrong installation.
    expect(apply(key, 'a2', 'machine-a', response).json().error?.code).toBe('ERR_EXCHANGE_WRONG_INSTALLATION');
    // Another license: wrong license.
    const other = await vendor.issue({ allowSuppliedMachineId: true, customer: 'Other' });
    expect(apply(other, 'a', 'machine-a', response).json().error?.code).toBe('ERR_EXCHANGE_WRONG_LICENSE');
    // A tampered response: signature.
    const body = response.slice('LICITL1-'.length);
    const i = Math.floor(body.length / 2);
    const flipped = `LICITL1-${body.slice(0, i)}${body[i] === 'A' ? 'B' : 'A'}${body.slice(i + 1)}`;
    expect(apply(key, 'a', 'machine-a', flipped).json().error?.code).toBe('ERR_KEY_SIGNATURE');
    // The same request answered twice by the vendor: replayed at the vendor.
    expect(respond(req).json().error?.code).toBe('ERR_EXCHANGE_REPLAYED');
  });

  it('a response to a superseded request is stale; a newer request still works', async () => {
    const key = await vendor.issue({ allowSuppliedMachineId: true, customer: 'Stale Ltd' });
    const first = request(key, 's', 'm-s');
    const second = request(key, 's', 'm-s');
    const r1 = respond(first).json().response as string;
    const r2 = respond(second).json().response as string;
    expect(apply(key, 's', 'm-s', r2).code).toBe(0);
    // r1 answers a request older than the one just answered: no longer pending.
    expect(apply(key, 's', 'm-s', r1).json().error?.code).toBe('ERR_EXCHANGE_STALE');
  });

  it('the activation limit holds across offline activations', async () => {
    const key = await vendor.issue({ allowSuppliedMachineId: true, customer: 'One Seat', maxActivations: 1 });
    expect(respond(request(key, 'l1', 'm-1')).code).toBe(0);
    const refused = respond(request(key, 'l2', 'm-2'));
    expect(refused.code).toBe(1);
    expect(refused.json().error?.code).toBe('ERR_ACTIVATIONS_EXHAUSTED');
  });

  it('--seat-usage travels in the request and the vendor records it', async () => {
    const key = await vendor.issue({ allowSuppliedMachineId: true, licenseId: 'LIC-SEATS-CLI', seats: { basic: 5, advanced: 1 } });
    const r = licit(['request', '--license', key, '--public-key', vendor.pubPath, '--secret-file', secretFile, '--dir', join(work, 'seats'), '--machine-id', 'm-seats', '--seat-usage', 'basic=3', '--seat-usage', 'advanced=1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { request: code, installation } = r.json() as unknown as { request: string; installation: string };
    expect((await openRequest(code)).seats).toEqual({ basic: 3, advanced: 1 });
    expect(respond(code).code).toBe(0);
    const fs = new FileStore(store);
    const rec = await fs.read('LIC-SEATS-CLI', (tx) => tx.get(KINDS.installation, installation));
    await fs.close();
    expect(rec?.seats).toEqual({ basic: 3, advanced: 1 });
    const bad = licit(['request', '--license', key, '--public-key', vendor.pubPath, '--secret-file', secretFile, '--dir', join(work, 'seats'), '--seat-usage', 'basic']);
    expect(bad.code).toBe(2);
  });

  it('respond without --store names the store it counts in on stderr; --json stdout stays one object', async () => {
    const key = await vendor.issue({ allowSuppliedMachineId: true, customer: 'Default Store' });
    const cwd = join(work, 'cwd');
    mkdirSync(cwd);
    const r = licit(['respond', '--signing-key', vendor.keyPath, '--json', '-'], { input: wrapped(request(key, 'd', 'm-d')), cwd, env: { LICIT_STORE: undefined } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().ok).toBe(true);
    expect(r.stderr).toContain(join(cwd, 'licit-store'));
    expect(existsSync(join(cwd, 'licit-store'))).toBe(true);
    const env = licit(['respond', '--signing-key', vendor.keyPath, '-'], { input: request(key, 'd', 'm-d'), env: { LICIT_STORE: join(work, 'env-store') } });
    expect(env.code, env.stderr).toBe(0);
    expect(env.stdout.trim()).toMatch(/^LICITL1-[A-Za-z0-9_-]+$/);
    expect(env.stderr).toContain(join(work, 'env-store'));
    // With --store the operator chose: nothing on stderr.
    expect(respond(request(key, 'd2', 'm-d2')).stderr).toBe('');
  });

  it('bad input is a usage error, not a crash', () => {
    expect(licit(['respond', '--signing-key', vendor.keyPath, '--store', store, 'garbage']).code).toBe(1);
    expect(licit(['respond', '--store', store, 'x']).code).toBe(2);
    expect(licit(['apply', '--public-key', vendor.pubPath, 'x']).code).toBe(2);
    // A file where the store directory should be: named as a file (exit 2), not a store error.
    const file = join(work, 'afile');
    writeFileSync(file, 'x');
    const f = licit(['respond', '--signing-key', vendor.keyPath, '--store', file, '--json', 'x']);
    expect(f.code).toBe(2);
    expect(f.json().error?.message).toContain(`--store ${file} is a file, not a directory`);
  });

  it('respond with another vendor\'s signing key names both key ids, not an option respond does not have', async () => {
    const other = makeVendor();
    const key = await vendor.issue({ allowSuppliedMachineId: true, customer: 'Wrong Key' });
    const r = licit(['respond', '--signing-key', other.keyPath, '--store', store, '--json', request(key, 'wk', 'm-wk')]);
    expect(r.code).toBe(1);
    const err = r.json().error;
    expect(err?.code).toBe('ERR_KEY_UNKNOWN_SIGNER');
    expect(err?.message).toContain(`another vendor key (kid ${vendor.kid})`);
    expect(err?.message).toContain(`has kid ${other.kid}`);
    expect(err?.message).not.toContain('publicKeys');
    rmSync(other.dir, { recursive: true, force: true });
  });

  it('request refuses empty, overlong or control-character text flags and an empty --dir, naming the flag', async () => {
    const key = await vendor.issue({ allowSuppliedMachineId: true, customer: 'Flags' });
    const base = ['request', '--license', key, '--public-key', vendor.pubPath, '--secret-file', secretFile, '--machine-id', 'm-flags', '--json'];
    const cases: [string[], string][] = [
      [['--dir', join(work, 'flags'), '--app-version', ''], '--app-version'],
      [['--dir', join(work, 'flags'), '--user', ''], '--user'],
      [['--dir', join(work, 'flags'), '--user', 'a\nb'], '--user'],
      [['--dir', join(work, 'flags'), '--app', 'x'.repeat(5000)], '--app'],
      [['--dir', ''], '--dir'],
    ];
    for (const [extra, flag] of cases) {
      const r = licit([...base, ...extra]);
      expect(r.code, `${flag}: ${r.stdout}`).toBe(2);
      const err = r.json().error;
      expect(err?.code).toBe('ERR_USAGE');
      expect(err?.message).toContain(flag);
      expect(err?.message).not.toContain('Installation.open');
    }
    expect(existsSync(join(work, 'flags'))).toBe(false); // refused before anything was created
    // The limits are the request code's own: the longest allowed values still make a request.
    const ok = licit([...base, '--dir', join(work, 'flags'), '--app', 'a'.repeat(128), '--app-version', 'v'.repeat(64), '--user', 'u'.repeat(256)]);
    expect(ok.code, ok.stdout).toBe(0);
    expect((await openRequest(ok.json().request as string)).appVersion).toBe('v'.repeat(64));
  });
});

describe('the vendor\'s identity policy offline', () => {
  // Before: licit respond answered with the library defaults whatever policy licit serve had, so an
  // offline code was a way around --container-policy refuse, and neither verb could refuse weak
  // hardware identities (a cloud VM or microVM guest: a CPU model and a hypervisor-default MAC).
  it('respond takes --weak-identity and --container-policy as licit serve does, and refuses a code from a machine they exclude', async () => {
    const key = await vendor.issue({ licenseId: 'LIC-OFF-POLICY', maxActivations: 5 });
    const weak = `fp1:cp=${hashComponent('app', 'cpu', 'QEMU Virtual CPU')},ml=${hashComponent('app', 'mac', '02:fc:00:00:00:01')}`;
    const strong = `fp1:su=${hashComponent('app', 'system-uuid', 'uuid-off')},mi=${hashComponent('app', 'machine-id', 'mid-off')}`;
    const code = (fingerprint: string, container = false) => createRequest({ operation: 'activate', licenseId: 'LIC-OFF-POLICY', licenseKey: key, fingerprint, container, nonce: newNonce(), clientTime: new Date() }, newInstallation());
    const answer = async (c: Promise<string>, ...flags: string[]) => {
      const r = licit(['respond', '--signing-key', vendor.keyPath, '--store', join(work, 'policy-store'), ...flags, '--json', '-'], { input: await c });
      return r.json().error?.code ?? 'ok';
    };
    expect(await answer(code(weak), '--weak-identity', 'refuse')).toBe('ERR_FINGERPRINT_WEAK');
    expect(await answer(code(strong), '--weak-identity', 'refuse')).toBe('ok');
    expect(await answer(code(weak))).toBe('ok'); // the default stays allow
    expect(await answer(code(strong, true), '--container-policy', 'refuse')).toBe('ERR_FINGERPRINT_MISMATCH');
    expect(await answer(code(strong, true), '--container-policy', 'machine-id')).toBe('ERR_FINGERPRINT_MISMATCH');
    expect(await answer(code(strong), '--weak-identity', 'sometimes')).toBe('ERR_USAGE');
    expect(await answer(code(strong), '--container-policy', 'never')).toBe('ERR_USAGE');
  });
});

describe('the application secret (no default) and clock recovery through the CLI', () => {
  it('request and apply refuse without --secret-file or LICIT_SECRET, before creating anything; both sources open the same installation', async () => {
    const key = await vendor.issue({ allowSuppliedMachineId: true, customer: 'Secretless' });
    const dir = join(work, 'nosecret');
    for (const verb of ['request', 'apply']) {
      const r = licit([verb, '--license', key, '--public-key', vendor.pubPath, '--dir', dir, '--machine-id', 'm-ns', '--json', ...(verb === 'apply' ? ['LICITL1-x'] : [])], { env: NO_ENV_SECRET });
      expect(r.code, r.stdout).toBe(1);
      expect(r.json().error?.code).toBe('ERR_SECRET_REQUIRED');
      expect(r.json().error?.message).toContain('--secret-file FILE');
      expect(r.json().error?.message).toContain('LICIT_SECRET');
    }
    const empty = join(work, 'empty.secret');
    writeFileSync(empty, '\n');
    expect(licit(['request', '--license', key, '--public-key', vendor.pubPath, '--secret-file', empty, '--dir', dir, '--json'], { env: NO_ENV_SECRET }).json().error?.code).toBe('ERR_SECRET_REQUIRED');
    expect(existsSync(dir)).toBe(false);
    // The file (its trailing line break dropped) and the environment variable are the same secret.
    const viaFile = licit(['request', '--license', key, '--public-key', vendor.pubPath, '--secret-file', secretFile, '--dir', dir, '--machine-id', 'm-ns', '--json'], { env: NO_ENV_SECRET });
    const viaEnv = licit(['request', '--license', key, '--public-key', vendor.pubPath, '--dir', dir, '--machine-id', 'm-ns', '--json'], { env: { LICIT_SECRET: SECRET } });
    expect(viaFile.code, viaFile.stdout).toBe(0);
    expect(viaEnv.code, viaEnv.stdout).toBe(0);
    expect(viaEnv.json().installation).toBe(viaFile.json().installation);
    // ...and it is the secret the application passes to the API.
    expect((await Installation.open({ dir, secret: SECRET })).id).toBe(viaFile.json().installation);
    const wrong = licit(['request', '--license', key, '--public-key', vendor.pubPath, '--dir', dir, '--machine-id', 'm-ns', '--json'], { env: { LICIT_SECRET: 'not-the-app-secret' } });
    expect(wrong.json().error?.code).toBe('ERR_STATE_TAMPERED');
  });

  it('a time check poisoned by a clock once set to 2099 is reset offline: request, respond, apply', async () => {
    const key = await vendor.issue({ allowSuppliedMachineId: true, customer: 'Clock Ltd' });
    const dir = join(work, 'clock');
    // Activated once, then one check with the clock far ahead.
    const first = apply(key, 'clock', 'm-clock', respond(request(key, 'clock', 'm-clock')).json().response as string);
    expect(first.code).toBe(0);
    await (await Installation.open({ dir, secret: SECRET })).clock.check(new Date('2099-01-01T00:00:00Z'));
    const err = (await (await Installation.open({ dir, secret: SECRET })).clock.check(new Date()).catch((e: unknown) => e)) as { code: string; message: string };
    expect(err.code).toBe('ERR_CLOCK_TAMPERED');
    expect(err.message).toContain('licit request / licit apply');
    // The way out its message names: a fresh response from the vendor. Leases carry whole seconds,
    // and only a signed time newer than the last one accepted corrects the mark: on a fast machine
    // the second response could be signed in the same second as the first, so wait for the next.
    const firstSigned = Date.parse((first.json().lease as { serverTime: string }).serverTime);
    expect(Number.isFinite(firstSigned)).toBe(true);
    while (Date.now() < firstSigned + 1000) await new Promise((r) => setTimeout(r, 50));
    const ok = apply(key, 'clock', 'm-clock', respond(request(key, 'clock', 'm-clock')).json().response as string);
    expect(ok.code, ok.stdout).toBe(0);
    const lease = ok.json().lease as { serverTime: string; status: string };
    expect(lease.status).toBe('verified');
    const guard = (await Installation.open({ dir, secret: SECRET })).clock;
    expect((await guard.lastSignedTime())?.toISOString()).toBe(lease.serverTime);
    expect(await guard.highWaterMark()).toBeLessThan(Date.parse('2099-01-01T00:00:00Z'));
    await expect(guard.check(new Date())).resolves.toBeInstanceOf(Date);
  });
});
