/**
 * CBOR as COSE wants it: plain maps (no cbor-x tag 259), byte strings untagged, no record
 * extensions, shortest-form lengths. Decoding is strict: the bytes must be exactly what the
 * encoder writes, checked in one pass before cbor-x decodes: no duplicate map keys, no long
 * length prefixes, no indefinite lengths, no floats, no trailing bytes.
 */
// The subpaths, not 'cbor-x': under Node its main entry also loads the stream classes and tries
// the native cbor-extract accelerator, which cost a cold start far more than the small keys and
// records licit decodes gain from them. Under Node both subpaths are cbor-x's plain index.js.
import { Encoder } from 'cbor-x/encode';
import { Tag as DecodedTag } from 'cbor-x/decode';
// The type from cbor-x's main entry, which costs nothing at run time: its 'cbor-x/decode'
// declarations (decode.d.ts, what moduleResolution "bundler" finds) do not declare Tag, so
// licit's .d.ts importing it from there failed to compile in such applications (TS2305).
import type { Tag as CborTag } from 'cbor-x';

/** A decoded CBOR value as licit sees it (maps stay `Map`s so integer keys keep their type). */
export type CborValue = number | string | boolean | null | Uint8Array | CborValue[] | Map<string | number, CborValue> | CborTag;

const codec = new Encoder({
  mapsAsObjects: false,
  useRecords: false,
  useTag259ForMaps: false,
  tagUint8Array: false,
  variableMapSize: true,
  pack: false,
  bundleStrings: false,
  structuredClone: false,
  // 8-byte integers (dates after 2106) decode as numbers; the validator caps them at 2^53.
  int64AsNumber: true,
} as ConstructorParameters<typeof Encoder>[0]);

/** cbor-x's `Tag` class (`cbor-x/decode` exports it at run time). */
export const Tag: typeof CborTag = DecodedTag;
export type Tag = CborTag;

/** cbor-x writes integers beyond 32 bits as floats; as BigInt they are written as CBOR integers. */
function wideIntegers(v: unknown): unknown {
  if (typeof v === 'number') return Number.isSafeInteger(v) && (v > 0xffffffff || v < -0x100000000) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.some((x) => typeof x !== 'string') ? v.map(wideIntegers) : v;
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [wideIntegers(k), wideIntegers(x)]));
  if (v instanceof Tag) return new Tag(wideIntegers(v.value), v.tag);
  return v;
}

