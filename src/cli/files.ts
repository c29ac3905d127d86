/** Reading the files CLI verbs are pointed at, with errors that name the flag and the fix. */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { isatty } from 'node:tty';
import { LicenseError } from '../cli-internals.js';

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

/** Standard input is refused past this: licit keys and codes are a few kilobytes. */
const MAX_STDIN_BYTES = 4 * 1024 * 1024;

/** All of standard input, read synchronously (a pipe, a file or a terminal), refused past 4 MiB. */
function readStdinSync(): string {
  if (isatty(0)) return ''; // nobody is piping anything: say what to give rather than wait
  const chunks: Buffer[] = [];
  let size = 0;
  const buf = Buffer.alloc(64 * 1024);
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); // non-blocking pipe not ready yet
        continue;
      }
      if (code === 'EOF') break;
      throw e;
    }
    if (n === 0) break;
    size += n;
    if (size > MAX_STDIN_BYTES) throw new LicenseError('ERR_KEY_TOO_LARGE', 'standard input is larger than 4 MiB; licit inputs are a few kilobytes at most');
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The one reader of a key or code named on the command line (`KEY`/`CODE`/`TOKEN` arguments and
 * `--license`): the text itself (`LICIT1-…`, `LICITR1-…`, `LICITL1-…`, `LICITT1-…`), `@FILE`, the
 * path of a file holding it, or `-` for standard input (also when a positional is left out).
 * Anything else is passed on as text, so a garbled key is still `ERR_KEY_MALFORMED` with its own
 * advice; `strict` (for `--license`) refuses it instead, naming what was expected.
 */
export function keyOrCode(value: string | undefined, what: string, options: { strict?: boolean } = {}): string {
  if (value === undefined || value === '-') {
    const text = readStdinSync();
    if (text.trim() === '') throw new LicenseError('ERR_USAGE', `no ${what} given: pass it as an argument, @FILE, a file path, or on standard input (-)`);
    return text;
  }
  if (value.startsWith('@')) return readTextFile(value.slice(1), what);
  if (/^\s*LICIT/.test(value)) return value;
  if (existsSync(value)) return readTextFile(value, what);
  if (options.strict === true) {
    throw new LicenseError('ERR_USAGE', `${what} takes a license key (starting with "LICIT1-"), @FILE, the path of a file holding one, or - for standard input; "${value.length > 24 ? `${value.slice(0, 24)}…` : value}" is neither a key nor an existing file`);
  }
  return value;
}

/** A `--license` value: the key text, `@FILE`, a path, or `-` (standard input). */
export function licenseText(value: string): string {
  return keyOrCode(value, '--license', { strict: true });
}

/** A license key given as a positional argument (`verify`, `inspect`), as {@link keyOrCode} reads it. */
export function licenseArgument(value: string | undefined): string {
  return keyOrCode(value, 'KEY');
}
