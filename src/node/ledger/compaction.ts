/**
 * Compaction of the two copies: both roll over to a new segment at the same record, with the
 * ledger's state sealed as their snapshot (core/ledger/snapshot.ts), so that opening reads the
 * snapshot and the records after it instead of the whole history.
 */
import { encodeSnapshot } from '../../core/ledger/snapshot.js';
import type { CopyName } from '../../core/ledger/reconcile.js';
import { RollSkipped, type AppendLog } from '../log/append-log.js';
import { COPIES, ioError } from './copies.js';
import type { LedgerState } from './state.js';

/**
 * Compaction, when the active segment has grown past the threshold (or a copy's snapshot was
 * missing or did not open): write the state as a sealed snapshot and start a new segment in BOTH
 * copies at the same record. The old segments stay (history and verify read them), so no record
 * is ever lost; opening then reads the snapshot and the records after it. A roll that could not
 * even write its snapshot changes nothing and is tried again later; any other failure poisons.
 */
export async function compact(state: LedgerState): Promise<void> {
  const logs = COPIES.map((n) => state.logs[n] as AppendLog);
  const active = Math.max(...logs.map((l) => l.activeBytes));
  const snap = Math.max(...logs.map((l) => l.snapshotBytes));
  if (!state.compactDue && active < Math.max(state.compactBytes, 2 * snap)) return;
  state.compactDue = false;
  const encoded = await encodeSnapshot(state.key, state.licenseId, { head: state.head, keys: state.keys.entries(), latest: state.latestTime });
  const rolls = await Promise.allSettled(logs.map((l) => l.roll(encoded)));
  rolls.forEach((r, i) => {
    if (r.status === 'rejected' && !(r.reason instanceof RollSkipped)) throw state.poison(ioError(state.paths[COPIES[i] as CopyName], 'compact', r.reason));
  });
}
