/**
 * License user authentication: scrypt password hashes (round trip, caps on stored parameters,
 * constant-time compare), the store-backed credentials with lockout on MemoryStore and FileStore,
 * ID tokens verified by jose against a JWKS served over real HTTP, and authenticateUser on top.
 */
import * as nodeCrypto from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { withAuditChain } from '../src/core/admin/chained-store.js';
import { LicenseError } from '../src/core/errors.js';
import { MemoryStore } from '../src/core/store/memory-store.js';
import type { Store } from '../src/core/store/store.js';
import { FileStore } from '../src/node/store/file-store.js';
import { authenticateUser, createIdTokenVerifier, hashPassword, LicenseUserCredentials, SCRYPT_DEFAULTS, verifyPassword, type AuthenticateUserContext, type IdTokenVerifierOptions } from '../src/server/user-auth.js';
import { refusal } from './helpers/refusal.js';

// Spy on the two primitives the constant-time path goes through, without changing what they do.
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return { ...real, scrypt: vi.fn(real.scrypt), timingSafeEqual: vi.fn(real.timingSafeEqual) };
});
const scryptSpy = vi.mocked(nodeCrypto.scrypt);
const compareSpy = vi.mocked(nodeCrypto.timingSafeEqual);

/** A cheap cost for tests (the internal option); the default stays N = 2^15. */
const LOW = { N: 1024, r: 8, p: 1 };
const LIC = 'LIC-USERS';
const T0 = Date.parse('2026-03-01T00:00:00Z');
const PW = 'correct horse battery staple';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'licit-userauth-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const code = refusal;

describe('password hashes', () => {
  it('hashes at the default cost into a self-describing string that verifies, and refuses the wrong password', async () => {
    const h = await hashPassword(PW);
    expect(h).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(SCRYPT_DEFAULTS).toEqual({ N: 32768, r: 8, p: 1 });
    expect(await verifyPassword(PW, h)).toBe(true);
    expect(await verifyPassword(`${PW}!`, h)).toBe(false);
    // A fresh salt each time.
    expect(await hashPassword(PW, { scrypt: LOW })).not.toBe(await hashPassword(PW, { scrypt: LOW }));
  });

  it('normalises to NFC, counts characters not bytes, and refuses passwords out of 8..1024 characters', async () => {
    const h = await hashPassword('caf\u00e9-au-lait', { scrypt: LOW });
    expect(await verifyPassword('cafe\u0301-au-lait', h)).toBe(true);
    expect(await hashPassword('\u{1F511}'.repeat(8), { scrypt: LOW })).toMatch(/^scrypt\$1024\$/);
    for (const bad of ['', 'short77', 'x'.repeat(1025), 'abcdefg\uD800']) expect((await code(hashPassword(bad, { scrypt: LOW }))).code).toBe('ERR_USAGE');
    expect(await hashPassword('x'.repeat(1024), { scrypt: LOW })).toMatch(/^scrypt\$/);
    // A password that could never have been set is simply wrong.
    expect(await verifyPassword('short', h)).toBe(false);
    expect(await verifyPassword('x'.repeat(5000), h)).toBe(false);
    // The internal cost option cannot go below N = 2^10 nor above the caps.
    expect((await code(hashPassword(PW, { scrypt: { N: 16, r: 8, p: 1 } }))).code).toBe('ERR_USAGE');
  });

  it('compares in constant time over the stored hash length', async () => {
    // A 48-byte hash written by someone else's tooling still compares with equal lengths.
    const salt = nodeCrypto.randomBytes(16);
    const key = nodeCrypto.scryptSync(PW, salt, 48, { N: 1024, r: 8, p: 1 });
    const enc = `scrypt$1024$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`;
    compareSpy.mockClear();
    expect(await verifyPassword(PW, enc)).toBe(true);
    expect(await verifyPassword('not the password', enc)).toBe(false);
    expect(compareSpy).toHaveBeenCalledTimes(2);
    for (const [a, b] of compareSpy.mock.calls) expect((a as Buffer).length).toBe((b as Buffer).length);
  });

  it('refuses malformed or over-expensive stored hashes with ERR_STORE_CORRUPT, before any scrypt work', async () => {
    const s = Buffer.alloc(16, 1).toString('base64url');
    const k = Buffer.alloc(32, 2).toString('base64url');
    const bad = [
      '',
      'plain-text-password',
      `bcrypt$1024$8$1$${s}$${k}`,
      `scrypt$1024$8$1$${s}`,
      `scrypt$1024$8$1$${s}$${k}$extra`,
      `scrypt$1000$8$1$${s}$${k}`, // not a power of two
      `scrypt$01024$8$1$${s}$${k}`, // not canonical
      `scrypt$-1024$8$1$${s}$${k}`,
      `scrypt$512$8$1$${s}$${k}`, // below the floor
      `scrypt$1048576$8$1$${s}$${k}`, // 1 GiB of memory
      `scrypt$1073741824$8$1$${s}$${k}`,
      `scrypt$65536$16$1$${s}$${k}`, // 128 MiB
      `scrypt$1024$1000$1$${s}$${k}`,
      `scrypt$1024$8$1000$${s}$${k}`,
      `scrypt$65536$8$4$${s}$${k}`, // 2^21 work units
      `scrypt$1024$8$1$${s}=$${k}`,
      `scrypt$1024$8$1$${s}$${k.slice(0, -1)}B`, // non-canonical base64url (stray low bits)
      `scrypt$1024$8$1$AAAA$${k}`, // salt too short
      `scrypt$1024$8$1$${s}$AAAA`, // hash too short
      `scrypt$1024$8$1$${s}$${'A'.repeat(300)}`,
    ];
    scryptSpy.mockClear();
    const started = performance.now();
    for (const enc of bad) {
      const e = await code(verifyPassword(PW, enc));
      expect(e.code, enc).toBe('ERR_STORE_CORRUPT');
    }
    expect((await code(verifyPassword(PW, 42 as unknown as string))).code).toBe('ERR_STORE_CORRUPT');
    expect(scryptSpy).not.toHaveBeenCalled();
    expect(performance.now() - started).toBeLessThan(1000);
    // The largest cost within the caps still verifies.
    const top = await hashPassword(PW, { scrypt: { N: 65536, r: 8, p: 1 } });
    expect(await verifyPassword(PW, top)).toBe(true);
  });

  it('property: a password verifies against its own hash and no other password does', async () => {
    const password = fc.string({ unit: 'binary', minLength: 8, maxLength: 24 }).filter((p) => [...p.normalize('NFC')].length >= 8);
    await fc.assert(
      fc.asyncProperty(password, password, async (p, q) => {
        const h = await hashPassword(p, { scrypt: LOW });
        expect(await verifyPassword(p, h)).toBe(true);
        if (p.normalize('NFC') !== q.normalize('NFC')) expect(await verifyPassword(q, h)).toBe(false);
      }),
      { numRuns: 20 },
    );
  });
});

