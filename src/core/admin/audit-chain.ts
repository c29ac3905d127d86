/**
 * The audit log's hash chain. Every event a chained store writes (see {@link withAuditChain} in
 * `chained-store.ts`) carries, in `details["#chain"]`, the hash of the event before it (`prev`)
 * and its own hash (`hash`, SHA-256 over a canonical encoding of the whole event with `prev`).
 * The newest `{ seq, hash }` is kept as a store record (`audit` / `head`) written in the same
 * transaction, so a log cut short is detected as well as one edited.
 *
 * What this proves and what it does not: anyone who can rewrite the store can also recompute
 * every hash (there is no secret), so the chain catches edits, deletions, truncation and
 * reordering by anyone who does not recompute it, and by everyone once a head has been copied
 * somewhere they cannot reach (pass it back as `anchor`). `licit log` prints the head for that.
 */
import { sha256Hex } from '../crypto/digest.js';
import { LicenseError } from '../errors.js';
import type { AuditEvent, EventQuery, JsonObject, JsonValue, Store } from '../store/store.js';
import { canonicalJson } from './canonical.js';

/** The `details` member holding an event's chain links. Reserved: callers may not write it. */
export const CHAIN_FIELD = '#chain';

/** Internal: where a store from `withAuditChain` (chained-store.ts) keeps the store it wraps. */
export const RAW = Symbol.for('licit.auditChain.raw');
/** Record kind and key of the chain head in the store. */
export const HEAD_KIND = 'audit';
/** See {@link HEAD_KIND}. */
export const HEAD_KEY = 'head';

/** The newest link of a license's chain: the last event's number and hash (hex). `seq` 0 is the empty log. */
export interface AuditHead {
  /** Sequence number of the newest event (1-based; 0 when the log is empty). */
  readonly seq: number;
  /** That event's hash, 64 lowercase hex digits (empty string for the empty log). */
  readonly hash: string;
}

/** One event of a verified log: the event as written (without `#chain`) plus its links. */
export interface AuditLogEntry extends AuditEvent {
  /** Hash of the event before (the genesis hash for seq 1), hex. */
  readonly prev: string;
  /** This event's hash, hex. */
  readonly hash: string;
}

/** A log that verified. */
export interface VerifiedLog {
  /** The license whose log this is. */
  readonly licenseId: string;
  /** The head the log was checked against (`seq` 0 when the license has no events). */
  readonly head: AuditHead;
  /** Every event from seq 1 in order, without `#chain`, each with its `prev` and `hash`. */
  readonly events: AuditLogEntry[];
}

/** The result of {@link verifyAuditLog}. */
export type AuditVerification =
  | {
      /** The whole log chains correctly and matches its head (and anchor). */
      readonly ok: true;
      /** The newest event's `{ seq, hash }` (`seq` 0 for an empty log). */
      readonly head: AuditHead;
      /** The verified events in order, without `#chain`, each with `prev` and `hash`. */
      readonly entries: AuditLogEntry[];
    }
  | {
      /** The log fails verification. */
      readonly ok: false;
      /** Number of the first event that cannot be trusted. */
      readonly seq: number;
      /** Why, in words for people. */
      readonly reason: string;
    };

/** Options of {@link verifyAuditLog} and {@link readVerifiedLog}. */
export interface VerifyAuditOptions {
  /**
   * A head saved earlier somewhere the store's owner cannot write (printed by `licit log`, kept by
   * the vendor's server). The log must contain that exact event: this is what catches a rewrite
   * that recomputed every hash.
   */
  readonly anchor?: AuditHead;
}

const DOMAIN = 'licit-audit-v1\n';

/** The hash event 1 of `licenseId` links to (hex): binds a chain to its license. */
export function genesisHash(licenseId: string): string {
  return sha256Hex(`licit-audit-genesis-v1\u0000${licenseId}`);
}

/** ISO time normalised to milliseconds, so a database that re-renders the timestamp hashes the same. */
function normalAt(at: string): string {
  const t = Date.parse(at);
  return Number.isNaN(t) ? at : new Date(t).toISOString();
}

/**
 * The hash of one event whose `details[CHAIN_FIELD]` holds `{ prev }` (hex SHA-256 of a domain tag
 * and the canonical JSON of every field).
 */
