import { LicenseError } from '../../cli-internals.js';
import { claimsToJSON, verifyLicense } from '../../index.node.js';
import { isoDate, parseFlags, type Verb } from '../context.js';
import { describeClaims } from '../describe.js';
import { licenseArgument, readPublicKeys } from '../files.js';
import { machineCheckFor } from '../machine.js';

const USAGE = 'licit verify --public-key FILE [--public-key FILE]... [--now ISO] [--release-date ISO] [--salt S] [--machine-id ID] [KEY | -] [--json]';

export const run: Verb = async (argv, ctx) => {
  const { values, positionals } = parseFlags(
    argv,
    { 'public-key': { type: 'string', multiple: true }, now: { type: 'string' }, 'release-date': { type: 'string' }, salt: { type: 'string' }, 'machine-id': { type: 'string' } },
    USAGE,
  );
  const publicKeys = readPublicKeys(values['public-key'], USAGE);
  if (positionals.length > 1) throw new LicenseError('ERR_USAGE', `expected one license key, got ${positionals.length} arguments\nUsage: ${USAGE}`);
  const text = licenseArgument(positionals[0]);
  const license = await verifyLicense(text, {
    publicKeys,
    now: isoDate(values.now, '--now'),
    releaseDate: isoDate(values['release-date'], '--release-date'),
    machine: machineCheckFor(values.salt, values['machine-id'], publicKeys),
  });
  const r = license.report;
  if (r.warning !== undefined && !ctx.json) ctx.warn(`warning: ${r.warning}`);
  return {
    data: { status: r.status, daysLeft: r.daysLeft, warning: r.warning, kid: license.kid, license: claimsToJSON(license.claims) },
    text: `License ${license.id} is ${r.status.toUpperCase()}${r.daysLeft === undefined ? '' : ` (${r.daysLeft} day(s) ${r.status === 'grace' ? 'of grace ' : ''}left)`}; signature verified with vendor key ${license.kid}.\n${describeClaims(license.claims)}`,
  };
};
