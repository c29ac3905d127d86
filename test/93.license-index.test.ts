/**
 * Issue 17's scale work against real stores (MemoryStore, FileStore; a second FileStore on the same
 * directory stands for a second process): the license index (core/admin/license-index.ts) that a
 * company's licenses and the vendor's list read instead of every registry entry, and the audit
 * tail (core/admin/audit-tail.ts) the credits and log pages read instead of the whole trail.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readVerifiedLog } from '../src/core/admin/audit-chain.js';
import { withAuditChain } from '../src/core/admin/chained-store.js';
import { LICENSE_INDEX_ID, indexedLicensesOf } from '../src/core/admin/license-index.js';
import { recordIssueIn } from '../src/core/admin/registry.js';
import { computeVendorReport } from '../src/core/admin/vendor-report.js';
import { isLicenseError } from '../src/core/errors.js';
import { verifyLicense } from '../src/core/license/verify.js';
import type { License } from '../src/core/license/license.js';
import { MemoryStore } from '../src/core/store/memory-store.js';
import type { AuditEvent, Store } from '../src/core/store/store.js';
import { FileStore } from '../src/node/store/file-store.js';
import { registerLicense } from '../src/server/license-registry.js';
import { companyLicenses, createCompany } from '../src/server/portal/companies.js';
import { eventPage, verifiedNote } from '../src/server/portal/pages/event-page.js';
import { makeVendor } from './helpers/vendor.js';

const vendor = makeVendor();
const dirs: string[] = [];
afterAll(() => {
  for (const d of [...dirs, vendor.dir]) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'licit-index-'));
  dirs.push(d);
  return d;
};

let clock = Date.parse('2027-03-01T00:00:00Z');
/** A verified key for `licenseId` and `customer`, issued later than the one before. */
async function key(licenseId: string, customer: string): Promise<License> {
  clock += 60_000;
  return verifyLicense(await vendor.issue({ licenseId, customer }, new Date(clock)), { publicKeys: [vendor.publicKeyPem], now: () => clock });
}
const register = (store: Store, l: License) => registerLicense({ store, now: () => clock }, l, 'admin');
const ids = async (store: Store, customers: string[], licenseIds: string[] = []) => (await indexedLicensesOf(store, { customers, licenseIds })).map((e) => e.licenseId);
const companyIds = async (store: Store, code: string, customers: string[], licenseIds: string[] = []) =>
  (await companyLicenses(store, { code, name: code, customers, licenseIds, createdAt: '' })).map((e) => e.licenseId);

/** `inner` with a hook run before each transaction on the index (n counts them from 1). */
function hooked(inner: Store, before: (n: number) => Promise<void>): Store {
  let n = 0;
  return {
    transaction: async (id, fn) => {
      if (id === LICENSE_INDEX_ID) await before(++n);
      return inner.transaction(id, fn);
    },
    read: (id, fn) => inner.read(id, fn),
    events: (id, q) => inner.events(id, q),
    licenseIds: () => (inner.licenseIds as () => Promise<string[]>)(),
    close: () => inner.close(),
  };
}

const STORES: ReadonlyArray<readonly [string, () => Store]> = [
  ['MemoryStore', () => new MemoryStore()],
  ['FileStore', () => new FileStore(tempDir())],
];

describe.each(STORES)('the license index in a %s', (_name, open) => {
  it('an older store is indexed once; a company finds its licenses by customer and id, and follows a re-issue to another customer', async () => {
    const store = open();
    // Written before the index existed: the registry entry alone.
    for (const [id, customer] of [['L1', 'Acme'], ['L2', 'Bolt']] as const) {
      const l = await key(id, customer);
      await store.transaction(id, (tx) => recordIssueIn(tx, l, { actor: 'old', source: 'issuer', now: clock }));
    }
    await createCompany(store, { code: 'ACME', name: 'Acme', customers: ['Acme'], licenseIds: ['L3'] }, { actor: 'test' });
    await register(store, await key('L3', 'Cargo'));
    await register(store, await key('L4', 'Acme'));
    expect(await companyIds(store, 'ACME', ['Acme'], ['L3'])).toEqual(['L1', 'L3', 'L4']);
    // Re-issued to another customer: it moves in the index, and stays found once only.
    await register(store, await key('L1', 'Bolt'));
    expect(await companyIds(store, 'ACME', ['Acme'], ['L3'])).toEqual(['L3', 'L4']);
    expect(await ids(store, ['Bolt'])).toEqual(['L1', 'L2']);
    // Companies, trials' records and the index itself are no licenses in a vendor report.
    const report = await computeVendorReport(store, 'month', { by: 'license', now: () => clock });
    expect(report.groups.map((g) => g.key).sort()).toEqual(['L1', 'L2', 'L3', 'L4']);
    await store.close();
  });

  it('a registration that died after its license committed is settled by the next reader', async () => {
    const base = open();
    await register(base, await key('K1', 'Acme'));
    expect(await companyIds(base, 'X', ['Acme'])).toEqual(['K1']); // the index is built
    // The transaction after the license's (entry and intent removal) fails, as a process dying there would.
    const dying = hooked(base, async (n) => {
      if (n === 2) throw new Error('process died');
    });
    await expect(register(dying, await key('K2', 'Acme'))).rejects.toThrow('process died');
    expect(await ids(base, ['Acme'])).toEqual(['K1']); // the index alone does not know it yet
    expect(await companyIds(base, 'X', ['Acme'])).toEqual(['K1', 'K2']);
    // A registration refused in its own transaction (an older key than the one recorded) leaves no intent behind.
    const older = await key('K3', 'Acme');
    await register(base, await key('K3', 'Acme'));
    await expect(register(base, older)).rejects.toMatchObject({ code: 'ERR_LICENSE_SUPERSEDED' });
    expect((await base.read(LICENSE_INDEX_ID, (r) => r.list('license-index', 'p\n'))).map((e) => e.key)).toEqual(['p\nK2']); // K2's stays until it is old
    await base.close();
  });

  it('two registrations of one license racing: the newest issue decides, whatever lands last', async () => {
    const store = open();
    await register(store, await key('R1', 'Acme'));
    const issue2 = await key('R1', 'Bolt');
    const issue3 = await key('R1', 'Cargo');
    await companyIds(store, 'X', ['Acme']);
    // Issue 2's process read its entry; before its index write lands, issue 3 registers completely.
    const slow = hooked(store, async (n) => {
      if (n === 2) await register(store, issue3);
    });
    await register(slow, issue2);
    expect(await ids(store, ['Cargo'])).toEqual(['R1']);
    expect(await ids(store, ['Bolt'])).toEqual([]);
    expect(await ids(store, ['Acme'])).toEqual([]);
    await store.close();
  });
});

