/**
 * Operating the license server: the readiness probe reads the store (200 when it answers, 503 with
 * ERR_STORE_UNAVAILABLE when it does not), for a load balancer to route around a server whose
 * database or disk is gone; `HEAD` works on both probes; neither writes anything.
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/core/store/memory-store.js';
import type { Store } from '../src/core/store/store.js';
import { FileStore } from '../src/node/store/file-store.js';
import { createLicenseServer } from '../src/server/index.js';
import { makeVendor } from './helpers/vendor.js';

const vendor = makeVendor();

describe('readiness and liveness', () => {
  it('GET /v1/ready reads the store: 200 when it answers, writing nothing', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'licit-81-')), 'store');
    const server = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new FileStore(dir) });
    const res = await server.handle(new Request('http://x/v1/ready'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, ready: true });
    const head = await server.handle(new Request('http://x/v1/ready', { method: 'HEAD' }));
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await server.handle(new Request('http://x/v1/health', { method: 'HEAD' }))).status).toBe(200);
    // Nothing was created for the probe.
    let entries: string[] = [];
    try {
      entries = readdirSync(dir);
    } catch {
      entries = [];
    }
    expect(entries).toEqual([]);
  });

  it('503 ERR_STORE_UNAVAILABLE when the store cannot be read, while /v1/health still says the process is up', async () => {
    const base = mkdtempSync(join(tmpdir(), 'licit-81-'));
    writeFileSync(join(base, 'file'), 'not a directory');
    const server = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new FileStore(join(base, 'file', 'store')) });
    const res = await server.handle(new Request('http://x/v1/ready'));
    expect(res.status).toBe(503);
    expect((await res.json()).error.code).toBe('ERR_STORE_UNAVAILABLE');
    expect((await server.handle(new Request('http://x/v1/health'))).status).toBe(200);
  });

  it('a closed store is not ready', async () => {
    const store = new MemoryStore();
    const server = createLicenseServer({ signingKey: vendor.privateKeyPem, store });
    expect((await server.handle(new Request('http://x/v1/ready'))).status).toBe(200);
    await store.close();
    expect((await server.handle(new Request('http://x/v1/ready'))).status).toBe(503);
  });
});

describe('graceful shutdown', () => {
  it('close() lets a request being answered finish, refuses new connections, then resolves', async () => {
    const inner = new MemoryStore();
    let slow = false;
    // A store whose reads take 400 ms once asked to: a readiness probe is then in flight at close().
    const store: Store = Object.assign(Object.create(inner) as Store, {
      read: async <T>(id: string, fn: Parameters<Store['read']>[1]): Promise<T> => {
        if (slow) await new Promise((r) => setTimeout(r, 400));
        return inner.read(id, fn) as Promise<T>;
      },
    });
    const server = createLicenseServer({ signingKey: vendor.privateKeyPem, store, accessLog: false });
    const bound = await server.listen(0);
    const url = `http://${bound.host}:${bound.port}`;
    slow = true;
    const inFlight = fetch(`${url}/v1/ready`);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    const closed = bound.close(5000);
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, ready: true });
    await closed;
    expect(Date.now() - t0).toBeLessThan(5000);
    await expect(fetch(`${url}/v1/health`)).rejects.toThrow();
  });
});

describe('observability', () => {
  it('metrics behind the admin token: requests by route, status and code, latency, refusals; off by default', async () => {
    const server = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new MemoryStore(), adminToken: 'tok', metrics: true });
    await server.handle(new Request('http://x/v1/health'));
    await server.handle(new Request('http://x/v1/renew', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }));
    await server.handle(new Request('http://x/no/such/path'));
    expect((await server.handle(new Request('http://x/v1/admin/metrics'))).status).toBe(401);
    const res = await server.handle(new Request('http://x/v1/admin/metrics', { headers: { authorization: 'Bearer tok' } }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/licit_http_requests_total\{route="GET \/v1\/health",status="200",code=""\} 1/);
    expect(text).toMatch(/licit_http_requests_total\{route="POST \/v1\/renew",status="400",code="ERR_USAGE"\} 1/);
    expect(text).toMatch(/licit_http_requests_total\{route="unknown",status="404",code="ERR_USAGE"\} 1/);
    expect(text).toMatch(/licit_http_request_duration_seconds_bucket\{le="0.001",route="GET \/v1\/health"\}/);
    expect(text).toMatch(/licit_refusals_total\{code="ERR_UNAUTHORIZED"\} 1/);
    expect(text).toMatch(/licit_process_cpu_seconds_total/);
    // Off by default: the route says how to turn it on.
    const off = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new MemoryStore(), adminToken: 'tok' });
    const r = await off.handle(new Request('http://x/v1/admin/metrics', { headers: { authorization: 'Bearer tok' } }));
    expect(r.status).toBe(400);
    expect((await r.json()).error.message).toMatch(/metrics: true|--metrics/);
  });

  it('a JSON access log line per request with a request id (the caller\'s, else a new one) and the license id', async () => {
    const lines: string[] = [];
    const { formatAccessJson } = await import('../src/server/access-log.js');
    const server = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new MemoryStore(), adminToken: 'tok', accessLog: (e) => lines.push(formatAccessJson(e)) });
    const a = await server.handle(new Request('http://x/v1/health', { headers: { 'x-request-id': 'req-123' } }));
    expect(a.headers.get('x-request-id')).toBe('req-123');
    const b = await server.handle(new Request('http://x/v1/admin/devices?licenseId=LIC-LOG', { headers: { authorization: 'Bearer tok', 'x-request-id': 'bad\u0001id' } }));
    expect(b.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({ level: 30, msg: 'request', requestId: 'req-123', method: 'GET', route: '/v1/health', status: 200, code: null });
    expect(second).toMatchObject({ level: 40, route: '/v1/admin/devices', status: 404, code: 'ERR_LICENSE_NOT_REGISTERED', licenseId: 'LIC-LOG', requestId: b.headers.get('x-request-id') });
  });
});

describe('oversized bodies get their answer', () => {
  it('Expect: 100-continue with a body over the limit is answered 413 before it is sent; without it, the 413 still arrives', async () => {
    const { request } = await import('node:http');
    const server = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new MemoryStore(), accessLog: false, maxBodyBytes: 1024 });
    const bound = await server.listen(0);
    try {
      const ask = (expectContinue: boolean, bytes: number) =>
        new Promise<{ status: number; body: string; continued: boolean }>((resolve, reject) => {
          let continued = false;
          const req = request({ host: bound.host, port: bound.port, method: 'POST', path: '/v1/activate', headers: { 'content-type': 'application/json', 'content-length': String(bytes), ...(expectContinue ? { expect: '100-continue' } : {}) } });
          req.on('continue', () => {
            continued = true;
            req.end(Buffer.alloc(bytes, 120));
          });
          req.on('response', (res) => {
            let body = '';
            res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body, continued }));
          });
          req.on('error', reject);
          if (!expectContinue) req.end(Buffer.alloc(bytes, 120));
        });
      const withExpect = await ask(true, 20 * 1024 * 1024);
      expect(withExpect).toMatchObject({ status: 413, continued: false });
      expect(JSON.parse(withExpect.body).error.code).toBe('ERR_BODY_TOO_LARGE');
      const plain = await ask(false, 2 * 1024 * 1024);
      expect(plain.status).toBe(413);
      expect(JSON.parse(plain.body).error.code).toBe('ERR_BODY_TOO_LARGE');
    } finally {
      await bound.close(100);
    }
  });
});

