/** The vendor's signer: an Ed25519 private key (PKCS#8 PEM or KeyObject) on `node:crypto`. */
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import type { Signer } from '../core/crypto/envelope.js';
import { LicenseError } from '../core/errors.js';
import { keyId, rawFromPem } from '../core/crypto/keys.js';

/** A signing key: PKCS#8 PEM text, an Ed25519 private `KeyObject`, or a ready {@link Signer} (e.g. an HSM). */
export type SigningKeyInput = string | KeyObject | Signer;

const cache = new Map<string, Signer>();

function fromKeyObject(key: KeyObject): Signer {
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') {
    throw new LicenseError('ERR_PRIVATE_KEY_INVALID', `the signing key must be an Ed25519 private key, got a ${key.asymmetricKeyType ?? 'unknown'} ${key.type} key`);
  }
  const pub = createPublicKey(key).export({ format: 'pem', type: 'spki' }).toString();
  return { kid: keyId(rawFromPem(pub)), sign: (msg) => new Uint8Array(sign(null, msg, key)) };
}

/** Turn any accepted signing-key form into a {@link Signer}. */
export function toSigner(input: SigningKeyInput): Signer {
  if (typeof input === 'string') {
    let s = cache.get(input);
    if (s === undefined) {
      let key: KeyObject;
      try {
        key = createPrivateKey(input);
      } catch {
        throw new LicenseError('ERR_PRIVATE_KEY_INVALID', 'the signing key is not a PKCS#8 PEM private key; use the vendor.key written by `licit keygen`');
      }
      s = fromKeyObject(key);
      cache.set(input, s);
    }
    return s;
  }
  if (typeof (input as Signer).sign === 'function' && typeof (input as Signer).kid === 'string') return input as Signer;
  return fromKeyObject(input as KeyObject);
}
