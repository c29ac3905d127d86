/**
 * Top-up tokens: vendor-signed grants of extra click-charge credits to one license. Each has a
 * token id, so a ledger that applies the same token twice adds its credits once.
 *
 * What {@link verifyTopUp} returns is a {@link VerifiedTopUp}: branded for the compiler (a plain
 * object literal does not type-check where one is expected) and remembered, with the token text it
 * came from, in a registry private to this module, so a ledger can tell a verified result from a
 * look-alike at run time and verify the text again under its own trusted keys.
 */
import { fromUtf8, utf8 } from '../codec/bytes.js';
import type { ClaimMap } from '../crypto/envelope.js';
import { decodeClaims, openEnvelope, parseEnvelope } from '../crypto/envelope.js';
import { LicenseError } from '../errors.js';
import { toKeyring, type PublicKeyInput } from '../crypto/keys.js';

/** A verified top-up. */
export interface TopUp {
  /** Unique token id: a ledger applies each token once. */
  readonly tokenId: string;
  /** The license the credits are for. */
  readonly licenseId: string;
  /** Credits added. */
  readonly credits: number;
  /** When the vendor signed it. */
  readonly issuedAt: Date;
  /** Signer key id. */
  readonly kid: string;
}

/** Type-only brand: not exported, so no code outside this module can write a `VerifiedTopUp` literal. */
declare const verified: unique symbol;

/**
 * A top-up returned by {@link verifyTopUp}: only that function makes one. A ledger's `topUp`
 * takes this (or the token text), never a plain `{ tokenId, licenseId, credits }` object.
 */
export interface VerifiedTopUp extends TopUp {
  /** Compile-time brand; absent at run time. */
  readonly [verified]: true;
}

/** Token text of every object verifyTopUp returned (weak: no object is kept alive by it). */
const registry = new WeakMap<object, string>();

/**
 * The token text a {@link VerifiedTopUp} was verified from, or `undefined` for any other value (a
 * plain object, a copy made with a spread). For ledgers, which verify the text again.
 */
export function verifiedTopUpText(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null ? registry.get(value) : undefined;
}

const CTI = 7;
const IAT = 6;

/** Claims of a top-up token. */
export function topUpClaims(t: { tokenId: string; licenseId: string; credits: number; issuedAt: Date }): ClaimMap {
  return new Map<string | number, string | number | Uint8Array>([
    ['ver', 1],
    [CTI, utf8(t.tokenId)],
    [IAT, Math.floor(t.issuedAt.getTime() / 1000)],
    ['lid', t.licenseId],
    ['credits', t.credits],
  ]);
}

function invalid(why: string): LicenseError {
  return new LicenseError('ERR_KEY_INVALID_CLAIM', `the top-up token is invalid: ${why}`);
}

/**
 * Verify a top-up token (`LICITT1-…`). Rejects `ERR_KEY_SIGNATURE` for a forged or altered token,
 * `ERR_KEY_UNKNOWN_SIGNER` for one signed by a key not in `publicKeys`.
 *
 * @example
 * ```ts
 * const t = await verifyTopUp(tokenText, { publicKeys: [VENDOR_PUB] })
 * await ledger.topUp(t) // or ledger.topUp(tokenText): the ledger verifies either itself
 * ```
 */
export async function verifyTopUp(text: string, options: { publicKeys: PublicKeyInput | readonly PublicKeyInput[] }): Promise<VerifiedTopUp> {
  const { claims, kid } = await openEnvelope(text, 'topup', await toKeyring(options.publicKeys));
  const out = Object.freeze(readTopUp(claims, kid)) as VerifiedTopUp;
  registry.set(out, text);
  return out;
}

/** Read a top-up token's claims WITHOUT checking its signature: for support tools (`licit inspect`). Nothing in it is trustworthy. */
export function decodeTopUp(text: string): TopUp & { readonly kid: string } {
  const env = parseEnvelope(text, 'topup');
  return readTopUp(decodeClaims(env), env.kid);
}

function readTopUp(claims: ClaimMap, kid: string): TopUp & { readonly kid: string } {
  const cti = claims.get(CTI);
  const lid = claims.get('lid');
  const credits = claims.get('credits');
  const iat = claims.get(IAT);
  if (claims.get('ver') !== 1) throw invalid('unsupported version');
  if (!(cti instanceof Uint8Array) || cti.length === 0 || cti.length > 128) throw invalid('bad token id');
  if (typeof lid !== 'string' || lid.length === 0 || lid.length > 128) throw invalid('bad license id');
  if (typeof credits !== 'number' || !Number.isInteger(credits) || credits < 1 || credits > 0xffffffff) throw invalid('credits must be a whole number from 1 to 4294967295');
  if (typeof iat !== 'number' || !Number.isInteger(iat) || iat < 0) throw invalid('bad issue time');
  let tokenId: string;
  try {
    tokenId = fromUtf8(cti);
  } catch {
    throw invalid('bad token id');
  }
  return { tokenId, licenseId: lid, credits, issuedAt: new Date(iat * 1000), kid };
}
