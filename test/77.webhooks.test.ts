/**
 * Webhooks from the audit log: signed deliveries in order per license, retried with back-off while
 * the receiver fails, resumed from the stored cursor by a new dispatcher (a restart), never
 * skipping an event; `verifyWebhook` refuses a wrong secret, an altered body and an old signature.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/core/store/memory-store.js';
import type { Store } from '../src/core/store/store.js';
import { FileStore } from '../src/node/store/file-store.js';
import { WebhookDispatcher, notifyingStore, verifyWebhook, type WebhookDelivery } from '../src/server/webhooks.js';

const SECRET = 'whsec-0123456789abcdef';

interface Receiver {
  url: string;
  got: WebhookDelivery[];
  /** Status to answer with for the next deliveries (then 204). */
  failNext: number[];
  close(): Promise<void>;
}

async function receiver(): Promise<Receiver> {
  const r: Receiver = { url: '', got: [], failNext: [], close: async () => undefined };
  const read = (req: IncomingMessage) => new Promise<string>((res) => {
    let b = '';
    req.setEncoding('utf8').on('data', (d: string) => (b += d)).on('end', () => res(b));
  });
  const server: Server = createServer(async (req, res) => {
    const body = await read(req);
    const status = r.failNext.shift();
    if (status !== undefined) {
      res.writeHead(status).end();
      return;
    }
    r.got.push(verifyWebhook(body, req.headers['licit-signature'] as string, SECRET));
    res.writeHead(204).end();
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  r.close = () => new Promise<void>((res) => server.close(() => res()));
  return r;
}

const open: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c();
});

async function addEvents(store: Store, licenseId: string, kinds: string[]): Promise<void> {
  for (const kind of kinds) {
    await store.transaction(licenseId, async (tx) => void tx.append({ at: new Date().toISOString(), actor: 'system', kind, details: { n: kind } }));
  }
}

