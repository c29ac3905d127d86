/** Reading the files CLI verbs are pointed at, with errors that name the flag and the fix. */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { LicenseError } from '../core/errors.js';

/** Largest key file accepted: keys are a few kilobytes; this refuses `/dev/zero` and big files before reading them. */
const MAX_FILE_BYTES = 1024 * 1024;

/** Read a small text file named by `flag`; `ERR_USAGE` when it cannot be read, is not a regular file, or is too large. */
export function readTextFile(path: string, flag: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new LicenseError('ERR_USAGE', `cannot read ${flag} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new LicenseError('ERR_USAGE', `${flag} ${path} is not a regular file`);
    // Read at most one byte past the limit, whatever the file claims its size is (device files say 0).
    const buf = Buffer.alloc(MAX_FILE_BYTES + 1);
    let n = 0;
    for (let got = -1; got !== 0 && n < buf.length; n += got) got = readSync(fd, buf, n, buf.length - n, null);
    if (n > MAX_FILE_BYTES) throw new LicenseError('ERR_USAGE', `${flag} ${path} is larger than 1 MiB; it cannot be a licit key file`);
    return buf.subarray(0, n).toString('utf8');
  } catch (e) {
    if (e instanceof LicenseError) throw e;
    throw new LicenseError('ERR_USAGE', `cannot read ${flag} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

/** The vendor public keys named by one or more `--public-key FILE` flags. */
export function readPublicKeys(values: string | string[] | undefined, usage: string): string[] {
  const files = values === undefined ? [] : Array.isArray(values) ? values : [values];
  if (files.length === 0) throw new LicenseError('ERR_USAGE', `missing --public-key FILE (the vendor's vendor.pub)\nUsage: ${usage}`);
  return files.map((f) => readTextFile(f, '--public-key'));
}

/** A license key given inline, or read from a file when the value names one (`@file` or an existing path). */
export function licenseText(value: string): string {
  if (value.startsWith('@')) return readTextFile(value.slice(1), '--license');
  if (/^LICIT/.test(value.trim())) return value;
  if (!existsSync(value)) {
    throw new LicenseError('ERR_USAGE', `--license takes a license key (starting with "LICIT1-"), @FILE, or the path of a file holding one; "${value.length > 24 ? `${value.slice(0, 24)}…` : value}" is neither a key nor an existing file`);
  }
  return readTextFile(value, '--license');
}
