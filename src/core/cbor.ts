/**
 * CBOR as COSE wants it: plain maps (no cbor-x tag 259), byte strings untagged, no record
 * extensions, shortest-form lengths. Decoding is strict: the bytes must be exactly what the
 * encoder would write for the decoded value, which refuses duplicate map keys, long length
 * prefixes, indefinite lengths, floats standing in for integers and trailing bytes.
 */
import { Encoder, Tag } from 'cbor-x';

/** A decoded CBOR value as licit sees it (maps stay `Map`s so integer keys keep their type). */
export type CborValue = number | string | boolean | null | Uint8Array | CborValue[] | Map<string | number, CborValue> | Tag;

const codec = new Encoder({
  mapsAsObjects: false,
  useRecords: false,
  useTag259ForMaps: false,
  tagUint8Array: false,
  variableMapSize: true,
  pack: false,
  bundleStrings: false,
  structuredClone: false,
} as ConstructorParameters<typeof Encoder>[0]);

export { Tag };

export function encodeCbor(value: unknown): Uint8Array {
  const b = codec.encode(value);
  // cbor-x returns a Buffer view over a shared pool in Node; copy to an exact Uint8Array.
  return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Decode canonical CBOR or return `undefined` (never throws, whatever the bytes). */
export function decodeCanonical(bytes: Uint8Array): CborValue | undefined {
  let value: CborValue;
  try {
    value = codec.decode(bytes) as CborValue;
    const again = codec.encode(value);
    if (again.length !== bytes.length) return undefined;
    for (let i = 0; i < bytes.length; i++) if (again[i] !== bytes[i]) return undefined;
  } catch {
    return undefined; // truncated, malformed, too deep: all the same to a caller
  }
  return value;
}

/** Shortest-form CBOR byte-string header for `length` bytes (major type 2). */
export function bstrHeader(length: number): Uint8Array {
  if (length < 24) return Uint8Array.of(0x40 | length);
  if (length < 0x100) return Uint8Array.of(0x58, length);
  if (length < 0x10000) return Uint8Array.of(0x59, length >>> 8, length & 0xff);
  return Uint8Array.of(0x5a, length >>> 24, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff);
}
