/**
 * Activation and renewal requests: what an installation asks the vendor's server, signed with the
 * installation's own Ed25519 key (so a server can tell installations apart and nobody can speak
 * for one without its key). Armored as `LICITR1-…`, the same envelope as license keys.
 */
import { fromHex, toHex } from '../codec/bytes.js';
import type { CborValue } from '../codec/cbor.js';
import { decodeClaims, parseEnvelope, sealEnvelope, verifySignature, type ClaimMap, type Signer } from '../crypto/envelope.js';
import { LicenseError } from '../errors.js';
import { keyId, toKeyring } from '../crypto/keys.js';
import { ClaimReader, countsMap, EXCHANGE_VERSION, NONCE_BYTES, nonceBytes, secondsOf } from './fields.js';

/** What a request asks for. */
export type RequestOperation = 'activate' | 'renew' | 'deactivate' | 'usage' | 'topup';
const OPERATIONS: readonly RequestOperation[] = ['activate', 'renew', 'deactivate', 'usage', 'topup'];

/** What a `topup` request asks for: credits, under a key that makes retries of one ask count once. */
export interface TopUpAsk {
  /** Credits wanted (1 to 4294967295). */
  readonly credits: number;
  /** 1 to 128 printable characters; every retry of one ask sends the same key. */
  readonly idempotencyKey: string;
}

/** An installation's signer: its key id is derived from {@link InstallationSigner.publicKey}. */
export interface InstallationSigner extends Signer {
  /** The raw 32-byte Ed25519 public key of the installation. */
  readonly publicKey: Uint8Array;
}

/** What a request says. */
export interface RequestInput {
  /** What the installation asks for. */
  readonly operation: RequestOperation;
  /** The id of the license installed. */
  readonly licenseId: string;
  /** The license key text, so a server with no catalogue of its own can check the license's limits. */
  readonly licenseKey?: string | undefined;
  /** The machine's fingerprint string (`fp1:…`, salted hashes; never raw serials). */
  readonly fingerprint: string;
  /** Where the fingerprint came from: read from the hardware, or a machine id the operator supplied. */
  readonly fingerprintSource?: 'hardware' | 'operator' | undefined;
  /** The process runs in a container (hardware identity is unreliable there). */
  readonly container?: boolean | undefined;
  /** The application's name (up to 128 characters), for the vendor's records. */
  readonly appName?: string | undefined;
  /** The application's version (up to 64 characters), for the vendor's records. */
  readonly appVersion?: string | undefined;
  /** Credits consumed locally so far (the ledger's running total, vendor floors included). */
  readonly consumed?: number | undefined;
  /**
   * Credits this installation's ledger spent itself (its consumes, without the vendor floors carried
   * in), with {@link RequestInput.ledgerId}: the server adds these up over every ledger the license
   * ever had, so deleting a ledger never returns a credit.
   */
  readonly spent?: number | undefined;
  /** The ledger's identity (32 hex characters) that `spent` belongs to. */
  readonly ledgerId?: string | undefined;
  /** Seats in use locally, per user type. */
  readonly seats?: Readonly<Record<string, number>> | undefined;
  /** The license user activating (default: the server's default user). */
  readonly user?: string | undefined;
  /** Required for (and only for) the `topup` operation. */
  readonly topUp?: TopUpAsk | undefined;
  /** 16 random bytes as hex; the answer must echo it. */
  readonly nonce: string;
  /** The client's clock when the request was made. */
  readonly clientTime: Date;
}

/** A request whose signature held, with the installation it came from. */
export interface ExchangeRequest extends Required<Pick<RequestInput, 'operation' | 'licenseId' | 'fingerprint' | 'nonce' | 'clientTime'>> {
  /** The license key text (whitespace removed), when the request carries it. */
  readonly licenseKey: string | undefined;
  /** Where the fingerprint came from (`hardware` unless the request says `operator`). */
  readonly fingerprintSource: 'hardware' | 'operator';
  /** The installation runs in a container (false when the request does not say). */
  readonly container: boolean;
  /** The application's name, when sent. */
  readonly appName: string | undefined;
  /** The application's version, when sent. */
  readonly appVersion: string | undefined;
  /** Credits the installation has consumed locally, when sent. */
  readonly consumed: number | undefined;
  /** Credits its ledger spent itself, when sent (with `ledgerId`). */
  readonly spent: number | undefined;
  /** The identity of the ledger `spent` belongs to, when sent. */
  readonly ledgerId: string | undefined;
  /** Seats in use locally per user type, when sent. */
  readonly seats: Readonly<Record<string, number>> | undefined;
  /** The license user the request is for, when sent. */
  readonly user: string | undefined;
  /** What a `topup` request asks for (undefined for the other operations). */
  readonly topUp: TopUpAsk | undefined;
  /** The installation's raw public key. */
  readonly installationKey: Uint8Array;
  /** Key id of the installation key (hex): the installation's stable identity. */
  readonly installationId: string;
}

const IAT = 6;
const LEDGER_ID_BYTES = 16;

function ledgerIdBytes(hex: string): Uint8Array {
  const b = typeof hex === 'string' && /^[0-9a-f]{32}$/.test(hex) ? fromHex(hex) : undefined;
  if (b === undefined) throw new LicenseError('ERR_USAGE', 'a ledger id is 32 lowercase hex characters (the ledgerId of a CreditLedger balance)');
  return b;
}

/**
 * Build and sign a request code (`LICITR1-…`).
 *
 * @example
 * ```ts
 * const code = await createRequest({ operation: 'activate', licenseId: license.id, licenseKey: license.text,
 *   fingerprint: fp.toString(), nonce: newNonce(), clientTime: new Date() }, installation.signer)
 * ```
 */
