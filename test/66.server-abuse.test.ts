/**
 * The license server exposed to abuse: token buckets, rate limits per client and per license on the
 * exchange endpoints and on failed admin tokens (429 with Retry-After), errors that carry no path or
 * store internals, HEAD /v1/health, the access log, timeouts and the connection cap against slow
 * clients, and 1,500 slowloris connections against a real server that keeps answering.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { LicenseError } from '../src/core/errors.js';
import { createRequest, newNonce, type InstallationSigner, type RequestInput } from '../src/core/exchange/index.js';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { hashComponent } from '../src/node/fingerprint/index.js';
import { FileStore } from '../src/node/store/file-store.js';
import { formatAccessLine, type AccessLogEntry } from '../src/server/access-log.js';
import { clientAddress, clientKey } from '../src/server/client-address.js';
import { DEFAULT_RATE_LIMITS } from '../src/server/limits.js';
import { publicError, withoutPaths } from '../src/server/public-error.js';
import { TokenBuckets } from '../src/server/rate-limit.js';
import { createLicenseServer, type LicenseServerOptions } from '../src/server/index.js';
import { licit } from './helpers/cli.js';
import { startServer } from './helpers/serve.js';
import { makeVendor } from './helpers/vendor.js';
import { newInstallation as installation } from './helpers/installation.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVER = fileURLToPath(new URL('./fixtures/abuse-server.ts', import.meta.url));
const SLOW_CLIENTS = fileURLToPath(new URL('./fixtures/slow-clients.mjs', import.meta.url));
const vendor = makeVendor();
const TOKEN = 'abuse-admin-token';
const T0 = Date.parse('2026-03-01T00:00:00Z');
const work = mkdtempSync(join(tmpdir(), 'licit-abuse-'));
const procs: ChildProcess[] = [];

afterEach(() => {
  vi.restoreAllMocks();
});
afterAll(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/** A server over a MemoryStore with a clock the test moves, and request helpers that name the client. */
function setup(opts: Partial<LicenseServerOptions> = {}) {
  let now = T0;
  const server = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new MemoryStore(), adminToken: TOKEN, now: () => now, ...opts });
  const call = async (method: string, path: string, o: { body?: unknown; headers?: Record<string, string>; client?: string } = {}) => {
    const init: RequestInit = { method, headers: { ...(o.body === undefined ? {} : { 'content-type': 'application/json' }), ...o.headers } };
    if (o.body !== undefined) init.body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
    const res = await server.handle(new Request(`http://x${path}`, init), o.client === undefined ? undefined : { clientAddress: o.client });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, body: (text === '' ? {} : JSON.parse(text)) as Record<string, any> };
  };
  const code = async (op: RequestInput['operation'], inst: InstallationSigner, key: string, licenseId: string) =>
    createRequest({ operation: op, licenseId, licenseKey: key, fingerprint: `fp1:mi=${inst.kid.slice(0, 16)}`, nonce: newNonce(), clientTime: new Date(now) }, inst);
  return { server, call, code, advance: (ms: number) => (now += ms) };
}

