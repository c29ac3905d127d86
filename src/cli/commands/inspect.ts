import { LicenseError } from '../../core/errors.js';
import { inspectLicense } from '../../core/inspect.js';
import { claimsToJSON } from '../../core/license.js';
import { argOrStdin, parseFlags, type Verb } from '../context.js';
import { describeClaims } from '../describe.js';
import { licenseArgument } from '../files.js';

const USAGE = 'licit inspect [KEY | -] [--json]';

export const run: Verb = async (argv, ctx) => {
  const { positionals } = parseFlags(argv, {}, USAGE);
  if (positionals.length > 1) throw new LicenseError('ERR_USAGE', `expected one license key, got ${positionals.length} arguments\nUsage: ${USAGE}`);
  const found = inspectLicense(await argOrStdin(positionals[0] === undefined || positionals[0] === '-' ? positionals[0] : licenseArgument(positionals[0]), ctx, 'license key'));
  return {
    data: { verified: false, kid: found.kid, license: claimsToJSON(found.claims) },
    text: `NOT VERIFIED: decoded only; the signature was not checked (use \`licit verify\`). Signed by key ${found.kid}.\n${describeClaims(found.claims)}`,
  };
};
