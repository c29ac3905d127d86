/** Vendor key pairs: Ed25519, private key as PKCS#8 PEM (mode 0600), public key as SPKI PEM. */
import { generateKeyPairSync } from 'node:crypto';
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LicenseError } from '../core/errors.js';
import { keyId, rawFromPem } from '../core/crypto/keys.js';
import { makeDirectory } from '../os/make-dir.js';

/** A vendor key pair in PEM form. */
export interface VendorKeyPair {
  /** PKCS#8 PEM. Keep it secret: it signs licenses. */
  readonly privateKeyPem: string;
  /** SPKI PEM. Ship it inside the application. */
  readonly publicKeyPem: string;
  /** Key id that every object signed by this key carries. */
  readonly kid: string;
}

/** Make a new Ed25519 vendor key pair. */
export function generateKeyPair(): VendorKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicKeyPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  return { privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), publicKeyPem, kid: keyId(rawFromPem(publicKeyPem)) };
}

/** Paths written by {@link writeKeyPair}. */
export interface KeyPairFiles {
  /** `dir/vendor.key` (PKCS#8 PEM, mode 0600). */
  readonly privateKeyPath: string;
  /** `dir/vendor.pub` (SPKI PEM). */
  readonly publicKeyPath: string;
  /** Key id of the pair. */
  readonly kid: string;
}

async function writeNew(path: string, text: string, mode: number): Promise<void> {
  // O_EXCL: never overwrite an existing key, even if another process races us.
  const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Make a key pair and write `dir/vendor.key` (0600) and `dir/vendor.pub`; refuses to overwrite either. */
export async function writeKeyPair(dir: string): Promise<KeyPairFiles> {
  const pair = generateKeyPair();
  const privateKeyPath = join(dir, 'vendor.key');
  const publicKeyPath = join(dir, 'vendor.pub');
  try {
    await makeDirectory(dir);
    await writeNew(privateKeyPath, pair.privateKeyPem, 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if ((code === 'EEXIST' || code === 'ENOTDIR') && !(await isDirectory(dir))) {
      throw new LicenseError('ERR_USAGE', `${dir} is a file, not a directory; give --out a directory for the key pair`);
    }
    if (code === 'EEXIST') throw new LicenseError('ERR_USAGE', `${privateKeyPath} already exists; licit never overwrites a signing key. Choose another --out directory.`);
    throw new LicenseError('ERR_IO', `cannot write ${privateKeyPath}: ${(e as Error).message}`);
  }
  try {
    await writeNew(publicKeyPath, pair.publicKeyPem, 0o644);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new LicenseError(code === 'EEXIST' ? 'ERR_USAGE' : 'ERR_IO', `cannot write ${publicKeyPath}: ${code === 'EEXIST' ? 'it already exists' : (e as Error).message}`);
  }
  return { privateKeyPath, publicKeyPath, kid: pair.kid };
}
