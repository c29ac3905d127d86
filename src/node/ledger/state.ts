/**
 * What one open `CreditLedger` object holds, shared by the modules that act on it: the two copies'
 * open logs, the chain head they end at with its idempotency keys and latest record time, what is
 * left to do (a full read, a roll), the counts of what it wrote, and the failed write or sync that
 * stopped it. Only the writer loop (`commit-queue.ts`) changes it, one batch at a time, under the
 * ledger locks; reads between batches see a whole batch or none.
 */
import type { Clock } from '../../core/time/clock.js';
import type { LicenseError } from '../../core/errors.js';
import { emptyHead, type ChainHead } from '../../core/ledger/chain.js';
import { IdempotencyIndex } from '../../core/ledger/keys.js';
import { balanceOf, type Balance } from '../../core/ledger/plan.js';
import type { CopyName } from '../../core/ledger/reconcile.js';
import type { LedgerRecord } from '../../core/ledger/record.js';
import type { LedgerKey } from '../../core/ledger/seal.js';
import type { AppendLog } from '../log/append-log.js';
import type { CopyContext } from './copies.js';
import { outcomeUnknown, poisonedError, writeFailure } from './failure.js';
import type { CopyStates } from './types.js';

/** The state of one open ledger object. */
export class LedgerState {
  readonly key: LedgerKey;
  /** The license's own credits (top-ups come on top). */
  readonly credits: number;
  readonly now: Clock;
  /** What reading a copy needs (key, license and log ids, paths). */
  readonly copies: CopyContext;
  /** Compaction threshold: the active segment's size (and at least twice the snapshot's). */
  readonly compactBytes: number;
  /** The failed write or sync that stopped this object (see the module comment of credit-ledger.ts). */
  poisoned: LicenseError | undefined;
  foundAtOpen: CopyStates = { primary: 'ok', mirror: 'ok' };
  head: ChainHead;
  readonly keys = new IdempotencyIndex();
  /** The latest record time seen (the writers' clocks): a witness for the clock guard. */
  latestTime: number | undefined;
  /** The two copies' logs while open (under the lock, or kept open between lock holds). */
  logs: Partial<Record<CopyName, AppendLog>> = {};
  /** A copy has no valid snapshot (rebuilt, or it did not open): roll at the next chance. */
  compactDue = false;
  /** Both copies have been read once (by the open). */
  loaded = false;
  /** Something was half done: the next look reads both copies in full. */
  stale = false;
  /** Durable group commits written by this object. */
  commits = 0;
  /** Records appended by those commits. */
  records = 0;

  constructor(setup: { key: LedgerKey; credits: number; now: Clock; copies: CopyContext; compactBytes: number }) {
    this.key = setup.key;
    this.credits = setup.credits;
    this.now = setup.now;
    this.copies = setup.copies;
    this.compactBytes = setup.compactBytes;
    this.head = emptyHead(setup.copies.genesis);
  }

  get licenseId(): string {
    return this.copies.licenseId;
  }

  get paths(): Readonly<Record<CopyName, string>> {
    return this.copies.paths;
  }

  /** The balance at the head this object holds (no I/O). */
  balance(): Balance {
    return balanceOf(this.head, this.credits);
  }

  noteTimes(records: readonly LedgerRecord[]): void {
    for (const r of records) if (this.latestTime === undefined || r.time > this.latestTime) this.latestTime = r.time;
  }

  /**
   * A write or sync failed: stop this object for good (until the ledger is opened again) and
   * return the error for the requests that were being written, whose outcome is unknown.
   */
  poison(cause: unknown): LicenseError {
    const failure = writeFailure(cause);
    this.poisoned ??= failure;
    return outcomeUnknown(failure);
  }

  poisonedError(): LicenseError {
    return poisonedError(this.poisoned as LicenseError, this.licenseId);
  }

  /** Run writes to the copies; a failure poisons this object (see {@link LedgerState.poison}). */
  async writing(writes: Promise<unknown>[]): Promise<void> {
    const done = await Promise.allSettled(writes);
    const failed = done.find((d): d is PromiseRejectedResult => d.status === 'rejected');
    if (failed !== undefined) throw this.poison(failed.reason);
  }

  /**
   * Before the lock is given up: record in each copy's head file how many records it holds (page
   * cache only; after a crash it may lag, never lead). A copy found shorter than its head file says
   * was cut by someone (see `Reconciler` in reconciliation.ts). Nothing is written by a poisoned
   * object.
   */
  writeHeads(): void {
    if (this.poisoned !== undefined) return;
    for (const l of Object.values(this.logs)) l.writeHead();
  }

  closeLogs(): void {
    for (const l of Object.values(this.logs)) l.close();
    this.logs = {};
  }
}
