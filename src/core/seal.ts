/**
 * Sealing of local state (clock guard, installation keys): AES-256-GCM under a key derived with
 * HKDF-SHA-256 from an application secret and a scope (e.g. a license id). This stops casual
 * editing and detects any change; it is not secrecy against someone who reverse-engineers the
 * application that holds the secret (see docs/security.md).
 */
import { plain, utf8 } from './bytes.js';

/** A key for {@link seal} / {@link unseal}. */
export type SealKey = CryptoKey;

const NONCE_BYTES = 12;
const subtle = () => globalThis.crypto.subtle;

/** Derive a sealing key: HKDF-SHA-256(ikm = secret, salt = "licit-seal-v1", info = scope). */
export async function deriveSealKey(secret: string | Uint8Array, scope: string): Promise<SealKey> {
  const ikm = typeof secret === 'string' ? utf8(secret) : secret;
  const base = await subtle().importKey('raw', plain(ikm), 'HKDF', false, ['deriveKey']);
  return subtle().deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: plain(utf8('licit-seal-v1')), info: plain(utf8(scope)) },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** Encrypt and authenticate: nonce (12 bytes) then ciphertext and tag. `aad` binds the context. */
export async function seal(key: SealKey, plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
  const nonce = globalThis.crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const ct = new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv: nonce, additionalData: plain(aad) }, key, plain(plaintext)));
  const out = new Uint8Array(NONCE_BYTES + ct.length);
  out.set(nonce);
  out.set(ct, NONCE_BYTES);
  return out;
}

/** Decrypt and check; `undefined` when the bytes were altered, cut, or sealed under another key. */
export async function unseal(key: SealKey, sealed: Uint8Array, aad: Uint8Array): Promise<Uint8Array | undefined> {
  if (sealed.length < NONCE_BYTES + 16) return undefined;
  try {
    const pt = await subtle().decrypt({ name: 'AES-GCM', iv: plain(sealed.subarray(0, NONCE_BYTES)), additionalData: plain(aad) }, key, plain(sealed.subarray(NONCE_BYTES)));
    return new Uint8Array(pt);
  } catch {
    return undefined;
  }
}
