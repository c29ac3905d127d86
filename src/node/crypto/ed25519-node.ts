/** Ed25519 on `node:crypto` (OpenSSL): synchronous and the fastest verifier in Node. */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { Ed25519Backend } from '../../core/crypto/ed25519.js';

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * Imported keys by their 32 raw bytes (hex). A license server verifies every request against the
 * installation's own public key and the vendor's: importing one (`createPublicKey`, an OpenSSL
 * parse) cost about as much as the verification itself. Bounded: the oldest entry goes first.
 */
const imported = new Map<string, KeyObject>();
const MAX_IMPORTED = 10_000;

function keyObject(raw: Uint8Array): KeyObject {
  const id = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('hex');
  let key = imported.get(id);
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
    if (imported.size >= MAX_IMPORTED) imported.delete(imported.keys().next().value as string);
    imported.set(id, key);
  }
  return key;
}

/** The `node:crypto` Ed25519 backend (installed by the `licit` entry). */
export const nodeBackend: Ed25519Backend = {
  name: 'node',
  importPublicKey(raw) {
    const key = keyObject(raw);
    return (sig, msg) => {
      try {
        return verify(null, msg, key, sig);
      } catch {
        return false; // wrong-length signature and the like
      }
    };
  },
};
