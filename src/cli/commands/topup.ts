import { LicenseError } from '../../core/errors.js';
import { issueTopUp } from '../../issuer/issue.js';
import { integer, parseFlags, required, type Verb } from '../context.js';
import { readTextFile } from '../files.js';

const USAGE = 'licit topup --signing-key FILE --license-id ID --credits N [--token-id ID] [--json]';

/** `licit topup` (vendor): sign a token that adds N click-charge credits to one license, once. */
export const run: Verb = async (argv) => {
  const s = { type: 'string' } as const;
  const { values: v, positionals } = parseFlags(argv, { 'signing-key': s, 'license-id': s, credits: s, 'token-id': s }, USAGE);
  if (positionals.length > 0) throw new LicenseError('ERR_USAGE', `unexpected argument "${positionals[0]}"\nUsage: ${USAGE}`);
  const signingKey = readTextFile(required(v['signing-key'], '--signing-key', USAGE), '--signing-key');
  const licenseId = required(v['license-id'], '--license-id', USAGE);
  const credits = integer(required(v.credits, '--credits', USAGE), '--credits') as number;
  const token = await issueTopUp({ licenseId, credits, ...(v['token-id'] === undefined ? {} : { tokenId: v['token-id'] }) }, { signingKey });
  return { data: { token, licenseId, credits }, text: token };
};
