/**
 * The cross-process lock of one log, kept open between transactions.
 *
 * `acquireLock` (node/fs/lock.ts) opens, locks, stats, reads, truncates and writes the lock file and
 * closes it again each time: nine thread-pool round trips, more than the commit it protects. Here
 * the lock file stays open and an uncontended acquire is a few synchronous system calls on the
 * page cache: `flock`, a `stat` that the path still names the open file, a 512-byte read of the
 * previous holder, a 256-byte write of ours; release overwrites it with spaces and unlocks. The
 * protocol is the same as `acquireLock`'s, so holders of either kind, and processes without the
 * addon (pid lock files), exclude each other.
 *
 * Waiters touch a `want` file beside the lock; a holder that keeps the lock across group commits
 * looks at it and steps aside (see `durable-log.ts`), so a busy process cannot starve another.
 */
import { closeSync, fstatSync, futimesSync, openSync, readSync, statSync, writeSync, ftruncateSync, constants as fsc } from 'node:fs';
import { LicenseError } from '../../core/errors.js';
import { acquireLock, describeHolder, holderIsDead, newHolder, parseHolder, type FileLock, type Holder } from '../fs/lock.js';
import { loadNative, type NativeAddon } from '../fingerprint/native.js';

/** Bytes of the holder record (JSON padded with spaces); a free lock file holds only spaces. */
const SLOT = 256;
const FREE = new Uint8Array(SLOT).fill(0x20);
/** Waiters poll at most this often; holders that step aside stay away longer (see YIELD_MS in durable-log.ts). */
export const MAX_POLL_MS = 8;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A lock file held open; {@link acquire} and {@link release} in turn, {@link close} at the end. */
export class HeldLock {
  readonly #path: string;
  readonly #wantPath: string;
  readonly #mode: number;
  readonly #addon: NativeAddon | undefined;
  #fd = -1;
  #ino = 0;
  #dev = 0;
  #wantFd = -1;
  #wantStamp = 0;
  #fallback: FileLock | undefined;
  #held = false;
  /** Our holder record, made once: pid, host and start do not change, and flock needs no token per acquisition. */
  readonly #me = Buffer.from(JSON.stringify(newHolder()).padEnd(SLOT, ' '));
  readonly #probe = Buffer.alloc(512);
  /** The file may hold more than a holder record (written by another kind of holder). */
  #long = true;
  /** The path named another file when we last locked: whoever holds state from before must reload it. */
  replaced = false;

  /**
   * @param path the lock file
   * @param mode its mode when created
   * @param mayCreate whether a missing lock file may be created (false: fail with ENOENT, so that
   *   locking an emptied or foreign directory writes nothing into it)
   */
  constructor(
    path: string,
    mode: number,
    private readonly mayCreate: () => boolean = () => true,
  ) {
    this.#path = path;
    this.#wantPath = `${path}.want`;
    this.#mode = mode;
    this.#addon = loadNative();
  }

  /** Held right now. */
  get held(): boolean {
    return this.#held;
  }

