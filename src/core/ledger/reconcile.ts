/**
 * Reconciling the two copies of a ledger (primary and mirror). Pure: decides, the runtime acts.
 *
 * Rules: a copy that does not verify, or two copies that fork, is `ERR_LEDGER_TAMPERED`; a missing
 * copy is rebuilt from the other; when one valid chain extends the other the longer wins and the
 * shorter is extended; a torn tail is zeroed. Both missing is reported as `none` and the caller
 * decides between a fresh ledger and `ERR_LEDGER_MISSING` (see {@link CreditLedger} in the runtime).
 */
import { bytesEqual } from '../codec/bytes.js';
import { LicenseError } from '../errors.js';
import type { ChainEntry, ChainHead, ChainOk, ChainRead, ChainTampered, LogEntry } from './chain.js';

/** Which copy. */
export type CopyName = 'primary' | 'mirror';

/** A copy as found on disk. */
export type CopyRead = ChainRead | { readonly status: 'missing' };

/** One write that brings a copy up to the winner. */
export interface Repair {
  /** The copy to write. */
  readonly copy: CopyName;
  /** The file does not exist and must be created. */
  readonly create: boolean;
  /** Copy the winner's bytes `[from, to)` to the same offsets of this copy. */
  readonly from: number;
  /** End of that range, exclusive. */
  readonly to: number;
  /** Then zero this copy's bytes `[to, zeroTo)` (a torn tail); empty when `zeroTo <= to`. */
  readonly zeroTo: number;
}

/** The outcome of {@link reconcile}. */
export interface ReconcilePlan {
  /** The copy whose chain is the truth, or `none` when both are missing. */
  readonly winner: CopyName | 'none';
  /** The winning chain (undefined when both are missing). */
  readonly chain?: ChainOk;
  /** Writes that bring each copy up to the winner (create a missing copy, append what it lacks, zero a torn tail); empty when both agree. */
  readonly repairs: readonly Repair[];
}

/**
 * The error for a copy that does not verify. When the other copy does, say what it holds: an
 * administrator who restored or edited a file by hand can then move it aside (the other copy
 * rebuilds it on the next open); nothing is decided for them.
 */
export function tampered(copy: CopyName, why: string, details: Record<string, unknown> = {}, other?: CopyRead | LogCopyRead): LicenseError {
  const otherName: CopyName = copy === 'primary' ? 'mirror' : 'primary';
  const otherOk = other?.status === 'ok' ? other : undefined;
  const hint =
    otherOk === undefined
      ? ''
      : ` The ${otherName} copy verifies: ${otherOk.head.seq + 1} records, ${otherOk.head.consumed} credits consumed. If the ${copy} was restored or edited by hand, move it aside and open the ledger again to rebuild it from the ${otherName}.`;
  return new LicenseError(
    'ERR_LEDGER_TAMPERED',
    `the credit ledger's ${copy} copy was modified (${why}); no credits are given back. Restore the ledger files from a backup, or ask the vendor for a license carrying the consumption they last saw.${hint}`,
    { copy, ...details, ...(otherOk === undefined ? {} : { otherCopy: otherName, otherRecords: otherOk.head.seq + 1, otherConsumed: otherOk.head.consumed }) },
  );
}

/**
 * Record 0 fails to authenticate in every copy there is: the files were altered, or, at least as
 * likely, they were sealed under another key (a wrong or missing application secret). The mirror's
 * file name depends on the secret too, so a wrong secret usually finds no mirror at all.
 */
export function wrongKeyOrAltered(primary: CopyRead | LogCopyRead, mirror: CopyRead | LogCopyRead): LicenseError | undefined {
  const firstFails = (c: CopyRead | LogCopyRead) => c.status === 'tampered' && c.offset === 0 && c.unauthenticated === true;
  const fails = [primary, mirror].filter(firstFails).length;
  const missing = [primary, mirror].filter((c) => c.status === 'missing').length;
  if (fails === 0 || fails + missing !== 2) return undefined;
  const where = missing === 0 ? 'either copy' : `the ${firstFails(primary) ? 'primary' : 'mirror'} copy (the other copy was not found under this secret)`;
  return new LicenseError(
    'ERR_LEDGER_TAMPERED',
    `the credit ledger's first record does not authenticate in ${where}: the ledger was altered, or it was sealed with another secret. Check that the secret (the CLI: --secret-file or LICIT_SECRET; the application: the \`secret\` option) is the application secret this ledger was created with; if it is, restore the ledger files from a backup or ask the vendor for a license carrying the consumption they last saw`,
    { copy: missing === 0 ? 'both' : firstFails(primary) ? 'primary' : 'mirror', offset: 0, secretOrAltered: true },
  );
}

const lastHash = (entries: readonly ChainEntry[], n: number): Uint8Array | undefined => entries[n - 1]?.hash;

/**
 * Decide which copy wins and how to repair the other. Both reads must start at the same offset
 * and head (the copies are byte-identical up to the last reconciled record).
 *
 * @example
 * ```ts
 * const plan = reconcile(await readCopy(primary), await readCopy(mirror)) // throws ERR_LEDGER_TAMPERED
 * ```
 */
