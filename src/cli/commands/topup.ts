import { LicenseError } from '../../cli-internals.js';
import { issueTopUp } from '../../issuer/index.js';
import { integer, parseFlags, required, type Verb } from '../context.js';
import { readTextFile } from '../files.js';

const USAGE = 'licit topup --signing-key FILE --license-id ID --credits N [--token-id ID] [--json]';

/**
 * `ERR_USAGE` unless `value` is 1 to 128 printable characters (128 UTF-8 bytes for a token id):
 * checked before signing, because a token with an empty or control-character id is signed fine
 * but refused by every ledger that receives it.
 */
function idText(value: string, flag: string): void {
  // eslint-disable-next-line no-control-regex
  if (value.length === 0 || new TextEncoder().encode(value).length > 128 || /[\u0000-\u001f\u007f-\u009f]/.test(value) || value.trim() !== value) {
    throw new LicenseError('ERR_USAGE', `${flag} must be 1 to 128 printable characters without leading or trailing spaces, got ${JSON.stringify(value)}\nUsage: ${USAGE}`);
  }
}

/** `licit topup` (vendor): sign a token that adds N click-charge credits to one license, once. */
export const run: Verb = async (argv) => {
  const s = { type: 'string' } as const;
  const { values: v, positionals } = parseFlags(argv, { 'signing-key': s, 'license-id': s, credits: s, 'token-id': s }, USAGE);
  if (positionals.length > 0) throw new LicenseError('ERR_USAGE', `unexpected argument "${positionals[0]}"\nUsage: ${USAGE}`);
  const signingKey = readTextFile(required(v['signing-key'], '--signing-key', USAGE), '--signing-key');
  const licenseId = required(v['license-id'], '--license-id', USAGE);
  idText(licenseId, '--license-id');
  if (v['token-id'] !== undefined) idText(v['token-id'], '--token-id');
  const credits = integer(required(v.credits, '--credits', USAGE), '--credits') as number;
  const token = await issueTopUp({ licenseId, credits, ...(v['token-id'] === undefined ? {} : { tokenId: v['token-id'] }) }, { signingKey });
  return { data: { token, licenseId, credits }, text: token };
};
