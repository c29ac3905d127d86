/**
 * The one signed envelope behind every licit object (license key, lease, top-up token, request
 * code): a tagged COSE_Sign1 (RFC 9052, tag 18) with alg EdDSA (-8), the signer's `kid` and the
 * object's type (`typ`, RFC 9596) in the protected header, an empty unprotected header and a
 * CBOR map of claims as payload. Any standard COSE library verifies it with the public key.
 */
import { armor, dearmor, kindName, type EnvelopeKind } from '../codec/armor.js';
import { concatBytes, fromHex, toHex, utf8 } from '../codec/bytes.js';
import { bstrHeader, decodeCanonical, encodeCbor, Tag, type CborValue } from '../codec/cbor.js';
import { LicenseError } from '../errors.js';
import type { Keyring } from './keys.js';

export type { EnvelopeKind } from '../codec/armor.js';

/** Something that signs with the vendor's Ed25519 key. */
export interface Signer {
  /** Key id of the signing key's public half (hex; see `keyId`). */
  readonly kid: string;
  /** Ed25519 signature of `message`. */
  sign(message: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

/** Claims as they travel: a CBOR map with integer (CWT) and text keys. */
export type ClaimMap = Map<string | number, CborValue>;

const COSE_SIGN1_TAG = 18;
const HDR_ALG = 1;
const HDR_KID = 4;
const HDR_TYP = 16;
const ALG_EDDSA = -8;

/** Media types in the `typ` header: a lease cannot be passed off as a license by editing the prefix. */
export const TYPES: Readonly<Record<EnvelopeKind, string>> = {
  license: 'application/licit-license+cwt',
  lease: 'application/licit-lease+cwt',
  topup: 'application/licit-topup+cwt',
  request: 'application/licit-request+cwt',
};

// "Signature1" context string, encoded once (RFC 9052 section 4.4).
const SIG1_PREFIX = concatBytes(Uint8Array.of(0x84, 0x6a), utf8('Signature1'));
const EMPTY_BSTR = Uint8Array.of(0x40);

/** The bytes Ed25519 signs: Sig_structure = ["Signature1", protected, h'', payload]. */
export function toBeSigned(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  return concatBytes(SIG1_PREFIX, bstrHeader(protectedBytes.length), protectedBytes, EMPTY_BSTR, bstrHeader(payload.length), payload);
}

/** Sort map entries as RFC 8949 deterministic encoding orders them (by encoded key bytes). */
export function canonicalMap(entries: Iterable<[string | number, CborValue]>): ClaimMap {
  const list = [...entries].map(([k, v]) => ({ k, v, e: encodeCbor(k) }));
  list.sort((a, b) => {
    const n = Math.min(a.e.length, b.e.length);
    for (let i = 0; i < n; i++) if (a.e[i] !== b.e[i]) return (a.e[i] as number) - (b.e[i] as number);
    return a.e.length - b.e.length;
  });
  return new Map(list.map(({ k, v }) => [k, v]));
}

/** Sign claims into armored text. */
export async function sealEnvelope(kind: EnvelopeKind, claims: ClaimMap, signer: Signer): Promise<string> {
  const kid = fromHex(signer.kid);
  if (kid === undefined) throw new LicenseError('ERR_PRIVATE_KEY_INVALID', 'signer kid must be hex');
  const protectedBytes = encodeCbor(
    new Map<number, CborValue>([
      [HDR_ALG, ALG_EDDSA],
      [HDR_KID, kid],
      [HDR_TYP, TYPES[kind]],
    ]),
  );
  const payload = encodeCbor(canonicalMap(claims));
  const signature = await signer.sign(toBeSigned(protectedBytes, payload));
  const sign1 = encodeCbor(new Tag([protectedBytes, new Map(), payload, signature], COSE_SIGN1_TAG));
  return armor(kind, sign1);
}

/** A structurally valid envelope, not yet verified. */
export interface ParsedEnvelope {
  readonly kind: EnvelopeKind;
  readonly kid: string;
  readonly protectedBytes: Uint8Array;
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
  /**
   * Set when the protected header names something this licit does not support. Reported only
   * after the signature holds: until then a damaged byte is the likelier cause than a newer format.
   */
  readonly unsupported?: LicenseError | undefined;
}

function malformed(kind: EnvelopeKind, why: string): LicenseError {
  return new LicenseError('ERR_KEY_MALFORMED', `the ${kindName(kind)} is damaged (${why}). Copy it again in full from the message it came in.`);
}

/** Dearmor and check the COSE structure strictly. Nothing here is trusted yet. */
export function parseEnvelope(text: unknown, kind: EnvelopeKind): ParsedEnvelope {
  const bytes = dearmor(text, kind);
  return parseExact(bytes, kind) ?? parseGeneric(bytes, kind);
}

/** Read a shortest-form byte-string head at `p`: [start, end] of its content, or undefined. */
function bstrAt(b: Uint8Array, p: number): [number, number] | undefined {
  const ib = b[p];
  if (ib === undefined || ib >> 5 !== 2) return undefined;
  const info = ib & 31;
  let len: number;
  let start: number;
  if (info < 24) [len, start] = [info, p + 1];
  else if (info === 24 && (b[p + 1] ?? 0) >= 24) [len, start] = [b[p + 1] as number, p + 2];
  else if (info === 25 && (b[p + 1] ?? 0) > 0) [len, start] = [((b[p + 1] as number) << 8) | (b[p + 2] as number), p + 3];
  else return undefined;
  return start + len <= b.length ? [start, start + len] : undefined;
}

const TYP_TAILS = Object.fromEntries(
  (Object.keys(TYPES) as EnvelopeKind[]).map((k) => [k, concatBytes(Uint8Array.of(HDR_TYP), encodeCbor(TYPES[k]))]),
) as Record<EnvelopeKind, Uint8Array>;

/**
 * The fast path: the exact layout licit writes (tag 18, 4-array, protected {1: -8, 4: kid, 16: typ},
 * empty unprotected map, payload, 64-byte signature). Anything else takes the generic path,
 * which accepts other canonical layouts and names the precise fault.
 */
function parseExact(b: Uint8Array, kind: EnvelopeKind): ParsedEnvelope | undefined {
  if (b[0] !== 0xd2 || b[1] !== 0x84) return undefined;
  const prot = bstrAt(b, 2);
  if (prot === undefined || b[prot[1]] !== 0xa0) return undefined;
  const pay = bstrAt(b, prot[1] + 1);
  if (pay === undefined || b[pay[1]] !== 0x58 || b[pay[1] + 1] !== 64 || pay[1] + 66 !== b.length) return undefined;
  const h = b.subarray(prot[0], prot[1]);
  if (h[0] !== 0xa3 || h[1] !== HDR_ALG || h[2] !== 0x27 || h[3] !== HDR_KID) return undefined;
  const kidAt = bstrAt(h, 4);
  if (kidAt === undefined || kidAt[1] === kidAt[0] || kidAt[1] - kidAt[0] > 32) return undefined;
  const tail = TYP_TAILS[kind];
  if (h.length - kidAt[1] !== tail.length) return undefined;
  for (let i = 0; i < tail.length; i++) if (h[kidAt[1] + i] !== tail[i]) return undefined;
  return { kind, kid: toHex(h.subarray(kidAt[0], kidAt[1])), protectedBytes: h, payload: b.subarray(pay[0], pay[1]), signature: b.subarray(pay[1] + 2) };
}

function parseGeneric(bytes: Uint8Array, kind: EnvelopeKind): ParsedEnvelope {
  const top = decodeCanonical(bytes, { allowTags: true });
  if (!(top instanceof Tag) || top.tag !== COSE_SIGN1_TAG) throw malformed(kind, 'not a COSE_Sign1 structure');
  const arr = top.value as unknown;
  if (!Array.isArray(arr) || arr.length !== 4) throw malformed(kind, 'COSE_Sign1 must have 4 elements');
  const [protectedBytes, unprotected, payload, signature] = arr as unknown[];
  if (!(protectedBytes instanceof Uint8Array) || !(payload instanceof Uint8Array) || !(signature instanceof Uint8Array)) {
    throw malformed(kind, 'COSE_Sign1 fields have the wrong types');
  }
  // The unprotected header is outside the signature: accept only an empty map, so no byte can change.
  if (!(unprotected instanceof Map) || unprotected.size !== 0) throw malformed(kind, 'unexpected unprotected header');
  if (signature.length !== 64) throw malformed(kind, 'an Ed25519 signature is 64 bytes');
  const hdr = decodeCanonical(protectedBytes);
  if (!(hdr instanceof Map)) throw malformed(kind, 'protected header is not a map');
  let unsupported: LicenseError | undefined;
  const unknown = [...hdr.keys()].find((label) => label !== HDR_ALG && label !== HDR_KID && label !== HDR_TYP);
  if (unknown !== undefined) {
    unsupported = new LicenseError('ERR_KEY_UNSUPPORTED', `the ${kindName(kind)} uses header ${String(unknown)}, which this version of licit does not understand; upgrade licit`);
  } else if (hdr.get(HDR_ALG) !== ALG_EDDSA) {
    unsupported = new LicenseError('ERR_KEY_UNSUPPORTED', `the ${kindName(kind)} is not signed with EdDSA`);
  }
  const kid = hdr.get(HDR_KID);
  if (!(kid instanceof Uint8Array) || kid.length === 0 || kid.length > 32) throw malformed(kind, 'missing key id');
  const typ = hdr.get(HDR_TYP);
  if (typ !== TYPES[kind]) {
    const found = (Object.keys(TYPES) as EnvelopeKind[]).find((k) => TYPES[k] === typ);
    if (found !== undefined) throw new LicenseError('ERR_KEY_WRONG_KIND', `this is a ${kindName(found)}, not a ${kindName(kind)}`, { expected: kind, found });
    throw malformed(kind, 'unknown object type');
  }
  return { kind, kid: toHex(kid), protectedBytes, payload, signature, unsupported };
}

/** Decode the payload of a parsed envelope into its claim map (structure only). */
export function decodeClaims(env: ParsedEnvelope): ClaimMap {
  const claims = decodeCanonical(env.payload);
  if (!(claims instanceof Map)) throw malformed(env.kind, 'payload is not a claims map');
  return claims as ClaimMap;
}

/**
 * Check a parsed envelope's signature against trusted keys; throws the matching `LicenseError`.
 * Returns a promise only when the backend is asynchronous, so the synchronous `node:crypto` path
 * costs no extra microtask.
 */
export function verifySignature(env: ParsedEnvelope, keyring: Keyring, tbs: Uint8Array = toBeSigned(env.protectedBytes, env.payload)): void | Promise<void> {
  const key = keyring.get(env.kid);
  if (key === undefined) {
    throw new LicenseError('ERR_KEY_UNKNOWN_SIGNER', `the ${kindName(env.kind)} was signed by key ${env.kid}, which is not among the trusted public keys. Add the vendor's current public key to publicKeys.`, { kid: env.kid });
  }
  const ok = key.verify(env.signature, tbs);
  if (typeof ok === 'boolean') return signatureResult(ok, env);
  return ok.then((r) => signatureResult(r, env));
}

function signatureResult(ok: boolean, env: ParsedEnvelope): void {
  // Fixed message: a forgery learns nothing from the failure.
  if (!ok) throw new LicenseError('ERR_KEY_SIGNATURE', `signature verification failed: this ${kindName(env.kind)} was altered or not issued by the vendor`);
  if (env.unsupported !== undefined) throw env.unsupported;
}

/** Verify an envelope against trusted keys; resolves to its claims and signer. */
export async function openEnvelope(text: unknown, kind: EnvelopeKind, keyring: Keyring): Promise<{ claims: ClaimMap; kid: string; parsed: ParsedEnvelope }> {
  const env = parseEnvelope(text, kind);
  await verifySignature(env, keyring);
  return { claims: decodeClaims(env), kid: env.kid, parsed: env };
}
