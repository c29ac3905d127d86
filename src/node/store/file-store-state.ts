/**
 * What a FileStore log holds, and how a record changes it: the state machine `FileStore` runs on
 * the durable log (`node/log/`).
 *
 * - A record (one committed transaction) is JSON `{"w":[[kind,key,value|null],…],"e":[[seq,at,actor,kind,details],…]}`:
 *   its puts (`null`: delete) and its audit events.
 * - A snapshot is JSON `{"lastSeq":n,"records":[[kind,key,value],…]}`.
 *
 * Arrays, not objects keyed by caller text, so that ids such as `"__proto__"` stay plain data.
 */
import { LicenseError } from '../../core/errors.js';
import { sortEntries, type AuditEvent, type BufferedTx, type JsonObject, type StoreEntry, type TxSource } from '../../core/store/store.js';
import type { StateMachine } from '../log/durable-log.js';

/** The records and newest event number of one license. */
export interface StoreState {
  readonly records: Map<string, Map<string, JsonObject>>;
  lastSeq: number;
}

/** One committed transaction. */
export interface StoreRecord {
  readonly w: ReadonlyArray<readonly [string, string, JsonObject | null]>;
  readonly e: ReadonlyArray<readonly [number, string, string, string, JsonObject]>;
}

const text = new TextDecoder('utf-8', { fatal: true });

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function parse(bytes: Uint8Array, what: string, licenseId: string): unknown {
  try {
    return JSON.parse(text.decode(bytes));
  } catch {
    throw bad(licenseId, `a ${what} is not JSON`);
  }
}

function bad(licenseId: string, why: string): LicenseError {
  return new LicenseError('ERR_STORE_CORRUPT', `the seat store of license "${licenseId}" cannot be read: ${why}; restore its directory from a backup`, { licenseId });
}

/** The record of a finished transaction. */
export function recordOf(tx: BufferedTx): StoreRecord {
  return {
    w: tx.writes.map((w) => [w.kind, w.key, w.value ?? null] as const),
    e: tx.events.map((e) => [e.seq, e.at, e.actor, e.kind, e.details] as const),
  };
}

/** The state machine of one license's log. */
export function storeMachine(licenseId: string): StateMachine<StoreState, StoreRecord> {
  return {
    empty: () => ({ records: new Map(), lastSeq: 0 }),
    restore(bytes) {
      const s = parse(bytes, 'snapshot', licenseId) as { lastSeq?: unknown; records?: unknown };
      if (!isObject(s) || !Number.isSafeInteger(s.lastSeq) || (s.lastSeq as number) < 0 || !Array.isArray(s.records)) throw bad(licenseId, 'the snapshot is malformed');
      const state: StoreState = { records: new Map(), lastSeq: s.lastSeq as number };
      for (const r of s.records as unknown[]) {
        if (!Array.isArray(r) || r.length !== 3 || typeof r[0] !== 'string' || typeof r[1] !== 'string' || !isObject(r[2])) throw bad(licenseId, 'a snapshot record is malformed');
        put(state, r[0], r[1], r[2]);
      }
      return state;
    },
    decode(bytes) {
      const r = parse(bytes, 'log record', licenseId) as { w?: unknown; e?: unknown };
      if (!isObject(r) || !Array.isArray(r.w) || !Array.isArray(r.e)) throw bad(licenseId, 'a log record is malformed');
      for (const w of r.w as unknown[]) {
        if (!Array.isArray(w) || w.length !== 3 || typeof w[0] !== 'string' || typeof w[1] !== 'string' || !(w[2] === null || isObject(w[2]))) throw bad(licenseId, 'a write in a log record is malformed');
      }
      for (const e of r.e as unknown[]) {
        if (!Array.isArray(e) || e.length !== 5 || !Number.isSafeInteger(e[0]) || typeof e[1] !== 'string' || typeof e[2] !== 'string' || typeof e[3] !== 'string' || !isObject(e[4])) {
          throw bad(licenseId, 'an event in a log record is malformed');
        }
      }
      return r as unknown as StoreRecord;
    },
    apply(state, record) {
      // Check the numbering before changing anything, so a bad record leaves the state whole.
      record.e.forEach(([seq], i) => {
        if (seq !== state.lastSeq + i + 1) throw bad(licenseId, `event ${seq} follows event ${state.lastSeq + i}`);
      });
      for (const [kind, key, value] of record.w) {
        if (value === null) {
          const byKind = state.records.get(kind);
          byKind?.delete(key);
          if (byKind?.size === 0) state.records.delete(kind);
        } else put(state, kind, key, value);
      }
      state.lastSeq += record.e.length;
    },
    snapshot(state) {
      const records: Array<[string, string, JsonObject]> = [];
      for (const [kind, byKind] of state.records) for (const [key, value] of byKind) records.push([kind, key, value]);
      return Buffer.from(JSON.stringify({ lastSeq: state.lastSeq, records }));
    },
  };
}

function put(state: StoreState, kind: string, key: string, value: JsonObject): void {
  let byKind = state.records.get(kind);
  if (byKind === undefined) state.records.set(kind, (byKind = new Map()));
  byKind.set(key, value);
}

/** Encode a record for the log. */
export const encodeRecord = (r: StoreRecord): Uint8Array => Buffer.from(JSON.stringify(r));

/** The audit events of a record, as `Store.events` returns them. */
export function eventsOf(licenseId: string, r: StoreRecord): AuditEvent[] {
  return r.e.map(([seq, at, actor, kind, details]) => ({ licenseId, seq, at, actor, kind, details }));
}

/** Committed state as a {@link TxSource}: copies out, sorted lists. */
export function sourceOf(state: StoreState): TxSource {
  return {
    get: async (kind, key) => {
      const v = state.records.get(kind)?.get(key);
      return v === undefined ? undefined : structuredClone(v);
    },
    list: async (kind, prefix) => {
      const out: StoreEntry[] = [];
      for (const [key, value] of state.records.get(kind) ?? []) if (key.startsWith(prefix)) out.push({ key, value: structuredClone(value) });
      return sortEntries(out);
    },
  };
}
