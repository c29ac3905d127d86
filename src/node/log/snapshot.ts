/**
 * The snapshot of a log: the state as of the start of one segment generation, so that opening the
 * log replays only the segments from there. One frame in a file named `snapshot`, replaced
 * atomically (temp file, fsync, rename, directory fsync). It is only a shortcut: every record it
 * accounts for stays in the segments, so a missing or damaged snapshot is rebuilt from them.
 *
 * Payload: one JSON line `{"format":"licit-snapshot/1","id":…,"gen":…,"seq":…}`, then the state in
 * whatever encoding the log's owner chose.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FrameType, encodeFrames, readFrame } from './frame.js';
import { logIO } from './io.js';
import { jsonOf } from './segment.js';

/** File name of the snapshot in a log directory. */
export const SNAPSHOT = 'snapshot';
const FORMAT = 'licit-snapshot/1';
const utf8 = new TextEncoder();

/** A snapshot read back. */
export interface Snapshot {
  /** Replay starts with this segment generation. */
  readonly gen: number;
  /** Number of records the state accounts for (the records of every segment before `gen`). */
  readonly seq: number;
  /** The owner's encoding of the state. */
  readonly state: Uint8Array;
  /** Size of the file (the compaction policy weighs the log against it). */
  readonly bytes: number;
}

/** Read the snapshot of `dir`: `missing`, `{ damaged: why }`, or the snapshot. */
export function readSnapshot(dir: string, id: string): Snapshot | 'missing' | { damaged: string } {
  let buf: Uint8Array;
  try {
    buf = readFileSync(join(dir, SNAPSHOT));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw e;
  }
  const f = readFrame(buf, 0);
  if (f === undefined || f.type !== FrameType.snapshot || f.end !== buf.length) return { damaged: 'its checksum or length does not match' };
  const nl = f.payload.indexOf(0x0a);
  const meta = nl < 0 ? undefined : (jsonOf(f.payload.subarray(0, nl)) as { format?: unknown; id?: unknown; gen?: unknown; seq?: unknown } | undefined);
  if (meta === undefined || meta === null || meta.format !== FORMAT) return { damaged: `it is not a ${FORMAT} file` };
  if (meta.id !== id) return { damaged: `it belongs to "${String(meta.id)}"` };
  if (!Number.isSafeInteger(meta.gen) || (meta.gen as number) < 1 || !Number.isSafeInteger(meta.seq) || (meta.seq as number) < 0 || f.seq !== meta.seq) {
    return { damaged: 'its header fields are malformed' };
  }
  return { gen: meta.gen as number, seq: meta.seq as number, state: f.payload.subarray(nl + 1), bytes: buf.length };
}

/**
 * Write a snapshot to a temp file in `dir` and make it durable; returns its path for
 * {@link installSnapshot}. Until installed it changes nothing.
 */
export async function writeSnapshotTemp(dir: string, id: string, gen: number, seq: number, state: Uint8Array, mode: number): Promise<{ path: string; bytes: number }> {
  const head = utf8.encode(`${JSON.stringify({ format: FORMAT, id, gen, seq })}\n`);
  const payload = new Uint8Array(head.length + state.length);
  payload.set(head);
  payload.set(state, head.length);
  const bytes = encodeFrames([{ type: FrameType.snapshot, seq, batch: gen, payload, end: true }]);
  const path = join(dir, `${SNAPSHOT}.${randomBytes(6).toString('hex')}.tmp`);
  await logIO.createFile(path, bytes, mode);
  return { path, bytes: bytes.length };
}

/** Rename a temp snapshot into place and make the rename durable. */
export async function installSnapshot(dir: string, temp: string): Promise<void> {
  await logIO.rename(temp, join(dir, SNAPSHOT));
  await logIO.syncDir(dir);
}
