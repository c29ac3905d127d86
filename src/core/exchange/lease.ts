/**
 * Leases: the vendor-signed answer to an activation or renewal request (`LICITL1-…`). A lease binds
 * one license, one machine fingerprint and one installation key, echoes the request's nonce, and
 * says how long this installation counts as verified (`verifiedUntil`) plus what the server knows:
 * the credit consumption floor, seat counts, top-ups and, when the vendor re-issued it, a new key.
 */
import { bytesEqual, toHex } from '../codec/bytes.js';
import type { CborValue } from '../codec/cbor.js';
import { decodeClaims, parseEnvelope, sealEnvelope, verifySignature, type ClaimMap, type Signer } from '../crypto/envelope.js';
import { LicenseError } from '../errors.js';
import { keyId, toKeyring, type Keyring, type PublicKeyInput } from '../crypto/keys.js';
import { ClaimReader, countsMap, EXCHANGE_VERSION, NONCE_BYTES, nonceBytes, secondsOf } from './fields.js';

/** What the server grants. */
export interface LeaseInput {
  /** The license the lease is for. */
  readonly licenseId: string;
  /** The fingerprint of the machine the lease is for. */
  readonly fingerprint: string;
  /** The raw public key of the installation the lease is for. */
  readonly installationKey: Uint8Array;
  /** The nonce of the request this answers (hex). */
  readonly nonce: string;
  /** The server's clock when it answered. */
  readonly serverTime: Date;
  /** End of verification: server time plus the license's lease interval. */
  readonly verifiedUntil: Date;
  /** The device id the server counts this activation under. */
  readonly deviceId: string;
  /** The license user the activation belongs to. */
  readonly user?: string | undefined;
  /** Credits consumed as the server last saw them: no local state may go below it. */
  readonly floor: number;
  /** Seat counts per user type the server holds for this license, when they differ from the key. */
  readonly seats?: Readonly<Record<string, number>> | undefined;
  /** Top-up tokens (`LICITT1-…`) the server holds for this license. */
  readonly topUps?: readonly string[] | undefined;
  /** A re-issued license key that replaces the one installed. */
  readonly licenseKey?: string | undefined;
}

/** A lease whose signature held. */
export interface Lease extends Required<Omit<LeaseInput, 'user' | 'seats' | 'topUps' | 'licenseKey'>> {
  /** The license user the activation belongs to, when the server named one. */
  readonly user: string | undefined;
  /** Seat counts per user type the server holds, when they differ from the key. */
  readonly seats: Readonly<Record<string, number>> | undefined;
  /** Top-up tokens (`LICITT1-…`) the server holds for this license (empty when none). */
  readonly topUps: readonly string[];
  /** A re-issued license key replacing the one installed, when the vendor re-issued it. */
  readonly licenseKey: string | undefined;
  /** Key id of the installation the lease binds. */
  readonly installationId: string;
  /** Key id of the vendor key that signed it. */
  readonly kid: string;
  /** The lease text, whitespace removed. */
  readonly text: string;
}

const EXP = 4;
const IAT = 6;

/**
 * Sign a lease (vendor side).
 *
 * @example
 * ```ts
 * const lease = await createLease({ licenseId, fingerprint: req.fingerprint, installationKey: req.installationKey,
 *   nonce: req.nonce, serverTime: now, verifiedUntil: new Date(+now + 14 * 864e5), deviceId, floor: 0 }, signer)
 * ```
 */
export async function createLease(input: LeaseInput, signer: Signer): Promise<string> {
  const m: ClaimMap = new Map();
  const put = (k: string | number, v: CborValue | undefined) => {
    if (v !== undefined) m.set(k, v);
  };
  put('ver', EXCHANGE_VERSION);
  put('lid', input.licenseId);
  put('fp', input.fingerprint);
  put('ipk', input.installationKey.slice());
  put('nonce', nonceBytes(input.nonce));
  put(IAT, secondsOf(input.serverTime));
  put(EXP, secondsOf(input.verifiedUntil));
  put('dev', input.deviceId);
  put('user', input.user);
  put('floor', input.floor);
  put('seats', countsMap(input.seats));
  if (input.topUps !== undefined && input.topUps.length > 0) put('topups', input.topUps.map((t) => t.replace(/\s+/g, '')));
  put('key', input.licenseKey?.replace(/\s+/g, ''));
  readLease(m, '', ''); // validate before signing
  return sealEnvelope('lease', m, signer);
}

function readLease(m: ClaimMap, kid: string, text: string): Lease {
  const r = new ClaimReader(m, 'lease');
  const installationKey = r.bytes('ipk', 32);
  const serverTime = r.seconds(IAT);
  const verifiedUntil = r.seconds(EXP);
  if (verifiedUntil < serverTime) throw new LicenseError('ERR_KEY_INVALID_CLAIM', 'the lease is invalid: it ends before it was issued', { claim: 'exp' });
  return {
    licenseId: r.text('lid', 128) as string,
    fingerprint: r.text('fp', 4096) as string,
    installationKey: installationKey.slice(),
    installationId: keyId(installationKey),
    nonce: toHex(r.bytes('nonce', NONCE_BYTES)),
    serverTime,
    verifiedUntil,
    deviceId: r.text('dev', 256) as string,
    user: r.text('user', 256, true),
    floor: r.count('floor') as number,
    seats: r.counts('seats'),
    topUps: r.texts('topups', 4096, 64) ?? [],
    licenseKey: r.text('key', 8192, true),
    kid,
    text,
  };
}

