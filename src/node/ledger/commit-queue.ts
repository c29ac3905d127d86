/**
 * The writer loop of one open ledger (group commit). Requests queue up; one loop takes every
 * pending one (up to {@link MAX_BATCH}), brings the state up to the disk under the ledger locks,
 * decides the batch's operations in order, writes their records to both copies (records.ts) and
 * only then answers them. Read-only requests (tasks) run in the same turn, after the batch's
 * records. The locks are kept while more work is queued and nobody else waits (session.ts).
 */
import { LicenseError } from '../../core/errors.js';
import type { Balance, BatchPlan, KeyedConsume, LedgerOp } from '../../core/ledger/plan.js';
import type { LedgerRecord } from '../../core/ledger/record.js';
import { compact } from './compaction.js';
import type { Reconciler } from './reconciliation.js';
import { appendRecords, MAX_BATCH, planRecords } from './records.js';
import type { LockSession } from './session.js';
import type { LedgerState } from './state.js';

type Task<T> = () => Promise<T>;
/** What an operation resolves with: its record (none when it changed nothing), or the earlier consume it repeats. */
export type OpResult = { record?: LedgerRecord; repeated?: KeyedConsume; balance: Balance };
type Pending =
  | { readonly type: 'op'; readonly op: LedgerOp; resolve(v: OpResult): void; reject(e: unknown): void }
  | { readonly type: 'task'; readonly task: Task<unknown>; resolve(v: unknown): void; reject(e: unknown): void };

/** The request queue and writer loop of one open ledger. */
export class CommitQueue {
  readonly #state: LedgerState;
  readonly #session: LockSession;
  readonly #reconciler: Reconciler;
  /** Called after each batch with the remaining credits before and after it (threshold events). */
  readonly #committed: (before: number, after: number) => void;
  #queue: Pending[] = [];
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(state: LedgerState, session: LockSession, reconciler: Reconciler, committed: (before: number, after: number) => void) {
    this.#state = state;
    this.#session = session;
    this.#reconciler = reconciler;
    this.#committed = committed;
  }

  /** Queue an operation; resolves once its record (if any) is durable in both copies. */
  submitOp(op: LedgerOp): Promise<OpResult> {
    return new Promise((resolve, reject) => this.#enqueue({ type: 'op', op, resolve, reject }));
  }

  /** Queue a read-only task, run under the locks on the state as of the disk. */
  submitTask<T>(task: Task<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => this.#enqueue({ type: 'task', task, resolve: resolve as (v: unknown) => void, reject }));
  }

  /** Refuse new requests (once the ledger has been read) and wait for the loop to finish. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#running;
  }

  #enqueue(p: Pending): void {
    if (this.#closed && this.#state.loaded) {
      p.reject(new LicenseError('ERR_USAGE', 'this credit ledger was closed; open it again'));
      return;
    }
    if (this.#state.poisoned !== undefined) {
      p.reject(this.#state.poisonedError());
      return;
    }
    this.#queue.push(p);
    this.#running ??= this.#loop().finally(() => {
      this.#running = undefined;
    });
  }

  async #loop(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, MAX_BATCH);
      await this.#commit(batch);
      // Let callers resumed by this commit queue their next request before deciding on the lock:
      // a tick runs once the promise jobs they resumed in have run (cheaper than a loop turn).
      await new Promise<void>((r) => process.nextTick(r));
      await this.#session.leave(this.#queue.length > 0).catch(() => undefined);
    }
  }

  async #commit(batch: Pending[]): Promise<void> {
    const s = this.#state;
    if (s.poisoned !== undefined) {
      for (const p of batch) p.reject(s.poisonedError());
      return;
    }
    const ops = batch.filter((p): p is Extract<Pending, { type: 'op' }> => p.type === 'op');
    const tasks = batch.filter((p): p is Extract<Pending, { type: 'task' }> => p.type === 'task');
    let before: number;
    try {
      const fresh = await this.#session.enter();
      before = s.balance().remaining;
      if (fresh || s.stale || !s.loaded) await this.#reconciler.refresh();
    } catch (e) {
      // Whatever was half done, the next look reads everything again.
      s.stale = true;
      for (const p of batch) p.reject(e);
      if (s.poisoned !== undefined) await this.#stop();
      else await this.#session.release().catch(() => undefined);
      return;
    }
    if (ops.length > 0) await this.#commitOps(ops);
    if (s.poisoned !== undefined) {
      for (const t of tasks) t.reject(s.poisonedError());
      await this.#stop();
      return;
    }
    for (const t of tasks) {
      try {
        t.resolve(await t.task());
      } catch (e) {
        t.reject(e);
      }
    }
    this.#committed(before, s.balance().remaining);
    // After the answers: a roll delays the next batch, never this one's.
    await compact(s).catch(() => undefined);
    if (s.poisoned !== undefined) await this.#stop();
  }

  async #commitOps(ops: Extract<Pending, { type: 'op' }>[]): Promise<void> {
    const s = this.#state;
    let plan: BatchPlan;
    try {
      plan = planRecords(s, ops.map((p) => p.op));
      if (plan.plaintexts.length > 0) await appendRecords(s, plan);
    } catch (e) {
      // Before any write (sealing) nothing reached the disk; a failed write has poisoned this
      // object. Either way the next look, if any, reads everything again.
      s.stale = true;
      for (const p of ops) p.reject(e);
      return;
    }
    plan.outcomes.forEach((o, i) => {
      const p = ops[i] as (typeof ops)[number];
      if (!o.ok) p.reject(o.error);
      else if (o.repeated !== undefined) p.resolve({ repeated: o.repeated, balance: o.balance });
      else p.resolve(o.record === undefined ? { balance: o.balance } : { record: o.record, balance: o.balance });
    });
  }

  /** After poisoning: let other processes in and drop the descriptors (no write is in flight). */
  async #stop(): Promise<void> {
    await this.#session.release().catch(() => undefined);
    this.#state.closeLogs();
  }
}