describe('webhooks', () => {
  it('delivers subscribed events signed and in order, stores the cursor, and a new dispatcher resumes without repeats', async () => {
    const r = await receiver();
    open.push(r.close);
    const store = new MemoryStore();
    await addEvents(store, 'LIC-A', ['device.activated', 'seat.assigned', 'credits.topped-up']);
    await addEvents(store, 'LIC-B', ['alert.raised']);
    const d1 = new WebhookDispatcher(store, { endpoints: [{ url: r.url, secret: SECRET }], scanMs: 60_000 });
    await d1.start();
    await d1.idle();
    await d1.stop();
    const ids = (x: WebhookDelivery[]) => x.map((d) => `${d.id} ${d.type}`).sort();
    // seat.assigned is not among the default kinds: skipped, and the cursor moves past it.
    expect(ids(r.got)).toEqual(['LIC-A:1 device.activated', 'LIC-A:3 credits.topped-up', 'LIC-B:1 alert.raised']);
    expect(r.got.find((d) => d.id === 'LIC-A:1')).toMatchObject({ licenseId: 'LIC-A', seq: 1, actor: 'system', data: { n: 'device.activated' } });
    // A restart: only what is new arrives.
    await addEvents(store, 'LIC-A', ['device.deactivated']);
    const d2 = new WebhookDispatcher(store, { endpoints: [{ url: r.url, secret: SECRET }] });
    await d2.start();
    await d2.idle();
    await d2.stop();
    expect(ids(r.got)).toEqual(['LIC-A:1 device.activated', 'LIC-A:3 credits.topped-up', 'LIC-A:4 device.deactivated', 'LIC-B:1 alert.raised']);
  });

  it('retries a failing receiver with back-off, keeping the order, and tells onError', async () => {
    const r = await receiver();
    open.push(r.close);
    r.failNext.push(500, 503);
    const store = new MemoryStore();
    const errors: string[] = [];
    const d = new WebhookDispatcher(store, { endpoints: [{ url: r.url, secret: SECRET, kinds: '*' }], retryMs: 20, maxRetryMs: 50, onError: (f) => errors.push(`${f.licenseId}:${f.seq} ${f.error}`) });
    const s = notifyingStore(store, d);
    await addEvents(s, 'LIC-R', ['device.activated', 'device.deactivated', 'device.activated']);
    for (let i = 0; i < 100 && r.got.length < 3; i++) await new Promise((res) => setTimeout(res, 20));
    await d.stop();
    expect(r.got.map((x) => x.seq)).toEqual([1, 2, 3]);
    expect(errors).toEqual(['LIC-R:1 HTTP 500', 'LIC-R:1 HTTP 503']);
  });

  it('a receiver that is down loses nothing: the events wait in the log and arrive once it is back', async () => {
    const store = new FileStore(join(mkdtempSync(join(tmpdir(), 'licit-77-')), 'store'));
    open.push(() => store.close());
    await addEvents(store, 'LIC-D', ['device.activated', 'credits.topped-up']);
    const down = new WebhookDispatcher(store, { endpoints: [{ url: 'http://127.0.0.1:9/never', secret: SECRET }], timeoutMs: 500, retryMs: 60_000, onError: () => undefined });
    await down.start();
    await down.idle();
    await down.stop();
    const r = await receiver();
    open.push(r.close);
    // Same endpoint id, new URL: the cursor belongs to the id.
    const up = new WebhookDispatcher(store, { endpoints: [{ url: r.url, secret: SECRET, id: 'http://127.0.0.1:9/never' }] });
    await up.start();
    await up.idle();
    await up.stop();
    expect(r.got.map((x) => x.id)).toEqual(['LIC-D:1', 'LIC-D:2']);
  });

  it('verifyWebhook refuses a wrong secret, an altered body and an old signature', async () => {
    const r = await receiver();
    open.push(r.close);
    const captured: { body: string; sig: string }[] = [];
    const fakeFetch: typeof fetch = async (_url, init) => {
      captured.push({ body: String(init?.body), sig: (init?.headers as Record<string, string>)['licit-signature'] as string });
      return new Response(null, { status: 204 });
    };
    const store = new MemoryStore();
    await addEvents(store, 'LIC-V', ['device.activated']);
    const d = new WebhookDispatcher(store, { endpoints: [{ url: r.url, secret: SECRET }], fetch: fakeFetch });
    await d.start();
    await d.idle();
    await d.stop();
    const { body, sig } = captured[0] as { body: string; sig: string };
    expect(verifyWebhook(body, sig, SECRET).id).toBe('LIC-V:1');
    expect(() => verifyWebhook(body, sig, 'another-secret-0123456789')).toThrow(expect.objectContaining({ code: 'ERR_WEBHOOK_SIGNATURE' }));
    expect(() => verifyWebhook(body.replace('LIC-V', 'LIC-W'), sig, SECRET)).toThrow(expect.objectContaining({ code: 'ERR_WEBHOOK_SIGNATURE' }));
    expect(() => verifyWebhook(body, sig, SECRET, { now: Date.now() + 3_600_000 })).toThrow(expect.objectContaining({ code: 'ERR_WEBHOOK_SIGNATURE' }));
    expect(() => verifyWebhook(body, undefined, SECRET)).toThrow(expect.objectContaining({ code: 'ERR_WEBHOOK_SIGNATURE' }));
  });

  it('refuses plain http to another host, short secrets and duplicate ids', () => {
    const store = new MemoryStore();
    expect(() => new WebhookDispatcher(store, { endpoints: [{ url: 'http://crm.example.com/x', secret: SECRET }] })).toThrow(/https/);
    expect(() => new WebhookDispatcher(store, { endpoints: [{ url: 'https://crm.example.com/x', secret: 'short' }] })).toThrow(/16 bytes/);
    expect(() => new WebhookDispatcher(store, { endpoints: [{ url: 'https://a.example/x', secret: SECRET, id: 'x' }, { url: 'https://b.example/x', secret: SECRET, id: 'x' }] })).toThrow(/same|id/);
  });
});