  /**
   * Take the lock, waiting up to `timeoutMs`. Rejects with `ERR_LEDGER_LOCKED` naming the holder on
   * timeout, or with the system error when the file cannot be opened (ENOENT: the directory is gone).
   */
  async acquire(timeoutMs: number): Promise<void> {
    if (this.#held) throw new Error('HeldLock.acquire: already held');
    if (this.#addon === undefined) {
      this.#fallback = await acquireLock(this.#path, { timeoutMs, source: 'lockfile' });
      this.#held = true;
      this.#stampWant();
      return;
    }
    const deadline = Date.now() + timeoutMs;
    let holder: Holder | undefined;
    for (let delay = 1; ; delay = Math.min(delay * 2, MAX_POLL_MS)) {
      const got = this.#try(this.#addon);
      if (got === true) {
        this.#held = true;
        this.#stampWant();
        return;
      }
      holder = got ?? holder;
      this.#touchWant();
      const left = deadline - Date.now();
      if (left <= 0) break;
      await sleep(Math.min(delay, left));
    }
    throw new LicenseError(
      'ERR_LEDGER_LOCKED',
      `${this.#path} is locked by ${describeHolder(holder)} and was not released within ${timeoutMs} ms; wait for that process to finish or stop it (a killed holder releases the lock by itself)`,
      { path: this.#path, timeoutMs, holderPid: holder?.pid, holderHost: holder?.host },
    );
  }

  /** One attempt: true when taken, else the holder seen (or undefined). */
  #try(addon: NativeAddon): true | Holder | undefined {
    if (this.#fd < 0) {
      try {
        this.#fd = openSync(this.#path, fsc.O_RDWR, this.#mode);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !this.mayCreate()) throw e;
        this.#fd = openSync(this.#path, fsc.O_RDWR | fsc.O_CREAT, this.#mode);
      }
      this.#long = true;
      const st = fstatSync(this.#fd);
      if (this.#ino !== 0 && (st.ino !== this.#ino || st.dev !== this.#dev)) {
        this.replaced = true;
        this.#closeWant();
      }
      this.#ino = st.ino;
      this.#dev = st.dev;
    }
    const rc = addon.lockFd(this.#fd);
    if (rc < 0) throw new LicenseError('ERR_IO', `cannot lock ${this.#path}: system error ${-rc}; check the file system supports locks`, { path: this.#path });
    if (rc === 1) return this.#holderInFile();
    // The kernel lock counts only if the path still names our file (a pid-file holder may have
    // renamed it aside, or the directory was deleted and made again) and no pid-file holder lives.
    const named = statSync(this.#path, { throwIfNoEntry: false });
    if (named === undefined || named.ino !== this.#ino || named.dev !== this.#dev) {
      addon.unlockFd(this.#fd);
      closeSync(this.#fd);
      this.#fd = -1;
      if (named === undefined) throw Object.assign(new Error(`${this.#path} no longer exists`), { code: 'ENOENT' });
      return undefined;
    }
    const prior = this.#holderInFile();
    if (prior !== undefined && prior.pid !== process.pid && !holderIsDead(prior)) {
      addon.unlockFd(this.#fd);
      return prior;
    }
    writeSync(this.#fd, this.#me, 0, this.#me.length, 0);
    if (this.#long) {
      if (fstatSync(this.#fd).size > this.#me.length) ftruncateSync(this.#fd, this.#me.length);
      this.#long = false;
    }
    return true;
  }

  #holderInFile(): Holder | undefined {
    const n = readSync(this.#fd, this.#probe, 0, this.#probe.length, 0);
    if (n > SLOT) this.#long = true;
    // A free lock file holds spaces (or nothing): no JSON to parse.
    let i = 0;
    while (i < n && this.#probe[i] === 0x20) i++;
    return i === n ? undefined : parseHolder(this.#probe.subarray(0, n).toString('utf8'));
  }

  /** Give the lock up (it stays open for the next {@link acquire}). Never throws. */
  async release(): Promise<void> {
    if (!this.#held) return;
    this.#held = false;
    if (this.#fallback !== undefined) {
      const f = this.#fallback;
      this.#fallback = undefined;
      await f.release().catch(() => undefined);
      return;
    }
    try {
      // Clear the holder first so nobody reads a live pid for a free lock, then unlock.
      writeSync(this.#fd, FREE, 0, SLOT, 0);
    } catch {
      // a read-only or full disk: the pid in the file is ours and is judged dead once we exit
    }
    this.#addon?.unlockFd(this.#fd);
  }

  /**
   * True when the lock file we hold is still the one at the path. False when the directory was
   * removed or replaced under us (our lock then excludes nobody): release and acquire again.
   */
  stillNamed(): boolean {
    if (this.#fallback !== undefined) return true; // the pid-file lock checks its own file
    const named = statSync(this.#path, { throwIfNoEntry: false });
    return named !== undefined && named.ino === this.#ino && named.dev === this.#dev;
  }

  /** True when another process started waiting since we took the lock. */
  othersWaiting(): boolean {
    if (this.#wantFd < 0) return false;
    try {
      return fstatSync(this.#wantFd).mtimeMs !== this.#wantStamp;
    } catch {
      return false;
    }
  }

  #openWant(): boolean {
    if (this.#wantFd >= 0) return true;
    try {
      this.#wantFd = openSync(this.#wantPath, fsc.O_RDWR | fsc.O_CREAT, this.#mode);
      return true;
    } catch {
      return false; // read-only directory: waiters simply cannot ask
    }
  }

  #stampWant(): void {
    if (!this.#openWant()) return;
    try {
      this.#wantStamp = fstatSync(this.#wantFd).mtimeMs;
    } catch {
      // ignore: fairness only
    }
  }

  #touchWant(): void {
    if (!this.#openWant()) return;
    try {
      const t = (performance.timeOrigin + performance.now()) / 1000;
      futimesSync(this.#wantFd, t, t);
    } catch {
      // ignore: fairness only
    }
  }

  #closeWant(): void {
    if (this.#wantFd >= 0) {
      try {
        closeSync(this.#wantFd);
      } catch {
        // already closed
      }
      this.#wantFd = -1;
    }
  }

  /** Release and close the files. */
  async close(): Promise<void> {
    await this.release();
    for (const fd of [this.#fd, this.#wantFd]) {
      if (fd >= 0) {
        try {
          closeSync(fd);
        } catch {
          // already closed
        }
      }
    }
    this.#fd = -1;
    this.#wantFd = -1;
  }
}
