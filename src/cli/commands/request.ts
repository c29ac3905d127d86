/**
 * `licit request`: make an activation / renewal request code for a machine without internet
 * access. Paste it into the vendor's page (or give it to `licit respond`) and install the answer
 * with `licit apply`.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LicenseError } from '../../core/errors.js';
import { parseFlags, required, type Verb } from '../context.js';
import { licenseText, readPublicKeys } from '../files.js';

const USAGE =
  'licit request --license KEY --public-key FILE [--dir DIR] [--machine-id ID | --fingerprint FP] [--salt SALT] [--user USER] [--app NAME] [--app-version V] [--deactivate] [--json]';

/** Flags shared by `request` and `apply` (they must open the same installation the same way). */
export const CLIENT_FLAGS = {
  license: { type: 'string' },
  'public-key': { type: 'string', multiple: true },
  dir: { type: 'string' },
  'machine-id': { type: 'string' },
  fingerprint: { type: 'string' },
  salt: { type: 'string' },
  user: { type: 'string' },
  app: { type: 'string' },
  'app-version': { type: 'string' },
} as const;

/** Open the installation's runtime from the shared flags (offline: no server). */
export async function openClient(v: Record<string, unknown>, usage: string) {
  const { Licensing } = await import('../../node/licensing.js');
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  if (str('machine-id') !== undefined && str('fingerprint') !== undefined) throw new LicenseError('ERR_USAGE', `give --machine-id or --fingerprint, not both\nUsage: ${usage}`);
  return Licensing.open({
    license: licenseText(required(str('license'), '--license', usage)),
    publicKeys: readPublicKeys(v['public-key'] as string[] | undefined, usage),
    dir: str('dir') ?? process.env.LICIT_DIR ?? join(homedir(), '.licit'),
    secret: process.env.LICIT_SECRET,
    machineId: str('machine-id'),
    fingerprint: str('fingerprint'),
    salt: str('salt'),
    user: str('user'),
    appName: str('app'),
    appVersion: str('app-version'),
    autoRenew: false,
  });
}

/** `licit request`: print a request code (one line). */
export const run: Verb = async (argv) => {
  const { values: v, positionals } = parseFlags(argv, { ...CLIENT_FLAGS, deactivate: { type: 'boolean' } }, USAGE);
  if (positionals.length > 0) throw new LicenseError('ERR_USAGE', `unexpected argument "${positionals[0]}"\nUsage: ${USAGE}`);
  const client = await openClient(v, USAGE);
  const code = await client.createRequest(v.deactivate === true ? 'deactivate' : 'activate');
  return {
    data: { request: code, licenseId: client.license.id, installation: client.installation.id, fingerprintSource: client.fingerprintSource },
    text: code,
  };
};
