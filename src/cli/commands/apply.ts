/** `licit apply`: install a response code (lease) from the vendor on this installation. */
import { LicenseError } from '../../cli-internals.js';
import { parseFlags, type Verb } from '../context.js';
import { keyOrCode } from '../files.js';
import { CLIENT_FLAGS, openClient } from './request.js';

const USAGE =
  'licit apply --license KEY --public-key FILE [--secret-file FILE] [--dir DIR] [--machine-id ID | --fingerprint FP] [--salt SALT] [--user USER] [--app NAME] [--app-version V] [--json] [CODE | -]\n' +
  'The installation state is sealed under the application secret: --secret-file FILE, else $LICIT_SECRET (required).';

/** `licit apply`: verify and install the lease; print it with `verifiedUntil` as ISO time. */
export const run: Verb = async (argv, ctx) => {
  const { values: v, positionals } = parseFlags(argv, CLIENT_FLAGS, USAGE);
  if (positionals.length > 1) throw new LicenseError('ERR_USAGE', `expected one response code\nUsage: ${USAGE}`);
  const code = keyOrCode(positionals[0], 'response code');
  const client = await openClient(v, USAGE);
  const lease = await client.applyResponse(code);
  const data = {
    licenseId: lease.licenseId,
    deviceId: lease.deviceId,
    user: lease.user,
    verifiedUntil: lease.verifiedUntil.toISOString(),
    serverTime: lease.serverTime.toISOString(),
    floor: lease.floor,
    status: client.status,
  };
  return {
    data: { lease: data },
    text: `License ${lease.licenseId} is verified and valid until ${data.verifiedUntil} (device ${lease.deviceId}, user ${lease.user ?? '-'}).`,
  };
};
