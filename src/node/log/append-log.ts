/**
 * The files of one append-only log: a directory of segments and a snapshot (see `segment.ts`,
 * `snapshot.ts`). This class opens and replays them, reads what other processes appended, appends
 * group commits, cuts torn tails and rolls over to a new segment (compaction). It takes no lock:
 * every method that changes the disk is called by `DurableLog` under the log's lock, and
 * `locked: false` calls only read. Beside it: `replay.ts` reads a log directory back (and every
 * record of it, for histories), `log-dir.ts` creates one, `head-file.ts` keeps its head file, and
 * `errors.ts` holds the signals its owners catch.
 *
 * The active segment is pre-extended with zeros ({@link EXTEND_BYTES} at a time) and written in
 * place, opened `O_DSYNC` where the platform has it: a commit is one `write` that returns when its
 * data is on stable storage, and because the file's size rarely changes, the file system has no
 * metadata to journal for it (an append would force a journal commit every time).
 *
 * Nothing here deletes a record: segments are kept after a roll (they hold the history, e.g. an
 * audit trail), and the only bytes ever cut (overwritten with zeros) are a tail that is no
 * complete write.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readdirSync, rmSync, statSync, constants as fsc } from 'node:fs';
import { join } from 'node:path';
import { LogMoved, RollSkipped } from './errors.js';
import { dataEnd } from './frame.js';
import { HEAD_FILE, writeHead } from './head-file.js';
import { DSYNC, logIO, WRITABLE } from './io.js';
import { createLog, logExists } from './log-dir.js';
import { readAllRecords, readRange, replay, type OpenOptions } from './replay.js';
import { damaged, dataBytes, headerBytes, scanSegment, sealBytes, segmentName } from './segment.js';
import { SNAPSHOT, installSnapshot, writeSnapshotTemp } from './snapshot.js';

export { LogMoved, RollSkipped } from './errors.js';
export { HEAD_FILE } from './head-file.js';
export { dirMode } from './log-dir.js';
export type { OpenOptions } from './replay.js';

/** What opening a log found. */
export interface Opened {
  readonly log: AppendLog;
  /** The snapshot's state, or undefined when replay starts from the first record. */
  readonly snapshot: Uint8Array | undefined;
  /** Records after the snapshot, in order. */
  readonly records: Uint8Array[];
  /** The snapshot was missing or damaged and the state was rebuilt from every segment. */
  readonly rebuilt: boolean;
  /** A torn tail (bytes past the last complete write) was found in the active segment (and cut when locked). */
  readonly torn: boolean;
  /**
   * The record count the head file promised, when the log ends before it (cut short). Set only
   * with {@link OpenOptions.cutShort} `'report'`; otherwise such a log throws `ERR_STORE_CORRUPT`.
   */
  readonly cutShort?: number;
}

/** Growth step of the zero-filled space of the active segment. */
export const EXTEND_BYTES = 128 * 1024;
/** First read of the cheap check: enough for a frame head, and for most whole records. */
const PROBE_BYTES = 4096;

/** How much of a log's tail an owner writes back when it first holds the log (see {@link AppendLog.rewriteTail}). */
export const WRITE_BACK_BYTES = 64 * 1024;

/** An open log. */
export class AppendLog {
  #gen = 0;
  #fd = -1;
  #ino = 0;
  #writable = false;
  #end = 0;
  /** Allocated size of the active segment (data, then zeros). */
  #size = 0;
  #seq = 0;
  #sealed = false;
  #snapshotBytes = 0;
  #headFd = -1;
  /** What the head file says, as far as this process knows. */
  #headSeq = -1;

  private constructor(
    readonly dir: string,
    readonly id: string,
    readonly mode: number,
  ) {}

  /** Number of records committed so far (the last record's number). */
  get seq(): number {
    return this.#seq;
  }

  /** Bytes of the active segment. */
  get activeBytes(): number {
    return this.#end;
  }

  /** Bytes of the last snapshot (0 when none). */
  get snapshotBytes(): number {
    return this.#snapshotBytes;
  }

  /** The active segment's generation. */
  get gen(): number {
    return this.#gen;
  }

