/**
 * An attacker's review of the last round (re-issue and add seats, the license index, the audit
 * tail, PostgreSQL transactions with read hints), against a real server over HTTP, a FileStore's
 * files on disk and an embedded PostgreSQL with two stores standing for two processes. Each test
 * is an attack; where it found a weakness, the test failed before its fix.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withAuditChain } from '../src/core/admin/chained-store.js';
import { LICENSE_INDEX_ID } from '../src/core/admin/license-index.js';
import { inspectLicense } from '../src/core/license/inspect.js';
import { verifyLicense } from '../src/core/license/verify.js';
import type { Store } from '../src/core/store/store.js';
import { FileStore } from '../src/node/store/file-store.js';
import { PostgresStore } from '../src/postgres/index.js';
import { createLicenseServer, type LicenseServer } from '../src/server/index.js';
import { registerLicense } from '../src/server/license-registry.js';
import { addSeats } from '../src/server/reissue.js';
import { licenseDir, records, rewriteRecords, segment } from './helpers/file-store-disk.js';
import { Browser } from './helpers/portal.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';
import { makeVendor } from './helpers/vendor.js';

const TOKEN = 'attack-review-admin-token-0123456789';
const LOW = { N: 1024, r: 8, p: 1 };
const vendor = makeVendor();
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'licit-94-'));
  dirs.push(d);
  return d;
};

interface Served {
  server: LicenseServer;
  base: string;
  store: FileStore;
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: Record<string, any> }>;
  close(): Promise<void>;
}

/** A license server over a FileStore in `dir`, listening on a port of its own. */
async function serve(dir: string, pageSize = 50): Promise<Served> {
  const store = new FileStore(dir);
  const server = createLicenseServer({ signingKey: vendor.privateKeyPem, store, adminToken: TOKEN, accessLog: false, rateLimit: false, portal: { scrypt: LOW, pageSize } });
  const bound = await server.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${bound.port}`;
  const api: Served['api'] = async (method, path, body, headers = {}) => {
    const res = await fetch(base + path, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  return { server, base, store, api, close: async () => (await bound.close(100), await store.close()) };
}

/** A customer administrator of `code`, signed in with a chosen password. */
async function customer(s: Served, code: string, customers: string[]): Promise<Browser> {
  expect((await s.api('POST', '/v1/admin/portal/companies', { code, name: code, customers })).status).toBe(200);
  const email = `it@${code.toLowerCase()}.example`;
  expect((await s.api('POST', '/v1/admin/portal/accounts', { code, email, password: `${code}-initial-1` })).status).toBe(200);
  const b = new Browser(s.base);
  expect((await b.signIn({ company: code, email, password: `${code}-initial-1` })).status).toBe(303);
  const csrf = await b.csrf('/portal/password');
  expect((await b.post('/portal/password', { csrf, current: `${code}-initial-1`, next: `${code}-chosen-pass`, repeat: `${code}-chosen-pass` })).res.status).toBe(303);
  return b;
}

const issue = async (s: Served, licenseId: string, claims: Record<string, unknown>) =>
  expect((await s.api('POST', '/v1/admin/licenses', { license: await vendor.issue({ licenseId, ...claims }) })).status).toBe(200);
const issueCount = async (s: Served, licenseId: string) => ((await s.api('GET', `/v1/admin/license?licenseId=${encodeURIComponent(licenseId)}`)).body.issues as unknown[]).length;
const seatsOfNewest = async (s: Served, licenseId: string) => {
  const issues = (await s.api('GET', `/v1/admin/license?licenseId=${encodeURIComponent(licenseId)}`)).body.issues as { text: string }[];
  return inspectLicense((issues.at(-1) as { text: string }).text).claims.seats;
};

let s: Served;
let acme: Browser;
let vendorBrowser: Browser;
beforeAll(async () => {
  s = await serve(tempDir(), 20);
  await issue(s, 'A-1', { customer: 'Acme', seats: { basic: 10, pro: 2 } });
  await issue(s, 'B-1', { customer: 'Bolt', seats: { basic: 5 } });
  acme = await customer(s, 'ACME', ['Acme']);
  vendorBrowser = new Browser(s.base);
  expect((await vendorBrowser.signIn({ token: TOKEN })).status).toBe(303);
}, 30_000);

afterAll(async () => {
  await s?.close();
  for (const d of [...dirs, vendor.dir]) rmSync(d, { recursive: true, force: true });
});

describe('re-issue and add seats', () => {
  it('held: a customer with a valid form token re-issues or adds seats to no license, its own included, by any path', async () => {
    const before = [await issueCount(s, 'A-1'), await issueCount(s, 'B-1')];
    const csrf = await acme.csrf('/portal/licenses/A-1');
    for (const id of ['A-1', 'B-1', 'A%2D1']) {
      for (const path of [`/portal/licenses/${id}/reissue`, `/portal/licenses/${id}/seats/add`]) {
        const r = await acme.post(path, { csrf, seats: 'basic=999', expires: '2099-12-31', type: 'basic', add: '500', idempotencyKey: 'k' });
        expect([path, r.res.status]).toEqual([path, 404]);
      }
    }
    // The admin routes want the admin token, not a portal session.
    const api = await fetch(`${s.base}/v1/admin/licenses/seats`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: acme.cookieHeader() }, body: JSON.stringify({ licenseId: 'A-1', type: 'basic', add: 1 }) });
    expect(api.status).toBe(401);
    expect([await issueCount(s, 'A-1'), await issueCount(s, 'B-1')]).toEqual(before);
  });

  it('fixed: the Add seats form sent twice (a double click, a browser retry) adds once', async () => {
    const page = (await vendorBrowser.get('/portal/licenses/A-1/seats')).body;
    const form = /<form[^>]*action="\/portal\/licenses\/A-1\/seats\/add"[^>]*>(?:(?!<\/form>)[\s\S])*name="type" value="pro"(?:(?!<\/form>)[\s\S])*<\/form>/.exec(page)?.[0] ?? '';
    const field = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(form)?.[1];
    expect(field('idempotencyKey'), 'the Add seats form carries no idempotency key').toMatch(/^[\w-]{16,}$/);
    const sent = { csrf: field('csrf') as string, type: 'pro', add: '3', idempotencyKey: field('idempotencyKey') as string };
    const before = await issueCount(s, 'A-1');
    for (let i = 0; i < 2; i++) expect((await vendorBrowser.post('/portal/licenses/A-1/seats/add', sent)).res.status).toBe(303);
    expect((await vendorBrowser.get('/portal/licenses/A-1/seats')).body).toContain('were added already');
    expect(await issueCount(s, 'A-1')).toBe(before + 1);
    expect((await seatsOfNewest(s, 'A-1')).pro).toBe(5);
  });

  it('fixed: prototype names as a user type are a type the license has or none, never one of Object.prototype', async () => {
    const before = await issueCount(s, 'B-1');
    for (const type of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const r = await s.api('POST', '/v1/admin/licenses/seats', { licenseId: 'B-1', type, add: 1 });
      expect([type, r.body.error?.code]).toEqual([type, 'ERR_UNKNOWN_USER_TYPE']);
      expect(r.body.error.message).not.toMatch(/native code|object Object/);
    }
    expect(await issueCount(s, 'B-1')).toBe(before);
    // A re-issue setting seats of "__proto__": refused as no type name (before, the change vanished in an assignment and a key was signed without it).
    const send = async (body: string) => {
      const res = await fetch(`${s.base}/v1/admin/licenses/reissue`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };
    const proto = await send('{"licenseId":"B-1","seats":{"__proto__":4}}');
    expect([proto.status, proto.body.error?.code]).toEqual([400, 'ERR_KEY_INVALID_CLAIM']);
    expect(await issueCount(s, 'B-1')).toBe(before);
    // "constructor" is a name like any other: set, then added to.
    const set = await send('{"licenseId":"B-1","seats":{"constructor":4}}');
    expect([set.status, set.body.seats]).toEqual([200, [{ type: 'constructor', from: 0, to: 4 }]]);
    const added = await s.api('POST', '/v1/admin/licenses/seats', { licenseId: 'B-1', type: 'constructor', add: 2 });
    expect([added.body.from, added.body.to]).toEqual([4, 6]);
    expect(Object.entries(await seatsOfNewest(s, 'B-1'))).toEqual([['basic', 5], ['constructor', 6]]);
  });

  it('held: bad bodies are refused with nothing signed, idempotency keys are bounded and scoped, a suspended license stays suspended, a revoked one is refused', async () => {
    const before = await issueCount(s, 'A-1');
    const bad: Array<Record<string, unknown>> = [
      { licenseId: 'A-1', type: 'basic', add: -1 },
      { licenseId: 'A-1', type: 'basic', add: 0 },
      { licenseId: 'A-1', type: 'basic', add: 1.5 },
      { licenseId: 'A-1', type: 'basic', add: '5' },
      { licenseId: 'A-1', type: 'basic', add: 1e300 },
      { licenseId: 'A-1', type: 'basic', add: Number.MAX_SAFE_INTEGER },
      { licenseId: 'A-1', type: 'x'.repeat(16_385), add: 1 },
      { licenseId: 'A-1', type: 'basic', add: 1, idempotencyKey: 'k'.repeat(129) },
      { licenseId: 'A-1', type: 'basic', add: 1, idempotencyKey: 'bad\nkey' },
    ];
    for (const b of bad) {
      const r = await s.api('POST', '/v1/admin/licenses/seats', b);
      expect([String(b.add).slice(0, 20), r.status]).toEqual([String(b.add).slice(0, 20), 400]);
    }
    for (const seats of [{ basic: -1 }, { basic: 1e12 }, { basic: null }, { basic: 'NaN' }]) expect((await s.api('POST', '/v1/admin/licenses/reissue', { licenseId: 'A-1', seats })).status).toBe(400);
    expect(await issueCount(s, 'A-1')).toBe(before);
    // One key: per license (another license's change is another change), and one change per key.
    const k = { idempotencyKey: 'top-up-1', source: 'auto' };
    expect((await s.api('POST', '/v1/admin/licenses/seats', { licenseId: 'A-1', type: 'basic', add: 1, ...k })).body.reissued).toBe(true);
    expect((await s.api('POST', '/v1/admin/licenses/seats', { licenseId: 'B-1', type: 'basic', add: 1, ...k })).body.reissued).toBe(true);
    expect((await s.api('POST', '/v1/admin/licenses/seats', { licenseId: 'A-1', type: 'basic', add: 1, ...k })).body.reissued).toBe(false);
    expect((await s.api('POST', '/v1/admin/licenses/seats', { licenseId: 'A-1', type: 'pro', add: 1, ...k })).body.error?.code).toBe('ERR_IDEMPOTENCY_CONFLICT');
    expect((await s.api('POST', '/v1/admin/licenses/reissue', { licenseId: 'A-1', maxUsers: 3, ...k })).body.error?.code).toBe('ERR_IDEMPOTENCY_CONFLICT');
    expect(await issueCount(s, 'A-1')).toBe(before + 1);

    await issue(s, 'S-1', { customer: 'Acme', seats: { basic: 1 } });
    expect((await s.api('POST', '/v1/admin/licenses/suspend', { licenseId: 'S-1' })).status).toBe(200);
    expect((await s.api('POST', '/v1/admin/licenses/seats', { licenseId: 'S-1', type: 'basic', add: 1, idempotencyKey: 'before-revoke' })).status).toBe(200);
    expect((await s.api('GET', '/v1/admin/license?licenseId=S-1')).body.entry.state).toBe('suspended');
    expect((await s.api('POST', '/v1/admin/licenses/revoke', { licenseId: 'S-1' })).status).toBe(200);
    const n = await issueCount(s, 'S-1');
    expect((await s.api('POST', '/v1/admin/licenses/seats', { licenseId: 'S-1', type: 'basic', add: 1 })).body.error?.code).toBe('ERR_LICENSE_STATE');
    // The earlier key answers the earlier result; nothing new is signed for a revoked license.
    expect((await s.api('POST', '/v1/admin/licenses/seats', { licenseId: 'S-1', type: 'basic', add: 1, idempotencyKey: 'before-revoke' })).body.reissued).toBe(false);
    expect(await issueCount(s, 'S-1')).toBe(n);
    expect((await s.api('GET', '/v1/admin/license?licenseId=S-1')).body.entry.state).toBe('revoked');
  });

  it('held: top-ups from two processes at once (two FileStores on one directory) all land', async () => {
    const dir = tempDir();
    const [a, b] = [withAuditChain(new FileStore(dir)), withAuditChain(new FileStore(dir))];
    const l = await verifyLicense(await vendor.issue({ licenseId: 'C-1', customer: 'Acme', seats: { basic: 1 } }), { publicKeys: [vendor.publicKeyPem] });
    await registerLicense({ store: a, now: Date.now }, l, 'admin');
    const top = (store: Store, i: number) => addSeats({ store, signingKey: vendor.privateKeyPem }, 'C-1', 'basic', 1, { source: 'auto', actor: 'robot', idempotencyKey: `t-${i}` });
    const done = await Promise.all(Array.from({ length: 12 }, (_, i) => top(i % 2 === 0 ? a : b, i)));
    expect(done.every((r) => r.reissued)).toBe(true);
    expect(done.map((r) => r.to).sort((x, y) => x - y)).toEqual(Array.from({ length: 12 }, (_, i) => i + 2));
    const events = (await b.events('C-1')).filter((e) => e.kind === 'seats.changed');
    expect(events.length).toBe(12);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('the license index', () => {
  it('held: look-alike customers, a stale or forged index entry, a license moved to another customer and odd page parameters show a company nothing of another', async () => {
    for (const [id, customer] of [['X-1', 'Acme Corp'], ['X-2', 'acme'], ['X-3', 'Αcme'], ['X-4', 'Acme.'], ['X-5', 'Acme ']] as const) await issue(s, id, { customer });
    await issue(s, 'M-1', { customer: 'Acme' });
    // A stale or forged entry in the index naming B-1 as Acme's, and M-1 moved to Bolt by a newer key.
    await s.store.transaction(LICENSE_INDEX_ID, async (tx) => {
      tx.put('license-index', `c\n${JSON.stringify('Acme')}\nB-1`, {});
      tx.put('license-index', `c\n${JSON.stringify('Acme')}\nX-1`, {});
    });
    await new Promise((r) => setTimeout(r, 1100)); // a newer issue time
    await issue(s, 'M-1', { customer: 'Bolt' });
    const foreign = ['B-1', 'X-1', 'X-2', 'X-3', 'X-4', 'X-5', 'M-1'];
    for (const q of ['', 'acme', 'B-1', 'X', 'M-1', 'Bolt', '\u0391']) {
      for (const p of ['1', '0', '-1', 'abc', '1e400', '99999999999999', '1.5', '2']) {
        const { res, body } = await acme.get(`/portal/licenses?q=${encodeURIComponent(q)}&page=${encodeURIComponent(p)}`);
        expect(res.status).toBe(200);
        for (const id of foreign) expect([q, p, id, body.includes(`href="/portal/licenses/${id}"`)]).toEqual([q, p, id, false]);
      }
    }
    expect((await acme.get('/portal/licenses')).body).toContain('href="/portal/licenses/A-1"');
    for (const id of foreign) expect([id, (await acme.get(`/portal/licenses/${encodeURIComponent(id)}`)).res.status]).toEqual([id, 404]);
  });
});

describe('the audit tail on a FileStore edited on disk', () => {
  it('held: the log page says verified only for what it read; an edit, a cut tail or an event written around the chain is refused', async () => {
    const dir = tempDir();
    let srv = await serve(dir, 20);
    await issue(srv, 'LOG-1', { customer: 'Acme' });
    await srv.close();
    const chained = withAuditChain(new FileStore(dir));
    for (let t = 0; t < 3; t++) {
      await chained.transaction('LOG-1', async (tx) => {
        for (let i = 1; i <= 40; i++) tx.append({ at: new Date(Date.now() - 3_600_000 + t * 100 + i).toISOString(), actor: 'test', kind: 'lease.checked-out', details: { n: t * 40 + i } });
      });
    }
    await chained.close();
    const seg = () => {
      const d = licenseDir(dir, 'LOG-1');
      const gens = readdirSync(d).filter((f) => f.startsWith('log-')).sort();
      return join(d, gens.at(-1) as string);
    };
    const total = records(seg()).reduce((n, r) => n + r.e.length, 0);
    const pageOf = async (query = '') => {
      srv = await serve(dir, 20);
      const b = new Browser(srv.base);
      expect((await b.signIn({ token: TOKEN })).status).toBe(303);
      const r = await b.get(`/portal/licenses/LOG-1/log${query}`);
      await srv.close();
      return r;
    };
    const clean = await pageOf();
    expect(clean.res.status).toBe(200);
    expect(clean.body).toContain(`events ${total - 20} to ${total} (the newest`);
    expect(clean.body).not.toContain(`all ${total} events`);

    /** Rewrite the event `seq` (with valid frame checksums, as an attacker with the disk would). */
    const edit = (fn: (e: unknown[]) => unknown[] | undefined) =>
      rewriteRecords(seg(), (recs) => recs.map((r) => ({ seq: r.seq, json: { ...r.json, e: (r.json.e as unknown[][]).map(fn).filter((x) => x !== undefined) } })));
    // Older than the page: the page claims only events it read; verify=all refuses event 5.
    edit((e) => (e[0] === 5 ? [e[0], e[1], e[2], e[3], { ...(e[4] as object), n: 999 }] : e));
    const older = await pageOf();
    expect(older.res.status).toBe(200);
    expect(older.body).toContain(`events ${total - 20} to ${total} (the newest`);
    const whole = await pageOf('?verify=all');
    expect([whole.res.status, whole.body.includes('ERR_AUDIT_TAMPERED'), whole.body.includes('was verified')]).toEqual([403, true, false]);
    // Within the page: refused, nothing claimed.
    edit((e) => (e[0] === total - 3 ? [e[0], e[1], 'intruder', e[3], e[4]] : e));
    const within = await pageOf();
    expect([within.body.includes('ERR_AUDIT_TAMPERED'), within.body.includes('was verified')]).toEqual([true, false]);
    edit((e) => (e[0] === total - 3 ? [e[0], e[1], 'test', e[3], e[4]] : e));
    expect((await pageOf()).res.status).toBe(200);
    // The newest event cut (its head kept), and an event written around the chain after the head.
    const newest = records(seg()).flatMap((r) => r.e).at(-1) as unknown[];
    edit((e) => (e[0] === total ? undefined : e));
    const cut = await pageOf();
    expect([cut.res.status === 200, cut.body.includes('was verified')]).toEqual([false, false]);
    edit((e) => e);
    rewriteRecords(seg(), (recs) => {
      const last = recs.at(-1) as { seq: number; json: { e: unknown[] } };
      return [...recs.slice(0, -1), { seq: last.seq, json: { ...last.json, e: [...last.json.e, newest] } }, { seq: last.seq + 1, json: { w: [], e: [[total + 1, new Date().toISOString(), 'sneaky', 'device.reset', {}]] } }];
    });
    const around = await pageOf();
    expect([around.body.includes('ERR_AUDIT_TAMPERED'), around.body.includes('was verified')]).toEqual([true, false]);
  }, 30_000);
});

describe('PostgreSQL: hinted reads racing another process', () => {
  let pg: TestPostgres;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await pg?.stop();
  });

  it('held: a hinted record changed by another store between the first read and the commit makes the transaction run again, never a lost update', async () => {
    const schema = pg.schema();
    const [a, b] = [new PostgresStore({ connectionString: pg.url, schema, poolSize: 4 }), new PostgresStore({ connectionString: pg.url, schema, poolSize: 4 })];
    const hint = { reads: { records: [['ctr', 'n']] as [string, string][], kinds: ['item'] } };
    await a.transaction('pg-1', async (tx) => tx.put('ctr', 'n', { n: 0 }));
    // Deterministic: A has made its first read (the hinted record, and the kind it lists) when B commits.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let runs = 0;
    const slow = a.transaction(
      'pg-1',
      async (tx) => {
        runs++;
        const n = Number((await tx.get('ctr', 'n'))?.n);
        const items = (await tx.list('item')).length;
        if (runs === 1) await gate;
        tx.put('ctr', 'n', { n: n + 1, items });
        tx.put('item', `a${runs}`, {});
      },
      hint,
    );
    await new Promise((r) => setTimeout(r, 200));
    await b.transaction('pg-1', async (tx) => {
      const n = Number((await tx.get('ctr', 'n'))?.n);
      tx.put('ctr', 'n', { n: n + 1, items: (await tx.list('item')).length });
      tx.put('item', 'b', {});
    }, hint);
    release();
    await slow;
    expect(runs).toBe(2);
    expect(await a.read('pg-1', (r) => r.get('ctr', 'n'))).toEqual({ n: 2, items: 1 });
    // Many at once from both: every increment lands.
    const inc = (store: PostgresStore) => store.transaction('pg-1', async (tx) => tx.put('ctr', 'n', { n: Number((await tx.get('ctr', 'n'))?.n) + 1 }), hint);
    await Promise.all(Array.from({ length: 30 }, (_, i) => inc(i % 2 === 0 ? a : b)));
    expect((await b.read('pg-1', (r) => r.get('ctr', 'n')))?.n).toBe(32);
    await Promise.all([a.close(), b.close()]);
  }, 60_000);
});
