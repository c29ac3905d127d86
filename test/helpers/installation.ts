/** A fresh installation key pair for tests and benchmarks: what `Installation` makes on first use, in memory. */
import { generateKeyPairSync, sign } from 'node:crypto';
import { keyId } from '../../src/core/crypto/keys.js';
import type { InstallationSigner } from '../../src/core/exchange/index.js';

export function newInstallation(): InstallationSigner {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = new Uint8Array(Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url'));
  return { kid: keyId(raw), publicKey: raw, sign: (m) => new Uint8Array(sign(null, m, privateKey)) };
}
