/**
 * How license users and device activations are kept in the store: their public shapes, the stored
 * records and their parsers (a malformed record is `ERR_STORE_CORRUPT`, never guessed at), and the
 * refusals that name a missing user or activation.
 */
import { LicenseError } from '../errors.js';
import type { ResultCodec } from './once.js';
import type { JsonObject } from '../store/store.js';

/** A license user. */
export interface LicenseUser {
  /** The user's id, as given to `Activations.addUser`. */
  readonly userId: string;
  /** When the user was added. */
  readonly createdAt: Date;
  /** Devices this user may activate (its own limit, else the license's `maxUserActivations`); undefined = no per-user limit. */
  readonly maxActivations: number | undefined;
  /** Devices active now. */
  readonly activations: number;
}

/** One device activated by one user. */
export interface Activation {
  /** The license user who activated the device. */
  readonly userId: string;
  /** The device's id (e.g. a fingerprint string or a host name), as the caller gave it. */
  readonly deviceId: string;
  /** When the device was first activated for this user (a transfer starts it again). */
  readonly activatedAt: Date;
  /** Last time the device checked in (`Activations.validate`); equals `activatedAt` until then. */
  readonly validatedAt: Date;
  /** What the caller recorded about the device (host name, OS, …). */
  readonly info: JsonObject;
  /** The name an administrator gave the device (`Activations.rename`); undefined until then. */
  readonly label?: string | undefined;
}

/** Counts against the license's limits; a `licensed` of undefined means unlimited. */
export interface ActivationUsage {
  /** License users. */
  readonly users: {
    /** The license's `maxUsers`; undefined = unlimited. */
    readonly licensed: number | undefined;
    /** License users that exist now. */
    readonly inUse: number;
  };
  /** Device activations, all users together. */
  readonly activations: {
    /** The license's `maxActivations`; undefined = unlimited. */
    readonly licensed: number | undefined;
    /** Devices active now. */
    readonly inUse: number;
  };
  /** Transfers (device moves and counted device resets) over the license's life. */
  readonly transfers: {
    /** The license's `maxTransfers`; undefined = unlimited. */
    readonly licensed: number | undefined;
    /** Transfers made so far (never decreases). */
    readonly used: number;
  };
}

/** Store kinds: license users, and activations keyed by `actKey`. */
export const USER = 'user';
export const ACT = 'activation';
const MAX_INFO_BYTES = 4096;
/** One user's activations sort together: list them by the prefix `${userId}\n`. */
export const actKey = (userId: string, deviceId: string) => `${userId}\n${deviceId}`;

/** A license user as stored. */
export interface UserRecord {
  createdAt: string;
  /** Explicit per-user limit, or null to follow the license. */
  maxActivations: number | null;
  activations: number;
}

export function parseUser(userId: string, v: JsonObject): UserRecord {
  const { createdAt, maxActivations, activations } = v;
  if (typeof createdAt !== 'string' || typeof activations !== 'number' || !(maxActivations === null || typeof maxActivations === 'number')) {
    throw new LicenseError('ERR_STORE_CORRUPT', `the license user record of "${userId}" is malformed; restore the store from a backup`, { userId });
  }
  return { createdAt, maxActivations, activations };
}

export function parseActivation(v: JsonObject): Activation {
  const { user, device, activatedAt, validatedAt, info, label } = v;
  if (typeof user !== 'string' || typeof device !== 'string' || typeof activatedAt !== 'string' || typeof validatedAt !== 'string' || typeof info !== 'object' || info === null || Array.isArray(info) || !(label === undefined || typeof label === 'string')) {
    throw new LicenseError('ERR_STORE_CORRUPT', 'an activation record is malformed; reset the device or restore the store from a backup');
  }
  const a: Activation = { userId: user, deviceId: device, activatedAt: new Date(activatedAt), validatedAt: new Date(validatedAt), info };
  return label === undefined ? a : { ...a, label };
}

/** Activations as idempotency results. */
export const ACTIVATION: ResultCodec<Activation> = { encode: (a) => activationRecord(a), decode: (j) => parseActivation(j as JsonObject) };
/** Operations without a result. */
export const NOTHING: ResultCodec<void> = { encode: () => null, decode: () => undefined };
/** Lists of ids (users of a reset device). */
export const USERS: ResultCodec<string[]> = { encode: (ids) => [...ids], decode: (j) => (Array.isArray(j) ? j.filter((x): x is string => typeof x === 'string') : []) };

export function activationRecord(a: Activation): JsonObject {
  const rec: JsonObject = { user: a.userId, device: a.deviceId, activatedAt: a.activatedAt.toISOString(), validatedAt: a.validatedAt.toISOString(), info: a.info };
  // Records written before labels existed, and unlabelled devices, keep the same bytes.
  if (a.label !== undefined) rec.label = a.label;
  return rec;
}

/** An activation as JSON (admin API, `licit devices list --json`): the same shape from a store and from a server. */
export function activationJson(a: Activation): JsonObject {
  const j: JsonObject = { userId: a.userId, deviceId: a.deviceId, activatedAt: a.activatedAt.toISOString(), validatedAt: a.validatedAt.toISOString(), info: a.info };
  if (a.label !== undefined) j.label = a.label;
  return j;
}

/** A license user as JSON (admin API, `licit users list --json`); `maxActivations` null = no per-user limit. */
export function userJson(u: LicenseUser): JsonObject {
  return { userId: u.userId, createdAt: u.createdAt.toISOString(), maxActivations: u.maxActivations ?? null, activations: u.activations };
}

/** Longest device label, in characters. */
const MAX_LABEL = 100;

/** A device label: printable text of 1 to 100 characters, surrounding space trimmed; '' clears it. */
export function checkLabel(label: string): string {
  if (typeof label !== 'string') throw new LicenseError('ERR_USAGE', 'a device label must be text');
  const t = label.normalize('NFC').trim();
  // Labels are shown in tables and log lines: no control characters that could forge a row.
  if (/[\u0000-\u001f\u007f]/.test(t)) throw new LicenseError('ERR_USAGE', 'a device label must not contain control characters (tabs, line breaks)');
  if ([...t].length > MAX_LABEL) throw new LicenseError('ERR_USAGE', `a device label is at most ${MAX_LABEL} characters, got ${[...t].length}`);
  return t;
}

/** Device info as given: a JSON object of bounded size, with no NUL (no store could hold it). */
export function checkInfo(info: JsonObject | undefined): JsonObject {
  if (info === undefined) return {};
  let text: string | undefined;
  try {
    text = JSON.stringify(info);
  } catch {
    text = undefined;
  }
  if (typeof info !== 'object' || info === null || Array.isArray(info) || text === undefined) throw new LicenseError('ERR_USAGE', 'device info must be a JSON object');
  // PostgreSQL text and jsonb cannot hold NUL; refuse it in every store alike.
  if (text.includes('\\u0000')) throw new LicenseError('ERR_USAGE', 'device info must not contain NUL characters');
  if (text.length > MAX_INFO_BYTES) throw new LicenseError('ERR_USAGE', `device info is ${text.length} characters of JSON; keep it under ${MAX_INFO_BYTES}`);
  return JSON.parse(text) as JsonObject;
}

export function userNotFound(userId: string): LicenseError {
  return new LicenseError('ERR_USER_NOT_FOUND', `"${userId}" is not a user of this license; check the id against its users (licit users list), or add the user first`, { userId });
}

export function activationNotFound(userId: string, deviceId: string): LicenseError {
  return new LicenseError('ERR_ACTIVATION_NOT_FOUND', `"${userId}" has not activated device "${deviceId}"`, { userId, deviceId });
}
