/**
 * Reading and checking a chain of sealed records from the bytes of one ledger copy.
 *
 * A copy reads as `ok` (possibly with a torn tail that a crash left and that was never
 * acknowledged) or as `tampered`. The torn-tail rule is deliberately narrow, so that edits are
 * not excused as crashes: only the LAST piece of the file may be bad, and only in a shape a crash
 * can produce: a frame cut short by the end of the file, or a complete-length frame whose bytes
 * from some sector boundary on are still zeros (a pre-extended file whose last write was torn). A
 * bad frame that any other length would authenticate is a modified length prefix: tampering.
 */
import { bytesEqual } from '../codec/bytes.js';
import { dataEnd, lengthAt, MAX_BODY, MIN_BODY, sectorCeil } from './frame.js';
import { decodeRecord, recordHash, type LedgerRecord } from './record.js';
import { openRecord, type LedgerKey } from './seal.js';

/** The state after the last record of a chain: what the next record must continue. */
export interface ChainHead {
  /** Sequence number of the last record; -1 before the first. */
  readonly seq: number;
  /** Hash of the last record's plaintext (the genesis hash before the first). */
  readonly hash: Uint8Array;
  /** Credits consumed after the last record (0 before the first). */
  readonly consumed: number;
  /** Credits added by top-ups after the last record (0 before the first). */
  readonly toppedUp: number;
  /** Token ids of every top-up applied so far. */
  readonly tokens: ReadonlySet<string>;
  /** Credits added to `consumed` by carry records (vendor floors), not spent here (0 before the first). */
  readonly carried: number;
  /**
   * Hash of record 0: identifies this ledger among every ledger the license ever had, so the vendor
   * can add up what each spent (a deleted and re-created ledger starts a new origin). Undefined before
   * the first record.
   */
  readonly origin: Uint8Array | undefined;
}

/** A record as read from a copy, with where its frame sits (absolute file offsets). */
export interface ChainEntry {
  /** The decoded record. */
  readonly record: LedgerRecord;
  /** SHA-256 of its plaintext. */
  readonly hash: Uint8Array;
  /** Absolute offset of its frame's first byte (the length prefix). */
  readonly start: number;
  /** Absolute offset just after its frame. */
  readonly end: number;
}

/** A copy that verified. */
export interface ChainOk {
  /** Discriminant: the copy verified. */
  readonly status: 'ok';
  /** Records read (after the starting head). */
  readonly entries: readonly ChainEntry[];
  /** The state after the last good record (what the next record continues). */
  readonly head: ChainHead;
  /** Absolute offset just after the last good record: where the next record goes. */
  readonly end: number;
  /** Absolute offset one past the last non-zero byte (beyond `end` only when a torn tail is present). */
  readonly dirtyEnd: number;
  /** A torn final record was found at `end` and must be zeroed before writing. */
  readonly torn: boolean;
}

/** A copy that did not verify. */
export interface ChainTampered {
  /** Discriminant: the copy failed verification. */
  readonly status: 'tampered';
  /**
   * Where verification failed: an absolute file offset in a one-file copy ({@link readChain}); the
   * failing record's number in a log copy ({@link chainBodies}), or -1 for damage to its files.
   */
  readonly offset: number;
  /** What was wrong there, in words for people. */
  readonly reason: string;
  /**
   * The record at `offset` does not authenticate under the key (as opposed to a bad length,
   * numbering or chain). At offset 0 in every copy this is also what a wrong secret looks like.
   */
  readonly unauthenticated?: boolean;
}

/** The result of {@link readChain}. */
export type ChainRead = ChainOk | ChainTampered;

/** The head before any record of a license's chain. */
export function emptyHead(genesis: Uint8Array): ChainHead {
  return { seq: -1, hash: genesis, consumed: 0, toppedUp: 0, tokens: new Set(), carried: 0, origin: undefined };
}

/**
 * The head after `r`, or a reason why `r` cannot follow `h`. Pure; used by the reader and by the
 * writer's own plan, so what is written is exactly what will verify.
 */
