/** The application secret for verbs that open sealed local state (an installation, a credit ledger): one rule for all of them. */
import { LicenseError } from '../cli-internals.js';
import { readFileBounded } from './files.js';

/** A secret is a short line; this refuses a file given by mistake (a key, a log) before reading it all. */
const MAX_SECRET_BYTES = 64 * 1024;

/**
 * The secret from `--secret-file FILE` (its bytes, one trailing line break dropped), else from
 * `$LICIT_SECRET`; `ERR_SECRET_REQUIRED` when neither gives one. There is no default: the CLI must
 * seal with the secret of the application whose state it opens.
 */
export function cliSecret(file: string | undefined, usage: string): string | Uint8Array {
  if (file !== undefined) {
    const bytes = readFileBounded(file, '--secret-file', MAX_SECRET_BYTES, 'is larger than 64 KiB; a secret file holds one short secret');
    let end = bytes.length;
    if (bytes[end - 1] === 0x0a) end -= bytes[end - 2] === 0x0d ? 2 : 1;
    if (end === 0) throw new LicenseError('ERR_SECRET_REQUIRED', `--secret-file ${file} is empty; put your application's secret in it\nUsage: ${usage}`, { path: file });
    return new Uint8Array(bytes.subarray(0, end));
  }
  const env = process.env.LICIT_SECRET;
  if (env !== undefined && env !== '') return env;
  throw new LicenseError(
    'ERR_SECRET_REQUIRED',
    `licit seals local state (installation, credit ledger) under your application's secret, and there is no default: give --secret-file FILE (a file holding the secret your application passes as \`secret\`) or set LICIT_SECRET\nUsage: ${usage}`,
  );
}
