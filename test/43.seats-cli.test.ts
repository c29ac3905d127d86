/**
 * `licit seats` end to end: the built CLI as a real process, a real signed key, a FileStore
 * directory and a real PostgreSQL, with the JSON and exit-code contract.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { licit } from './helpers/cli.js';
import { makeVendor, type TestVendor } from './helpers/vendor.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';

let vendor: TestVendor;
let server: TestPostgres;
const dirs: string[] = [];
beforeAll(async () => {
  vendor = makeVendor();
  server = await startPostgres();
});
afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await server?.stop();
});

async function keyFile(seats: Record<string, number>): Promise<string> {
  const d = mkdtempSync(join(tmpdir(), 'licit-seats-cli-'));
  dirs.push(d);
  const path = join(d, 'license.key');
  writeFileSync(path, await vendor.issue({ licenseId: 'cli-lic', customer: 'ACME', seats }));
  return path;
}

describe('licit seats', () => {
  for (const kind of ['FileStore', 'PostgreSQL'] as const) {
    it(`assigns, lists, reports usage and refuses past the limit (${kind})`, async () => {
      const store = kind === 'FileStore' ? join(mkdtempSync(join(tmpdir(), 'licit-seats-store-')), 's') : server.url;
      if (kind === 'FileStore') dirs.push(join(store, '..'));
      const extra = kind === 'PostgreSQL' ? ['--schema', server.schema()] : [];
      const key = await keyFile({ basic: 2, advanced: 1 });
      const seats = (...args: string[]) => licit(['seats', '--store', store, '--license', key, '--public-key', vendor.pubPath, ...extra, ...args]);

      const a = seats('assign', 'ann@example.com', 'basic', '--json');
      expect(a.code, a.stdout + a.stderr).toBe(0);
      expect(a.json()).toMatchObject({ ok: true, userId: 'ann@example.com', type: 'basic', usage: { licensed: 2, inUse: 1 } });
      expect(seats('assign', 'bob@example.com', 'basic').code).toBe(0);
      const full = seats('assign', 'cy@example.com', 'basic', '--json');
      expect(full.code).toBe(1);
      expect(full.json()).toMatchObject({ ok: false, error: { code: 'ERR_SEATS_EXHAUSTED' } });
      expect(full.json().error!.message).toMatch(/2 licensed, 2 in use/);
      const text = seats('assign', 'cy@example.com', 'premium');
      expect([text.code, text.stdout]).toEqual([1, '']);
      expect(text.stderr).toMatch(/ERR_UNKNOWN_USER_TYPE/);
      expect(seats('list', '--json').json()).toMatchObject({ ok: true, seats: [{ userId: 'ann@example.com', type: 'basic' }, { userId: 'bob@example.com', type: 'basic' }] });
      expect(seats('usage').stdout).toMatch(/basic\t2\t2\t0/);
      expect(seats('release', 'bob@example.com', '--json').json()).toMatchObject({ ok: true, released: true });
      expect(seats('release', 'bob@example.com', '--json').json()).toMatchObject({ ok: false, error: { code: 'ERR_USER_NOT_FOUND' } });
      const ev = seats('events', '--json').json() as unknown as { events: Array<{ seq: number; kind: string; actor: string }> };
      expect(ev.events.map((e) => [e.seq, e.kind, e.actor])).toEqual([
        [1, 'seat.assigned', 'cli'],
        [2, 'seat.assigned', 'cli'],
        [3, 'seat.released', 'cli'],
      ]);
    });
  }

  it('after a key with fewer seats: admins admin-only, others denied, until a user is removed', async () => {
    const store = join(mkdtempSync(join(tmpdir(), 'licit-seats-store-')), 's');
    dirs.push(join(store, '..'));
    const big = await keyFile({ basic: 3 });
    const small = await keyFile({ basic: 2 });
    const seats = (key: string, ...args: string[]) => licit(['seats', '--store', store, '--license', key, '--public-key', vendor.pubPath, ...args]);
    for (const u of ['ann', 'bob', 'cy']) expect(seats(big, 'assign', u, 'basic').code).toBe(0);
    expect(seats(small, 'access', 'ann', '--json').json()).toMatchObject({ ok: true, access: 'denied', error: { code: 'ERR_SEATS_EXCEEDED' } });
    expect(seats(small, 'access', 'ann', '--admin', '--json').json()).toMatchObject({ ok: true, access: 'admin-only' });
    expect(seats(small, 'usage').stdout).toMatch(/OVER LIMIT/);
    expect(seats(small, 'release', 'cy').code).toBe(0);
    expect(seats(small, 'access', 'ann', '--json').json()).toMatchObject({ ok: true, access: 'full', type: 'basic' });
  });

  it('usage errors exit 2; a store it cannot reach exits 1 with ERR_STORE_UNAVAILABLE', async () => {
    const key = await keyFile({ basic: 1 });
    const base = ['seats', '--license', key, '--public-key', vendor.pubPath];
    expect(licit([...base, '--store', '/tmp/x', 'assign', 'only-user']).code).toBe(2);
    expect(licit([...base, '--store', '/tmp/x', 'frobnicate']).code).toBe(2);
    expect(licit([...base, 'list']).code).toBe(2);
    expect(licit([...base, '--store', '/tmp/x', 'list', '--admin']).code).toBe(2);
    const r = licit([...base, '--store', 'postgres://postgres:x@127.0.0.1:1/postgres', 'usage', '--json']);
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'ERR_STORE_UNAVAILABLE' } });
    // A forged key never reaches the store.
    const forged = licit(['seats', '--license', 'LICIT1-AAAA', '--public-key', vendor.pubPath, '--store', '/tmp/x', 'list', '--json']);
    expect(forged.code).toBe(1);
    expect(forged.json().ok).toBe(false);
  });
});
