/**
 * Reading and checking one copy of a credit ledger (an append-only log directory, see
 * `../log/append-log.ts`): open it from its snapshot, read it from its first record, verify its
 * snapshot against its records. Pure decisions about two copies live in core/ledger/reconcile.ts;
 * repairs, which change the ledger's state, in reconciliation.ts.
 */
import { readdirSync } from 'node:fs';
import { bytesEqual } from '../../core/codec/bytes.js';
import { isLicenseError, LicenseError } from '../../core/errors.js';
import { chainBodies, emptyHead, nextHead, type ChainHead, type ChainTampered } from '../../core/ledger/chain.js';
import { IdempotencyIndex } from '../../core/ledger/keys.js';
import { tampered, type CopyName, type LogCopyOk, type LogCopyRead } from '../../core/ledger/reconcile.js';
import type { LedgerKey } from '../../core/ledger/seal.js';
import { decodeSnapshot, snapshotDiff, type LedgerSnapshot } from '../../core/ledger/snapshot.js';
import { AppendLog, LogMoved, type OpenOptions, type Opened } from '../log/append-log.js';
import { segmentGen } from '../log/segment.js';
import { SNAPSHOT, readSnapshot } from '../log/snapshot.js';

/** File mode of the copies' files (their directories get 0o700). */
export const MODE = 0o600;
/** The two copies, in the order they are always handled. */
export const COPIES = ['primary', 'mirror'] as const satisfies readonly CopyName[];
/**
 * Largest segment read: segments roll over at about the compaction threshold (1 MiB), so a segment
 * past 1 GiB was padded or swapped in; it is refused before it is read (a sparse 2 GB file
 * allocates nothing).
 */
const MAX_SEGMENT_BYTES = 1024 * 1024 * 1024;
/** A copy shorter than its head file says is repaired from the other copy, not refused outright. */
export const OPEN_OPTIONS: OpenOptions = { maxSegmentBytes: MAX_SEGMENT_BYTES, cutShort: 'report' };

/** What reading a copy needs. */
export interface CopyContext {
  readonly key: LedgerKey;
  readonly licenseId: string;
  /** The log id in every segment header and snapshot (`credits:<licenseId>`). */
  readonly logId: string;
  readonly genesis: Uint8Array;
  readonly paths: Readonly<Record<CopyName, string>>;
}

/** What opening one copy found. */
export interface CopyOpened {
  readonly read: LogCopyRead;
  /** Its directory existed (a copy that holds nothing is then "emptied", not "missing"). */
  readonly existed: boolean;
  /** The engine found (and cut) a torn tail. */
  readonly torn: boolean;
  /** The record count its head file promised, when the copy ends before it. */
  readonly cutShort?: number;
  /** Its snapshot, when the read starts there. */
  readonly snap?: LedgerSnapshot;
  /** The open log (locked: writable), unless the copy is missing or damaged. */
  readonly log?: AppendLog;
  /** It has no snapshot to trust (none, damaged, or not opening under the key): roll soon. */
  readonly compactDue?: boolean;
}

/**
 * Open one copy (under the lock): its snapshot and the records after it, checked. A missing
 * directory, or one holding no log at all, is `missing`; damage the log engine finds
 * (`ERR_STORE_CORRUPT`) counts as tampering, as does a record that does not authenticate or chain.
 * A snapshot that does not open under the ledger key, or stands for another record than its place
 * in the log, is never trusted: the copy is read from its first record instead.
 */
