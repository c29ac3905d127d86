/**
 * `licit licenses`: the vendor's license registry in a store (the one `licit serve` uses): list and
 * find licenses, show one with every key signed for it, re-issue one (same license id, the changes
 * given as flags, recorded), and suspend, revoke or reinstate one. The rules are
 * core/admin/registry.ts and server/reissue.ts, the same the admin API (`/v1/admin/licenses*`) and
 * the portal call.
 */
import { userInfo } from 'node:os';
import type { LicenseState, RegistryEntry } from '../../admin.js';
import { LicenseError, loadLicenseRegistration, loadRegistry, loadReissue, loadSignedLicense } from '../../cli-internals.js';
import type { Store } from '../../seats.js';
import { integer, isoDate, parseFlags, required, type Verb } from '../context.js';
import { didYouMean } from '../help.js';
import { readTextFile } from '../files.js';
import { openStore } from '../store-arg.js';

const USAGE =
  'licit licenses list|show|reissue|suspend|revoke|reinstate [ID] --store DIR|postgres://... [--schema NAME] ' +
  '[--customer TEXT] [--state active|suspended|revoked] [--expires-before DATE] [--expires-after DATE] [--reason TEXT] [--actor NAME] ' +
  '[--signing-key FILE --issued-by NAME --expires DATE --maintenance-expires DATE --seats TYPE=N... --feature NAME... --remove-feature NAME... --edition NAME --max-activations N --max-users N --max-user-activations N --max-transfers N --grace-days N --credits N --carried N [--rotate]] [--key] [--json]';

const ACTIONS = ['list', 'show', 'reissue', 'suspend', 'revoke', 'reinstate'] as const;
type Action = (typeof ACTIONS)[number];
const STATES: readonly LicenseState[] = ['active', 'suspended', 'revoked'];

/** Who signs: `--issued-by`, else the OS account running the CLI. */
export function defaultIssuer(): string {
  try {
    return userInfo().username || 'cli';
  } catch {
    return 'cli';
  }
}

/**
 * Record a key just signed with `signingKey` in the registry of `store` (`licit issue --store` and
 * `licit licenses reissue`): verified with the signing key's own public key, as of its issue time
 * (a re-issue of an expired license is recorded too).
 */
export async function recordSigned(store: Store, key: string, issuedBy: string, options: { rotate?: boolean } = {}): Promise<void> {
  const [{ signedLicense }, { assertSameSigner }, { registerLicense }] = await Promise.all([loadSignedLicense(), loadRegistry(), loadLicenseRegistration()]);
  const license = signedLicense(key);
  // A license keeps its signer unless the vendor says it is rotating keys.
  await assertSameSigner(store, license.id, license.kid, options.rotate === true);
  await registerLicense({ store, now: Date.now }, license, 'issuer', issuedBy);
}

function line(e: RegistryEntry): string {
  const exp = e.expiresAt === undefined ? 'perpetual' : `expires ${e.expiresAt}`;
  return `${e.licenseId}  ${e.state.padEnd(9)}  ${(e.customer ?? '-').padEnd(24)}  ${exp}  issued ${e.issuedAt} by ${e.issuedBy}${e.issues > 1 ? ` (${e.issues} keys)` : ''}`;
}

