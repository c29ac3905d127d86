/**
 * Password hashes for license users: scrypt (RFC 7914) from `node:crypto`, stored as one
 * self-describing string `scrypt$N$r$p$salt$hash` (salt and hash in base64url without padding), so
 * the cost can be raised later without breaking the hashes already stored.
 *
 * A stored hash is data an attacker may have edited: its parameters are capped before any work, so
 * a tampered record cannot make the server spend seconds of CPU or gigabytes of memory.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { LicenseError } from '../../core/errors.js';

/** scrypt cost parameters: `N` (CPU and memory, a power of two), `r` (block size), `p` (parallelism). */
export interface ScryptParams {
  /** CPU/memory cost, a power of two. Memory is about `128 * N * r` bytes. */
  readonly N: number;
  /** Block size. */
  readonly r: number;
  /** Parallelism (run one after another by Node: multiplies time, not memory). */
  readonly p: number;
}

/**
 * The cost of new hashes: N = 2^15, r = 8, p = 1 (32 MiB; 50 to 300 ms of one core). OWASP's
 * minimum lists N = 2^15 with p = 3 (or N = 2^17, p = 1); raising p triples the CPU per sign-in.
 */
export const SCRYPT_DEFAULTS: ScryptParams = Object.freeze({ N: 2 ** 15, r: 8, p: 1 });

/** Shortest password accepted, in characters (code points, after NFC). */
export const PASSWORD_MIN_LENGTH = 8;
/** Longest password accepted, in characters: long passphrases fit, megabyte bodies do not. */
export const PASSWORD_MAX_LENGTH = 1024;

const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Caps on what a stored hash may ask for (memory 64 MiB, work 4× the default). */
const MIN_N = 2 ** 10;
const MAX_N = 2 ** 16;
const MAX_R = 16;
const MAX_P = 16;
const MAX_MEMORY = 64 * 1024 * 1024;
const MAX_WORK = 2 ** 20; // N * r * p
const MAX_ENCODED = 256;
const B64URL = /^[A-Za-z0-9_-]+$/;
const DECIMAL = /^[1-9][0-9]{0,9}$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A parsed `scrypt$…` string. */
interface Encoded extends ScryptParams {
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function checkParams(params: ScryptParams): string | undefined {
  const { N, r, p } = params;
  if (![N, r, p].every((v) => Number.isSafeInteger(v) && v >= 1)) return 'parameters are not whole numbers';
  if ((N & (N - 1)) !== 0 || N < MIN_N || N > MAX_N) return `N must be a power of two from ${MIN_N} to ${MAX_N}`;
  if (r > MAX_R || p > MAX_P) return `r must be at most ${MAX_R} and p at most ${MAX_P}`;
  if (128 * N * r > MAX_MEMORY) return `128 * N * r exceeds ${MAX_MEMORY} bytes`;
  if (N * r * p > MAX_WORK) return `N * r * p exceeds ${MAX_WORK}`;
  return undefined;
}

function b64(text: string): Buffer | undefined {
  if (!B64URL.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  // Canonical only: one text per byte string, so an edited character always changes the bytes.
  return bytes.toString('base64url') === text ? bytes : undefined;
}

function corrupt(why: string): LicenseError {
  return new LicenseError('ERR_STORE_CORRUPT', `a stored password hash is malformed (${why}); set the user's password again`, { reason: why });
}

/** Parse and cap a stored hash; throws `ERR_STORE_CORRUPT`. */
function parse(encoded: unknown): Encoded {
  if (typeof encoded !== 'string') throw corrupt('not a string');
  if (encoded.length > MAX_ENCODED) throw corrupt('too long');
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') throw corrupt('not scrypt$N$r$p$salt$hash');
  const [, n, r, p, s, h] = parts as [string, string, string, string, string, string];
  if (!DECIMAL.test(n) || !DECIMAL.test(r) || !DECIMAL.test(p)) throw corrupt('parameters are not whole numbers');
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  const bad = checkParams(params);
  if (bad !== undefined) throw corrupt(bad);
  const salt = b64(s);
  const hash = b64(h);
  if (salt === undefined || salt.length < 8 || salt.length > 64) throw corrupt('salt');
  if (hash === undefined || hash.length < 16 || hash.length > 64) throw corrupt('hash');
  return { ...params, salt, hash };
}

/** The password as bytes (NFC, UTF-8), or undefined when it cannot be a valid password. */
function passwordBytes(password: string): Buffer | undefined {
  // NFC first: "é" typed as one code point or as e + accent is the same password.
  const text = password.normalize('NFC');
  const chars = [...text].length;
  if (chars < PASSWORD_MIN_LENGTH || chars > PASSWORD_MAX_LENGTH || LONE_SURROGATE.test(text)) return undefined;
  return Buffer.from(text, 'utf8');
}

function derive(password: Buffer, salt: Buffer, keylen: number, params: ScryptParams): Promise<Buffer> {
  const { N, r, p } = params;
  // OpenSSL needs 128 * r * (N + p + 2) bytes; the caps above keep this under ~65 MiB.
  const options: ScryptOptions = { N, r, p, maxmem: 128 * r * (N + p + 2) + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keylen, options, (err, key) => (err === null ? resolve(key) : reject(new LicenseError('ERR_INTERNAL', 'scrypt failed', {}, { cause: err }))));
  });
}

