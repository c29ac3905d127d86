/**
 * License keys as bytes: an independent COSE implementation verifies them; no byte or character
 * can change without the key being refused; whitespace anywhere is ignored.
 */
import { Ed25519Key } from '@ldclabs/cose-ts/ed25519';
import { Sign1Message } from '@ldclabs/cose-ts/sign1';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { base64urlDecode, base64urlEncode } from '../src/core/codec/base64.js';
import { encodeCbor, Tag } from '../src/core/codec/cbor.js';
import { LicenseError, verifyLicense } from '../src/index.node.js';
import { rawFromPem } from '../src/core/crypto/keys.js';
import { makeVendor, type TestVendor } from './helpers/vendor.js';

let vendor: TestVendor;
let key: string;
let bytes: Uint8Array;
const NOW = new Date('2027-01-01T00:00:00Z');

async function refusal(text: string, publicKeys: string[] = [vendor.publicKeyPem]): Promise<string> {
  try {
    await verifyLicense(text, { publicKeys, now: NOW });
  } catch (e) {
    expect(e).toBeInstanceOf(LicenseError);
    return (e as LicenseError).code;
  }
  return 'ACCEPTED';
}

beforeAll(async () => {
  vendor = makeVendor();
  key = await vendor.issue({ licenseId: 'L-1', customer: 'ACME', edition: 'pro', features: ['a', 'b'], seats: { basic: 10, advanced: 2 }, expiresAt: new Date('2028-01-01') }, new Date('2026-06-01'));
  bytes = base64urlDecode(key.slice('LICIT1-'.length)) as Uint8Array;
});

describe('license key envelope', () => {
  it('is verified by an independent COSE implementation (@ldclabs/cose-ts) with the vendor public key', () => {
    const cosePub = Ed25519Key.fromPublic(rawFromPem(vendor.publicKeyPem));
    const msg = Sign1Message.fromBytes(cosePub, bytes);
    expect(msg.payload.length).toBeGreaterThan(20);
    // ...and refused by it with another key.
    expect(() => Sign1Message.fromBytes(Ed25519Key.generate(), bytes)).toThrow();
  });

  it('verifies keys that a standard COSE library signed (same envelope, both directions)', async () => {
    // Re-sign our protected header and payload with cose-ts, using the vendor's own secret seed.
    const jwk = (await import('node:crypto')).createPrivateKey(vendor.privateKeyPem).export({ format: 'jwk' }) as { d: string };
    const coseKey = Ed25519Key.fromSecret(base64urlDecode(jwk.d) as Uint8Array);
    const [protectedBytes, , payload] = (await import('../src/core/codec/cbor.js')).decodeCanonical(bytes, { allowTags: true }) instanceof Tag
      ? ((((await import('../src/core/codec/cbor.js')).decodeCanonical(bytes, { allowTags: true }) as Tag).value) as Uint8Array[])
      : [];
    const { Header } = await import('@ldclabs/cose-ts/header');
    const hdr = Header.fromBytes(protectedBytes as Uint8Array);
    const signed = new Sign1Message(payload as Uint8Array, hdr, new Header()).toBytes(coseKey);
    const tagged = Sign1Message.withTag(signed);
    const license = await verifyLicense('LICIT1-' + base64urlEncode(tagged), { publicKeys: [vendor.publicKeyPem], now: NOW });
    expect(license.id).toBe('L-1');
  });

  it('survives line breaks and spaces anywhere (keys get wrapped in e-mails)', async () => {
    const wrapped = `\n  ${key.replace(/(.{7})/g, '$1\r\n\t ')}  \n`;
    expect((await verifyLicense(wrapped, { publicKeys: [vendor.publicKeyPem], now: NOW })).id).toBe('L-1');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(key.length), fc.constantFrom(' ', '\n', '\r\n', '\t', '\u00a0')), { maxLength: 20 }), async (inserts) => {
        let t = key;
        for (const [at, ws] of inserts.sort((a, b) => b[0] - a[0])) t = t.slice(0, at) + ws + t.slice(at);
        expect((await verifyLicense(t, { publicKeys: [vendor.publicKeyPem], now: NOW })).id).toBe('L-1');
      }),
      { numRuns: 100 },
    );
  });

  it('refuses every single-byte change of the decoded envelope', async () => {
    const codes = new Set<string>();
    for (let i = 0; i < bytes.length; i++) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const b = new Uint8Array(bytes);
        b[i] = (b[i] as number) ^ flip;
        const code = await refusal('LICIT1-' + base64urlEncode(b));
        expect(code, `byte ${i} ^ ${flip}`).not.toBe('ACCEPTED');
        codes.add(code);
      }
    }
    // Each region of the key fails with its own code.
    expect([...codes].sort()).toEqual(expect.arrayContaining(['ERR_KEY_MALFORMED', 'ERR_KEY_SIGNATURE', 'ERR_KEY_UNKNOWN_SIGNER']));
  });

  it('refuses every single-character change of the text', async () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 0; i < key.length; i++) {
      const c = key[i] as string;
      const replacement = alphabet[(alphabet.indexOf(c) + 1) % 64] ?? 'A';
      expect(await refusal(key.slice(0, i) + replacement + key.slice(i + 1)), `char ${i}`).not.toBe('ACCEPTED');
    }
  });

  it('refuses every truncation and any appended bytes', async () => {
    for (let n = 0; n < bytes.length; n++) {
      expect(await refusal('LICIT1-' + base64urlEncode(bytes.subarray(0, n))), `first ${n} bytes`).toMatch(/^ERR_KEY_(MALFORMED|SIGNATURE)$/);
    }
    for (let n = 1; n < key.length; n++) expect(await refusal(key.slice(0, n)), `first ${n} chars`).not.toBe('ACCEPTED');
    expect(await refusal('LICIT1-' + base64urlEncode(new Uint8Array([...bytes, 0])))).toBe('ERR_KEY_MALFORMED');
  });

  it('refuses any mutation fast-check generates', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }), async (edits) => {
        const b = new Uint8Array(bytes);
        for (const [i, x] of edits) b[i] = (b[i] as number) ^ x;
        if (Buffer.compare(b, bytes) === 0) return;
        expect(await refusal('LICIT1-' + base64urlEncode(b))).not.toBe('ACCEPTED');
      }),
      { numRuns: 300 },
    );
  });

  it('gives precise codes for wrong prefix, wrong kind, wrong key, oversized and non-string input', async () => {
    expect(await refusal(key.replace('LICIT1-', 'LICIT2-'))).toBe('ERR_KEY_MALFORMED');
    expect(await refusal(key.replace('LICIT1-', 'LICITT1-'))).toBe('ERR_KEY_WRONG_KIND');
    expect(await refusal('')).toBe('ERR_KEY_MALFORMED');
    expect(await refusal('LICIT1-')).toBe('ERR_KEY_MALFORMED');
    expect(await refusal('LICIT1-' + 'A'.repeat(100_000))).toBe('ERR_KEY_TOO_LARGE');
    expect(await refusal('LICIT1-' + 'A'.repeat(30_000))).toBe('ERR_KEY_TOO_LARGE');
    expect(await refusal(key, [makeVendor().publicKeyPem])).toBe('ERR_KEY_UNKNOWN_SIGNER');
    expect(await refusal(42 as unknown as string)).toBe('ERR_KEY_MALFORMED');
  });

  it('refuses a non-empty unprotected header (outside the signature) even with a valid signature', async () => {
    const top = (await import('../src/core/codec/cbor.js')).decodeCanonical(bytes, { allowTags: true }) as Tag;
    const arr = top.value as unknown[];
    const evil = encodeCbor(new Tag([arr[0], new Map([[4, Uint8Array.of(1)]]), arr[2], arr[3]], 18));
    expect(await refusal('LICIT1-' + base64urlEncode(evil))).toBe('ERR_KEY_MALFORMED');
    const untagged = encodeCbor(arr);
    expect(await refusal('LICIT1-' + base64urlEncode(untagged))).toBe('ERR_KEY_MALFORMED');
  });
});

