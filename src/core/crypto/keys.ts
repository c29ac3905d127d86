/**
 * Public keys a verifier trusts. Accepts SPKI PEM text, raw 32-byte keys and Node `KeyObject`s,
 * derives each key's id (`kid`, the first 8 bytes of SHA-256 over the raw key) and caches the
 * imported verifier so repeated verifications import nothing.
 */
import { sha256Digest } from './digest.js';
import { base64Decode, base64urlDecode } from '../codec/base64.js';
import { bytesEqual, toHex } from '../codec/bytes.js';
import { getEd25519Backend, type Ed25519Verify } from './ed25519.js';
import { LicenseError } from '../errors.js';

/** The structural part of a Node `KeyObject` licit uses (kept structural so the core needs no `node:` types). */
export interface KeyObjectLike {
  readonly type: string;
  readonly asymmetricKeyType?: string | undefined;
  export(options: { format: 'jwk' }): { x?: string | undefined; [k: string]: unknown };
}

/** A trusted vendor public key: SPKI PEM text, a raw 32-byte key, or a Node `KeyObject`. */
export type PublicKeyInput = string | Uint8Array | KeyObjectLike;

/** An imported public key. */
export interface TrustedKey {
  readonly kid: string;
  readonly raw: Uint8Array;
  readonly verify: Ed25519Verify;
}

/** Trusted keys by `kid`. */
export type Keyring = ReadonlyMap<string, TrustedKey>;

const SPKI_PREFIX = Uint8Array.of(0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00);

/** Key id of a raw Ed25519 public key: hex of the first 8 bytes of its SHA-256. */
export function keyId(raw: Uint8Array): string {
  return toHex(sha256Digest(raw).subarray(0, 8));
}

/** Extract the raw 32-byte key from SPKI PEM text. */
export function rawFromPem(pem: string): Uint8Array {
  if (/-----BEGIN (ENCRYPTED )?PRIVATE KEY-----/.test(pem)) {
    throw new LicenseError('ERR_PUBLIC_KEY_INVALID', 'this is a private key; give the verifier the public key (vendor.pub) and keep the private key with the vendor');
  }
  const m = /-----BEGIN PUBLIC KEY-----([\s\S]*?)-----END PUBLIC KEY-----/.exec(pem);
  const der = m?.[1] === undefined ? undefined : base64Decode(m[1].replace(/\s+/g, ''));
  if (der === undefined || der.length !== 44 || !bytesEqual(der.subarray(0, 12), SPKI_PREFIX)) {
    throw new LicenseError('ERR_PUBLIC_KEY_INVALID', 'not an Ed25519 public key in SPKI PEM form ("-----BEGIN PUBLIC KEY-----"); use the vendor.pub written by `licit keygen`');
  }
  return der.slice(12);
}

/** The raw 32-byte key of any accepted input (PEM, raw bytes, KeyObject); `ERR_PUBLIC_KEY_INVALID` otherwise. */
export function rawFrom(input: PublicKeyInput): Uint8Array {
  if (typeof input === 'string') return rawFromPem(input);
  if (input instanceof Uint8Array) {
    if (input.length !== 32) throw new LicenseError('ERR_PUBLIC_KEY_INVALID', `a raw Ed25519 public key is 32 bytes, got ${input.length}`);
    return input.slice();
  }
  if (input !== null && typeof input === 'object' && typeof input.export === 'function') {
    if (input.type !== 'public' || input.asymmetricKeyType !== 'ed25519') {
      throw new LicenseError('ERR_PUBLIC_KEY_INVALID', `expected an Ed25519 public KeyObject, got a ${input.asymmetricKeyType ?? 'unknown'} ${input.type} key`);
    }
    const x = input.export({ format: 'jwk' }).x;
    const raw = typeof x === 'string' ? base64urlDecode(x) : undefined;
    if (raw?.length === 32) return raw;
  }
  throw new LicenseError('ERR_PUBLIC_KEY_INVALID', 'publicKeys takes SPKI PEM strings, raw 32-byte Uint8Arrays or Ed25519 KeyObjects');
}

const byText = new Map<string, Promise<TrustedKey>>();
const byObject = new WeakMap<object, Promise<TrustedKey>>();

async function importRaw(raw: Uint8Array): Promise<TrustedKey> {
  const backend = await getEd25519Backend();
  return { kid: keyId(raw), raw, verify: await backend.importPublicKey(raw) };
}

/** Import one key, from cache when seen before. */
export function importPublicKey(input: PublicKeyInput): Promise<TrustedKey> {
  if (typeof input === 'string') {
    let p = byText.get(input);
    if (p === undefined) {
      p = importRaw(rawFrom(input));
      byText.set(input, p);
      p.catch(() => byText.delete(input));
    }
    return p;
  }
  if (input instanceof Uint8Array) return importRaw(rawFrom(input)); // contents may change: no identity cache
  let p = byObject.get(input);
  if (p === undefined) {
    p = importRaw(rawFrom(input));
    byObject.set(input, p);
  }
  return p;
}

const rings = new WeakMap<readonly PublicKeyInput[], { items: PublicKeyInput[]; ring: Promise<Keyring>; ready?: Keyring }>();

/** The keyring for `keys` if it was built before and is still current, without waiting. */
export function keyringNow(keys: PublicKeyInput | readonly PublicKeyInput[]): Keyring | undefined {
  if (!Array.isArray(keys)) return undefined;
  const hit = rings.get(keys);
  if (hit?.ready === undefined || hit.items.length !== keys.length || !hit.items.every((k, i) => k === keys[i])) return undefined;
  return hit.ready;
}

/** Build (or fetch from cache) the keyring for a list of trusted keys. */
export function toKeyring(keys: PublicKeyInput | readonly PublicKeyInput[]): Promise<Keyring> {
  const list = Array.isArray(keys) ? (keys as readonly PublicKeyInput[]) : [keys as PublicKeyInput];
  if (list.length === 0) return Promise.reject(new LicenseError('ERR_USAGE', 'publicKeys is empty: pass the vendor public key(s) to trust'));
  // Cached by array identity, and only while its items are the same (an array may be edited in place).
  const hit = rings.get(list);
  if (hit !== undefined && hit.items.length === list.length && hit.items.every((k, i) => k === list[i])) return hit.ring;
  const ring = (async () => {
    const out = new Map<string, TrustedKey>();
    for (const k of await Promise.all(list.map(importPublicKey))) out.set(k.kid, k);
    return out as Keyring;
  })();
  if (Array.isArray(keys)) {
    const entry: { items: PublicKeyInput[]; ring: Promise<Keyring>; ready?: Keyring } = { items: [...list], ring };
    ring.then((r) => (entry.ready = r), () => undefined);
    rings.set(list, entry);
  }
  return ring;
}
