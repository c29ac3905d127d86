/**
 * Vendor-wide reports and time zones: every license's figures summed per customer, per edition
 * or per license, and calendar ranges that start at local midnight in the zone the vendor names
 * (an event at 23:30 UTC belongs to the next day in Berlin and to the same day in New York; the
 * day the clocks go forward is 23 hours long).
 */
import { describe, expect, it } from 'vitest';
import { computeVendorReport, resolveZonedRange, recordIssue } from '../src/core/admin/index.js';
import { MemoryStore } from '../src/core/store/memory-store.js';
import { verifyLicense } from '../src/index.node.js';
import { licit } from './helpers/cli.js';
import { makeVendor } from './helpers/vendor.js';

const vendor = makeVendor();
const T = (iso: string) => Date.parse(iso);

async function seed() {
  const store = new MemoryStore();
  const lic = async (licenseId: string, customer: string, edition: string, seats: Record<string, number>) => {
    const key = await vendor.issue({ licenseId, customer, edition, seats }, new Date('2027-03-01T00:00:00Z'));
    const license = await verifyLicense(key, { publicKeys: [vendor.publicKeyPem], now: () => T('2027-03-02T00:00:00Z') });
    await recordIssue(store, license, { actor: 'test', source: 'issuer', now: T('2027-03-01T00:00:00Z') });
  };
  await lic('LIC-A', 'ACME', 'pro', { basic: 10 });
  await lic('LIC-B', 'ACME', 'basic', { basic: 5 });
  await lic('LIC-C', 'Other', 'pro', { basic: 2 });
  const ev = (id: string, at: string, kind: string, details: Record<string, unknown>) =>
    store.transaction(id, async (tx) => void tx.append({ at, actor: 'test', kind, details: details as never }));
  await ev('LIC-A', '2027-03-10T23:30:00Z', 'credits.consumed', { amount: 7 });
  await ev('LIC-B', '2027-03-10T12:00:00Z', 'credits.consumed', { amount: 3 });
  await ev('LIC-C', '2027-03-10T12:00:00Z', 'credits.topped-up', { credits: 50 });
  return store;
}

describe('vendor-wide reports', () => {
  it('sums every license per customer, per edition, per license', async () => {
    const store = await seed();
    const month = { kind: 'month' as const, at: '2027-03-15T00:00:00Z' };
    const byCustomer = await computeVendorReport(store, month, { by: 'customer', now: () => T('2027-04-01T00:00:00Z') });
    expect(byCustomer.groups.map((g) => [g.key, g.licenses, g.seatsLicensed, g.credits.consumed])).toEqual([
      ['ACME', ['LIC-A', 'LIC-B'], 15, 10],
      ['Other', ['LIC-C'], 2, 0],
    ]);
    expect(byCustomer.totals).toMatchObject({ seatsLicensed: 17, credits: { consumed: 10, added: 50 } });
    const byEdition = await computeVendorReport(store, month, { by: 'edition', now: () => T('2027-04-01T00:00:00Z') });
    expect(byEdition.groups.map((g) => [g.key, g.licenses])).toEqual([['basic', ['LIC-B']], ['pro', ['LIC-A', 'LIC-C']]]);
    expect((await computeVendorReport(store, month, { by: 'license', now: () => T('2027-04-01T00:00:00Z') })).groups).toHaveLength(3);
  });

  it('a day in a named zone: 23:30 UTC is the next day in Berlin, the same day in New York', async () => {
    const store = await seed();
    const day = (at: string, timeZone: string) => computeVendorReport(store, { kind: 'day', at }, { timeZone, now: () => T('2027-04-01T00:00:00Z') });
    expect((await day('2027-03-10', 'UTC')).totals.credits.consumed).toBe(10);
    expect((await day('2027-03-10', 'Europe/Berlin')).totals.credits.consumed).toBe(3);
    expect((await day('2027-03-11', 'Europe/Berlin')).totals.credits.consumed).toBe(7);
    expect((await day('2027-03-10', 'America/New_York')).totals.credits.consumed).toBe(10);
    const r = await day('2027-03-11', 'Europe/Berlin');
    expect(r.range).toMatchObject({ from: '2027-03-10T23:00:00.000Z', to: '2027-03-11T23:00:00.000Z', timeZone: 'Europe/Berlin' });
  });

  it('the day the clocks go forward is 23 hours, months start at local midnight, unknown zones are refused', () => {
    const spring = resolveZonedRange({ kind: 'day', at: '2027-03-28' }, 0, 'Europe/Berlin');
    expect(spring.to - spring.from).toBe(23 * 3_600_000);
    expect(spring.edges).toHaveLength(24);
    const month = resolveZonedRange({ kind: 'month', at: '2027-07-15' }, 0, 'America/New_York');
    expect(new Date(month.from).toISOString()).toBe('2027-07-01T04:00:00.000Z');
    expect(month.edges).toHaveLength(32);
    expect(() => resolveZonedRange('day', 0, 'Mars/Olympus')).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }));
  });

  it('licit report --all --by edition --time-zone over a store', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = join(mkdtempSync(join(tmpdir(), 'licit-85-')), 'store');
    for (const [id, customer, edition] of [['LIC-X', 'ACME', 'pro'], ['LIC-Y', 'Beta', 'basic']] as const) {
      const r = licit(['issue', '--signing-key', vendor.keyPath, '--license-id', id, '--customer', customer, '--edition', edition, '--seats', 'basic=3', '--store', dir, '--json']);
      expect(r.code, r.stderr).toBe(0);
    }
    const r = licit(['report', '--all', '--by', 'edition', '--store', dir, '--range', 'month', '--time-zone', 'Europe/Berlin', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = r.json().report as { by: string; range: { timeZone: string }; groups: { key: string; seatsLicensed: number }[] };
    expect(report).toMatchObject({ by: 'edition', range: { timeZone: 'Europe/Berlin' } });
    expect(report.groups.map((g) => [g.key, g.seatsLicensed])).toEqual([['basic', 3], ['pro', 3]]);
    expect(licit(['report', '--all', '--by', 'planet', '--store', dir, '--range', 'month']).code).toBe(2);
    expect(licit(['report', '--all', '--store', dir, '--range', 'month', '--time-zone', 'Mars/Olympus']).code).toBe(2);
    const text = licit(['report', '--all', '--store', dir, '--range', 'month']).stdout;
    expect(text).toMatch(/All licenses by customer/);
    expect(text).toMatch(/^TOTAL\t2\t6/m);
  });
});
