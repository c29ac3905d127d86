/**
 * Frames of the append-only log: how one record sits in a segment file, and how a reader tells a
 * whole frame from a torn one.
 *
 * ```
 * frame  = head(12) body
 * head   = u32 bodyLength | u32 crc32c(body) | u32 crc32c(head[0..8]) ^ 0x4C434C47   (big-endian)
 * body   = u8 type | u8 flags | u16 0 | u64 seq | u64 batch | payload
 * ```
 *
 * The head carries its own checksum so a scan can test any offset in constant time (resync after
 * damage), and zero-filled space never reads as a frame. `seq` numbers data records 1, 2, 3, …
 * across every segment; `batch` is the number the first record of the same write got, so every
 * frame of one group commit shares it and the last one carries {@link END}. A crash can tear only
 * the write in flight. Segment files are pre-extended with zeros and written in place, so past
 * the last record lie zeros or leftovers of a write a crash cut short and a later write partly
 * covered; those carry an older batch number than the next record would, which is how a scan tells
 * them from damage (an intact frame of a *later* write past a bad spot).
 */
import { crc32c } from './crc32c.js';

/** Bytes of a frame head. */
export const HEAD_BYTES = 12;
/** Bytes of the fixed part of a body (type, flags, seq, batch). */
export const BODY_FIXED = 20;
/** Largest body accepted or written: a record is one transaction, not a file. */
export const MAX_BODY = 64 * 1024 * 1024;
/** Mixed into the head checksum so that a copied body checksum alone never passes as a head. */
const HEAD_MASK = 0x4c434c47; // "LCLG"

/** What a frame holds. */
export const FrameType = {
  /** First frame of a segment: which log, which generation, how many records came before. */
  header: 1,
  /** A committed record (one transaction). */
  data: 2,
  /** Last frame of a segment that was rolled over: the log continues in the next generation. */
  seal: 3,
  /** The only frame of a snapshot file. */
  snapshot: 4,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** Flag: the last frame of one write (a group commit). */
export const END = 1;

/** A decoded frame. `payload` is a view into the scanned buffer. */
export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly batch: number;
  readonly payload: Uint8Array;
  /** Offset of the frame's head in the scanned buffer. */
  readonly start: number;
  /** Offset one past the frame's last byte. */
  readonly end: number;
}

/** A frame to write. */
export interface FrameInput {
  readonly type: FrameType;
  readonly seq: number;
  readonly batch: number;
  readonly payload: Uint8Array;
  readonly end?: boolean;
}

function putU64(dv: DataView, at: number, n: number): void {
  dv.setUint32(at, Math.floor(n / 0x1_0000_0000));
  dv.setUint32(at + 4, n >>> 0);
}

function getU64(dv: DataView, at: number): number {
  return dv.getUint32(at) * 0x1_0000_0000 + dv.getUint32(at + 4);
}

/** Bytes a frame with `payloadBytes` of payload takes on disk. */
export const frameBytes = (payloadBytes: number): number => HEAD_BYTES + BODY_FIXED + payloadBytes;

/** Encode frames back to back into one buffer (one `write` per group commit). */
export function encodeFrames(frames: readonly FrameInput[]): Uint8Array {
  let total = 0;
  for (const f of frames) {
    if (BODY_FIXED + f.payload.length > MAX_BODY) throw new RangeError(`a log record of ${f.payload.length} bytes exceeds the ${MAX_BODY}-byte limit`);
    total += frameBytes(f.payload.length);
  }
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let p = 0;
  for (const f of frames) {
    const bodyAt = p + HEAD_BYTES;
    const bodyLen = BODY_FIXED + f.payload.length;
    out[bodyAt] = f.type;
    out[bodyAt + 1] = f.end === true ? END : 0;
    putU64(dv, bodyAt + 4, f.seq);
    putU64(dv, bodyAt + 12, f.batch);
    out.set(f.payload, bodyAt + BODY_FIXED);
    dv.setUint32(p, bodyLen);
    dv.setUint32(p + 4, crc32c(out, bodyAt, bodyAt + bodyLen));
    dv.setUint32(p + 8, (crc32c(out, p, p + 8) ^ HEAD_MASK) >>> 0);
    p = bodyAt + bodyLen;
  }
  return out;
}

/** True when a valid frame head starts at `p` (its body may still be torn). */
export function headAt(buf: Uint8Array, p: number): boolean {
  if (p + HEAD_BYTES > buf.length) return false;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const len = dv.getUint32(p);
  if (len < BODY_FIXED || len > MAX_BODY) return false;
  return dv.getUint32(p + 8) === (crc32c(buf, p, p + 8) ^ HEAD_MASK) >>> 0;
}

/** The whole, intact frame at `p`, or `undefined` (short, torn, zeroed or damaged). */
export function readFrame(buf: Uint8Array, p: number): Frame | undefined {
  if (!headAt(buf, p)) return undefined;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const len = dv.getUint32(p);
  const bodyAt = p + HEAD_BYTES;
  const end = bodyAt + len;
  if (end > buf.length) return undefined;
  if (dv.getUint32(p + 4) !== crc32c(buf, bodyAt, end)) return undefined;
  return {
    type: buf[bodyAt] as number,
    flags: buf[bodyAt + 1] as number,
    seq: getU64(dv, bodyAt + 4),
    batch: getU64(dv, bodyAt + 12),
    payload: buf.subarray(bodyAt + BODY_FIXED, end),
    start: p,
    end,
  };
}

/** The next intact frame starting in `[from, to)`, found by testing every offset (recovery only). */
export function resync(buf: Uint8Array, from: number, to = buf.length): Frame | undefined {
  for (let p = from; p < to && p + HEAD_BYTES <= buf.length; p++) {
    // Zeros are the common filler: a zero length is never a frame, so skip them without a checksum.
    if (buf[p] === 0 && buf[p + 1] === 0 && buf[p + 2] === 0 && buf[p + 3] === 0) continue;
    const f = readFrame(buf, p);
    if (f !== undefined) return f;
  }
  return undefined;
}

/** True when a frame head is at `p` but its body runs past the end of `buf` (read more to see it). */
export function cutShort(buf: Uint8Array, p: number): boolean {
  if (!headAt(buf, p)) return false;
  return p + HEAD_BYTES + new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(p) > buf.length;
}

/** Index one past the last non-zero byte of `buf` at or after `from` (`from` when all zero). */
export function dataEnd(buf: Uint8Array, from = 0): number {
  let i = buf.length;
  while (i > from && buf[i - 1] === 0) i--;
  return i;
}
