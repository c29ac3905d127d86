/**
 * The one reader of dates and times people type: a date alone is a whole UTC day, a time must
 * name its zone, and the answer never depends on the machine's TZ.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { describeEnd, formatInstant, parseTimeWords } from '../src/core/time/time-words.js';
import { inspectLicense } from '../src/core/license/inspect.js';
import { evaluateStatus } from '../src/core/license/policy.js';
import { issueLicense } from '../src/issuer/issue.js';
import { makeVendor } from './helpers/vendor.js';
import { LicenseError } from '../src/core/errors.js';

const refusal = (f: () => unknown): LicenseError => {
  try {
    f();
  } catch (e) {
    if (e instanceof LicenseError) return e;
    throw e;
  }
  throw new Error('expected a LicenseError');
};

describe('parseTimeWords', () => {
  it('a date alone is the start of that UTC day, or with dateAlone "end" the instant it is over', () => {
    expect(parseTimeWords('2027-12-31').toISOString()).toBe('2027-12-31T00:00:00.000Z');
    expect(parseTimeWords('2027-12-31', { dateAlone: 'end' }).toISOString()).toBe('2027-12-31T23:59:59.000Z');
    expect(parseTimeWords('2028-02-29', { dateAlone: 'end' }).toISOString()).toBe('2028-02-29T23:59:59.000Z');
    expect(parseTimeWords('9999-12-31', { dateAlone: 'end' }).toISOString()).toBe('9999-12-31T23:59:59.000Z');
  });
  it('a time with its zone is that instant', () => {
    expect(parseTimeWords('2027-12-31T10:00Z').toISOString()).toBe('2027-12-31T10:00:00.000Z');
    expect(parseTimeWords('2027-12-31T10:00+01:00').toISOString()).toBe('2027-12-31T09:00:00.000Z');
    expect(parseTimeWords('2027-12-31T23:30:15.250-05:30').toISOString()).toBe('2028-01-01T05:00:15.250Z');
    // The edge applies to a date alone only: a time says its own instant.
    expect(parseTimeWords('2027-12-31T10:00Z', { dateAlone: 'end' }).toISOString()).toBe('2027-12-31T10:00:00.000Z');
  });
  it('refuses a time without a zone, showing both fixes', () => {
    const e = refusal(() => parseTimeWords('2027-12-31T10:00', { name: '--expires' }));
    expect(e.code).toBe('ERR_USAGE');
    expect(e.message).toContain('--expires');
    expect(e.message).toContain('2027-12-31T10:00Z');
    expect(e.message).toContain('2027-12-31T10:00+01:00');
    expect(e.details).toMatchObject({ field: '--expires', value: '2027-12-31T10:00' });
  });
  it('refuses days that do not exist, times out of range and other words', () => {
    for (const v of ['2027-02-30', '2027-13-01', '2027-12-31T24:00Z', '2027-12-31T10:60Z', '2027-12-31T10:00+25:00', 'tomorrow', '', '31/12/2027', '2027-12-31 10:00Z', '0099-01-01']) {
      expect(refusal(() => parseTimeWords(v)).code, v).toBe('ERR_USAGE');
    }
  });
  it('the same words are the same instant whatever the machine zone (no Date.parse of zoneless text)', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1970-01-02T00:00:00Z'), max: new Date('9999-12-30T00:00:00Z'), noInvalidDate: true }), (d) => {
        const iso = d.toISOString();
        expect(parseTimeWords(iso).getTime()).toBe(d.getTime());
        expect(parseTimeWords(iso.slice(0, 10), { dateAlone: 'end' }).getTime() - parseTimeWords(iso.slice(0, 10)).getTime()).toBe(86_399_000);
      }),
    );
  });
  it('prints instants with Z and says which day a midnight end covers', () => {
    expect(formatInstant(new Date('2028-01-01T00:00:00Z'))).toBe('2028-01-01T00:00:00Z');
    expect(describeEnd(new Date('2027-12-31T23:59:59Z'))).toBe('2027-12-31T23:59:59Z (end of 2027-12-31 UTC)');
    // What the same words signed before: a key keeps its instant, and the printout says which edge of the day it is.
    expect(describeEnd(new Date('2027-12-31T00:00:00Z'))).toBe('2027-12-31T00:00:00Z (start of 2027-12-31 UTC)');
    expect(describeEnd(new Date('2027-12-31T10:00:00Z'))).toBe('2027-12-31T10:00:00Z');
  });
});

describe('issueLicense with dates as text', () => {
  it('expiresAt "2027-12-31" is valid all of that day, UTC, and expired from 2028-01-01T00:00:00Z', async () => {
    const vendor = makeVendor();
    const key = await issueLicense({ expiresAt: '2027-12-31', maintenanceExpiresAt: '2027-06-30', notBefore: '2027-01-01' }, { signingKey: vendor.privateKeyPem, now: new Date('2026-12-01T00:00:00Z') });
    const { claims } = inspectLicense(key);
    expect(claims.expiresAt?.toISOString()).toBe('2027-12-31T23:59:59.000Z');
    expect(claims.maintenanceExpiresAt?.toISOString()).toBe('2027-06-30T23:59:59.000Z');
    expect(claims.notBefore?.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(evaluateStatus(claims, new Date('2027-12-31T12:00:00Z')).status).toBe('valid');
    expect(evaluateStatus(claims, new Date('2027-12-31T23:59:59.999Z')).status).toBe('valid');
    expect(evaluateStatus(claims, new Date('2028-01-01T00:00:00.000Z')).status).toBe('expired');
  });
  it('a Date keeps its exact instant (keys already issued keep their meaning)', async () => {
    const vendor = makeVendor();
    const key = await issueLicense({ expiresAt: new Date('2027-12-31') }, { signingKey: vendor.privateKeyPem, now: new Date('2026-12-01T00:00:00Z') });
    expect(inspectLicense(key).claims.expiresAt?.toISOString()).toBe('2027-12-31T00:00:00.000Z');
  });
  it('refuses a zoneless time naming the field', async () => {
    const vendor = makeVendor();
    await expect(issueLicense({ expiresAt: '2027-12-31T10:00' }, { signingKey: vendor.privateKeyPem })).rejects.toMatchObject({ code: 'ERR_USAGE', message: expect.stringContaining('expiresAt') });
  });
});
