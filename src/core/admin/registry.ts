/**
 * The vendor's license registry: every license key the vendor signed (by `licit issue --store`,
 * `issueLicense` with a store, the admin API, or first seen at an exchange), who issued it and
 * when, each re-issue with what it changed, and the license's state: active, suspended or
 * revoked. It lives in the vendor's store beside the license's seats and activations, so the
 * license server reads the state in the same transaction as every exchange it answers.
 *
 * Records (kind `registry`): `info` (the summary `licit licenses list` shows) and one
 * `issue:<n>` per key signed for the license, with its text, so support can find a customer's key
 * again. Events (`license.registered`, `license.suspended`, `license.revoked`,
 * `license.reinstated`) go to the license's audit log.
 */
import { auditEvent, type EventKind } from '../store/audit-event.js';
import { sha256Hex } from '../crypto/digest.js';
import { LicenseError } from '../errors.js';
import type { License } from '../license/license.js';
import type { JsonObject, Store, StoreReader, StoreTx } from '../store/store.js';
import { REGISTRY_KIND, indexedRegistration, isLicenseId } from './license-index.js';

export { REGISTRY_KIND };

/** What the vendor says about a license now. */
export type LicenseState = 'active' | 'suspended' | 'revoked';

/** One license as the registry lists it. */
export interface RegistryEntry {
  readonly licenseId: string;
  readonly customer?: string;
  readonly edition?: string;
  readonly features: readonly string[];
  readonly seats: Readonly<Record<string, number>>;
  /** The current key's issue time (ISO 8601). */
  readonly issuedAt: string;
  readonly expiresAt?: string;
  readonly maintenanceExpiresAt?: string;
  /** Who signed the current key (`licit issue --issued-by`, default the OS user; `exchange` when first seen at one). */
  readonly issuedBy: string;
  /** When the registry first heard of the license. */
  readonly firstRecordedAt: string;
  /** Keys signed for it so far (1 + re-issues). */
  readonly issues: number;
  readonly state: LicenseState;
  /** Why and by whom the state was last changed. */
  readonly stateReason?: string;
  readonly stateChangedAt?: string;
  readonly stateChangedBy?: string;
}

/** One key signed for a license. */
export interface IssueRecord {
  /** 1 for the first key, then 2, 3, … */
  readonly n: number;
  readonly issuedAt: string;
  readonly issuedBy: string;
  readonly recordedAt: string;
  /** The key text, whitespace removed. */
  readonly text: string;
  /** SHA-256 of the text (hex), to match a key a customer pastes. */
  readonly sha256: string;
  /** Claims that differ from the key before (`{ from, to }` each); empty for the first. */
  readonly changes: Readonly<Record<string, { from: unknown; to: unknown }>>;
}

/** Filters of {@link findLicenses}; all optional, combined with AND. */
export interface LicenseFilter {
  /** Case-insensitive substring of the customer name. */
  readonly customer?: string | undefined;
  readonly state?: LicenseState | undefined;
  /** Keys that expire before this instant (never-expiring keys do not match). */
  readonly expiresBefore?: Date | undefined;
  /** Keys that expire at or after this instant, or never. */
  readonly expiresAfter?: Date | undefined;
  /** Case-insensitive substring of the license id. */
  readonly licenseId?: string | undefined;
}

/** The claims a re-issue is compared on (what a vendor changes when a customer buys more). */
function summary(license: License): JsonObject {
  const iso = (d: Date | undefined) => (d === undefined ? null : d.toISOString());
  return {
    customer: license.customer ?? null,
    edition: license.edition ?? null,
    features: [...license.features].sort(),
    seats: { ...license.seats },
    expiresAt: iso(license.expiresAt),
    maintenanceExpiresAt: iso(license.maintenanceExpiresAt),
    maxActivations: license.maxActivations ?? null,
    maxUsers: license.maxUsers ?? null,
    maxUserActivations: license.maxUserActivations ?? null,
    maxTransfers: license.maxTransfers ?? null,
    graceDays: license.graceDays,
    credits: license.credits ?? null,
    carriedCredits: license.carriedCredits,
    fingerprint: license.fingerprint ?? null,
  };
}

function changesBetween(before: JsonObject | undefined, after: JsonObject): Record<string, { from: unknown; to: unknown }> {
  if (before === undefined) return {};
  const out: Record<string, { from: unknown; to: unknown }> = {};
  // A claim the summary before did not hold (recorded by an older licit) is not known to have changed.
  for (const k of Object.keys(after)) if (k in before && JSON.stringify(before[k] ?? null) !== JSON.stringify(after[k])) out[k] = { from: before[k] ?? null, to: after[k] ?? null };
  return out;
}

