/**
 * Sealing ledger records: AES-256-GCM (see core/crypto/seal.ts for the backends) under a key derived with HKDF-SHA-256 from the
 * application secret and the license id. The key depends on the license, not on the machine, so a
 * ledger copied to new hardware opens there (seed scenarios 2 to 4).
 *
 * Sealing stops casual editing and makes every change detectable; it is not secrecy against
 * someone who extracts the secret from the application (see docs/credits.md).
 */
import { utf8 } from '../codec/bytes.js';
import { LicenseError } from '../errors.js';
import { hkdfSealKey, seal, unseal, type SealKey } from '../crypto/seal.js';

/** The AES-GCM key of one license's ledger. */
export type LedgerKey = SealKey;

// Bound into every record's tag, so a ledger record cannot be passed off as other sealed state.
const AAD = utf8('licit-ledger-record-v1');
/** Nonce (12) + tag (16) around each plaintext. */
export const SEAL_OVERHEAD = 12 + 16;

/**
 * Derive the ledger key: HKDF-SHA-256(ikm = secret, salt = "licit-ledger-v1", info = license id).
 *
 * @example
 * ```ts
 * const key = await deriveLedgerKey(process.env.APP_SECRET!, license.id)
 * ```
 */
export async function deriveLedgerKey(secret: string | Uint8Array, licenseId: string): Promise<LedgerKey> {
  const ikm = typeof secret === 'string' ? utf8(secret) : secret;
  if (ikm.length === 0) throw new LicenseError('ERR_SECRET_REQUIRED', 'the ledger secret is empty; pass the application secret your app was built with (there is no default: a shared one would let anyone forge a ledger)');
  return hkdfSealKey(ikm, 'licit-ledger-v1', licenseId);
}

/** Seal one record plaintext: `nonce | ciphertext | tag`. */
export const sealRecord = (key: LedgerKey, plaintext: Uint8Array): Promise<Uint8Array> => seal(key, plaintext, AAD);

/** Open one sealed record; `undefined` when it was altered, cut, or sealed under another key. */
export const openRecord = (key: LedgerKey, body: Uint8Array): Promise<Uint8Array | undefined> => unseal(key, body, AAD);
