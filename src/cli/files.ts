/** Reading the files CLI verbs are pointed at, with errors that name the flag and the fix. */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { LicenseError } from '../core/errors.js';

/** Largest key file accepted: keys are a few kilobytes; this refuses `/dev/zero` and big files before reading them. */
const MAX_FILE_BYTES = 1024 * 1024;

/** Why a file could not be read, in words (the errno code stays in brackets for searches). */
function cannotRead(what: string, path: string, code: string | undefined, detail: string): LicenseError {
  const why =
    code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory, not a file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied (run as a user who may read it)' : detail;
  return new LicenseError('ERR_USAGE', `cannot read ${what} ${path}: ${why}${code !== undefined && !why.includes(code) ? ` [${code}]` : ''}`, { path });
}

const failedRead = (what: string, path: string, e: unknown): LicenseError => cannotRead(what, path, (e as NodeJS.ErrnoException).code, (e as Error).message ?? String(e));

/**
 * Read a regular file named on the command line (`what` names it in messages), refusing one larger
 * than `maxBytes` whatever its size claims (device and sysfs files say 0). Every failure is
 * `ERR_USAGE`: the command line is what to fix.
 */
export function readFileBounded(path: string, what: string, maxBytes: number, tooLarge: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw failedRead(what, path, e);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw cannotRead(what, path, 'EISDIR', 'is a directory');
    if (!st.isFile()) throw new LicenseError('ERR_USAGE', `${what} ${path} is not a regular file`, { path });
    const buf = Buffer.alloc(maxBytes + 1);
    let n = 0;
    for (let got = -1; got !== 0 && n < buf.length; n += got) got = readSync(fd, buf, n, buf.length - n, null);
    if (n > maxBytes) throw new LicenseError('ERR_USAGE', `${what} ${path} ${tooLarge}`, { path });
    return buf.subarray(0, n);
  } catch (e) {
    if (e instanceof LicenseError) throw e;
    throw failedRead(what, path, e);
  } finally {
    closeSync(fd);
  }
}

/** Read a small text file named by `flag`; `ERR_USAGE` when it cannot be read, is not a regular file, or is too large. */
export function readTextFile(path: string, flag: string): string {
  return readFileBounded(path, flag, MAX_FILE_BYTES, 'is larger than 1 MiB; it cannot be a licit key file').toString('utf8');
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

/**
 * A license key given as a positional argument (`verify`, `inspect`): the key text, or, as for
 * `--license`, `@FILE` or the path of a file holding it. Anything else is passed on as key text, so
 * a garbled key is still `ERR_KEY_MALFORMED` with its own advice.
 */
export function licenseArgument(value: string): string {
  if (value.startsWith('@')) return readTextFile(value.slice(1), 'KEY');
  if (!/^\s*LICIT/.test(value) && existsSync(value)) return readTextFile(value, 'KEY');
  return value;
}
