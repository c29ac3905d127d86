/**
 * License claims: the typed form, validation, and the mapping to the signed CBOR map.
 * CWT registered claims (RFC 8392) where they fit (iss 1, sub 2, exp 4, nbf 5, iat 6, cti 7),
 * licit's own under text keys. Every value is validated; a key carrying `crit` names a
 * verifier does not understand is refused, so a new rule can never be silently ignored.
 */
import { isPrintableText } from '../codec/text.js';
import { fromUtf8, utf8 } from '../codec/bytes.js';
import type { CborValue } from '../codec/cbor.js';
import type { ClaimMap } from '../crypto/envelope.js';
import { LicenseError } from '../errors.js';
import { parseTimeWords, type DayEdge } from '../time/time-words.js';

/** Claims schema version this licit writes and understands. */
export const SCHEMA_VERSION = 1;

/** Everything a license key says, in typed form. Dates are whole seconds. */
export interface LicenseClaims {
  /** Unique license id (CWT `cti`). */
  readonly licenseId: string;
  /** Customer name (CWT `sub`). */
  readonly customer?: string | undefined;
  /** Vendor / issuer name (CWT `iss`). */
  readonly issuer?: string | undefined;
  /** When the vendor issued the key (CWT `iat`). */
  readonly issuedAt: Date;
  /** Start of validity (CWT `nbf`). */
  readonly notBefore?: Date | undefined;
  /** License expiry; `undefined` means perpetual. */
  readonly expiresAt?: Date | undefined;
  /** End of maintenance: releases dated after it are refused; the license stays valid for earlier ones. */
  readonly maintenanceExpiresAt?: Date | undefined;
  /** Days after expiry during which the license still works, with a warning. */
  readonly graceDays: number;
  /** Days a server-issued lease stays verified ("valid for the next two weeks"). */
  readonly leaseDays: number;
  /** Edition name. */
  readonly edition?: string | undefined;
  /** Licensed features. */
  readonly features: readonly string[];
  /** Features available only while maintenance is active. */
  readonly maintenanceFeatures: readonly string[];
  /** Seats per user type, e.g. `{ basic: 10, advanced: 2 }`. */
  readonly seats: Readonly<Record<string, number>>;
  /** Most license users. */
  readonly maxUsers?: number | undefined;
  /** Most device activations per license. */
  readonly maxActivations?: number | undefined;
  /** Most device activations per license user. */
  readonly maxUserActivations?: number | undefined;
  /** Most activation transfers. */
  readonly maxTransfers?: number | undefined;
  /** Devices the license's holder may free themselves (a lost machine), per {@link LicenseClaims.selfResetDays}; none when absent. */
  readonly selfResets?: number | undefined;
  /** The period of {@link LicenseClaims.selfResets}, in days (30 unless the key says; only with `selfResets`). */
  readonly selfResetDays?: number | undefined;
  /** Click-charge credits sold with the license. */
  readonly credits?: number | undefined;
  /** Credits already consumed that the vendor carries over (a floor for the local ledger). */
  readonly carriedCredits: number;
  /** Node-lock: the fingerprint of the machine this license is bound to. */
  readonly fingerprint?: string | undefined;
  /**
   * Activations may identify the machine by a machine id the operator supplies (containers, fleets)
   * instead of its hardware. Default false: the license server refuses supplied ids.
   */
  readonly allowSuppliedMachineId: boolean;
  /** How license users prove who they are when activating (default `"none"`: a user id is enough). */
  readonly userAuth: UserAuthMode;
  /** Free vendor metadata (text values). */
  readonly meta: Readonly<Record<string, string>>;
}

/** How a license's users prove who they are to the license server. */
export type UserAuthMode = 'none' | 'password' | 'id-token' | 'password-or-id-token';
/** Every {@link UserAuthMode}. */
export const USER_AUTH_MODES: readonly UserAuthMode[] = ['none', 'password', 'id-token', 'password-or-id-token'];

