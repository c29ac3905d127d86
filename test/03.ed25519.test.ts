/**
 * Every Ed25519 backend (node:crypto, WebCrypto, @noble/ed25519) against RFC 8032 and
 * Wycheproof vectors: they must agree with the expected result and with each other.
 */
import { createPrivateKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../src/core/codec/bytes.js';
import { nobleBackend, webcryptoBackend, type Ed25519Backend } from '../src/core/crypto/ed25519.js';
import { nodeBackend } from '../src/node/crypto/ed25519-node.js';

const hex = (s: string) => fromHex(s) as Uint8Array;
const rfc = JSON.parse(readFileSync(new URL('./vectors/rfc8032-ed25519.json', import.meta.url), 'utf8')) as {
  name: string; secretKey: string; publicKey: string; message: string; signature: string;
}[];
const wycheproof = JSON.parse(readFileSync(new URL('./vectors/wycheproof-ed25519.json', import.meta.url), 'utf8')) as {
  testGroups: { publicKey: { pk: string }; tests: { tcId: number; comment: string; msg: string; sig: string; result: 'valid' | 'invalid' | 'acceptable' }[] }[];
};

const backends: Ed25519Backend[] = [nodeBackend, nobleBackend, webcryptoBackend as Ed25519Backend];
// Group order L of the Ed25519 base point (RFC 8032 section 5.1).
const L = (1n << 252n) + 27742317777372353535851937790883648493n;

function littleEndian(n: bigint, len = 32): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
}
function fromLittleEndian(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i] as number);
  return n;
}

describe('Ed25519 backends', () => {
  it('all three are present here', () => {
    expect(webcryptoBackend).toBeDefined();
    expect(backends.map((b) => b.name)).toEqual(['node', 'noble', 'webcrypto']);
  });

  it(`verify the ${rfc.length} RFC 8032 section 7.1 vectors, and node:crypto signs them byte for byte`, async () => {
    expect(rfc.length).toBe(5);
    for (const v of rfc) {
      const key = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(v.secretKey, 'hex')]), format: 'der', type: 'pkcs8' });
      expect(sign(null, Buffer.from(v.message, 'hex'), key).toString('hex'), v.name).toBe(v.signature);
      for (const b of backends) {
        const verify = await b.importPublicKey(hex(v.publicKey));
        expect(await verify(hex(v.signature), hex(v.message)), `${b.name} ${v.name}`).toBe(true);
        const wrong = hex(v.message + '00');
        expect(await verify(hex(v.signature), wrong), `${b.name} ${v.name} altered`).toBe(false);
      }
    }
  });

  it('agree with every Wycheproof vector (valid accepted, invalid refused)', async () => {
    let n = 0;
    for (const g of wycheproof.testGroups) {
      const verifiers = await Promise.all(backends.map(async (b) => ({ name: b.name, verify: await b.importPublicKey(hex(g.publicKey.pk)) })));
      for (const t of g.tests) {
        for (const { name, verify } of verifiers) {
          const got = await verify(hex(t.sig), hex(t.msg));
          expect(got, `${name} tcId ${t.tcId} (${t.comment})`).toBe(t.result === 'valid');
        }
        n++;
      }
    }
    expect(n).toBe(151);
  });

  it('refuse non-canonical signatures with S >= L (malleability), on every backend', async () => {
    const v = rfc[0]!;
    const sig = hex(v.signature);
    const s = fromLittleEndian(sig.subarray(32));
    for (const bump of [L, 2n * L, (1n << 253n) - s]) {
      const bad = new Uint8Array(sig);
      bad.set(littleEndian((s + bump) % (1n << 256n)), 32);
      for (const b of backends) {
        const verify = await b.importPublicKey(hex(v.publicKey));
        expect(await verify(bad, hex(v.message)), `${b.name} S + ${bump}`).toBe(false);
      }
    }
  });

  it('never throw on garbage: wrong lengths, empty inputs', async () => {
    for (const b of backends) {
      const verify = await b.importPublicKey(hex(rfc[0]!.publicKey));
      for (const sig of [new Uint8Array(0), new Uint8Array(63), new Uint8Array(65), new Uint8Array(64).fill(255)]) {
        expect(await verify(sig, new Uint8Array(0)), b.name).toBe(false);
      }
    }
  });
});
