/**
 * The FileStore layout of licit before the log (`licit-store/1`): per license `<name>.state.json`
 * (every record, the newest event number, the committed length of the event log),
 * `<name>.events.jsonl` (one event a line) and `<name>.lock`, flat in the store directory.
 *
 * Read here so that a store written by an older licit migrates on its first transaction (see
 * `FileStore`), and can be read without writing before that. After migration the state file is
 * replaced by a tombstone that older versions refuse (`ERR_STORE_CORRUPT`), so an old process
 * still running cannot write to files nobody reads any more.
 */
import { sha256Hex } from '../crypto/digest.js';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LicenseError } from '../../core/errors.js';
import type { AuditEvent, JsonObject } from '../../core/store/store.js';

/** Format of a state file written by the old FileStore. */
export const LEGACY_FORMAT = 'licit-store/1';
/** Format of the tombstone left in place of a migrated state file. */
export const TOMBSTONE_FORMAT = 'licit-store/migrated';
/** File in a license's log directory recording what it was migrated from. */
export const MIGRATED_FROM = 'migrated-from';

/** The old files of one license. */
export interface LegacyPaths {
  readonly state: string;
  readonly events: string;
  readonly lock: string;
}

export const legacyPaths = (dir: string, stem: string): LegacyPaths => ({
  state: join(dir, `${stem}.state.json`),
  events: join(dir, `${stem}.events.jsonl`),
  lock: join(dir, `${stem}.lock`),
});

/** A license as the old files hold it. */
export interface LegacyLicense {
  readonly records: Array<[string, string, JsonObject]>;
  readonly lastSeq: number;
  readonly events: AuditEvent[];
  /** SHA-256 of the state file, recorded by the migration. */
  readonly stateSha256: string;
}

function corrupt(path: string, why: string): LicenseError {
  return new LicenseError('ERR_STORE_CORRUPT', `the seat store file ${path} cannot be read: ${why}. Restore the directory from a backup`, { path });
}

const sha256 = (b: Uint8Array) => sha256Hex(b);

function readOrUndefined(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** True when any old file of the license exists. */
export function hasLegacy(p: LegacyPaths): boolean {
  return statSync(p.state, { throwIfNoEntry: false }) !== undefined || statSync(p.events, { throwIfNoEntry: false }) !== undefined;
}

/**
 * Read a license in the old layout: `undefined` when it has no old files, `"migrated"` when its
 * state file is a tombstone. An event log without its state file is `ERR_STORE_CORRUPT`, never a
 * new license.
 */
export function readLegacy(p: LegacyPaths, licenseId: string): LegacyLicense | 'migrated' | undefined {
  const raw = readOrUndefined(p.state);
  if (raw === undefined) {
    const size = statSync(p.events, { throwIfNoEntry: false })?.size ?? 0;
    if (size > 0) throw corrupt(p.state, `it is missing beside an event log of ${size} bytes, so the seats, users and activations it held are gone; restore it from a backup (licit does not start the license afresh)`);
    return undefined;
  }
  let st: { format?: unknown; licenseId?: unknown; lastSeq?: unknown; eventBytes?: unknown; records?: unknown };
  try {
    st = JSON.parse(raw.toString('utf8')) as typeof st;
  } catch {
    throw corrupt(p.state, 'it is not JSON');
  }
  if (st !== null && typeof st === 'object' && st.format === TOMBSTONE_FORMAT) return 'migrated';
  if (st === null || typeof st !== 'object' || st.format !== LEGACY_FORMAT) throw corrupt(p.state, `it is not a ${LEGACY_FORMAT} state file`);
  if (st.licenseId !== licenseId) throw corrupt(p.state, `it belongs to license "${String(st.licenseId)}"`);
  const lastSeq = st.lastSeq as number;
  const eventBytes = st.eventBytes as number;
  if (!Number.isSafeInteger(lastSeq) || lastSeq < 0 || !Number.isSafeInteger(eventBytes) || eventBytes < 0 || typeof st.records !== 'object' || st.records === null || Array.isArray(st.records)) {
    throw corrupt(p.state, 'its header fields are malformed');
  }
  const records: Array<[string, string, JsonObject]> = [];
  for (const [kind, byKind] of Object.entries(st.records as Record<string, unknown>)) {
    if (typeof byKind !== 'object' || byKind === null || Array.isArray(byKind)) throw corrupt(p.state, `its records of kind "${kind}" are not a table`);
    for (const [key, value] of Object.entries(byKind as Record<string, unknown>)) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw corrupt(p.state, `its record ${kind}/${key} is not an object`);
      records.push([kind, key, value as JsonObject]);
    }
  }
  const events: AuditEvent[] = [];
  if (eventBytes > 0) {
    const buf = readOrUndefined(p.events);
    if (buf === undefined) throw corrupt(p.events, 'the event log is missing');
    if (buf.length < eventBytes) throw corrupt(p.events, `the event log is ${buf.length} bytes but ${eventBytes} were committed`);
    // Bytes past the committed length belong to a writer that died before its state was renamed.
    for (const line of buf.subarray(0, eventBytes).toString('utf8').split('\n')) {
      if (line === '') continue;
      let e: AuditEvent;
      try {
        e = JSON.parse(line) as AuditEvent;
      } catch {
        throw corrupt(p.events, 'an event line is not JSON');
      }
      if (e === null || typeof e !== 'object' || e.seq !== events.length + 1 || typeof e.at !== 'string' || typeof e.actor !== 'string' || typeof e.kind !== 'string' || typeof e.details !== 'object' || e.details === null) {
        throw corrupt(p.events, `event ${events.length + 1} is malformed or out of order`);
      }
      events.push({ licenseId, seq: e.seq, at: e.at, actor: e.actor, kind: e.kind, details: e.details });
    }
  }
  if (events.length !== lastSeq) throw corrupt(p.events, `it holds ${events.length} committed events but the state counts ${lastSeq}`);
  return { records, lastSeq, events, stateSha256: sha256(raw) };
}

/** SHA-256 of the old state file now, or undefined when it is gone. */
export function legacyStateSha256(p: LegacyPaths): string | undefined {
  const raw = readOrUndefined(p.state);
  return raw === undefined ? undefined : sha256(raw);
}

/** The tombstone written over a migrated state file. */
export function tombstone(stem: string): Uint8Array {
  return Buffer.from(
    `${JSON.stringify({ format: TOMBSTONE_FORMAT, movedTo: `${stem}/`, note: 'migrated to the log layout by a newer licit; this file stops older versions from using the old files' })}\n`,
  );
}
