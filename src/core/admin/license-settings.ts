/**
 * A license's alert settings, as its administrators set them in the portal ("My Licences" →
 * settings, and "Notifications" in the Licence Manager pages): per seat type and for credits a
 * notification threshold and an automatic top-up, and which e-mail addresses hear of what. This
 * module is the one validator of them (portal, admin API and CLI all call {@link checkSettings}) and
 * turns them into the {@link AlertRule}s the server's `AlertMonitor` runs. Pure: no store, no clock.
 */
import { LicenseError } from '../errors.js';
import type { JsonObject } from '../store/store.js';
import type { AlertRule } from './alert-rules.js';

/** What a recipient may be told of. */
export const NOTIFICATION_KINDS = ['alerts', 'top-ups', 'top-up-failures'] as const;

/**
 * `alerts`: a notification threshold crossed or recovered (`alert.raised`, `alert.cleared`);
 * `top-ups`: an automatic top-up was made (`topup.completed`); `top-up-failures`: one failed
 * (`topup.failed`, the first try and the last).
 */
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/**
 * The monitor's audit events that carry each kind of notification: the server annotates them with
 * that kind's recipients (license-alerts.ts), and a webhook endpoint passes the kind on when it
 * receives them (the portal's Notifications page checks).
 */
export const NOTIFICATION_EVENTS: Readonly<Record<NotificationKind, readonly string[]>> = {
  alerts: ['alert.raised', 'alert.cleared'],
  'top-ups': ['topup.completed'],
  'top-up-failures': ['topup.failed'],
};

/** A threshold on one figure: exactly one of the two. */
export interface Threshold {
  /** Raise when seats available (vacant) or credits left are at most this. */
  readonly remainingAtMost?: number;
  /** Raise when this share (1..100) of the seats or of the credits granted is in use or spent. */
  readonly usedPercentAtLeast?: number;
}

/** An automatic top-up: when what is left falls to `remainingAtMost`, add `add`. */
export interface AutoTopUp {
  /** Vacant seats or credits left at or below which to add. */
  readonly remainingAtMost: number;
  /** How many seats or credits to add (more than `remainingAtMost`, so one top-up lifts the figure past it again). */
  readonly add: number;
}

/** The settings of one figure: a seat type's seats, or the license's credits. */
export interface FigureSettings {
  /** Tell the recipients of `alerts` when the figure crosses this. */
  readonly notify?: Threshold | undefined;
  /** Add seats or credits automatically. */
  readonly topUp?: AutoTopUp | undefined;
}

/** One e-mail address and what it is told of. */
export interface Recipient {
  /** The address (the vendor's webhook receiver sends the mail; the server sends none). */
  readonly email: string;
  /** What it receives (none: kept on the list, told nothing). */
  readonly kinds: readonly NotificationKind[];
}

/** A license's alert settings. */
export interface LicenseSettings {
  /** Per seat type of the license. */
  readonly seats: Readonly<Record<string, FigureSettings>>;
  /** For the license's credits (only a license that sells credits). */
  readonly credits?: FigureSettings | undefined;
  /** Who is told what. */
  readonly recipients: readonly Recipient[];
}

/** What a license offers settings for. */
export interface SettingsScope {
  /** Its seat types. */
  readonly seatTypes: readonly string[];
  /** Whether it sells credits. */
  readonly credits: boolean;
  /**
   * Whether the server can add seats by itself. False: an automatic seat top-up is refused with
   * `ERR_SETTINGS_INVALID` (adding seats means re-issuing the license key, which the server does
   * not do automatically yet).
   */
  readonly seatTopUps: boolean;
}

/** Most recipients per license, and longest address. */
export const MAX_RECIPIENTS = 50;
const MAX_EMAIL = 254;
/** Largest top-up: credits as a top-up token carries them; seats far beyond any real license. */
const MAX_ADD = { credits: 0xffffffff, seats: 100_000 };