describe('token buckets', () => {
  it('allow a burst, then one request per refill interval, and say when to come back', () => {
    let now = 0;
    const b = new TokenBuckets({ requests: 6, perSeconds: 60 }, { now: () => now });
    for (let i = 0; i < 6; i++) expect(b.take('a')).toEqual({ ok: true });
    expect(b.take('a')).toEqual({ ok: false, retryAfterSeconds: 10 });
    expect(b.take('b')).toEqual({ ok: true }); // keys are independent
    now += 4_000;
    expect(b.take('a')).toEqual({ ok: false, retryAfterSeconds: 6 });
    now += 6_000;
    expect(b.peek('a')).toEqual({ ok: true });
    expect(b.take('a')).toEqual({ ok: true });
    expect(b.take('a').ok).toBe(false);
    // A clock that steps back refills nothing and breaks nothing.
    now -= 60_000;
    expect(b.take('a').ok).toBe(false);
  });

  it('a burst smaller than the rate, and refused requests cost nothing', () => {
    let now = 0;
    const b = new TokenBuckets({ requests: 60, perSeconds: 60, burst: 2 }, { now: () => now });
    expect([b.take('k').ok, b.take('k').ok, b.take('k').ok]).toEqual([true, true, false]);
    for (let i = 0; i < 100; i++) b.take('k');
    now += 1_000;
    expect(b.take('k').ok).toBe(true);
  });

  it('memory stays bounded: idle buckets are dropped once full again, and past maxKeys the longest idle is forgotten', () => {
    let now = 0;
    const b = new TokenBuckets({ requests: 10, perSeconds: 10 }, { now: () => now, maxKeys: 100 });
    for (let i = 0; i < 1_000; i++) b.take(`client-${i}`);
    expect(b.size).toBe(100);
    // The newest 100 are kept: the last key is still charged.
    for (let i = 0; i < 9; i++) b.take('client-999');
    expect(b.take('client-999').ok).toBe(false);
    now += 10_000; // every bucket refilled: all dropped on the next use
    b.take('someone');
    expect(b.size).toBe(1);
  });

  it('refuses a limit that never refills', () => {
    expect(() => new TokenBuckets({ requests: 0, perSeconds: 60 })).toThrow(LicenseError);
    expect(() => new TokenBuckets({ requests: 1, perSeconds: Number.NaN })).toThrow(/perSeconds/);
    expect(() => new TokenBuckets({ requests: 1, perSeconds: 1, burst: 0.5 })).toThrow(/burst/);
    expect(() => setup({ rateLimit: { perClient: { requests: -1, perSeconds: 1 } } })).toThrow(/rateLimit\.perClient/);
    expect(() => setup({ trustProxy: -1 })).toThrow(/trustProxy/);
  });
});

