/**
 * A durable log with its state machine materialised in memory: transactions in turn, group commit,
 * the cross-process lock, compaction, and fail-safe poisoning. The owner supplies the state and how
 * a record changes it ({@link StateMachine}); `FileStore` is one owner.
 *
 * **Transactions.** One at a time per log in this process (a FIFO turn), and under the log's
 * cross-process lock. At the start of a lock hold the state is brought up to date from the disk:
 * the cheap check (two `stat`s) says whether another process appended, and only the new tail is
 * read. The transaction's record is applied to the state at once and queued; the next transaction
 * may run on that state while the record is being written.
 *
 * **Group commit.** One write + one fdatasync carries every record queued since the last one. A
 * transaction resolves only when its record is durable. A record whose transaction is the only one
 * running in the process (on any log) is written synchronously, on the main thread: the event loop
 * waits the ~0.2 ms of the flush, as with better-sqlite3, instead of paying the thread-pool round
 * trip. As soon as other transactions run, writes go through the thread pool, in groups per log and
 * in parallel across logs. The lock stays held while transactions
 * keep coming (records applied in memory but not yet durable must not be seen by another
 * process's transaction), and is released {@link LINGER_MS} after the queue drains, or after
 * {@link MAX_HOLD_MS} when another process is waiting for it (it touches the lock's `want` file).
 *
 * **Fail safe.** A failed write or sync poisons the log in this process: that batch rejects with
 * `ERR_STORE_UNAVAILABLE`, everything after with `ERR_STORE_POISONED`, until the owner opens a new
 * `DurableLog`, which reads the disk. The failed write was cut off again when the disk allowed, so
 * the record is wholly in the log or wholly absent.
 *
 * **Reads** see only durable state: they wait for the records before them, and without the lock
 * read the tail other processes appended (complete writes only).
 *
 * Beside it: `turns.ts` (the FIFO turns) and `group-commit.ts` (the queue of records and the flush
 * that writes and rolls); the files themselves are `AppendLog`'s.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LicenseError, isLicenseError } from '../../core/errors.js';
import { AppendLog, LogMoved, WRITE_BACK_BYTES } from './append-log.js';
import { GroupCommit, type Queued } from './group-commit.js';
import { HeldLock, MAX_POLL_MS } from './held-lock.js';
import { segmentName } from './segment.js';
import { Turns } from './turns.js';

/** How the owner's state is built from records. */
export interface StateMachine<S, R> {
  /** The state of a log with no record. */
  empty(): S;
  /** The state a snapshot holds. Throws `ERR_STORE_CORRUPT` when it cannot be read. */
  restore(snapshot: Uint8Array): S;
  /** Decode a record read from the log. Throws `ERR_STORE_CORRUPT` when it cannot be read. */
  decode(record: Uint8Array): R;
  /** Apply a decoded record (replay and live commits go through here alike). */
  apply(state: S, record: R): void;
  /** Encode the whole state for a snapshot. */
  snapshot(state: S): Uint8Array;
}

/** What a transaction function returns: its value, and the record to commit (none: read only). */
export interface TxOutcome<T, R> {
  readonly value: T;
  readonly record?: { readonly bytes: Uint8Array; readonly decoded: R };
}

/** Options of {@link DurableLog}. */
export interface DurableLogOptions {
  /** The log's identity, written in every segment and the snapshot (e.g. a license id). */
  readonly id: string;
  /** File mode of new files. */
  readonly mode: number;
  /** How long to wait for another process's lock, and for this process's earlier transactions. */
  readonly lockTimeoutMs: number;
  /** Roll over (snapshot + new segment) when the active segment passes this many bytes and twice the snapshot. */
  readonly compactBytes: number;
  /** Describes the log in error messages, e.g. `the seat store /var/lib/x`. */
  readonly what: string;
}

/** Keep the lock across group commits at most this long while another process waits for it. */
export const MAX_HOLD_MS = 20;
/** During a hold, look at the want file (and refresh the head file) at most this often. */
const CHECK_MS = 4;
/**
 * Keep the lock this long after this process's last transaction: a process doing one transaction
 * after another (assign, then release) then skips taking, checking and releasing it each time.
 * Other processes wait at most this much longer, or {@link MAX_HOLD_MS} when this one stays busy.
 */
export const LINGER_MS = 2;
/** After stepping aside, stay away longer than a waiter's longest poll so that it gets in. */
const YIELD_MS = MAX_POLL_MS + 4;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Transactions running in this process, on every log: from their turn until durable. A write is
 * made synchronously only when its transaction is the only one, so that concurrent commits (of
 * this log or any other) keep their flushes in flight together.
 */
let running = 0;

