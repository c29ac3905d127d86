/**
 * `licit seats`: inspect and repair seat state by hand, on the same store an application uses
 * (a FileStore directory or a PostgreSQL database), with the same rules.
 */
import { LicenseError } from '../../core/errors.js';
import { SeatManager } from '../../core/seats/index.js';
import { verifyLicense } from '../../index.node.js';
import { openStore } from '../store-arg.js';
import { parseFlags, required, type Verb } from '../context.js';
import { licenseText, readPublicKeys } from '../files.js';

const USAGE =
  'licit seats --store DIR|postgres://... --license KEY --public-key FILE [--schema NAME] [--actor NAME] [--json]\n' +
  '       assign USER TYPE | reassign USER TYPE | release USER | list | usage | access USER [--admin] | events';

/** How many positional arguments each action takes. */
const ARITY: Record<string, number> = { assign: 2, reassign: 2, release: 1, list: 0, usage: 0, access: 1, events: 0 };


/** `licit seats`: assign, reassign, release, list, usage, access and the audit events of named seats. */
export const run: Verb = async (argv) => {
  const s = { type: 'string' } as const;
  const { values: v, positionals } = parseFlags(
    argv,
    { store: s, license: s, 'public-key': { type: 'string', multiple: true }, schema: s, actor: s, admin: { type: 'boolean' } },
    USAGE,
  );
  const [action, ...args] = positionals;
  if (action === undefined) throw new LicenseError('ERR_USAGE', `missing action\nUsage: ${USAGE}`);
  const arity = Object.hasOwn(ARITY, action) ? ARITY[action] : undefined;
  if (arity === undefined) throw new LicenseError('ERR_USAGE', `unknown action "${action}"\nUsage: ${USAGE}`);
  if (args.length !== arity) throw new LicenseError('ERR_USAGE', `"${action}" takes ${arity} argument${arity === 1 ? '' : 's'}, got ${args.length}\nUsage: ${USAGE}`);
  if (v.admin === true && action !== 'access') throw new LicenseError('ERR_USAGE', `--admin only applies to "access"\nUsage: ${USAGE}`);
  const storeSpec = required(v.store, '--store', USAGE);
  const publicKeys = readPublicKeys(v['public-key'], USAGE);
  const license = await verifyLicense(licenseText(required(v.license, '--license', USAGE)), { publicKeys });
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
        return {
          data: { userId: a, access: d.access, type: d.type, error: d.error?.toJSON() },
          text: `${a}: ${d.access}${d.error === undefined ? '' : ` (${d.error.code}: ${d.error.message})`}`,
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
