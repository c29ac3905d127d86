/** AES-256-GCM on `node:crypto`: synchronous, no thread-pool hop (see core/crypto/seal.ts). */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { sealKeyBytes, type AeadBackend } from '../../core/crypto/seal.js';

const TAG = 16;

/** The `node:crypto` AES-GCM backend (installed by the `licit` and `licit/node` entries). */
export const nodeAead: AeadBackend = {
  name: 'node',
  encrypt(key, nonce, plaintext, aad) {
    const c = createCipheriv('aes-256-gcm', sealKeyBytes(key), nonce);
    c.setAAD(aad);
    const body = Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
    return new Uint8Array(body.buffer, body.byteOffset, body.length);
  },
  decrypt(key, nonce, sealed, aad) {
    if (sealed.length < TAG) return undefined;
    try {
      const d = createDecipheriv('aes-256-gcm', sealKeyBytes(key), nonce);
      d.setAAD(aad);
      d.setAuthTag(sealed.subarray(sealed.length - TAG));
      const out = Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG)), d.final()]);
      return new Uint8Array(out.buffer, out.byteOffset, out.length);
    } catch {
      return undefined; // authentication failed: altered, cut, or another key
    }
  },
};
