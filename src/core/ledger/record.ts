/**
 * The plaintext of one ledger record and its fixed binary layout. A record says what happened
 * (consume, top-up, carry-over), how much, why, when, and the running totals after it; it holds
 * its own sequence number and the hash of the record before it, so the sealed records form a
 * numbered hash chain.
 *
 * Layout (big-endian), version 1:
 * `u8 version | u8 kind | f64 seq | f64 amount | f64 consumed | f64 toppedUp | f64 time |
 *  32 bytes prevHash | u16 reasonLen | reason (UTF-8) | u8 tokenIdLen | tokenId (UTF-8)`
 * Version 2 is version 1 followed by `u8 keyLen | idempotency key (UTF-8)`, keyLen >= 1. It is
 * written only for a consume that carries an idempotency key, so a ledger that never used keys is
 * byte-for-byte what version 1 wrote, and every version-1 ledger still reads.
 * Integers are stored as float64 and must decode to safe non-negative integers.
 */
import { concatBytes, fromUtf8, utf8 } from '../codec/bytes.js';
import { sha256Digest } from '../crypto/digest.js';

/** What a record did: spend credits, add a vendor top-up, or raise consumption to a vendor floor. */
export type RecordKind = 'consume' | 'topup' | 'carry';

/** One decoded ledger record. */
export interface LedgerRecord {
  /** 0 for the first record, then +1 each. */
  readonly seq: number;
  /** What the record did. */
  readonly kind: RecordKind;
  /** Credits consumed (consume, carry) or added (topup); always >= 1. */
  readonly amount: number;
  /** Running total of credits consumed after this record. */
  readonly consumed: number;
  /** Running total of credits added by top-ups after this record. */
  readonly toppedUp: number;
  /** When it was written, ms since the epoch (the writer's clock; informational). */
  readonly time: number;
  /** Free text from the application (consume) or licit (carry, topup). At most {@link MAX_REASON_BYTES}. */
  readonly reason: string;
  /** The top-up token id (topup records only). */
  readonly tokenId?: string;
  /** The application's idempotency key (consume records only; version 2). */
  readonly idempotencyKey?: string;
  /** SHA-256 of the previous record's plaintext (or the genesis hash for seq 0). */
  readonly prevHash: Uint8Array;
}

/** Longest reason, in UTF-8 bytes. */
export const MAX_REASON_BYTES = 200;
/** Longest top-up token id, in UTF-8 bytes. */
export const MAX_TOKEN_ID_BYTES = 128;
/** Longest idempotency key, in UTF-8 bytes. */
export const MAX_IDEMPOTENCY_KEY_BYTES = 128;
/** Largest credit figure a record may hold (fits a float64 exactly). */
export const MAX_CREDITS = Number.MAX_SAFE_INTEGER;

/** Version 1: no idempotency key. Version 2: with one. */
const V1 = 1;
const V2 = 2;
const FIXED = 2 + 5 * 8 + 32; // version, kind, five numbers, prevHash
/** Smallest plaintext: fixed part, empty reason, no token id. */
export const MIN_PLAINTEXT = FIXED + 2 + 1;
/** Largest plaintext (version 2 with the longest reason, token id and key). */
export const MAX_PLAINTEXT = MIN_PLAINTEXT + MAX_REASON_BYTES + MAX_TOKEN_ID_BYTES + 1 + MAX_IDEMPOTENCY_KEY_BYTES;

const KIND_CODES: Readonly<Record<RecordKind, number>> = { consume: 1, topup: 2, carry: 3 };
const KINDS: readonly (RecordKind | undefined)[] = [undefined, 'consume', 'topup', 'carry'];

/** The hash that record 0 chains to: binds a chain to its license id. */
export function genesisHash(licenseId: string): Uint8Array {
  return sha256Digest(concatBytes(utf8('licit-ledger-genesis-v1\0'), utf8(licenseId)));
}

/** SHA-256 of a record's plaintext: what the next record stores as `prevHash`. */
export const recordHash = (plaintext: Uint8Array): Uint8Array => sha256Digest(plaintext);

/** Why {@link encodeRecord} refused: the caller turns this into a usage error. */
export class RecordFieldError extends Error {}

const NO_BYTES = new Uint8Array(0);

function checkNumber(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RecordFieldError(`record numbers must be safe non-negative integers, got ${n}`);
}

