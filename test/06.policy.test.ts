/** Time policy: valid, grace, expired, not-yet-valid; maintenance vs license expiry; feature gating. */
import { describe, expect, it } from 'vitest';
import { LicenseError, verifyLicense, type License } from '../src/index.node.js';
import { makeVendor } from './helpers/vendor.js';

const vendor = makeVendor();
const ISSUED = new Date('2026-01-01T00:00:00Z');
const at = (iso: string) => new Date(iso);

async function check(key: string, now: Date, releaseDate?: Date): Promise<License | string> {
  try {
    return await verifyLicense(key, { publicKeys: [vendor.publicKeyPem], now, releaseDate });
  } catch (e) {
    if (!(e instanceof LicenseError)) throw e;
    return e.code;
  }
}

describe('status over time', async () => {
  const key = await vendor.issue({ notBefore: at('2026-02-01'), expiresAt: at('2027-01-01'), graceDays: 10 }, ISSUED);

  it('is not yet valid before not-before', async () => {
    expect(await check(key, at('2026-01-15'))).toBe('ERR_LICENSE_NOT_YET_VALID');
  });
  it('is valid from not-before to expiry, with days left and a warning in the last 30 days', async () => {
    const early = (await check(key, at('2026-02-01'))) as License;
    expect(early.status).toBe('valid');
    expect(early.report.warning).toBeUndefined();
    const late = (await check(key, at('2026-12-22'))) as License;
    expect(late.report).toMatchObject({ status: 'valid', daysLeft: 10 });
    expect(late.report.warning).toMatch(/expires in 10 day/);
    expect(((await check(key, at('2027-01-01T00:00:00Z'))) as License).status).toBe('valid');
  });
  it('is in grace after expiry until the grace period ends, usable with a warning and days left', async () => {
    const g = (await check(key, at('2027-01-05'))) as License;
    expect(g.status).toBe('grace');
    expect(g.report.daysLeft).toBe(6);
    expect(g.report.warning).toMatch(/6 more day/);
    expect(((await check(key, at('2027-01-11T00:00:00Z'))) as License).status).toBe('grace');
  });
  it('is expired after grace, with the dates in the error', async () => {
    await expect(verifyLicense(key, { publicKeys: vendor.publicKeyPem, now: at('2027-01-11T00:00:01Z') })).rejects.toMatchObject({
      code: 'ERR_LICENSE_EXPIRED',
      details: { status: 'expired', expiresAt: '2027-01-01T00:00:00.000Z', graceEndsAt: '2027-01-11T00:00:00.000Z' },
    });
  });
  it('perpetual licenses never expire', async () => {
    const perpetual = await vendor.issue({}, ISSUED);
    expect(((await check(perpetual, at('9999-01-01'))) as License).status).toBe('valid');
  });
  it('statusAt evaluates another instant without re-verifying', async () => {
    const l = (await check(key, at('2026-06-01'))) as License;
    expect(l.statusAt(at('2027-02-01')).status).toBe('expired');
    expect(l.statusAt(at('2026-01-01')).status).toBe('not-yet-valid');
  });
});

describe('maintenance expiry is separate from license expiry', async () => {
  const key = await vendor.issue(
    { expiresAt: at('2028-01-01'), maintenanceExpiresAt: at('2026-06-30'), features: ['core', 'desktop-app'], maintenanceFeatures: ['desktop-app'] },
    ISSUED,
  );
  it('accepts releases dated up to maintenance expiry and refuses later ones', async () => {
    expect(((await check(key, at('2026-09-01'), at('2026-06-30'))) as License).status).toBe('valid');
    expect(await check(key, at('2026-09-01'), at('2026-07-01'))).toBe('ERR_MAINTENANCE_EXPIRED');
  });
  it('keeps the license valid for earlier releases after maintenance ended', async () => {
    const l = (await check(key, at('2027-06-01'), at('2026-01-15'))) as License;
    expect(l.status).toBe('valid');
    expect(l.has('core')).toBe(true);
  });
  it('drops maintenance-gated features once maintenance ended, with a message saying why', async () => {
    const during = (await check(key, at('2026-03-01'))) as License;
    expect(during.has('desktop-app')).toBe(true);
    const after = (await check(key, at('2026-08-01'))) as License;
    expect(after.has('desktop-app')).toBe(false);
    expect(after.has('core')).toBe(true);
    expect(() => after.require('desktop-app')).toThrow(/maintenance ended on 2026-06-30/);
  });
});

