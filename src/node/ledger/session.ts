/**
 * Holding the cross-process ledger lock across group commits.
 *
 * Taking the lock costs far more than an fdatasync (it records its holder for the pid-file
 * fallback), so a busy writer keeps it while work is queued and gives it up when idle. To stay
 * fair, a process that finds the lock taken touches a "want" file before waiting; a holder that
 * sees the want file newer than its own acquisition releases and stays away longer than the
 * lock's longest poll interval, so the waiter gets in. A killed holder loses the lock to the
 * kernel as always (see src/node/lock.ts).
 */
import { promises as fsp } from 'node:fs';
import { isLicenseError } from '../../core/errors.js';
import { acquireLock, type FileLock } from '../lock.js';

/** Longer than the lock's maximum back-off (50 ms), so a polling waiter sees the lock free. */
const YIELD_MS = 60;
/** How often a busy holder looks at the want file. */
const WANT_CHECK_MS = 10;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The ledger lock of one open ledger. */
export class LockSession {
  #lock: FileLock | undefined;
  #since = 0;
  #lastCheck = 0;
  /** A waiter touched the want file since we took the lock (seen by a background check). */
  #wanted = false;
  #checking = false;
  readonly #want: string;

  constructor(
    readonly path: string,
    readonly timeoutMs: number,
  ) {
    this.#want = `${path}.want`;
  }

  /** Held right now. */
  get held(): boolean {
    return this.#lock !== undefined;
  }

  /** Take the lock unless held. Resolves true when newly taken: other processes may have written. */
  async enter(): Promise<boolean> {
    if (this.#lock !== undefined) return false;
    try {
      this.#lock = await acquireLock(this.path, { timeoutMs: 0 });
    } catch (e) {
      if (!isLicenseError(e, 'ERR_LEDGER_LOCKED')) throw e;
      await this.#touchWant();
      this.#lock = await acquireLock(this.path, { timeoutMs: this.timeoutMs });
    }
    this.#since = Date.now();
    this.#lastCheck = this.#since;
    this.#wanted = false;
    return true;
  }

  /** After a commit: keep the lock while more work is queued and nobody waits; else let go. */
  async leave(moreQueued: boolean): Promise<void> {
    if (this.#lock === undefined) return;
    if (moreQueued && !this.#someoneWaits()) return;
    await this.release();
    if (moreQueued) await sleep(YIELD_MS);
  }

  /** Release now (idempotent). */
  async release(): Promise<void> {
    const lock = this.#lock;
    this.#lock = undefined;
    await lock?.release();
  }

  /**
   * Whether a waiter has asked for the lock. The want file is looked at in the background, at
   * most every {@link WANT_CHECK_MS}, so a commit never waits on that look; a waiter is noticed
   * one check later.
   */
  #someoneWaits(): boolean {
    const now = Date.now();
    if (!this.#checking && !this.#wanted && now - this.#lastCheck >= WANT_CHECK_MS) {
      this.#lastCheck = now;
      this.#checking = true;
      const since = this.#since;
      fsp
        .stat(this.#want)
        .then((st) => {
          if (st.mtimeMs >= since && since === this.#since) this.#wanted = true;
        })
        .catch(() => undefined)
        .finally(() => {
          this.#checking = false;
        });
    }
    return this.#wanted;
  }

  async #touchWant(): Promise<void> {
    const t = new Date();
    try {
      await fsp.utimes(this.#want, t, t);
    } catch {
      await fsp.writeFile(this.#want, '', { mode: 0o600 }).catch(() => undefined);
    }
  }
}