/** Encode a record. Throws {@link RecordFieldError} for out-of-range fields (reason too long, ...). */
export function encodeRecord(r: LedgerRecord): Uint8Array {
  const reason = r.reason === '' ? NO_BYTES : utf8(r.reason);
  const token = r.tokenId === undefined ? NO_BYTES : utf8(r.tokenId);
  const key = r.idempotencyKey === undefined ? undefined : utf8(r.idempotencyKey);
  if (reason.length > MAX_REASON_BYTES) throw new RecordFieldError(`reason is ${reason.length} bytes; at most ${MAX_REASON_BYTES} are kept`);
  if (token.length > MAX_TOKEN_ID_BYTES) throw new RecordFieldError(`token id is longer than ${MAX_TOKEN_ID_BYTES} bytes`);
  if (key !== undefined) {
    // Read back exactly as written, or a retry would not find it.
    if (r.kind !== 'consume') throw new RecordFieldError(`a ${r.kind} record carries no idempotency key`);
    if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_BYTES) throw new RecordFieldError(`an idempotency key is 1 to ${MAX_IDEMPOTENCY_KEY_BYTES} bytes of UTF-8`);
    if (fromUtf8(key) !== r.idempotencyKey) throw new RecordFieldError('idempotency key is not well-formed text (a lone surrogate?)');
  }
  // What the reader will see: a top-up has a token id (an empty one reads back as none) that
  // survives UTF-8 unchanged (else a re-read would not recognise the token as applied).
  if ((r.kind === 'topup') !== (token.length > 0)) throw new RecordFieldError(r.kind === 'topup' ? 'a top-up needs a non-empty token id' : `a ${r.kind} record carries no token id`);
  if (r.tokenId !== undefined && fromUtf8(token) !== r.tokenId) throw new RecordFieldError('token id is not well-formed text (a lone surrogate?)');
  if (r.prevHash.length !== 32) throw new RecordFieldError('prevHash must be 32 bytes');
  checkNumber(r.seq);
  checkNumber(r.amount);
  checkNumber(r.consumed);
  checkNumber(r.toppedUp);
  checkNumber(r.time);
  const tail = key === undefined ? 0 : 1 + key.length;
  const out = new Uint8Array(FIXED + 2 + reason.length + 1 + token.length + tail);
  const dv = new DataView(out.buffer);
  dv.setUint8(0, key === undefined ? V1 : V2);
  dv.setUint8(1, KIND_CODES[r.kind]);
  dv.setFloat64(2, r.seq);
  dv.setFloat64(10, r.amount);
  dv.setFloat64(18, r.consumed);
  dv.setFloat64(26, r.toppedUp);
  dv.setFloat64(34, r.time);
  out.set(r.prevHash, 42);
  dv.setUint16(FIXED, reason.length);
  out.set(reason, FIXED + 2);
  dv.setUint8(FIXED + 2 + reason.length, token.length);
  out.set(token, FIXED + 3 + reason.length);
  if (key !== undefined) {
    const at = FIXED + 3 + reason.length + token.length;
    dv.setUint8(at, key.length);
    out.set(key, at + 1);
  }
  return out;
}

/** Decode a record, or `undefined` when the bytes are not a well-formed version-1 or version-2 record. */
export function decodeRecord(b: Uint8Array): LedgerRecord | undefined {
  if (b.length < MIN_PLAINTEXT || b.length > MAX_PLAINTEXT) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const version = dv.getUint8(0);
  if (version !== V1 && version !== V2) return undefined;
  const kind = KINDS[dv.getUint8(1)];
  if (kind === undefined) return undefined;
  const nums = [2, 10, 18, 26, 34].map((o) => dv.getFloat64(o));
  if (!nums.every((n) => Number.isSafeInteger(n) && n >= 0)) return undefined;
  const reasonLen = dv.getUint16(FIXED);
  if (FIXED + 3 + reasonLen > b.length) return undefined;
  const tokenLen = dv.getUint8(FIXED + 2 + reasonLen);
  const tokenEnd = FIXED + 3 + reasonLen + tokenLen;
  let keyLen = 0;
  if (version === V2) {
    if (tokenEnd >= b.length) return undefined;
    keyLen = dv.getUint8(tokenEnd);
    if (keyLen === 0 || tokenEnd + 1 + keyLen !== b.length) return undefined;
  } else if (tokenEnd !== b.length) return undefined;
  let reason: string;
  let tokenId: string;
  let key: string | undefined;
  try {
    reason = fromUtf8(b.subarray(FIXED + 2, FIXED + 2 + reasonLen));
    tokenId = fromUtf8(b.subarray(FIXED + 3 + reasonLen, tokenEnd));
    key = version === V2 ? fromUtf8(b.subarray(tokenEnd + 1)) : undefined;
  } catch {
    return undefined;
  }
  const [seq, amount, consumed, toppedUp, time] = nums as [number, number, number, number, number];
  const rec: LedgerRecord = { seq, kind, amount, consumed, toppedUp, time, reason, prevHash: b.slice(42, 74) };
  if (tokenId === '' && key === undefined) return rec;
  return { ...rec, ...(tokenId === '' ? {} : { tokenId }), ...(key === undefined ? {} : { idempotencyKey: key }) };
}
