/**
 * License user passwords in the store: one record of kind `server.credential` per user, keyed by
 * user id, holding the scrypt hash, whether the user must change it, and the lockout counter.
 *
 * A check runs scrypt outside any transaction (it is slow; a transaction holds the license's lock),
 * then commits its outcome in a transaction of its own, so a failure is counted and audited even
 * though the check then throws.
 */
import { withAuditChain } from '../../core/admin/chained-store.js';
import { toClock, type Clock } from '../../core/time/clock.js';
import { LicenseError } from '../../core/errors.js';
import { checkId, type JsonObject, type Store } from '../../core/store/store.js';
import { normalizeUserId } from '../../core/seats/user-id.js';
import { auditEvent as event } from '../../core/store/audit-event.js';
import { dummyHash, hashPassword, verifyPassword, type ScryptParams } from './password.js';

/** The record kind of license user passwords (key: the user id). */
export const CREDENTIAL_KIND = 'server.credential';

// The kinds user authentication writes are listed with every other kind in core/store/audit-event.ts.
export { USER_AUTH_KINDS, type UserAuthKind } from '../../core/store/audit-event.js';

/** Options of {@link LicenseUserCredentials}. */
export interface CredentialOptions {
  /** Clock in milliseconds since the epoch (default `Date.now`). */
  readonly now?: Clock | undefined;
  /** Consecutive wrong passwords that lock the user (default 5, 1 to 100). */
  readonly maxFailures?: number | undefined;
  /** How long a lock lasts, in ms (default 15 minutes, 1 second to 1 day). */
  readonly lockMs?: number | undefined;
  /** @internal Tests only: a lower scrypt cost for new hashes and the no-password check. */
  readonly scrypt?: ScryptParams | undefined;
}

/** The lockout defaults: 5 wrong passwords in a row lock the user for 15 minutes. */
export const LOCKOUT_DEFAULTS = Object.freeze({ maxFailures: 5, lockMs: 15 * 60_000 });

interface CredentialRecord {
  hash: string;
  mustChange: boolean;
  failures: number;
  /** ISO time the lock ends, or null. */
  lockedUntil: string | null;
  changedAt: string;
}

function parseRecord(userId: string, v: JsonObject): CredentialRecord {
  const { hash, mustChange, failures, lockedUntil, changedAt } = v;
  const ok =
    typeof hash === 'string' &&
    typeof mustChange === 'boolean' &&
    Number.isSafeInteger(failures) &&
    (failures as number) >= 0 &&
    (lockedUntil === null || (typeof lockedUntil === 'string' && Number.isFinite(Date.parse(lockedUntil)))) &&
    typeof changedAt === 'string';
  if (!ok) throw new LicenseError('ERR_STORE_CORRUPT', `the password record of "${userId}" is malformed; set the user's password again`, { userId });
  return { hash, mustChange, failures: failures as number, lockedUntil, changedAt } as CredentialRecord;
}

/** Milliseconds the record stays locked after `at` (0 when not locked). */
function lockLeft(rec: CredentialRecord, at: number): number {
  return rec.lockedUntil === null ? 0 : Math.max(0, Date.parse(rec.lockedUntil) - at);
}

function wholeIn(v: number | undefined, fallback: number, min: number, max: number, what: string): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < min || v > max) throw new LicenseError('ERR_USAGE', `${what} must be a whole number from ${min} to ${max}, got ${String(v)}`, { field: what });
  return v;
}

/** The one message of a failed password check: it does not say whether the user exists. */
export function authFailed(details: Record<string, unknown> = {}): LicenseError {
  return new LicenseError('ERR_USER_AUTH_FAILED', 'the user id or password is wrong', { method: 'password', ...details });
}

function rateLimited(leftMs: number): LicenseError {
  const retryAfterSeconds = Math.max(1, Math.ceil(leftMs / 1000));
  return new LicenseError('ERR_RATE_LIMITED', `too many wrong passwords for this user: try again in ${retryAfterSeconds} seconds, or ask the license administrator to unlock it`, { retryAfterSeconds });
}

