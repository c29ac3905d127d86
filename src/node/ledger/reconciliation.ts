/**
 * Reconciling the two copies with each other and with what this object holds (under the ledger
 * locks): the cheap refresh that checks only the records other processes appended, the full read
 * that migrates old-format files, trusts one copy (core/ledger/reconcile.ts decides which) and
 * repairs the other, and the vendor floor that refuses an empty ledger where the license says
 * credits were spent.
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { isLicenseError, LicenseError } from '../../core/errors.js';
import { chainBodies, emptyHead } from '../../core/ledger/chain.js';
import { reconcileLogs, recordCount, tampered, type CopyName, type LogCopyOk, type LogCopyRead, type LogReconcile } from '../../core/ledger/reconcile.js';
import type { LedgerSnapshot } from '../../core/ledger/snapshot.js';
import { makeDirectory } from '../../os/make-dir.js';
import { AppendLog, LogMoved, WRITE_BACK_BYTES } from '../log/append-log.js';
import { compact } from './compaction.js';
import { COPIES, emptyDir, ioError, MODE, OPEN_OPTIONS, openCopy, readFromFirst, type CopyOpened } from './copies.js';
import { migrateLegacy, needsMigration } from './legacy.js';
import { MAX_BATCH } from './records.js';
import type { LedgerState } from './state.js';
import type { CopyState, CopyStates } from './types.js';

// A full read writes back (O_DSYNC) the last WRITE_BACK_BYTES of each copy's active segment
// before reporting it: after a failed write the kernel may hold bytes in its page cache that never
// reached the disk, and every reader sees them (Node has no posix_fadvise to drop them); writing
// back what was read makes the disk hold what the ledger reports, or fails the read. 64 KiB covers
// a failed group commit of a few hundred records; rewriting identical bytes risks nothing a torn
// sector write could change.

/** The vendor's floor as the ledger was opened with it. */
export interface OpenFloor {
  /** The floor at open: decides between a fresh ledger and ERR_LEDGER_MISSING. */
  readonly floor: number;
  /** Restart from the floor when both copies are gone (the `recover` option). */
  readonly recover: boolean;
}

/** Reads and repairs the copies of one open ledger into its {@link LedgerState}. */
export class Reconciler {
  readonly #state: LedgerState;
  readonly #open: OpenFloor;
  readonly #repaired: (states: CopyStates) => void;

  constructor(state: LedgerState, open: OpenFloor, repaired: (states: CopyStates) => void) {
    this.#state = state;
    this.#open = open;
    this.#repaired = repaired;
  }

  /** Bring the in-memory head up to what is on disk (under the lock): the cheap case reads only new tails. */
  async refresh(): Promise<void> {
    const s = this.#state;
    if (!s.loaded || s.stale) {
      await this.load(!s.loaded);
      return;
    }
    const logs = COPIES.map((n) => s.logs[n] as AppendLog);
    // A copy deleted, replaced or restored since we looked: only a full read explains it.
    if (!logs.every((l) => l.isCurrent())) {
      await this.load(false);
      return;
    }
    let tails: Uint8Array[][];
    try {
      tails = await Promise.all(logs.map((l) => l.refresh(true)));
    } catch (e) {
      if (e instanceof LogMoved || isLicenseError(e, 'ERR_STORE_CORRUPT')) {
        await this.load(false);
        return;
      }
      throw ioError(s.paths.primary, 'read', e);
    }
    if (tails.every((t) => t.length === 0)) return;
    // Another process appended: check the new records of each copy, continuing our head.
    const start = s.head;
    const [pr, mr] = await Promise.all(tails.map(async (t): Promise<LogCopyRead> => {
      const r = await chainBodies(s.key, t, start);
      return r.status === 'ok' ? { ...r, start } : r;
    }));
    const plan = reconcileLogs(pr as LogCopyRead, mr as LogCopyRead);
    const winner = (plan.winner === 'mirror' ? mr : pr) as LogCopyOk;
    await this.#repair(plan, winner);
    s.keys.add(winner.entries.map((e) => e.record), s.head.carried);
    s.noteTimes(winner.entries.map((e) => e.record));
    s.head = winner.head;
  }

  /** Full read of both copies (snapshot + tail each), migrating old-format files first; repairs. Returns what each copy was. */
  async load(initial: boolean): Promise<CopyStates> {
    const s = this.#state;
    // Reopen by path: a copy may have been deleted or replaced since it was opened.
    s.closeLogs();
    if (needsMigration(s.paths)) {
      // A failure leaves the old file or a finished `.migrating` directory: the next open goes on from there.
      await migrateLegacy(s.paths, s.key, s.copies.genesis, s.copies.logId, MODE).catch((e: unknown) => {
        throw ioError(s.paths.primary, 'migrate the old-format ledger files beside', e);
      });
    }
    const [po, mo] = (await Promise.all(COPIES.map(async (n) => {
      const o = await openCopy(s.copies, n);
      if (o.log !== undefined) s.logs[n] = o.log;
      if (o.compactDue === true) s.compactDue = true;
      return o;
    }))) as [CopyOpened, CopyOpened];
    const found: Record<CopyName, CopyOpened> = { primary: po, mirror: mo };
    let plan: LogReconcile;
    for (;;) {
      plan = reconcileLogs(found.primary.read, found.mirror.read);
      if (plan.readFull === undefined) break;
      const name = plan.readFull;
      found[name] = { ...found[name], read: await readFromFirst(s.copies, name) };
      delete (found[name] as { snap?: LedgerSnapshot }).snap;
    }
    const known = s.head;
    const states = await this.#adopt(plan, found);
    if (initial) s.foundAtOpen = states;
    else if (states.primary !== 'ok' || states.mirror !== 'ok') this.#repaired(states);
    if (!initial && s.head.consumed < known.consumed) {
      throw new LicenseError('ERR_LEDGER_TAMPERED', 'the ledger files were replaced by an older state while in use; no credits are given back', { consumed: known.consumed, found: s.head.consumed });
    }
    s.loaded = true;
    s.stale = false;
    await compact(s);
    return states;
  }

