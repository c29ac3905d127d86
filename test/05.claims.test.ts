/**
 * Claims: every value validated, relations checked, unknown critical claims and future schemas
 * refused. Hostile claim maps are signed with a real vendor key so only claim validation can refuse them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { claimsToMap, mapToClaims, normalizeInput, type LicenseInput } from '../src/core/license/claims.js';
import type { CborValue } from '../src/core/codec/cbor.js';
import { sealEnvelope, type ClaimMap } from '../src/core/crypto/envelope.js';
import { LicenseError, verifyLicense } from '../src/index.node.js';
import { toSigner } from '../src/issuer/signer.js';
import { makeVendor } from './helpers/vendor.js';

const vendor = makeVendor();
const NOW = new Date('2027-01-01T00:00:00Z');
const base = (): ClaimMap => claimsToMap(normalizeInput({ licenseId: 'L-1', features: ['a'], seats: { basic: 2 } }, new Date('2026-01-01')));

async function codeOf(m: ClaimMap): Promise<string> {
  const text = await sealEnvelope('license', m, toSigner(vendor.privateKeyPem));
  try {
    await verifyLicense(text, { publicKeys: vendor.publicKeyPem, now: NOW });
    return 'ACCEPTED';
  } catch (e) {
    return (e as LicenseError).code;
  }
}
const withClaim = (k: string | number, v: CborValue | undefined) => {
  const m = base();
  if (v === undefined) m.delete(k);
  else m.set(k, v);
  return m;
};

describe('claims', () => {
  it('round-trip every field through the signed map', () => {
    const input: LicenseInput = {
      licenseId: 'LIC-42', customer: 'ACME GmbH', issuer: 'Vendor Inc', issuedAt: new Date('2026-01-01'), notBefore: new Date('2026-01-02'),
      expiresAt: new Date('2027-01-01'), maintenanceExpiresAt: new Date('2026-07-01'), graceDays: 14, leaseDays: 7, edition: 'enterprise',
      features: ['a', 'b', 'desktop'], maintenanceFeatures: ['desktop'], seats: { basic: 10, advanced: 2 }, maxUsers: 12, maxActivations: 5,
      maxUserActivations: 2, maxTransfers: 3, credits: 1000, carriedCredits: 40, fingerprint: 'fp1.abc', meta: { order: 'PO-9', region: 'eu' },
    };
    const c = normalizeInput(input);
    expect(mapToClaims(claimsToMap(c))).toEqual(c);
  });

  it('refuses license ids that name licit\'s own records in a vendor store (portal:, trial:, licit:)', () => {
    for (const licenseId of ['portal:ACME', 'trial:editor', 'licit:license-index']) {
      let err: unknown;
      try {
        normalizeInput({ licenseId });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LicenseError);
      expect((err as LicenseError).code).toBe('ERR_USAGE');
      expect((err as LicenseError).message).toContain(licenseId.slice(0, licenseId.indexOf(':') + 1));
    }
    expect(normalizeInput({ licenseId: 'LIC-portal:ACME' }).licenseId).toBe('LIC-portal:ACME');
  });

  it('round-trips any valid input (property)', () => {
    const nameArb = fc.stringMatching(/^[a-z][a-z0-9._-]{0,10}$/);
    fc.assert(
      fc.property(
        fc.record({
          licenseId: fc.stringMatching(/^[A-Za-z0-9 -]{1,40}$/).filter((s) => s.trim() === s && s.length > 0),
          features: fc.uniqueArray(nameArb, { maxLength: 8 }),
          seats: fc.dictionary(nameArb, fc.nat(1000), { maxKeys: 4 }),
          credits: fc.option(fc.nat(2 ** 32 - 1), { nil: undefined }),
          graceDays: fc.nat(3650),
        }),
        (input) => {
          const c = normalizeInput(input, new Date('2026-01-01'));
          expect(mapToClaims(claimsToMap(c))).toEqual(c);
        },
      ),
    );
  });

  it('carries dates after 2106 (beyond 32-bit seconds) up to 9999-12-31', async () => {
    for (const iso of ['2106-02-08T00:00:00Z', '2200-01-01T00:00:00Z', '9999-12-31T23:59:59Z']) {
      const key = await vendor.issue({ expiresAt: new Date(iso), maintenanceExpiresAt: new Date(iso) });
      const l = await verifyLicense(key, { publicKeys: vendor.publicKeyPem, now: NOW });
      expect(l.expiresAt?.toISOString(), iso).toBe(new Date(iso).toISOString());
    }
  });

  it('accepts the baseline claims', async () => {
    expect(await codeOf(base())).toBe('ACCEPTED');
  });

  const wrong: [string, string | number, CborValue | undefined][] = [
    ['missing issue time', 6, undefined],
    ['issue time as text', 6, '2026-01-01'],
    ['negative expiry', 4, -1],
    ['expiry past year 9999', 4, 253402300800n as unknown as number],
    ['expiry before issue', 4, 1000],
    ['license id as text instead of bytes', 7, 'L-1'],
    ['empty license id', 7, new Uint8Array(0)],
    ['license id not UTF-8', 7, Uint8Array.of(0xff, 0xfe)],
    ['customer as number', 2, 7],
    ['customer with control characters', 2, 'ACME\u0000'],
    ['features not a list', 'features', 'a'],
    ['feature with a space', 'features', ['a b']],
    ['duplicate feature', 'features', ['a', 'a']],
    ['negative seats', 'seats', new Map([['basic', -1]])],
    ['seats as a list', 'seats', [1, 2]],
    ['seat count too large', 'seats', new Map([['basic', 2n ** 32n as unknown as number]])],
    ['credits as text', 'credits', '100'],
    ['maintenance feature not among features', 'mfeatures', ['z']],
    ['zero lease days', 'leaseDays', 0],
    ['grace over ten years', 'graceDays', 3651],
    ['meta value not text', 'meta', new Map([['k', 1]])],
    ['carried more than sold', 'carried', 5],
    ['schema version missing', 'ver', undefined],
    ['schema version as text', 'ver', '1'],
  ];
  for (const [why, k, v] of wrong) {
    it(`refuses ${why} with ERR_KEY_INVALID_CLAIM`, async () => {
      const m = withClaim(k, v);
      if (why === 'carried more than sold') m.set('credits', 1);
      expect(await codeOf(m)).toBe('ERR_KEY_INVALID_CLAIM');
    });
  }

  it('refuses floats anywhere in the payload as not in licit\'s form (ERR_KEY_MALFORMED), even when signed', async () => {
    expect(await codeOf(withClaim(4, 1.5))).toBe('ERR_KEY_MALFORMED');
    expect(await codeOf(withClaim('credits', 2.5))).toBe('ERR_KEY_MALFORMED');
  });

  it('refuses duplicate claim keys and other non-canonical payloads, even when signed', async () => {
    const { encodeCbor } = await import('../src/core/codec/cbor.js');
    const { toBeSigned, TYPES } = await import('../src/core/crypto/envelope.js');
    const { armor } = await import('../src/core/codec/armor.js');
    const { Tag } = await import('../src/core/codec/cbor.js');
    const signer = toSigner(vendor.privateKeyPem);
    const prot = encodeCbor(new Map<number, unknown>([[1, -8], [4, Buffer.from(signer.kid, 'hex')], [16, TYPES.license]]));
    const good = encodeCbor(base());
    // Same map with the "ver" entry written twice: a3 -> one more entry, then a duplicate key.
    const dup = new Uint8Array([good[0]! + 1, ...good.subarray(1), ...encodeCbor('ver'), ...encodeCbor(1)]);
    for (const payload of [dup, new Uint8Array([...good, 0x00])]) {
      const sig = await signer.sign(toBeSigned(prot, payload));
      const text = armor('license', encodeCbor(new Tag([prot, new Map(), payload, sig], 18)));
      await expect(verifyLicense(text, { publicKeys: vendor.publicKeyPem, now: NOW })).rejects.toMatchObject({ code: 'ERR_KEY_MALFORMED' });
    }
  });

  it('refuses a future schema and unknown critical claims with ERR_KEY_UNSUPPORTED', async () => {
    expect(await codeOf(withClaim('ver', 2))).toBe('ERR_KEY_UNSUPPORTED');
    const m = withClaim('geoFence', 'EU');
    m.set('crit', ['geoFence']);
    expect(await codeOf(m)).toBe('ERR_KEY_UNSUPPORTED');
  });

  it('ignores unknown claims that are not critical (forward compatible) and accepts crit naming known ones', async () => {
    expect(await codeOf(withClaim('newHint', 'x'))).toBe('ACCEPTED');
    expect(await codeOf(withClaim('crit', ['features', 4]))).toBe('ACCEPTED');
    expect(await codeOf(withClaim('crit', []))).toBe('ERR_KEY_INVALID_CLAIM');
  });

  it('validates vendor input before signing', () => {
    const bad: LicenseInput[] = [
      { seats: { basic: -1 } }, { features: ['ok', 'not ok'] }, { expiresAt: new Date('x') }, { graceDays: 1.5 }, { licenseId: '' },
      { maxUserActivations: 3, maxActivations: 2 }, { expiresAt: new Date('2020-01-01'), issuedAt: new Date('2021-01-01') },
      { notBefore: new Date('2030-01-01'), expiresAt: new Date('2029-01-01') },
    ];
    for (const input of bad) expect(() => normalizeInput(input), JSON.stringify(input)).toThrow(LicenseError);
  });
});
