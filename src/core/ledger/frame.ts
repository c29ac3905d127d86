/**
 * Framing of sealed records in a ledger file: `u32 length (big-endian) | body`, where the body is
 * `nonce | ciphertext | tag`. Files may be pre-extended with zeros (so an fdatasync need not
 * journal a size change), so a zero length marks the end of the records.
 */
import { MAX_PLAINTEXT, MIN_PLAINTEXT } from './record.js';
import { SEAL_OVERHEAD } from './seal.js';

/** Smallest valid body length. */
export const MIN_BODY = MIN_PLAINTEXT + SEAL_OVERHEAD;
/** Largest valid body length. */
export const MAX_BODY = MAX_PLAINTEXT + SEAL_OVERHEAD;
/** Largest frame on disk. */
export const MAX_FRAME = 4 + MAX_BODY;
/** Write atomicity assumed of the device: a crash tears writes only at sector boundaries. */
export const SECTOR = 512;

/** Prefix a sealed body with its length. */
export function frame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/** Concatenate framed bodies into one buffer (one write per group commit). */
export function frameAll(bodies: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const b of bodies) n += 4 + b.length;
  const out = new Uint8Array(n);
  const dv = new DataView(out.buffer);
  let o = 0;
  for (const b of bodies) {
    dv.setUint32(o, b.length);
    out.set(b, o + 4);
    o += 4 + b.length;
  }
  return out;
}

/** Read a frame's length at `p` (the caller checks there are 4 bytes). */
export function lengthAt(bytes: Uint8Array, p: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(p);
}

/** Index one past the last non-zero byte (0 when all zero). */
export function dataEnd(bytes: Uint8Array): number {
  let i = bytes.length;
  while (i > 0 && bytes[i - 1] === 0) i--;
  return i;
}

/** Smallest multiple of {@link SECTOR} that is >= x. */
export const sectorCeil = (x: number): number => Math.ceil(x / SECTOR) * SECTOR;
