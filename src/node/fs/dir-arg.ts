/** Checks on a flag that names a directory, made before anything is opened or created there. */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { LicenseError, type LicenseErrorCode } from '../../core/errors.js';

/**
 * Refuse `path` (given as `flag`) when it exists but is not a directory, or when it cannot be a
 * directory (a parent is a file). A missing directory is fine: the store or ledger creates it.
 * Without this check a file in its place fails only later, as a lock or mkdir error (`EEXIST`)
 * that does not say what is wrong, or, for a server, as 503 on every request after startup.
 *
 * @example
 * assertDirectory(values.dir, '--dir'); // ERR_USAGE: "--dir ./afile is a file, not a directory"
 */
export function assertDirectory(path: string | undefined, flag: string, code: LicenseErrorCode = 'ERR_USAGE'): void {
  if (path === undefined) return;
  if (path === '') throw new LicenseError(code, `${flag} needs a directory path (it is empty)`);
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code;
    if (errno === 'ENOENT') return;
    if (errno === 'ENOTDIR') throw new LicenseError(code, `${flag} ${path} cannot be a directory: one of its parent directories (in ${resolve(path)}) is a file; choose another path`, { path });
    throw new LicenseError(code, `${flag} ${path} cannot be used: ${(e as Error).message}`, { path }, { cause: e });
  }
  if (!isDir) throw new LicenseError(code, `${flag} ${path} is a file, not a directory; give a directory path (it is created if missing)`, { path });
}
