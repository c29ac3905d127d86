/**
 * Cross-process exclusive locks on a file path (used by the ledger and the FileStore).
 *
 * Two sources, reported in {@link FileLock.source}:
 * - `"flock"`: the native addon's `flock` (POSIX) / `LockFileEx` (Windows) on the lock file. The
 *   kernel drops the lock when its holder dies, so even SIGKILL never leaves it stuck.
 * - `"lockfile"`: when the addon is missing (or `LICIT_NO_NATIVE=1`), the lock file is created
 *   exclusively with the holder's pid, host and start time, and taken over once that pid is dead
 *   (or has been reused by a newer process). Holders on another host are never judged dead.
 *
 * Both sources write the holder's identity into the lock file, so a `"lockfile"` waiter respects a
 * `"flock"` holder and vice versa. Waiting polls with a short back-off and never blocks the event
 * loop; waiters inside one process queue in order before touching the file.
 */
import { promises as fsp, readFileSync, constants as fsc } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LicenseError } from '../../core/errors.js';
import { loadNative, type NativeAddon } from '../fingerprint/native.js';
import { makeDirectory } from '../../os/make-dir.js';

/** A held lock. Release it exactly once; a second release is a no-op. */
export interface FileLock {
  /** `"flock"` (kernel lock via the addon) or `"lockfile"` (pid file fallback). */
  readonly source: 'flock' | 'lockfile';
  /** Give the lock up. Never rejects for a lock that is already gone. */
  release(): Promise<void>;
}

/** Options for {@link acquireLock} and {@link withLock}. */
export interface LockOptions {
  /** How long to wait for the lock before rejecting with `ERR_LEDGER_LOCKED`. Default 10 000 ms. */
  timeoutMs?: number;
  /** Force a source; default: `"flock"` when the addon loads, else `"lockfile"`. */
  source?: 'flock' | 'lockfile';
}

/** What the lock file says about its holder. */
export interface Holder {
  pid: number;
  host: string;
  /** Wall-clock start of the holding process, ms since epoch (diagnostics). */
  start: number;
  /** Linux /proc start tick of the pid, to recognise a reused pid; '' elsewhere. */
  pst: string;
  /** Random per-acquisition token, so a holder only ever removes its own file. */
  token: string;
}

const HOST = hostname();
const PROCESS_START = Math.round(Date.now() - process.uptime() * 1000);
const MAX_BACKOFF_MS = 50;

/** The start tick of a pid from /proc (field 22), or '' when unknown (not Linux, gone, no access). */
function procStart(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? '';
  } catch {
    return '';
  }
}

const OWN_PST = procStart(process.pid);

/** @internal The identity this process writes into a lock file it holds (also used by `log/held-lock.ts`). */
export function newHolder(): Holder {
  return { pid: process.pid, host: HOST, start: PROCESS_START, pst: OWN_PST, token: randomBytes(8).toString('hex') };
}

/** @internal A lock file's holder, or `undefined` when the text names none. */
export function parseHolder(text: string): Holder | undefined {
  try {
    const h = JSON.parse(text) as Partial<Holder>;
    if (typeof h.pid === 'number' && Number.isInteger(h.pid) && h.pid > 0 && typeof h.host === 'string' && typeof h.token === 'string') {
      return { pid: h.pid, host: h.host, start: typeof h.start === 'number' ? h.start : 0, pst: typeof h.pst === 'string' ? h.pst : '', token: h.token };
    }
  } catch {
    // not ours or torn: treated by the caller
  }
  return undefined;
}

/** @internal True when the holder is certainly gone: same host, and its pid is dead or now someone else. */
export function holderIsDead(h: Holder): boolean {
  if (h.host !== HOST) return false;
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return true;
    // EPERM: alive, owned by another user.
  }
  if (h.pst !== '') {
    const now = procStart(h.pid);
    if (now !== '' && now !== h.pst) return true; // the pid was reused by a newer process
  }
  return false;
}