/** What a password check's commit decided. */
type Outcome = { kind: 'ok'; mustChange: boolean } | { kind: 'locked'; leftMs: number } | { kind: 'failed' };

/**
 * The passwords of one license's users, with lockout after repeated failures.
 *
 * @example
 * ```ts
 * const creds = new LicenseUserCredentials(store, 'lic-1')
 * await creds.setPassword('ann@example.com', 'initial-secret-1', { mustChange: true, actor: 'admin' })
 * const { mustChange } = await creds.checkPassword('ann@example.com', typed) // throws ERR_USER_AUTH_FAILED / ERR_RATE_LIMITED
 * ```
 */
export class LicenseUserCredentials {
  /** The store, hash-chaining every audit event (as every licit writer does). */
  readonly store: Store;
  readonly #now: Clock;
  readonly #maxFailures: number;
  readonly #lockMs: number;
  readonly #scrypt: ScryptParams | undefined;

  constructor(
    store: Store,
    readonly licenseId: string,
    options: CredentialOptions = {},
  ) {
    if (store === null || typeof store !== 'object' || typeof store.transaction !== 'function') throw new LicenseError('ERR_USAGE', 'a Store is required');
    checkId(licenseId, 'license id');
    this.store = withAuditChain(store);
    this.#now = toClock(options.now);
    this.#maxFailures = wholeIn(options.maxFailures, LOCKOUT_DEFAULTS.maxFailures, 1, 100, 'maxFailures');
    this.#lockMs = wholeIn(options.lockMs, LOCKOUT_DEFAULTS.lockMs, 1000, 86_400_000, 'lockMs');
    this.#scrypt = options.scrypt;
  }

