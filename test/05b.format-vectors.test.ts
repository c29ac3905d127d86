/**
 * Golden vectors of licit's own text formats (test/vectors/licit-formats.json, made by
 * scripts/make-vectors.ts; see test/vectors/README.md). Each stored text is read back with the
 * library and compared with its stored decoding, and made again from its stored input and
 * compared byte for byte: a change to any encoder or decoder fails here instead of round-tripping.
 * A deliberate format change regenerates the file (and says so in its commit).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifyLicense } from '../src/index.node.js';
import { claimsToJSON } from '../src/core/license/license.js';
import { verifyTopUp } from '../src/core/exchange/topup.js';
import { decodeClaims, parseEnvelope, type EnvelopeKind } from '../src/core/crypto/envelope.js';
import { openLease, openRequest, verifyLease } from '../src/core/exchange/index.js';
import { Fingerprint } from '../src/node/fingerprint/fingerprint.js';
import { encode, jsonOf, keyFromSeed, VECTORS_URL, type FormatVectors } from './helpers/format-vectors.js';

const V = JSON.parse(readFileSync(VECTORS_URL, 'utf8')) as FormatVectors;
const RFC8032 = JSON.parse(readFileSync(new URL('./vectors/rfc8032-ed25519.json', import.meta.url), 'utf8')) as { name: string; secretKey: string; publicKey: string }[];
const PUB = V.vendorKey.publicKeyPem;
const NOW = new Date(V.verifyAt);
const acceptMachine = () => undefined;

const claimKeys = (text: string, kind: EnvelopeKind) => [...decodeClaims(parseEnvelope(text, kind)).keys()];

/** Replace the character at `i` with another base64url character. */
function flip(text: string, i: number): string {
  const c = text[i] === 'A' ? 'B' : 'A';
  return text.slice(0, i) + c + text.slice(i + 1);
}
/** A character inside the 64-byte signature, the last part of every envelope. */
const inSignature = (text: string) => text.length - 10;

describe('the vector file', () => {
  it('holds every kind, and the claim sets and operations the formats have', () => {
    expect(V.licenses.map((v) => v.name)).toEqual(['minimal', 'full', 'sign-in-seats', 'fleet-id-token', 'far-expiry-unicode']);
    expect(V.requests.map((v) => v.input.operation)).toEqual(['activate', 'activate', 'renew', 'deactivate', 'usage', 'topup']);
    expect(V.leases.length).toBe(2);
    expect(V.topups.length).toBe(2);
    const full = V.licenses.find((v) => v.name === 'full')!;
    for (const k of ['smid', 'uauth', 'seats', 'features', 'mfeatures', 'mexp', 'fp', 'meta', 'credits', 'carried']) expect(full.claimKeys).toContain(k);
    const usage = V.requests.find((v) => v.name === 'usage')!;
    for (const k of ['used', 'spent', 'lgr', 'seats']) expect(usage.claimKeys).toContain(k);
    const lease = V.leases.find((v) => v.name === 'full')!;
    for (const k of ['floor', 'seats', 'topups', 'key']) expect(lease.claimKeys).toContain(k);
    const codes = new Set(V.fingerprints.flatMap((f) => f.expected.components.map((c) => c.kind)));
    expect([...codes].sort()).toEqual(['board', 'board-serial', 'chassis-serial', 'cpu', 'mac', 'mac-local', 'machine-id', 'system-serial', 'system-uuid']);
  });

  it('uses the RFC 8032 TEST 1 seed as the vendor key and TEST 2 as the installation key', () => {
    const [t1, t2] = RFC8032;
    expect([V.vendorKey.seed, V.vendorKey.publicKey]).toEqual([t1!.secretKey, t1!.publicKey]);
    expect([V.installationKey.seed, V.installationKey.publicKey]).toEqual([t2!.secretKey, t2!.publicKey]);
    const vendor = keyFromSeed(V.vendorKey.seed);
    expect([vendor.publicKeyPem, vendor.kid]).toEqual([V.vendorKey.publicKeyPem, V.vendorKey.kid]);
    expect(keyFromSeed(V.installationKey.seed).kid).toBe(V.installationKey.kid);
  });
});

