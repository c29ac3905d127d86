/**
 * The file operations the log engine changes the disk with, in one object so that tests can make
 * any of them fail (`vi.spyOn(logIO, 'datasync')`) the way a full disk or a dying device would.
 * Reads and `stat`s are not here: a failed read changes nothing.
 *
 * Writes and syncs go through the callback API: one thread-pool hop each, without the promise
 * request object `FileHandle` allocates per call.
 */
import { fdatasync, fdatasyncSync, fsync, ftruncate, promises as fsp, write, writeSync, constants as fsc, openSync, closeSync } from 'node:fs';

/** With O_DSYNC each write is durable when it returns (write + fdatasync in one system call). */
export const DSYNC: number = fsc.O_DSYNC ?? 0;
/** How the active segment is opened for writing. */
export const WRITABLE = fsc.O_RDWR | DSYNC;

/** Positional write of all of `bytes` at `position`. */
function writeAll(fd: number, bytes: Uint8Array, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (done: number) => {
      if (done >= bytes.length) return resolve();
      write(fd, bytes, done, bytes.length - done, position + done, (e, n) => (e ? reject(e) : step(done + n)));
    };
    step(0);
  });
}

/** The same, blocking: for a commit nobody else waits on (see `DurableLog`). */
function writeAllSync(fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}

const cb = (f: (done: (e: NodeJS.ErrnoException | null) => void) => void) => new Promise<void>((resolve, reject) => f((e) => (e ? reject(e) : resolve())));

/** Every operation of the engine that changes the disk. */
export const logIO = {
  /**
   * Write `bytes` at `position` of an open file. With `sync` the write happens before this returns,
   * on the calling thread (no thread-pool round trip; the event loop waits for the disk).
   */
  write: (fd: number, bytes: Uint8Array, position: number, sync = false): Promise<void> => {
    if (!sync) return writeAll(fd, bytes, position);
    try {
      writeAllSync(fd, bytes, position);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  },
  /** fdatasync: the file's data (and its size) survive a crash when this resolves; `sync` as for `write`. */
  datasync: (fd: number, sync = false): Promise<void> => {
    if (!sync) return cb((d) => fdatasync(fd, d));
    try {
      fdatasyncSync(fd);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  },
  /** fsync: data and metadata. */
  sync: (fd: number): Promise<void> => cb((d) => fsync(fd, d)),
  /** Cut an open file to `length` bytes. */
  truncate: (fd: number, length: number): Promise<void> => cb((d) => ftruncate(fd, length, d)),
  /** Rename within a directory (atomic replace). */
  rename: (from: string, to: string): Promise<void> => fsp.rename(from, to),
  /** Make the directory's entries (renames, new files) durable. */
  syncDir: async (dir: string): Promise<void> => {
    let fd: number;
    try {
      fd = openSync(dir, fsc.O_RDONLY);
    } catch (e) {
      // Windows cannot open a directory; its renames are as durable as it makes them.
      if (process.platform === 'win32') return;
      throw e;
    }
    try {
      await cb((d) => fsync(fd, d)).catch((e: NodeJS.ErrnoException) => {
        // Some file systems refuse fsync on a directory; nothing better is available there.
        if (e.code !== 'EINVAL' && e.code !== 'ENOTSUP' && e.code !== 'EPERM') throw e;
      });
    } finally {
      closeSync(fd);
    }
  },
  /** Create a file (failing when it exists) holding `bytes`, durable before this resolves. */
  createFile: async (path: string, bytes: Uint8Array, mode: number): Promise<void> => {
    const fd = openSync(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, mode);
    try {
      await writeAll(fd, bytes, 0);
      await cb((d) => fsync(fd, d));
    } finally {
      closeSync(fd);
    }
  },
};