/**
 * Check a lease's signature against the vendor keys and read its claims, without binding checks
 * (use {@link verifyLease} for a lease just received).
 */
export async function openLease(text: unknown, keys: Keyring | PublicKeyInput | readonly PublicKeyInput[]): Promise<Lease> {
  const keyring = keys instanceof Map ? (keys as Keyring) : await toKeyring(keys as PublicKeyInput | readonly PublicKeyInput[]);
  const env = parseEnvelope(text, 'lease');
  await verifySignature(env, keyring);
  return readLease(decodeClaims(env), env.kid, (text as string).replace(/\s+/g, ''));
}

/** Read a lease's claims WITHOUT checking its signature: for support tools (`licit inspect`). Nothing in it is trustworthy. */
export function decodeLease(text: unknown): Lease {
  const env = parseEnvelope(text, 'lease');
  return readLease(decodeClaims(env), env.kid, (text as string).replace(/\s+/g, ''));
}

/** What the installation expects of a lease meant for it. */
export interface LeaseBinding {
  /** The installed license's id. */
  readonly licenseId: string;
  /** This machine's fingerprint string. */
  readonly fingerprint: string;
  /** This installation's raw public key. */
  readonly installationKey: Uint8Array;
  /**
   * Does the lease's fingerprint belong to this machine? Default: the strings are equal. The Node
   * runtime passes a tolerant matcher (a replaced network card keeps the lease).
   */
  readonly matchFingerprint?: ((leaseFingerprint: string, ours: string) => boolean) | undefined;
}

/** Nonce bookkeeping of the installation, for {@link verifyLease}. */
export interface NonceState {
  /** Nonces of requests sent and not yet answered (hex). */
  readonly pending: readonly string[];
  /** Nonces already answered by an installed lease (hex). */
  readonly answered?: readonly string[] | undefined;
  /** Server time of the installed lease: an answer issued before it is stale. */
  readonly installedServerTime?: Date | undefined;
}

/**
 * Refuse a lease that is not for this license, machine or installation. Throws
 * `ERR_EXCHANGE_WRONG_LICENSE`, `ERR_EXCHANGE_WRONG_MACHINE` or `ERR_EXCHANGE_WRONG_INSTALLATION`.
 */
export function checkLeaseBinding(lease: Lease, binding: LeaseBinding): void {
  if (lease.licenseId !== binding.licenseId) {
    throw new LicenseError('ERR_EXCHANGE_WRONG_LICENSE', `this response is for license ${lease.licenseId}, not ${binding.licenseId}. Ask for a response to the request made with this license.`, { leaseLicenseId: lease.licenseId, licenseId: binding.licenseId });
  }
  const sameMachine = binding.matchFingerprint ?? ((a: string, b: string) => a === b);
  if (!sameMachine(lease.fingerprint, binding.fingerprint)) {
    throw new LicenseError('ERR_EXCHANGE_WRONG_MACHINE', 'this response was made for another machine. Paste it on the machine that made the request, or make a new request here.', { licenseId: binding.licenseId });
  }
  if (!bytesEqual(lease.installationKey, binding.installationKey)) {
    throw new LicenseError('ERR_EXCHANGE_WRONG_INSTALLATION', 'this response was made for another installation of the application on this machine. Make a new request from this installation.', {
      licenseId: binding.licenseId,
      leaseInstallation: lease.installationId,
      installation: keyId(binding.installationKey),
    });
  }
}

/**
 * Refuse an answer to no open request: `ERR_EXCHANGE_REPLAYED` when its nonce was answered before,
 * `ERR_EXCHANGE_STALE` when it answers a request that is no longer open or is older than the lease
 * installed.
 */
export function checkLeaseNonce(lease: Lease, nonces: NonceState): void {
  if (nonces.answered?.includes(lease.nonce) === true) {
    throw new LicenseError('ERR_EXCHANGE_REPLAYED', 'this response was already applied; a response works once. Make a new request if the lease needs renewing.', { nonce: lease.nonce });
  }
  if (nonces.installedServerTime !== undefined && lease.serverTime < nonces.installedServerTime) {
    throw new LicenseError('ERR_EXCHANGE_STALE', `this response (${lease.serverTime.toISOString()}) is older than the lease already installed (${nonces.installedServerTime.toISOString()})`, { nonce: lease.nonce });
  }
  if (!nonces.pending.includes(lease.nonce)) {
    throw new LicenseError('ERR_EXCHANGE_STALE', 'this response answers a request this installation no longer waits for (expired, superseded, or never made here). Make a new request.', { nonce: lease.nonce });
  }
}

/**
 * Verify a lease just received: signature (tampering is `ERR_KEY_SIGNATURE`), claims, binding to
 * this license, machine and installation, then its nonce.
 *
 * @example
 * ```ts
 * const lease = await verifyLease(code, { publicKeys: [vendorPub], licenseId: license.id,
 *   fingerprint: fp.toString(), installationKey: inst.publicKey, pending: [nonce] })
 * console.log(lease.verifiedUntil.toISOString())
 * ```
 */
export async function verifyLease(text: unknown, options: LeaseBinding & NonceState & { readonly publicKeys: PublicKeyInput | readonly PublicKeyInput[] }): Promise<Lease> {
  const lease = await openLease(text, options.publicKeys);
  checkLeaseBinding(lease, options);
  checkLeaseNonce(lease, options);
  return lease;
}