/** What a vendor supplies to issue a license; defaults fill the rest. */
export interface LicenseInput {
  /** Unique id; default: random `LIC-…`. */
  licenseId?: string;
  /** Customer name. */
  customer?: string;
  /** Vendor name. */
  issuer?: string;
  /** Issue time; default now. Text as for `notBefore`. */
  issuedAt?: Date | string;
  /**
   * Start of validity: a Date, or text read by `parseTimeWords` (a date alone, `2027-01-01`, is
   * the start of that UTC day; a time needs its zone: `2027-01-01T09:00Z` or `…+01:00`).
   */
  notBefore?: Date | string;
  /**
   * License expiry; omit for a perpetual license. A Date is the exact instant; text is read by
   * `parseTimeWords`, and a date alone means through the end of that UTC day: `'2027-12-31'`
   * expires at `2028-01-01T00:00:00Z`. (`new Date('2027-12-31')` is the START of that day.)
   */
  expiresAt?: Date | string;
  /** End of maintenance: a Date, or text as for `expiresAt` (a date alone covers that whole UTC day). */
  maintenanceExpiresAt?: Date | string;
  /** Default 0. */
  graceDays?: number;
  /** Default 14. */
  leaseDays?: number;
  /** Edition name. */
  edition?: string;
  /** Licensed features. */
  features?: readonly string[];
  /** Features usable only while maintenance is active (must be among `features`). */
  maintenanceFeatures?: readonly string[];
  /** Seats per user type. */
  seats?: Readonly<Record<string, number>>;
  /** Most license users. */
  maxUsers?: number;
  /** Most device activations per license. */
  maxActivations?: number;
  /** Most device activations per license user. */
  maxUserActivations?: number;
  /** Most activation transfers. */
  maxTransfers?: number;
  /** Devices the holder may free themselves per period, without the vendor (default: none). */
  selfResets?: number;
  /** The period of `selfResets`, in days (default 30). */
  selfResetDays?: number;
  /** Click-charge credits sold. */
  credits?: number;
  /** Credits already consumed that carry over (re-issue after a hardware change). */
  carriedCredits?: number;
  /** Bind to one machine (a `licit fingerprint` string). */
  fingerprint?: string;
  /** Let activations use an operator-supplied machine id (containers, fleets). Default false. */
  allowSuppliedMachineId?: boolean;
  /** How users prove who they are when activating. Default `"none"`. */
  userAuth?: UserAuthMode;
  /** Free vendor metadata. */
  meta?: Readonly<Record<string, string>>;
}

const ISS = 1;
const SUB = 2;
const EXP = 4;
const NBF = 5;
const IAT = 6;
const CTI = 7;

/** Text claim keys licit understands (the CWT integer keys above are understood too). */
export const KNOWN_TEXT_CLAIMS = [
  'ver', 'crit', 'edition', 'features', 'mfeatures', 'seats', 'maxUsers', 'maxActivations',
  'maxUserActivations', 'maxTransfers', 'sresets', 'sresetDays', 'mexp', 'graceDays', 'leaseDays', 'credits', 'carried', 'fp', 'meta', 'smid', 'uauth',
] as const;
const KNOWN = new Set<string | number>([ISS, SUB, EXP, NBF, IAT, CTI, ...KNOWN_TEXT_CLAIMS]);

/** Latest date licit accepts (9999-12-31), so dates always print as four-digit ISO years. */
const MAX_SECONDS = 253402300799;
const MAX_COUNT = 0xffffffff;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._:+-]{0,63}$/;

function bad(claim: string, why: string): LicenseError {
  return new LicenseError('ERR_KEY_INVALID_CLAIM', `claim "${claim}" ${why}`, { claim });
}

