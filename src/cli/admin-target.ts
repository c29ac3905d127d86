/**
 * Where `licit devices` and `licit users` act: a local store (`--store DIR|postgres://...` with the
 * license key and the vendor public key, the seat classes used directly) or a license server
 * (`--server URL` with the admin token and `--license-id`, over the admin API). Each verb has one
 * code path per target and prints the same thing from both.
 */
import { LicenseError, loadParties, type PartyAction, type PartyKind, type PartyState } from '../cli-internals.js';
import type { License } from '../index.node.js';
import { Activations, type Store } from '../seats.js';
import { postAdmin, getAdmin } from './admin-client.js';
import { required, type CliContext } from './context.js';
import { licenseText, readPublicKeys } from './files.js';
import { licenseFor } from './license-for.js';
import { openStore } from './store-arg.js';

const s = { type: 'string' } as const;

/** The flags of both targets. */
export const TARGET_FLAGS = {
  store: s,
  schema: s,
  license: s,
  'public-key': { type: 'string', multiple: true },
  actor: s,
  server: s,
  'admin-token': s,
  'license-id': s,
} as const;

/** The target flags as given. */
export type TargetFlags = { [K in keyof typeof TARGET_FLAGS]?: (typeof TARGET_FLAGS)[K] extends { multiple: true } ? string[] : string };

/** A local store: the license's activations, the store they count in (audit-chained), and who acts. */
export interface LocalTarget {
  readonly kind: 'local';
  readonly license: License;
  readonly acts: Activations;
  readonly store: Store;
  /** `--actor`, else `cli`: what the audit log records. */
  readonly actor: string;
  close(): Promise<void>;
}

/** A license server's admin API for one license. */
export interface ServerTarget {
  readonly kind: 'server';
  readonly licenseId: string;
  /** `GET /v1/admin/<path>?licenseId=…`: the `{ ok: true, … }` body, or the server's refusal thrown. */
  get(path: string): Promise<Record<string, unknown>>;
  /** `POST /v1/admin/<path>` with `{ licenseId, …body }`. */
  post(path: string, body: Record<string, unknown>): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export type Target = LocalTarget | ServerTarget;

/**
 * Open the target the flags name. Exactly one of `--store` and `--server`; each with its own
 * companions only (a flag of the other target is a usage mistake, not silently ignored).
 */
export async function openTarget(v: TargetFlags, action: string, afterExpiry: ReadonlySet<string>, ctx: CliContext, usage: string, what: string): Promise<Target> {
  const fail = (m: string) => new LicenseError('ERR_USAGE', `${m}\nUsage: ${usage}`);
  if (v.store !== undefined && v.server !== undefined) throw fail('give --store (a local store) or --server (a license server), not both');
  if (v.server !== undefined) {
    for (const f of ['store', 'schema', 'license', 'public-key', 'actor'] as const) {
      if (v[f] !== undefined) throw fail(`--${f} goes with --store; against --server name the license with --license-id (the server records the actor as admin)`);
    }
    const token = v['admin-token'] ?? process.env.LICIT_ADMIN_TOKEN;
    if (token === undefined || token === '') throw fail('missing the admin token: set $LICIT_ADMIN_TOKEN (or give --admin-token TOKEN)');
    const licenseId = required(v['license-id'], '--license-id', usage);
    let base: URL;
    try {
      base = new URL(v.server);
    } catch {
      throw fail(`--server must be the server's URL (http://host:port), got "${v.server}"`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw fail(`--server must be an http:// or https:// URL, got "${v.server}"`);
    return {
      kind: 'server',
      licenseId,
      get: (path) => getAdmin(base, token, path, { licenseId }),
      post: (path, body) => postAdmin(base, token, path, { licenseId, ...body }),
      close: async () => {},
    };
  }
  if (v.store === undefined) throw fail('missing --store DIR|postgres://... (a local store) or --server URL (a license server)');
  for (const f of ['admin-token', 'license-id'] as const) if (v[f] !== undefined) throw fail(`--${f} goes with --server; a local store reads the license from --license`);
  const publicKeys = readPublicKeys(v['public-key'], usage);
  const license = await licenseFor(licenseText(required(v.license, '--license', usage)), publicKeys, action, afterExpiry, ctx, what);
  // Chained (openStore's default) like every event the license server writes, so `licit log` proves these too.
  const store = await openStore(v.store, { schema: v.schema, poolSize: 1, applicationName: 'licit-cli' });
  const actor = v.actor ?? 'cli';
  return { kind: 'local', license, acts: new Activations(store, license, { actor }), store, actor, close: () => store.close() };
}

/**
 * Suspend, revoke or reinstate one device or license user (`licit devices|users suspend|revoke|reinstate`):
 * on a local store through core/admin/parties.ts, the code behind the admin API's
 * `POST /v1/admin/devices/suspend` and its siblings, which a server target calls. Both audited
 * (`device.suspended`, `user.reinstated`, …), so a server's webhooks deliver them too.
 */
export async function changeState(t: Target, kind: PartyKind, id: string, action: PartyAction, reason: string | undefined): Promise<{ licenseId: string; id: string; state: PartyState }> {
  if (t.kind === 'local') {
    const { changeActivationState } = await loadParties();
    const r = await changeActivationState(t.store, t.acts, t.license.id, { kind, id }, action, { actor: t.actor, reason });
    return { licenseId: t.license.id, id: r.id, state: r.state };
  }
  const field = kind === 'device' ? 'deviceId' : 'userId';
  const r = await t.post(`${kind}s/${action}`, reason === undefined ? { [field]: id } : { [field]: id, reason });
  return { licenseId: String(r.licenseId), id: String(r[field]), state: r.state as PartyState };
}

/** What `changeState` did, in words: the state now and what it means for the installations. */
export function stateChanged(kind: PartyKind, r: { licenseId: string; id: string; state: PartyState }, reason: string | undefined): string {
  const who = `${kind === 'device' ? 'Device' : 'License user'} ${r.id} of license ${r.licenseId}`;
  const why = reason === undefined || reason === '' ? '' : ` (reason: ${reason})`;
  if (r.state === 'suspended') return `${who} is suspended${why}: ${kind === 'device' ? 'its' : 'their'} renewals, activations and top-ups are refused until reinstated.`;
  if (r.state === 'revoked' && kind !== 'device') return `${who} is revoked${why}: the user is removed, their devices deactivated, and the id is refused from now on.`;
  if (r.state === 'revoked') return `${who} is revoked${why}: its activation is freed (no transfer counted) and its machine cannot activate the license again.`;
  return `${who} is active${why}.`;
}
