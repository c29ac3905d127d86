/**
 * Reading a log's directory back: its segments, checked to run 1, 2, … without a gap, each sealed
 * before the next, and to reach the record its head file names. {@link replay} reads from the
 * snapshot's generation on and leaves the newest segment open for `AppendLog.open`, which cuts a
 * torn tail and finishes an interrupted roll; {@link readAllRecords} reads every record from the
 * first segment, for histories.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, statSync, constants as fsc } from 'node:fs';
import { join } from 'node:path';
import { isCode, LogMoved } from './errors.js';
import { HEAD_FILE, readHead } from './head-file.js';
import { WRITABLE } from './io.js';
import { damaged, scanSegment, segmentGen, segmentName } from './segment.js';
import { SNAPSHOT, readSnapshot } from './snapshot.js';

/** Options of `AppendLog.open` and `AppendLog.readAll`. */
export interface OpenOptions {
  /**
   * Refuse (as damage) a segment larger than this many bytes, before reading it: a padded or
   * sparse file must not be read into memory. Default: no bound.
   */
  readonly maxSegmentBytes?: number;
  /**
   * A log that ends before the record its head file names: `'throw'` (default) is
   * `ERR_STORE_CORRUPT`; `'report'` opens it and says so in `Opened.cutShort`, for an owner
   * that keeps another copy to repair it from (the credit ledger).
   */
  readonly cutShort?: 'throw' | 'report';
}

function checkSize(path: string, size: number, opts: OpenOptions): void {
  if (opts.maxSegmentBytes !== undefined && size > opts.maxSegmentBytes) {
    throw damaged(path, `it is ${size} bytes, more than any segment licit writes (${opts.maxSegmentBytes}): it was padded or replaced`);
  }
}

/** Bytes `[from, to)` of an open file, fewer when it ends first. */
export function readRange(fd: number, from: number, to: number): Uint8Array {
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

/** The newest segment as {@link replay} left it: open, and scanned up to the last complete write. */
export interface ActiveSegment {
  /** Its generation. */
  readonly gen: number;
  /** Open read-write (`O_DSYNC`) when replayed `locked`, read-only otherwise. */
  readonly fd: number;
  readonly ino: number;
  /** Its size when read (data, then zeros). */
  readonly size: number;
  /** Offset one past the last complete write. */
  readonly end: number;
  /** One past the last non-zero byte: `[end, dataEnd)` is a tail that is no complete write. */
  readonly dataEnd: number;
  /** It ends with a seal (a roll stopped before the next segment was made). */
  readonly sealed: boolean;
}

/** What {@link replay} found. */
export interface Replayed {
  /** The snapshot's state, or undefined when replay starts from the first record. */
  readonly state: Uint8Array | undefined;
  /** Size of the snapshot file (0 when none). */
  readonly snapshotBytes: number;
  /** The snapshot was missing or damaged and the state was rebuilt from every segment. */
  readonly rebuilt: boolean;
  /** Records after the snapshot, in order. */
  readonly records: Uint8Array[];
  /** Number of the last record of a complete write. */
  readonly seq: number;
  /** What the head file says was committed. */
  readonly head: number;
  readonly active: ActiveSegment;
}

/**
 * Replay the log in `dir`: the snapshot, then every segment from the snapshot's generation on.
 * With `locked` (the caller holds the log's lock) it also removes temp files and sets a damaged
 * snapshot aside. Throws {@link LogMoved} when `dir` does not exist, `ERR_STORE_CORRUPT` for
 * damage.
 */
export function replay(dir: string, id: string, locked: boolean, opts: OpenOptions): Replayed {
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
  let active: ActiveSegment | undefined;
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
      active = { gen: g, fd, ino: fstatSync(fd).ino, size, end: scan.end, dataEnd: scan.dataEnd, sealed: scan.sealed };
    } finally {
      if (active?.fd !== fd) closeSync(fd);
    }
  }
  // The loop ends with the newest segment (startGen <= last), which either sets `active` or throws.
  return { state, snapshotBytes, rebuilt, records, seq, head, active: active as ActiveSegment };
}

/**
 * Every committed record of the log in `dir`, from the first segment on (for histories such as
 * an audit trail). Reads only; a tail that is no complete write is left out. `[]` when `dir`
 * does not exist.
 */
export function readAllRecords(dir: string, id: string, opts: OpenOptions): Uint8Array[] {
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