/** One log and its state in this process. */
export class DurableLog<S, R> {
  readonly #dir: string;
  readonly #machine: StateMachine<S, R>;
  readonly #opts: DurableLogOptions;
  readonly #lock: HeldLock;
  readonly #turns = new Turns();
  #log: AppendLog | undefined;
  /** The log whose tail this object wrote back to the disk when it first held it (see {@link #hold}). */
  #writtenBack: AppendLog | undefined;
  #state: S | undefined;
  readonly #writer: GroupCommit;
  #holdSince = 0;
  /** When the head file and the want file were last looked after during this hold. */
  #lastCheck = 0;
  #linger: ReturnType<typeof setTimeout> | undefined;
  #poison: LicenseError | undefined;
  #compactDue = false;
  #closed = false;

  constructor(dir: string, machine: StateMachine<S, R>, opts: DurableLogOptions) {
    this.#dir = dir;
    this.#machine = machine;
    this.#opts = opts;
    // Only beside a log: locking an emptied directory must not put anything in it.
    this.#lock = new HeldLock(join(dir, 'lock'), opts.mode, () => existsSync(join(dir, segmentName(1))));
    this.#writer = new GroupCommit({
      log: () => this.#log as AppendLog,
      rollDue: (log) => this.#compactDue || log.activeBytes >= Math.max(this.#opts.compactBytes, 2 * log.snapshotBytes),
      rollState: () => {
        this.#compactDue = false;
        return this.#machine.snapshot(this.#state as S);
      },
      alone: () => running === 1,
      fail: (e, batch) => this.#fail(e, batch),
      settled: () => this.#maybeRelease(),
    });
  }

  /** True while the log is open and replayed in this process (its directory existed when last used). */
  get loaded(): boolean {
    return this.#log !== undefined;
  }

  /** The poison error, when a write or sync failed in this process. */
  get poisoned(): LicenseError | undefined {
    return this.#poison;
  }

  #check(): void {
    if (this.#poison !== undefined) throw this.#poison;
    if (this.#closed) throw new LicenseError('ERR_STORE_UNAVAILABLE', `${this.#opts.what} was closed; open a new one`);
  }

  /**
   * Run `fn` on the current state, in turn and under the lock; commit the record it returns and
   * resolve with its value once the record is durable. `fn` must not change the state itself.
   * Throws {@link LogMoved} when the log directory does not exist.
   */
  async write<T>(fn: (state: S) => Promise<TxOutcome<T, R>>): Promise<T> {
    running++;
    try {
      return await this.#write(fn);
    } finally {
      running--;
    }
  }

  async #write<T>(fn: (state: S) => Promise<TxOutcome<T, R>>): Promise<T> {
    const leave = await this.#turns.enter(this.#opts.lockTimeoutMs, this.#opts.what);
    let durable: Promise<void> | undefined;
    let value: T;
    try {
      while (this.#writer.gate !== undefined) await this.#writer.gate;
      this.#check();
      await this.#hold();
      const state = this.#state as S;
      const out = await fn(state);
      value = out.value;
      if (out.record !== undefined) {
        this.#check();
        try {
          this.#machine.apply(state, out.record.decoded);
        } catch (e) {
          // The state may be half changed: nothing in memory can be trusted any more.
          this.#fail(e, []);
          throw e;
        }
        durable = this.#writer.enqueue(out.record.bytes);
      }
    } finally {
      leave();
      this.#maybeRelease();
    }
    if (durable !== undefined) await durable;
    return value;
  }

  /**
   * Run `fn` on durable state without taking the cross-process lock (reading what other processes
   * appended first). `fn` gets `undefined` when the log directory does not exist.
   */
  async read<T>(fn: (state: S | undefined) => Promise<T>): Promise<T> {
    const leave = await this.#turns.enter(this.#opts.lockTimeoutMs, this.#opts.what);
    try {
      this.#check();
      await this.#writer.drained();
      this.#check();
      if (!this.#lock.held) {
        if (!AppendLog.exists(this.#dir)) {
          this.#drop();
          return await fn(undefined);
        }
        await this.#catchUp(false);
      }
      return await fn(this.#state);
    } finally {
      leave();
      this.#maybeRelease();
    }
  }

  /** Every committed record from the first on, read from the disk after this process's pending ones are durable. */
  async history(): Promise<R[]> {
    const leave = await this.#turns.enter(this.#opts.lockTimeoutMs, this.#opts.what);
    try {
      this.#check();
      await this.#writer.drained();
      this.#check();
      return AppendLog.readAll(this.#dir, this.#opts.id).map((b) => this.#machine.decode(b));
    } finally {
      leave();
      this.#maybeRelease();
    }
  }

  /** Take the lock unless held (stepping aside first when held too long and wanted), and catch up. */
  async #hold(): Promise<void> {
    this.#stopLinger();
    if (this.#lock.held && !this.#lock.stillNamed()) {
      // The directory was removed (and maybe made again) while we held its lock: start over.
      await this.#writer.drained();
      this.#check();
      await this.#lock.release();
      this.#drop();
    }
    if (this.#lock.held) {
      // Every few milliseconds of a long hold: bring the head file up to date, and see whether
      // another process asked for the lock.
      const now = Date.now();
      if (now - this.#lastCheck < CHECK_MS) return;
      this.#lastCheck = now;
      this.#log?.writeHead();
      if (now - this.#holdSince < MAX_HOLD_MS || !this.#lock.othersWaiting()) return;
      await this.#writer.drained();
      this.#check();
      await this.#release();
      await sleep(YIELD_MS);
    }
    try {
      await this.#lock.acquire(this.#opts.lockTimeoutMs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      if (!AppendLog.exists(this.#dir)) throw new LogMoved(`${this.#dir} does not exist`);
      // The directory is there but holds no log (or lost its lock file): say what is wrong with it.
      (await AppendLog.open(this.#dir, this.#opts.id, this.#opts.mode, false)).log.close();
      throw new LogMoved(`${join(this.#dir, 'lock')} is missing`);
    }
    this.#holdSince = Date.now();
    this.#lastCheck = this.#holdSince;
    try {
      if (this.#lock.replaced) {
        this.#lock.replaced = false;
        this.#drop();
      }
      await this.#catchUp(true);
      // The first hold of a log this object opened: what it read may be a failed write the page
      // cache still holds and the disk never got. Writing the tail back (as the ledger does on
      // opening) makes the disk hold what this object is about to build on and report as
      // committed, or fails here, before anything is decided.
      const log = this.#log;
      if (log !== undefined && this.#writtenBack !== log) {
        await log.rewriteTail(WRITE_BACK_BYTES);
        this.#writtenBack = log;
      }
    } catch (e) {
      await this.#release();
      throw e;
    }
  }

  /** Give the lock up, the head file brought up to date first. */
  async #release(): Promise<void> {
    this.#log?.writeHead();
    await this.#lock.release();
  }

  /** Bring the state up to date with the disk: open and replay, or read the new tail. */
  async #catchUp(locked: boolean): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (this.#log === undefined) {
          const opened = await AppendLog.open(this.#dir, this.#opts.id, this.#opts.mode, locked);
          const state = opened.snapshot === undefined ? this.#machine.empty() : this.#machine.restore(opened.snapshot);
          for (const r of opened.records) this.#machine.apply(state, this.#machine.decode(r));
          this.#log = opened.log;
          this.#state = state;
          if (opened.rebuilt) this.#compactDue = true;
        } else {
          for (const r of await this.#log.refresh(locked)) this.#machine.apply(this.#state as S, this.#machine.decode(r));
        }
        return;
      } catch (e) {
        this.#drop();
        // Reads race with other processes' writes and rolls: look once more before calling it damage.
        if ((e instanceof LogMoved && AppendLog.exists(this.#dir)) || (!locked && isLicenseError(e, 'ERR_STORE_CORRUPT'))) {
          if (attempt < 2) {
            await sleep(attempt * 5);
            continue;
          }
        }
        throw e;
      }
    }
  }

  #drop(): void {
    this.#log?.close();
    this.#log = undefined;
    this.#state = undefined;
  }

  /** A write or sync failed: reject the batch, poison the log, release the lock. */
  #fail(e: unknown, batch: readonly Queued[]): void {
    const code = (e as NodeJS.ErrnoException)?.code;
    const failed = new LicenseError(
      'ERR_STORE_UNAVAILABLE',
      `${this.#opts.what}: writing to the disk failed${code === undefined ? '' : ` (${code})`}: ${(e as Error)?.message ?? String(e)}. The transaction is either wholly in the log or not at all; open the store again to see which`,
      { errno: code, poisoned: true },
      { cause: e },
    );
    this.#poison = new LicenseError('ERR_STORE_POISONED', `${this.#opts.what}: an earlier write or sync failed (${failed.message}); this handle refuses everything since. Open the store again: that reads the disk and shows what committed`, { errno: code }, { cause: e });
    for (const q of batch) q.reject(failed);
    this.#writer.rejectQueued(this.#poison);
    this.#drop();
    this.#stopLinger();
    void this.#lock.release();
  }

  /** Release the lock when nothing of this process has needed it for {@link LINGER_MS}. */
  #maybeRelease(): void {
    if (this.#linger !== undefined || !this.#idle()) return;
    this.#linger = setTimeout(() => {
      this.#linger = undefined;
      if (this.#idle()) void this.#release();
    }, LINGER_MS);
    this.#linger.unref?.();
  }

  #idle(): boolean {
    return this.#lock.held && this.#turns.idle && this.#writer.idle;
  }

  #stopLinger(): void {
    if (this.#linger !== undefined) {
      clearTimeout(this.#linger);
      this.#linger = undefined;
    }
  }

  /** Wait for queued records, release the lock and close the files. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#writer.drained();
    this.#stopLinger();
    this.#log?.writeHead();
    await this.#lock.close();
    this.#drop();
  }
}
