/**
 * License users prove who they are on licenses that say so (`userAuth`), end to end: a real
 * `createLicenseServer` listening on loopback over a FileStore, `Licensing` clients in this process.
 * A user id alone selects nothing there; renewals are proven by the installation key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../src/node/store/file-store.js';
import { Licensing } from '../src/node/licensing/licensing.js';
import { createIdTokenVerifier } from '../src/server/index.js';
import { listening } from './helpers/listening.js';
import { makeVendor } from './helpers/vendor.js';

const vendor = makeVendor();
const ADMIN = 'signin-admin';
const ISSUER = 'https://id.example.test';
const work = mkdtempSync(join(tmpdir(), 'licit-signin-'));
let url: string;
let close: () => Promise<void>;
let idp: Awaited<ReturnType<typeof generateKeyPair>>;

beforeAll(async () => {
  idp = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(idp.publicKey)), kid: 'idp-1', alg: 'ES256' };
  ({ url, close } = await listening({
    signingKey: vendor.privateKeyPem,
    store: new FileStore(join(work, 'store')),
    adminToken: ADMIN,
    idTokenVerifier: createIdTokenVerifier({ issuer: ISSUER, audience: 'licit-app', jwks: { keys: [jwk] }, userClaim: 'email' }),
    accessLog: false,
  }));
});
afterAll(async () => {
  await close();
  rmSync(work, { recursive: true, force: true });
});

const admin = async (path: string, body: unknown) => {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` }, body: JSON.stringify(body) });
  return (await res.json()) as Record<string, any>;
};
let dirs = 0;
const open = (key: string, extra: Partial<Parameters<typeof Licensing.open>[0]>) =>
  Licensing.open({ license: key, publicKeys: vendor.publicKeyPem, dir: join(work, `inst-${++dirs}`), secret: 'signin-secret', server: url, autoRenew: false, machineId: `m-${dirs}`, ...extra });
const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code);

describe('license users sign in', () => {
  it('password: required, checked, locked after failures; the installation key proves renewals', async () => {
    const key = await vendor.issue({ licenseId: 'LIC-PW', userAuth: 'password', maxActivations: 5, allowSuppliedMachineId: true });
    expect(await admin('/v1/admin/licenses', { license: key })).toMatchObject({ ok: true });
    expect(await admin('/v1/admin/users', { licenseId: 'LIC-PW', userId: 'ann', password: 'correct horse battery' })).toMatchObject({ ok: true, passwordSet: true });

    expect(await code((await open(key, { user: 'ann' })).activate())).toBe('ERR_USER_AUTH_REQUIRED');
    expect(await code((await open(key, { user: 'ann', credentials: { password: 'wrong password' } })).activate())).toBe('ERR_USER_AUTH_FAILED');
    // The user id alone, or another user's id with ann's password, selects nothing.
    expect(await code((await open(key, { user: 'bob', credentials: { password: 'correct horse battery' } })).activate())).toBe('ERR_USER_AUTH_FAILED');
    const ann = await open(key, { user: 'ann', credentials: () => ({ password: 'correct horse battery' }) });
    const lease = await ann.activate();
    expect(lease.user).toBe('ann');
    // Renewal carries no password: the installation key it activated with is the proof.
    await ann.renew();
    expect(ann.status).toBe('verified');

    // Five wrong guesses lock the user; even the right password is then refused for a while.
    for (let i = 0; i < 5; i++) expect(await code((await open(key, { user: 'ann', credentials: { password: `guess-${i}-xxxx` } })).activate())).toBe('ERR_USER_AUTH_FAILED');
    expect(await code((await open(key, { user: 'ann', credentials: { password: 'correct horse battery' } })).activate())).toBe('ERR_RATE_LIMITED');
    const log = (await (await fetch(`${url}/v1/admin/log?licenseId=LIC-PW`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { events: { kind: string; details: object }[] };
    expect(log.events.map((e) => e.kind)).toEqual(expect.arrayContaining(['user.password-set', 'user.auth-failed', 'user.locked']));
    expect(JSON.stringify(log)).not.toMatch(/correct horse|scrypt\$/);
  });

  it('ID token: the token names the user; forged, expired or foreign tokens are refused', async () => {
    const key = await vendor.issue({ licenseId: 'LIC-OIDC', userAuth: 'id-token', allowSuppliedMachineId: true });
    const token = (claims: Record<string, unknown>, opts: { exp?: string; key?: CryptoKey; iss?: string } = {}) =>
      new SignJWT({ email_verified: true, ...claims }).setProtectedHeader({ alg: 'ES256', kid: 'idp-1' }).setIssuer(opts.iss ?? ISSUER).setAudience('licit-app').setIssuedAt().setExpirationTime(opts.exp ?? '5m').sign(opts.key ?? idp.privateKey);
    const other = await generateKeyPair('ES256');
    expect(await code((await open(key, {})).activate())).toBe('ERR_USER_AUTH_REQUIRED');
    expect(await code((await open(key, { credentials: { idToken: await token({ email: 'eve@example.com' }, { key: other.privateKey }) } })).activate())).toBe('ERR_USER_AUTH_FAILED');
    expect(await code((await open(key, { credentials: { idToken: await token({ email: 'eve@example.com' }, { iss: 'https://evil.test' }) } })).activate())).toBe('ERR_USER_AUTH_FAILED');
    expect(await code((await open(key, { credentials: { idToken: await token({ email: 'eve@example.com' }, { exp: '-1m' }) } })).activate())).toBe('ERR_USER_AUTH_FAILED');
    // A request naming another user than the token's is refused.
    expect(await code((await open(key, { user: 'ann@example.com', credentials: { idToken: await token({ email: 'eve@example.com' }) } })).activate())).toBe('ERR_USER_AUTH_FAILED');
    const eve = await open(key, { credentials: { idToken: await token({ email: 'eve@example.com' }) } });
    expect((await eve.activate()).user).toBe('eve@example.com');
  });
});