export async function createRequest(input: RequestInput, signer: InstallationSigner): Promise<string> {
  if (!OPERATIONS.includes(input.operation)) throw new LicenseError('ERR_USAGE', `operation must be one of ${OPERATIONS.join(', ')}`);
  if ((input.operation === 'topup') !== (input.topUp !== undefined)) throw new LicenseError('ERR_USAGE', 'a topup request needs { topUp: { credits, idempotencyKey } }, and only a topup request carries one');
  if (keyId(signer.publicKey) !== signer.kid) throw new LicenseError('ERR_PRIVATE_KEY_INVALID', 'the installation signer kid does not match its public key');
  const m: ClaimMap = new Map();
  const put = (k: string | number, v: CborValue | undefined) => {
    if (v !== undefined) m.set(k, v);
  };
  put('ver', EXCHANGE_VERSION);
  put('op', input.operation);
  put('lid', input.licenseId);
  put('key', input.licenseKey?.replace(/\s+/g, ''));
  put('fp', input.fingerprint);
  if (input.fingerprintSource === 'operator') put('fps', 'operator');
  if (input.container === true) put('ctr', true);
  put('app', input.appName);
  put('appv', input.appVersion);
  put('used', input.consumed);
  if ((input.spent === undefined) !== (input.ledgerId === undefined)) throw new LicenseError('ERR_USAGE', 'a request reports spent credits together with the ledger id they belong to, or neither');
  put('spent', input.spent);
  put('lgr', input.ledgerId === undefined ? undefined : ledgerIdBytes(input.ledgerId));
  put('seats', countsMap(input.seats));
  put('user', input.user);
  if (input.topUp !== undefined) {
    put('tuc', input.topUp.credits);
    put('tuk', input.topUp.idempotencyKey);
  }
  put('nonce', nonceBytes(input.nonce));
  put(IAT, secondsOf(input.clientTime));
  put('ipk', signer.publicKey.slice());
  // Validate what we are about to sign exactly as a server will read it.
  readRequest(m, signer.publicKey);
  return sealEnvelope('request', m, signer);
}

function readRequest(m: ClaimMap, ipk: Uint8Array): ExchangeRequest {
  const r = new ClaimReader(m, 'request code');
  const op = r.text('op', 16) as RequestOperation;
  if (!OPERATIONS.includes(op)) throw new LicenseError('ERR_KEY_INVALID_CLAIM', `the request code asks for "${op}", which this licit does not know`, { claim: 'op' });
  const fps = r.text('fps', 16, true);
  if (fps !== undefined && fps !== 'operator') throw new LicenseError('ERR_KEY_INVALID_CLAIM', 'the request code is invalid: claim "fps" must be "operator"', { claim: 'fps' });
  let topUp: TopUpAsk | undefined;
  if (op === 'topup') {
    const credits = r.count('tuc') as number;
    if (credits < 1 || credits > 0xffffffff) throw new LicenseError('ERR_KEY_INVALID_CLAIM', 'the request code is invalid: claim "tuc" must be 1 to 4294967295 credits', { claim: 'tuc' });
    topUp = { credits, idempotencyKey: r.text('tuk', 128) as string };
  } else if (r.has('tuc') || r.has('tuk')) {
    throw new LicenseError('ERR_KEY_INVALID_CLAIM', `the request code is invalid: a ${op} request carries no top-up`, { claim: 'tuc' });
  }
  if (r.has('spent') !== r.has('lgr')) throw new LicenseError('ERR_KEY_INVALID_CLAIM', 'the request code is invalid: claims "spent" and "lgr" go together', { claim: 'spent' });
  return {
    operation: op,
    licenseId: r.text('lid', 128) as string,
    licenseKey: r.text('key', 8192, true),
    fingerprint: r.text('fp', 4096) as string,
    fingerprintSource: fps === 'operator' ? 'operator' : 'hardware',
    container: r.flag('ctr'),
    appName: r.text('app', 128, true),
    appVersion: r.text('appv', 64, true),
    consumed: r.count('used', true),
    spent: r.count('spent', true),
    ledgerId: r.has('lgr') ? toHex(r.bytes('lgr', LEDGER_ID_BYTES)) : undefined,
    seats: r.counts('seats'),
    user: r.text('user', 256, true),
    topUp,
    nonce: toHex(r.bytes('nonce', NONCE_BYTES)),
    clientTime: r.seconds(IAT),
    installationKey: ipk,
    installationId: keyId(ipk),
  };
}

/**
 * Verify a request code: its signature must hold under the installation key it carries (whose key
 * id must be the envelope's `kid`), then every claim is validated. Any change to the code fails with
 * `ERR_KEY_SIGNATURE`.
 *
 * @example
 * ```ts
 * const req = await openRequest(code) // server side
 * console.log(req.licenseId, req.installationId, req.fingerprint)
 * ```
 */
export async function openRequest(text: unknown): Promise<ExchangeRequest> {
  const env = parseEnvelope(text, 'request');
  const claims = decodeClaims(env);
  const ipk = claims.get('ipk');
  if (!(ipk instanceof Uint8Array) || ipk.length !== 32) throw new LicenseError('ERR_KEY_INVALID_CLAIM', 'the request code is invalid: claim "ipk" must be 32 bytes', { claim: 'ipk' });
  if (keyId(ipk) !== env.kid) {
    throw new LicenseError('ERR_KEY_SIGNATURE', 'signature verification failed: this request code was altered or not made by the installation it names');
  }
  await verifySignature(env, await toKeyring([ipk]));
  return readRequest(claims, ipk.slice());
}
