/**
 * `licit seats`: inspect and repair seat state by hand, on the same store an application uses
 * (a FileStore directory or a PostgreSQL database), with the same rules.
 */
import { LicenseError, loadMigrateIds, loadUserIds, type MergedUserId } from '../../cli-internals.js';
import { SeatManager } from '../../seats.js';
import { licenseFor } from '../license-for.js';
import { didYouMean } from '../help.js';
import { openStore } from '../store-arg.js';
import { parseFlags, required, type CliContext, type Verb } from '../context.js';
import { licenseText, readPublicKeys } from '../files.js';

const USAGE =
  'licit seats --store DIR|postgres://... --license KEY --public-key FILE [--schema NAME] [--actor NAME] [--json]\n' +
  '       assign USER TYPE | reassign USER TYPE | release USER | list | usage | access USER [--admin] | events | migrate-ids [--dry-run]\n' +
  'Exit 0 yes, 1 no (access denied, a refusal, a conflict), 2 a usage mistake. list, usage, release, access, events and migrate-ids also work on an expired license.';

/** How many positional arguments each action takes. */
const ARITY: Record<string, number> = { assign: 2, reassign: 2, release: 1, list: 0, usage: 0, access: 1, events: 0, 'migrate-ids': 0 };

/** What an administrator may still do once the license has expired: look, free seats, tidy up. Never add. */
const AFTER_EXPIRY = new Set(['release', 'list', 'usage', 'access', 'events', 'migrate-ids']);

/** `licit seats`: assign, reassign, release, list, usage, access and the audit events of named seats. */
export const run: Verb = async (argv, ctx) => {
  const s = { type: 'string' } as const;
  const { values: v, positionals } = parseFlags(
    argv,
    { store: s, license: s, 'public-key': { type: 'string', multiple: true }, schema: s, actor: s, admin: { type: 'boolean' }, 'dry-run': { type: 'boolean' } },
    USAGE,
  );
  const [action, ...args] = positionals;
  if (action === undefined) throw new LicenseError('ERR_USAGE', `missing action\nUsage: ${USAGE}`);
  const arity = Object.hasOwn(ARITY, action) ? ARITY[action] : undefined;
  if (arity === undefined) {
    const guess = didYouMean(action, Object.keys(ARITY));
    throw new LicenseError('ERR_USAGE', `unknown action "${action}"${guess === undefined ? '' : `. Did you mean "${guess}"?`}\nUsage: ${USAGE}`);
  }
  if (args.length !== arity) throw new LicenseError('ERR_USAGE', `"${action}" takes ${arity} argument${arity === 1 ? '' : 's'}, got ${args.length}\nUsage: ${USAGE}`);
  if (v.admin === true && action !== 'access') throw new LicenseError('ERR_USAGE', `--admin only applies to "access"\nUsage: ${USAGE}`);
  if (v['dry-run'] === true && action !== 'migrate-ids') throw new LicenseError('ERR_USAGE', `--dry-run only applies to "migrate-ids"\nUsage: ${USAGE}`);
  const storeSpec = required(v.store, '--store', USAGE);
  const publicKeys = readPublicKeys(v['public-key'], USAGE);
  const license = await licenseFor(licenseText(required(v.license, '--license', USAGE)), publicKeys, action, AFTER_EXPIRY, ctx);
  const store = await openStore(storeSpec, { schema: v.schema, poolSize: 1, applicationName: 'licit-cli' });
  try {
    const seats = new SeatManager(store, license, { actor: v.actor ?? 'cli' });
    const [a = '', b = ''] = args;
    switch (action) {
      case 'assign':
      case 'reassign': {
        const r = action === 'assign' ? await seats.assign(a, b) : await seats.reassign(a, b);
        const u = (await seats.usage()).find((x) => x.type === r.type);
        return {
          data: { userId: r.userId, type: r.type, since: r.since.toISOString(), usage: u },
          text: `${r.userId} holds a ${r.type} seat (${u?.inUse ?? '?'} of ${u?.licensed ?? '?'} ${r.type} seats in use).`,
        };
      }
      case 'release': {
        const r = await seats.release(a);
        return { data: { userId: r.userId, type: r.type, released: true }, text: `Released the ${r.type} seat of ${r.userId}.` };
      }
      case 'list': {
        const list = await seats.list();
        const { isNormalUserId } = await loadUserIds();
        const odd = list.filter((x) => !isNormalUserId(x.userId));
        if (odd.length > 0) ctx.warn(`warning: ${odd.length} user id(s) stored before ids were normalised (${odd.map((x) => JSON.stringify(x.userId)).join(', ')}); run \`licit seats migrate-ids --dry-run\`, then \`licit seats migrate-ids\``);
        const rows = list.map((x) => `${x.userId}\t${x.type}\t${x.since.toISOString()}`);
        return {
          data: { seats: list.map((x) => ({ userId: x.userId, type: x.type, since: x.since.toISOString() })) },
          text: list.length === 0 ? 'No seats assigned.' : `USER\tTYPE\tSINCE\n${rows.join('\n')}`,
        };
      }
      case 'usage': {
        const usage = await seats.usage();
        const rows = usage.map((u) => `${u.type}\t${u.licensed}\t${u.inUse}\t${u.available}${u.over ? '\tOVER LIMIT: remove users' : ''}`);
        return { data: { licenseId: license.id, usage }, text: `License ${license.id}\nTYPE\tLICENSED\tIN USE\tAVAILABLE\n${rows.join('\n')}` };
      }
      case 'access': {
        const d = await seats.access(a, { admin: v.admin === true });
        // The answer is the exit code too: 0 for full (and admin-only: an administrator may reach
        // administration), 1 for denied, so a script can gate on it.
        return {
          data: { userId: a, access: d.access, type: d.type, error: d.error?.toJSON() },
          text: `${a}: ${d.access}${d.error === undefined ? '' : ` (${d.error.code}: ${d.error.message})`}`,
          exitCode: d.access === 'denied' ? 1 : 0,
        };
      }
      case 'migrate-ids': {
        const { migrateUserIds } = await loadMigrateIds();
        const m = await migrateUserIds(store, license, { actor: v.actor ?? 'cli', dryRun: v['dry-run'] === true });
        const line = (x: MergedUserId) =>
          `  ${JSON.stringify(x.userId)} <- ${x.forms.map((f) => JSON.stringify(f)).join(', ')} (kept ${JSON.stringify(x.kept)}${x.seatsFreed.length > 0 ? `; seats freed: ${x.seatsFreed.join(', ')}` : ''}${x.devicesDeactivated.length > 0 ? `; devices deactivated: ${x.devicesDeactivated.join(', ')}` : ''})`;
        const none = m.seats.length + m.users.length === 0;
        return {
          data: { ...m },
          text: none
            ? 'Every user id is already normalised; nothing to do.'
            : [`${m.dryRun ? 'Would merge (dry run, nothing written)' : 'Merged'}:`, ...(m.seats.length > 0 ? ['seats:', ...m.seats.map(line)] : []), ...(m.users.length > 0 ? ['license users:', ...m.users.map(line)] : [])].join('\n'),
        };
      }
      default: {
        const events = await store.events(license.id);
        return {
          data: { events },
          text: events.length === 0 ? 'No events.' : events.map((e) => `${e.seq}\t${e.at}\t${e.actor}\t${e.kind}\t${JSON.stringify(e.details)}`).join('\n'),
        };
      }
    }
  } finally {
    await store.close();
  }
};