export function reconcile(primary: CopyRead, mirror: CopyRead): ReconcilePlan {
  const keyError = wrongKeyOrAltered(primary, mirror);
  if (keyError !== undefined) throw keyError;
  if (primary.status === 'tampered') throw tampered('primary', primary.reason, { offset: primary.offset }, mirror);
  if (mirror.status === 'tampered') throw tampered('mirror', mirror.reason, { offset: mirror.offset }, primary);
  if (primary.status === 'missing' && mirror.status === 'missing') return { winner: 'none', repairs: [] };
  const repairs: Repair[] = [];
  const selfClean = (name: CopyName, c: ChainOk) => {
    if (c.dirtyEnd > c.end) repairs.push({ copy: name, create: false, from: c.end, to: c.end, zeroTo: c.dirtyEnd });
  };
  if (mirror.status === 'missing' || primary.status === 'missing') {
    const [name, c, other]: [CopyName, ChainOk, CopyName] = mirror.status === 'missing' ? ['primary', primary as ChainOk, 'mirror'] : ['mirror', mirror as ChainOk, 'primary'];
    selfClean(name, c);
    const start = c.entries[0]?.start ?? c.end;
    repairs.push({ copy: other, create: true, from: start, to: c.end, zeroTo: 0 });
    return { winner: name, chain: c, repairs };
  }
  const n = Math.min(primary.entries.length, mirror.entries.length);
  const a = lastHash(primary.entries, n);
  const b = lastHash(mirror.entries, n);
  if (a !== undefined && b !== undefined && !bytesEqual(a, b)) {
    throw tampered(primary.entries.length >= mirror.entries.length ? 'mirror' : 'primary', 'the two copies disagree: one was replaced by a different history', { record: n - 1 });
  }
  const [wName, w, lName, l]: [CopyName, ChainOk, CopyName, ChainOk] =
    primary.entries.length >= mirror.entries.length ? ['primary', primary, 'mirror', mirror] : ['mirror', mirror, 'primary', primary];
  if (l.end !== (w.entries[l.entries.length - 1]?.end ?? l.end)) {
    throw tampered(lName, 'its records sit at different offsets than in the other copy');
  }
  selfClean(wName, w);
  if (l.end < w.end || l.dirtyEnd > l.end) repairs.push({ copy: lName, create: false, from: l.end, to: w.end, zeroTo: l.dirtyEnd });
  return { winner: wName, chain: w, repairs };
}

// ---- copies kept as append-only logs (the current format) ----

/** A copy read from its log: the records after its snapshot (or from its first record), verified. */
export interface LogCopyOk {
  /** Discriminant: the copy verified. */
  readonly status: 'ok';
  /** The head the entries continue: the snapshot's, or the empty head. */
  readonly start: ChainHead;
  /** The records after `start`. */
  readonly entries: readonly LogEntry[];
  /** The state after the last record. */
  readonly head: ChainHead;
}

/** A log copy as found: verified, tampered (`offset` = record number, or -1 for damage to the files), or missing. */
export type LogCopyRead = LogCopyOk | ChainTampered | { readonly status: 'missing' };

/** The outcome of {@link reconcileLogs}. */
export interface LogReconcile {
  /** The copy whose chain is the truth, or `none` when both are missing. */
  readonly winner: CopyName | 'none';
  /**
   * The copy to bring up to the winner: `create` it from every record of the winner, or append the
   * winner's records from record number `from` on.
   */
  readonly repair?: { readonly copy: CopyName; readonly create: boolean; readonly from: number };
  /**
   * Deciding needs records of this copy from before its snapshot (to compare the copies at the
   * shorter one's last record, or to repair from there): read it from its first record and call again.
   */
  readonly readFull?: CopyName;
}

/** Records in a log copy read (the last record's number + 1). */
export const recordCount = (c: LogCopyOk): number => c.head.seq + 1;

/** The hash of record `n - 1` (the genesis hash for n = 0) as this read knows it, or undefined. */
function hashAfter(c: LogCopyOk, n: number): Uint8Array | undefined {
  const s = c.start.seq + 1;
  if (n === s) return c.start.hash;
  return n > s && n <= s + c.entries.length ? (c.entries[n - s - 1] as LogEntry).hash : undefined;
}

/**
 * Decide which log copy wins and how to repair the other, by record number: the copies may hold
 * snapshots at different places. Throws `ERR_LEDGER_TAMPERED` for a copy that does not verify and
 * for a fork (two histories at the same record number), with the same words as {@link reconcile}.
 */
export function reconcileLogs(primary: LogCopyRead, mirror: LogCopyRead): LogReconcile {
  const keyError = wrongKeyOrAltered(primary, mirror);
  if (keyError !== undefined) throw keyError;
  if (primary.status === 'tampered') throw tampered('primary', primary.reason, primary.offset >= 0 ? { record: primary.offset } : {}, mirror);
  if (mirror.status === 'tampered') throw tampered('mirror', mirror.reason, mirror.offset >= 0 ? { record: mirror.offset } : {}, primary);
  if (primary.status === 'missing' && mirror.status === 'missing') return { winner: 'none' };
  if (primary.status === 'missing' || mirror.status === 'missing') {
    const [name, c, other]: [CopyName, LogCopyOk, CopyName] = mirror.status === 'missing' ? ['primary', primary as LogCopyOk, 'mirror'] : ['mirror', mirror as LogCopyOk, 'primary'];
    if (c.start.seq >= 0) return { winner: name, readFull: name };
    return { winner: name, repair: { copy: other, create: true, from: 0 } };
  }
  const [wName, w, lName, l]: [CopyName, LogCopyOk, CopyName, LogCopyOk] =
    recordCount(primary) >= recordCount(mirror) ? ['primary', primary, 'mirror', mirror] : ['mirror', mirror, 'primary', primary];
  const n = recordCount(l);
  const a = hashAfter(w, n);
  if (a === undefined) return { winner: wName, readFull: wName };
  // Named as before: the shorter copy, or the mirror when both are as long.
  if (!bytesEqual(a, l.head.hash)) throw tampered(lName, 'the two copies disagree: one was replaced by a different history', { record: n - 1 });
  return recordCount(w) > n ? { winner: wName, repair: { copy: lName, create: false, from: n } } : { winner: wName };
}
