/**
 * `licit request`: make an activation / renewal request code for a machine without internet
 * access. Paste it into the vendor's page (or give it to `licit respond`) and install the answer
 * with `licit apply`.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LicenseError, loadLicensing, loadText } from '../../cli-internals.js';
import { parseFlags, required, type Verb } from '../context.js';
import { licenseText, readPublicKeys } from '../files.js';
import { cliSecret } from '../secret.js';

const USAGE =
  'licit request --license KEY --public-key FILE [--secret-file FILE] [--dir DIR] [--machine-id ID | --fingerprint FP] [--salt SALT] [--user USER] [--app NAME] [--app-version V] [--seat-usage TYPE=N]... [--deactivate] [--json]\n' +
  'The installation state is sealed under the application secret: --secret-file FILE, else $LICIT_SECRET (required).';

/** Flags shared by `request` and `apply` (they must open the same installation the same way). */
export const CLIENT_FLAGS = {
  license: { type: 'string' },
  'public-key': { type: 'string', multiple: true },
  dir: { type: 'string' },
  'secret-file': { type: 'string' },
  'machine-id': { type: 'string' },
  fingerprint: { type: 'string' },
  salt: { type: 'string' },
  user: { type: 'string' },
  app: { type: 'string' },
  'app-version': { type: 'string' },
} as const;

/** Text flags that travel in the request code, with the longest value the code's claim allows. */
const TEXT_LIMITS: readonly (readonly [string, number])[] = [['user', 256], ['app', 128], ['app-version', 64], ['machine-id', 4096], ['fingerprint', 4096], ['salt', 4096]];

/** `ERR_USAGE` naming `flag` unless `value` is absent or 1 to `max` printable characters. */
function printable(value: string | undefined, flag: string, max: number, usage: string, isPrintableText: (v: unknown, max: number) => boolean): void {
  if (value === undefined) return;
  if (!isPrintableText(value as unknown, max)) {
    throw new LicenseError('ERR_USAGE', `${flag} must be 1 to ${max} printable characters (got ${value.length === 0 ? 'an empty value' : value.length > max ? `${value.length} characters` : 'a control character'})\nUsage: ${usage}`);
  }
}

/** Open the installation's runtime from the shared flags (offline: no server). */
export async function openClient(v: Record<string, unknown>, usage: string, seatUsage?: Record<string, number>) {
  const [{ Licensing }, { isPrintableText }] = await Promise.all([loadLicensing(), loadText()]);
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  if (str('machine-id') !== undefined && str('fingerprint') !== undefined) throw new LicenseError('ERR_USAGE', `give --machine-id or --fingerprint, not both\nUsage: ${usage}`);
  // Checked here, naming the flag: otherwise the request is built and refused later as an invalid
  // claim ("appv"), which names no flag the user typed.
  for (const [flag, max] of TEXT_LIMITS) printable(str(flag), `--${flag}`, max, usage, isPrintableText);
  const dir = str('dir') ?? process.env.LICIT_DIR ?? join(homedir(), '.licit');
  if (dir === '') throw new LicenseError('ERR_USAGE', `--dir needs a directory path (it is empty; leave --dir out to use $LICIT_DIR or ~/.licit)\nUsage: ${usage}`);
  const license = licenseText(required(str('license'), '--license', usage));
  const publicKeys = readPublicKeys(v['public-key'] as string[] | undefined, usage);
  const secret = cliSecret(str('secret-file'), usage);
  return Licensing.open({
    license,
    publicKeys,
    dir,
    secret,
    machineId: str('machine-id'),
    fingerprint: str('fingerprint'),
    salt: str('salt'),
    user: str('user'),
    appName: str('app'),
    appVersion: str('app-version'),
    autoRenew: false,
    seatUsage: seatUsage === undefined ? undefined : () => seatUsage,
  });
}

/** `--seat-usage basic=3 --seat-usage advanced=1` as counts per seat type. */
export function parseSeatUsage(items: readonly string[] | undefined, usage: string): Record<string, number> | undefined {
  if (items === undefined || items.length === 0) return undefined;
  const out: Record<string, number> = {};
  for (const item of items) {
    const m = /^([A-Za-z0-9][A-Za-z0-9._:+-]{0,63})=(\d{1,15})$/.exec(item);
    if (m === null) throw new LicenseError('ERR_USAGE', `--seat-usage takes TYPE=N (a seat type and a whole number), not "${item}"\nUsage: ${usage}`);
    out[m[1] as string] = Number(m[2]);
  }
  return out;
}

/** `licit request`: print a request code (one line). */
export const run: Verb = async (argv) => {
  const { values: v, positionals } = parseFlags(argv, { ...CLIENT_FLAGS, deactivate: { type: 'boolean' }, 'seat-usage': { type: 'string', multiple: true } }, USAGE);
  if (positionals.length > 0) throw new LicenseError('ERR_USAGE', `unexpected argument "${positionals[0]}"\nUsage: ${USAGE}`);
  const seats = parseSeatUsage(v['seat-usage'] as string[] | undefined, USAGE);
  const client = await openClient(v, USAGE, seats);
  const code = await client.createRequest(v.deactivate === true ? 'deactivate' : 'activate');
  return {
    data: { request: code, licenseId: client.license.id, installation: client.installation.id, fingerprintSource: client.fingerprintSource },
    text: code,
  };
};
