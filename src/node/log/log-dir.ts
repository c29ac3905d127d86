/**
 * A log's directory as a whole: whether it is there, and creating one atomically (built in a temp
 * directory beside it and renamed into place, so that it never exists half-made).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isCode } from './errors.js';
import { headText, HEAD_FILE } from './head-file.js';
import { logIO } from './io.js';
import { dataBytes, headerBytes, segmentName } from './segment.js';

/** Directory mode that lets through whom the file mode lets read (0o600 -> 0o700, 0o640 -> 0o750). */
export const dirMode = (mode: number): number => (mode & 0o777) | ((mode & 0o444) >> 2);

/** True when `dir` exists (a log, or something in its place that opening will judge). */
export function logExists(dir: string): boolean {
  return statSync(dir, { throwIfNoEntry: false }) !== undefined;
}

/**
 * Create a log in `dir` atomically: built in a temp directory beside it and renamed into place,
 * so `dir` never exists half-made. `initial` records go into the first segment; `extra` files are
 * written beside them. Resolves false when another process created `dir` first (its log stands;
 * ours is discarded).
 */
export async function createLog(dir: string, id: string, mode: number, initial: readonly Uint8Array[] = [], extra: Record<string, Uint8Array> = {}): Promise<boolean> {
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
      if (isCode(e, 'ENOTEMPTY', 'EEXIST', 'EPERM', 'EACCES') && logExists(dir)) {
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
