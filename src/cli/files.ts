/** Reading the files CLI verbs are pointed at, with errors that name the flag and the fix. */
import { readFileSync } from 'node:fs';
import { LicenseError } from '../core/errors.js';

/** Read a small text file named by `flag`; `ERR_USAGE` when it cannot be read. */
export function readTextFile(path: string, flag: string): string {
  try {
    const text = readFileSync(path, 'utf8');
    if (text.length > 1024 * 1024) throw new LicenseError('ERR_USAGE', `${flag} ${path} is larger than 1 MiB; it cannot be a licit key file`);
    return text;
  } catch (e) {
    if (e instanceof LicenseError) throw e;
    throw new LicenseError('ERR_USAGE', `cannot read ${flag} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
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
  return readTextFile(value, '--license');
}
