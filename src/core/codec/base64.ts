/**
 * Strict base64 and base64url. Strict means canonical: one text for one byte string
 * (no padding in base64url, zero trailing bits), so no character of a key can change
 * without the decoded bytes changing too.
 */

const URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const STD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function table(alphabet: string): Int16Array {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < 64; i++) t[alphabet.charCodeAt(i)] = i;
  return t;
}
const URL_TABLE = table(URL_ALPHABET);
const STD_TABLE = table(STD_ALPHABET);

function encode(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out += alphabet[n >>> 18]! + alphabet[(n >>> 12) & 63]! + alphabet[(n >>> 6) & 63]! + alphabet[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = (bytes[i] as number) << 16;
    out += alphabet[n >>> 18]! + alphabet[(n >>> 12) & 63]! + (pad ? '==' : '');
  } else if (rest === 2) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8);
    out += alphabet[n >>> 18]! + alphabet[(n >>> 12) & 63]! + alphabet[(n >>> 6) & 63]! + (pad ? '=' : '');
  }
  return out;
}

/** Decode canonical text; `undefined` for any character outside the alphabet or non-zero trailing bits. */
function decode(text: string, t: Int16Array): Uint8Array | undefined {
  const len = text.length;
  if (len % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? (t[c] as number) : -1;
    if (v < 0) return undefined;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) return undefined; // non-canonical: leftover bits must be zero
  return out;
}

export const base64urlEncode = (b: Uint8Array): string => encode(b, URL_ALPHABET, false);
type BufferLike = Uint8Array & { toString(encoding: 'base64url'): string };
/** Node's native codec when present (the core stays runtime-neutral: it is looked up, not imported). */
const NativeBuffer = (globalThis as { Buffer?: { from(s: string, enc: 'base64url'): BufferLike } }).Buffer;

export function base64urlDecode(s: string): Uint8Array | undefined {
  if (NativeBuffer === undefined) return decode(s, URL_TABLE);
  // Buffer skips characters it does not know; re-encoding proves the text was canonical base64url.
  const b = NativeBuffer.from(s, 'base64url');
  return b.toString('base64url') === s ? new Uint8Array(b.buffer, b.byteOffset, b.length) : undefined;
}

/** The portable decoder, exported for tests that compare it with the native one. */
export const base64urlDecodePortable = (s: string): Uint8Array | undefined => decode(s, URL_TABLE);
export const base64Encode = (b: Uint8Array): string => encode(b, STD_ALPHABET, true);

/** Standard base64 with optional `=` padding (as in PEM bodies). */
export function base64Decode(s: string): Uint8Array | undefined {
  const body = s.replace(/={1,2}$/, '');
  if (s.length % 4 !== 0 && s.length !== body.length) return undefined;
  return decode(body, STD_TABLE);
}