type StoreMaker = { name: string; open: () => Store; reopen?: (s: Store) => Store };

const makers: StoreMaker[] = [
  { name: 'MemoryStore', open: () => new MemoryStore() },
  {
    name: 'FileStore',
    open: () => new FileStore(join(tempDir(), 'store')),
    reopen: (s) => new FileStore((s as FileStore).dir),
  },
];

describe.each(makers)('LicenseUserCredentials on $name', ({ name, open, reopen }) => {
  let now = T0;
  const clock = () => now;
  let store: Store;
  let creds: LicenseUserCredentials;
  beforeEach(() => {
    now = T0;
    store = open();
    creds = new LicenseUserCredentials(store, LIC, { now: clock, scrypt: LOW });
  });
  const events = async () => withAuditChain(store).events(LIC);

  it('sets, checks and clears a password; mustChange travels with the record', async () => {
    expect(await creds.hasPassword('ann')).toBe(false);
    await creds.setPassword('ann', PW, { actor: 'admin:eve' });
    expect(await creds.hasPassword('ann')).toBe(true);
    expect(await creds.checkPassword('ann', PW)).toEqual({ mustChange: false });
    await creds.setPassword('ann', 'temporary-123', { mustChange: true });
    expect((await code(creds.checkPassword('ann', PW))).code).toBe('ERR_USER_AUTH_FAILED');
    expect(await creds.checkPassword('ann', 'temporary-123')).toEqual({ mustChange: true });
    expect(await creds.clearPassword('ann')).toBe(true);
    expect(await creds.clearPassword('ann')).toBe(false);
    expect((await code(creds.checkPassword('ann', 'temporary-123'))).code).toBe('ERR_USER_AUTH_FAILED');
    const rec = await store.read(LIC, (r) => r.get('server.credential', 'ann'));
    expect(rec).toBeUndefined();
    const kinds = (await events()).map((e) => `${e.kind} ${e.actor}`);
    expect(kinds).toEqual(['user.password-set admin:eve', 'user.password-set admin', 'user.auth-failed ann', 'user.password-cleared admin', 'user.auth-failed ann']);
  });

  it('fails the same way for a wrong password and a user without one, at the same scrypt cost', async () => {
    await creds.setPassword('ann', PW);
    scryptSpy.mockClear();
    compareSpy.mockClear();
    const wrong = await code(creds.checkPassword('ann', 'not-the-password'));
    const nobody = await code(creds.checkPassword('nobody', 'not-the-password'));
    expect(wrong.code).toBe('ERR_USER_AUTH_FAILED');
    expect(nobody.code).toBe('ERR_USER_AUTH_FAILED');
    expect(nobody.message).toBe(wrong.message);
    expect(nobody.details).toEqual(wrong.details);
    // Both ran scrypt once with the same parameters and compared in constant time.
    expect(scryptSpy).toHaveBeenCalledTimes(2);
    const [a, b] = scryptSpy.mock.calls.map((c) => ({ keylen: c[2], opts: c[3] }));
    expect(a).toEqual(b);
    expect(compareSpy).toHaveBeenCalledTimes(2);
    const audit = (await events()).filter((e) => e.kind === 'user.auth-failed').map((e) => e.details);
    expect(audit).toEqual([
      { user: 'ann', method: 'password', reason: 'wrong-password', failures: 1 },
      { user: 'nobody', method: 'password', reason: 'no-password' },
    ]);
  });

  it('the users without a password are checked against a dummy hash at the default cost when no test cost is set', async () => {
    const strong = new LicenseUserCredentials(store, LIC, { now: clock });
    scryptSpy.mockClear();
    expect((await code(strong.checkPassword('nobody', 'whatever-password'))).code).toBe('ERR_USER_AUTH_FAILED');
    expect(scryptSpy).toHaveBeenCalledTimes(1);
    expect(scryptSpy.mock.calls[0]![3]).toMatchObject({ N: 32768, r: 8, p: 1 });
  });

  it('locks after 5 wrong passwords in a row for 15 minutes, then lets the right one in and starts counting afresh', async () => {
    await creds.setPassword('ann', PW);
    for (let i = 0; i < 5; i++) expect((await code(creds.checkPassword('ann', `wrong-guess-${i}`))).code).toBe('ERR_USER_AUTH_FAILED');
    scryptSpy.mockClear();
    const locked = await code(creds.checkPassword('ann', PW));
    expect(locked.code).toBe('ERR_RATE_LIMITED');
    expect(locked.details).toEqual({ retryAfterSeconds: 900 });
    expect(scryptSpy).not.toHaveBeenCalled(); // no CPU spent while locked
    now += 15 * 60_000 - 1500;
    expect((await code(creds.checkPassword('ann', PW))).details).toEqual({ retryAfterSeconds: 2 });
    now += 1500;
    expect(await creds.checkPassword('ann', PW)).toEqual({ mustChange: false });
    expect(await store.read(LIC, (r) => r.get('server.credential', 'ann'))).toMatchObject({ failures: 0, lockedUntil: null });
    // A success resets the count: 4 wrong, right, 4 wrong, right never locks.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 4; i++) expect((await code(creds.checkPassword('ann', `wrong-again-${i}`))).code).toBe('ERR_USER_AUTH_FAILED');
      expect(await creds.checkPassword('ann', PW)).toEqual({ mustChange: false });
    }
    const ev = await events();
    const lock = ev.find((e) => e.kind === 'user.locked');
    expect(lock?.details).toEqual({ user: 'ann', failures: 5, lockedUntil: new Date(T0 + 900_000).toISOString(), lockMs: 900_000 });
    // 5 wrong, then 8 wrong; the checks refused while locked neither ran scrypt nor wrote anything.
    expect(ev.filter((e) => e.kind === 'user.auth-failed').length).toBe(13);
  });

  it('an expired lock gives a fresh count, an admin can unlock early, and a new password clears the lock', async () => {
    const c = new LicenseUserCredentials(store, LIC, { now: clock, scrypt: LOW, maxFailures: 2, lockMs: 60_000 });
    await c.setPassword('bob', PW);
    for (let i = 0; i < 2; i++) await code(c.checkPassword('bob', 'wrong-guess'));
    expect((await code(c.checkPassword('bob', PW))).code).toBe('ERR_RATE_LIMITED');
    now += 60_000;
    expect((await code(c.checkPassword('bob', 'wrong-guess'))).code).toBe('ERR_USER_AUTH_FAILED'); // 1 of a fresh 2
    expect((await code(c.checkPassword('bob', 'wrong-guess'))).code).toBe('ERR_USER_AUTH_FAILED');
    expect((await code(c.checkPassword('bob', PW))).code).toBe('ERR_RATE_LIMITED');
    expect(await c.unlock('bob', { actor: 'admin:eve' })).toBe(true);
    expect(await c.unlock('bob')).toBe(false);
    expect(await c.checkPassword('bob', PW)).toEqual({ mustChange: false });
    for (let i = 0; i < 2; i++) await code(c.checkPassword('bob', 'wrong-guess'));
    await c.setPassword('bob', 'brand-new-password', { mustChange: true });
    expect(await c.checkPassword('bob', 'brand-new-password')).toEqual({ mustChange: true });
    expect((await events()).filter((e) => e.kind === 'user.unlocked').map((e) => e.actor)).toEqual(['admin:eve']);
  });

  it('parallel guesses count at most maxFailures before the lock hides every outcome', async () => {
    await creds.setPassword('ann', PW);
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => creds.checkPassword('ann', `parallel-guess-${i}`)));
    const codes = results.map((r) => (r.status === 'rejected' ? (r.reason as LicenseError).code : 'ok'));
    expect(codes.filter((c) => c === 'ERR_USER_AUTH_FAILED').length).toBeLessThanOrEqual(5);
    expect(codes.every((c) => c === 'ERR_USER_AUTH_FAILED' || c === 'ERR_RATE_LIMITED')).toBe(true);
    expect(await store.read(LIC, (r) => r.get('server.credential', 'ann'))).toMatchObject({ failures: 5 });
    expect((await code(creds.checkPassword('ann', PW))).code).toBe('ERR_RATE_LIMITED');
  });

  it('audit events never carry the password or its hash', async () => {
    await creds.setPassword('ann', PW, { mustChange: true });
    const hash = (await store.read(LIC, (r) => r.get('server.credential', 'ann')))!.hash as string;
    for (let i = 0; i < 6; i++) await code(creds.checkPassword('ann', `${PW}-${i}`));
    await code(creds.checkPassword('nobody', PW));
    const text = JSON.stringify(await store.events(LIC)); // raw, with chain links
    const [, , , , salt, key] = hash.split('$');
    for (const secret of [PW, hash, salt!, key!]) expect(text).not.toContain(secret);
    expect((await events()).map((e) => e.kind)).toEqual(['user.password-set', ...Array(5).fill('user.auth-failed'), 'user.locked', 'user.auth-failed']);
    if (name === 'FileStore') {
      // On disk: the log holds the events and the credential record (the hash, as it must), never the password.
      const dir = (store as FileStore).dir;
      const files = (readdirSync(dir, { recursive: true }) as string[]).map((f) => join(dir, f)).filter((f) => statSync(f).isFile());
      const disk = files.map((f) => readFileSync(f, 'latin1')).join('');
      expect(disk).toContain('user.locked');
      expect(disk).not.toContain(PW);
    }
  });

  it('a tampered record is ERR_STORE_CORRUPT, and a tampered cost is refused before scrypt runs', async () => {
    await creds.setPassword('ann', PW);
    const rec = (await store.read(LIC, (r) => r.get('server.credential', 'ann')))!;
    const parts = (rec.hash as string).split('$');
    const tamper = async (value: Record<string, unknown>) => withAuditChain(store).transaction(LIC, async (tx) => tx.put('server.credential', 'ann', { ...rec, ...value } as never));
    await tamper({ hash: ['scrypt', String(2 ** 24), ...parts.slice(2)].join('$') });
    scryptSpy.mockClear();
    expect((await code(creds.checkPassword('ann', PW))).code).toBe('ERR_STORE_CORRUPT');
    expect(scryptSpy).not.toHaveBeenCalled();
    await tamper({ hash: 'hunter2-in-clear' });
    expect((await code(creds.checkPassword('ann', PW))).code).toBe('ERR_STORE_CORRUPT');
    for (const bad of [{ failures: 'many' }, { failures: -1 }, { lockedUntil: 'soon' }, { mustChange: 'yes' }, { hash: 7 }]) {
      await tamper(bad);
      expect((await code(creds.checkPassword('ann', PW))).code, JSON.stringify(bad)).toBe('ERR_STORE_CORRUPT');
    }
  });

  it('refuses bad arguments with ERR_USAGE', async () => {
    for (const opts of [{ maxFailures: 0 }, { maxFailures: 1.5 }, { lockMs: 10 }, { lockMs: 1e12 }]) {
      expect(() => new LicenseUserCredentials(store, LIC, opts)).toThrow(LicenseError);
    }
    expect((await code(creds.setPassword('ann', 'short'))).code).toBe('ERR_USAGE');
    expect((await code(creds.setPassword('', PW))).code).toBe('ERR_USAGE');
    // Surrounding space is trimmed (user ids are normalised); a control character inside is refused.
    expect((await code(creds.checkPassword('an\nn', PW))).code).toBe('ERR_USAGE');
    expect((await code(creds.checkPassword('ann', 42 as unknown as string))).code).toBe('ERR_USAGE');
  });

  if (reopen !== undefined) {
    it('the failure count and the lock survive reopening the store', async () => {
      await creds.setPassword('ann', PW);
      for (let i = 0; i < 3; i++) await code(creds.checkPassword('ann', 'wrong-guess'));
      await store.close();
      store = reopen(store);
      const again = new LicenseUserCredentials(store, LIC, { now: clock, scrypt: LOW });
      expect(await store.read(LIC, (r) => r.get('server.credential', 'ann'))).toMatchObject({ failures: 3, lockedUntil: null });
      for (let i = 0; i < 2; i++) expect((await code(again.checkPassword('ann', 'wrong-guess'))).code).toBe('ERR_USER_AUTH_FAILED');
      await store.close();
      store = reopen(store);
      const third = new LicenseUserCredentials(store, LIC, { now: clock, scrypt: LOW });
      expect((await code(third.checkPassword('ann', PW))).code).toBe('ERR_RATE_LIMITED');
    });
  }
});

