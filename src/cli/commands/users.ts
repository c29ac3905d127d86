/**
 * `licit users`: the license users of a license — list, add (with their own device limit), remove
 * (their devices with them), reset (deactivate all their devices), rename (a changed e-mail: devices,
 * seat and password kept), suspend and reinstate — against a local store or a license server's
 * admin API, with the same output.
 */
import { LicenseError, loadActivationRecords, loadUserIds, loadUserRename } from '../../cli-internals.js';
import type { JsonObject } from '../../seats.js';
import { didYouMean } from '../help.js';
import { changeState, openTarget, stateChanged, TARGET_FLAGS, type Target } from '../admin-target.js';
import { integer, parseFlags, type Outcome, type Verb } from '../context.js';

const USAGE =
  'licit users list | add USER [--max-activations N] | remove USER | reset USER | rename USER NEW_USER | suspend|revoke|reinstate USER [--reason TEXT]\n' +
  '       (--store DIR|postgres://... --license KEY --public-key FILE [--schema NAME] [--actor NAME])\n' +
  '       | (--server URL --license-id ID [--admin-token TOKEN, else $LICIT_ADMIN_TOKEN])   [--json]\n' +
  'remove deactivates the user\'s devices too; reset deactivates them and keeps the user; rename gives the user a new id (a changed e-mail), keeping its devices, seat and password; suspend refuses the user\'s renewals, activations and top-ups until reinstate; revoke removes the user and refuses that id for good. ' +
  'Exit 0 done, 1 a refusal (users used up, unknown user, license not registered, server refused), 2 a usage mistake. Every action but add also works on an expired license (local store).';

/** The state changes of one license user (core/admin/registry.ts PARTY_ACTIONS.user; test/78b holds them equal). */
export const STATE_ACTIONS = ['suspend', 'revoke', 'reinstate'] as const;
const ARITY: Record<string, number> = { list: 0, add: 1, remove: 1, reset: 1, rename: 2, suspend: 1, revoke: 1, reinstate: 1 };
const AFTER_EXPIRY = new Set(['list', 'remove', 'reset', 'rename', ...STATE_ACTIONS]);

/** `licit users`: list, add, remove, reset, rename, suspend, revoke, reinstate. */
export const run: Verb = async (argv, ctx) => {
  const { values: v, positionals } = parseFlags(argv, { ...TARGET_FLAGS, 'max-activations': { type: 'string' }, reason: { type: 'string' } }, USAGE);
  const [action, ...args] = positionals;
  if (action === undefined) throw new LicenseError('ERR_USAGE', `missing action (list, add, remove, reset, rename, suspend, revoke or reinstate)\nUsage: ${USAGE}`);
  const arity = Object.hasOwn(ARITY, action) ? ARITY[action] : undefined;
  if (arity === undefined) {
    const guess = didYouMean(action, Object.keys(ARITY));
    throw new LicenseError('ERR_USAGE', `unknown action "${action}"${guess === undefined ? '' : `. Did you mean "${guess}"?`}\nUsage: ${USAGE}`);
  }
  if (args.length !== arity) throw new LicenseError('ERR_USAGE', `"${action}" takes ${arity} argument${arity === 1 ? '' : 's'}, got ${args.length}\nUsage: ${USAGE}`);
  if (v['max-activations'] !== undefined && action !== 'add') throw new LicenseError('ERR_USAGE', `--max-activations only applies to "add"\nUsage: ${USAGE}`);
  const stateAction = (STATE_ACTIONS as readonly string[]).includes(action) ? (action as (typeof STATE_ACTIONS)[number]) : undefined;
  if (v.reason !== undefined && stateAction === undefined) throw new LicenseError('ERR_USAGE', `--reason only applies to "suspend", "revoke" and "reinstate"\nUsage: ${USAGE}`);
  const own = integer(v['max-activations'], '--max-activations');
  // The id as every store keeps it (NFC, trimmed): what both targets print.
  const userId = args[0] === undefined ? '' : (await loadUserIds()).normalizeUserId(args[0]);
  const target = await openTarget(v, action, AFTER_EXPIRY, ctx, USAGE, 'users');
  try {
    switch (action) {
      case 'list':
        return listed(await list(target));
      case 'add': {
        const r = await add(target, userId, own);
        const u = r.user as { activations: number; maxActivations: number | null };
        return { data: { ...r }, text: `${userId} is a user of license ${r.licenseId} (${of(u.activations, u.maxActivations)} devices).` };
      }
      case 'suspend':
      case 'revoke':
      case 'reinstate': {
        const reason = v.reason === '' ? undefined : v.reason;
        const r = await changeState(target, 'user', userId, action, reason);
        return { data: { licenseId: r.licenseId, userId: r.id, state: r.state }, text: stateChanged('user', r, reason) };
      }
      case 'rename': {
        const to = (await loadUserIds()).normalizeUserId(args[1]);
        const r = await rename(target, userId, to);
        return { data: { ...r }, text: `${r.from} is now ${r.userId} on license ${r.licenseId}, with ${r.devices.length} device(s)${r.seat === null ? '' : ` and a ${r.seat} seat`}${r.passwordMoved ? ' and the password' : ''}.` };
      }
      case 'remove': {
        const licenseId = await remove(target, userId);
        return { data: { licenseId, userId, removed: true }, text: `Removed ${userId} from license ${licenseId}, with their devices.` };
      }
      default: {
        const r = await reset(target, userId);
        return { data: { ...r }, text: r.devices.length === 0 ? `${userId} had no devices activated on license ${r.licenseId}.` : `Deactivated ${r.devices.length} device(s) of ${userId} on license ${r.licenseId}: ${r.devices.join(', ')}.` };
      }
    }
  } finally {
    await target.close();
  }
};

