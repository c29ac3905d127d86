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

  it('exit 1 whenever the answer is no: access denied, a user holding another seat type; 0 for yes', async () => {
    const store = join(mkdtempSync(join(tmpdir(), 'licit-seats-store-')), 's');
    dirs.push(join(store, '..'));
    const key = await keyFile({ basic: 2, advanced: 1 });
    const seats = (...args: string[]) => licit(['seats', '--store', store, '--license', key, '--public-key', vendor.pubPath, ...args]);
    expect(seats('assign', 'ann', 'basic').code).toBe(0);
    expect(seats('access', 'ann').code).toBe(0);
    const denied = seats('access', 'nobody');
    expect([denied.code, denied.stdout.trim()]).toEqual([1, expect.stringMatching(/^nobody: denied \(ERR_USER_NOT_FOUND/)]);
    expect(seats('access', 'nobody', '--admin').code).toBe(0); // admin-only: an administrator may reach administration
    const conflict = seats('assign', 'ann', 'advanced', '--json');
    expect(conflict.code).toBe(1);
    expect(conflict.json().error?.code).toBe('ERR_SEAT_CONFLICT');
    // Ids are one form: ' ann ' is ann.
    expect(seats('access', ' ann ').code).toBe(0);
  });

  it('an expired license: admins list, release and check access (with a warning); assigning is refused', async () => {
    const store = join(mkdtempSync(join(tmpdir(), 'licit-seats-store-')), 's');
    const d = mkdtempSync(join(tmpdir(), 'licit-seats-exp-'));
    dirs.push(join(store, '..'), d);
    // Issued two years ago, expired last year; assigned while it was valid.
    const issued = new Date(Date.now() - 2 * 365 * 86_400_000);
    const old = join(d, 'old.key');
    writeFileSync(old, await vendor.issue({ licenseId: 'exp-lic', seats: { basic: 2 }, expiresAt: new Date(Date.now() - 365 * 86_400_000) }, issued));
    const { FileStore } = await import('../src/node/store/file-store.js');
    const { SeatManager } = await import('../src/core/seats/index.js');
    const fs = new FileStore(store);
    await new SeatManager(fs, { id: 'exp-lic', seats: { basic: 2 } }).assign('ann', 'basic');
    await fs.close();
    const seats = (...args: string[]) => licit(['seats', '--store', store, '--license', old, '--public-key', vendor.pubPath, ...args]);
    const list = seats('list', '--json');
    expect(list.code, list.stderr).toBe(0);
    expect(list.json()).toMatchObject({ ok: true, seats: [{ userId: 'ann', type: 'basic' }] });
    expect(seats('list').stderr).toMatch(/warning: the license expired at .*managing its seats anyway/);
    expect(seats('usage').code).toBe(0);
    const assign = seats('assign', 'bob', 'basic', '--json');
    expect([assign.code, assign.json().error?.code]).toEqual([1, 'ERR_LICENSE_EXPIRED']);
    expect(seats('release', 'ann', '--json').json()).toMatchObject({ ok: true, released: true });
  });

  it('migrate-ids: a dry run, then the merge of two forms of one user, audited; list warns until then', async () => {
    const store = join(mkdtempSync(join(tmpdir(), 'licit-seats-store-')), 's');
    dirs.push(join(store, '..'));
    const key = await keyFile({ basic: 3 });
    const { FileStore } = await import('../src/node/store/file-store.js');
    const fs = new FileStore(store);
    await fs.transaction('cli-lic', async (tx) => {
      tx.put('seat', 'ann', { type: 'basic', since: '2030-01-02T00:00:00.000Z' });
      tx.put('seat', ' ann ', { type: 'basic', since: '2030-01-01T00:00:00.000Z' });
      tx.put('meta', 'counters', { seats: { basic: 2 }, users: 0, activations: 0, transfers: 0 });
    });
    await fs.close();
    const seats = (...args: string[]) => licit(['seats', '--store', store, '--license', key, '--public-key', vendor.pubPath, ...args]);
    expect(seats('list').stderr).toMatch(/1 user id\(s\) stored before ids were normalised \(" ann "\)/);
    const dry = seats('migrate-ids', '--dry-run', '--json');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json()).toMatchObject({ ok: true, dryRun: true, seats: [{ userId: 'ann', kept: ' ann ', seatsFreed: ['basic'] }] });
    expect(seats('usage').stdout).toMatch(/basic\t3\t2\t1/);
    const done = seats('migrate-ids', '--actor', 'admin');
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/^Merged:/);
    expect(seats('usage').stdout).toMatch(/basic\t3\t1\t2/);
    expect(seats('list', '--json').json()).toMatchObject({ seats: [{ userId: 'ann', since: '2030-01-01T00:00:00.000Z' }] });
    const kinds = (seats('events', '--json').json() as unknown as { events: Array<{ kind: string; actor: string }> }).events.map((e) => [e.kind, e.actor]);
    expect(kinds).toEqual([['seat.released', 'admin'], ['user.ids-normalized', 'admin']]);
    expect(seats('migrate-ids').stdout).toMatch(/nothing to do/);
    expect(seats('migrate-ids', '--dry-run', 'extra').code).toBe(2);
    expect(seats('list', '--dry-run').code).toBe(2);
    expect(seats('migrate-id').stderr).toMatch(/Did you mean "migrate-ids"/);
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