export function nextHead(h: ChainHead, r: LedgerRecord, hash: Uint8Array, tokens: Set<string>): ChainHead | string {
  if (r.seq !== h.seq + 1) return `record ${r.seq} where ${h.seq + 1} was expected`;
  if (!bytesEqual(r.prevHash, h.hash)) return `record ${r.seq} does not chain to the record before it`;
  if (r.amount < 1) return `record ${r.seq} has amount 0`;
  if (r.idempotencyKey !== undefined && r.kind !== 'consume') return `record ${r.seq} is a ${r.kind} with an idempotency key`;
  if (r.kind === 'topup') {
    if (r.tokenId === undefined || tokens.has(r.tokenId)) return `record ${r.seq} repeats or lacks a top-up token id`;
    if (r.consumed !== h.consumed || r.toppedUp !== h.toppedUp + r.amount) return `record ${r.seq} has wrong running totals`;
    tokens.add(r.tokenId);
  } else {
    if (r.tokenId !== undefined) return `record ${r.seq} carries a token id`;
    if (r.toppedUp !== h.toppedUp || r.consumed !== h.consumed + r.amount) return `record ${r.seq} has wrong running totals`;
  }
  return { seq: r.seq, hash, consumed: r.consumed, toppedUp: r.toppedUp, tokens, carried: r.kind === 'carry' ? h.carried + r.amount : h.carried, origin: h.origin ?? hash };
}

interface Piece {
  start: number;
  len: number;
}

/**
 * Read the records in `bytes` (the file's contents from absolute offset `base` on), continuing
 * `head`. Decrypts in parallel; checks numbering, chain and running totals in order.
 *
 * @example
 * ```ts
 * const read = await readChain(key, fileBytes, 0, emptyHead(genesisHash(license.id)))
 * if (read.status === 'tampered') throw ...
 * ```
 */
export async function readChain(key: LedgerKey, bytes: Uint8Array, base: number, head: ChainHead): Promise<ChainRead> {
  const size = bytes.length;
  const last = dataEnd(bytes);
  const pieces: Piece[] = [];
  // A suspected torn tail: where it starts and whether its frame is cut off by the end of file.
  let suspect: { at: number; truncated: boolean } | undefined;
  let p = 0;
  for (;;) {
    if (p >= last) break; // only zeros (pre-extension) or nothing follow: a clean end
    if (size - p < 4) {
      suspect = { at: p, truncated: true };
      break;
    }
    const len = lengthAt(bytes, p);
    if (len < MIN_BODY || len > MAX_BODY) return { status: 'tampered', offset: base + p, reason: `impossible record length ${len} at offset ${base + p}` };
    if (p + 4 + len > size) {
      suspect = { at: p, truncated: true };
      break;
    }
    pieces.push({ start: p, len });
    p += 4 + len;
  }

  const plains = await openAll(key, bytes, pieces);
  const tokens = new Set(head.tokens);
  const entries: ChainEntry[] = [];
  let h = head;
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i] as Piece;
    const pt = plains[i];
    if (pt === undefined) {
      const isLast = i === pieces.length - 1 && suspect === undefined;
      if (isLast && tornShape(base, piece.start, piece.start + 4 + piece.len, last, false) && !(await otherLengthOpens(key, bytes, piece.start))) {
        suspect = { at: piece.start, truncated: false };
        break;
      }
      return { status: 'tampered', offset: base + piece.start, reason: `record at offset ${base + piece.start} fails authentication`, unauthenticated: true };
    }
    const record = decodeRecord(pt);
    if (record === undefined) return { status: 'tampered', offset: base + piece.start, reason: `record at offset ${base + piece.start} is malformed` };
    const hash = recordHash(pt);
    const next = nextHead(h, record, hash, tokens);
    if (typeof next === 'string') return { status: 'tampered', offset: base + piece.start, reason: next };
    h = next;
    entries.push({ record, hash, start: base + piece.start, end: base + piece.start + 4 + piece.len });
  }
  const end = entries.length === 0 ? base : (entries[entries.length - 1] as ChainEntry).end;
  if (suspect !== undefined && suspect.truncated && (!tornShape(base, suspect.at, size, last, true) || (await otherLengthOpens(key, bytes, suspect.at)))) {
    return { status: 'tampered', offset: base + suspect.at, reason: `the last record at offset ${base + suspect.at} was changed (its length or its bytes), not cut by a crash` };
  }
  return { status: 'ok', entries, head: h, end, dirtyEnd: base + last, torn: suspect !== undefined };
}

