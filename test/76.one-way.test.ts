/**
 * One way to do each thing: the report range parser shared by `licit report` and
 * `GET /v1/admin/reports` (same refusals, word for word), the one list of audit event kinds, and
 * the one way to open a store from a string (`LICIT_STORE=postgres://…` for the server).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { ADMIN_KINDS, AUDIT_KINDS, EVENT_KINDS, USER_AUTH_KINDS, auditEvent } from '../src/core/store/audit-event.js';
import { ADMIN_KINDS as ADMIN_LIST, EVENT_KINDS as ADMIN_EVENT_LIST, adminEvent, parseRangeText, readVerifiedLog, resolveRange } from '../src/core/admin/index.js';
import { AUDIT_KINDS as SEAT_LIST, auditEvent as seatEvent } from '../src/core/seats/index.js';
import { USER_AUTH_KINDS as SERVER_AUTH_KINDS } from '../src/server/index.js';
import { licit } from './helpers/cli.js';
import { createLicenseServer } from '../src/server/index.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';
import { makeVendor } from './helpers/vendor.js';

const TOKEN = 'admin-secret-token';

describe('one range parser for the CLI and the server', () => {
  // [query string, CLI flags]: the same range given both ways.
  const cases: [string, string[]][] = [
    ['range=year', ['--range', 'year']],
    ['range=custom&from=2027-01-01', ['--range', 'custom', '--from', '2027-01-01']],
    ['range=custom&to=2027-01-01', ['--range', 'custom', '--to', '2027-01-01']],
    ['range=custom&from=2027-02-30&to=2027-03-10', ['--range', 'custom', '--from', '2027-02-30', '--to', '2027-03-10']],
    ['range=custom&from=2027-01-01&to=soon', ['--range', 'custom', '--from', '2027-01-01', '--to', 'soon']],
    ['range=custom&from=2027-01-01&to=2027-02-01&at=2027-01-05', ['--range', 'custom', '--from', '2027-01-01', '--to', '2027-02-01', '--at', '2027-01-05']],
    ['range=day&from=2027-01-01', ['--range', 'day', '--from', '2027-01-01']],
    ['range=month&to=2027-01-01', ['--range', 'month', '--to', '2027-01-01']],
    ['range=week&at=yesterday', ['--range', 'week', '--at', 'yesterday']],
    ['range=day&at=', ['--range', 'day', '--at', '']],
  ];

  it('refuses each bad range with the same ERR_USAGE message from `licit report` and GET /v1/admin/reports', async () => {
    const vendor = makeVendor();
    const server = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new MemoryStore(), adminToken: TOKEN });
    const admin = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const key = await vendor.issue({ licenseId: 'LIC-RANGE', maxActivations: 2 });
    expect((await server.handle(new Request('http://x/v1/admin/licenses', { method: 'POST', headers: admin, body: JSON.stringify({ license: key }) }))).status).toBe(200);
    for (const [qs, flags] of cases) {
      const res = await server.handle(new Request(`http://x/v1/admin/reports?licenseId=LIC-RANGE&${qs}`, { headers: admin }));
      const http = ((await res.json()) as { error: { code: string; message: string } }).error;
      expect(res.status, qs).toBe(400);
      // The built CLI, as a user runs it: exit 2 and the same code and message.
      const cli = licit(['report', '--store', '/nonexistent/licit-store', '--license-id', 'LIC-RANGE', ...flags, '--json']);
      expect(cli.code, qs).toBe(2);
      const { code, message } = cli.json().error as { code: string; message: string };
      expect({ code, message }, qs).toEqual({ code: 'ERR_USAGE', message: http.message });
      expect(http.code).toBe('ERR_USAGE');
      // And the parser itself says the same.
      const p = new URLSearchParams(qs);
      const direct = (() => {
        try {
          parseRangeText({ range: p.get('range') ?? undefined, at: p.get('at') ?? undefined, from: p.get('from') ?? undefined, to: p.get('to') ?? undefined });
        } catch (err) {
          return (err as Error).message;
        }
        return undefined;
      })();
      expect(direct, qs).toBe(http.message);
    }
  });

  it('parses good ranges the same way for both', () => {
    expect(parseRangeText({ range: 'day' })).toBe('day');
    expect(parseRangeText({}, { default: 'month' })).toBe('month');
    expect(parseRangeText({ range: 'week', at: '2027-03-03T10:00:00Z' })).toEqual({ kind: 'week', at: new Date('2027-03-03T10:00:00Z') });
    // A date alone stays text, so a report in a named time zone reads it as that zone's day;
    // resolved without a zone it is the UTC midnight it always was.
    const custom = parseRangeText({ range: 'custom', from: '2027-01-01', to: '2027-02-01' });
    expect(custom).toEqual({ kind: 'custom', from: '2027-01-01', to: '2027-02-01' });
    expect(resolveRange(custom, 0)).toMatchObject({ from: Date.parse('2027-01-01T00:00:00Z'), to: Date.parse('2027-02-01T00:00:00Z') });
  });
});

describe('one list of event kinds, one builder', () => {
  it('EVENT_KINDS holds every kind licit writes, once', () => {
    expect(new Set(EVENT_KINDS).size).toBe(EVENT_KINDS.length);
    expect([...EVENT_KINDS]).toEqual([...AUDIT_KINDS, ...ADMIN_KINDS, ...USER_AUTH_KINDS]);
    for (const k of ['license.registered', 'exchange.refused', 'credits.overspent', 'user.password-set', 'user.locked', 'seat.assigned']) expect(EVENT_KINDS).toContain(k);
    expect(SEAT_LIST).toBe(AUDIT_KINDS);
    expect(ADMIN_LIST).toBe(ADMIN_KINDS);
    expect(ADMIN_EVENT_LIST).toBe(EVENT_KINDS);
    expect(SERVER_AUTH_KINDS).toBe(USER_AUTH_KINDS);
    expect(adminEvent).toBe(auditEvent);
    expect(seatEvent).toBe(auditEvent);
  });
});

describe('one way to open a store from a string', () => {
  let pg: TestPostgres | undefined;
  const saved = process.env.LICIT_STORE;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.LICIT_STORE;
    else process.env.LICIT_STORE = saved;
    await pg?.stop();
  });

  it('createLicenseServer without a store honours LICIT_STORE=postgres://… (a PostgresStore, hash-chained)', async () => {
    const vendor = makeVendor();
    const pgUrl = (pg as TestPostgres).url;
    const licenseId = `LIC-PGENV-${Date.now()}`;
    process.env.LICIT_STORE = pgUrl;
    const server = createLicenseServer({ signingKey: vendor.privateKeyPem, adminToken: TOKEN });
    const admin = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const post = async (path: string, body: unknown) => server.handle(new Request(`http://x${path}`, { method: 'POST', headers: admin, body: JSON.stringify(body) }));
    const reg = await post('/v1/admin/licenses', { license: await vendor.issue({ licenseId, maxUsers: 3 }) });
    expect(reg.status, await reg.clone().text()).toBe(200);
    expect((await post('/v1/admin/users', { licenseId, userId: 'ann@example.com' })).status).toBe(200);
    const log = (await (await server.handle(new Request(`http://x/v1/admin/log?licenseId=${licenseId}`, { headers: admin }))).json()) as { events: { kind: string }[] };
    expect(log.events.map((e) => e.kind)).toEqual(['license.registered', 'user.added']);
    // The records are in PostgreSQL (schema licit), chained, where a second reader finds them.
    const { PostgresStore } = await import('../src/postgres/index.js');
    const direct = new PostgresStore({ connectionString: pgUrl, poolSize: 1 });
    try {
      const verified = await readVerifiedLog(direct, licenseId);
      expect(verified.events.map((e) => e.kind)).toEqual(['license.registered', 'user.added']);
      expect(verified.head.seq).toBe(2);
    } finally {
      await direct.close();
      rmSync(vendor.dir, { recursive: true, force: true });
    }
  });

  it('the CLI and the server open the same way: without the optional `pg`, a postgres:// store is ERR_STORE_UNAVAILABLE naming pg', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'licit-76-'));
    try {
      // A resolve hook that makes `pg` unresolvable, as where it is not installed.
      writeFileSync(
        join(dir, 'no-pg.mjs'),
        `export async function resolve(s, c, next) { if (s === 'pg' || s.startsWith('pg/')) { const e = new Error("Cannot find package 'pg' imported from " + c.parentURL); e.code = 'ERR_MODULE_NOT_FOUND'; throw e; } return next(s, c); }\n`,
      );
      writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'no-pg.mjs')).href)});\n`);
      const dist = (f: string) => JSON.stringify(new URL(`../dist/${f}`, import.meta.url).href);
      const script = `
        const { openStore, openStoreLazily } = await import(${dist('server/open-store.js')});
        const { createLicenseServer } = await import(${dist('server/index.js')});
        const out = {};
        const url = 'postgres://nobody@127.0.0.1:1/none';
        await openStore(url, { applicationName: 't' }).catch((e) => (out.cli = { code: e.code, message: e.message }));
        await openStoreLazily(url, { applicationName: 't', flag: 'LICIT_STORE' }).events('x').catch((e) => (out.lazy = { code: e.code, message: e.message }));
        process.env.LICIT_STORE = url;
        const server = createLicenseServer({ signingKey: process.env.KEY, adminToken: 't' });
        const res = await server.handle(new Request('http://x/v1/admin/events?licenseId=x', { headers: { authorization: 'Bearer t' } }));
        out.status = res.status;
        console.log(JSON.stringify(out));`;
      const vendor = makeVendor();
      const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, KEY: vendor.privateKeyPem }, timeout: 60_000 });
      rmSync(vendor.dir, { recursive: true, force: true });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as { cli: { code: string; message: string }; lazy: { code: string; message: string }; status: number };
      expect(out.cli.code).toBe('ERR_STORE_UNAVAILABLE');
      expect(out.cli.message).toMatch(/--store names a PostgreSQL database, but the "pg" package is not installed.*npm install pg/);
      expect(out.lazy.code).toBe('ERR_STORE_UNAVAILABLE');
      expect(out.lazy.message).toMatch(/^LICIT_STORE names a PostgreSQL database, but the "pg" package is not installed/);
      expect(out.status).toBe(503);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