function entryOf(licenseId: string, v: JsonObject): RegistryEntry {
  const s = v.summary as JsonObject;
  const opt = <K extends string>(k: K, x: unknown) => (typeof x === 'string' ? { [k]: x } : {}) as { [P in K]?: string };
  return {
    licenseId,
    ...opt('customer', s.customer),
    ...opt('edition', s.edition),
    features: (s.features as string[]) ?? [],
    seats: (s.seats as Record<string, number>) ?? {},
    issuedAt: v.issuedAt as string,
    ...opt('expiresAt', s.expiresAt),
    ...opt('maintenanceExpiresAt', s.maintenanceExpiresAt),
    issuedBy: v.issuedBy as string,
    firstRecordedAt: v.firstRecordedAt as string,
    issues: v.issues as number,
    state: (v.state as LicenseState) ?? 'active',
    ...opt('stateReason', v.stateReason),
    ...opt('stateChangedAt', v.stateChangedAt),
    ...opt('stateChangedBy', v.stateChangedBy),
  };
}

/**
 * Record `license` (a verified key) in the registry inside `tx`: a first key, a newer issue of the
 * same license (a re-issue, with what it changed), or the same key again (nothing happens). An
 * older issue than the one recorded is refused with `ERR_LICENSE_SUPERSEDED`: it would silently
 * take back what the newer key granted. Returns what happened.
 */
export async function recordIssueIn(tx: StoreTx, license: License, by: { actor: string; issuedBy?: string | undefined; source: 'issuer' | 'admin' | 'exchange'; now: Date | number }): Promise<{ outcome: 'recorded' | 'reissued' | 'unchanged'; changes: Record<string, { from: unknown; to: unknown }> }> {
  const info = await tx.get(REGISTRY_KIND, 'info');
  const text = license.text;
  const sha = sha256Hex(text);
  if (info !== undefined && info.sha256 === sha) return { outcome: 'unchanged', changes: {} };
  if (typeof info?.issuedAt === 'string' && new Date(info.issuedAt) > license.issuedAt) {
    throw new LicenseError(
      'ERR_LICENSE_SUPERSEDED',
      `license ${license.id} already has a newer key (issued ${info.issuedAt}); refusing to replace it with one issued ${license.issuedAt.toISOString()}. Re-issue from the newest key instead`,
      { licenseId: license.id, recorded: info.issuedAt, offered: license.issuedAt.toISOString() },
    );
  }
  const at = new Date(by.now).toISOString();
  const after = summary(license);
  const changes = changesBetween(info?.summary as JsonObject | undefined, after);
  const n = typeof info?.issues === 'number' ? info.issues + 1 : 1;
  const issuedBy = by.issuedBy ?? by.actor;
  tx.put(REGISTRY_KIND, `issue:${String(n).padStart(6, '0')}`, { n, issuedAt: license.issuedAt.toISOString(), issuedBy, recordedAt: at, text, sha256: sha, changes: changes as unknown as JsonObject });
  tx.put(REGISTRY_KIND, 'info', {
    ...(info ?? {}),
    summary: after,
    issuedAt: license.issuedAt.toISOString(),
    issuedBy,
    sha256: sha,
    kid: license.kid,
    firstRecordedAt: (info?.firstRecordedAt as string | undefined) ?? at,
    issues: n,
    state: (info?.state as string | undefined) ?? 'active',
  });
  tx.append(auditEvent(by.now, by.actor, 'license.registered', { issuedAt: license.issuedAt.toISOString(), replaced: info !== undefined, source: by.source, issuedBy, issue: n, changes: changes as unknown as JsonObject }));
  return { outcome: info === undefined ? 'recorded' : 'reissued', changes };
}

/**
 * Refuse recording a key signed by another vendor key than the license's newest key
 * (`ERR_KEY_UNKNOWN_SIGNER`), unless `rotate`: a key pair picked by mistake would record a key no
 * installation trusts, and every renewal would then fail. `licit issue --store`, `licit licenses
 * reissue` and `issueLicense` with a store check it before recording.
 */
export async function assertSameSigner(store: Store, licenseId: string, kid: string, rotate: boolean): Promise<void> {
  if (rotate) return;
  const info = await store.read(licenseId, (r) => r.get(REGISTRY_KIND, 'info'));
  const before = typeof info?.kid === 'string' ? info.kid : undefined;
  if (before !== undefined && before !== kid) {
    throw new LicenseError(
      'ERR_KEY_UNKNOWN_SIGNER',
      `license ${licenseId} was signed by key ${before}, and this key by ${kid}: nothing was recorded. Sign with the vendor's signing key of that license; if you are rotating keys (applications trust the new public key already), add --rotate (issueLicense: rotate: true)`,
      { licenseId, kid, registeredKid: before },
    );
  }
}