// ---------------------------------------------------------------------------------------------
// ID tokens

const ISS = 'https://login.example.com/';
const AUD = 'licit-portal';

describe('ID tokens verified against a JWKS over HTTP', () => {
  let server: Server;
  let base: string;
  let jwksHits = 0;
  let key: CryptoKey;
  let otherKey: CryptoKey;
  let publicJwk: JWK;
  let otherJwk: JWK;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    key = pair.privateKey;
    const other = await generateKeyPair('ES256');
    otherKey = other.privateKey;
    otherJwk = await exportJWK(other.publicKey);
    publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    server = createServer((req, res) => {
      if (req.url === '/jwks.json') {
        jwksHits++;
        res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: [publicJwk] }));
      } else if (req.url === '/broken') {
        res.writeHead(500).end('down');
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const options = (extra: Partial<IdTokenVerifierOptions> = {}): IdTokenVerifierOptions => ({ issuer: ISS, audience: AUD, jwksUrl: `${base}/jwks.json`, ...extra });
  const sign = (claims: JWTPayload, opts: { key?: CryptoKey; kid?: string; iss?: string; aud?: string; exp?: number; iat?: number } = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sub: 'ann', ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: opts.kid ?? 'k1' })
      .setIssuer(opts.iss ?? ISS)
      .setAudience(opts.aud ?? AUD)
      .setIssuedAt(opts.iat ?? now)
      .setExpirationTime(opts.exp ?? now + 300)
      .sign(opts.key ?? key);
  };
  const reason = async (p: Promise<unknown>) => {
    const e = await code(p);
    expect(e.code).toBe('ERR_USER_AUTH_FAILED');
    expect(e.message).toBe('the ID token did not verify; sign in again');
    return e.details.reason;
  };

  it('a valid token names the user by sub (default) or by a verified email; keys are fetched once and cached', async () => {
    const verify = createIdTokenVerifier(options());
    const hitsBefore = jwksHits;
    const got = await verify(await sign({ email: 'ann@example.com' }));
    expect(got.userId).toBe('ann');
    expect(got.claims).toMatchObject({ iss: ISS, aud: AUD, sub: 'ann', email: 'ann@example.com' });
    await verify(await sign({}));
    expect(jwksHits - hitsBefore).toBe(1);
    const byEmail = createIdTokenVerifier(options({ userClaim: 'email', audience: ['other-app', AUD] }));
    expect((await byEmail(await sign({ email: 'ann@example.com', email_verified: true }))).userId).toBe('ann@example.com');
    expect((await byEmail(await sign({ email: 'ann@example.com' }))).userId).toBe('ann@example.com');
  });

  it('wrong issuer, wrong audience, expired, another key, alg none, HMAC, garbage and a missing user claim all fail', async () => {
    const verify = createIdTokenVerifier(options());
    const e1 = await code(verify(await sign({}, { iss: 'https://evil.example.com/' })));
    expect(e1.details).toMatchObject({ reason: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'iss', method: 'id-token' });
    expect(await reason(verify(await sign({}, { aud: 'another-client' })))).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED');
    expect((await code(verify(await sign({}, { aud: 'another-client' })))).details.claim).toBe('aud');
    const past = Math.floor(Date.now() / 1000) - 3600;
    expect(await reason(verify(await sign({}, { iat: past - 60, exp: past })))).toBe('ERR_JWT_EXPIRED');
    expect(await reason(verify(await sign({}, { key: otherKey })))).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    expect(await reason(verify(await sign({}, { key: otherKey, kid: 'k-unknown' })))).toBe('ERR_JWKS_NO_MATCHING_KEY');
    const unsecured = new UnsecuredJWT({ sub: 'ann' }).setIssuer(ISS).setAudience(AUD).setIssuedAt().setExpirationTime('5m').encode();
    expect(await reason(verify(unsecured))).toBe('ERR_JOSE_ALG_NOT_ALLOWED');
    const hmac = await new SignJWT({ sub: 'ann' }).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).setIssuer(ISS).setAudience(AUD).setIssuedAt().setExpirationTime('5m').sign(new Uint8Array(32));
    expect(await reason(verify(hmac))).toBe('ERR_JOSE_ALG_NOT_ALLOWED');
    expect(await reason(verify('not.a.token'))).toMatch(/^ERR_JW[ST]_INVALID$/);
    expect(await reason(verify(''))).toMatch(/^ERR_JW[ST]_INVALID$/);
    expect(await reason(verify(`${'a'.repeat(20_000)}.b.c`))).toBe('token-too-large');
    expect(await reason(verify(await sign({ sub: undefined })))).toBe('user-claim-missing');
    expect(await reason(verify(await sign({ sub: '' })))).toBe('user-claim-missing');
    expect(await reason(verify(await sign({ sub: 'ann\u202e' })))).toBe('user-claim-invalid');
    const byEmail = createIdTokenVerifier(options({ userClaim: 'email' }));
    expect(await reason(byEmail(await sign({})))).toBe('user-claim-missing');
    expect(await reason(byEmail(await sign({ email: 'ann@example.com', email_verified: false })))).toBe('email-unverified');
    expect(await reason(byEmail(await sign({ email: 'ann@example.com', email_verified: 'false' })))).toBe('email-unverified');
    // Without iat (OpenID Connect requires it).
    const noIat = await new SignJWT({ sub: 'ann' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(ISS).setAudience(AUD).setExpirationTime('5m').sign(key);
    expect(await reason(verify(noIat))).toBe('ERR_JWT_CLAIM_VALIDATION_FAILED');
  });

  it('takes the clock it is given, with a default tolerance of 30 seconds', async () => {
    const t = Math.floor(Date.now() / 1000);
    const token = await sign({}, { iat: t - 7200, exp: t - 3600 });
    expect((await createIdTokenVerifier(options({ now: () => (t - 3700) * 1000 }))(token)).userId).toBe('ann');
    expect((await createIdTokenVerifier(options({ now: () => (t - 3600 + 20) * 1000 }))(token)).userId).toBe('ann');
    expect(await reason(createIdTokenVerifier(options({ now: () => (t - 3600 + 40) * 1000 }))(token))).toBe('ERR_JWT_EXPIRED');
    expect(await reason(createIdTokenVerifier(options({ now: () => (t - 3600 + 20) * 1000, clockToleranceSec: 0 }))(token))).toBe('ERR_JWT_EXPIRED');
  });

  it('an unreachable or failing key server is ERR_USER_AUTH_FAILED with reason jwks-unreachable, marked retryable', async () => {
    const token = await sign({});
    const broken = await code(createIdTokenVerifier(options({ jwksUrl: `${base}/broken` }))(token));
    expect(broken.code).toBe('ERR_USER_AUTH_FAILED');
    expect(broken.details).toEqual({ method: 'id-token', reason: 'jwks-unreachable', retryable: true });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await code(createIdTokenVerifier(options({ jwksUrl: `http://127.0.0.1:${port}/jwks.json` }))(token));
    expect(refused.details.reason).toBe('jwks-unreachable');
    expect((await code(createIdTokenVerifier(options({ jwksUrl: `${base}/missing` }))(token))).details.reason).toBe('jwks-unreachable');
  });

  it('takes an inline key set instead of a URL', async () => {
    const verify = createIdTokenVerifier({ issuer: ISS, audience: AUD, jwks: { keys: [publicJwk] } });
    expect((await verify(await sign({ sub: 'bob' }))).userId).toBe('bob');
    expect(await reason(verify(await sign({}, { key: otherKey })))).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    // Keys without a kid: every key that fits is tried (jose reports several matches; we iterate).
    const { kid: _kid, ...noKid } = publicJwk;
    const both = createIdTokenVerifier({ issuer: ISS, audience: AUD, jwks: { keys: [otherJwk, noKid] } });
    const unnamed = async (k: CryptoKey) => new SignJWT({ sub: 'dan' }).setProtectedHeader({ alg: 'ES256' }).setIssuer(ISS).setAudience(AUD).setIssuedAt().setExpirationTime('5m').sign(k);
    expect((await both(await unnamed(key))).userId).toBe('dan');
    expect((await both(await unnamed(otherKey))).userId).toBe('dan');
    const stranger = (await generateKeyPair('ES256')).privateKey;
    expect(await reason(both(await unnamed(stranger)))).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });

  it('refuses unsafe or incomplete options with ERR_USAGE', () => {
    const bad: Partial<IdTokenVerifierOptions>[] = [
      { jwksUrl: 'http://login.example.com/jwks.json' },
      { jwksUrl: 'ftp://127.0.0.1/jwks.json' },
      { jwksUrl: 'not a url' },
      { jwks: { keys: [publicJwk] } }, // both
      { algorithms: ['none'] },
      { algorithms: ['HS256'] },
      { algorithms: [] },
      { issuer: '' },
      { audience: [] },
      { clockToleranceSec: -1 },
      { clockToleranceSec: 3600 },
      { userClaim: '' },
    ];
    for (const extra of bad) {
      let err: unknown;
      try {
        createIdTokenVerifier(options(extra));
      } catch (e) {
        err = e;
      }
      expect((err as LicenseError | undefined)?.code, JSON.stringify(extra)).toBe('ERR_USAGE');
    }
    expect(() => createIdTokenVerifier({ issuer: ISS, audience: AUD })).toThrow(/exactly one of jwksUrl and jwks/);
    expect(() => createIdTokenVerifier({ issuer: ISS, audience: AUD, jwks: { nope: 1 } as never })).toThrow(LicenseError);
    expect(() => createIdTokenVerifier(options({ jwksUrl: 'https://login.example.com/jwks.json' }))).not.toThrow();
  });

  describe('authenticateUser', () => {
    let store: MemoryStore;
    const ctx = (extra: Partial<AuthenticateUserContext>): AuthenticateUserContext => ({ store, licenseId: LIC, userId: undefined, credentials: undefined, mode: 'password-or-id-token', idTokenVerifier: createIdTokenVerifier(options()), now: () => T0, ...extra });
    beforeEach(async () => {
      store = new MemoryStore();
      await new LicenseUserCredentials(store, LIC, { scrypt: LOW }).setPassword('ann', PW, { mustChange: true });
    });

    it('mode none returns the request user id unchecked, credentials or not', async () => {
      expect(await authenticateUser(ctx({ mode: 'none', userId: 'anyone' }))).toEqual({ method: 'none', userId: 'anyone', mustChange: false });
      expect(await authenticateUser(ctx({ mode: 'none', idTokenVerifier: undefined }))).toEqual({ method: 'none', userId: undefined, mustChange: false });
      expect(await authenticateUser(ctx({ mode: 'none', userId: 'ann', credentials: { password: 'wrong-password' } }))).toMatchObject({ method: 'none' });
    });

    it('without credentials: ERR_USER_AUTH_REQUIRED naming what the license needs', async () => {
      const pw = await code(authenticateUser(ctx({ mode: 'password', userId: 'ann', idTokenVerifier: undefined })));
      expect(pw.code).toBe('ERR_USER_AUTH_REQUIRED');
      expect(pw.message).toMatch(/user id and password/);
      expect(pw.details).toEqual({ accepts: ['password'] });
      const tok = await code(authenticateUser(ctx({ mode: 'id-token', userId: 'ann', credentials: { password: PW } })));
      expect(tok.code).toBe('ERR_USER_AUTH_REQUIRED');
      expect(tok.message).toMatch(/ID token/);
      expect(tok.details).toEqual({ accepts: ['id-token'] });
      const either = await code(authenticateUser(ctx({ credentials: { password: '', idToken: '' } })));
      expect(either.details).toEqual({ accepts: ['password', 'id-token'] });
      // An ID token is no password: under mode "password" it is not looked at.
      expect((await code(authenticateUser(ctx({ mode: 'password', userId: 'ann', credentials: { idToken: await sign({}) } })))).code).toBe('ERR_USER_AUTH_REQUIRED');
      // A password needs the user id it belongs to.
      expect((await code(authenticateUser(ctx({ mode: 'password', credentials: { password: PW } })))).code).toBe('ERR_USER_AUTH_REQUIRED');
    });

    it('a password proves the request user, and the result carries mustChange', async () => {
      expect(await authenticateUser(ctx({ mode: 'password', userId: 'ann', credentials: { password: PW }, idTokenVerifier: undefined }))).toEqual({ method: 'password', userId: 'ann', mustChange: true });
      expect((await code(authenticateUser(ctx({ mode: 'password', userId: 'ann', credentials: { password: 'wrong-password' } })))).code).toBe('ERR_USER_AUTH_FAILED');
      expect((await code(authenticateUser(ctx({ mode: 'password', userId: 'bob', credentials: { password: PW } })))).code).toBe('ERR_USER_AUTH_FAILED');
      expect((await code(authenticateUser(ctx({ mode: 'password', userId: 'ann', credentials: { password: 7 as unknown as string } })))).code).toBe('ERR_USAGE');
    });

    it('password lockout settings pass through, and the actor is recorded', async () => {
      const c = ctx({ mode: 'password', userId: 'ann', credentials: { password: 'wrong-password' }, lockout: { maxFailures: 2, lockMs: 60_000 }, actor: 'installation:abc' });
      await code(authenticateUser(c));
      await code(authenticateUser(c));
      const e = await code(authenticateUser({ ...c, credentials: { password: PW } }));
      expect(e.code).toBe('ERR_RATE_LIMITED');
      expect(e.details).toEqual({ retryAfterSeconds: 60 });
      const ev = await withAuditChain(store).events(LIC);
      expect(ev.filter((x) => x.kind !== 'user.password-set').map((x) => `${x.kind} ${x.actor}`)).toEqual(['user.auth-failed installation:abc', 'user.auth-failed installation:abc', 'user.locked installation:abc']);
    });

    it('an ID token names the user; a request user id must match it; failures are audited', async () => {
      expect(await authenticateUser(ctx({ credentials: { idToken: await sign({ sub: 'carol' }) } }))).toMatchObject({ method: 'id-token', userId: 'carol', mustChange: false, claims: { sub: 'carol' } });
      expect(await authenticateUser(ctx({ mode: 'id-token', userId: 'carol', credentials: { idToken: await sign({ sub: 'carol' }) } }))).toMatchObject({ userId: 'carol' });
      const mismatch = await code(authenticateUser(ctx({ userId: 'ann', credentials: { idToken: await sign({ sub: 'carol' }) } })));
      expect(mismatch.code).toBe('ERR_USER_AUTH_FAILED');
      expect(mismatch.details.reason).toBe('user-mismatch');
      const expired = await code(authenticateUser(ctx({ userId: 'ann', credentials: { idToken: await sign({ sub: 'ann' }, { iat: 1, exp: 2 }) } })));
      expect(expired.details.reason).toBe('ERR_JWT_EXPIRED');
      // Either credential works under password-or-id-token, the ID token first when both are sent.
      expect(await authenticateUser(ctx({ userId: 'ann', credentials: { password: PW } }))).toMatchObject({ method: 'password', userId: 'ann' });
      expect(await authenticateUser(ctx({ userId: 'ann', credentials: { password: 'wrong-password', idToken: await sign({ sub: 'ann' }) } }))).toMatchObject({ method: 'id-token' });
      const failed = (await withAuditChain(store).events(LIC)).filter((e) => e.kind === 'user.auth-failed').map((e) => e.details);
      expect(failed).toEqual([
        { user: 'ann', method: 'id-token', reason: 'user-mismatch' },
        { user: 'ann', method: 'id-token', reason: 'ERR_JWT_EXPIRED' },
      ]);
    });

    it('refuses an unknown mode and an ID-token mode without a verifier with ERR_USAGE', async () => {
      expect((await code(authenticateUser(ctx({ mode: 'sso' as never })))).code).toBe('ERR_USAGE');
      expect((await code(authenticateUser(ctx({ mode: 'id-token', idTokenVerifier: undefined, credentials: { idToken: 'x' } })))).code).toBe('ERR_USAGE');
      expect((await code(authenticateUser(ctx({ mode: 'password-or-id-token', idTokenVerifier: undefined })))).code).toBe('ERR_USAGE');
    });
  });
});
