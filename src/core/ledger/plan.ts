/**
 * The decisions of one group commit, made in order before anything is written: which consumes
 * fit, which top-ups are new, whether a floor needs a carry-over record. Pure.
 */
import { toHex } from '../codec/bytes.js';
import { LicenseError } from '../errors.js';
import { nextHead, type ChainHead } from './chain.js';
import { encodeRecord, recordHash, RecordFieldError, type LedgerRecord, type RecordKind } from './record.js';

/** A request waiting for the next group commit. */
export type LedgerOp =
  | { readonly kind: 'consume'; readonly amount: number; readonly reason: string; readonly idempotencyKey?: string | undefined }
  | { readonly kind: 'topup'; readonly tokenId: string; readonly credits: number }
  | { readonly kind: 'floor'; readonly floor: number };

/** Credits as the application sees them. */
export interface Balance {
  /** License credits plus applied top-ups. */
  readonly allowance: number;
  /** Credits consumed (never below the vendor's floor). */
  readonly consumed: number;
  /** `max(0, allowance - consumed)`. */
  readonly remaining: number;
  /** Credits added by top-ups (part of `allowance`). */
  readonly toppedUp: number;
  /**
   * Credits consumed by this ledger's own `consume` calls: `consumed` less what vendor floors carried
   * in (other installations' and earlier ledgers' spending). Reported to the vendor with `ledgerId`.
   */
  readonly spent: number;
  /** This ledger's identity (hex; the hash of its first record), or undefined while it is empty. */
  readonly ledgerId: string | undefined;
}

/** The balance after `head` for a license granting `credits`. */
export function balanceOf(head: ChainHead, credits: number): Balance {
  const allowance = credits + head.toppedUp;
  return {
    allowance,
    consumed: head.consumed,
    remaining: Math.max(0, allowance - head.consumed),
    toppedUp: head.toppedUp,
    spent: head.consumed - head.carried,
    ledgerId: head.origin === undefined ? undefined : toHex(head.origin.subarray(0, 16)),
  };
}

/** What the ledger remembers of a consume that carried an idempotency key (see keys.ts). */
export interface KeyedConsume {
  /** Its record's sequence number. */
  readonly seq: number;
  /** Credits it consumed. */
  readonly amount: number;
  /** Total consumed after it. */
  readonly consumed: number;
  /** Total topped up after it. */
  readonly toppedUp: number;
  /** `spent` after it (consumed less carried). */
  readonly spent: number;
}

/** Finds the consume recorded under an idempotency key, if the ledger remembers it. */
export type KeyLookup = (key: string) => KeyedConsume | undefined;

/** The balance right after a keyed consume, for a repeated request's receipt. */
export function balanceAfter(k: KeyedConsume, credits: number, head: ChainHead): Balance {
  const allowance = credits + k.toppedUp;
  return { allowance, consumed: k.consumed, remaining: Math.max(0, allowance - k.consumed), toppedUp: k.toppedUp, spent: k.spent, ledgerId: head.origin === undefined ? undefined : toHex(head.origin.subarray(0, 16)) };
}

/** What happened to one op. */
export type OpOutcome =
  | {
      /** The op was applied (or was a no-op). */
      readonly ok: true;
      /** The record it wrote (absent when it wrote nothing, e.g. a top-up applied before). */
      readonly record?: LedgerRecord;
      /** A consume whose idempotency key was recorded before: nothing written; this is the original. */
      readonly repeated?: KeyedConsume;
      /** The balance after it (for a repeated consume: after the original). */
      readonly balance: Balance;
    }
  | {
      /** The op was refused; it wrote and changed nothing. */
      readonly ok: false;
      /** Why. */
      readonly error: LicenseError;
    };

/** The records to write and every op's outcome. */
export interface BatchPlan {
  /** Encoded records to seal and append, in order (none for refused or no-op ops). */
  readonly plaintexts: readonly Uint8Array[];
  /** The same records, decoded. */
  readonly records: readonly LedgerRecord[];
  /** One outcome per op, in the order the ops were given. */
  readonly outcomes: readonly OpOutcome[];
  /** The chain head after every planned record. */
  readonly head: ChainHead;
}

/**
 * Plan a batch: each op is decided against the state left by the ops before it, so refusals are
 * exact and atomic (a refused consume writes nothing and changes nothing). A consume whose
 * idempotency key `keys` (or an earlier op of the batch) knows is answered with the original
 * and writes nothing; the same key with another amount is `ERR_USAGE`.
 */
