/**
 * Sealing of local state (clock guard, ledger records, installation keys): AES-256-GCM under a key
 * derived with HKDF-SHA-256 from an application secret and a scope (e.g. a license id). This stops
 * casual editing and detects any change; it is not secrecy against someone who reverse-engineers
 * the application that holds the secret (see docs/security.md).
 *
 * The cipher runs on a pluggable backend: WebCrypto by default (any runtime), `node:crypto` when the
 * Node entry installs it: synchronous, so a sealed write does not queue behind file I/O on libuv's
 * thread pool as WebCrypto's jobs do.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256Hash } from './digest.js';
import { plain, utf8 } from '../codec/bytes.js';

/** AES-256-GCM, one implementation. */
export interface AeadBackend {
  /** `webcrypto` or `node`. */
  readonly name: string;
  /** Encrypt; returns ciphertext followed by the 16-byte tag. */
  encrypt(key: SealKey, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** Decrypt and authenticate; `undefined` when anything was altered. */
  decrypt(key: SealKey, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | undefined | Promise<Uint8Array | undefined>;
}

/** A 256-bit sealing key. Opaque: backends read it with `sealKeyBytes`. */
export class SealKey {
  readonly #bytes: Uint8Array;
  /** Backend-specific imported forms (e.g. a WebCrypto `CryptoKey`), made once. */
  readonly imported = new Map<string, unknown>();
  /** Wrap 32 raw key bytes (normally derived with HKDF by `deriveSealKey`). */
  constructor(bytes: Uint8Array) {
    if (bytes.length !== 32) throw new RangeError('a seal key is 32 bytes');
    this.#bytes = bytes.slice();
  }
  /** @internal */
  static bytes(k: SealKey): Uint8Array {
    return k.#bytes;
  }
}

/** The raw bytes of a key, for {@link AeadBackend} implementations. */
export const sealKeyBytes = (k: SealKey): Uint8Array => SealKey.bytes(k);

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** WebCrypto AES-GCM (browsers, workers, Node, Deno, Bun). */
export const webcryptoAead: AeadBackend = {
  name: 'webcrypto',
  async encrypt(key, nonce, plaintext, aad) {
    return new Uint8Array(await globalThis.crypto.subtle.encrypt({ name: 'AES-GCM', iv: plain(nonce), additionalData: plain(aad) }, await cryptoKey(key), plain(plaintext)));
  },
  async decrypt(key, nonce, sealed, aad) {
    try {
      return new Uint8Array(await globalThis.crypto.subtle.decrypt({ name: 'AES-GCM', iv: plain(nonce), additionalData: plain(aad) }, await cryptoKey(key), plain(sealed)));
    } catch {
      return undefined;
    }
  },
};

function cryptoKey(k: SealKey): Promise<CryptoKey> {
  let p = k.imported.get('webcrypto') as Promise<CryptoKey> | undefined;
  if (p === undefined) {
    p = globalThis.crypto.subtle.importKey('raw', plain(sealKeyBytes(k)), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
    k.imported.set('webcrypto', p);
  }
  return p;
}

let backend: AeadBackend = webcryptoAead;

/** Choose the AES-GCM backend every later seal uses (the Node entries install `node:crypto`). */
export function setAeadBackend(b: AeadBackend): void {
  backend = b;
}

/** Derive a key from raw input keying material: HKDF-SHA-256(ikm, salt, info), 32 bytes. */
export function hkdfSealKey(ikm: Uint8Array, salt: string, info: string): SealKey {
  return new SealKey(hkdf(sha256Hash, ikm, utf8(salt), utf8(info), 32));
}

/** Derive a sealing key: HKDF-SHA-256(ikm = secret, salt = "licit-seal-v1", info = scope). */
export async function deriveSealKey(secret: string | Uint8Array, scope: string): Promise<SealKey> {
  return hkdfSealKey(typeof secret === 'string' ? utf8(secret) : secret, 'licit-seal-v1', scope);
}

// Each draw from the system's random source costs a call into OpenSSL and often the kernel
// (5-15 us here, a third of a ledger record's CPU time), so nonces are cut from a block drawn at
// once. Every byte is handed out once; nonces are public, only their uniqueness matters.
const NONCE_POOL_BYTES = NONCE_BYTES * 340;
let noncePool = new Uint8Array(0);
let noncePoolAt = 0;

/** A fresh random 96-bit nonce. */
function freshNonce(): Uint8Array {
  if (noncePoolAt + NONCE_BYTES > noncePool.length) {
    noncePool = globalThis.crypto.getRandomValues(new Uint8Array(NONCE_POOL_BYTES));
    noncePoolAt = 0;
  }
  const nonce = noncePool.slice(noncePoolAt, noncePoolAt + NONCE_BYTES);
  noncePoolAt += NONCE_BYTES;
  return nonce;
}

/** Encrypt and authenticate: nonce (12 bytes) then ciphertext and tag. `aad` binds the context. */
export async function seal(key: SealKey, plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
  const nonce = freshNonce();
  const ct = await backend.encrypt(key, nonce, plaintext, aad);
  const out = new Uint8Array(NONCE_BYTES + ct.length);
  out.set(nonce);
  out.set(ct, NONCE_BYTES);
  return out;
}

/** Decrypt and check; `undefined` when the bytes were altered, cut, or sealed under another key. */
export async function unseal(key: SealKey, sealed: Uint8Array, aad: Uint8Array): Promise<Uint8Array | undefined> {
  if (sealed.length < NONCE_BYTES + TAG_BYTES) return undefined;
  return backend.decrypt(key, sealed.subarray(0, NONCE_BYTES), sealed.subarray(NONCE_BYTES), aad);
}