  /** Adopt the winner of a full read: refuse what must be refused, repair the other copy, take its state. */
  async #adopt(plan: LogReconcile, found: Record<CopyName, CopyOpened>): Promise<CopyStates> {
    const s = this.#state;
    if (plan.winner === 'none') {
      if (s.loaded) {
        throw new LicenseError('ERR_LEDGER_MISSING', 'both copies of the credit ledger were deleted while in use; restore them from a backup, or reopen with `recover` to restart from the vendor floor', { consumed: s.head.consumed });
      }
      const emptied = found.primary.existed || found.mirror.existed;
      this.#refuseEmptyStart(emptied ? 'hold no records (emptied, or cut before their first record)' : 'are missing');
      for (const n of COPIES) s.logs[n]?.close();
      s.logs = {};
      await s.writing(COPIES.map((n) => this.#createCopy(n, [])));
      s.head = emptyHead(s.copies.genesis);
      s.keys.clear();
      s.latestTime = undefined;
      return { primary: 'missing', mirror: 'missing' };
    }
    const w = found[plan.winner];
    const chain = w.read as LogCopyOk;
    const count = recordCount(chain);
    // Copies that exist but hold no record (emptied, or only a torn first record) are as good as
    // missing: never a silent restart when the license says credits were spent.
    if (!s.loaded && count === 0) this.#refuseEmptyStart('hold no records (emptied, or cut before their first record)');
    // A head file counts the records a writer saw committed; both copies shorter than that lost
    // acknowledged records (a byte flipped in the last record of both reads as a torn write and is cut).
    const promised = Math.max(found.primary.cutShort ?? 0, found.mirror.cutShort ?? 0);
    if (promised > count) {
      throw tampered(plan.winner, `it ends at record ${count - 1} but its head file says record ${promised - 1} was committed: records were cut from both copies`, { records: count, committed: promised });
    }
    await this.#repair(plan, chain);
    // Make what was read (and is about to be reported) what the disks hold.
    await s.writing(COPIES.map(async (n) => (s.logs[n] as AppendLog).rewriteTail(WRITE_BACK_BYTES)));
    s.keys.load(w.snap?.keys ?? []);
    s.keys.add(chain.entries.map((e) => e.record), chain.start.seq < 0 ? 0 : chain.start.carried);
    s.latestTime = w.snap?.latest;
    s.noteTimes(chain.entries.map((e) => e.record));
    s.head = chain.head;
    const state = (o: CopyOpened): CopyState => {
      if (o.read.status === 'missing') return 'missing';
      if (recordCount(o.read as LogCopyOk) < count) return 'behind';
      return o.torn ? 'torn' : 'ok';
    };
    return { primary: state(found.primary), mirror: state(found.mirror) };
  }

  /** Bring the losing copy up to the winner: rebuild it from every record, or append what it lacks. */
  async #repair(plan: LogReconcile, winner: LogCopyOk): Promise<void> {
    const s = this.#state;
    const r = plan.repair;
    if (r === undefined) return;
    const first = winner.start.seq + 1;
    const bodies = winner.entries.slice(r.from - first).map((e) => e.body);
    if (r.create) {
      s.logs[r.copy]?.close();
      delete s.logs[r.copy];
      await s.writing([this.#createCopy(r.copy, bodies)]);
      return;
    }
    const log = s.logs[r.copy] as AppendLog;
    await s.writing([(async () => {
      for (let i = 0; i < bodies.length; i += MAX_BATCH) await log.append(bodies.slice(i, i + MAX_BATCH));
    })()]);
  }

  /** Create a copy holding `bodies` (atomically: a temp directory renamed into place) and open it. */
  async #createCopy(name: CopyName, bodies: readonly Uint8Array[]): Promise<void> {
    const s = this.#state;
    const path = s.paths[name];
    try {
      if (emptyDir(path)) rmSync(path, { recursive: true, force: true });
      await makeDirectory(dirname(path));
      if (!(await AppendLog.create(path, s.copies.logId, MODE, bodies))) throw new Error(`${path} appeared while the ledger lock was held`);
      s.logs[name] = (await AppendLog.open(path, s.copies.logId, MODE, true, OPEN_OPTIONS)).log;
    } catch (e) {
      throw ioError(path, 'create', e);
    }
    if (bodies.length > 0) s.compactDue = true; // a rebuilt copy has no snapshot yet
  }

  /**
   * A ledger with no records: a first use, or a lost or wiped disk. Refuse to start from zero when
   * the license says credits were spent, unless the caller asked to recover from the vendor floor.
   */
  #refuseEmptyStart(what: string): void {
    const { floor, recover } = this.#open;
    if (floor > 0 && !recover) {
      throw new LicenseError(
        'ERR_LEDGER_MISSING',
        `the credit ledger files ${what} but the license says ${floor} credits were already consumed; restore the ledger files (primary ${this.#state.paths.primary}, mirror ${this.#state.paths.mirror}), or open with \`recover: true\` (CLI: --recover) to restart from the vendor's count`,
        { carried: floor },
      );
    }
  }
}