/**
 * The password as bytes, or `ERR_USAGE` when it cannot be set (not text, shorter than 8 or longer
 * than 1024 characters). Callers that change something else with the password (the admin API adds
 * the user) check it first, so a refused password changes nothing.
 *
 * @internal
 */
export function acceptablePassword(password: unknown): Buffer {
  if (typeof password !== 'string') throw new LicenseError('ERR_USAGE', 'a password must be a string');
  const bytes = passwordBytes(password);
  if (bytes === undefined) {
    throw new LicenseError('ERR_USAGE', `a password must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters of text`, { minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH });
  }
  return bytes;
}

/**
 * Hash a password for storage. Passwords are NFC-normalised and must be 8 to 1024 characters.
 *
 * @param options internal, for tests only: a lower scrypt cost (never below N = 2^10). Leave it out.
 * @throws `ERR_USAGE` for a password that is too short, too long or not text
 * @example
 * ```ts
 * const stored = await hashPassword('correct horse battery staple') // "scrypt$32768$8$1$…$…"
 * ```
 */
export async function hashPassword(password: string, options: { scrypt?: ScryptParams } = {}): Promise<string> {
  const bytes = acceptablePassword(password);
  const params = options.scrypt ?? SCRYPT_DEFAULTS;
  const bad = checkParams(params);
  if (bad !== undefined) throw new LicenseError('ERR_USAGE', `scrypt parameters refused: ${bad}`);
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(bytes, salt, KEY_BYTES, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/**
 * Check a password against a stored hash, comparing in constant time. A password that could never
 * have been hashed (too short, too long) is simply wrong.
 *
 * @throws `ERR_STORE_CORRUPT` when `encoded` is not a hash this module wrote or asks for more than the caps
 * @example
 * ```ts
 * if (!(await verifyPassword(typed, stored))) throw new Error('wrong password')
 * ```
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const e = parse(encoded);
  if (typeof password !== 'string') throw new LicenseError('ERR_USAGE', 'a password must be a string');
  const bytes = passwordBytes(password);
  if (bytes === undefined) return false;
  const key = await derive(bytes, e.salt, e.hash.length, e);
  return timingSafeEqual(key, e.hash);
}

const dummies = new Map<string, string>();

/**
 * A hash of no one's password at the given cost: checking a user who has no password against it
 * costs what checking a real one costs, so the time taken does not tell who has a password.
 * Random per process; its result is ignored.
 */
export function dummyHash(params: ScryptParams = SCRYPT_DEFAULTS): string {
  const prefix = `scrypt$${params.N}$${params.r}$${params.p}`;
  let h = dummies.get(prefix);
  if (h === undefined) dummies.set(prefix, (h = `${prefix}$${randomBytes(SALT_BYTES).toString('base64url')}$${randomBytes(KEY_BYTES).toString('base64url')}`));
  return h;
}