export function eventHash(licenseId: string, seq: number, at: string, actor: string, kind: string, details: JsonObject): string {
  const body: JsonObject = { licenseId, seq, at: normalAt(at), actor, kind, details };
  return sha256Hex(DOMAIN + canonicalJson(body));
}

/**
 * Link one event to `prev`: the details to store (with `#chain: { prev, hash }`) and its hash.
 * Throws `ERR_USAGE` when the caller's details already use the reserved {@link CHAIN_FIELD}.
 */
export function linkEvent(
  licenseId: string,
  seq: number,
  event: { at: string; actor: string; kind: string; details: JsonObject },
  prev: string,
): {
  /** The caller's details plus `#chain: { prev, hash }`, ready to store. */
  details: JsonObject;
  /** This event's hash (hex), the `prev` of the next one. */
  hash: string;
} {
  if (Object.hasOwn(event.details, CHAIN_FIELD)) {
    throw new LicenseError('ERR_USAGE', `audit event details may not contain "${CHAIN_FIELD}": licit keeps the hash chain there`);
  }
  const linked: JsonObject = { ...event.details, [CHAIN_FIELD]: { prev } };
  const hash = eventHash(licenseId, seq, event.at, event.actor, event.kind, linked);
  return { details: { ...event.details, [CHAIN_FIELD]: { prev, hash } }, hash };
}

/** Read `{prev, hash}` from an event, or undefined when it has no well-formed chain field. */
export function linksOf(e: AuditEvent): { prev: string; hash: string; rest: JsonObject } | undefined {
  const d = e.details;
  if (d === null || typeof d !== 'object' || !Object.hasOwn(d, CHAIN_FIELD)) return undefined;
  const c = d[CHAIN_FIELD] as JsonValue;
  if (c === null || typeof c !== 'object' || Array.isArray(c)) return undefined;
  const { prev, hash } = c;
  if (typeof prev !== 'string' || typeof hash !== 'string') return undefined;
  const rest: JsonObject = { ...d };
  delete rest[CHAIN_FIELD];
  return { prev, hash, rest };
}

/** True for a well-formed head value. */
export function isAuditHead(v: unknown): v is AuditHead {
  if (v === null || typeof v !== 'object') return false;
  const h = v as Record<string, unknown>;
  return Number.isSafeInteger(h.seq) && (h.seq as number) >= 0 && typeof h.hash === 'string' && /^[0-9a-f]{64}$/.test(h.hash);
}

/**
 * Check a license's events against its chain head. Pure. `events` must be the whole log of one
 * license from seq 1 in order (as `Store.events` returns it). Events after `head.seq` are accepted
 * when they chain on correctly (a commit that landed after the head was read); events missing
 * before `head.seq` are truncation.
 *
 * On failure names the first event that cannot be trusted: `seq` and a reason for people.
 *
 * @example
 * ```ts
 * const v = verifyAuditLog(await store.events(id), head)
 * if (!v.ok) console.error(`audit log damaged at event ${v.seq}: ${v.reason}`)
 * ```
 */