describe('license keys (LICIT1-)', () => {
  for (const v of V.licenses) {
    it(`${v.name}: verifies to the stored claims, and the stored input issues the same text`, async () => {
      const lic = await verifyLicense(v.text, { publicKeys: PUB, now: NOW, machine: acceptMachine });
      expect({ kid: lic.kid, status: lic.report.status, claims: jsonOf(claimsToJSON(lic.claims)) }).toStrictEqual(v.expected);
      expect(lic.text).toBe(v.text);
      expect(claimKeys(v.text, 'license')).toStrictEqual(v.claimKeys);
      expect(await encode.license(v.input)).toBe(v.text);
    });
  }

  it('one changed character is refused: ERR_KEY_SIGNATURE (signature and payload alike)', async () => {
    const { text } = V.licenses[0]!;
    await expect(verifyLicense(flip(text, inSignature(text)), { publicKeys: PUB, now: NOW })).rejects.toMatchObject({ code: 'ERR_KEY_SIGNATURE' });
    // Inside the payload (the license id "LIC-MINIMAL"): still a well-formed envelope, so the signature decides.
    const bytes = Buffer.from(text.slice('LICIT1-'.length), 'base64url');
    const offset = bytes.indexOf('LIC-MINIMAL');
    expect(offset).toBeGreaterThan(0);
    const at = 'LICIT1-'.length + Math.floor(((offset + 4) * 4) / 3);
    await expect(verifyLicense(flip(text, at), { publicKeys: PUB, now: NOW })).rejects.toMatchObject({ code: 'ERR_KEY_SIGNATURE' });
  });

  it('a lease is not a license: ERR_KEY_WRONG_KIND', async () => {
    await expect(verifyLicense(V.leases[0]!.text, { publicKeys: PUB, now: NOW })).rejects.toMatchObject({ code: 'ERR_KEY_WRONG_KIND' });
  });
});

describe('request codes (LICITR1-)', () => {
  for (const v of V.requests) {
    it(`${v.name}: opens to the stored request, and the stored input signs the same text`, async () => {
      expect(jsonOf(await openRequest(v.text))).toStrictEqual(v.expected);
      expect(claimKeys(v.text, 'request')).toStrictEqual(v.claimKeys);
      expect(await encode.request(v.input)).toBe(v.text);
    });
  }

  it('one changed character is refused: ERR_KEY_SIGNATURE', async () => {
    const { text } = V.requests[0]!;
    await expect(openRequest(flip(text, inSignature(text)))).rejects.toMatchObject({ code: 'ERR_KEY_SIGNATURE' });
  });
});

describe('leases (LICITL1-)', () => {
  for (const v of V.leases) {
    it(`${v.name}: opens to the stored lease, and the stored input signs the same text`, async () => {
      const { text, ...rest } = await openLease(v.text, PUB);
      expect(text).toBe(v.text);
      expect(jsonOf(rest)).toStrictEqual(v.expected);
      expect(claimKeys(v.text, 'lease')).toStrictEqual(v.claimKeys);
      expect(await encode.lease(v.input)).toBe(v.text);
    });
  }

  it('each lease answers its request vector: binding and nonce hold', async () => {
    for (const [lease, request] of [['minimal', 'renew'], ['full', 'activate']] as const) {
      const req = await openRequest(V.requests.find((r) => r.name === request)!.text);
      const got = await verifyLease(V.leases.find((l) => l.name === lease)!.text, {
        publicKeys: PUB, licenseId: req.licenseId, fingerprint: req.fingerprint, installationKey: req.installationKey, pending: [req.nonce],
      });
      expect(got.nonce).toBe(req.nonce);
    }
  });

  it('the full lease carries the top-up vectors and the full license vector as they are', async () => {
    const lease = await openLease(V.leases.find((l) => l.name === 'full')!.text, PUB);
    expect(lease.topUps).toStrictEqual(V.topups.map((t) => t.text));
    expect(lease.licenseKey).toBe(V.licenses.find((l) => l.name === 'full')!.text);
  });

  it('one changed character is refused: ERR_KEY_SIGNATURE', async () => {
    const { text } = V.leases[0]!;
    await expect(openLease(flip(text, inSignature(text)), PUB)).rejects.toMatchObject({ code: 'ERR_KEY_SIGNATURE' });
  });
});

describe('top-up tokens (LICITT1-)', () => {
  for (const v of V.topups) {
    it(`${v.name}: verifies to the stored grant, and the stored input issues the same text`, async () => {
      expect(jsonOf({ ...(await verifyTopUp(v.text, { publicKeys: PUB })) })).toStrictEqual(v.expected);
      expect(claimKeys(v.text, 'topup')).toStrictEqual(v.claimKeys);
      expect(await encode.topup(v.input)).toBe(v.text);
    });
  }

  it('one changed character is refused: ERR_KEY_SIGNATURE', async () => {
    const { text } = V.topups[0]!;
    await expect(verifyTopUp(flip(text, inSignature(text)), { publicKeys: PUB })).rejects.toMatchObject({ code: 'ERR_KEY_SIGNATURE' });
  });
});

describe('fingerprint strings (fp1:)', () => {
  for (const v of V.fingerprints) {
    it(`${v.name}: parses to the stored components, and the stored facts hash to the same text`, () => {
      const fp = Fingerprint.parse(v.text);
      expect(fp.components.map((c) => ({ kind: c.kind, value: c.value }))).toStrictEqual(v.expected.components);
      expect(fp.toString()).toBe(v.text);
      expect(encode.fingerprint(v.input)).toBe(v.text);
    });
  }

  it('one changed character is refused: ERR_FINGERPRINT_MALFORMED', () => {
    const { text } = V.fingerprints[0]!;
    const bad = `${text.slice(0, 8)}.${text.slice(9)}`; // inside the first hash
    expect(() => Fingerprint.parse(bad)).toThrow(expect.objectContaining({ code: 'ERR_FINGERPRINT_MALFORMED' }));
  });
});