export async function openCopy(ctx: CopyContext, name: CopyName): Promise<CopyOpened> {
  const path = ctx.paths[name];
  if (emptyDir(path)) return { read: { status: 'missing' }, existed: true, torn: false };
  let opened: Opened;
  try {
    opened = await AppendLog.open(path, ctx.logId, MODE, true, OPEN_OPTIONS);
  } catch (e) {
    if (e instanceof LogMoved) return { read: { status: 'missing' }, existed: false, torn: false };
    if (isLicenseError(e, 'ERR_STORE_CORRUPT')) return { read: { status: 'tampered', offset: -1, reason: e.message }, existed: true, torn: false };
    throw ioError(path, 'open', e);
  }
  const base = { existed: true, torn: opened.torn, log: opened.log, ...(opened.cutShort === undefined ? {} : { cutShort: opened.cutShort }) };
  try {
    if (opened.snapshot !== undefined) {
      const snap = await decodeSnapshot(ctx.key, ctx.licenseId, opened.snapshot);
      if (snap !== undefined && snap.head.seq + 1 === opened.log.seq - opened.records.length) {
        const r = await chainBodies(ctx.key, opened.records, snap.head);
        return { ...base, read: r.status === 'ok' ? { ...r, start: snap.head } : r, snap };
      }
    }
    const all = opened.snapshot === undefined ? opened.records : undefined;
    return { ...base, read: await readFromFirst(ctx, name, all), compactDue: opened.snapshot !== undefined || opened.rebuilt };
  } catch (e) {
    opened.log.close();
    throw e;
  }
}

/** Every record of a copy from the first, checked (`records`: already read by an open from the start). */
export async function readFromFirst(ctx: CopyContext, name: CopyName, records?: Uint8Array[]): Promise<LogCopyOk | ChainTampered> {
  let bodies = records;
  if (bodies === undefined) {
    try {
      bodies = AppendLog.readAll(ctx.paths[name], ctx.logId, OPEN_OPTIONS);
    } catch (e) {
      if (isLicenseError(e, 'ERR_STORE_CORRUPT')) return { status: 'tampered', offset: -1, reason: e.message };
      throw ioError(ctx.paths[name], 'read', e);
    }
  }
  const start = emptyHead(ctx.genesis);
  const r = await chainBodies(ctx.key, bodies, start);
  return r.status === 'ok' ? { ...r, start } : r;
}

/**
 * `verify()` for one copy: every record from the first must chain to `head`, and its snapshot must
 * hold exactly the state its records give at its place. Throws `ERR_LEDGER_TAMPERED`.
 */
export async function verifyCopy(ctx: CopyContext, name: CopyName, head: ChainHead): Promise<void> {
  const read = await readFromFirst(ctx, name);
  if (read.status !== 'ok') throw tampered(name, read.reason);
  if (read.head.seq !== head.seq || !bytesEqual(read.head.hash, head.hash)) throw tampered(name, 'it changed while being verified');
  const snap = readSnapshot(ctx.paths[name], ctx.logId);
  if (snap === 'missing') return;
  if (!('seq' in snap)) throw tampered(name, `its snapshot is damaged (${snap.damaged})`);
  const state = await decodeSnapshot(ctx.key, ctx.licenseId, snap.state);
  if (state === undefined) throw tampered(name, 'its snapshot does not open under the ledger key');
  const upTo = read.entries.slice(0, snap.seq);
  const keys = new IdempotencyIndex();
  keys.add(upTo.map((e) => e.record), 0);
  let latest: number | undefined;
  let at: ChainHead = read.start;
  for (const e of upTo) {
    if (latest === undefined || e.record.time > latest) latest = e.record.time;
    at = nextHead(at, e.record, e.hash, new Set(at.tokens)) as ChainHead; // checked by readFromFirst
  }
  const diff = snapshotDiff(state, { head: at, keys: keys.entries(), latest });
  if (diff !== undefined) throw tampered(name, `its snapshot does not match its records: ${diff}`);
}

/** A directory holding no segment and no snapshot: a copy someone emptied (holds no records). */
export function emptyDir(path: string): boolean {
  let names: string[];
  try {
    names = readdirSync(path);
  } catch {
    return false;
  }
  return !names.some((n) => segmentGen(n) !== undefined || n === SNAPSHOT);
}

/** A failed file operation on a copy, as `ERR_IO` naming the path (a LicenseError passes through). */
export function ioError(path: string, what: string, e: unknown): LicenseError {
  if (e instanceof LicenseError) return e;
  return new LicenseError('ERR_IO', `cannot ${what} ${path}: ${(e as Error)?.message ?? String(e)}. Check that the directory exists, is writable and the disk is not full`, { path }, { cause: e });
}