describe('client address', () => {
  it('X-Forwarded-For counts only behind a trusted proxy, and only the entries the proxies wrote', () => {
    expect(clientAddress('10.0.0.1', '198.51.100.7', false)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', '6.6.6.6, 198.51.100.7', true)).toBe('198.51.100.7');
    expect(clientAddress('10.0.0.1', '6.6.6.6, 198.51.100.7, 10.0.0.2', 2)).toBe('198.51.100.7');
    expect(clientAddress('10.0.0.1', '198.51.100.7:4711', 1)).toBe('198.51.100.7');
    expect(clientAddress('10.0.0.1', '[2001:db8::5]:443', 1)).toBe('2001:db8::5');
    expect(clientAddress('10.0.0.1', 'not-an-address', 1)).toBe('10.0.0.1');
    expect(clientAddress(undefined, null, true)).toBeUndefined();
  });

  it('an IPv6 client is one /64; an IPv4-mapped address is its IPv4 address', () => {
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(clientKey('192.0.2.1')).toBe('192.0.2.1');
  });
});

describe('rate limits on the exchange endpoints', () => {
  it('per client, by default 60 a minute: the 61st is 429 ERR_RATE_LIMITED with Retry-After; other clients and the health check are not affected', async () => {
    expect(DEFAULT_RATE_LIMITS.perClient).toEqual({ requests: 60, perSeconds: 60 });
    const s = setup();
    const paths = ['/v1/activate', '/v1/renew', '/v1/deactivate', '/v1/usage', '/v1/topup'];
    for (let i = 0; i < 60; i++) {
      const r = await s.call('POST', paths[i % 5]!, { body: { request: 'not a request code' }, client: '203.0.113.9' });
      expect(r.status).toBe(400);
    }
    const limited = await s.call('POST', '/v1/renew', { body: { request: 'not a request code' }, client: '203.0.113.9' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.body).toEqual({ ok: false, error: { code: 'ERR_RATE_LIMITED', message: expect.stringContaining('too many requests from this client'), details: { retryAfterSeconds: 1 } } });
    expect((await s.call('POST', '/v1/renew', { body: { request: 'x' }, client: '203.0.113.10' })).status).toBe(400);
    expect((await s.call('GET', '/v1/health', { client: '203.0.113.9' })).status).toBe(200);
    s.advance(1_000);
    expect((await s.call('POST', '/v1/renew', { body: { request: 'x' }, client: '203.0.113.9' })).status).toBe(400);
    expect((await s.call('POST', '/v1/renew', { body: { request: 'x' }, client: '203.0.113.9' })).status).toBe(429);
  });

  it('behind a trusted proxy the client is the forwarded address; otherwise X-Forwarded-For is ignored', async () => {
    const limit = { perClient: { requests: 2, perSeconds: 60 }, perLicense: false as const };
    const direct = setup({ rateLimit: limit });
    const spoof = (i: number) => direct.call('POST', '/v1/renew', { body: { request: 'x' }, client: '10.0.0.1', headers: { 'x-forwarded-for': `198.51.100.${i}` } });
    expect([(await spoof(1)).status, (await spoof(2)).status, (await spoof(3)).status]).toEqual([400, 400, 429]);

    const proxied = setup({ rateLimit: limit, trustProxy: true });
    const via = (ip: string) => proxied.call('POST', '/v1/renew', { body: { request: 'x' }, client: '10.0.0.1', headers: { 'x-forwarded-for': ip } });
    expect([(await via('198.51.100.1')).status, (await via('198.51.100.1')).status, (await via('198.51.100.1')).status]).toEqual([400, 400, 429]);
    expect((await via('198.51.100.2')).status).toBe(400);
    // Mounted without a socket, the forwarded address still names the client.
    const r = await proxied.server.handle(new Request('http://x/v1/renew', { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.1' }, body: '{}' }));
    expect(r.status).toBe(429);
  });

  it('per license, by default 120 a minute whoever asks; other licenses go on; exchanges below the limit are answered as before', async () => {
    expect(DEFAULT_RATE_LIMITS.perLicense).toEqual({ requests: 120, perSeconds: 60 });
    const s = setup({ rateLimit: { perClient: false } });
    const key = await vendor.issue({ licenseId: 'LIC-BUSY', maxActivations: 2 });
    const a = installation();
    const first = await s.call('POST', '/v1/activate', { body: { request: await s.code('activate', a, key, 'LIC-BUSY') }, client: '198.51.100.1' });
    expect(first.body).toMatchObject({ ok: true, licenseId: 'LIC-BUSY', activated: true });
    const others = installation();
    for (let i = 1; i < 120; i++) {
      // Deactivating an installation that never activated: refused (404), and counted.
      const r = await s.call('POST', '/v1/deactivate', { body: { request: await s.code('deactivate', others, key, 'LIC-BUSY') }, client: `198.51.100.${i % 200}` });
      expect(r.body.error.code).toBe('ERR_ACTIVATION_NOT_FOUND');
    }
    const limited = await s.call('POST', '/v1/renew', { body: { request: await s.code('renew', a, key, 'LIC-BUSY') }, client: '192.0.2.50' });
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatchObject({ code: 'ERR_RATE_LIMITED', message: expect.stringContaining('this license'), details: { retryAfterSeconds: 1 } });
    expect(limited.headers.get('retry-after')).toBe('1');
    // A malformed request names no license: it is not counted against one (the route refuses it).
    expect((await s.call('POST', '/v1/renew', { body: { request: 'LICITR1-garbage' }, client: '192.0.2.50' })).status).toBe(400);

    const other = await vendor.issue({ licenseId: 'LIC-QUIET' });
    expect((await s.call('POST', '/v1/activate', { body: { request: await s.code('activate', a, other, 'LIC-QUIET') }, client: '192.0.2.50' })).status).toBe(200);
    s.advance(1_000);
    const renewed = await s.call('POST', '/v1/renew', { body: { request: await s.code('renew', a, key, 'LIC-BUSY') }, client: '192.0.2.50' });
    expect(renewed.body).toMatchObject({ ok: true, licenseId: 'LIC-BUSY', deviceId: a.kid });
  });

  it('limits can be changed or turned off', async () => {
    const s = setup({ rateLimit: { perClient: { requests: 1, perSeconds: 30 }, perLicense: false } });
    expect((await s.call('POST', '/v1/renew', { body: {}, client: '192.0.2.1' })).status).toBe(400);
    const r = await s.call('POST', '/v1/renew', { body: {}, client: '192.0.2.1' });
    expect([r.status, r.headers.get('retry-after'), r.body.error.details]).toEqual([429, '30', { retryAfterSeconds: 30 }]);
    const off = setup({ rateLimit: false });
    for (let i = 0; i < 150; i++) expect((await off.call('POST', '/v1/renew', { body: {}, client: '192.0.2.1' })).status).toBe(400);
  });
});

describe('admin token guessing', () => {
  it('10 wrong tokens from a client, then its admin calls are 429 (right token or not); other clients and the right token elsewhere go on', async () => {
    const s = setup();
    const good = { authorization: `Bearer ${TOKEN}` };
    // Successes and calls without a token are not guesses.
    for (let i = 0; i < 20; i++) expect((await s.call('GET', '/v1/admin/events?licenseId=L', { headers: good, client: '192.0.2.66' })).status).toBe(200);
    for (let i = 0; i < 20; i++) expect((await s.call('GET', '/v1/admin/events?licenseId=L', { client: '192.0.2.66' })).status).toBe(401);
    for (let i = 0; i < 10; i++) {
      const r = await s.call('GET', '/v1/admin/events?licenseId=L', { headers: { authorization: `Bearer guess-${i}` }, client: '192.0.2.66' });
      expect(r.body.error.code).toBe('ERR_UNAUTHORIZED');
    }
    const blocked = await s.call('GET', '/v1/admin/events?licenseId=L', { headers: good, client: '192.0.2.66' });
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toBe('60');
    expect(blocked.body.error).toMatchObject({ code: 'ERR_RATE_LIMITED', message: expect.stringContaining('failed admin token'), details: { retryAfterSeconds: 60 } });
    expect((await s.call('GET', '/v1/admin/events?licenseId=L', { headers: good, client: '192.0.2.67' })).status).toBe(200);
    // The exchange endpoints do not share this budget.
    expect((await s.call('POST', '/v1/renew', { body: {}, client: '192.0.2.66' })).status).toBe(400);
    s.advance(60_000);
    expect((await s.call('GET', '/v1/admin/events?licenseId=L', { headers: good, client: '192.0.2.66' })).status).toBe(200);
  });
});

describe('errors a client sees', () => {
  it('a FileStore that cannot be used: 503 with a fixed message and no path component, the full error in the operator log', async () => {
    const base = mkdtempSync(join(work, 'store-parent-'));
    const blocker = join(base, 'store-blocker-file');
    writeFileSync(blocker, 'not a directory');
    const dir = join(blocker, 'licit-store-dir');
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const s = setup({ store: new FileStore(dir) });
    const key = await vendor.issue({ licenseId: 'LIC-DISK' });
    const responses = [
      await s.call('POST', '/v1/activate', { body: { request: await s.code('activate', installation(), key, 'LIC-DISK') }, client: '192.0.2.1' }),
      await s.call('GET', '/v1/admin/devices?licenseId=LIC-DISK', { headers: { authorization: `Bearer ${TOKEN}` } }),
      await s.call('GET', '/v1/admin/log?licenseId=LIC-DISK', { headers: { authorization: `Bearer ${TOKEN}` } }),
    ];
    for (const r of responses) {
      expect(r.status).toBe(503);
      expect(r.body).toEqual({ ok: false, error: { code: 'ERR_STORE_UNAVAILABLE', message: 'the license server cannot reach its store; try again later' } });
      for (const part of dir.split('/').filter((p) => p !== '')) expect(r.text).not.toContain(part);
      expect(r.text).not.toMatch(/ENOTDIR|\bat .*\.[jt]s:\d+/);
    }
    expect(logged).toHaveBeenCalledTimes(3);
    const line = logged.mock.calls[0]!;
    expect(String(line[0])).toMatch(/^\d{4}-\d\d-\d\dT.*Z licit server: answered ERR_STORE_UNAVAILABLE/);
    expect((line[1] as LicenseError).message).toContain(dir);
  });

  it('store internals and unexpected exceptions: a fixed message, no details, no stack', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const failing = (e: Error) =>
      new (class extends MemoryStore {
        override async read<T>(): Promise<T> {
          throw e;
        }
      })();
    const bug = new TypeError("Cannot read properties of undefined (reading 'x') at /srv/licit/node_modules/licit/dist/server.js:12:3");
    const cases: Array<[Error, number, string]> = [
      [bug, 500, 'ERR_INTERNAL'],
      [new LicenseError('ERR_STORE_CORRUPT', 'cannot parse /var/lib/licit/l-X.state.json line 3', { path: '/var/lib/licit/l-X.state.json' }), 500, 'ERR_STORE_CORRUPT'],
      [new LicenseError('ERR_STORE_POISONED', 'an earlier fsync of /var/lib/licit failed', { dir: '/var/lib/licit' }), 503, 'ERR_STORE_POISONED'],
      [new LicenseError('ERR_IO', "EACCES: permission denied, open '/var/lib/licit/x'", { path: '/var/lib/licit/x' }), 503, 'ERR_IO'],
    ];
    for (const [e, status, code] of cases) {
      const s = setup({ store: failing(e) });
      const r = await s.call('GET', '/v1/admin/usage?licenseId=X', { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(r.status).toBe(status);
      expect(Object.keys(r.body.error)).toEqual(['code', 'message']);
      expect(r.body.error.code).toBe(code);
      expect(r.text).not.toMatch(/\/srv|\/var|node_modules|\.js:\d|permission|fsync|parse/);
    }
  });

  it('any other message and detail loses its absolute paths, and keeps endpoints and links', () => {
    expect(withoutPaths("cannot read '/etc/licit/key.pem' (see /v1/renew, https://licit.dev/docs/errors) or C:\\ProgramData\\licit\\k.json or \\\\nas\\share\\licit")).toBe(
      "cannot read '<path>' (see /v1/renew, https://licit.dev/docs/errors) or <path> or <path>",
    );
    expect(withoutPaths('3/5 activations, read and/or write, application/json')).toBe('3/5 activations, read and/or write, application/json');
    const shown = publicError(new LicenseError('ERR_USAGE', 'bad file /home/vendor/x.key', { path: '/home/vendor/x.key', note: 'in /tmp/y', limit: 3, nested: { file: '/a/b', at: ['/c/d', 1] } }));
    expect(shown).toEqual({ error: { code: 'ERR_USAGE', message: 'bad file <path>', details: { note: 'in <path>', limit: 3, nested: { at: ['<path>', 1] } } }, status: undefined, internal: false });
  });
});

describe('HEAD /v1/health and the access log', () => {
  it('HEAD /v1/health is 200 with no body (it was 405)', async () => {
    const s = setup();
    const r = await s.call('HEAD', '/v1/health');
    expect([r.status, r.text]).toEqual([200, '']);
    expect(Number(r.headers.get('content-length'))).toBeGreaterThan(10);
    expect((await s.call('HEAD', '/v1/renew')).status).toBe(405);
  });

  it('one entry per request with status, code and client; off by default for handle(), or with accessLog: false', async () => {
    const entries: AccessLogEntry[] = [];
    const s = setup({ accessLog: (e) => entries.push(e), rateLimit: { perClient: { requests: 1, perSeconds: 60 } } });
    await s.call('GET', '/v1/health', { client: '192.0.2.7' });
    await s.call('POST', '/v1/renew', { body: {}, client: '192.0.2.7' });
    await s.call('POST', '/v1/renew', { body: {}, client: '192.0.2.7' });
    await s.call('GET', '/nowhere?secret=1', { client: '192.0.2.7' });
    expect(entries.map((e) => [e.method, e.path, e.status, e.code, e.client])).toEqual([
      ['GET', '/v1/health', 200, undefined, '192.0.2.7'],
      ['POST', '/v1/renew', 400, 'ERR_USAGE', '192.0.2.7'],
      ['POST', '/v1/renew', 429, 'ERR_RATE_LIMITED', '192.0.2.7'],
      ['GET', '/nowhere', 404, 'ERR_USAGE', '192.0.2.7'],
    ]);
    expect(entries.every((e) => e.ms >= 0 && e.time instanceof Date)).toBe(true);
    expect(formatAccessLine({ time: new Date(T0), method: 'POST', path: '/v1/renew\n2026 forged line', status: 429, ms: 3.2, code: 'ERR_RATE_LIMITED', client: '203.0.113.9' })).toBe(
      '2026-03-01T00:00:00.000Z POST /v1/renew?2026?forged?line 429 3ms ERR_RATE_LIMITED 203.0.113.9',
    );

    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await setup().call('GET', '/v1/health');
    expect(stderr).not.toHaveBeenCalled();
    const logged = setup({ accessLog: true });
    await logged.call('POST', '/v1/activate', { body: {}, client: '192.0.2.8' });
    expect(String(stderr.mock.calls[0]?.[0])).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z POST \/v1\/activate 400 \d+ms ERR_USAGE 192\.0\.2\.8\n$/);
  });

  it('listen(): on by default on stderr, HEAD answered over HTTP, the socket address is the client', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const bound = await setup({ rateLimit: { perClient: { requests: 1, perSeconds: 60 } } }).server.listen(0);
    try {
      expect((await httpCall(bound.port, 'HEAD', '/v1/health')).status).toBe(200);
      const post = () => fetch(`http://127.0.0.1:${bound.port}/v1/renew`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect((await post()).status).toBe(400);
      const limited = await post();
      expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '60']);
      const lines = stderr.mock.calls.map((c) => String(c[0]));
      expect(lines.some((l) => / HEAD \/v1\/health 200 \d+ms - 127\.0\.0\.1\n$/.test(l))).toBe(true);
      expect(lines.some((l) => / POST \/v1\/renew 429 \d+ms ERR_RATE_LIMITED 127\.0\.0\.1\n$/.test(l))).toBe(true);
    } finally {
      await bound.close();
    }
  });
});

/** One request on a connection of its own (no keep-alive pool); resolves with the status or the failure. */
function httpCall(port: number, method: string, path: string, timeoutMs = 3_000): Promise<{ status: number | string }> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('timeout', () => {
      req.destroy();
      resolve({ status: 'timeout' });
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: e.code ?? e.message }));
    req.end();
  });
}

