/**
 * The default fingerprint salt of a vendor, derived from its public key. One salt shared by every
 * vendor would let one vendor's fingerprints be linked with another's; a salt from the key that
 * verifies the vendor's licenses differs per vendor and needs no configuration.
 */
import { base64urlEncode } from '../codec/base64.js';
import { rawFrom, type PublicKeyInput } from '../crypto/keys.js';
import { sha256, utf8Bytes } from './hmac.js';

const TAG = utf8Bytes('licit-fp-salt\0');

/**
 * The fingerprint salt for the vendor whose public key is `publicKey` (SPKI PEM text such as
 * `vendor.pub`, the raw 32 bytes, or a `KeyObject`): base64url of the first 128 bits of
 * SHA-256("licit-fp-salt\0" + raw key), 22 characters. `Licensing` uses it, with its first public
 * key, when no `salt` is given; `licit fingerprint --public-key vendor.pub` prints the same
 * fingerprint. Not a secret: the public key is public. Throws `ERR_PUBLIC_KEY_INVALID` for
 * anything that is not an Ed25519 public key.
 *
 * @example
 * ```ts
 * const fp = await getFingerprint({ salt: saltForVendor(readFileSync('vendor.pub', 'utf8')) });
 * ```
 */
export function saltForVendor(publicKey: PublicKeyInput): string {
  const raw = rawFrom(publicKey);
  const input = new Uint8Array(TAG.length + raw.length);
  input.set(TAG);
  input.set(raw, TAG.length);
  return base64urlEncode(sha256(input).subarray(0, 16));
}
