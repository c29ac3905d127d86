/**
 * Several license server processes on one PostgreSQL database (issue #14): two `licit serve`
 * processes, each its own pool, share one schema, and requests alternate between them as a load
 * balancer would send them. What one license may have must hold across both: no activation past
 * the limit, no request code answered twice, no audit event lost or numbered twice, one chain.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequest, newNonce, type InstallationSigner, type RequestInput } from '../src/core/exchange/index.js';
import { hashComponent } from '../src/node/fingerprint/index.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';
import { makeVendor } from './helpers/vendor.js';
import { newInstallation } from './helpers/installation.js';

const BIN = fileURLToPath(new URL('../bin/licit.cjs', import.meta.url));
const ADMIN = 'two-process-admin-token';
const vendor = makeVendor();
let pg: TestPostgres;
const procs: ChildProcess[] = [];
let servers: string[] = [];

const machine = (name: string) => `fp1:su=${hashComponent('app', 'system-uuid', `uuid-${name}`)},bs=${hashComponent('app', 'board-serial', `board-${name}`)}`;

/** One `licit serve` on the shared database; resolves to its base URL once it listens. */
function serve(schema: string): Promise<string> {
  const proc = spawn(process.execPath, [BIN, 'serve', '--signing-key', vendor.keyPath, '--store', pg.url, '--schema', schema, '--port', '0', '--json', '--no-rate-limit', '--no-access-log'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LICIT_ADMIN_TOKEN: ADMIN },
  });
  procs.push(proc);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0] as string;
      if (out.includes('\n')) resolve(`http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`);
    });
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    proc.on('exit', (c) => reject(new Error(`licit serve exited with ${c}: ${err}`)));
  });
}

async function post(base: string, op: string, body: unknown): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(`${base}/v1/${op}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}
async function admin(base: string, path: string): Promise<Record<string, any>> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } });
  return (await res.json()) as Record<string, any>;
}
const code = (op: RequestInput['operation'], inst: InstallationSigner, fields: Partial<RequestInput> & { licenseId: string }) =>
  createRequest({ operation: op, fingerprint: machine(inst.kid), nonce: newNonce(), clientTime: new Date(), ...fields }, inst);

beforeAll(async () => {
  pg = await startPostgres();
  const schema = pg.schema();
  servers = await Promise.all([serve(schema), serve(schema)]);
}, 120_000);
afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await pg?.stop();
});

describe('two licit serve processes on one PostgreSQL', () => {
  it('never activate past the limit, together', async () => {
    const key = await vendor.issue({ licenseId: 'LIC-TWO', maxActivations: 10 });
    const installs = Array.from({ length: 40 }, newInstallation);
    const codes = await Promise.all(installs.map((i) => code('activate', i, { licenseId: 'LIC-TWO', licenseKey: key })));
    // All at once, alternating between the two processes.
    const answers = await Promise.all(codes.map((c, i) => post(servers[i % 2] as string, 'activate', { request: c })));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(10);
    expect(new Set(answers.filter((a) => a.status !== 200).map((a) => a.body.error.code))).toEqual(new Set(['ERR_ACTIVATIONS_EXHAUSTED']));
    for (const base of servers) expect((await admin(base, '/v1/admin/usage?licenseId=LIC-TWO')).activations.activations).toMatchObject({ inUse: 10 });
  });

  it('answer each request code once, whichever process gets it', async () => {
    const key = await vendor.issue({ licenseId: 'LIC-ONCE', maxActivations: 4 });
    const installs = Array.from({ length: 4 }, newInstallation);
    for (const i of installs) expect((await post(servers[0] as string, 'activate', { request: await code('activate', i, { licenseId: 'LIC-ONCE', licenseKey: key }) })).status).toBe(200);
    // Each renewal code sent to both processes at the same moment: one answer, one replay refusal.
    const codes = await Promise.all(Array.from({ length: 24 }, (_, n) => code('renew', installs[n % 4] as InstallationSigner, { licenseId: 'LIC-ONCE', licenseKey: key })));
    const pairs = await Promise.all(codes.map((c) => Promise.all(servers.map((base) => post(base, 'renew', { request: c })))));
    for (const pair of pairs) {
      expect(pair.map((a) => a.status).sort()).toEqual([200, 409]);
      expect(pair.find((a) => a.status === 409)?.body.error.code).toBe('ERR_EXCHANGE_REPLAYED');
    }
  });

  it('write one audit log: every event, numbered once, in one verified chain', async () => {
    const log = await admin(servers[1] as string, '/v1/admin/log?licenseId=LIC-TWO');
    const events = log.events as { seq: number; kind: string }[];
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
    expect(events.filter((e) => e.kind === 'device.activated')).toHaveLength(10);
    // Every refusal of the 30 past the limit is there too, whichever process refused it.
    expect(events.filter((e) => e.kind === 'exchange.refused')).toHaveLength(0); // ERR_ACTIVATIONS_EXHAUSTED is an answer, not an anomaly
    const replayed = ((await admin(servers[0] as string, '/v1/admin/log?licenseId=LIC-ONCE')).events as { kind: string; details: { code?: string } }[]).filter((e) => e.kind === 'exchange.refused');
    expect(replayed.map((e) => e.details.code)).toEqual(Array.from({ length: 24 }, () => 'ERR_EXCHANGE_REPLAYED'));
    // GET /v1/admin/log answers only once the chain verified; its head covers every event.
    expect(log.head.seq).toBe(events.length);
  });
});