export const run: Verb = async (argv) => {
  const s = { type: 'string' } as const;
  const many = { type: 'string', multiple: true } as const;
  const { values: v, positionals } = parseFlags(
    argv,
    {
      store: s, schema: s, customer: s, state: s, 'expires-before': s, 'expires-after': s, reason: s, actor: s, key: { type: 'boolean' },
      'signing-key': s, 'issued-by': s, expires: s, 'maintenance-expires': s, seats: many, feature: many, 'remove-feature': many,
      'max-activations': s, 'max-users': s, 'max-user-activations': s, 'max-transfers': s, 'grace-days': s, edition: s, credits: s, carried: s, rotate: { type: 'boolean' },
    },
    USAGE,
  );
  const [action, id, ...rest] = positionals;
  if (action === undefined) throw new LicenseError('ERR_USAGE', `missing action\nUsage: ${USAGE}`);
  if (!(ACTIONS as readonly string[]).includes(action)) {
    const guess = didYouMean(action, ACTIONS);
    throw new LicenseError('ERR_USAGE', `unknown action "${action}"${guess === undefined ? '' : `. Did you mean "${guess}"?`}\nUsage: ${USAGE}`);
  }
  if (rest.length > 0) throw new LicenseError('ERR_USAGE', `unexpected argument "${rest[0]}"\nUsage: ${USAGE}`);
  if (action === 'list' ? id !== undefined : id === undefined) throw new LicenseError('ERR_USAGE', `${action === 'list' ? '"list" takes no license id' : `"${action}" takes the license id`}\nUsage: ${USAGE}`);
  if (v.state !== undefined && !STATES.includes(v.state as LicenseState)) throw new LicenseError('ERR_USAGE', `--state is one of ${STATES.join(', ')}\nUsage: ${USAGE}`);
  const { changeLicenseState, findLicenses, showLicense } = await loadRegistry();
  const store = await openStore(required(v.store, '--store', USAGE), { schema: v.schema, poolSize: 1, applicationName: 'licit-cli' });
  try {
    switch (action as Action) {
      case 'list': {
        const licenses = await findLicenses(store, {
          customer: v.customer,
          state: v.state as LicenseState | undefined,
          expiresBefore: isoDate(v['expires-before'], '--expires-before'),
          expiresAfter: isoDate(v['expires-after'], '--expires-after'),
        });
        return { data: { licenses }, text: licenses.length === 0 ? 'No license in the registry matches.' : licenses.map(line).join('\n') };
      }
      case 'show': {
        const shown = await showLicense(store, id as string);
        if (shown === undefined) throw new LicenseError('ERR_LICENSE_NOT_REGISTERED', `the registry in this store holds no license ${id}; see licit licenses list`, { licenseId: id });
        const issues = shown.issues.map((i) => (v.key === true ? i : { ...i, text: undefined }));
        const history = shown.issues.map((i) => `  key ${i.n}: issued ${i.issuedAt} by ${i.issuedBy}${Object.keys(i.changes).length === 0 ? '' : `, changed ${Object.keys(i.changes).join(', ')}`}`);
        const key = v.key === true ? `\n\n${shown.issues.at(-1)?.text ?? ''}` : '';
        return { data: { license: shown.entry, issues }, text: `${line(shown.entry)}${shown.entry.stateReason === undefined ? '' : `\n  reason: ${shown.entry.stateReason}`}\n${history.join('\n')}${key}` };
      }
      case 'suspend':
      case 'revoke':
      case 'reinstate': {
        const entry = await changeLicenseState(store, id as string, action as 'suspend' | 'revoke' | 'reinstate', { actor: v.actor ?? defaultIssuer(), reason: v.reason });
        return { data: { license: entry }, text: `License ${entry.licenseId} is ${entry.state}.` };
      }
      case 'reissue': {
        const signingKey = readTextFile(required(v['signing-key'], '--signing-key', USAGE), '--signing-key');
        const seats: Record<string, number> = {};
        for (const p of v.seats ?? []) {
          const i = p.indexOf('=');
          if (i <= 0) throw new LicenseError('ERR_USAGE', `--seats takes TYPE=N, got "${p}"`);
          seats[p.slice(0, i)] = integer(p.slice(i + 1), `--seats ${p.slice(0, i)}`) as number;
        }
        // The changes only; reading the newest key, applying them, signing and recording is
        // server/reissue.ts's, shared with POST /v1/admin/licenses/reissue and the portal.
        const issuedBy = v['issued-by'] ?? defaultIssuer();
        const r = await (await loadReissue()).reissueLicense(
          { store, signingKey },
          id as string,
          {
            expiresAt: isoDate(v.expires, '--expires', 'end'),
            maintenanceExpiresAt: isoDate(v['maintenance-expires'], '--maintenance-expires', 'end'),
            edition: v.edition,
            seats: Object.keys(seats).length === 0 ? undefined : seats,
            addFeatures: v.feature,
            removeFeatures: v['remove-feature'],
            maxActivations: integer(v['max-activations'], '--max-activations'),
            maxUsers: integer(v['max-users'], '--max-users'),
            maxUserActivations: integer(v['max-user-activations'], '--max-user-activations'),
            maxTransfers: integer(v['max-transfers'], '--max-transfers'),
            graceDays: integer(v['grace-days'], '--grace-days'),
            credits: integer(v.credits, '--credits'),
            carriedCredits: integer(v.carried, '--carried'),
          },
          { source: 'manual', actor: v.actor ?? issuedBy, issuedBy, rotate: v.rotate === true },
        );
        return { data: { key: r.key, licenseId: r.licenseId, issue: r.issue, changes: r.changes, seats: r.seats }, text: r.key };
      }
    }
  } finally {
    await store.close();
  }
};
