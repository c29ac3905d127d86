/**
 * Webhooks survive a killed server: a real `licit serve` delivers activation events to a slow
 * receiver; it is SIGKILLed while deliveries are in flight and started again on the same store.
 * Every event of a subscribed kind then arrives, each under its stable id; a duplicate may come
 * (an event whose 2xx was lost with the process), never a gap, never an event that was not written.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRequest, newNonce } from '../src/core/exchange/index.js';
import { FileStore } from '../src/node/store/file-store.js';
import { DEFAULT_WEBHOOK_KINDS, verifyWebhook } from '../src/server/webhooks.js';
import { startServer } from './helpers/serve.js';
import { makeVendor } from './helpers/vendor.js';
import { newInstallation as installation } from './helpers/installation.js';

const vendor = makeVendor();
const SECRET = 'kill-test-webhook-secret-0123';
const procs: ChildProcess[] = [];
afterAll(() => {
  for (const p of procs) p.kill('SIGKILL');
});

describe('webhooks and a killed server', () => {
  it('every subscribed event arrives after a SIGKILL mid-delivery and a restart, under stable ids', { timeout: 120_000 }, async () => {
    const received: string[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => {
        const d = verifyWebhook(body, req.headers['licit-signature'] as string, SECRET);
        // Slow on purpose: deliveries are in flight when the server is killed.
        setTimeout(() => {
          received.push(d.id);
          res.writeHead(204).end();
        }, 120);
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    const store = join(mkdtempSync(join(tmpdir(), 'licit-80-')), 'store');
    const args = ['--signing-key', vendor.keyPath, '--store', store, '--no-rate-limit', '--no-access-log', '--webhook', hookUrl];
    const env = { LICIT_WEBHOOK_SECRET: SECRET };

    const first = await startServer(args, procs, env);
    const key = await vendor.issue({ licenseId: 'LIC-HOOK', maxActivations: 50 });
    for (let i = 0; i < 12; i++) {
      const request = await createRequest({ operation: 'activate', licenseId: 'LIC-HOOK', licenseKey: key, fingerprint: `fp1:mi=${String(i).padStart(22, 'A')}`, nonce: newNonce(), clientTime: new Date() }, installation());
      const res = await fetch(`${first.url}/v1/activate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request }) });
      expect(res.status).toBe(200);
    }
    // Kill it while deliveries are still going (each takes 120 ms; 13 are due).
    for (let i = 0; i < 100 && received.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    first.proc.kill('SIGKILL');
    await new Promise((r) => first.proc.once('exit', r));
    const beforeRestart = received.length;
    expect(beforeRestart).toBeGreaterThan(0);

    // The events the store holds of the kinds an endpoint gets by default.
    const fs = new FileStore(store);
    const expected = (await fs.events('LIC-HOOK')).filter((e) => (DEFAULT_WEBHOOK_KINDS as readonly string[]).includes(e.kind)).map((e) => `LIC-HOOK:${e.seq}`);
    await fs.close();
    expect(expected.length).toBe(13); // registered once, 12 activations
    expect(beforeRestart).toBeLessThan(expected.length);

    const second = await startServer(args, procs, env);
    for (let i = 0; i < 400 && !expected.every((id) => received.includes(id)); i++) await new Promise((r) => setTimeout(r, 50));
    second.proc.kill('SIGTERM');
    await new Promise<void>((r) => receiver.close(() => r()));
    expect([...new Set(received)].sort()).toEqual([...expected].sort());
    // In order per license: the first delivery of each id comes after the ids before it.
    const firstSeen = [...new Set(received)].map((id) => Number(id.split(':')[1]));
    expect(firstSeen).toEqual([...firstSeen].sort((a, b) => a - b));
    console.log(`webhooks across a SIGKILL: ${expected.length} events, ${received.length} deliveries (${received.length - expected.length} duplicates), ${beforeRestart} before the kill`);
  });
});
