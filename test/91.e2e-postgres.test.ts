/**
 * Two `licit serve` processes on one PostgreSQL database under concurrent activations: 24
 * installations race through both servers for a license with 5 activations. Exactly 5 win, the
 * rest are refused with ERR_ACTIVATIONS_EXHAUSTED, and the database agrees.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequest, newNonce } from '../src/core/exchange/index.js';
import { Activations } from '../src/core/seats/index.js';
import { PostgresStore } from '../src/postgres/index.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';
import { startServer as startLicitServer } from './helpers/serve.js';
import { makeVendor } from './helpers/vendor.js';
import { newInstallation as installation } from './helpers/installation.js';

const vendor = makeVendor();
const procs: ChildProcess[] = [];
let pg: TestPostgres;
let schema = '';
const urls: string[] = [];

const startServer = async (store: string) => (await startLicitServer(['--signing-key', vendor.keyPath, '--store', store, '--schema', schema], procs)).url;

beforeAll(async () => {
  pg = await startPostgres();
  schema = pg.schema();
  urls.push(await startServer(pg.url), await startServer(pg.url));
});
afterAll(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await pg?.stop();
});

describe('two servers, one PostgreSQL', () => {
  it('concurrent activations through both servers never exceed the limit', async () => {
    const LIMIT = 5;
    const N = 24;
    const license = await vendor.issue({ allowSuppliedMachineId: true, licenseId: 'LIC-PG', maxActivations: LIMIT });
    const requests = await Promise.all(
      Array.from({ length: N }, async (_, i) =>
        createRequest({ operation: 'activate', licenseId: 'LIC-PG', licenseKey: license, fingerprint: `fp1:mi=${String(i).padStart(16, 'A')}`, nonce: newNonce(), clientTime: new Date() }, installation()),
      ),
    );
    const results = await Promise.all(
      requests.map(async (request, i) => {
        const res = await fetch(`${urls[i % 2]}/v1/activate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request }) });
        const body = (await res.json()) as { ok: boolean; error?: { code: string } };
        return body.ok ? 'ok' : (body.error?.code ?? `HTTP ${res.status}`);
      }),
    );
    const tally: Record<string, number> = {};
    for (const r of results) tally[r] = (tally[r] ?? 0) + 1;
    expect(tally).toEqual({ ok: LIMIT, ERR_ACTIVATIONS_EXHAUSTED: N - LIMIT });

    const store = new PostgresStore({ connectionString: pg.url, schema, poolSize: 1 });
    try {
      const acts = new Activations(store, { id: 'LIC-PG', seats: {}, maxActivations: LIMIT });
      expect((await acts.usage()).activations.inUse).toBe(LIMIT);
      expect(await acts.devices()).toHaveLength(LIMIT);
    } finally {
      await store.close();
    }
  });
});