interface Listing {
  licenseId: string;
  usage: JsonObject;
  users: JsonObject[];
}

async function list(t: Target): Promise<Listing> {
  if (t.kind === 'local') {
    const { userJson } = await loadActivationRecords();
    return { licenseId: t.license.id, usage: (await t.acts.usage()) as unknown as JsonObject, users: (await t.acts.users()).map(userJson) };
  }
  const r = await t.get('users');
  return { licenseId: String(r.licenseId), usage: r.usage as JsonObject, users: r.users as JsonObject[] };
}

async function add(t: Target, userId: string, own: number | undefined): Promise<{ licenseId: string; user: JsonObject }> {
  if (t.kind === 'server') {
    const r = await t.post('users', own === undefined ? { userId } : { userId, maxActivations: own });
    return { licenseId: String(r.licenseId), user: r.user as JsonObject };
  }
  // As POST /v1/admin/users does: an existing user gets the limit asked for.
  const { userJson } = await loadActivationRecords();
  let user = await t.acts.addUser(userId, own === undefined ? {} : { maxActivations: own });
  if (own !== undefined && user.maxActivations !== own) user = await t.acts.setUserLimit(userId, own);
  return { licenseId: t.license.id, user: userJson(user) };
}

async function remove(t: Target, userId: string): Promise<string> {
  if (t.kind === 'server') return String((await t.post('users/remove', { userId })).licenseId);
  await t.acts.removeUser(userId);
  return t.license.id;
}

/** As `POST /v1/admin/users/rename` answers; locally the same function the server runs (server/rename-user.ts). */
async function rename(t: Target, from: string, to: string): Promise<{ licenseId: string; userId: string; from: string; devices: string[]; seat: string | null; passwordMoved: boolean }> {
  if (t.kind === 'server') {
    const r = await t.post('users/rename', { userId: from, newUserId: to });
    return { licenseId: String(r.licenseId), userId: String(r.userId), from: String(r.from), devices: r.devices as string[], seat: (r.seat as string | null) ?? null, passwordMoved: r.passwordMoved === true };
  }
  const { renameLicenseUser } = await loadUserRename();
  const r = await renameLicenseUser({ store: t.store, now: Date.now }, t.license, from, to, t.actor);
  // The only record kind renameLicenseUser moves with the user is its password.
  return { licenseId: t.license.id, userId: r.to, from: r.from, devices: r.devices, seat: r.seat, passwordMoved: r.moved.length > 0 };
}

async function reset(t: Target, userId: string): Promise<{ licenseId: string; userId: string; devices: string[] }> {
  if (t.kind === 'server') {
    const r = await t.post('users/reset', { userId });
    return { licenseId: String(r.licenseId), userId, devices: r.devices as string[] };
  }
  return { licenseId: t.license.id, userId, devices: await t.acts.resetUser(userId) };
}

/** A count against a limit, "N of M" ("N of unlimited"). */
const of = (used: unknown, licensed: unknown) => `${String(used)} of ${licensed === undefined || licensed === null ? 'unlimited' : String(licensed)}`;

function listed(l: Listing): Outcome {
  const u = l.usage as { users: { inUse: number; licensed?: number } };
  const rows = l.users.map((x) => [x.userId, of(x.activations, x.maxActivations), x.createdAt].join('\t'));
  const head = `License ${l.licenseId}: ${of(u.users.inUse, u.users.licensed)} users`;
  return { data: { ...l }, text: rows.length === 0 ? `${head}\nNo users.` : `${head}\nUSER\tDEVICES\tSINCE\n${rows.join('\n')}` };
}