function invalid(field: string, message: string): LicenseError {
  return new LicenseError('ERR_SETTINGS_INVALID', message, { field });
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isWhole = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;

/** A figure's name in messages: "credits" or "seats of type basic". */
const figureName = (where: string) => (where === 'credits' ? 'credits' : `seats of type ${where}`);

function checkThreshold(v: unknown, where: string, field: string): Threshold {
  if (!isObject(v)) throw invalid(field, `the notification threshold for ${figureName(where)} must be an object: { "remainingAtMost": N } or { "usedPercentAtLeast": P }`);
  const unknown = Object.keys(v).filter((k) => k !== 'remainingAtMost' && k !== 'usedPercentAtLeast');
  if (unknown.length > 0) throw invalid(field, `the notification threshold for ${figureName(where)} has an unknown field "${unknown[0]}"; give remainingAtMost or usedPercentAtLeast`);
  const n = v.remainingAtMost;
  const p = v.usedPercentAtLeast;
  if ((n === undefined) === (p === undefined)) throw invalid(field, `the notification threshold for ${figureName(where)} needs exactly one of remainingAtMost (how many left) and usedPercentAtLeast (how much used); choose one`);
  if (n !== undefined) {
    if (!isWhole(n, 0, 0xffffffff)) throw invalid(field, `the notification threshold for ${figureName(where)} must be a whole number of ${where === 'credits' ? 'credits' : 'vacant seats'} from 0 up, not ${JSON.stringify(n)}`);
    return { remainingAtMost: n };
  }
  if (typeof p !== 'number' || !Number.isFinite(p) || p <= 0 || p > 100) throw invalid(field, `the notification threshold for ${figureName(where)} must be a percentage above 0 and at most 100, not ${JSON.stringify(p)}`);
  return { usedPercentAtLeast: p };
}

function checkTopUp(v: unknown, where: string, field: string, scope: SettingsScope): AutoTopUp {
  const seats = where !== 'credits';
  if (seats && !scope.seatTopUps) {
    throw invalid(field, `automatic top-ups of seats are not available on this server yet (adding seats re-issues the license key); leave the automatic top-up of ${figureName(where)} off, and ask the vendor to add seats`);
  }
  if (!isObject(v)) throw invalid(field, `the automatic top-up of ${figureName(where)} must be an object: { "remainingAtMost": N, "add": M }`);
  const unknown = Object.keys(v).filter((k) => k !== 'remainingAtMost' && k !== 'add');
  if (unknown.length > 0) throw invalid(field, `the automatic top-up of ${figureName(where)} has an unknown field "${unknown[0]}"; give remainingAtMost and add`);
  const unit = seats ? 'seats' : 'credits';
  const max = MAX_ADD[unit];
  if (!isWhole(v.remainingAtMost, 0, max - 1)) throw invalid(`${field}.remainingAtMost`, `the automatic top-up of ${figureName(where)} needs the ${seats ? 'vacant seats' : 'credits left'} at or below which to add, a whole number from 0 to ${max - 1}, not ${JSON.stringify(v.remainingAtMost)}`);
  if (!isWhole(v.add, 1, max)) throw invalid(`${field}.add`, `the automatic top-up of ${figureName(where)} needs how many ${unit} to add, a whole number from 1 to ${max}, not ${JSON.stringify(v.add)}`);
  // A top-up that leaves the figure at or below its threshold would never re-arm (the rule clears
  // only once the figure is above it again), and the next shortage would go unanswered.
  if (v.add <= v.remainingAtMost) throw invalid(`${field}.add`, `the automatic top-up of ${figureName(where)} adds ${v.add}, which does not lift ${v.remainingAtMost} ${unit} above the threshold; add more than ${v.remainingAtMost}, or lower the threshold`);
  return { remainingAtMost: v.remainingAtMost, add: v.add };
}

function checkFigure(v: unknown, where: string, field: string, scope: SettingsScope): FigureSettings {
  if (!isObject(v)) throw invalid(field, `the settings for ${figureName(where)} must be an object: { "notify": …, "topUp": … }`);
  const unknown = Object.keys(v).filter((k) => k !== 'notify' && k !== 'topUp');
  if (unknown.length > 0) throw invalid(field, `the settings for ${figureName(where)} have an unknown field "${unknown[0]}"; give notify and topUp`);
  const out: { notify?: Threshold; topUp?: AutoTopUp } = {};
  if (v.notify !== undefined && v.notify !== null) out.notify = checkThreshold(v.notify, where, `${field}.notify`);
  if (v.topUp !== undefined && v.topUp !== null) out.topUp = checkTopUp(v.topUp, where, `${field}.topUp`, scope);
  return out;
}

// Deliberately plain: one @, no spaces or angle brackets, a dot in the domain. The receiver that
// sends the mail is the judge of deliverability; this only catches typing mistakes.
const EMAIL = /^[^\s@<>()",;:\\]+@[^\s@<>()",;:\\]+\.[^\s@<>()",;:\\]+$/;

/** A recipient's address, trimmed and with its domain in lower case; `ERR_SETTINGS_INVALID` when it is not one. */
export function checkEmail(v: unknown, field = 'email'): string {
  const s = typeof v === 'string' ? v.trim() : '';
  if (s.length > MAX_EMAIL || !EMAIL.test(s) || /[\p{Cc}\p{Cf}]/u.test(s)) throw invalid(field, `${JSON.stringify(typeof v === 'string' ? v.slice(0, 80) : v)} is not an e-mail address; give one like it@example.com`);
  const at = s.lastIndexOf('@');
  return s.slice(0, at) + s.slice(at).toLowerCase();
}

function checkRecipients(v: unknown): Recipient[] {
  if (!Array.isArray(v)) throw invalid('recipients', 'recipients must be a list of { "email": …, "kinds": [ … ] }');
  if (v.length > MAX_RECIPIENTS) throw invalid('recipients', `a license has at most ${MAX_RECIPIENTS} notification recipients; use a mailing list address for more people`);
  const seen = new Set<string>();
  return v.map((r, i) => {
    const field = `recipients[${i}]`;
    if (!isObject(r)) throw invalid(field, 'each recipient must be { "email": …, "kinds": [ … ] }');
    const email = checkEmail(r.email, `${field}.email`);
    if (seen.has(email.toLowerCase())) throw invalid(`${field}.email`, `${email} is on the list twice; give each address once with every kind it receives`);
    seen.add(email.toLowerCase());
    if (!Array.isArray(r.kinds)) throw invalid(`${field}.kinds`, `the kinds ${email} receives must be a list of ${NOTIFICATION_KINDS.join(', ')}`);
    const kinds = new Set<NotificationKind>();
    for (const k of r.kinds) {
      if (typeof k !== 'string' || !(NOTIFICATION_KINDS as readonly string[]).includes(k)) throw invalid(`${field}.kinds`, `${email} cannot receive ${JSON.stringify(k)}; the kinds are ${NOTIFICATION_KINDS.join(', ')}`);
      kinds.add(k as NotificationKind);
    }
    // In the list's own order, so equal settings compare equal.
    return { email, kinds: NOTIFICATION_KINDS.filter((k) => kinds.has(k)) };
  });
}

/**
 * Check settings given as JSON (the admin API's body, the portal's form turned into the same
 * shape) against what the license offers; the settings as stored, or `ERR_SETTINGS_INVALID` whose
 * message says what to change and whose `details.field` names the field.
 *
 * @example
 * ```ts
 * checkSettings({ seats: { basic: { notify: { remainingAtMost: 2 } } }, credits: { topUp: { remainingAtMost: 100, add: 1000 } }, recipients: [{ email: 'it@acme.example', kinds: ['alerts', 'top-ups'] }] }, { seatTypes: ['basic'], credits: true, seatTopUps: false })
 * ```
 */
export function checkSettings(input: unknown, scope: SettingsScope): LicenseSettings {
  if (!isObject(input)) throw invalid('settings', 'the settings must be an object: { "seats": …, "credits": …, "recipients": … }');
  const unknown = Object.keys(input).filter((k) => k !== 'seats' && k !== 'credits' && k !== 'recipients');
  if (unknown.length > 0) throw invalid(unknown[0] as string, `the settings have an unknown field "${unknown[0]}"; give seats, credits and recipients`);
  const seats: Record<string, FigureSettings> = {};
  if (input.seats !== undefined && input.seats !== null) {
    if (!isObject(input.seats)) throw invalid('seats', 'seats must map each seat type to its settings: { "basic": { "notify": … } }');
    for (const [type, v] of Object.entries(input.seats)) {
      if (!scope.seatTypes.includes(type)) {
        throw invalid(`seats.${type}`, `this license has no seats of type ${JSON.stringify(type)}${scope.seatTypes.length === 0 ? ' (it has no seat types at all)' : `; its types are ${scope.seatTypes.join(', ')}`}`);
      }
      const f = checkFigure(v, type, `seats.${type}`, scope);
      // defineProperty: a seat type may be named "__proto__".
      if (f.notify !== undefined || f.topUp !== undefined) Object.defineProperty(seats, type, { value: f, enumerable: true, writable: true, configurable: true });
    }
  }
  let credits: FigureSettings | undefined;
  if (input.credits !== undefined && input.credits !== null) {
    const f = checkFigure(input.credits, 'credits', 'credits', scope);
    if ((f.notify !== undefined || f.topUp !== undefined) && !scope.credits) throw invalid('credits', 'this license sells no credits, so it has no credit thresholds or top-ups; leave them empty');
    if (f.notify !== undefined || f.topUp !== undefined) credits = f;
  }
  const recipients = input.recipients === undefined || input.recipients === null ? [] : checkRecipients(input.recipients);
  return { seats, ...(credits === undefined ? {} : { credits }), recipients };
}

/** The settings as JSON (for the store, the admin API and the audit event). */
export function settingsJson(s: LicenseSettings): JsonObject {
  const figure = (f: FigureSettings): JsonObject => ({ ...(f.notify === undefined ? {} : { notify: { ...f.notify } as JsonObject }), ...(f.topUp === undefined ? {} : { topUp: { ...f.topUp } }) });
  const seats: JsonObject = {};
  for (const [t, f] of Object.entries(s.seats)) Object.defineProperty(seats, t, { value: figure(f), enumerable: true, writable: true, configurable: true });
  return { seats, ...(s.credits === undefined ? {} : { credits: figure(s.credits) }), recipients: s.recipients.map((r) => ({ email: r.email, kinds: [...r.kinds] })) };
}

/** What a rule the server derived from the settings is for. */
export interface RulePurpose {
  /** `notify`: tell the `alerts` recipients; `topUp`: add seats or credits. */
  readonly purpose: 'notify' | 'topUp';
  /** `credits`, or the seat type. */
  readonly figure: string;
}

/**
 * The alert rules of a license's settings. `stamps` gives, per part (`credits.notify`,
 * `seats.basic.topUp`, …), the settings revision that part last changed at: it is in the rule's
 * id, so a changed threshold starts a fresh rule (re-armed, its crossings counted anew) and the
 * idempotency keys of its top-ups (`licenseId:ruleId:crossing`) never repeat those of an earlier
 * setting, which would otherwise be taken for retries and add nothing.
 */
export function settingsRules(s: LicenseSettings, stamps: Readonly<Record<string, number>>): { rules: AlertRule[]; purposes: Map<string, RulePurpose> } {
  const rules: AlertRule[] = [];
  const purposes = new Map<string, RulePurpose>();
  const add = (figure: string, f: FigureSettings) => {
    const part = figure === 'credits' ? 'credits' : `seats.${figure}`;
    const metric = figure === 'credits' ? ('credits' as const) : ('seats' as const);
    const type = figure === 'credits' ? {} : { type: figure };
    if (f.notify !== undefined) {
      const id = `${part}.notify.r${stamps[`${part}.notify`] ?? 0}`;
      rules.push({ id, metric, ...type, ...f.notify });
      purposes.set(id, { purpose: 'notify', figure });
    }
    if (f.topUp !== undefined) {
      const id = `${part}.topUp.r${stamps[`${part}.topUp`] ?? 0}`;
      // Hysteresis 0: the rule clears (and re-arms) as soon as a top-up lifts the figure above the
      // threshold, which checkTopUp guarantees one top-up does.
      rules.push({ id, metric, ...type, remainingAtMost: f.topUp.remainingAtMost, hysteresis: 0, topUp: figure === 'credits' ? { credits: f.topUp.add } : { type: figure, seats: f.topUp.add } });
      purposes.set(id, { purpose: 'topUp', figure });
    }
  };
  if (s.credits !== undefined) add('credits', s.credits);
  for (const [type, f] of Object.entries(s.seats)) add(type, f);
  return { rules, purposes };
}

/** The addresses that receive `kind`. */
export function recipientsFor(s: LicenseSettings, kind: NotificationKind): string[] {
  return s.recipients.filter((r) => r.kinds.includes(kind)).map((r) => r.email);
}
