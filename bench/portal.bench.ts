/**
 * The licensing portal at 10,000 licenses (issue 17: "every list paged and fast at 10,000
 * licenses, server time per page reported"): the server time of a page through `server.handle`,
 * beside `GET /v1/admin/licenses`, the JSON answer that reads every registry entry (what a list
 * page cost before the license index). Pages: the vendor's first and a deep page of licenses, a
 * customer's (100 of the 10,000 are its), and of one license with a long audit trail (20,000
 * events, 1 in 10 about credits) its credits page, its log page (page 1, and page 1 filtered by
 * kind) and its details.
 *
 * Run: `node --import tsx bench/portal.bench.ts [--quick]` (quick: 2,000 licenses, 4,000 events).
 */
import { generateKeyPair, issueLicense } from '../src/issuer/index.js';
import { signedLicense } from '../src/issuer/issue.js';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { registerLicense } from '../src/server/license-registry.js';
import { createLicenseServer } from '../src/server/index.js';
import { QUICK, interleaved, reportRows, row, type Row } from './lib/report.js';

const N = QUICK ? 2_000 : 10_000;
const TRAIL = QUICK ? 4_000 : 20_000;
const TOKEN = 'bench-portal-token-0123456789';
const pair = generateKeyPair();
const store = new MemoryStore();
const server = createLicenseServer({ signingKey: pair.privateKeyPem, store, adminToken: TOKEN, rateLimit: false, portal: { scrypt: { N: 1024, r: 8, p: 1 } } });

const t0 = performance.now();
for (let i = 0; i < N; i++) {
  const key = await issueLicense({ licenseId: `LIC-${String(i).padStart(6, '0')}`, customer: `Customer ${i % 100}`, maxActivations: 5 }, { signingKey: pair.privateKeyPem });
  // As licit issue --store records a key (the registry and the server's registration).
  await registerLicense({ store: server.vendor.store, now: Date.now }, signedLicense(key), 'issuer', 'bench');
}
console.log(`${N} licenses recorded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
// A long audit trail for LIC-000007 (chained by the vendor's store, as the server writes it).
for (let done = 0; done < TRAIL; done += 500) {
  await server.vendor.store.transaction('LIC-000007', async (tx) => {
    for (let i = done; i < done + 500; i++) {
      const at = new Date(Date.now() - (TRAIL - i) * 60_000).toISOString();
      tx.append(i % 10 === 0 ? { at, actor: 'system', kind: 'credits.consumed', details: { consumed: 1, source: 'bench' } } : { at, actor: 'bench', kind: 'lease.checked-out', details: { user: `u${i % 50}@example.com`, device: `d${i % 50}` } });
    }
  });
}

const req = (path: string, init: RequestInit = {}) => server.handle(new Request(`http://bench.local${path}`, init));
const cookieOf = (res: Response) => res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');

async function signIn(path: string, form: Record<string, string>): Promise<string> {
  const page = await req(path);
  const pre = cookieOf(page);
  const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1] as string;
  const res = await req(path, { method: 'POST', headers: { cookie: pre, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, ...form }).toString() });
  if (res.status !== 303) throw new Error(`sign-in failed: ${res.status}`);
  return cookieOf(res).split('; ').filter((c) => c.startsWith('licit_portal='))[0] as string;
}

const vendorCookie = await signIn('/portal/vendor/sign-in', { token: TOKEN });
await req('/v1/admin/portal/companies', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ code: 'ACME', name: 'Acme', customers: ['Customer 7'] }) });
await req('/v1/admin/portal/accounts', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ code: 'ACME', email: 'it@acme.example', password: 'bench-initial-1' }) });
const customerCookie = await signIn('/portal/sign-in', { company: 'ACME', email: 'it@acme.example', password: 'bench-initial-1' });
// The initial password must be changed before the pages open.
{
  const page = await req('/portal/password', { headers: { cookie: customerCookie } });
  const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1] as string;
  await req('/portal/password', { method: 'POST', headers: { cookie: customerCookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, current: 'bench-initial-1', next: 'bench-chosen-1', repeat: 'bench-chosen-1' }).toString() });
}

const get = (path: string, cookie: string) => async () => {
  const res = await req(path, { headers: { cookie } });
  if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
  await res.arrayBuffer();
};
const api = async () => {
  const res = await req('/v1/admin/licenses', { headers: { authorization: `Bearer ${TOKEN}` } });
  if (res.status !== 200) throw new Error(`api: ${res.status}`);
  await res.arrayBuffer();
};

const rows: Row[] = [];
const opts = { rounds: QUICK ? 4 : 10, batch: 3 };
for (const [name, ours] of [
  [`vendor's licenses, page 1 of ${N / 50}`, get('/portal/licenses', vendorCookie)],
  [`vendor's licenses, page ${N / 100} of ${N / 50}`, get(`/portal/licenses?page=${N / 100}`, vendorCookie)],
  [`a customer's licenses (100 of ${N})`, get('/portal/licenses', customerCookie)],
  [`a license's credits (${TRAIL} events)`, get('/portal/licenses/LIC-000007/credits', customerCookie)],
  [`a license's log, page 1 (${TRAIL} events)`, get('/portal/licenses/LIC-000007/log', customerCookie)],
  [`a license's log, page 1 of kind credits (${TRAIL} events)`, get('/portal/licenses/LIC-000007/log?kind=credits', customerCookie)],
  [`one license's details (${TRAIL} events)`, get('/portal/licenses/LIC-000007', customerCookie)],
] as const) {
  const { oursMs, baselineMs } = await interleaved(ours, api, opts);
  console.log(`${name}: ${oursMs.toFixed(1)} ms per page (GET /v1/admin/licenses: ${baselineMs.toFixed(1)} ms)`);
  rows.push(row({ name: `${name} at ${N} licenses vs GET /v1/admin/licenses`, ours: name, baseline: 'api', kind: 'time' }, oursMs, baselineMs));
}
reportRows('portal', rows, { licenses: N, trail: TRAIL });
