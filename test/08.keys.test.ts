/** Trusted public keys: PEM, raw bytes and KeyObjects; rotation; clear refusals. */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyId, rawFromPem } from '../src/core/crypto/keys.js';
import { verifyLicense } from '../src/index.node.js';
import { makeVendor } from './helpers/vendor.js';

describe('public keys', async () => {
  const old = makeVendor();
  const current = makeVendor();
  const oldKey = await old.issue({ licenseId: 'OLD' });
  const newKey = await current.issue({ licenseId: 'NEW' });

  it('accepts SPKI PEM, raw 32 bytes and KeyObjects, and derives the same kid from each', async () => {
    const raw = rawFromPem(current.publicKeyPem);
    for (const pk of [current.publicKeyPem, raw, createPublicKey(current.publicKeyPem)]) {
      const l = await verifyLicense(newKey, { publicKeys: [pk] });
      expect(l.kid).toBe(keyId(raw));
      expect(l.kid).toBe(current.kid);
    }
  });

  it('trusts several keys at once (rotation): licenses from the old and the new key both verify', async () => {
    const publicKeys = [old.publicKeyPem, current.publicKeyPem];
    expect((await verifyLicense(oldKey, { publicKeys })).id).toBe('OLD');
    expect((await verifyLicense(newKey, { publicKeys })).id).toBe('NEW');
    await expect(verifyLicense(oldKey, { publicKeys: [current.publicKeyPem] })).rejects.toMatchObject({ code: 'ERR_KEY_UNKNOWN_SIGNER', details: { kid: old.kid } });
  });

  it('sees edits to a reused publicKeys array (no stale cache)', async () => {
    const publicKeys = [current.publicKeyPem];
    expect((await verifyLicense(newKey, { publicKeys })).id).toBe('NEW');
    publicKeys[0] = old.publicKeyPem;
    await expect(verifyLicense(newKey, { publicKeys })).rejects.toMatchObject({ code: 'ERR_KEY_UNKNOWN_SIGNER' });
  });

  it('refuses private keys, other key types, garbage and empty lists with clear codes', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    const cases: [unknown, string][] = [
      [current.privateKeyPem, 'ERR_PUBLIC_KEY_INVALID'],
      ['not a key', 'ERR_PUBLIC_KEY_INVALID'],
      [rsa.export({ type: 'spki', format: 'pem' }), 'ERR_PUBLIC_KEY_INVALID'],
      [rsa, 'ERR_PUBLIC_KEY_INVALID'],
      [new Uint8Array(31), 'ERR_PUBLIC_KEY_INVALID'],
      [[], 'ERR_USAGE'],
    ];
    for (const [pk, code] of cases) {
      await expect(verifyLicense(newKey, { publicKeys: pk as string }), String(code)).rejects.toMatchObject({ code });
    }
    await expect(verifyLicense(newKey, undefined as never)).rejects.toMatchObject({ code: 'ERR_USAGE' });
  });
});