function text(v: unknown, claim: string, max: number): string {
  if (!isPrintableText(v, max)) throw bad(claim, `must be text of 1 to ${max} printable characters`);
  return v;
}
function name(v: unknown, claim: string): string {
  if (typeof v !== 'string' || !NAME_RE.test(v)) throw bad(claim, 'must be a name of letters, digits and . _ : + - (at most 64)');
  return v;
}
function count(v: unknown, claim: string, max = MAX_COUNT): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw bad(claim, `must be a whole number from 0 to ${max}`);
  return v;
}
/** A self-reset period given without `selfResets`: it would say nothing, so it is refused. */
function alone(days: unknown): undefined {
  if (days !== undefined) throw bad('sresetDays', 'goes with selfResets (devices the holder may free per period); give both');
  return undefined;
}
/** A period in whole days, 1 to 3650. */
function period(v: unknown, claim: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 3650) throw bad(claim, 'must be a whole number of days from 1 to 3650');
  return v;
}
function seconds(v: unknown, claim: string): Date {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_SECONDS) throw bad(claim, 'must be a date between 1970 and 9999');
  return new Date(v * 1000);
}
function names(v: unknown, claim: string): string[] {
  if (!Array.isArray(v) || v.length > 512) throw bad(claim, 'must be a list of at most 512 names');
  const seen = new Set<string>();
  for (const x of v) {
    seen.add(name(x, claim));
  }
  if (seen.size !== v.length) throw bad(claim, 'lists a name twice');
  return v as string[];
}
function flag(v: unknown, claim: string): boolean {
  if (typeof v !== 'boolean') throw bad(claim, 'must be true or false');
  return v;
}
function authMode(v: unknown, claim: string): UserAuthMode {
  if (typeof v !== 'string' || !(USER_AUTH_MODES as readonly string[]).includes(v)) throw bad(claim, `must be one of ${USER_AUTH_MODES.join(', ')}`);
  return v as UserAuthMode;
}
function entries(v: unknown, claim: string): [unknown, unknown][] {
  const list = v instanceof Map ? [...v.entries()] : v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) ? Object.entries(v) : undefined;
  if (list === undefined || list.length > 256) throw bad(claim, 'must be a map of at most 256 entries');
  return list;
}

const toSeconds = (d: Date, claim: string): number => {
  const t = d instanceof Date ? d.getTime() : NaN;
  if (!Number.isFinite(t)) throw bad(claim, 'must be a valid date');
  return Math.floor(t / 1000);
};

/** Check relations between claims (dates in order, feature lists consistent). */
function checkRelations(c: LicenseClaims): LicenseClaims {
  if (c.notBefore !== undefined && c.expiresAt !== undefined && c.notBefore > c.expiresAt) throw bad('nbf', 'is after the expiry date');
  if (c.expiresAt !== undefined && c.expiresAt < c.issuedAt) throw bad('exp', 'is before the issue date');
  for (const f of c.maintenanceFeatures) if (!c.features.includes(f)) throw bad('mfeatures', `names "${f}", which is not among the features`);
  if (c.maxUserActivations !== undefined && c.maxActivations !== undefined && c.maxUserActivations > c.maxActivations) {
    throw bad('maxUserActivations', 'is larger than maxActivations');
  }
  if (c.credits !== undefined && c.carriedCredits > c.credits) throw bad('carried', 'is larger than the credits sold');
  if (c.leaseDays < 1) throw bad('leaseDays', 'must be at least 1');
  return c;
}

/** The `LicenseInput` field each date claim comes from, for messages about text dates. */
const CLAIM_NAMES: Record<string, string> = { iat: 'issuedAt', nbf: 'notBefore', exp: 'expiresAt', mexp: 'maintenanceExpiresAt' };

/**
 * License id prefixes that name licit's own records in a vendor's store, not licenses: companies
 * (`portal:`), a product's trial bookkeeping (`trial:`) and licit's indexes and probes (`licit:`).
 * A license issued under one would share its records, so issuing refuses them.
 */
export const RESERVED_ID_PREFIXES: readonly string[] = ['portal:', 'trial:', 'licit:'];