describe('the license index across processes (two FileStores on one directory)', () => {
  it('registrations from both at once are all indexed, and each sees the other\'s re-issue', async () => {
    const dir = tempDir();
    const [a, b] = [new FileStore(dir), new FileStore(dir)];
    const keys = await Promise.all(Array.from({ length: 12 }, (_, i) => key(`P${String(i).padStart(2, '0')}`, i % 2 === 0 ? 'Acme' : 'Bolt')));
    await Promise.all(keys.map((k, i) => register(i % 2 === 0 ? a : b, k)));
    expect(await companyIds(b, 'X', ['Acme'])).toEqual(['P00', 'P02', 'P04', 'P06', 'P08', 'P10']);
    await register(a, await key('P01', 'Acme'));
    expect(await companyIds(b, 'X', ['Acme'])).toContain('P01');
    expect(await companyIds(b, 'X', ['Bolt'])).toEqual(['P03', 'P05', 'P07', 'P09', 'P11']);
    await Promise.all([a.close(), b.close()]);
  });
});

/** A store whose events() can be made to lie (an edited, or a cut, trail), counting what it returned. */
function lying(inner: Store) {
  const s = { read: 0, edit: undefined as number | undefined, drop: undefined as number | undefined };
  const store: Store = {
    transaction: (id, fn) => inner.transaction(id, fn),
    read: (id, fn) => inner.read(id, fn),
    events: async (id, q) => {
      const out = (await inner.events(id, q))
        .filter((e) => e.seq !== s.drop)
        .map((e): AuditEvent => (e.seq === s.edit ? { ...e, details: { ...e.details, consumed: 999 } } : e));
      s.read += out.length;
      return out;
    },
    close: () => inner.close(),
  };
  return { store, s };
}

describe.each(STORES)('a page of the audit log in a %s', (_name, open) => {
  it('reads back only as far as the page, verifies that far and says so; an edit or a cut there is refused', async () => {
    const { store: raw, s } = lying(open());
    const store = withAuditChain(raw);
    for (let t = 0; t < 3; t++) {
      await store.transaction('LOG-1', async (tx) => {
        for (let i = 1; i <= 100; i++) tx.append({ at: new Date(clock + (t * 100 + i) * 1000).toISOString(), actor: 'test', kind: i % 10 === 0 ? 'credits.consumed' : 'lease.checked-out', details: { consumed: 1, n: t * 100 + i } });
      });
    }
    s.read = 0;
    const p = await eventPage(store, 'LOG-1', { page: 1, size: 50 });
    expect(p.events.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 300 - i));
    expect([p.total, p.more, p.tail.from]).toEqual([300, true, 250]);
    expect(s.read).toBe(51);
    expect(String(verifiedNote(p))).toContain('events 250 to 300');
    const credits = await eventPage(store, 'LOG-1', { page: 1, size: 50, match: (e) => e.kind === 'credits.consumed' });
    expect([credits.events.length, credits.total, credits.tail.done]).toEqual([30, 30, true]);
    expect(String(verifiedNote(credits))).toContain('all 300 events');

    // Edited older than the page: the page does not claim it (the whole log is refused).
    s.edit = 100;
    expect((await eventPage(store, 'LOG-1', { page: 1, size: 50 })).tail.from).toBe(250);
    await expect(readVerifiedLog(store, 'LOG-1')).rejects.toMatchObject({ code: 'ERR_AUDIT_TAMPERED', details: { seq: 100 } });
    // Edited or cut within what a page reads: refused, naming the event.
    for (const [edit, drop, seq] of [[280, undefined, 280], [undefined, 290, 290], [100, undefined, 100]] as const) {
      [s.edit, s.drop] = [edit, drop];
      const page = seq === 100 ? 5 : 1;
      const e = await eventPage(store, 'LOG-1', { page, size: 50 }).catch((x: unknown) => x);
      expect(isLicenseError(e) && e.code === 'ERR_AUDIT_TAMPERED' ? e.details : e).toMatchObject({ seq });
    }
    // An event written around the chain, after its head.
    [s.edit, s.drop] = [undefined, undefined];
    await raw.transaction('LOG-1', async (tx) => void tx.append({ at: new Date(clock).toISOString(), actor: 'sneaky', kind: 'device.reset', details: {} }));
    await expect(eventPage(store, 'LOG-1', { page: 1, size: 50 })).rejects.toMatchObject({ code: 'ERR_AUDIT_TAMPERED', details: { seq: 301 } });
    await store.close();
  });
});
