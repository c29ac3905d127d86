/**
 * One ledger copy on disk. Records are written in place into a file pre-extended with zeros, so
 * making a group commit durable only flushes data (no size change to journal most of the time);
 * the zero run after the last record marks the end, and a torn write shows as a record whose tail
 * is still zero (see core/ledger/chain.ts). Copies are opened O_DSYNC where available, so each
 * write is durable when it resolves (write + fdatasync in one call).
 */
import { constants as fsc, promises as fsp, write, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LicenseError } from '../../core/errors.js';
import { makeDirectory } from '../../os/make-dir.js';

/**
 * Open flags of a ledger copy. With O_DSYNC (POSIX) each write returns only once its data, and
 * any size change needed to read it back, are on stable storage: exactly what write + fdatasync
 * gives, in one system call and one thread-pool hop instead of two. Where O_DSYNC does not exist
 * (Windows) writes are followed by an explicit fdatasync instead.
 */
const DSYNC: number = fsc.O_DSYNC ?? 0;
const OPEN_FLAGS = fsc.O_RDWR | DSYNC;

/**
 * `write(2)` through the callback API: one thread-pool hop like `FileHandle.write`, without the
 * promise request object that costs that API several microseconds on the main thread per call.
 */
function writeFd(fd: number, buf: Uint8Array, at: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => write(fd, buf, at, length, position, (e, n) => (e ? reject(e) : resolve(n))));
}

/** Growth step of the zero-filled region. */
export const EXTEND_BYTES = 64 * 1024;

/**
 * Largest ledger copy licit writes or reads: 1 GiB, about 9 million records. A copy is read whole
 * on open, so a bound keeps a padded or swapped-in file from exhausting memory (or, past 2 GiB,
 * from tripping an assertion inside Node's file reads).
 */
export const MAX_COPY_BYTES = 1024 * 1024 * 1024;

function ioError(path: string, what: string, e: unknown): LicenseError {
  if (e instanceof LicenseError) return e;
  return new LicenseError('ERR_IO', `cannot ${what} ${path}: ${(e as Error).message}. Check that the directory exists, is writable and the disk is not full`, { path }, { cause: e });
}

async function syncDir(dir: string): Promise<void> {
  let d: FileHandle | undefined;
  try {
    d = await fsp.open(dir, 'r');
    await d.sync();
  } catch {
    // Windows and some file systems refuse to fsync a directory; nothing better is available there.
  } finally {
    await d?.close();
  }
}

/** An open ledger copy. */
export class LedgerFile {
  #fh: FileHandle;
  #ino: number;
  #dev: number;
  #size: number;

  private constructor(readonly path: string, fh: FileHandle, st: Stats) {
    this.#fh = fh;
    this.#ino = st.ino;
    this.#dev = st.dev;
    this.#size = st.size;
  }

  /** Open an existing copy; `undefined` when the file does not exist. */
  static async open(path: string): Promise<LedgerFile | undefined> {
    let fh: FileHandle;
    try {
      fh = await fsp.open(path, OPEN_FLAGS);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw ioError(path, 'open', e);
    }
    return new LedgerFile(path, fh, await fh.stat());
  }

  /** Create a copy (and its directory), durable in its directory before returning. */
  static async create(path: string): Promise<LedgerFile> {
    try {
      await makeDirectory(dirname(path));
      const fh = await fsp.open(path, OPEN_FLAGS | fsc.O_CREAT, 0o600);
      await fh.sync();
      await syncDir(dirname(path));
      return new LedgerFile(path, fh, await fh.stat());
    } catch (e) {
      throw ioError(path, 'create', e);
    }
  }

  /** Bytes of the file from `offset` to its end. */
  async readFrom(offset: number): Promise<Uint8Array> {
    try {
      const { size } = await this.#fh.stat();
      if (size > MAX_COPY_BYTES) {
        throw new LicenseError('ERR_LEDGER_TAMPERED', `${this.path} is ${size} bytes, more than any ledger copy licit writes (1 GiB): it was padded or replaced. Restore the ledger files from a backup, or ask the vendor for a license carrying the consumption they last saw`, { path: this.path, size });
      }
      this.#size = size;
      const out = new Uint8Array(Math.max(0, size - offset));
      let got = 0;
      while (got < out.length) {
        const { bytesRead } = await this.#fh.read(out, got, out.length - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return out.subarray(0, got);
    } catch (e) {
      throw ioError(this.path, 'read', e);
    }
  }

  /**
   * What sits at `offset`: `zero` (a zero length or the end of file: nothing new), `data`
   * (someone appended), or `short` (the file is shorter than `offset`: it was cut).
   */
  async probe(offset: number): Promise<'zero' | 'data' | 'short'> {
    const b = new Uint8Array(4);
    const { bytesRead } = await this.#fh.read(b, 0, 4, offset);
    if (bytesRead === 0) return (await this.#fh.stat()).size < offset ? 'short' : 'zero';
    return b.subarray(0, bytesRead).every((x) => x === 0) ? 'zero' : 'data';
  }

  /** True when the path still names this open file (not deleted, renamed or replaced). */
  async isCurrent(): Promise<boolean> {
    try {
      const st = await fsp.stat(this.path);
      return st.ino === this.#ino && st.dev === this.#dev;
    } catch {
      return false;
    }
  }

  /**
   * True when every {@link writeAt} is durable when it resolves (O_DSYNC), so a following
   * {@link datasync} has nothing left to flush.
   */
  get writesAreDurable(): boolean {
    return DSYNC !== 0;
  }

  /**
   * Write `bytes` at `offset`, extending the zero-filled region first when needed. Durable when
   * it resolves if {@link writesAreDurable}; otherwise call {@link datasync}.
   */
  async writeAt(bytes: Uint8Array, offset: number): Promise<void> {
    let buf = bytes;
    const end = offset + bytes.length;
    if (end > this.#size) {
      // Extend in the same write: data, then zeros up to the next growth step.
      const cap = Math.ceil((end + 1) / EXTEND_BYTES) * EXTEND_BYTES;
      buf = new Uint8Array(cap - offset);
      buf.set(bytes);
    }
    try {
      let done = 0;
      while (done < buf.length) {
        const n = await writeFd(this.#fh.fd, buf, done, buf.length - done, offset + done);
        // A short write is continued; a write of nothing would loop forever.
        if (n <= 0) throw Object.assign(new Error('write wrote 0 bytes'), { code: 'EIO' });
        done += n;
      }
      this.#size = Math.max(this.#size, offset + buf.length);
    } catch (e) {
      throw ioError(this.path, 'write', e);
    }
  }

  /** Overwrite `[from, to)` with zeros (a torn tail). Durable as {@link writeAt} is. */
  async zero(from: number, to: number): Promise<void> {
    if (to > from) await this.writeAt(new Uint8Array(to - from), from);
  }

  /** fdatasync: the data written so far survives a crash or power loss when this resolves. */
  async datasync(): Promise<void> {
    try {
      await this.#fh.datasync();
    } catch (e) {
      throw ioError(this.path, 'sync', e);
    }
  }

  /** Close the handle (idempotent). */
  async close(): Promise<void> {
    await this.#fh.close().catch(() => undefined);
  }
}