/** Validate vendor input and fill defaults (issue time now, 14-day leases, no grace). */
export function normalizeInput(input: LicenseInput, now: Date = new Date()): LicenseClaims {
  // Text is read by the one time-words reader; an expiry given as a date alone covers that whole day.
  const roundtrip = (d: Date | string | undefined, claim: string, edge: DayEdge = 'start') =>
    d === undefined ? undefined : seconds(toSeconds(typeof d === 'string' ? parseTimeWords(d, { name: CLAIM_NAMES[claim] ?? claim, dateAlone: edge }) : d, claim), claim);
  const opt = <T>(v: T | undefined, f: (v: T) => unknown) => (v === undefined ? undefined : f(v));
  const licenseId = input.licenseId ?? randomLicenseId();
  const reserved = RESERVED_ID_PREFIXES.find((p) => typeof licenseId === 'string' && licenseId.startsWith(p));
  if (reserved !== undefined) throw new LicenseError('ERR_USAGE', `license ids starting with "${reserved}" name licit's own records in the vendor's store; choose another license id`, { field: 'licenseId' });
  const claims: LicenseClaims = {
    licenseId: text(licenseId, 'cti', 128),
    customer: opt(input.customer, (v) => text(v, 'sub', 256)) as string | undefined,
    issuer: opt(input.issuer, (v) => text(v, 'iss', 256)) as string | undefined,
    issuedAt: roundtrip(input.issuedAt ?? now, 'iat') as Date,
    notBefore: roundtrip(input.notBefore, 'nbf'),
    expiresAt: roundtrip(input.expiresAt, 'exp', 'end'),
    maintenanceExpiresAt: roundtrip(input.maintenanceExpiresAt, 'mexp', 'end'),
    graceDays: count(input.graceDays ?? 0, 'graceDays', 3650),
    leaseDays: count(input.leaseDays ?? 14, 'leaseDays', 3650),
    edition: opt(input.edition, (v) => name(v, 'edition')) as string | undefined,
    features: names(input.features ?? [], 'features'),
    maintenanceFeatures: names(input.maintenanceFeatures ?? [], 'mfeatures'),
    seats: Object.fromEntries(entries(input.seats ?? {}, 'seats').map(([k, v]) => [name(k, 'seats'), count(v, 'seats')])),
    maxUsers: opt(input.maxUsers, (v) => count(v, 'maxUsers')) as number | undefined,
    maxActivations: opt(input.maxActivations, (v) => count(v, 'maxActivations')) as number | undefined,
    maxUserActivations: opt(input.maxUserActivations, (v) => count(v, 'maxUserActivations')) as number | undefined,
    maxTransfers: opt(input.maxTransfers, (v) => count(v, 'maxTransfers')) as number | undefined,
    selfResets: opt(input.selfResets, (v) => count(v, 'sresets')) as number | undefined,
    selfResetDays: input.selfResets === undefined ? alone(input.selfResetDays) : period(input.selfResetDays ?? 30, 'sresetDays'),
    credits: opt(input.credits, (v) => count(v, 'credits')) as number | undefined,
    carriedCredits: count(input.carriedCredits ?? 0, 'carried'),
    fingerprint: opt(input.fingerprint, (v) => text(v, 'fp', 2048)) as string | undefined,
    allowSuppliedMachineId: flag(input.allowSuppliedMachineId ?? false, 'smid'),
    userAuth: authMode(input.userAuth ?? 'none', 'uauth'),
    meta: Object.fromEntries(entries(input.meta ?? {}, 'meta').map(([k, v]) => [text(k, 'meta', 64), text(v, 'meta', 1024)])),
  };
  return checkRelations(claims);
}

function randomLicenseId(): string {
  const b = new Uint8Array(10);
  globalThis.crypto.getRandomValues(b);
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return `LIC-${s.toUpperCase()}`;
}

/** Claims to the signed CBOR map. */
export function claimsToMap(c: LicenseClaims): ClaimMap {
  const m: ClaimMap = new Map();
  const put = (k: string | number, v: CborValue | undefined) => {
    if (v !== undefined) m.set(k, v);
  };
  const secs = (d: Date | undefined) => (d === undefined ? undefined : Math.floor(d.getTime() / 1000));
  put('ver', SCHEMA_VERSION);
  put(CTI, utf8(c.licenseId));
  put(SUB, c.customer);
  put(ISS, c.issuer);
  put(IAT, secs(c.issuedAt));
  put(NBF, secs(c.notBefore));
  put(EXP, secs(c.expiresAt));
  put('mexp', secs(c.maintenanceExpiresAt));
  if (c.graceDays !== 0) put('graceDays', c.graceDays);
  if (c.leaseDays !== 14) put('leaseDays', c.leaseDays);
  put('edition', c.edition);
  if (c.features.length > 0) put('features', [...c.features]);
  if (c.maintenanceFeatures.length > 0) put('mfeatures', [...c.maintenanceFeatures]);
  if (Object.keys(c.seats).length > 0) put('seats', new Map(Object.entries(c.seats)));
  put('maxUsers', c.maxUsers);
  put('maxActivations', c.maxActivations);
  put('maxUserActivations', c.maxUserActivations);
  put('maxTransfers', c.maxTransfers);
  put('sresets', c.selfResets);
  if (c.selfResets !== undefined && c.selfResetDays !== 30) put('sresetDays', c.selfResetDays);
  put('credits', c.credits);
  if (c.carriedCredits !== 0) put('carried', c.carriedCredits);
  put('fp', c.fingerprint);
  if (c.allowSuppliedMachineId) put('smid', true);
  if (c.userAuth !== 'none') put('uauth', c.userAuth);
  if (Object.keys(c.meta).length > 0) put('meta', new Map(Object.entries(c.meta)));
  return m;
}