/**
 * {@link recordIssueIn} in a transaction of its own, with the license index kept (license-index.ts;
 * a caller running recordIssueIn in a transaction of its own calls `indexLicense` after it commits).
 */
export function recordIssue(store: Store, license: License, by: { actor: string; issuedBy?: string | undefined; source: 'issuer' | 'admin' | 'exchange'; now?: Date | number }) {
  return indexedRegistration(store, license.id, () => store.transaction(license.id, (tx) => recordIssueIn(tx, license, { ...by, now: by.now ?? Date.now() })));
}

/** The license's state as the registry holds it (`active` when it holds nothing). */
export async function licenseStateIn(reader: StoreReader): Promise<{ state: LicenseState; reason?: string }> {
  const info = await reader.get(REGISTRY_KIND, 'info');
  const state = (info?.state as LicenseState | undefined) ?? 'active';
  return typeof info?.stateReason === 'string' ? { state, reason: info.stateReason } : { state };
}

/**
 * Refuse an exchange for a suspended (`ERR_LICENSE_SUSPENDED`) or revoked (`ERR_LICENSE_REVOKED`)
 * license; the license server calls this in every exchange's transaction.
 */
export async function assertLicenseActive(reader: StoreReader, licenseId: string): Promise<void> {
  const { state, reason } = await licenseStateIn(reader);
  const why = reason === undefined ? '' : ` (${reason})`;
  if (state === 'suspended') throw new LicenseError('ERR_LICENSE_SUSPENDED', `license ${licenseId} is suspended by the vendor${why}; this machine keeps working until its current lease ends. Contact the vendor to have it reinstated`, { licenseId });
  if (state === 'revoked') throw new LicenseError('ERR_LICENSE_REVOKED', `license ${licenseId} was revoked by the vendor${why}; it will not be renewed or activated again. Contact the vendor for a new license`, { licenseId });
}

const TRANSITIONS: Record<'suspend' | 'revoke' | 'reinstate', { to: LicenseState; from: readonly LicenseState[]; kind: 'license.suspended' | 'license.revoked' | 'license.reinstated' }> = {
  suspend: { to: 'suspended', from: ['active'], kind: 'license.suspended' },
  revoke: { to: 'revoked', from: ['active', 'suspended'], kind: 'license.revoked' },
  reinstate: { to: 'active', from: ['suspended'], kind: 'license.reinstated' },
};

/**
 * Suspend (reversible), revoke (final) or reinstate (a suspended) license, audited. From the next
 * exchange on, the license server refuses renewals and activations with the license's state; an
 * installation keeps its current lease until it ends (at most one lease interval). Refused with
 * `ERR_LICENSE_NOT_REGISTERED` for a license the registry does not hold and `ERR_LICENSE_STATE` for a
 * change its state does not allow (reinstating a revoked license: issue a new one).
 */
export async function changeLicenseState(store: Store, licenseId: string, action: 'suspend' | 'revoke' | 'reinstate', by: { actor: string; reason?: string | undefined; now?: Date | number }): Promise<RegistryEntry> {
  const t = TRANSITIONS[action];
  if (t === undefined) throw new LicenseError('ERR_USAGE', `unknown license action ${String(action)}: suspend, revoke or reinstate`);
  // Looked up first without a transaction: a mistyped id must not leave an empty license behind.
  if ((await store.read(licenseId, (r) => r.get(REGISTRY_KIND, 'info'))) === undefined) {
    throw new LicenseError('ERR_LICENSE_NOT_REGISTERED', `the registry holds no license ${licenseId}; record its key first (licit issue --store, or POST /v1/admin/licenses)`, { licenseId });
  }
  return store.transaction(licenseId, async (tx) => {
    const info = await tx.get(REGISTRY_KIND, 'info');
    if (info === undefined) throw new LicenseError('ERR_LICENSE_NOT_REGISTERED', `the registry holds no license ${licenseId}; record its key first (licit issue --store, or POST /v1/admin/licenses)`, { licenseId });
    const from = (info.state as LicenseState | undefined) ?? 'active';
    if (from === t.to) return entryOf(licenseId, info);
    if (!t.from.includes(from)) {
      throw new LicenseError('ERR_LICENSE_STATE', `license ${licenseId} is ${from}; it cannot be ${({ suspend: 'suspended', revoke: 'revoked', reinstate: 'reinstated' } as const)[action]}${from === 'revoked' ? ' (revoking is final: issue a new license)' : ''}`, { licenseId, state: from, action });
    }
    const now = by.now ?? Date.now();
    const next: JsonObject = { ...info, state: t.to, stateChangedAt: new Date(now).toISOString(), stateChangedBy: by.actor };
    if (by.reason !== undefined && by.reason !== '') next.stateReason = by.reason;
    else delete next.stateReason;
    tx.put(REGISTRY_KIND, 'info', next);
    tx.append(auditEvent(now, by.actor, t.kind, { from, to: t.to, ...(by.reason === undefined || by.reason === '' ? {} : { reason: by.reason }) }));
    return entryOf(licenseId, next);
  });
}