  #path(gen = this.#gen): string {
    return join(this.dir, segmentName(gen));
  }

  /** True when `dir` exists (a log, or something in its place that opening will judge). */
  static exists(dir: string): boolean {
    return logExists(dir);
  }

  /**
   * Create a log in `dir` atomically (see `createLog` in log-dir.ts). Resolves false when another
   * process created `dir` first (its log stands; ours is discarded).
   */
  static async create(dir: string, id: string, mode: number, initial: readonly Uint8Array[] = [], extra: Record<string, Uint8Array> = {}): Promise<boolean> {
    return createLog(dir, id, mode, initial, extra);
  }

  /**
   * Open the log in `dir` and replay it (replay.ts): the snapshot, then every segment from the
   * snapshot's generation on. With `locked` (the caller holds the log's lock) it also repairs: cuts
   * a torn tail, finishes an interrupted roll, sets a damaged snapshot aside and removes temp files.
   * Throws {@link LogMoved} when `dir` does not exist, `ERR_STORE_CORRUPT` for damage.
   */
  static async open(dir: string, id: string, mode: number, locked: boolean, opts: OpenOptions = {}): Promise<Opened> {
    const found = replay(dir, id, locked, opts);
    const active = found.active;
    const head = found.head;
    const log = new AppendLog(dir, id, mode);
    log.#snapshotBytes = found.snapshotBytes;
    log.#gen = active.gen;
    log.#fd = active.fd;
    log.#ino = active.ino;
    log.#writable = locked;
    log.#end = active.end;
    log.#size = active.size;
    log.#seq = found.seq;
    log.#sealed = active.sealed;
    const torn = !active.sealed && active.dataEnd > active.end;
    if (locked && torn) await log.#cut(active.dataEnd);
    // The head file only ever lags the log; a log that ends before it lost committed records.
    log.#headSeq = head;
    if (log.#seq < head && opts.cutShort !== 'report') {
      log.close();
      throw damaged(join(dir, segmentName(active.gen)), `it ends at record ${log.#seq} but record ${head} was committed: the log was cut short`);
    }
    if (locked && log.#sealed) await log.#startNext();
    return { log, snapshot: found.state, records: found.records, rebuilt: found.rebuilt, torn, ...(log.#seq < head ? { cutShort: head } : {}) };
  }

  /**
   * Records other processes committed since we last looked. The cheap case, nothing new, costs a
   * `stat`, an `fstat` and a 4 KiB read that finds zeros. Follows seals into later segments; with
   * `locked`, cuts a torn tail and finishes an interrupted roll. Throws {@link LogMoved} when only
   * a reload can explain what it sees.
   */
  async refresh(locked: boolean): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    if (locked && !this.#writable) this.#reopen(true);
    for (;;) {
      // Under the lock the lock file's identity check covers a replaced directory; readers look here.
      if (!locked) {
        const named = statSync(this.#path(), { throwIfNoEntry: false });
        if (named === undefined || named.ino !== this.#ino) throw new LogMoved(`${this.#path()} was replaced or removed`);
      }
      if (!this.#sealed) {
        const from = this.#end;
        const probe = readRange(this.#fd, from, from + PROBE_BYTES);
        if (probe.length === 0 || dataEnd(probe) === 0) {
          // Zeros or the end of the file: nothing new, unless the file shrank under us.
          if (probe.length === 0 && fstatSync(this.#fd).size < from) throw new LogMoved(`${this.#path()} shrank below ${from} bytes`);
          return out;
        }
        this.#size = fstatSync(this.#fd).size;
        let buf = probe;
        for (;;) {
          const scan = scanSegment(this.#path(), buf, this.#seq, from === 0 ? { id: this.id, gen: this.#gen } : undefined, from);
          // A frame runs past the window, or data reaches its end: records may go on past it.
          if ((scan.needMore || scan.dataEnd === buf.length) && from + buf.length < this.#size) {
            buf = readRange(this.#fd, from, Math.min(this.#size, from + buf.length * 4));
            continue;
          }
          for (const r of scan.records) out.push(r);
          this.#end = from + scan.end;
          this.#seq = scan.seq;
          this.#sealed = scan.sealed;
          // Under the lock nobody is writing: bytes past the records are a crash's leftovers.
          if (locked && !scan.sealed && scan.dataEnd > scan.end) await this.#cleanTail();
          break;
        }
        if (!this.#sealed) return out;
      }
      const next = this.#path(this.#gen + 1);
      if (statSync(next, { throwIfNoEntry: false }) === undefined) {
        if (locked) await this.#startNext();
        return out;
      }
      this.#switchTo(this.#gen + 1, 0, locked);
    }
  }

  /**
   * True when the active segment's path still names the file this log has open (the directory was
   * not deleted, replaced or restored under it). One `stat`.
   */
  isCurrent(): boolean {
    const named = statSync(this.#path(), { throwIfNoEntry: false });
    return named !== undefined && named.ino === this.#ino;
  }

  /**
   * Write the last `maxBytes` of the active segment's records back in place, durably (locked
   * only). After a failed write the kernel may hold bytes in its page cache that never reached the
   * disk, and every reader sees them; writing back what was read makes the disk hold what the
   * owner is about to report, or fails. Rewriting identical bytes changes nothing a crash could tear.
   */
  async rewriteTail(maxBytes: number): Promise<void> {
    if (!this.#writable || this.#end === 0) return;
    const from = Math.max(0, this.#end - maxBytes);
    await this.#writeAt(readRange(this.#fd, from, this.#end), from);
  }

  /** Read the whole rest of the active segment and cut what lies past the records (locked only). */
  async #cleanTail(): Promise<void> {
    this.#size = fstatSync(this.#fd).size;
    const buf = readRange(this.#fd, this.#end, this.#size);
    const scan = scanSegment(this.#path(), buf, this.#seq, undefined, this.#end);
    if (scan.end !== 0) throw new LogMoved(`${this.#path()} grew while locked`);
    if (scan.dataEnd > 0) await this.#cut(this.#end + scan.dataEnd);
  }

  #switchTo(gen: number, end: number, writable: boolean): void {
    const fd = openSync(this.#path(gen), writable ? WRITABLE : fsc.O_RDONLY);
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = fd;
    const st = fstatSync(fd);
    this.#ino = st.ino;
    this.#size = st.size;
    this.#writable = writable;
    this.#gen = gen;
    this.#end = end;
    this.#sealed = false;
  }

  #reopen(writable: boolean): void {
    const fd = openSync(this.#path(), writable ? WRITABLE : fsc.O_RDONLY);
    const ino = fstatSync(fd).ino;
    closeSync(this.#fd);
    this.#fd = fd;
    if (ino !== this.#ino) throw new LogMoved(`${this.#path()} was replaced`);
    this.#writable = writable;
  }

  /** Overwrite `[end, to)` with zeros: a tail torn by a crash, never acknowledged. */
  async #cut(to: number): Promise<void> {
    await this.#writeAt(new Uint8Array(to - this.#end), this.#end);
  }

  /** Write in place, extending the zero-filled space in the same write when needed; durable when it resolves. */
  async #writeAt(bytes: Uint8Array, at: number, sync = false): Promise<void> {
    let buf = bytes;
    // Another process may have extended the file since we looked.
    if (at + bytes.length > this.#size) this.#size = fstatSync(this.#fd).size;
    if (at + bytes.length > this.#size) {
      const cap = Math.ceil((at + bytes.length + 1) / EXTEND_BYTES) * EXTEND_BYTES;
      buf = new Uint8Array(cap - at);
      buf.set(bytes);
    }
    await logIO.write(this.#fd, buf, at, sync);
    if (DSYNC === 0) await logIO.datasync(this.#fd, sync);
    this.#size = Math.max(this.#size, at + buf.length);
  }

  /**
   * Append records as one write and make it durable (one write + sync for the whole group). On
   * failure the write is zeroed out again when the disk lets us, and the error is rethrown: the
   * caller must then distrust everything it holds (see `DurableLog`). With `sync` the write blocks
   * the calling thread instead of going through the thread pool.
   */
  async append(payloads: readonly Uint8Array[], sync = false): Promise<void> {
    if (!this.#writable || this.#sealed) throw new Error('AppendLog.append: not the writable active segment');
    const bytes = dataBytes(this.#seq, payloads);
    await this.#durableWrite(bytes, sync);
    this.#seq += payloads.length;
  }

  async #durableWrite(bytes: Uint8Array, sync = false): Promise<void> {
    const at = this.#end;
    try {
      await this.#writeAt(bytes, at, sync);
    } catch (e) {
      // Best effort: take back what may have reached the file (O_DSYNC: the data may be written
      // though its sync failed), so that a reopen finds the log as it was. If this fails too, the
      // write is wholly there or torn, and torn writes are cut by the next lock holder.
      await logIO
        .write(this.#fd, new Uint8Array(Math.min(bytes.length, Math.max(0, this.#size - at))), at)
        .then(() => logIO.datasync(this.#fd))
        .catch(() => undefined);
      throw e;
    }
    this.#end = at + bytes.length;
  }

  /**
   * Compaction: write `state` (everything up to now) as the snapshot of a new segment. Steps, each
   * durable before the next: snapshot to a temp file; seal the active segment; create the next
   * segment; rename the snapshot into place. A crash after any step recovers: before the seal
   * nothing changed, after it {@link open} or {@link refresh} creates a missing next segment, and
   * the old snapshot stays valid until the new one replaces it.
   * Throws {@link RollSkipped} when the first step failed (nothing changed).
   */
  async roll(state: Uint8Array): Promise<void> {
    let temp: { path: string; bytes: number };
    try {
      temp = await writeSnapshotTemp(this.dir, this.id, this.#gen + 1, this.#seq, state, this.mode);
    } catch (e) {
      for (const n of readdirSync(this.dir)) if (n.startsWith(`${SNAPSHOT}.`) && n.endsWith('.tmp')) rmSync(join(this.dir, n), { force: true });
      throw new RollSkipped(e);
    }
    try {
      await this.#durableWrite(sealBytes(this.#gen, this.#seq));
    } catch (e) {
      rmSync(temp.path, { force: true });
      throw e;
    }
    this.#sealed = true;
    await this.#startNext();
    await installSnapshot(this.dir, temp.path);
    this.#snapshotBytes = temp.bytes;
  }

  /** Create the segment after a sealed one and make it the active one. */
  async #startNext(): Promise<void> {
    const next = this.#gen + 1;
    const path = this.#path(next);
    const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    const header = headerBytes(this.id, next, this.#seq);
    await logIO.createFile(tmp, header, this.mode);
    await logIO.rename(tmp, path);
    await logIO.syncDir(this.dir);
    this.#switchTo(next, header.length, true);
  }

  /**
   * Record the newest durable record number in the head file (page cache only: a lower bound
   * that may lag after a crash). Called before the lock is given up, so the next holder reads it.
   */
  writeHead(): void {
    if (this.#seq === this.#headSeq || !this.#writable) return;
    try {
      if (this.#headFd < 0) this.#headFd = openSync(join(this.dir, HEAD_FILE), fsc.O_RDWR);
      writeHead(this.#headFd, this.#seq);
      this.#headSeq = this.#seq;
    } catch {
      // The commits are durable without it; the head is only a check against cut logs.
    }
  }

  /** Close the active segment (and the head file). */
  close(): void {
    if (this.#headFd >= 0) {
      try {
        closeSync(this.#headFd);
      } catch {
        // already closed
      }
      this.#headFd = -1;
    }
    if (this.#fd >= 0) {
      try {
        closeSync(this.#fd);
      } catch {
        // already closed
      }
      this.#fd = -1;
    }
  }

  /**
   * Every committed record of the log in `dir`, from the first segment on (for histories such as
   * an audit trail; see `readAllRecords` in replay.ts). `[]` when `dir` does not exist.
   */
  static readAll(dir: string, id: string, opts: OpenOptions = {}): Uint8Array[] {
    return readAllRecords(dir, id, opts);
  }
}
