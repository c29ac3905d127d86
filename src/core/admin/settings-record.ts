/**
 * Where a license's alert settings live: one record (kind `admin`, key `settings`) among the
 * license's own records, changed in one transaction with a `settings.changed` event in its
 * hash-chained audit log, so the log says who set which threshold when, and every server process
 * reads the same settings the moment they commit.
 */
import { LicenseError } from '../errors.js';
import type { JsonObject, JsonValue, Store, StoreReader } from '../store/store.js';
import { canonicalJson } from './canonical.js';
import { adminEvent } from './events.js';
import { checkSettings, settingsJson, type FigureSettings, type LicenseSettings, type Recipient, type SettingsScope } from './license-settings.js';

const KIND = 'admin';
const KEY = 'settings';

/** The settings as stored, with what the server needs to run them. */
export interface StoredSettings {
  readonly settings: LicenseSettings;
  /** Incremented by every change. */
  readonly revision: number;
  /** Per part (`credits.notify`, `seats.basic.topUp`, …) the revision it last changed at (see `settingsRules`). */
  readonly stamps: Readonly<Record<string, number>>;
  /** When and by whom they were last changed. */
  readonly updatedAt: string;
  readonly updatedBy: string;
}

/**
 * A change: each part given replaces that part; parts left out stay as they are. Raw JSON, checked
 * by `checkSettings`. `recipients` may also be a function of the current list, called inside the
 * transaction, so that two people adding an address at once both keep theirs.
 */
export interface SettingsChange {
  readonly seats?: unknown;
  readonly credits?: unknown;
  readonly recipients?: unknown | ((current: readonly Recipient[]) => unknown);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The license's settings from a reader, or undefined when none were ever saved. */
export async function settingsIn(r: StoreReader): Promise<StoredSettings | undefined> {
  const v = await r.get(KIND, KEY);
  if (v === undefined) return undefined;
  try {
    const raw = isObject(v.settings) ? v.settings : {};
    // Checked against their own contents: a seat type the license lost since is still read (its
    // rule finds no figures and stays quiet); the license's current scope applies when they change.
    const seatTypes = isObject(raw.seats) ? Object.keys(raw.seats) : [];
    const settings = checkSettings(raw, { seatTypes, credits: true, seatTopUps: true });
    const stamps: Record<string, number> = {};
    if (isObject(v.stamps)) for (const [k, n] of Object.entries(v.stamps)) if (Number.isSafeInteger(n)) Object.defineProperty(stamps, k, { value: n, enumerable: true, writable: true, configurable: true });
    return { settings, revision: Number.isSafeInteger(v.revision) ? (v.revision as number) : 0, stamps, updatedAt: String(v.updatedAt ?? ''), updatedBy: String(v.updatedBy ?? '') };
  } catch (e) {
    throw new LicenseError('ERR_STORE_CORRUPT', `the alert settings of license ${r.licenseId} in the store are unreadable (${(e as Error).message}); save them again from the portal or the admin API`, { licenseId: r.licenseId });
  }
}

/** The license's settings, or undefined when none were ever saved. */
export async function readSettings(store: Store, licenseId: string): Promise<StoredSettings | undefined> {
  return store.read(licenseId, settingsIn);
}

/** The rule-making parts of settings, by name, as canonical JSON (to tell which changed). */
function parts(s: LicenseSettings): Map<string, string> {
  const out = new Map<string, string>();
  const figure = (name: string, f: FigureSettings | undefined) => {
    if (f?.notify !== undefined) out.set(`${name}.notify`, canonicalJson({ ...f.notify } as JsonValue));
    if (f?.topUp !== undefined) out.set(`${name}.topUp`, canonicalJson({ ...f.topUp } as JsonValue));
  };
  figure('credits', s.credits);
  for (const [t, f] of Object.entries(s.seats)) figure(`seats.${t}`, f);
  return out;
}

/**
 * Change a license's settings: each part of `change` given replaces that part, checked against
 * what the license offers (`ERR_SETTINGS_INVALID`, nothing written, when any value is wrong).
 * Writes the record and a `settings.changed` event in one transaction; a change that changes
 * nothing writes nothing. Returns the settings now in force and which parts changed.
 *
 * @example
 * ```ts
 * await saveSettings(store, 'LIC-1', { credits: { notify: { remainingAtMost: 100 } } }, { seatTypes: [], credits: true, seatTopUps: false }, { actor: 'admin', now: Date.now() })
 * ```
 */
export async function saveSettings(
  store: Store,
  licenseId: string,
  change: SettingsChange,
  scope: SettingsScope,
  by: { readonly actor: string; readonly now: number },
): Promise<StoredSettings & { changed: string[] }> {
  if (!isObject(change)) throw new LicenseError('ERR_SETTINGS_INVALID', 'the change must be an object: { "seats": …, "credits": …, "recipients": … }', { field: 'settings' });
  // Checked once before the transaction, so a wrong value is refused without taking the license's lock.
  const edit = typeof change.recipients === 'function' ? (change.recipients as (current: readonly Recipient[]) => unknown) : undefined;
  checkSettings(edit === undefined ? change : { ...change, recipients: undefined }, scope);
  return store.transaction(licenseId, async (tx) => {
    const prior = await settingsIn(tx);
    const old = prior === undefined ? undefined : settingsJson(prior.settings);
    // A seat type the license no longer has is dropped when its seats are not being changed.
    const oldSeats = isObject(old?.seats) ? Object.fromEntries(Object.entries(old.seats).filter(([t]) => scope.seatTypes.includes(t))) : undefined;
    const merged = {
      seats: change.seats !== undefined ? change.seats : oldSeats,
      credits: change.credits !== undefined ? change.credits : scope.credits ? old?.credits : undefined,
      recipients: edit !== undefined ? edit(prior?.settings.recipients ?? []) : change.recipients !== undefined ? change.recipients : old?.recipients,
    };
    const settings = checkSettings(merged, scope);
    const revision = (prior?.revision ?? 0) + 1;
    const before = prior === undefined ? new Map<string, string>() : parts(prior.settings);
    const after = parts(settings);
    const changed: string[] = [];
    const stamps: Record<string, number> = {};
    for (const [name, text] of after) {
      const same = before.get(name) === text;
      if (!same) changed.push(name);
      Object.defineProperty(stamps, name, { value: same ? (prior?.stamps[name] ?? revision) : revision, enumerable: true, writable: true, configurable: true });
    }
    for (const name of before.keys()) if (!after.has(name)) changed.push(name);
    const recipientsBefore = canonicalJson((prior === undefined ? [] : settingsJson(prior.settings).recipients) as JsonValue);
    if (canonicalJson(settingsJson(settings).recipients as JsonValue) !== recipientsBefore) changed.push('recipients');
    if (changed.length === 0 && prior !== undefined) return { ...prior, changed };
    if (changed.length === 0) return { settings, revision: 0, stamps: {}, updatedAt: '', updatedBy: '', changed };
    const updatedAt = new Date(by.now).toISOString();
    const json = settingsJson(settings);
    tx.put(KIND, KEY, { revision, settings: json, stamps: stamps as JsonObject, updatedAt, updatedBy: by.actor });
    tx.append(adminEvent(by.now, by.actor, 'settings.changed', { revision, changed, settings: json }));
    return { settings, revision, stamps, updatedAt, updatedBy: by.actor, changed };
  });
}