/** One license's registry entry and every key signed for it, or undefined. */
export async function showLicense(store: Store, licenseId: string): Promise<{ entry: RegistryEntry; issues: IssueRecord[] } | undefined> {
  return store.read(licenseId, async (r) => {
    const info = await r.get(REGISTRY_KIND, 'info');
    if (info === undefined) return undefined;
    const issues = (await r.list(REGISTRY_KIND, 'issue:')).map((e) => e.value as unknown as IssueRecord);
    return { entry: entryOf(licenseId, info), issues };
  });
}

/** One license's registry entry (without its keys), or undefined. */
export async function registryEntry(store: Store, licenseId: string): Promise<RegistryEntry | undefined> {
  const info = await store.read(licenseId, (r) => r.get(REGISTRY_KIND, 'info'));
  return info === undefined ? undefined : entryOf(licenseId, info);
}

/**
 * The licenses in the registry matching `filter`, by license id. Needs a store that lists its
 * licenses (every store licit ships); reads each license's summary.
 */
export async function findLicenses(store: Store, filter: LicenseFilter = {}): Promise<RegistryEntry[]> {
  if (store.licenseIds === undefined) throw new LicenseError('ERR_STORE_UNAVAILABLE', 'this store cannot list its licenses (it has no licenseIds()); use a store licit ships');
  const out: RegistryEntry[] = [];
  const has = (s: string | undefined, q: string | undefined) => q === undefined || (s ?? '').toLowerCase().includes(q.toLowerCase());
  for (const id of await store.licenseIds()) {
    if (!isLicenseId(id) || !has(id, filter.licenseId)) continue;
    const info = await store.read(id, (r) => r.get(REGISTRY_KIND, 'info'));
    if (info === undefined) continue;
    const e = entryOf(id, info);
    if (!has(e.customer, filter.customer)) continue;
    if (filter.state !== undefined && e.state !== filter.state) continue;
    const exp = e.expiresAt === undefined ? undefined : new Date(e.expiresAt);
    if (filter.expiresBefore !== undefined && (exp === undefined || exp >= filter.expiresBefore)) continue;
    if (filter.expiresAfter !== undefined && exp !== undefined && exp < filter.expiresAfter) continue;
    out.push(e);
  }
  return out;
}

/** The key of the newest issue (for support finding a customer's key again), or undefined. */
export async function currentKeyText(store: Store, licenseId: string): Promise<string | undefined> {
  const shown = await showLicense(store, licenseId);
  return shown?.issues.at(-1)?.text;
}

/** A device's or a license user's state, as the vendor set it (absent: active). */
export type PartyState = 'active' | 'suspended' | 'revoked';

/** What can be stopped on its own within a license: one device, or one license user. */
export type PartyKind = 'device' | 'user';

/** A change of a device's or a license user's state. */
export type PartyAction = 'suspend' | 'revoke' | 'reinstate';

/**
 * The changes each kind allows: a device is suspended, revoked (final) or reinstated; a license user
 * is suspended or reinstated (removing the user ends it for good). The admin API offers these
 * routes and `licit devices|users` these actions.
 */
export const PARTY_ACTIONS: { readonly [K in PartyKind]: readonly PartyAction[] } = { device: ['suspend', 'revoke', 'reinstate'], user: ['suspend', 'revoke', 'reinstate'] };

const PARTY_TRANSITIONS = {
  suspend: { to: 'suspended', from: ['active'], done: 'suspended' },
  revoke: { to: 'revoked', from: ['active', 'suspended'], done: 'revoked' },
  reinstate: { to: 'active', from: ['suspended'], done: 'reinstated' },
} as const;

/**
 * Suspend (reversible), revoke (final) or reinstate one device or license user of a
 * registered license, audited (`device.suspended`, `user.reinstated`, …). A suspended device or
 * user is refused renewals, activations and top-ups (`ERR_DEVICE_SUSPENDED`, `ERR_USER_SUSPENDED`);
 * a revoked device's fingerprint is refused any new activation (`ERR_DEVICE_REVOKED`), so a
 * reinstall does not bring it back (the caller frees its activation). `fingerprint`: the device's,
 * when revoking.
 */
