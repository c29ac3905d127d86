/**
 * The group-commit writer of one `DurableLog`. Transactions queue their records here and go on;
 * one flush at a time writes every record queued since the last write as one write + one
 * fdatasync (at most {@link MAX_BATCH} records), batch after batch, and rolls the log over
 * (snapshot + new segment) when it is due. A record resolves only when it is durable. The owner
 * holds the log's lock while anything is queued, and decides what a failure does (poisoning).
 */
import type { AppendLog } from './append-log.js';
import { RollSkipped } from './errors.js';

/** At most this many records in one write. */
const MAX_BATCH = 512;

/** A record waiting for its write. */
export interface Queued {
  readonly bytes: Uint8Array;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/** What the writer needs of the log's owner. */
export interface CommitOwner {
  /** The open log the records go to. */
  log(): AppendLog;
  /** Whether `log` is due a roll. */
  rollDue(log: AppendLog): boolean;
  /** The state to roll over with (asked when nothing is queued); the roll is then no longer due. */
  rollState(): Uint8Array;
  /** The transaction of a lone record is the only one running in the process (on any log). */
  alone(): boolean;
  /** A write, sync or roll failed: `batch` holds the records that were being written. */
  fail(e: unknown, batch: readonly Queued[]): void;
  /** A flush ended: nothing is queued, or it failed. */
  settled(): void;
}

/** The queue of records and the flush that writes them. */
export class GroupCommit {
  readonly #owner: CommitOwner;
  #queue: Queued[] = [];
  #flushing: Promise<void> | undefined;
  /** While set, new transactions wait: a roll needs the queue empty, which steady load never leaves it. */
  #gate: Promise<void> | undefined;

  constructor(owner: CommitOwner) {
    this.#owner = owner;
  }

  /** Nothing queued and no flush running. */
  get idle(): boolean {
    return this.#queue.length === 0 && this.#flushing === undefined;
  }

  /** Set while a roll that is due holds new transactions back: wait for it before taking a turn's state. */
  get gate(): Promise<void> | undefined {
    return this.#gate;
  }

  /** Wait until every queued record is durable (or failed). */
  async drained(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
  }

  /** Queue a record for the next write; resolves when it is durable. */
  enqueue(bytes: Uint8Array): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ bytes, resolve, reject });
      this.#flushing ??= this.#flush();
    });
  }

  /** Reject every record still queued (the owner stopped after a failure). */
  rejectQueued(e: unknown): void {
    for (const q of this.#queue.splice(0)) q.reject(e);
  }

  /** Write what is queued, batch after batch, then compact when due; runs while the lock is held. */
  async #flush(): Promise<void> {
    let open: (() => void) | undefined;
    try {
      for (;;) {
        const log = this.#owner.log();
        const due = this.#owner.rollDue(log);
        if (due && open === undefined && this.#queue.length > 0) this.#gate = new Promise<void>((r) => (open = r));
        if (this.#queue.length > 0) {
          const batch = this.#queue.splice(0, MAX_BATCH);
          // Alone in the process: nobody would join a group or flush beside it, so spare the
          // thread-pool round trip.
          const alone = batch.length === 1 && this.#owner.alone();
          try {
            await log.append(batch.map((q) => q.bytes), alone);
          } catch (e) {
            this.#owner.fail(e, batch);
            return;
          }
          for (const q of batch) q.resolve();
          continue;
        }
        if (due) {
          // Nothing is queued, so the state is exactly what the log holds.
          const snapshot = this.#owner.rollState();
          try {
            await log.roll(snapshot);
          } catch (e) {
            if (!(e instanceof RollSkipped)) {
              this.#owner.fail(e, []);
              return;
            }
            // Not fatal: try again after as many bytes more.
          }
          if (open !== undefined) {
            this.#gate = undefined;
            open();
            open = undefined;
          }
          continue;
        }
        return;
      }
    } finally {
      if (open !== undefined) {
        this.#gate = undefined;
        open();
      }
      this.#flushing = undefined;
      this.#owner.settled();
    }
  }
}
