/**
 * Shared by scripts/make-vectors.ts (which writes test/vectors/licit-formats.json) and
 * test/05b.format-vectors.test.ts (which checks it): the fixed keys, how a stored input is turned
 * back into licit's text, and how a decoded object is written as JSON. Only licit's own encoders
 * and decoders run here; nothing in this file encodes a licit format by itself.
 */
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { fromHex, toHex } from '../../src/core/codec/bytes.js';
import { keyId } from '../../src/core/crypto/keys.js';
import type { LicenseInput } from '../../src/core/license/claims.js';
import { createLease, createRequest, type InstallationSigner, type LeaseInput, type RequestInput } from '../../src/core/exchange/index.js';
import { issueLicense, issueTopUp, toSigner } from '../../src/issuer/index.js';
import { Fingerprint, hashComponent } from '../../src/core/fingerprint/fingerprint.js';
import type { HostFacts } from '../../src/core/fingerprint/facts.js';

/** RFC 8032 section 7.1 TEST 1 secret key (the 32-byte seed): the vendor key of every vector. */
export const VENDOR_SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
/** RFC 8032 section 7.1 TEST 2 secret key: the installation key that signs every request code. */
export const INSTALLATION_SEED = '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb';

/** PKCS#8 DER of an Ed25519 private key is this 16-byte prefix followed by the 32-byte seed (RFC 8410). */
const PKCS8_ED25519_PREFIX = '302e020100300506032b657004220420';

export interface FixedKey {
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
  readonly publicKey: Uint8Array;
  readonly kid: string;
}

export function keyFromSeed(seedHex: string): FixedKey {
  const privateKey = createPrivateKey({ key: Buffer.from(PKCS8_ED25519_PREFIX + seedHex, 'hex'), format: 'der', type: 'pkcs8' });
  const pub = createPublicKey(privateKey);
  const publicKey = new Uint8Array(Buffer.from(pub.export({ format: 'jwk' }).x as string, 'base64url'));
  return { privateKey, publicKeyPem: pub.export({ format: 'pem', type: 'spki' }).toString(), publicKey, kid: keyId(publicKey) };
}

export const vendor = keyFromSeed(VENDOR_SEED);
export const installation = keyFromSeed(INSTALLATION_SEED);

export const installationSigner: InstallationSigner = {
  kid: installation.kid,
  publicKey: installation.publicKey,
  sign: (msg) => new Uint8Array(sign(null, msg, installation.privateKey)),
};

// ---- JSON forms -------------------------------------------------------------------------------

/** Any value as JSON data: dates as ISO text, bytes as lowercase hex, absent fields left out. */
export function jsonOf(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return toHex(v);
  if (Array.isArray(v)) return v.map(jsonOf);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = jsonOf(x);
    return out;
  }
  return v;
}

const date = (s: unknown): Date | undefined => (s === undefined ? undefined : new Date(s as string));
const bytes = (s: unknown): Uint8Array => fromHex(s as string) as Uint8Array;

/** The stored input of each kind, as licit's API takes it. */
export function licenseInput(j: Record<string, unknown>): LicenseInput {
  const out: Record<string, unknown> = { ...j };
  for (const k of ['issuedAt', 'notBefore', 'expiresAt', 'maintenanceExpiresAt']) if (k in j) out[k] = date(j[k]);
  return out as LicenseInput;
}
export function requestInput(j: Record<string, unknown>): RequestInput {
  return { ...j, clientTime: date(j.clientTime) } as unknown as RequestInput;
}
export function leaseInput(j: Record<string, unknown>): LeaseInput {
  return { ...j, installationKey: bytes(j.installationKey), serverTime: date(j.serverTime), verifiedUntil: date(j.verifiedUntil) } as unknown as LeaseInput;
}

/** What a fingerprint vector is made from: raw facts, or an operator-supplied machine id. */
export type FingerprintInput = { readonly salt: string; readonly facts: HostFacts } | { readonly salt: string; readonly suppliedMachineId: string };

// ---- Encoders (licit's own) ---------------------------------------------------------------------

export const encode = {
  /** `issueLicense`; `issuedAt` is in the input, `now` is only its fallback. */
  license: (input: Record<string, unknown>): Promise<string> => issueLicense(licenseInput(input), { signingKey: vendor.privateKey }),
  request: (input: Record<string, unknown>): Promise<string> => createRequest(requestInput(input), installationSigner),
  lease: (input: Record<string, unknown>): Promise<string> => createLease(leaseInput(input), toSigner(vendor.privateKey)),
  topup: (input: { licenseId: string; credits: number; tokenId: string; issuedAt: string }): Promise<string> =>
    issueTopUp({ licenseId: input.licenseId, credits: input.credits, tokenId: input.tokenId }, { signingKey: vendor.privateKey, now: new Date(input.issuedAt) }),
  fingerprint: (input: FingerprintInput): string =>
    'facts' in input
      ? Fingerprint.fromFacts(input.facts, { salt: input.salt }).toString()
      : new Fingerprint([{ kind: 'machine-id', name: 'machine-id', value: hashComponent(input.salt, 'machine-id', input.suppliedMachineId) }], 'supplied').toString(),
};

// ---- The vector file ----------------------------------------------------------------------------

export interface Vector<I, E> {
  readonly name: string;
  readonly note?: string;
  readonly input: I;
  readonly text: string;
  /** Envelopes only: the payload's claim keys in wire order (CWT integer keys as numbers). */
  readonly claimKeys?: (string | number)[];
  readonly expected: E;
}

export interface FormatVectors {
  readonly about: string;
  readonly vendorKey: { seed: string; publicKey: string; publicKeyPem: string; kid: string };
  readonly installationKey: { seed: string; publicKey: string; kid: string };
  /** `verifyLicense` runs at this instant for every license vector. */
  readonly verifyAt: string;
  readonly licenses: Vector<Record<string, unknown>, { kid: string; status: string; claims: Record<string, unknown> }>[];
  readonly requests: Vector<Record<string, unknown>, Record<string, unknown>>[];
  readonly leases: Vector<Record<string, unknown>, Record<string, unknown>>[];
  readonly topups: Vector<{ licenseId: string; credits: number; tokenId: string; issuedAt: string }, Record<string, unknown>>[];
  readonly fingerprints: Vector<FingerprintInput, { components: { kind: string; value: string }[] }>[];
}

export const VECTORS_URL = new URL('../vectors/licit-formats.json', import.meta.url);

/** The file's exact text: two-space JSON and a final newline. */
export const serialise = (v: FormatVectors): string => `${JSON.stringify(v, null, 2)}\n`;
