/**
 * SHA-256, the one source of it in the runtime-neutral core. @noble/hashes runs anywhere; the Node
 * entries install `node:crypto` behind {@link sha256Digest} (src/node/crypto/digest.ts), about twice as
 * fast on a record-sized input. Core code hashes only through this module.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex, utf8 } from '../codec/bytes.js';

/** A SHA-256 implementation: 32-byte digest of `data`. */
export type Sha256 = (data: Uint8Array) => Uint8Array;

let impl: Sha256 = (data) => sha256(data);

/** SHA-256 of `data` with the installed implementation. */
export const sha256Digest = (data: Uint8Array): Uint8Array => impl(data);

/** Lower-case hex SHA-256 of `data` (a string is hashed as its UTF-8 bytes). */
export const sha256Hex = (data: Uint8Array | string): string => toHex(impl(typeof data === 'string' ? utf8(data) : data));

/**
 * The streaming form of the same function, for constructions that need one (HKDF, HMAC). Not a
 * second source: @noble/hashes is the portable implementation behind {@link sha256Digest} too.
 */
export const sha256Hash = sha256;

/** Choose the SHA-256 implementation (the Node entries install `node:crypto`'s). */
export function setSha256Backend(f: Sha256): void {
  impl = f;
}
