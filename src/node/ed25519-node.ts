/** Ed25519 on `node:crypto` (OpenSSL): synchronous and the fastest verifier in Node. */
import { createPublicKey, verify } from 'node:crypto';
import type { Ed25519Backend } from '../core/ed25519.js';

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The `node:crypto` Ed25519 backend (installed by the `licit` entry). */
export const nodeBackend: Ed25519Backend = {
  name: 'node',
  importPublicKey(raw) {
    const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
    return (sig, msg) => {
      try {
        return verify(null, msg, key, sig);
      } catch {
        return false; // wrong-length signature and the like
      }
    };
  },
};