/** Signed CBOR map to validated claims. Throws `ERR_KEY_INVALID_CLAIM` / `ERR_KEY_UNSUPPORTED`. */
export function mapToClaims(m: ClaimMap): LicenseClaims {
  const ver = m.get('ver');
  if (ver !== SCHEMA_VERSION) {
    if (typeof ver === 'number' && Number.isInteger(ver) && ver > SCHEMA_VERSION) {
      throw new LicenseError('ERR_KEY_UNSUPPORTED', `this license uses claims schema ${ver}; this licit understands ${SCHEMA_VERSION}. Upgrade licit.`, { version: ver });
    }
    throw bad('ver', `must be ${SCHEMA_VERSION}`);
  }
  const crit = m.get('crit');
  if (crit !== undefined) {
    if (!Array.isArray(crit) || crit.length === 0 || crit.some((k) => typeof k !== 'string' && typeof k !== 'number')) throw bad('crit', 'must be a non-empty list of claim keys');
    const unknown = (crit as (string | number)[]).filter((k) => !KNOWN.has(k));
    if (unknown.length > 0) {
      throw new LicenseError('ERR_KEY_UNSUPPORTED', `this license requires claims this licit does not understand (${unknown.join(', ')}). Upgrade licit.`, { claims: unknown });
    }
  }
  const cti = m.get(CTI);
  let licenseId: string;
  try {
    licenseId = cti instanceof Uint8Array ? fromUtf8(cti) : '';
  } catch {
    licenseId = '';
  }
  const opt = <T>(k: string | number, f: (v: unknown) => T): T | undefined => (m.has(k) ? f(m.get(k)) : undefined);
  const iat = m.get(IAT);
  if (iat === undefined) throw bad('iat', 'is required');
  const claims: LicenseClaims = {
    licenseId: text(licenseId, 'cti', 128),
    customer: opt(SUB, (v) => text(v, 'sub', 256)),
    issuer: opt(ISS, (v) => text(v, 'iss', 256)),
    issuedAt: seconds(iat, 'iat'),
    notBefore: opt(NBF, (v) => seconds(v, 'nbf')),
    expiresAt: opt(EXP, (v) => seconds(v, 'exp')),
    maintenanceExpiresAt: opt('mexp', (v) => seconds(v, 'mexp')),
    graceDays: opt('graceDays', (v) => count(v, 'graceDays', 3650)) ?? 0,
    leaseDays: opt('leaseDays', (v) => count(v, 'leaseDays', 3650)) ?? 14,
    edition: opt('edition', (v) => name(v, 'edition')),
    features: opt('features', (v) => names(v, 'features')) ?? [],
    maintenanceFeatures: opt('mfeatures', (v) => names(v, 'mfeatures')) ?? [],
    seats: Object.fromEntries(entries(m.get('seats') ?? new Map(), 'seats').map(([k, v]) => [name(k, 'seats'), count(v, 'seats')])),
    maxUsers: opt('maxUsers', (v) => count(v, 'maxUsers')),
    maxActivations: opt('maxActivations', (v) => count(v, 'maxActivations')),
    maxUserActivations: opt('maxUserActivations', (v) => count(v, 'maxUserActivations')),
    maxTransfers: opt('maxTransfers', (v) => count(v, 'maxTransfers')),
    selfResets: opt('sresets', (v) => count(v, 'sresets')),
    selfResetDays: m.has('sresets') ? (opt('sresetDays', (v) => period(v, 'sresetDays')) ?? 30) : undefined,
    credits: opt('credits', (v) => count(v, 'credits')),
    carriedCredits: opt('carried', (v) => count(v, 'carried')) ?? 0,
    fingerprint: opt('fp', (v) => text(v, 'fp', 2048)),
    allowSuppliedMachineId: opt('smid', (v) => flag(v, 'smid')) ?? false,
    userAuth: opt('uauth', (v) => authMode(v, 'uauth')) ?? 'none',
    meta: Object.fromEntries(entries(m.get('meta') ?? new Map(), 'meta').map(([k, v]) => [text(k, 'meta', 64), text(v, 'meta', 1024)])),
  };
  return checkRelations(claims);
}
