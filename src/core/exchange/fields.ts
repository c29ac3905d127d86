/**
 * Validation of exchange claims (requests and leases). Each reader names the claim it rejects, so a
 * damaged or hand-made message fails with `ERR_KEY_INVALID_CLAIM` and the claim at fault.
 */
import { isPrintableText } from '../codec/text.js';
import { fromHex, toHex } from '../codec/bytes.js';
import type { CborValue } from '../codec/cbor.js';
import type { ClaimMap } from '../crypto/envelope.js';
import { LicenseError } from '../errors.js';

/** Exchange schema version this licit writes and understands. */
export const EXCHANGE_VERSION = 1;
/** Bytes of randomness in a nonce (128 bits: never repeats by chance). */
export const NONCE_BYTES = 16;
/** Latest date licit accepts (9999-12-31). */
const MAX_SECONDS = 253402300799;

/** `ERR_KEY_INVALID_CLAIM` for `claim` of a request or lease. */
export function invalid(what: 'request code' | 'lease', claim: string, why: string): LicenseError {
  return new LicenseError('ERR_KEY_INVALID_CLAIM', `the ${what} is invalid: claim "${claim}" ${why}`, { claim });
}

/** A typed view over an untrusted claim map. */
export class ClaimReader {
  constructor(
    private readonly m: ClaimMap,
    private readonly what: 'request code' | 'lease',
  ) {
    const ver = m.get('ver');
    if (ver !== EXCHANGE_VERSION) {
      if (typeof ver === 'number' && Number.isInteger(ver) && ver > EXCHANGE_VERSION) {
        throw new LicenseError('ERR_KEY_UNSUPPORTED', `this ${what} uses exchange version ${ver}; this licit understands ${EXCHANGE_VERSION}. Upgrade licit.`, { version: ver });
      }
      throw invalid(what, 'ver', `must be ${EXCHANGE_VERSION}`);
    }
  }

  has(k: string | number): boolean {
    return this.m.has(k);
  }

  text(k: string | number, max: number, optional = false): string | undefined {
    const v = this.m.get(k);
    if (v === undefined && optional) return undefined;
    if (!isPrintableText(v, max)) throw invalid(this.what, String(k), `must be text of 1 to ${max} printable characters`);
    return v;
  }

  count(k: string | number, optional = false): number | undefined {
    const v = this.m.get(k);
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw invalid(this.what, String(k), 'must be a whole number >= 0');
    return v;
  }

  seconds(k: string | number): Date {
    const v = this.m.get(k);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_SECONDS) throw invalid(this.what, String(k), 'must be a date between 1970 and 9999');
    return new Date(v * 1000);
  }

  bytes(k: string | number, length: number): Uint8Array {
    const v = this.m.get(k);
    if (!(v instanceof Uint8Array) || v.length !== length) throw invalid(this.what, String(k), `must be ${length} bytes`);
    return v;
  }

  counts(k: string, optional = true): Record<string, number> | undefined {
    const v = this.m.get(k);
    if (v === undefined && optional) return undefined;
    if (!(v instanceof Map) || v.size > 256) throw invalid(this.what, k, 'must be a map of at most 256 entries');
    const out: Record<string, number> = Object.create(null) as Record<string, number>;
    for (const [name, n] of v) {
      if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:+-]{0,63}$/.test(name)) throw invalid(this.what, k, 'has a key that is not a name');
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw invalid(this.what, k, 'has a count that is not a whole number >= 0');
      out[name] = n;
    }
    return out;
  }

  texts(k: string, max: number, maxItems: number): string[] | undefined {
    const v = this.m.get(k);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length > maxItems) throw invalid(this.what, k, `must be a list of at most ${maxItems} texts`);
    return v.map((x) => {
      if (typeof x !== 'string' || x.length === 0 || x.length > max) throw invalid(this.what, k, `must hold texts of 1 to ${max} characters`);
      return x;
    });
  }

  flag(k: string): boolean {
    const v = this.m.get(k);
    if (v === undefined) return false;
    if (typeof v !== 'boolean') throw invalid(this.what, k, 'must be true or false');
    return v;
  }
}

/** Whole seconds of a date, for CWT time claims. */
export const secondsOf = (d: Date): number => Math.floor(d.getTime() / 1000);

/** A fresh random nonce, as hex. */
export function newNonce(): string {
  return toHex(globalThis.crypto.getRandomValues(new Uint8Array(NONCE_BYTES)));
}

/** Nonce hex to bytes; `ERR_USAGE` when it is not {@link NONCE_BYTES} bytes of hex. */
export function nonceBytes(hex: string): Uint8Array {
  const b = typeof hex === 'string' ? fromHex(hex) : undefined;
  if (b === undefined || b.length !== NONCE_BYTES) throw new LicenseError('ERR_USAGE', `a nonce is ${NONCE_BYTES} bytes of hex (${NONCE_BYTES * 2} characters)`);
  return b;
}

/** A counts table as a CBOR map (undefined stays absent). */
export function countsMap(c: Readonly<Record<string, number>> | undefined): Map<string, CborValue> | undefined {
  if (c === undefined) return undefined;
  return new Map(Object.entries(c));
}
