/**
 * Segment files and the rules a scan of one enforces.
 *
 * A log is a directory of segments `log-0000000001`, `log-0000000002`, … . Each starts with a
 * header frame (which log, which generation, how many records came before it) and holds data
 * frames numbered on from there. A segment that was rolled over ends with a seal frame; the log
 * continues in the next generation. Only the newest segment is ever appended to.
 *
 * Files are pre-extended with zeros (see `append-log.ts`). A scan returns the records of complete
 * writes only. Non-zero bytes after the last complete write are a *tail*: a write in flight (seen
 * by a reader without the lock), one torn by a crash, or the leftover of such a write that a later
 * one partly covered. Anything that cannot be one of those (an intact frame of a later write past
 * a bad spot, numbers out of order, records after a seal) is damage, reported as
 * `ERR_STORE_CORRUPT`.
 */
import { LicenseError } from '../../core/errors.js';
import { END, FrameType, cutShort, dataEnd, encodeFrames, readFrame, resync, type Frame } from './frame.js';

/** Format name written in every segment header. */
export const LOG_FORMAT = 'licit-log/1';

/** File name of generation `gen`. */
export const segmentName = (gen: number): string => `log-${String(gen).padStart(10, '0')}`;

/** Generation of a segment file name, or `undefined` for other names. */
export function segmentGen(name: string): number | undefined {
  const m = /^log-(\d{10})$/.exec(name);
  return m === null ? undefined : Number(m[1]);
}

const utf8 = new TextEncoder();
const text = new TextDecoder('utf-8', { fatal: true });

/** Parse a JSON payload, or `undefined` when it is not JSON text. */
export function jsonOf(payload: Uint8Array): unknown {
  try {
    return JSON.parse(text.decode(payload));
  } catch {
    return undefined;
  }
}

/** The bytes of a fresh segment: its header frame. `base` is the number of records before it. */
export function headerBytes(id: string, gen: number, base: number): Uint8Array {
  return encodeFrames([{ type: FrameType.header, seq: base, batch: base + 1, payload: utf8.encode(JSON.stringify({ format: LOG_FORMAT, id, gen })), end: true }]);
}

/** The seal frame closing generation `gen` after record `seq`. */
export function sealBytes(gen: number, seq: number): Uint8Array {
  return encodeFrames([{ type: FrameType.seal, seq, batch: seq + 1, payload: utf8.encode(JSON.stringify({ next: gen + 1 })), end: true }]);
}

/** Frames of one group commit: records `seq + 1`, `seq + 2`, … sharing batch number `seq + 1`. */
export function dataBytes(seq: number, payloads: readonly Uint8Array[]): Uint8Array {
  return encodeFrames(payloads.map((payload, i) => ({ type: FrameType.data, seq: seq + 1 + i, batch: seq + 1, payload, end: i === payloads.length - 1 })));
}

/** What a scan found. Offsets are relative to the scanned buffer. */
export interface SegmentScan {
  /** Payloads of the data records of complete writes, in order. */
  readonly records: Uint8Array[];
  /** Offset one past the last complete write. */
  readonly end: number;
  /** Number of the last record of a complete write. */
  readonly seq: number;
  /** The segment ends with a seal: the log goes on in the next generation. */
  readonly sealed: boolean;
  /** One past the last non-zero byte: `[end, dataEnd)` is no complete write (in flight, torn, or a leftover). */
  readonly dataEnd: number;
  /** The scan stopped at a frame that runs past the end of `buf`: read more and scan again. */
  readonly needMore: boolean;
}

/** Damage found by a scan: what and where, for the message of `ERR_STORE_CORRUPT`. */
export function damaged(path: string, why: string, restore = 'restore the directory from a backup'): LicenseError {
  return new LicenseError('ERR_STORE_CORRUPT', `the log file ${path} is damaged: ${why}; ${restore}`, { path });
}

/**
 * Scan `buf` (a whole segment when `header` is given, else the bytes from offset `base` of the
 * active segment on) expecting the first record to be number `seq + 1`.
 *
 * The records end at the first spot that is not an intact frame of the expected write: zeros,
 * a frame cut short, or a leftover of an older write (lower batch number). Past that spot an
 * intact frame of a *later* write (higher batch number) means records are missing or damaged
 * in the middle: `ERR_STORE_CORRUPT`, never cut.
 */
export function scanSegment(path: string, buf: Uint8Array, seq: number, header?: { id: string; gen: number }, base = 0): SegmentScan {
  let p = 0;
  if (header !== undefined) {
    const h = readFrame(buf, 0);
    const info = h === undefined || h.type !== FrameType.header ? undefined : (jsonOf(h.payload) as { format?: unknown; id?: unknown; gen?: unknown } | undefined);
    if (h === undefined || info === undefined || info === null || info.format !== LOG_FORMAT) throw damaged(path, `it does not start with a ${LOG_FORMAT} segment header`);
    if (info.id !== header.id) throw damaged(path, `it belongs to "${String(info.id)}", not "${header.id}"`, 'put the right files back');
    if (info.gen !== header.gen) throw damaged(path, `its header says generation ${String(info.gen)}`, 'put the right files back');
    if (h.seq !== seq) throw damaged(path, `it starts after record ${h.seq} but the log before it ends at record ${seq}`);
    p = h.end;
  }
  const records: Uint8Array[] = [];
  let end = p;
  let done = seq;
  let sealed = false;
  let pending: Frame[] = [];
  const at = (f: Frame) => `at byte ${base + f.start}`;
  // Nothing is ever written after a seal: what follows one is a leftover, whatever it looks like.
  while (p < buf.length && !sealed) {
    const f = readFrame(buf, p);
    if (f === undefined) break;
    const batch = pending.length > 0 ? (pending[0] as Frame).batch : done + 1;
    if (f.batch < batch) break; // a leftover of a write a crash cut short: the records end here
    if (f.batch > batch) throw damaged(path, `the frame ${at(f)} belongs to write ${f.batch} but write ${batch} was expected`);
    if (f.type === FrameType.data) {
      if (f.seq !== done + pending.length + 1) throw damaged(path, `record ${f.seq} ${at(f)} follows record ${done + pending.length}`);
    } else if (f.type === FrameType.seal) {
      if (pending.length > 0 || f.seq !== done || (f.flags & END) === 0) throw damaged(path, `a misplaced seal ${at(f)}`);
    } else {
      throw damaged(path, `an unexpected frame of type ${f.type} ${at(f)}`);
    }
    pending.push(f);
    p = f.end;
    if ((f.flags & END) !== 0) {
      for (const g of pending) {
        if (g.type === FrameType.data) records.push(g.payload);
        else sealed = true;
      }
      done += pending.filter((g) => g.type === FrameType.data).length;
      pending = [];
      end = p;
    }
  }
  const needMore = p < buf.length && !sealed ? cutShort(buf, p) : false;
  const last = dataEnd(buf, end);
  if (last > end && !needMore && !sealed) {
    // A crash tears only the write in flight: an intact frame of a later write past here is damage.
    for (let q = end; ; ) {
      const f = resync(buf, q, last);
      if (f === undefined) break;
      if (f.batch > done + 1) throw damaged(path, `bytes from ${base + end} on are unreadable and an intact record of a later write follows ${at(f)}`);
      q = f.start + 1;
    }
  }
  return { records, end, seq: done, sealed, dataEnd: last, needMore };
}