  /**
   * Set (or replace) a user's password; clears any lock. With `mustChange`, the user may still sign
   * in but is told to choose a new password. Audited as `user.password-set`.
   * @throws `ERR_USAGE` (password shorter than 8 or longer than 1024 characters)
   */
  async setPassword(userId: string, password: string, opts: { mustChange?: boolean; actor?: string } = {}): Promise<void> {
    userId = normalizeUserId(userId);
    const actor = checkId(opts.actor ?? 'admin', 'actor');
    const mustChange = opts.mustChange === true;
    const hash = await hashPassword(password, this.#scrypt === undefined ? {} : { scrypt: this.#scrypt });
    await this.store.transaction(this.licenseId, async (tx) => {
      const replaced = (await tx.get(CREDENTIAL_KIND, userId)) !== undefined;
      const at = this.#now();
      const rec: CredentialRecord = { hash, mustChange, failures: 0, lockedUntil: null, changedAt: new Date(at).toISOString() };
      tx.put(CREDENTIAL_KIND, userId, { ...rec });
      tx.append(event(at, actor, 'user.password-set', { user: userId, mustChange, replaced }));
    });
  }

  /** Remove a user's password (the user can no longer sign in with one). Returns false when there was none. */
  async clearPassword(userId: string, opts: { actor?: string } = {}): Promise<boolean> {
    userId = normalizeUserId(userId);
    const actor = checkId(opts.actor ?? 'admin', 'actor');
    return this.store.transaction(this.licenseId, async (tx) => {
      if ((await tx.get(CREDENTIAL_KIND, userId)) === undefined) return false;
      tx.delete(CREDENTIAL_KIND, userId);
      tx.append(event(this.#now(), actor, 'user.password-cleared', { user: userId }));
      return true;
    });
  }

  /** Lift a lock and reset the failure count before the lock runs out. Returns false when there was nothing to lift. */
  async unlock(userId: string, opts: { actor?: string } = {}): Promise<boolean> {
    userId = normalizeUserId(userId);
    const actor = checkId(opts.actor ?? 'admin', 'actor');
    return this.store.transaction(this.licenseId, async (tx) => {
      const raw = await tx.get(CREDENTIAL_KIND, userId);
      if (raw === undefined) return false;
      const rec = parseRecord(userId, raw);
      if (rec.failures === 0 && rec.lockedUntil === null) return false;
      tx.put(CREDENTIAL_KIND, userId, { ...rec, failures: 0, lockedUntil: null });
      tx.append(event(this.#now(), actor, 'user.unlocked', { user: userId, failures: rec.failures }));
      return true;
    });
  }

  /** True when the user has a password. */
  async hasPassword(userId: string): Promise<boolean> {
    userId = normalizeUserId(userId);
    return (await this.store.read(this.licenseId, (r) => r.get(CREDENTIAL_KIND, userId))) !== undefined;
  }

  /**
   * Check a user's password. A wrong one is counted and audited (`user.auth-failed`); the
   * `maxFailures`-th in a row locks the user for `lockMs` (`user.locked`), during which every check
   * fails with `ERR_RATE_LIMITED` without looking at the password. A right one resets the count.
   * A user with no password costs the same scrypt time as one with a password and fails the same way.
   *
   * @param opts.actor who is signing in, for the audit trail (default: the user id)
   * @returns whether the user must change the password
   * @throws `ERR_USER_AUTH_FAILED` (one message for every reason), `ERR_RATE_LIMITED` (`details.retryAfterSeconds`),
   *   `ERR_STORE_CORRUPT` (a malformed record or hash)
   */
  async checkPassword(userId: string, password: string, opts: { actor?: string } = {}): Promise<{ mustChange: boolean }> {
    userId = normalizeUserId(userId);
    if (typeof password !== 'string') throw new LicenseError('ERR_USAGE', 'a password must be a string');
    const actor = checkId(opts.actor ?? userId, 'actor');
    const raw = await this.store.read(this.licenseId, (r) => r.get(CREDENTIAL_KIND, userId));
    const before = raw === undefined ? undefined : parseRecord(userId, raw);
    if (before !== undefined) {
      const left = lockLeft(before, this.#now());
      if (left > 0) throw rateLimited(left);
    }
    // The slow part, outside the license's lock; against a dummy when there is no password.
    const matched = (await verifyPassword(password, before?.hash ?? dummyHash(this.#scrypt))) && before !== undefined;
    const outcome = await this.store.transaction(this.licenseId, async (tx): Promise<Outcome> => {
      const at = this.#now();
      const curRaw = await tx.get(CREDENTIAL_KIND, userId);
      if (curRaw === undefined) {
        tx.append(event(at, actor, 'user.auth-failed', { user: userId, method: 'password', reason: 'no-password' }));
        return { kind: 'failed' };
      }
      const cur = parseRecord(userId, curRaw);
      const left = lockLeft(cur, at);
      if (left > 0) {
        // Locked while this check ran (parallel guesses): the outcome stays hidden and uncounted.
        tx.append(event(at, actor, 'user.auth-failed', { user: userId, method: 'password', reason: 'locked' }));
        return { kind: 'locked', leftMs: left };
      }
      // A lock that ran out starts a fresh count.
      const failures = cur.lockedUntil === null ? cur.failures : 0;
      const sameHash = cur.hash === before?.hash;
      if (matched && sameHash) {
        if (cur.failures !== 0 || cur.lockedUntil !== null) tx.put(CREDENTIAL_KIND, userId, { ...cur, failures: 0, lockedUntil: null });
        return { kind: 'ok', mustChange: cur.mustChange };
      }
      const next: CredentialRecord = { ...cur, failures: failures + 1, lockedUntil: null };
      tx.append(event(at, actor, 'user.auth-failed', { user: userId, method: 'password', reason: sameHash ? 'wrong-password' : 'password-changed', failures: next.failures }));
      if (next.failures >= this.#maxFailures) {
        next.lockedUntil = new Date(at + this.#lockMs).toISOString();
        tx.append(event(at, actor, 'user.locked', { user: userId, failures: next.failures, lockedUntil: next.lockedUntil, lockMs: this.#lockMs }));
      }
      tx.put(CREDENTIAL_KIND, userId, { ...next });
      return { kind: 'failed' };
    });
    if (outcome.kind === 'ok') return { mustChange: outcome.mustChange };
    if (outcome.kind === 'locked') throw rateLimited(outcome.leftMs);
    throw authFailed();
  }
}
