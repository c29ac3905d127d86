/**
 * The newest part of a license's audit log, verified without reading the rest: a page of a log of
 * 100,000 events reads and hashes the events from that page to the newest one, not all of them.
 *
 * What it proves: the head record names the newest event's hash, and every event's hash covers its
 * content and the hash of the event before it, so events `from`..`head.seq` that chain, one to the
 * next, up to the head are exactly the events the head was written with. It proves nothing about
 * events older than `from` (they were not read): {@link readVerifiedLog} (audit-chain.ts, `licit
 * log`) checks the whole log. A log cut short, an edited or reordered event, or a missing head
 * within what was read is `ERR_AUDIT_TAMPERED`, as there.
 */
import type { AuditEvent, Store } from '../store/store.js';
import { CHAIN_FIELD, HEAD_KEY, HEAD_KIND, eventHash, genesisHash, isAuditHead, linksOf, rawEvents, tampered, type AuditHead, type AuditLogEntry } from './audit-chain.js';

/**
 * Check events `from`..`to` of one license (in order, as `Store.events` returns them) chain to
 * `endHash` (the head's hash, or the `prev` of event `to + 1`). Pure. Returns the entries, or the
 * first event (from the newest down) that cannot be trusted and why.
 */
export function verifyAuditSegment(licenseId: string, events: readonly AuditEvent[], from: number, to: number, endHash: string): { ok: true; entries: AuditLogEntry[] } | { ok: false; seq: number; reason: string } {
  const entries: AuditLogEntry[] = [];
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as AuditEvent;
    if (e.seq !== from + i) return { ok: false, seq: from + i, reason: e.seq > from + i ? `event ${from + i} is missing (the next one present is ${e.seq})` : `event ${e.seq} appears out of order or twice` };
    if (e.licenseId !== licenseId) return { ok: false, seq: e.seq, reason: `event belongs to license "${e.licenseId}"` };
    const links = linksOf(e);
    if (links === undefined) return { ok: false, seq: e.seq, reason: 'event carries no hash chain (inserted, or written by a store not wrapped with withAuditChain)' };
    if (eventHash(e.licenseId, e.seq, e.at, e.actor, e.kind, { ...links.rest, [CHAIN_FIELD]: { prev: links.prev } }) !== links.hash) return { ok: false, seq: e.seq, reason: 'event was changed after it was written (its content no longer matches its hash)' };
    if (i > 0 && links.prev !== (entries[i - 1] as AuditLogEntry).hash) return { ok: false, seq: e.seq, reason: `event does not follow event ${e.seq - 1} (one of them was rewritten, or events were removed or reordered)` };
    if (e.seq === 1 && links.prev !== genesisHash(licenseId)) return { ok: false, seq: 1, reason: "event does not start this license's chain (copied from another log, or rewritten)" };
    entries.push({ licenseId: e.licenseId, seq: e.seq, at: e.at, actor: e.actor, kind: e.kind, details: links.rest, prev: links.prev, hash: links.hash });
  }
  if (events.length < to - from + 1) return { ok: false, seq: from + events.length, reason: `events ${from + events.length}..${to} are missing (the log was truncated)` };
  const last = entries.at(-1);
  if (last !== undefined && last.hash !== endHash) return { ok: false, seq: last.seq, reason: 'the chain head, or the event after this one, does not match this event (the log was rewritten or the head edited)' };
  return { ok: true, entries };
}

/**
 * A license's audit log read from the newest event back, a chunk at a time, each chunk verified
 * against the one after it (the first against the head). {@link VerifiedTail.from} says how far
 * back it has been verified.
 */
export class VerifiedTail {
  #from: number;
  #endHash: string;

  private constructor(
    private readonly store: Store,
    readonly licenseId: string,
    /** The newest event, which every event read was verified against (`seq` 0: the log is empty). */
    readonly head: AuditHead,
  ) {
    this.#from = head.seq + 1;
    this.#endHash = head.hash;
  }

  /**
   * Read the head, and the events committed after it (normally none), which must chain on to it.
   * `ERR_AUDIT_TAMPERED` when the head record is malformed, missing while the log holds events, or
   * followed by an event that does not chain on.
   */
  static async open(store: Store, licenseId: string): Promise<VerifiedTail> {
    const raw = await store.read(licenseId, (r) => r.get(HEAD_KIND, HEAD_KEY));
    if (raw !== undefined && !isAuditHead(raw)) throw tampered(licenseId, 1, 'the chain head record is malformed');
    const head = raw ?? { seq: 0, hash: '' };
    // Events after the head: a commit that landed after the head was read (accepted when it
    // chains on, and then the newest), or events written around the chain (refused).
    const newer = await rawEvents(store, licenseId, { afterSeq: head.seq });
    if (newer.length === 0) return new VerifiedTail(store, licenseId, head);
    if (raw === undefined) throw tampered(licenseId, 1, 'the chain head record is missing (deleted, or the log was written by a store not wrapped with withAuditChain)');
    const top = newer.at(-1) as AuditEvent;
    const v = verifyAuditSegment(licenseId, newer, head.seq + 1, top.seq, linksOf(top)?.hash ?? '');
    if (!v.ok) throw tampered(licenseId, v.seq, v.reason);
    const first = v.entries[0] as AuditLogEntry;
    if (head.seq > 0 && first.prev !== head.hash) throw tampered(licenseId, first.seq, `event does not follow event ${head.seq} (written around the hash chain, or rewritten)`);
    const last = v.entries.at(-1) as AuditLogEntry;
    return new VerifiedTail(store, licenseId, { seq: last.seq, hash: last.hash });
  }

  /** The oldest event verified so far (`head.seq + 1` before the first read; 1 once every event was read). */
  get from(): number {
    return this.#from;
  }

  /** True when every event up to the head was read and verified. */
  get done(): boolean {
    return this.#from <= 1;
  }

  /**
   * The `count` events before those read so far (fewer at the start of the log), in sequence
   * order, verified. `ERR_AUDIT_TAMPERED` naming the first event that cannot be trusted.
   */
  async older(count: number): Promise<AuditLogEntry[]> {
    const to = this.#from - 1;
    const from = Math.max(1, to - Math.max(1, Math.floor(count)) + 1);
    if (to < 1) return [];
    const events = await rawEvents(this.store, this.licenseId, { afterSeq: from - 1, limit: to - from + 1 });
    const v = verifyAuditSegment(this.licenseId, events, from, to, this.#endHash);
    if (!v.ok) throw tampered(this.licenseId, v.seq, v.reason);
    this.#from = from;
    this.#endHash = (v.entries[0] as AuditLogEntry).prev;
    return v.entries;
  }
}
