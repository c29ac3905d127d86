import { LicenseError, loadClaims, loadFingerprintStrength, loadLicenseReader } from '../../cli-internals.js';
import type { LicenseInput } from '../../index.node.js';
import { issueLicense } from '../../issuer/index.js';
import type { UserAuthMode } from '../../server/index.js';
import { integer, isoDate, parseFlags, required, type Verb } from '../context.js';
import { readTextFile } from '../files.js';

const USAGE =
  'licit issue --signing-key FILE [--license-id ID] [--customer NAME] [--issuer NAME] [--edition NAME] [--feature NAME]... ' +
  '[--maintenance-feature NAME]... [--seats TYPE=N]... [--max-users N] [--max-activations N] [--max-user-activations N] ' +
  '[--max-transfers N] [--self-resets N] [--self-reset-days N] [--not-before ISO] [--expires ISO] [--maintenance-expires ISO] [--grace-days N] [--lease-days N] ' +
  '[--credits N] [--carried N] [--fingerprint FP [--allow-weak-fingerprint]] [--allow-machine-id] [--user-auth none|password|id-token|password-or-id-token] [--meta K=V]... ' +
  '[--store DIR|postgres://... [--schema NAME] [--issued-by NAME] [--rotate]] [--json]';

function pairs(list: string[] | undefined, flag: string): [string, string][] {
  return (list ?? []).map((p) => {
    const i = p.indexOf('=');
    if (i <= 0) throw new LicenseError('ERR_USAGE', `${flag} takes NAME=VALUE, got "${p}"`);
    return [p.slice(0, i), p.slice(i + 1)];
  });
}

function unique(list: [string, string][], flag: string): [string, string][] {
  const seen = new Set<string>();
  for (const [k] of list) {
    if (seen.has(k)) throw new LicenseError('ERR_USAGE', `${flag} names "${k}" twice; give each once`);
    seen.add(k);
  }
  return list;
}

async function userAuthMode(v: string | undefined): Promise<UserAuthMode | undefined> {
  if (v === undefined) return undefined;
  const { USER_AUTH_MODES } = await loadClaims();
  if (!(USER_AUTH_MODES as readonly string[]).includes(v)) throw new LicenseError('ERR_USAGE', `--user-auth takes one of ${USER_AUTH_MODES.join(', ')}, got "${v}"`);
  return v as UserAuthMode;
}

export const run: Verb = async (argv) => {
  const s = { type: 'string' } as const;
  const many = { type: 'string', multiple: true } as const;
  const { values: v, positionals } = parseFlags(
    argv,
    {
      'signing-key': s, 'license-id': s, customer: s, issuer: s, edition: s, feature: many, 'maintenance-feature': many,
      seats: many, 'max-users': s, 'max-activations': s, 'max-user-activations': s, 'max-transfers': s, 'self-resets': s, 'self-reset-days': s,
      'not-before': s, expires: s, 'maintenance-expires': s, 'grace-days': s, 'lease-days': s, credits: s, carried: s,
      fingerprint: s, 'allow-weak-fingerprint': { type: 'boolean' }, meta: many, 'allow-machine-id': { type: 'boolean' }, 'user-auth': s,
      store: s, schema: s, 'issued-by': s, rotate: { type: 'boolean' },
    },
    USAGE,
  );
  if (positionals.length > 0) throw new LicenseError('ERR_USAGE', `unexpected argument "${positionals[0]}"\nUsage: ${USAGE}`);
  const signingKey = readTextFile(required(v['signing-key'], '--signing-key', USAGE), '--signing-key');
  if (v['allow-weak-fingerprint'] === true && v.fingerprint === undefined) throw new LicenseError('ERR_USAGE', `--allow-weak-fingerprint goes with --fingerprint FP\nUsage: ${USAGE}`);
  if (v.fingerprint !== undefined) {
    // Parses first, so a malformed fingerprint is ERR_FINGERPRINT_MALFORMED as before.
    const strength = (await loadFingerprintStrength()).fingerprintStrength(v.fingerprint);
    if (strength.level === 'weak' && v['allow-weak-fingerprint'] !== true) {
      throw new LicenseError(
        'ERR_FINGERPRINT_WEAK',
        `refusing to node-lock to a weak fingerprint: it has ${strength.weak.length === 0 ? 'no components' : `only components many machines share (${strength.weak.join(', ')})`}, so another machine of the same kind (such as a second VM of the same type) would match it. ` +
          'Ask for a fingerprint taken as root/administrator on a machine with SMBIOS serials or a machine id; or bind to a machine id you approve (`licit fingerprint --machine-id ID` on that machine); or issue the license without --fingerprint and use floating seats. ' +
          'To node-lock to it anyway, add --allow-weak-fingerprint.',
        { strong: strength.strong, weak: strength.weak },
      );
    }
  }
  const input: LicenseInput = {
    licenseId: v['license-id'],
    customer: v.customer,
    issuer: v.issuer,
    edition: v.edition,
    features: v.feature ?? [],
    maintenanceFeatures: v['maintenance-feature'] ?? [],
    seats: Object.fromEntries(unique(pairs(v.seats, '--seats'), '--seats').map(([k, n]) => [k, integer(n, `--seats ${k}`) as number])),
    maxUsers: integer(v['max-users'], '--max-users'),
    maxActivations: integer(v['max-activations'], '--max-activations'),
    maxUserActivations: integer(v['max-user-activations'], '--max-user-activations'),
    maxTransfers: integer(v['max-transfers'], '--max-transfers'),
    selfResets: integer(v['self-resets'], '--self-resets'),
    selfResetDays: integer(v['self-reset-days'], '--self-reset-days'),
    notBefore: isoDate(v['not-before'], '--not-before'),
    expiresAt: isoDate(v.expires, '--expires', 'end'),
    maintenanceExpiresAt: isoDate(v['maintenance-expires'], '--maintenance-expires', 'end'),
    graceDays: integer(v['grace-days'], '--grace-days'),
    leaseDays: integer(v['lease-days'], '--lease-days'),
    credits: integer(v.credits, '--credits'),
    carriedCredits: integer(v.carried, '--carried'),
    fingerprint: v.fingerprint,
    allowSuppliedMachineId: v['allow-machine-id'] === true ? true : undefined,
    userAuth: await userAuthMode(v['user-auth']),
    meta: Object.fromEntries(unique(pairs(v.meta, '--meta'), '--meta')),
  };
  // Drop absent options so defaults apply.
  for (const k of Object.keys(input) as (keyof LicenseInput)[]) if (input[k] === undefined) delete input[k];
  if ((v.schema !== undefined || v['issued-by'] !== undefined || v.rotate === true) && v.store === undefined) throw new LicenseError('ERR_USAGE', `--schema, --issued-by and --rotate go with --store\nUsage: ${USAGE}`);
  const key = await issueLicense(input, { signingKey });
  const licenseId = (await loadLicenseReader()).inspectLicense(key).claims.licenseId;
  if (v.store !== undefined) {
    // The registry: the vendor can list what was sold, find this key again and revoke it later.
    const { openStore } = await import('../store-arg.js');
    const { recordSigned, defaultIssuer } = await import('./licenses.js');
    const store = await openStore(v.store, { schema: v.schema, poolSize: 1, applicationName: 'licit-cli' });
    try {
      await recordSigned(store, key, v['issued-by'] ?? defaultIssuer(), { rotate: v.rotate === true });
    } finally {
      await store.close();
    }
  }
  return { data: { key, licenseId, ...(v.store === undefined ? {} : { recorded: true }) }, text: key };
};