export function verifyAuditLog(events: readonly AuditEvent[], head: AuditHead | undefined, options: VerifyAuditOptions = {}): AuditVerification {
  const licenseId = events[0]?.licenseId;
  if (events.length === 0) {
    if (head !== undefined && head.seq > 0) return { ok: false, seq: 1, reason: `the log is empty but its head says ${head.seq} events were written (the log was truncated)` };
    if (options.anchor !== undefined && options.anchor.seq > 0) return { ok: false, seq: 1, reason: `the log is empty but the anchor names event ${options.anchor.seq}` };
    return { ok: true, head: head ?? { seq: 0, hash: '' }, entries: [] };
  }
  if (head === undefined) return { ok: false, seq: 1, reason: 'the chain head record is missing (deleted, or the log was written by a store not wrapped with withAuditChain)' };
  let prev = genesisHash(licenseId as string);
  const entries: AuditLogEntry[] = [];
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as AuditEvent;
    const expected = i + 1;
    if (e.seq !== expected) {
      return { ok: false, seq: expected, reason: e.seq > expected ? `event ${expected} is missing (the next one present is ${e.seq})` : `event ${e.seq} appears out of order or twice` };
    }
    if (e.licenseId !== licenseId) return { ok: false, seq: e.seq, reason: `event belongs to license "${e.licenseId}"` };
    const links = linksOf(e);
    if (links === undefined) return { ok: false, seq: e.seq, reason: 'event carries no hash chain (inserted, or written by a store not wrapped with withAuditChain)' };
    const own = eventHash(e.licenseId, e.seq, e.at, e.actor, e.kind, { ...links.rest, [CHAIN_FIELD]: { prev: links.prev } });
    if (own !== links.hash) return { ok: false, seq: e.seq, reason: 'event was changed after it was written (its content no longer matches its hash)' };
    if (links.prev !== prev) {
      return { ok: false, seq: e.seq, reason: e.seq === 1 ? 'event does not start this license\'s chain (copied from another log, or rewritten)' : `event does not follow event ${e.seq - 1} (one of them was rewritten, or events were removed or reordered)` };
    }
    entries.push({ licenseId: e.licenseId, seq: e.seq, at: e.at, actor: e.actor, kind: e.kind, details: links.rest, prev, hash: links.hash });
    prev = links.hash;
  }
  const last = events.length;
  if (head.seq > last) return { ok: false, seq: last + 1, reason: `events ${last + 1}..${head.seq} are missing (the log was truncated)` };
  if (head.seq === 0) return { ok: false, seq: 1, reason: 'the chain head says the log is empty but it holds events' };
  if ((entries[head.seq - 1] as AuditLogEntry).hash !== head.hash) return { ok: false, seq: head.seq, reason: 'the chain head does not match this event (the log was rewritten or the head edited)' };
  const anchor = options.anchor;
  if (anchor !== undefined && anchor.seq > 0) {
    if (anchor.seq > last) return { ok: false, seq: last + 1, reason: `the anchor names event ${anchor.seq} but the log ends at ${last} (truncated)` };
    if ((entries[anchor.seq - 1] as AuditLogEntry).hash !== anchor.hash) return { ok: false, seq: anchor.seq, reason: 'event differs from the saved anchor (the log was rewritten and its hashes recomputed)' };
  }
  const top = entries[last - 1] as AuditLogEntry;
  return { ok: true, head: { seq: top.seq, hash: top.hash }, entries };
}

/**
 * The events of a license with their chain links (`details["#chain"]`): through the wrapped store
 * when `store` came from `withAuditChain`, whose own `events()` hides them.
 */
export function rawEvents(store: Store, licenseId: string, query?: EventQuery): Promise<AuditEvent[]> {
  const inner = (store as { [RAW]?: Store })[RAW];
  return (inner ?? store).events(licenseId, query);
}

/**
 * Read and verify the audit log of one license. The head is read before the events, so a commit
 * racing the read only adds events (accepted when they chain on), never looks like truncation.
 *
 * @returns the events without their `#chain` member, each with `prev` and `hash`
 * @throws `ERR_AUDIT_TAMPERED` with `details.seq` (first bad event) and `details.reason`;
 *   `ERR_STORE_CORRUPT` / `ERR_STORE_UNAVAILABLE` from the store
 *
 * @example
 * ```ts
 * const log = await readVerifiedLog(store, 'lic-1')
 * for (const e of log.events) console.log(e.seq, e.at, e.kind)
 * ```
 */
export async function readVerifiedLog(store: Store, licenseId: string, options: VerifyAuditOptions = {}): Promise<VerifiedLog> {
  const raw = await store.read(licenseId, (r) => r.get(HEAD_KIND, HEAD_KEY));
  if (raw !== undefined && !isAuditHead(raw)) throw tampered(licenseId, 1, 'the chain head record is malformed');
  const events = await rawEvents(store, licenseId);
  const v = verifyAuditLog(events, raw, options);
  if (!v.ok) throw tampered(licenseId, v.seq, v.reason);
  return { licenseId, head: v.head, events: v.entries };
}

/** `ERR_AUDIT_TAMPERED` for the first event of `licenseId` that cannot be trusted. */
export function tampered(licenseId: string, seq: number, reason: string): LicenseError {
  return new LicenseError(
    'ERR_AUDIT_TAMPERED',
    `the audit log of license "${licenseId}" fails verification at event ${seq}: ${reason}. Do not trust entries from event ${seq} on; restore the store from a backup and compare`,
    { licenseId, seq, reason },
  );
}
