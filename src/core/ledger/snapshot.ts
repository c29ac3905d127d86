/**
 * The credit ledger's snapshot: its state after record `head.seq`, so that opening a copy reads the
 * snapshot and the records after it instead of every record ever written. Pure.
 *
 * The state is sealed with the ledger key (AES-256-GCM, its own associated data, so neither a record
 * nor any other sealed file passes as a snapshot): a user cannot edit it, and it is bound to the
 * license (the key is per license, and the license id is inside). The log engine stores it beside
 * the position it stands for; the reader checks that `head.seq + 1` equals that position. A snapshot
 * that does not open or does not match is only a lost shortcut: every record stays in the segments,
 * so the state is rebuilt from them (see CreditLedger).
 *
 * Plaintext: UTF-8 JSON `{ v, license, seq, hash, consumed, toppedUp, carried, origin, tokens, keys, latest }`
 * (hashes in hex; `keys` as `[key, seq, amount, consumed, toppedUp, spent]`, oldest first).
 */
import { bytesEqual, fromHex, fromUtf8, toHex, utf8 } from '../codec/bytes.js';
import { seal, unseal } from '../crypto/seal.js';
import type { ChainHead } from './chain.js';
import type { KeyedConsume } from './plan.js';
import type { LedgerKey } from './seal.js';

/** What a snapshot holds. */
export interface LedgerSnapshot {
  /** The chain head after the last record it accounts for (seq -1: none). */
  readonly head: ChainHead;
  /** The idempotency index's entries, oldest first. */
  readonly keys: readonly (readonly [string, KeyedConsume])[];
  /** The latest record time (ms), or undefined while empty. */
  readonly latest: number | undefined;
}

const AAD = utf8('licit-ledger-snapshot-v1');
const VERSION = 1;

/** Seal `s` for license `licenseId` under the ledger key. */
export async function encodeSnapshot(key: LedgerKey, licenseId: string, s: LedgerSnapshot): Promise<Uint8Array> {
  const h = s.head;
  const json = {
    v: VERSION,
    license: licenseId,
    seq: h.seq,
    hash: toHex(h.hash),
    consumed: h.consumed,
    toppedUp: h.toppedUp,
    carried: h.carried,
    origin: h.origin === undefined ? null : toHex(h.origin),
    tokens: [...h.tokens],
    keys: s.keys.map(([k, c]) => [k, c.seq, c.amount, c.consumed, c.toppedUp, c.spent]),
    latest: s.latest ?? null,
  };
  return seal(key, utf8(JSON.stringify(json)), AAD);
}

const count = (n: unknown, min = 0): n is number => Number.isSafeInteger(n) && (n as number) >= min;

/**
 * Open a snapshot sealed for `licenseId`: the state, or `undefined` when it does not authenticate
 * under this key or is malformed (then it is rebuilt from the records, never trusted).
 */
export async function decodeSnapshot(key: LedgerKey, licenseId: string, bytes: Uint8Array): Promise<LedgerSnapshot | undefined> {
  const pt = await unseal(key, bytes, AAD);
  if (pt === undefined) return undefined;
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(fromUtf8(pt)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (j === null || typeof j !== 'object' || j.v !== VERSION || j.license !== licenseId) return undefined;
  const hash = typeof j.hash === 'string' ? fromHex(j.hash) : undefined;
  const origin = j.origin === null ? undefined : typeof j.origin === 'string' ? fromHex(j.origin) : new Uint8Array(0);
  if (!count(j.seq, -1) || hash?.length !== 32 || (origin !== undefined && origin.length !== 32)) return undefined;
  if (!count(j.consumed) || !count(j.toppedUp) || !count(j.carried) || !(j.latest === null || count(j.latest))) return undefined;
  if (!Array.isArray(j.tokens) || !j.tokens.every((t) => typeof t === 'string') || !Array.isArray(j.keys)) return undefined;
  const keys: [string, KeyedConsume][] = [];
  for (const e of j.keys as unknown[]) {
    if (!Array.isArray(e) || e.length !== 6 || typeof e[0] !== 'string' || !e.slice(1).every((n) => count(n))) return undefined;
    const [k, seq, amount, consumed, toppedUp, spent] = e as [string, number, number, number, number, number];
    keys.push([k, { seq, amount, consumed, toppedUp, spent }]);
  }
  const head: ChainHead = { seq: j.seq, hash, consumed: j.consumed, toppedUp: j.toppedUp, tokens: new Set(j.tokens as string[]), carried: j.carried, origin };
  return { head, keys, latest: j.latest === null ? undefined : (j.latest as number) };
}

/** A reason two snapshots (one read, one recomputed from the records) differ, or undefined when equal. */
export function snapshotDiff(a: LedgerSnapshot, b: LedgerSnapshot): string | undefined {
  const x = a.head;
  const y = b.head;
  if (x.seq !== y.seq) return `it stands for record ${x.seq}, the records say ${y.seq}`;
  if (!bytesEqual(x.hash, y.hash)) return `its chain hash differs from record ${y.seq}'s`;
  if (x.consumed !== y.consumed || x.toppedUp !== y.toppedUp || x.carried !== y.carried) return 'its totals differ from the records\'';
  if ((x.origin === undefined) !== (y.origin === undefined) || (x.origin !== undefined && !bytesEqual(x.origin, y.origin as Uint8Array))) return 'its ledger id differs';
  if (x.tokens.size !== y.tokens.size || [...x.tokens].some((t) => !y.tokens.has(t))) return 'its applied top-up tokens differ';
  if (a.latest !== b.latest) return 'its latest record time differs';
  if (a.keys.length !== b.keys.length || a.keys.some(([k, c], i) => {
    const [k2, c2] = b.keys[i] as readonly [string, KeyedConsume];
    return k !== k2 || c.seq !== c2.seq || c.amount !== c2.amount || c.consumed !== c2.consumed || c.toppedUp !== c2.toppedUp || c.spent !== c2.spent;
  })) return 'its idempotency keys differ';
  return undefined;
}
