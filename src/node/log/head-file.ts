/**
 * The head file of a log: the newest record number a writer saw committed, `{"seq":n}` padded to
 * {@link HEAD_BYTES}. Written after records are durable, before the lock is given up (and during
 * long holds), without a sync of its own: after a crash it may lag the log but never lead it, so a
 * log that ends before it was cut short by someone.
 */
import { readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { isCode } from './errors.js';

/** File name of the head file in a log directory. */
export const HEAD_FILE = 'head';
const HEAD_BYTES = 64;

/** The head file's bytes for record number `seq`. */
export const headText = (seq: number) => Buffer.from(JSON.stringify({ seq }).padEnd(HEAD_BYTES - 1, ' ') + '\n');

/** The number in a head file, or a reason it cannot be read. */
export function readHead(dir: string): number | { bad: string } {
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

/** Overwrite the open head file `fd` with record number `seq` (page cache only, see above). */
export function writeHead(fd: number, seq: number): void {
  writeSync(fd, headText(seq), 0, HEAD_BYTES, 0);
}