export function planBatch(head: ChainHead, ops: readonly LedgerOp[], credits: number, now: number, keys: KeyLookup = () => undefined): BatchPlan {
  const plaintexts: Uint8Array[] = [];
  const records: LedgerRecord[] = [];
  const outcomes: OpOutcome[] = [];
  // Keys first used in this batch (not yet in `keys`).
  let batchKeys: Map<string, KeyedConsume> | undefined;
  // Copied on the first top-up only: the set grows with every token ever applied.
  let tokens: Set<string> | undefined;
  let h = head;
  // Records are built as literals of one shape: an object spread here cost more than sealing.
  const append = (kind: RecordKind, amount: number, consumed: number, toppedUp: number, reason: string, tokenId?: string, idempotencyKey?: string): LedgerRecord => {
    const rec: LedgerRecord =
      tokenId !== undefined
        ? { seq: h.seq + 1, kind, amount, consumed, toppedUp, time: now, reason, tokenId, prevHash: h.hash }
        : idempotencyKey !== undefined
          ? { seq: h.seq + 1, kind, amount, consumed, toppedUp, time: now, reason, idempotencyKey, prevHash: h.hash }
          : { seq: h.seq + 1, kind, amount, consumed, toppedUp, time: now, reason, prevHash: h.hash };
    const pt = encodeRecord(rec);
    if (kind === 'topup') tokens ??= new Set(head.tokens);
    // nextHead adds to the set only for a top-up, which always gets the copy made above.
    const next = nextHead(h, rec, recordHash(pt), tokens ?? (head.tokens as Set<string>));
    if (typeof next === 'string') throw new LicenseError('ERR_INTERNAL', `ledger plan produced an invalid record: ${next}`);
    plaintexts.push(pt);
    records.push(rec);
    h = next;
    return rec;
  };
  for (const op of ops) {
    try {
      if (op.kind === 'consume') {
        const key = op.idempotencyKey;
        const prior = key === undefined ? undefined : (batchKeys?.get(key) ?? keys(key));
        if (prior !== undefined) {
          outcomes.push(
            prior.amount === op.amount
              ? { ok: true, repeated: prior, balance: balanceAfter(prior, credits, h) }
              : {
                  ok: false,
                  error: new LicenseError(
                    'ERR_IDEMPOTENCY_CONFLICT',
                    `idempotency key ${JSON.stringify(key)} was already used for a consume of ${prior.amount} credit${prior.amount === 1 ? '' : 's'} (record ${prior.seq}); this consume asks for ${op.amount}. Use a new key for a new consume, or the same amount to retry that one`,
                    { idempotencyKey: key, recordedAmount: prior.amount, requested: op.amount, seq: prior.seq },
                  ),
                },
          );
          continue;
        }
        const before = balanceOf(h, credits);
        if (op.amount > before.remaining) {
          outcomes.push({
            ok: false,
            error: new LicenseError(
              'ERR_CREDITS_EXHAUSTED',
              `cannot consume ${op.amount} credit${op.amount === 1 ? '' : 's'}: ${before.remaining} of ${before.allowance} remain. Apply a top-up token from the vendor (licit credits ... topup TOKEN)`,
              { requested: op.amount, remaining: before.remaining, allowance: before.allowance, consumed: before.consumed },
            ),
          });
          continue;
        }
        const record = append('consume', op.amount, h.consumed + op.amount, h.toppedUp, op.reason, undefined, key);
        if (key !== undefined) (batchKeys ??= new Map()).set(key, { seq: record.seq, amount: op.amount, consumed: h.consumed, toppedUp: h.toppedUp, spent: h.consumed - h.carried });
        outcomes.push({ ok: true, record, balance: balanceOf(h, credits) });
      } else if (op.kind === 'topup') {
        if ((tokens ?? head.tokens).has(op.tokenId)) {
          outcomes.push({ ok: true, balance: balanceOf(h, credits) });
          continue;
        }
        const record = append('topup', op.credits, h.consumed, h.toppedUp + op.credits, 'top-up', op.tokenId);
        outcomes.push({ ok: true, record, balance: balanceOf(h, credits) });
      } else {
        if (op.floor <= h.consumed) {
          outcomes.push({ ok: true, balance: balanceOf(h, credits) });
          continue;
        }
        const record = append('carry', op.floor - h.consumed, op.floor, h.toppedUp, 'vendor floor');
        outcomes.push({ ok: true, record, balance: balanceOf(h, credits) });
      }
    } catch (e) {
      if (!(e instanceof RecordFieldError)) throw e;
      outcomes.push({ ok: false, error: new LicenseError('ERR_USAGE', e.message) });
    }
  }
  return { plaintexts, records, outcomes, head: h };
}

/** A threshold crossing of the remaining credits. */
export interface ThresholdEvent {
  /** The threshold crossed, in remaining credits. */
  readonly threshold: number;
  /** `down`: remaining fell to or below the threshold; `up`: it rose above it again (top-up). */
  readonly direction: 'down' | 'up';
  /** Credits remaining after the change. */
  readonly remaining: number;
}

/** The thresholds crossed when remaining goes from `before` to `after`. */
export function crossings(before: number, after: number, thresholds: readonly number[]): ThresholdEvent[] {
  const out: ThresholdEvent[] = [];
  for (const t of thresholds) {
    if (before > t && after <= t) out.push({ threshold: t, direction: 'down', remaining: after });
    else if (before <= t && after > t) out.push({ threshold: t, direction: 'up', remaining: after });
  }
  return out;
}
