/**
 * Looking at and editing a credit ledger copy the way an operator, a crash or an attacker would.
 * A copy is a directory (an append-only log: segments `log-0000000001`, …, `head`, `snapshot`);
 * these helpers read one into memory (segments without their zero pre-extension, which means
 * nothing), put one back, and measure how far writes have landed.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FrameType, encodeFrames, readFrame, type Frame } from '../../src/node/log/frame.js';

/** The files of one copy: name → bytes. */
export type CopyFiles = Record<string, Buffer>;

/** Segment file name of generation `gen`. */
export const segName = (gen: number): string => `log-${String(gen).padStart(10, '0')}`;

/** One past the last non-zero byte of `b`. */
export function dataEnd(b: Uint8Array): number {
  let i = b.length;
  while (i > 0 && b[i - 1] === 0) i--;
  return i;
}

/** Read a copy's files (segments trimmed of trailing zeros); undefined when the directory is missing. */
export function readCopy(dir: string): CopyFiles | undefined {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  const out: CopyFiles = {};
  for (const n of names.sort()) {
    const b = readFileSync(join(dir, n));
    out[n] = n.startsWith('log-') ? b.subarray(0, dataEnd(b)) : b;
  }
  return out;
}

/** Replace a copy by these files (undefined: delete it). */
export function writeCopy(dir: string, files: CopyFiles | undefined): void {
  rmSync(dir, { recursive: true, force: true });
  if (files === undefined) return;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [n, b] of Object.entries(files)) writeFileSync(join(dir, n), b, { mode: 0o600 });
}

/** The newest segment's name. */
export const activeSegment = (files: CopyFiles): string => Object.keys(files).filter((n) => n.startsWith('log-')).sort().at(-1) as string;

/** Only the segment files (what two copies of the same history share byte for byte). */
export const segmentsOf = (files: CopyFiles | undefined): CopyFiles => Object.fromEntries(Object.entries(files ?? {}).filter(([n]) => n.startsWith('log-')));

/** The frames of a segment, in order, up to the first that does not decode. */
export function frames(b: Uint8Array): Frame[] {
  const buf = new Uint8Array(b);
  const out: Frame[] = [];
  for (let p = 0; p < buf.length; ) {
    const f = readFrame(buf, p);
    if (f === undefined) break;
    out.push(f);
    p = f.end;
  }
  return out;
}

/** Rewrite a segment's data records' payloads through `edit`, with valid checksums (an edit the engine cannot see). */
export function reframe(b: Uint8Array, edit: (payloads: Uint8Array[]) => Uint8Array[]): Buffer {
  const fs = frames(b);
  const data = fs.filter((f) => f.type === FrameType.data);
  const payloads = edit(data.map((f) => new Uint8Array(f.payload)));
  const first = data[0]?.seq ?? 1;
  return Buffer.from(encodeFrames([
    ...fs.filter((f) => f.type === FrameType.header).map((f) => ({ type: FrameType.header, seq: f.seq, batch: f.batch, payload: f.payload, end: true })),
    ...payloads.map((payload, i) => ({ type: FrameType.data, seq: first + i, batch: first + i, payload, end: true })),
    ...fs.filter((f) => f.type === FrameType.seal).map((f) => ({ type: FrameType.seal, seq: f.seq, batch: f.batch, payload: f.payload, end: true })),
  ]));
}

/** A head file saying `seq` records were committed (as the engine writes it). */
export const headFile = (seq: number): Buffer => Buffer.from(JSON.stringify({ seq }).padEnd(63, ' ') + '\n');

/**
 * How far writes have landed in a copy: the sum over its files of one past each file's last
 * non-zero byte (-1 when the directory is missing). Any write that lands changes it, unless it
 * writes bytes a file already held.
 */
export function landed(dir: string): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return -1;
  }
  let sum = 0;
  for (const n of names) {
    const p = join(dir, n);
    if (!statSync(p).isFile()) continue;
    sum += dataEnd(readFileSync(p));
  }
  return sum;
}