describe('feature and edition gating', async () => {
  const key = await vendor.issue({ edition: 'pro', features: ['reports', 'export'], seats: { basic: 10, advanced: 2 } }, ISSUED);
  it('answers has() and require() and exposes edition and seats', async () => {
    const l = (await check(key, at('2026-03-01'))) as License;
    expect(l.edition).toBe('pro');
    expect(l.has('reports')).toBe(true);
    expect(l.has('payroll')).toBe(false);
    expect(l.has('toString')).toBe(false);
    expect(() => l.require('payroll')).toThrow(expect.objectContaining({ code: 'ERR_FEATURE_NOT_LICENSED' }));
    expect(() => l.require('export')).not.toThrow();
    expect(l.seatsFor('advanced')).toBe(2);
    expect(l.seatsFor('constructor')).toBe(0);
    expect([...l.features]).toEqual(['reports', 'export']);
  });
});

describe('bad options are usage errors, not wrong answers', async () => {
  const key = await vendor.issue({ expiresAt: at('2027-01-01') }, ISSUED);
  it('refuses an invalid now or releaseDate with ERR_USAGE', async () => {
    for (const opts of [{ now: new Date('x') }, { now: '2026-06-01' }, { now: 1e20 }, { releaseDate: 'garbage' }, { releaseDate: new Date(NaN) }]) {
      await expect(verifyLicense(key, { publicKeys: [vendor.publicKeyPem], ...(opts as object) }), JSON.stringify(opts)).rejects.toMatchObject({ code: 'ERR_USAGE' });
    }
  });
  it('takes one clock shape, `now: () => ms`; the deprecated fixed Date gives the same answer; a clock returning no time is ERR_USAGE', async () => {
    const { toClock } = await import('../src/core/time/clock.js');
    const t = Date.parse('2026-12-22T00:00:00Z');
    const byClock = await verifyLicense(key, { publicKeys: [vendor.publicKeyPem], now: () => t });
    const byDate = await verifyLicense(key, { publicKeys: [vendor.publicKeyPem], now: new Date(t) });
    expect(byClock.report).toEqual(byDate.report);
    expect(byClock.report).toMatchObject({ status: 'valid', at: new Date(t) });
    await expect(verifyLicense(key, { publicKeys: [vendor.publicKeyPem], now: () => Number.NaN })).rejects.toMatchObject({ code: 'ERR_USAGE' });
    // Every old form normalises through the one helper.
    for (const old of [new Date(t), t, () => new Date(t), () => t]) expect(toClock(old)()).toBe(t);
    expect(toClock(undefined)).toBe(Date.now);
  });
  it('seat counters refuse a missing store or license with ERR_USAGE', async () => {
    const { SeatManager, MemoryStore } = await import('../src/seats.js');
    expect(() => new SeatManager(null as never, { id: 'x', seats: {} })).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }));
    expect(() => new SeatManager(new MemoryStore(), null as never)).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }));
  });
  it('top-up tokens refuse empty or non-printable ids before signing', async () => {
    const { issueTopUp } = await import('../src/issuer/index.js');
    for (const input of [{ licenseId: 'L', credits: 5, tokenId: '' }, { licenseId: 'a\u0001', credits: 5 }, { licenseId: 'L', credits: 5, tokenId: '\u001b' }]) {
      await expect(issueTopUp(input, { signingKey: vendor.privateKeyPem }), JSON.stringify(input)).rejects.toMatchObject({ code: 'ERR_USAGE' });
    }
  });
});