/**
 * Whether the piece `[start, end)` (relative; `last` = relative end of non-zero data) looks like
 * a crash: its data runs to the end of the file (`truncated`, allowing a few zero bytes that the
 * cut ciphertext may end in), or it is zero from a sector boundary inside it on (a torn write into
 * pre-extended space). Anything else (e.g. stray bytes followed by zeros) is an edit.
 */
function tornShape(base: number, start: number, end: number, last: number, truncated: boolean): boolean {
  if (truncated && end - last <= 3) return true;
  const boundary = sectorCeil(base + last) - base;
  return boundary > start && boundary < end;
}

/**
 * True when the bytes at `p` authenticate as a record of some other length: the length prefix
 * lies (an edit), where a torn write could never authenticate. Tries every possible length, in
 * parallel; this runs only for a suspected torn tail, so at most once per open.
 */
async function otherLengthOpens(key: LedgerKey, bytes: Uint8Array, p: number): Promise<boolean> {
  const tries: Promise<Uint8Array | undefined>[] = [];
  for (let len = MIN_BODY; len <= MAX_BODY && p + 4 + len <= bytes.length; len++) tries.push(openRecord(key, bytes.subarray(p + 4, p + 4 + len)));
  return (await Promise.all(tries)).some((pt) => pt !== undefined);
}

const PARALLEL = 256;

async function openAll(key: LedgerKey, bytes: Uint8Array, pieces: readonly Piece[]): Promise<(Uint8Array | undefined)[]> {
  const out: (Uint8Array | undefined)[] = [];
  for (let i = 0; i < pieces.length; i += PARALLEL) {
    const chunk = pieces.slice(i, i + PARALLEL).map((pc) => openRecord(key, bytes.subarray(pc.start + 4, pc.start + 4 + pc.len)));
    out.push(...(await Promise.all(chunk)));
  }
  return out;
}

/** A record read from a log copy, with its sealed body (the log engine does the framing). */
export interface LogEntry {
  /** The decoded record. */
  readonly record: LedgerRecord;
  /** SHA-256 of its plaintext. */
  readonly hash: Uint8Array;
  /** The sealed body as stored (`nonce | ciphertext | tag`): what a repair copies to the other copy. */
  readonly body: Uint8Array;
}

/** Sealed bodies that continue a head, all verified. */
export interface BodiesOk {
  /** Discriminant: every body verified. */
  readonly status: 'ok';
  /** The records, in order. */
  readonly entries: readonly LogEntry[];
  /** The state after the last one. */
  readonly head: ChainHead;
}

/**
 * Open and check sealed record bodies that continue `head` (the records of a log copy after its
 * snapshot, or from the first). The log engine has already cut a torn tail by its checksums, so
 * every body here is one a writer completed: any that fails is tampering. In the result,
 * `offset` is the failing record's number (0: the first record, as a wrong secret shows).
 */
export async function chainBodies(key: LedgerKey, bodies: readonly Uint8Array[], head: ChainHead): Promise<BodiesOk | ChainTampered> {
  const entries: LogEntry[] = [];
  const tokens = new Set(head.tokens);
  let h = head;
  for (let i = 0; i < bodies.length; i += PARALLEL) {
    const chunk = bodies.slice(i, i + PARALLEL);
    const plains = await Promise.all(chunk.map((b) => openRecord(key, b)));
    for (let j = 0; j < chunk.length; j++) {
      const at = h.seq + 1;
      const pt = plains[j];
      if (pt === undefined) return { status: 'tampered', offset: at, reason: `record ${at} fails authentication`, unauthenticated: true };
      const record = decodeRecord(pt);
      if (record === undefined) return { status: 'tampered', offset: at, reason: `record ${at} is malformed` };
      const hash = recordHash(pt);
      const next = nextHead(h, record, hash, tokens);
      if (typeof next === 'string') return { status: 'tampered', offset: at, reason: next };
      h = next;
      entries.push({ record, hash, body: chunk[j] as Uint8Array });
    }
  }
  return { status: 'ok', entries, head: h };
}