describe('damage versus a newer format', () => {
  it('a damaged protected header is a signature failure, not "upgrade licit"; a signed unknown header is unsupported', async () => {
    const { encodeCbor: enc, decodeCanonical: dec, Tag: T } = await import('../src/core/codec/cbor.js');
    const { toBeSigned: tbs, TYPES } = await import('../src/core/crypto/envelope.js');
    const { toSigner } = await import('../src/issuer/signer.js');
    const v = makeVendor();
    const key = await v.issue({ licenseId: 'L-H' });
    const raw = base64urlDecode(key.slice(7)) as Uint8Array;
    const [prot, , payload, sig] = (dec(raw, { allowTags: true }) as InstanceType<typeof T>).value as Uint8Array[];
    // Turn label 16 (typ) into an unknown label 17 by damage: the signature no longer holds.
    // (Re-encoded rather than patched at indexOf(0x10): the random key id may contain that byte.)
    const header = dec(prot!) as Map<number, unknown>;
    const damaged = enc(new Map([...header].map(([k, val]) => [k === 16 ? 17 : k, val])));
    expect(damaged.length).toBe(prot!.length);
    const damagedKey = 'LICIT1-' + base64urlEncode(enc(new T([damaged, new Map(), payload, sig], 18)));
    await expect(verifyLicense(damagedKey, { publicKeys: v.publicKeyPem })).rejects.toMatchObject({ code: 'ERR_KEY_MALFORMED' });
    const extra = new Uint8Array(prot!);
    extra[extra.indexOf(0x27)] = 0x26; // alg -7 (ES256) instead of EdDSA: damaged, so the signature fails first
    const algKey = 'LICIT1-' + base64urlEncode(enc(new T([extra, new Map(), payload, sig], 18)));
    await expect(verifyLicense(algKey, { publicKeys: v.publicKeyPem })).rejects.toMatchObject({ code: 'ERR_KEY_SIGNATURE' });
    // A vendor that really signs a header this licit does not know: ERR_KEY_UNSUPPORTED after the signature holds.
    const signer = toSigner(v.privateKeyPem);
    const newer = enc(new Map<number, unknown>([[1, -8], [4, Buffer.from(signer.kid, 'hex')], [16, TYPES.license], [99, 'future']]));
    const newSig = await signer.sign(tbs(newer, payload!));
    const newerKey = 'LICIT1-' + base64urlEncode(enc(new T([newer, new Map(), payload, newSig], 18)));
    await expect(verifyLicense(newerKey, { publicKeys: v.publicKeyPem })).rejects.toMatchObject({ code: 'ERR_KEY_UNSUPPORTED' });
    await expect(verifyLicense(newerKey, { publicKeys: makeVendor().publicKeyPem })).rejects.toMatchObject({ code: 'ERR_KEY_UNKNOWN_SIGNER' });
  });
});
