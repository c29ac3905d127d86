/**
 * The records of one batch: its requests decided in order on the head this object holds
 * (core/ledger/plan.ts), the records they make sealed, and appended to both copies, one durable
 * write each, before any of them is acknowledged.
 */
import { planBatch, type BatchPlan, type LedgerOp } from '../../core/ledger/plan.js';
import { sealRecord } from '../../core/ledger/seal.js';
import type { AppendLog } from '../log/append-log.js';
import { ioError } from './copies.js';
import type { LedgerState } from './state.js';

/**
 * Most requests folded into one group commit (bounds one write to a few hundred KiB); a repair
 * appends what a copy lacks in writes of as many records.
 */
export const MAX_BATCH = 1024;

/** Decide `ops` in order at the current head and time (nothing is written yet). */
export function planRecords(state: LedgerState, ops: readonly LedgerOp[]): BatchPlan {
  return planBatch(state.head, ops, state.credits, state.now(), (k) => state.keys.get(k));
}

/** Seal the plan's records and append them to both copies; then they are this object's head. */
export async function appendRecords(state: LedgerState, plan: BatchPlan): Promise<void> {
  const bodies = await Promise.all(plan.plaintexts.map((pt) => sealRecord(state.key, pt)));
  // Both copies are written and made durable in parallel (one write each, O_DSYNC where the
  // platform has it); the requests are acknowledged only after both. allSettled, not all: when
  // one copy fails at once, the other's write is still in flight, and nothing may be reported
  // (or written next) before it lands.
  const [pw, mw] = await Promise.allSettled([(state.logs.primary as AppendLog).append(bodies), (state.logs.mirror as AppendLog).append(bodies)]);
  if (pw.status === 'rejected') throw state.poison(ioError(state.paths.primary, 'write to', pw.reason));
  if (mw.status === 'rejected') throw state.poison(ioError(state.paths.mirror, 'write to', mw.reason));
  state.keys.add(plan.records, state.head.carried);
  state.noteTimes(plan.records);
  state.head = plan.head;
  state.commits++;
  state.records += plan.plaintexts.length;
}