/** @internal The holder in words, for error messages. */
export function describeHolder(h: Holder | undefined): string {
  if (h === undefined) return 'an unknown holder';
  const since = h.start > 0 ? ` (process started ${new Date(h.start).toISOString()})` : '';
  return `pid ${h.pid} on ${h.host}${since}`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** FIFO of in-process waiters per lock path, so one process does not poll against itself. */
const queues = new Map<string, Array<() => void>>();
const busy = new Set<string>();

function enterProcessQueue(key: string, deadline: number): Promise<boolean> {
  if (!busy.has(key)) {
    busy.add(key);
    return Promise.resolve(true);
  }
  return new Promise<boolean>((resolveWait) => {
    const q = queues.get(key) ?? [];
    queues.set(key, q);
    const wake = () => {
      clearTimeout(timer);
      resolveWait(true);
    };
    const timer = setTimeout(() => {
      const i = q.indexOf(wake);
      if (i >= 0) q.splice(i, 1);
      resolveWait(false);
    }, Math.max(0, deadline - Date.now()));
    q.push(wake);
  });
}

function leaveProcessQueue(key: string): void {
  const q = queues.get(key);
  const next = q?.shift();
  if (next !== undefined) next();
  else {
    queues.delete(key);
    busy.delete(key);
  }
}

/** One attempt with flock. Returns the lock, or the holder it saw when busy. */
async function tryFlock(addon: NativeAddon, path: string): Promise<{ lock?: FileLock; holder?: Holder }> {
  const fh = await fsp.open(path, fsc.O_RDWR | fsc.O_CREAT, 0o600);
  let keep = false;
  try {
    const rc = addon.lockFd(fh.fd);
    if (rc < 0) throw new LicenseError('ERR_IO', `cannot lock ${path}: system error ${-rc}; check the file system supports locks`, { path });
    if (rc === 1) return { holder: readHolder(path) };
    // We hold the kernel lock on this inode. It only counts if the path still names it (a
    // "lockfile" process may have renamed a stale file aside) and no "lockfile" holder is alive.
    const [mine, named] = await Promise.all([fh.stat(), fsp.stat(path).catch(() => undefined)]);
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const prior = parseHolder(buf.subarray(0, bytesRead).toString('utf8'));
    if (named === undefined || named.ino !== mine.ino || named.dev !== mine.dev || (prior !== undefined && prior.pid !== process.pid && !holderIsDead(prior))) {
      addon.unlockFd(fh.fd);
      return { holder: prior };
    }
    // Name the holder in the file (diagnostics, and so "lockfile" processes respect us).
    const me = Buffer.from(JSON.stringify(newHolder()));
    await fh.truncate(0);
    await fh.write(me, 0, me.length, 0);
    keep = true;
    let released = false;
    return {
      lock: {
        source: 'flock',
        async release() {
          if (released) return;
          released = true;
          // Clear the holder first so nobody reads a live pid for a free lock, then unlock.
          try {
            await fh.truncate(0).catch(() => undefined);
            addon.unlockFd(fh.fd);
          } finally {
            await fh.close();
          }
        },
      },
    };
  } finally {
    if (!keep) await fh.close();
  }
}

function readHolder(path: string): Holder | undefined {
  try {
    return parseHolder(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** One attempt with an exclusively created lock file. */
async function tryLockfile(path: string): Promise<{ lock?: FileLock; holder?: Holder }> {
  const me = newHolder();
  // Write the content to a private file first and hard-link it into place: link() fails with
  // EEXIST atomically, and the lock file never exists without its holder's identity in it.
  const tmp = `${path}.${me.token}.tmp`;
  await fsp.writeFile(tmp, JSON.stringify(me), { mode: 0o600 });
  try {
    await fsp.link(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    let text = '';
    try {
      text = await fsp.readFile(path, 'utf8');
    } catch {
      return {}; // vanished between link and read: try again at once
    }
    const holder = parseHolder(text);
    // An empty file is a free "flock" lock file; a dead holder is stale; a lock this process
    // released but could not remove is stale too. Either way take it over by renaming it aside
    // and checking that what we moved is what we judged.
    const leftOver = holder !== undefined && leaked.has(holder.token);
    if (holder === undefined ? text.trim() === '' : leftOver || holderIsDead(holder)) {
      await takeOver(path, text);
      if (leftOver && !existsSyncSafe(path, text)) leaked.delete(holder.token);
      return leftOver ? {} : { holder };
    }
    return { holder };
  } finally {
    await fsp.unlink(tmp).catch(() => undefined);
  }
  let released = false;
  return {
    lock: {
      source: 'lockfile',
      async release() {
        if (released) return;
        released = true;
        // Only remove the file if it is still ours (it cannot legitimately be anyone else's).
        let text: string;
        try {
          text = await fsp.readFile(path, 'utf8');
        } catch (e) {
          // Gone: nothing to do. Unreadable (EIO): it is ours, since nobody takes over a live
          // holder's lock; remember it, so that our next acquisition takes it over instead of
          // waiting for ourselves.
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') leaked.add(me.token);
          return;
        }
        if (parseHolder(text)?.token !== me.token) return;
        await fsp.unlink(path).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'ENOENT') leaked.add(me.token);
        });
      },
    },
  };
}

/**
 * Tokens of lock files this process released but could not remove (a failed read or unlink):
 * free, though they still name us. The next acquisition takes them over.
 */
const leaked = new Set<string>();

/** True when `path` still holds exactly `text` (the takeover did not move it). */
function existsSyncSafe(path: string, text: string): boolean {
  try {
    return readFileSync(path, 'utf8') === text;
  } catch {
    return false;
  }
}

async function takeOver(path: string, judged: string): Promise<void> {
  const aside = `${path}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await fsp.rename(path, aside);
  } catch {
    return; // someone else took it over first
  }
  const moved = await fsp.readFile(aside, 'utf8').catch(() => '');
  if (moved !== judged) {
    // We raced and moved a live lock: put it back unless the path was taken again meanwhile.
    await fsp.link(aside, path).catch(() => undefined);
  }
  await fsp.unlink(aside).catch(() => undefined);
}

/**
 * Take an exclusive lock on `path`, waiting up to `timeoutMs` (default 10 s). Rejects with
 * `LicenseError('ERR_LEDGER_LOCKED')` naming the holder on timeout. Two calls in one process
 * exclude each other too.
 *
 * `path` is a dedicated lock file, never the data it protects: licit creates it and writes the
 * holder's identity into it.
 *
 * @example
 * ```ts
 * const lock = await acquireLock('/var/lib/app/ledger.lock');
 * try { await appendRecord() } finally { await lock.release() }
 * ```
 */
export async function acquireLock(path: string, opts: LockOptions = {}): Promise<FileLock> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new LicenseError('ERR_USAGE', `timeoutMs must be a non-negative number of milliseconds, got ${timeoutMs}`);
  const file = resolve(path);
  const addon = opts.source === 'lockfile' ? undefined : loadNative();
  if (opts.source === 'flock' && addon === undefined) {
    throw new LicenseError('ERR_NATIVE_UNAVAILABLE', 'a "flock" lock needs the native addon, which did not load; omit `source` to fall back to lock files');
  }
  const deadline = Date.now() + timeoutMs;
  const key = `${file}\0${addon === undefined ? 'lockfile' : 'flock'}`;
  let holder: Holder | undefined;
  if (!(await enterProcessQueue(key, deadline))) holder = { pid: process.pid, host: HOST, start: PROCESS_START, pst: '', token: '' };
  else {
    try {
      await makeDirectory(dirname(file), 0o777); // umask applies, as for any mkdir
      for (let delay = 1; ; delay = Math.min(delay * 2, MAX_BACKOFF_MS)) {
        const got = addon !== undefined ? await tryFlock(addon, file) : await tryLockfile(file);
        if (got.lock !== undefined) {
          const inner = got.lock;
          let done = false;
          return {
            source: inner.source,
            async release() {
              if (done) return;
              done = true;
              try {
                await inner.release();
              } finally {
                leaveProcessQueue(key);
              }
            },
          };
        }
        holder = got.holder ?? holder;
        const left = deadline - Date.now();
        if (left <= 0) break;
        await sleep(Math.min(delay, left));
      }
    } catch (e) {
      leaveProcessQueue(key);
      if (e instanceof LicenseError) throw e;
      throw new LicenseError('ERR_IO', `cannot lock ${file}: ${(e as Error).message}`, { path: file }, { cause: e });
    }
    leaveProcessQueue(key);
  }
  throw new LicenseError(
    'ERR_LEDGER_LOCKED',
    `${file} is locked by ${describeHolder(holder)} and was not released within ${timeoutMs} ms; wait for that process to finish or stop it (a killed holder releases the lock by itself)`,
    { path: file, timeoutMs, holderPid: holder?.pid, holderHost: holder?.host },
  );
}

/**
 * Run `fn` while holding the lock on `path`, releasing it afterwards even when `fn` throws.
 *
 * @example
 * ```ts
 * const total = await withLock(`${dir}/store.lock`, async () => readModifyWrite());
 * ```
 */
export async function withLock<T>(path: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const lock = await acquireLock(path, opts);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
