/**
 * SHA-256 for the ledger's hot path (one hash per record written or read). @noble/hashes runs
 * anywhere; the Node entries install `node:crypto`, about twice as fast on a record-sized input.
 */
import { sha256 } from '@noble/hashes/sha2.js';

/** A SHA-256 implementation: 32-byte digest of `data`. */
export type Sha256 = (data: Uint8Array) => Uint8Array;

let impl: Sha256 = (data) => sha256(data);

/** SHA-256 of `data` with the installed implementation. */
export const sha256Digest = (data: Uint8Array): Uint8Array => impl(data);

/** Choose the SHA-256 implementation (the Node entries install `node:crypto`'s). */
export function setSha256Backend(f: Sha256): void {
  impl = f;
}
