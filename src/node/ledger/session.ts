/**
 * Holding the cross-process ledger locks across group commits.
 *
 * Taking the lock costs far more than an fdatasync (it records its holder for the pid-file
 * fallback), so a busy writer keeps it while work is queued and gives it up when idle. To stay
 * fair, a process that finds the lock taken touches a "want" file before waiting; a holder that
 * sees the want file newer than its own acquisition releases and stays away longer than the
 * lock's longest poll interval, so the waiter gets in. A killed holder loses the lock to the
 * kernel as always (see src/node/fs/lock.ts).
 */
import { promises as fsp } from 'node:fs';
import { isLicenseError } from '../../core/errors.js';
import { acquireLock, type FileLock } from '../fs/lock.js';

/** Longer than the lock's maximum back-off (50 ms), so a polling waiter sees the lock free. */
const YIELD_MS = 60;
/** How often a busy holder looks at the want file. */
const WANT_CHECK_MS = 10;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The ledger locks of one open ledger: one beside each copy, always taken in the same order, so
 * two ledgers that share a copy (two installations with their own primary and the default mirror)
 * are serialised on it, and no two processes can deadlock.
 */
export class LockSession {
  #locks: FileLock[] = [];
  #since = 0;
  #lastCheck = 0;
  /** A waiter touched a want file since we took the locks (seen by a background check). */
  #wanted = false;
  #checking = false;
  readonly paths: readonly string[];

  constructor(
    paths: readonly string[],
    readonly timeoutMs: number,
    /** Called just before the locks are given up (the holder's last word to the next one). */
    private readonly beforeRelease: () => void = () => undefined,
  ) {
    this.paths = [...new Set(paths)].sort();
  }

  /** Held right now. */
  get held(): boolean {
    return this.#locks.length > 0;
  }

  /** Take the locks unless held. Resolves true when newly taken: other processes may have written. */
  async enter(): Promise<boolean> {
    if (this.#locks.length > 0) return false;
    this.#locks = (await this.#tryAll()) ?? (await this.#waitInOrder());
    this.#since = Date.now();
    this.#lastCheck = this.#since;
    this.#wanted = false;
    return true;
  }

  /** Uncontended, the common case: try every lock at once (one round trip, not one per lock). */
  async #tryAll(): Promise<FileLock[] | undefined> {
    const tries = await Promise.allSettled(this.paths.map((p) => acquireLock(p, { timeoutMs: 0 })));
    const got = tries.flatMap((t) => (t.status === 'fulfilled' ? [t.value] : []));
    if (got.length === tries.length) return got;
    await Promise.all(got.map((l) => l.release().catch(() => undefined)));
    const failure = tries.find((t): t is PromiseRejectedResult => t.status === 'rejected' && !isLicenseError(t.reason, 'ERR_LEDGER_LOCKED'));
    if (failure !== undefined) throw failure.reason;
    return undefined;
  }

  /** Contended: wait for each lock in the fixed order, so two waiters can never deadlock. */
  async #waitInOrder(): Promise<FileLock[]> {
    const taken: FileLock[] = [];
    try {
      for (const path of this.paths) taken.push(await this.#take(path));
    } catch (e) {
      await Promise.all(taken.map((l) => l.release().catch(() => undefined)));
      throw e;
    }
    return taken;
  }

  async #take(path: string): Promise<FileLock> {
    try {
      return await acquireLock(path, { timeoutMs: 0 });
    } catch (e) {
      if (!isLicenseError(e, 'ERR_LEDGER_LOCKED')) throw e;
      await touchWant(path);
      return acquireLock(path, { timeoutMs: this.timeoutMs });
    }
  }

  /** After a commit: keep the locks while more work is queued and nobody waits; else let go. */
  async leave(moreQueued: boolean): Promise<void> {
    if (this.#locks.length === 0) return;
    if (moreQueued && !this.#someoneWaits()) return;
    await this.release();
    if (moreQueued) await sleep(YIELD_MS);
  }

  /** Release now (idempotent). */
  async release(): Promise<void> {
    if (this.#locks.length > 0) this.beforeRelease();
    const locks = this.#locks;
    this.#locks = [];
    await Promise.all(locks.map((l) => l.release()));
  }

  /**
   * Whether a waiter has asked for a lock. The want files are looked at in the background, at
   * most every {@link WANT_CHECK_MS}, so a commit never waits on that look; a waiter is noticed
   * one check later.
   */
  #someoneWaits(): boolean {
    const now = Date.now();
    if (!this.#checking && !this.#wanted && now - this.#lastCheck >= WANT_CHECK_MS) {
      this.#lastCheck = now;
      this.#checking = true;
      const since = this.#since;
      Promise.all(this.paths.map((p) => fsp.stat(`${p}.want`).then((st) => st.mtimeMs >= since, () => false)))
        .then((wants) => {
          if (wants.some(Boolean) && since === this.#since) this.#wanted = true;
        })
        .finally(() => {
          this.#checking = false;
        });
    }
    return this.#wanted;
  }
}

async function touchWant(path: string): Promise<void> {
  const want = `${path}.want`;
  const t = new Date();
  try {
    await fsp.utimes(want, t, t);
  } catch {
    await fsp.writeFile(want, '', { mode: 0o600 }).catch(() => undefined);
  }
}