export function encodeCbor(value: unknown): Uint8Array {
  const b = codec.encode(wideIntegers(value));
  // cbor-x returns a Buffer view over a shared pool in Node; copy to an exact Uint8Array.
  return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Deepest nesting accepted: licit's own structures are at most 3 deep. */
const MAX_DEPTH = 16;

/**
 * Walk one CBOR item at `pos` and return the offset after it, or -1 when it is not in the form
 * licit writes: definite lengths, shortest-form heads, no floats or undefined simple values,
 * no duplicate map keys, tags only where `allowTags`. One pass, no allocation.
 */
function skipCanonical(b: Uint8Array, pos: number, depth: number, allowTags: boolean): number {
  if (pos >= b.length || depth > MAX_DEPTH) return -1;
  const ib = b[pos] as number;
  const major = ib >> 5;
  const info = ib & 31;
  let p = pos + 1;
  let arg: number;
  if (info < 24) arg = info;
  else if (info === 24) {
    if (p + 1 > b.length) return -1;
    arg = b[p] as number;
    if (arg < 24) return -1;
    p += 1;
  } else if (info === 25) {
    if (p + 2 > b.length) return -1;
    arg = ((b[p] as number) << 8) | (b[p + 1] as number);
    if (arg < 0x100) return -1;
    p += 2;
  } else if (info === 26) {
    if (p + 4 > b.length) return -1;
    arg = (((b[p] as number) << 24) >>> 0) + (((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number));
    if (arg < 0x10000) return -1;
    p += 4;
  } else if (info === 27) {
    if (p + 8 > b.length) return -1;
    const hi = (((b[p] as number) << 24) >>> 0) + (((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number));
    if (hi === 0) return -1; // would fit in 4 bytes
    if (hi >= 0x200000) return -1; // beyond 2^53: no JS number holds it exactly
    arg = hi * 0x100000000 + ((((b[p + 4] as number) << 24) >>> 0) + (((b[p + 5] as number) << 16) | ((b[p + 6] as number) << 8) | (b[p + 7] as number)));
    p += 8;
  } else return -1; // reserved (28-30) or indefinite length (31)
  switch (major) {
    case 0:
    case 1:
      return p;
    case 2:
      return p + arg <= b.length ? p + arg : -1;
    case 3:
      return p + arg <= b.length && validUtf8(b, p, p + arg) ? p + arg : -1;
    case 4:
      for (let i = 0; i < arg; i++) {
        p = skipCanonical(b, p, depth + 1, false);
        if (p < 0) return -1;
      }
      return p;
    case 5: {
      const keys: number[] = [];
      for (let i = 0; i < arg; i++) {
        const k = p;
        p = skipCanonical(b, p, depth + 1, false);
        if (p < 0) return -1;
        for (let j = 0; j < keys.length; j += 2) if (sameBytes(b, keys[j] as number, keys[j + 1] as number, k, p)) return -1; // duplicate key
        keys.push(k, p);
        p = skipCanonical(b, p, depth + 1, false);
        if (p < 0) return -1;
      }
      return p;
    }
    case 6:
      return allowTags ? skipCanonical(b, p, depth + 1, false) : -1;
    default:
      // simple values: only false, true, null; no floats
      return info >= 20 && info <= 22 ? p : -1;
  }
}

/** Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. */
function validUtf8(b: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const c = b[i] as number;
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let min: number;
    let cp: number;
    if (c >= 0xc2 && c <= 0xdf) [n, min, cp] = [1, 0x80, c & 0x1f];
    else if (c >= 0xe0 && c <= 0xef) [n, min, cp] = [2, 0x800, c & 0x0f];
    else if (c >= 0xf0 && c <= 0xf4) [n, min, cp] = [3, 0x10000, c & 0x07];
    else return false;
    for (let k = 1; k <= n; k++) {
      const cc = b[i + k];
      if (cc === undefined || i + k >= end || (cc & 0xc0) !== 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

function sameBytes(b: Uint8Array, s1: number, e1: number, s2: number, e2: number): boolean {
  if (e1 - s1 !== e2 - s2) return false;
  for (let i = 0; i < e1 - s1; i++) if (b[s1 + i] !== b[s2 + i]) return false;
  return true;
}

/** True when `bytes` is exactly one item in licit's canonical form (see {@link decodeCanonical}). */
export function isCanonical(bytes: Uint8Array, options: { allowTags?: boolean } = {}): boolean {
  return skipCanonical(bytes, 0, 0, options.allowTags ?? false) === bytes.length;
}

/**
 * Decode canonical CBOR or return `undefined` (never throws, whatever the bytes). Refuses
 * duplicate map keys, long length prefixes, indefinite lengths, floats and trailing bytes;
 * tags only with `allowTags` (one level, as COSE's outer tag).
 */
export function decodeCanonical(bytes: Uint8Array, options: { allowTags?: boolean } = {}): CborValue | undefined {
  if (!isCanonical(bytes, options)) return undefined;
  try {
    return codec.decode(bytes) as CborValue;
  } catch {
    return undefined;
  }
}

/** Shortest-form CBOR byte-string header for `length` bytes (major type 2). */
export function bstrHeader(length: number): Uint8Array {
  if (length < 24) return Uint8Array.of(0x40 | length);
  if (length < 0x100) return Uint8Array.of(0x58, length);
  if (length < 0x10000) return Uint8Array.of(0x59, length >>> 8, length & 0xff);
  return Uint8Array.of(0x5a, length >>> 24, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff);
}
