/** Sealing: the WebCrypto and node:crypto AES-GCM backends are interchangeable and refuse any change. */
import { describe, expect, it } from 'vitest';
import { utf8 } from '../src/core/codec/bytes.js';
import { deriveSealKey, seal, setAeadBackend, unseal, webcryptoAead } from '../src/core/crypto/seal.js';
import { nodeAead } from '../src/node/crypto/aead-node.js';

describe('seal backends', () => {
  it('open what the other sealed, and refuse every flipped byte, another key and another context', async () => {
    const key = await deriveSealKey('secret', 'scope');
    const other = await deriveSealKey('secret', 'other-scope');
    const aad = utf8('ctx');
    for (const [a, b] of [[webcryptoAead, nodeAead], [nodeAead, webcryptoAead]] as const) {
      setAeadBackend(a);
      const sealed = await seal(key, utf8('hello ledger'), aad);
      setAeadBackend(b);
      expect(await unseal(key, sealed, aad)).toEqual(utf8('hello ledger'));
      expect(await unseal(other, sealed, aad)).toBeUndefined();
      expect(await unseal(key, sealed, utf8('other'))).toBeUndefined();
      for (let i = 0; i < sealed.length; i++) {
        const t = sealed.slice();
        t[i] = (t[i] as number) ^ 0x40;
        expect(await unseal(key, t, aad), `${a.name}->${b.name} byte ${i}`).toBeUndefined();
      }
      expect(await unseal(key, sealed.subarray(0, 27), aad)).toBeUndefined();
    }
    setAeadBackend(nodeAead);
  });

  it('never repeats a nonce: nonces cut from pooled random bytes stay distinct across pool refills', async () => {
    const key = await deriveSealKey('nonce-test', 'scope');
    const seen = new Set<string>();
    const n = 2500; // several pools' worth
    for (let i = 0; i < n; i++) seen.add(Buffer.from((await seal(key, utf8('x'), utf8('ctx'))).subarray(0, 12)).toString('hex'));
    expect(seen.size).toBe(n);
  });

  it('derive keys with standard HKDF-SHA-256 (RFC 5869 test case 1 through the same primitive)', async () => {
    const { hkdf } = await import('@noble/hashes/hkdf.js');
    const { sha256 } = await import('@noble/hashes/sha2.js');
    const ikm = new Uint8Array(22).fill(0x0b);
    const salt = Uint8Array.from({ length: 13 }, (_, i) => i);
    const info = Uint8Array.from({ length: 10 }, (_, i) => 0xf0 + i);
    expect(Buffer.from(hkdf(sha256, ikm, salt, info, 42)).toString('hex')).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
  });
});

describe('sha256 backends', () => {
  it('node:crypto and @noble/hashes agree, on the FIPS 180-2 vectors and on random record-sized inputs', async () => {
    const { sha256 } = await import('@noble/hashes/sha2.js');
    const { sha256Digest } = await import('../src/core/crypto/digest.js');
    await import('../src/node/crypto/backends.js'); // installs node:crypto's SHA-256
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    // FIPS 180-2 appendix B.1 and B.2.
    expect(hex(sha256Digest(utf8('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hex(sha256Digest(utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
    for (let n = 0; n < 400; n += 7) {
      const data = crypto.getRandomValues(new Uint8Array(n));
      const d = sha256Digest(data);
      expect(d.constructor).toBe(Uint8Array);
      expect(hex(d)).toBe(hex(sha256(data)));
    }
  });
});
