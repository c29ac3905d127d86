/**
 * The files of one append-only log: a directory of segments and a snapshot (see `segment.ts`,
 * `snapshot.ts`). This class opens and replays them, reads what other processes appended, appends
 * group commits, cuts torn tails and rolls over to a new segment (compaction). It takes no lock:
 * every method that changes the disk is called by `DurableLog` under the log's lock, and
 * `locked: false` calls only read.
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
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, statSync, writeSync, constants as fsc } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { logIO } from './io.js';
import { dataEnd } from './frame.js';
import { damaged, dataBytes, headerBytes, scanSegment, sealBytes, segmentGen, segmentName } from './segment.js';
import { SNAPSHOT, installSnapshot, readSnapshot, writeSnapshotTemp } from './snapshot.js';

/** The log changed under us in a way only a full reload explains (shrunk, replaced, directory gone). */
export class LogMoved extends Error {
  constructor(why: string) {
    super(why);
  }
}

/** A roll that failed before it changed anything (the snapshot could not be written): not fatal. */
export class RollSkipped extends Error {
  constructor(cause: unknown) {
    super(`snapshot not written: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

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

/** Options of {@link AppendLog.open} and {@link AppendLog.readAll}. */
export interface OpenOptions {
  /**
   * Refuse (as damage) a segment larger than this many bytes, before reading it: a padded or
   * sparse file must not be read into memory. Default: no bound.
   */
  readonly maxSegmentBytes?: number;
  /**
   * A log that ends before the record its head file names: `'throw'` (default) is
   * `ERR_STORE_CORRUPT`; `'report'` opens it and says so in {@link Opened.cutShort}, for an owner
   * that keeps another copy to repair it from (the credit ledger).
   */
  readonly cutShort?: 'throw' | 'report';
}

function checkSize(path: string, size: number, opts: OpenOptions): void {
  if (opts.maxSegmentBytes !== undefined && size > opts.maxSegmentBytes) {
    throw damaged(path, `it is ${size} bytes, more than any segment licit writes (${opts.maxSegmentBytes}): it was padded or replaced`);
  }
}

/** Growth step of the zero-filled space of the active segment. */
export const EXTEND_BYTES = 128 * 1024;
/** With O_DSYNC each write is durable when it returns (write + fdatasync in one system call). */
const DSYNC: number = fsc.O_DSYNC ?? 0;
const WRITABLE = fsc.O_RDWR | DSYNC;
/** First read of the cheap check: enough for a frame head, and for most whole records. */
const PROBE_BYTES = 4096;
/**
 * File holding the newest record number a writer saw committed: `{"seq":n}` padded to
 * {@link HEAD_BYTES}. Written after records are durable, before the lock is given up (and during
 * long holds), without a sync of its own: after a crash it may lag the log but never lead it, so a
 * log that ends before it was cut short by someone.
 */
export const HEAD_FILE = 'head';
const HEAD_BYTES = 64;
const headText = (seq: number) => Buffer.from(JSON.stringify({ seq }).padEnd(HEAD_BYTES - 1, ' ') + '\n');

/** The number in a head file, or a reason it cannot be read. */
function readHead(dir: string): number | { bad: string } {
  let text: string;
  try {
    text = readFileSync(join(dir, HEAD_FILE), 'utf8');
  } catch (e) {
    if (isCode(e, 'ENOENT')) return { bad: 'it is missing' };
    throw e;
  }
  try {
    const seq = (JSON.parse(text) as { seq?: unknown }).seq;
    if (Number.isSafeInteger(seq) && (seq as number) >= 0) return seq as number;
  } catch {
    // fall through
  }
  return { bad: 'it is not a record count' };
}

const isCode = (e: unknown, ...codes: string[]) => codes.includes((e as NodeJS.ErrnoException)?.code ?? '');

/** Directory mode that lets through whom the file mode lets read (0o600 -> 0o700, 0o640 -> 0o750). */
export const dirMode = (mode: number): number => (mode & 0o777) | ((mode & 0o444) >> 2);

function readRange(fd: number, from: number, to: number): Uint8Array {
  const out = new Uint8Array(to - from);
  let got = 0;
  while (got < out.length) {
    const n = readSync(fd, out, got, out.length - got, from + got);
    if (n === 0) break;
    got += n;
  }
  return out.subarray(0, got);
}

/** Generations of the segments in `dir`, checked to run 1, 2, … without a gap. */
function generations(dir: string, names: string[]): number[] {
  const gens = names.map(segmentGen).filter((g): g is number => g !== undefined).sort((a, b) => a - b);
  gens.forEach((g, i) => {
    if (g !== i + 1) throw damaged(join(dir, segmentName(i + 1)), `it is missing, so the records before ${segmentName(g)} are gone`);
  });
  return gens;
}

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
    return statSync(dir, { throwIfNoEntry: false }) !== undefined;
  }

  /**
   * Create a log in `dir` atomically: built in a temp directory beside it and renamed into place,
   * so `dir` never exists half-made. `initial` records go into the first segment. Resolves false
   * when another process created `dir` first (its log stands; ours is discarded).
   */
  static async create(dir: string, id: string, mode: number, initial: readonly Uint8Array[] = [], extra: Record<string, Uint8Array> = {}): Promise<boolean> {
    const parent = dirname(dir);
    const tmp = join(parent, `.${basename(dir)}.${process.pid}-${randomBytes(4).toString('hex')}.new`);
    mkdirSync(tmp, { mode: dirMode(mode) });
    try {
      const head = headerBytes(id, 1, 0);
      const body = initial.length > 0 ? dataBytes(0, initial) : new Uint8Array(0);
      const first = new Uint8Array(head.length + body.length);
      first.set(head);
      first.set(body, head.length);
      await logIO.createFile(join(tmp, segmentName(1)), first, mode);
      await logIO.createFile(join(tmp, HEAD_FILE), headText(initial.length), mode);
      for (const [name, bytes] of Object.entries(extra)) await logIO.createFile(join(tmp, name), bytes, mode);
      await logIO.syncDir(tmp);
      try {
        await logIO.rename(tmp, dir);
      } catch (e) {
        if (isCode(e, 'ENOTEMPTY', 'EEXIST', 'EPERM', 'EACCES') && AppendLog.exists(dir)) {
          rmSync(tmp, { recursive: true, force: true });
          return false;
        }
        throw e;
      }
      await logIO.syncDir(parent);
      return true;
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  /**
   * Open the log in `dir` and replay it: the snapshot, then every segment from the snapshot's
   * generation on. With `locked` (the caller holds the log's lock) it also repairs: cuts a torn
   * tail, finishes an interrupted roll, sets a damaged snapshot aside and removes temp files.
   * Throws {@link LogMoved} when `dir` does not exist, `ERR_STORE_CORRUPT` for damage.
   */
  static async open(dir: string, id: string, mode: number, locked: boolean, opts: OpenOptions = {}): Promise<Opened> {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (e) {
      if (isCode(e, 'ENOENT')) throw new LogMoved(`${dir} does not exist`);
      if (isCode(e, 'ENOTDIR')) throw damaged(dir, 'it is not a directory');
      throw e;
    }
    if (locked) for (const n of names) if (n.endsWith('.tmp')) rmSync(join(dir, n), { force: true });
    const gens = generations(dir, names);
    const snap = readSnapshot(dir, id);
    const restore = 'restore the directory from a backup, or delete it to start this license afresh (its seats and audit trail are then lost)';
    if (gens.length === 0) {
      if (typeof snap === 'object' && 'seq' in snap) throw damaged(join(dir, segmentName(1)), `the log is missing beside a snapshot of ${snap.seq} records`, restore);
      throw damaged(dir, 'the directory holds no log', restore);
    }
    const head = readHead(dir);
    if (typeof head !== 'number') throw damaged(join(dir, HEAD_FILE), head.bad);
    const last = gens.length;
    let startGen = 1;
    let seq = 0;
    let state: Uint8Array | undefined;
    let snapshotBytes = 0;
    let rebuilt = false;
    if (typeof snap === 'object' && 'seq' in snap) {
      if (snap.gen > last) throw damaged(join(dir, SNAPSHOT), `it starts at segment ${snap.gen} but the newest segment is ${last}`);
      startGen = snap.gen;
      seq = snap.seq;
      state = snap.state;
      snapshotBytes = snap.bytes;
    } else {
      // No snapshot, or a damaged one: every segment back to the first is still here, so the
      // state is rebuilt from them rather than started afresh.
      rebuilt = snap !== 'missing' || last > 1;
      if (locked && snap !== 'missing') renameSync(join(dir, SNAPSHOT), join(dir, `${SNAPSHOT}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`));
    }
    const records: Uint8Array[] = [];
    let torn = false;
    const log = new AppendLog(dir, id, mode);
    log.#snapshotBytes = snapshotBytes;
    for (let g = startGen; g <= last; g++) {
      const path = join(dir, segmentName(g));
      const fd = openSync(path, g === last && locked ? WRITABLE : fsc.O_RDONLY);
      try {
        const size = fstatSync(fd).size;
        checkSize(path, size, opts);
        const buf = readRange(fd, 0, size);
        const scan = scanSegment(path, buf, seq, { id, gen: g });
        for (const r of scan.records) records.push(r);
        seq = scan.seq;
        if (g < last) {
          if (!scan.sealed) throw damaged(path, `${segmentName(g + 1)} follows it but it does not end with a seal`);
          continue;
        }
        log.#gen = g;
        log.#fd = fd;
        log.#ino = fstatSync(fd).ino;
        log.#writable = locked;
        log.#end = scan.end;
        log.#size = size;
        log.#seq = seq;
        log.#sealed = scan.sealed;
        torn = !scan.sealed && scan.dataEnd > scan.end;
        if (locked && torn) await log.#cut(scan.dataEnd);
      } finally {
        if (log.#fd !== fd) closeSync(fd);
      }
    }
    // The head file only ever lags the log; a log that ends before it lost committed records.
    log.#headSeq = head;
    if (log.#seq < head && opts.cutShort !== 'report') {
      log.close();
      throw damaged(join(dir, segmentName(last)), `it ends at record ${log.#seq} but record ${head} was committed: the log was cut short`);
    }
    if (locked && log.#sealed) await log.#startNext();
    return { log, snapshot: state, records, rebuilt, torn, ...(log.#seq < head ? { cutShort: head } : {}) };
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

  /** Close the active segment. */
  /**
   * Record the newest durable record number in the head file (page cache only: a lower bound
   * that may lag after a crash). Called before the lock is given up, so the next holder reads it.
   */
  writeHead(): void {
    if (this.#seq === this.#headSeq || !this.#writable) return;
    try {
      if (this.#headFd < 0) this.#headFd = openSync(join(this.dir, HEAD_FILE), fsc.O_RDWR);
      writeSync(this.#headFd, headText(this.#seq), 0, HEAD_BYTES, 0);
      this.#headSeq = this.#seq;
    } catch {
      // The commits are durable without it; the head is only a check against cut logs.
    }
  }

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
   * an audit trail). Reads only; a tail that is no complete write is left out. `[]` when `dir`
   * does not exist.
   */
  static readAll(dir: string, id: string, opts: OpenOptions = {}): Uint8Array[] {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (e) {
      if (isCode(e, 'ENOENT')) return [];
      throw e;
    }
    const gens = generations(dir, names);
    if (gens.length === 0) throw damaged(dir, 'the directory holds no log');
    const head = readHead(dir);
    if (typeof head !== 'number') throw damaged(join(dir, HEAD_FILE), head.bad);
    const out: Uint8Array[] = [];
    let seq = 0;
    for (let g = 1; g <= gens.length; g++) {
      const path = join(dir, segmentName(g));
      let buf: Uint8Array;
      try {
        checkSize(path, statSync(path).size, opts);
        buf = readFileSync(path);
      } catch (e) {
        // Only the last segment can be new since the listing; a missing one is damage.
        if (isCode(e, 'ENOENT')) throw damaged(path, 'it disappeared while being read');
        throw e;
      }
      const scan = scanSegment(path, buf, seq, { id, gen: g });
      for (const r of scan.records) out.push(r);
      seq = scan.seq;
      if (g < gens.length && !scan.sealed) throw damaged(path, `${segmentName(g + 1)} follows it but it does not end with a seal`);
    }
    if (seq < head && opts.cutShort !== 'report') throw damaged(join(dir, segmentName(gens.length)), `it ends at record ${seq} but record ${head} was committed: the log was cut short`);
    return out;
  }
}
