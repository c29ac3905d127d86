/**
 * `GET /v1/openapi.json` describes every route the server answers, and nothing else: the routes
 * written in src/server are read from the source and compared with the document's paths both
 * ways; every documented operation is called (without a token, with a token and a wrong or empty
 * input, with a good one where that is cheap) and each status it answers must be documented for
 * that operation; every status a refusal maps to is documented somewhere.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { createLicenseServer } from '../src/server/index.js';
import { makeVendor } from './helpers/vendor.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const vendor = makeVendor();
const TOKEN = 'openapi-admin-token';
const server = createLicenseServer({ signingKey: vendor.privateKeyPem, store: new MemoryStore(), adminToken: TOKEN, rateLimit: false });

type Doc = { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: unknown; parameters?: { name: string; required: boolean }[] }>> };

async function getDoc(): Promise<Doc> {
  const res = await server.handle(new Request('http://x/v1/openapi.json'));
  expect(res.status).toBe(200);
  return (await res.json()) as Doc;
}

/**
 * Every `METHOD /v1/...` route key written in src/server and its folders (and the OpenAPI route
 * itself). The portal's pages under /portal are not matched: they are HTML for browsers, not the
 * JSON API this document describes (docs/portal.md lists them); its admin routes are /v1 and are.
 */
function routesInSource(): string[] {
  const dir = `${ROOT}src/server/`;
  const keys = new Set<string>();
  for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((n) => n.endsWith('.ts'))) {
    for (const m of readFileSync(dir + f, 'utf8').matchAll(/'(GET|POST|HEAD) (\/v1\/[a-z0-9/._-]*)'/g)) keys.add(`${m[1]} ${m[2]}`);
  }
  keys.add('GET /v1/openapi.json');
  keys.add('GET /v1/admin/metrics'); // written as a template in server.ts, like the OpenAPI path
  return [...keys].sort();
}

describe('OpenAPI description', () => {
  it('is OpenAPI 3.1 and documents exactly the routes the server has', async () => {
    const doc = await getDoc();
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
    expect(documented).toEqual(routesInSource());
    // Every $ref points at something in the document.
    const text = JSON.stringify(doc);
    for (const m of text.matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)) expect((doc as unknown as { components: { schemas: Record<string, unknown> } }).components.schemas).toHaveProperty(m[1] as string);
  });

  it("docs/server.md's endpoint table names every route", () => {
    // A route missing from the table is one a newcomer reading docs/server.md never finds
    // (GET /v1/admin/licenses, GET /v1/admin/license and the license state changes were only in cli.md).
    const doc = readFileSync(`${ROOT}docs/server.md`, 'utf8');
    const table = (doc.split('## Endpoints')[1] ?? '').split('\n## ')[0]?.replaceAll('\\|', '|') ?? '';
    const named = (method: string, path: string) => {
      const state = /^(.*)\/(suspend|revoke|reinstate)$/.exec(path);
      return new RegExp(`\`${method} ${path.replaceAll('.', '\\.')}[\` ]`).test(table) || (state !== null && table.includes(`\`${method} ${state[1]}/suspend|revoke|reinstate\``));
    };
    const missing = routesInSource().filter((r) => {
      const [method, path] = r.split(' ') as [string, string];
      return !named(method, path) && !(method === 'HEAD' && named('GET', path));
    });
    expect(missing).toEqual([]);
  });

  it('every status an operation answers is documented for it', async () => {
    const doc = await getDoc();
    const seen: string[] = [];
    const key = await vendor.issue({ licenseId: 'LIC-OAS' });
    await server.handle(new Request('http://x/v1/admin/licenses', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ license: key }) }));
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const attempts: { headers: Record<string, string>; body?: string; query?: string }[] = [{ headers: {} }];
        if (path.startsWith('/v1/admin/')) {
          const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
          attempts.push({ headers: auth, body: method === 'post' ? '{}' : undefined });
          attempts.push({ headers: auth, body: method === 'post' ? JSON.stringify({ licenseId: 'LIC-OAS', userId: 'ann', deviceId: 'nope', label: 'x', credits: 5 }) : undefined, query: '?licenseId=LIC-OAS' });
          attempts.push({ headers: auth, body: method === 'post' ? JSON.stringify({ licenseId: 'LIC-NONE', userId: 'ann', deviceId: 'nope', label: 'x' }) : undefined, query: '?licenseId=LIC-NONE' });
        } else if (method === 'post') {
          attempts.push({ headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request: 'LICITQ1-garbage' }) });
          attempts.push({ headers: { 'content-type': 'application/json' }, body: 'x'.repeat(70 * 1024) });
        }
        for (const a of attempts) {
          const res = await server.handle(new Request(`http://x${path}${a.query ?? ''}`, { method: method.toUpperCase(), headers: a.headers, ...(a.body === undefined ? {} : { body: a.body }) }));
          const status = String(res.status);
          seen.push(`${method.toUpperCase()} ${path} ${status}`);
          expect(Object.keys(op.responses), `${method.toUpperCase()} ${path} answered ${status}: ${await res.text()}`).toContain(status);
        }
      }
    }
    // The calls reached the interesting answers, not only the first refusal.
    for (const s of ['200', '400', '401', '404', '413']) expect(seen.some((x) => x.endsWith(` ${s}`)), s).toBe(true);
  });

  it('every HTTP status a licit error code maps to is documented', async () => {
    const doc = await getDoc();
    const all = new Set(Object.values(doc.paths).flatMap((ops) => Object.values(ops).flatMap((op) => Object.keys(op.responses))));
    const mapped = [...readFileSync(`${ROOT}src/server/responses.ts`, 'utf8').matchAll(/ERR_[A-Z_]+: (\d{3}),/g)].map((m) => m[1] as string);
    expect(mapped.length).toBeGreaterThan(10);
    for (const s of new Set([...mapped, '403'])) expect(all, s).toContain(s);
  });
});
