/**
 * `licit devices`: the device activations of a license — list them, reset a lost or reinstalled
 * device, name one, suspend, revoke or reinstate one — against a local store or a license server's
 * admin API, with the same output.
 */
import { LicenseError, loadActivationRecords } from '../../cli-internals.js';
import type { JsonObject } from '../../seats.js';
import { didYouMean } from '../help.js';
import { changeState, openTarget, stateChanged, TARGET_FLAGS, type Target } from '../admin-target.js';
import { parseFlags, type Outcome, type Verb } from '../context.js';

const USAGE =
  'licit devices list | reset DEVICE [--goodwill] | rename DEVICE LABEL | suspend|revoke|reinstate DEVICE [--reason TEXT]\n' +
  '       (--store DIR|postgres://... --license KEY --public-key FILE [--schema NAME] [--actor NAME])\n' +
  '       | (--server URL --license-id ID [--admin-token TOKEN, else $LICIT_ADMIN_TOKEN])   [--json]\n' +
  'A reset counts one transfer unless --goodwill; rename "" removes the name. suspend stops the device until reinstate; revoke is final (its activation is freed, its machine cannot activate again). ' +
  'Exit 0 done, 1 a refusal (unknown device, transfers used up, a revoked device reinstated, license not registered, server refused), 2 a usage mistake. Every action also works on an expired license (local store).';

/** The state changes of one device (core/admin/registry.ts PARTY_ACTIONS.device; test/78b holds them equal). */
export const STATE_ACTIONS = ['suspend', 'revoke', 'reinstate'] as const;
const ARITY: Record<string, number> = { list: 0, reset: 1, rename: 2, suspend: 1, revoke: 1, reinstate: 1 };
const AFTER_EXPIRY = new Set(['list', 'reset', 'rename', ...STATE_ACTIONS]);

/** `licit devices`: list, reset, rename, suspend, revoke, reinstate. */
export const run: Verb = async (argv, ctx) => {
  const { values: v, positionals } = parseFlags(argv, { ...TARGET_FLAGS, goodwill: { type: 'boolean' }, reason: { type: 'string' } }, USAGE);
  const [action, ...args] = positionals;
  if (action === undefined) throw new LicenseError('ERR_USAGE', `missing action (list, reset, rename, suspend, revoke or reinstate)\nUsage: ${USAGE}`);
  const arity = Object.hasOwn(ARITY, action) ? ARITY[action] : undefined;
  if (arity === undefined) {
    const guess = didYouMean(action, Object.keys(ARITY));
    throw new LicenseError('ERR_USAGE', `unknown action "${action}"${guess === undefined ? '' : `. Did you mean "${guess}"?`}\nUsage: ${USAGE}`);
  }
  if (args.length !== arity) throw new LicenseError('ERR_USAGE', `"${action}" takes ${arity} argument${arity === 1 ? '' : 's'}, got ${args.length}\nUsage: ${USAGE}`);
  if (v.goodwill === true && action !== 'reset') throw new LicenseError('ERR_USAGE', `--goodwill only applies to "reset"\nUsage: ${USAGE}`);
  const stateAction = (STATE_ACTIONS as readonly string[]).includes(action) ? (action as (typeof STATE_ACTIONS)[number]) : undefined;
  if (v.reason !== undefined && stateAction === undefined) throw new LicenseError('ERR_USAGE', `--reason only applies to "suspend", "revoke" and "reinstate"\nUsage: ${USAGE}`);
  const target = await openTarget(v, action, AFTER_EXPIRY, ctx, USAGE, 'devices');
  try {
    const [device = '', label = ''] = args;
    if (action === 'list') return listed(await list(target));
    if (action === 'reset') return resetDone(await reset(target, device, v.goodwill !== true));
    if (stateAction !== undefined) {
      const reason = v.reason === '' ? undefined : v.reason;
      const r = await changeState(target, 'device', device, stateAction, reason);
      return { data: { licenseId: r.licenseId, deviceId: r.id, state: r.state }, text: stateChanged('device', r, reason) };
    }
    return renamed(await rename(target, device, label));
  } finally {
    await target.close();
  }
};

interface Listing {
  licenseId: string;
  usage: JsonObject;
  devices: JsonObject[];
}

async function list(t: Target): Promise<Listing> {
  if (t.kind === 'local') {
    const { activationJson } = await loadActivationRecords();
    return { licenseId: t.license.id, usage: (await t.acts.usage()) as unknown as JsonObject, devices: (await t.acts.devices()).map(activationJson) };
  }
  const r = await t.get('devices');
  return { licenseId: String(r.licenseId), usage: r.usage as JsonObject, devices: r.devices as JsonObject[] };
}

async function reset(t: Target, deviceId: string, countTransfer: boolean): Promise<{ licenseId: string; deviceId: string; users: string[]; transferCounted: boolean }> {
  if (t.kind === 'local') return { licenseId: t.license.id, deviceId, users: await t.acts.resetDevice(deviceId, { countTransfer }), transferCounted: countTransfer };
  const r = await t.post('devices/reset', { deviceId, countTransfer });
  return { licenseId: String(r.licenseId), deviceId, users: r.users as string[], transferCounted: countTransfer };
}

async function rename(t: Target, deviceId: string, label: string): Promise<{ licenseId: string; deviceId: string; label: string | null }> {
  if (t.kind === 'local') {
    const r = await t.acts.rename(deviceId, label);
    return { licenseId: t.license.id, deviceId, label: r[0]?.label ?? null };
  }
  const r = await t.post('devices/rename', { deviceId, label });
  return { licenseId: String(r.licenseId), deviceId, label: typeof r.label === 'string' ? r.label : null };
}

/** A limit as "N of M" ("N of unlimited"). */
const of = (used: unknown, licensed: unknown) => `${String(used)} of ${licensed === undefined || licensed === null ? 'unlimited' : String(licensed)}`;

function listed(l: Listing): Outcome {
  const u = l.usage as { activations: { inUse: number; licensed?: number }; transfers: { used: number; licensed?: number } };
  const rows = l.devices.map((d) => [d.userId, d.deviceId, d.label ?? '-', d.activatedAt, d.validatedAt].join('\t'));
  const head = `License ${l.licenseId}: ${of(u.activations.inUse, u.activations.licensed)} activations, ${of(u.transfers.used, u.transfers.licensed)} transfers used`;
  return { data: { ...l }, text: rows.length === 0 ? `${head}\nNo devices activated.` : `${head}\nUSER\tDEVICE\tLABEL\tACTIVATED\tLAST SEEN\n${rows.join('\n')}` };
}

function resetDone(r: { licenseId: string; deviceId: string; users: string[]; transferCounted: boolean }): Outcome {
  return { data: { ...r }, text: `Reset device ${r.deviceId} of license ${r.licenseId} (activations removed for ${r.users.join(', ')}); ${r.transferCounted ? 'one transfer counted' : 'no transfer counted (goodwill)'}.` };
}

function renamed(r: { licenseId: string; deviceId: string; label: string | null }): Outcome {
  return { data: { ...r }, text: r.label === null ? `Device ${r.deviceId} of license ${r.licenseId} has no name now.` : `Device ${r.deviceId} of license ${r.licenseId} is named "${r.label}".` };
}