/** A raw connection that resolves `closed` with the ms it stayed open and what the server sent. */
function rawSocket(port: number): { socket: Socket; isClosed: () => boolean; closed: Promise<{ ms: number; received: string }> } {
  const t0 = Date.now();
  const socket = connect({ host: '127.0.0.1', port });
  let received = '';
  let done = false;
  socket.on('data', (d) => (received += d.toString()));
  socket.on('error', () => undefined);
  const closed = new Promise<{ ms: number; received: string }>((resolve) =>
    socket.on('close', () => {
      done = true;
      resolve({ ms: Date.now() - t0, received });
    }),
  );
  return { socket, isClosed: () => done, closed };
}

describe('slow clients', () => {
  it('a silent connection and one that sends its header a byte at a time are closed after the timeouts', async () => {
    const bound = await setup({ accessLog: false, timeouts: { headers: 1_000, request: 2_000, idle: 1_500 } }).server.listen(0);
    try {
      const silent = rawSocket(bound.port);
      const trickle = rawSocket(bound.port);
      const head = 'GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
      let i = 0;
      const timer = setInterval(() => i < head.length && trickle.socket.write(head[i++]!), 200);
      const [s, t] = await Promise.all([silent.closed, trickle.closed]);
      clearInterval(timer);
      expect(s.ms).toBeLessThan(4_000);
      expect(t.ms).toBeLessThan(4_000);
      expect(i).toBeLessThan(head.length); // closed before it finished its header
      // A timed-out header is answered 408 when the server can still say so.
      expect(t.received === '' || t.received.startsWith('HTTP/1.1 408')).toBe(true);
    } finally {
      await bound.close();
    }
  });

  it('at the connection cap a newcomer closes the oldest idle connection, so idle ones cannot lock clients out', async () => {
    const bound = await setup({ accessLog: false, maxConnections: 10 }).server.listen(0);
    try {
      const idle = Array.from({ length: 20 }, () => rawSocket(bound.port));
      await Promise.all(idle.map((c) => new Promise((r) => c.socket.once('connect', r))));
      await new Promise((r) => setTimeout(r, 200));
      // 90 % of the cap stays for connections that have been quiet: the 11 oldest were closed.
      expect(idle.map((c) => c.isClosed())).toEqual([...Array<boolean>(11).fill(true), ...Array<boolean>(9).fill(false)]);
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push((await httpCall(bound.port, 'GET', '/v1/health')).status);
      expect(answers).toEqual([200, 200, 200, 200, 200]);
      await new Promise((r) => setTimeout(r, 100));
      // The first check made a place by closing one more; the next ones found it free again.
      expect(idle.filter((c) => !c.isClosed())).toHaveLength(8);
      for (const c of idle) c.socket.destroy();
    } finally {
      await bound.close();
    }
  });

  it('options are checked when listening', async () => {
    await expect(setup({ maxConnections: 0 }).server.listen(0)).rejects.toMatchObject({ code: 'ERR_USAGE', message: expect.stringContaining('maxConnections') });
    await expect(setup({ timeouts: { headers: 20_000, request: 10_000 } }).server.listen(0)).rejects.toMatchObject({ code: 'ERR_USAGE', message: expect.stringContaining('timeouts.headers') });
  });

  it('1,500 slowloris connections against a server with the usual 1,024 open files: GET /v1/health still answers', { timeout: 60_000 }, async () => {
    // The server in its own process under `ulimit -n 1024`, the default soft limit of most shells and
    // of systemd services. Before the connection cap, the slow clients took every file descriptor and
    // the kernel's accept queue then held only connections that were reset: 0 of 10 health checks.
    const server = spawn('sh', ['-c', 'ulimit -n 1024 && exec "$0" "$@"', process.execPath, '--import', 'tsx', SERVER], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    procs.push(server);
    const port = await new Promise<number>((resolve, reject) => {
      server.stdout!.once('data', (d: Buffer) => resolve((JSON.parse(d.toString().split('\n')[0]!) as { port: number }).port));
      server.once('exit', (c) => reject(new Error(`server exited ${c}`)));
    });
    // The attackers (1,500 sockets: more than 1,024) get a limit of their own.
    const slow = spawn('sh', ['-c', 'ulimit -n 4096 2>/dev/null; exec "$0" "$@"', process.execPath, SLOW_CLIENTS, JSON.stringify({ host: '127.0.0.1', port, count: 1500, seconds: 20, byteMs: 1000 })], { stdio: ['ignore', 'pipe', 'inherit'] });
    procs.push(slow);
    const status: Array<Record<string, number>> = [];
    let buffered = '';
    slow.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const l of lines) status.push(JSON.parse(l) as Record<string, number>);
    });
    while (!status.some((s) => 'ready' in s)) await new Promise((r) => setTimeout(r, 50));

    const answers: Array<number | string> = [];
    for (let i = 0; i < 10; i++) {
      answers.push((await httpCall(port, 'GET', '/v1/health', 2_500)).status);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const during = status.filter((s) => 'open' in s && !('done' in s));
    slow.kill('SIGKILL');
    expect(server.exitCode).toBeNull(); // still serving
    // The attack was real: over 1,500 connections made, hundreds held open throughout.
    expect(Math.max(...during.map((s) => s.opened!))).toBeGreaterThanOrEqual(1500);
    expect(Math.min(...during.map((s) => s.open!))).toBeGreaterThanOrEqual(500);
    expect(answers.filter((a) => a === 200).length, `health answers: ${answers.join(', ')}`).toBeGreaterThanOrEqual(9);
    server.kill('SIGKILL');
  });
});