export async function changePartyState(
  store: Store,
  licenseId: string,
  party: { readonly kind: PartyKind; readonly id: string; readonly fingerprint?: string | undefined },
  action: PartyAction,
  by: { actor: string; reason?: string | undefined; now?: Date | number },
): Promise<{ state: PartyState }> {
  const t = PARTY_TRANSITIONS[action];
  if (t === undefined || !PARTY_ACTIONS[party.kind].includes(action)) throw new LicenseError('ERR_USAGE', `unknown ${party.kind} action ${String(action)}: suspend, revoke or reinstate`);
  if ((await store.read(licenseId, (r) => r.get(REGISTRY_KIND, 'info'))) === undefined) {
    throw new LicenseError('ERR_LICENSE_NOT_REGISTERED', `the registry holds no license ${licenseId}`, { licenseId });
  }
  return store.transaction(licenseId, async (tx) => {
    const key = `${party.kind}:${party.id}`;
    const cur = await tx.get(REGISTRY_KIND, key);
    const from = ((cur?.state as PartyState | undefined) ?? 'active') as PartyState;
    if (from === t.to) return { state: from };
    if (!(t.from as readonly PartyState[]).includes(from)) {
      throw new LicenseError('ERR_LICENSE_STATE', `${party.kind} ${party.id} of license ${licenseId} is ${from}; it cannot be ${t.done}`, { licenseId, [party.kind]: party.id, state: from, action });
    }
    const now = by.now ?? Date.now();
    const next: JsonObject = { state: t.to, at: new Date(now).toISOString(), by: by.actor };
    if (by.reason !== undefined && by.reason !== '') next.reason = by.reason;
    const fp = party.fingerprint ?? (typeof cur?.fingerprint === 'string' ? cur.fingerprint : undefined);
    if (fp !== undefined) next.fingerprint = fp;
    tx.put(REGISTRY_KIND, key, next);
    const kind = `${party.kind}.${t.done}` as EventKind;
    tx.append(auditEvent(now, by.actor, kind, { [party.kind === 'device' ? 'deviceId' : 'userId']: party.id, from, to: t.to, ...(by.reason === undefined || by.reason === '' ? {} : { reason: by.reason }) }));
    return { state: t.to };
  });
}

/**
 * Refuse an exchange of a suspended device or user, and an activation from a revoked device's
 * machine (`matches(storedFingerprint)` says whether the requester's fingerprint is that machine).
 */
export async function assertPartiesActive(reader: StoreReader, q: { licenseId: string; deviceId: string; userId: string; activating: boolean; matches: (fingerprint: string) => boolean }): Promise<void> {
  const device = await reader.get(REGISTRY_KIND, `device:${q.deviceId}`);
  const why = (v: JsonObject | undefined) => (typeof v?.reason === 'string' ? ` (${v.reason})` : '');
  if (device?.state === 'suspended') throw new LicenseError('ERR_DEVICE_SUSPENDED', `this device is suspended by the vendor${why(device)}; contact the license's administrator`, { licenseId: q.licenseId, deviceId: q.deviceId });
  if (device?.state === 'revoked') throw new LicenseError('ERR_DEVICE_REVOKED', `this device was revoked by the vendor${why(device)}`, { licenseId: q.licenseId, deviceId: q.deviceId });
  const user = await reader.get(REGISTRY_KIND, `user:${q.userId}`);
  if (user?.state === 'suspended') throw new LicenseError('ERR_USER_SUSPENDED', `license user ${q.userId} is suspended${why(user)}; contact the license's administrator`, { licenseId: q.licenseId, userId: q.userId });
  if (user?.state === 'revoked') throw new LicenseError('ERR_USER_REVOKED', `license user ${q.userId} was revoked by the vendor${why(user)}; this user cannot use license ${q.licenseId} again`, { licenseId: q.licenseId, userId: q.userId });
  if (q.activating) {
    for (const e of await reader.list(REGISTRY_KIND, 'device:')) {
      if (e.value.state === 'revoked' && typeof e.value.fingerprint === 'string' && q.matches(e.value.fingerprint)) {
        throw new LicenseError('ERR_DEVICE_REVOKED', `this machine's device was revoked by the vendor${why(e.value)}; it cannot be activated again for license ${q.licenseId}`, { licenseId: q.licenseId, deviceId: e.key.slice('device:'.length) });
      }
    }
  }
}