describe('licit serve', () => {
  /** 61 exchange requests (bad ones: cheap) from this process, each with its own X-Forwarded-For; the statuses. */
  const burst = async (url: string) => {
    const out: number[] = [];
    for (let i = 0; i < 61; i++) out.push((await fetch(`${url}/v1/renew`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': `198.51.100.${i}` }, body: '{}' })).status);
    return out;
  };
  const stderrOf = (proc: ChildProcess) => {
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    return () => err;
  };

  it('has the limits and the access log by default; --trust-proxy, --no-rate-limit, --no-access-log and --max-connections change them; --weak-identity refuse', async () => {
    const store = (name: string) => ['--signing-key', vendor.keyPath, '--store', join(work, name)];
    const plain = await startServer(store('serve-default'), procs);
    const plainErr = stderrOf(plain.proc);
    expect(await burst(plain.url)).toEqual([...Array<number>(60).fill(400), 429]);
    await new Promise((r) => setTimeout(r, 100));
    expect(plainErr()).toMatch(/Z POST \/v1\/renew 429 \d+ms ERR_RATE_LIMITED 127\.0\.0\.1\n/);

    const proxied = await startServer([...store('serve-proxy'), '--trust-proxy'], procs);
    expect(await burst(proxied.url)).toEqual(Array<number>(61).fill(400));

    const open = await startServer([...store('serve-open'), '--no-rate-limit', '--no-access-log', '--max-connections', '50'], procs);
    const openErr = stderrOf(open.proc);
    expect(await burst(open.url)).toEqual(Array<number>(61).fill(400));
    expect(openErr()).toBe('');

    // --weak-identity refuse: a machine made only of parts other machines share is not activated.
    const strict = await startServer([...store('serve-weak'), '--weak-identity', 'refuse', '--no-access-log'], procs);
    const weakKey = await vendor.issue({ licenseId: 'LIC-SERVE-WEAK' });
    const weak = `fp1:cp=${hashComponent('app', 'cpu', 'QEMU Virtual CPU')},ml=${hashComponent('app', 'mac', '02:fc:00:00:00:01')}`;
    const weakCode = await createRequest({ operation: 'activate', licenseId: 'LIC-SERVE-WEAK', licenseKey: weakKey, fingerprint: weak, nonce: newNonce(), clientTime: new Date() }, installation());
    const weakRes = await fetch(`${strict.url}/v1/activate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request: weakCode }) });
    expect(((await weakRes.json()) as { error: { code: string } }).error.code).toBe('ERR_FINGERPRINT_WEAK');
    strict.proc.kill('SIGTERM');
    expect(licit(['serve', ...store('serve-bad'), '--port', '0', '--weak-identity', 'sometimes', '--json']).json().error).toMatchObject({ code: 'ERR_USAGE', message: expect.stringContaining('--weak-identity') });

    const r = licit(['serve', ...store('serve-bad'), '--port', '0', '--max-connections', '0', '--json']);
    expect(r.json().error).toMatchObject({ code: 'ERR_USAGE', message: expect.stringContaining('--max-connections') });
    for (const p of [plain, proxied, open]) p.proc.kill('SIGTERM');
  });
});
