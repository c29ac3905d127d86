/**
 * Portal sessions: an opaque random id in a cookie, the session itself in this process's memory.
 *
 * Why memory and not the store: a session id is a bearer secret, and keeping it out of the store
 * keeps it out of backups, replicas and the audit trail; a session lives minutes to hours, and a
 * restart signing everyone out is acceptable for a portal used a few times a month. The map is
 * keyed by the SHA-256 of the id, so even a heap dump does not hold ids a browser could send.
 * Several server processes behind one address need sticky sessions (docs/portal.md).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../core/time/clock.js';

/** Who a session belongs to. */
export type Principal =
  | { readonly kind: 'vendor' }
  /** A customer's administrator: every license of the company. */
  | { readonly kind: 'customer-admin'; readonly company: string; readonly email: string }
  /** A license user: the licenses of the company it is a user of, its own devices. */
  | { readonly kind: 'license-user'; readonly company: string; readonly email: string; readonly licenses: readonly string[] };

/** One signed-in browser. */
export interface Session {
  readonly principal: Principal;
  /** The synchronizer token every form of this session carries (compared in constant time). */
  readonly csrf: string;
  readonly createdAt: number;
  lastSeenAt: number;
  /** The password is an initial one (or was reset): nothing but changing it is allowed. */
  mustChangePassword: boolean;
  /** One message to show on the next page (after a redirect). */
  flash?: { readonly kind: 'ok' | 'error'; readonly text: string; readonly secret?: string; readonly secretLabel?: string } | undefined;
}

/** Options of {@link SessionStore}. */
export interface SessionOptions {
  /** A session unused this long ends (default 30 minutes). */
  readonly idleMs?: number | undefined;
  /** A session ends this long after sign-in, used or not (default 12 hours). */
  readonly maxAgeMs?: number | undefined;
  /** Sessions kept at most; past it the least recently used ends (default 10,000). */
  readonly maxSessions?: number | undefined;
}

const digest = (id: string) => createHash('sha256').update(id).digest('base64url');

/** Where sessions live; see the module comment for why in memory. */
export class SessionStore {
  /** In order of last use: the least recently used first. */
  readonly #sessions = new Map<string, Session>();
  readonly #idleMs: number;
  readonly #maxAgeMs: number;
  readonly #max: number;

  constructor(
    private readonly now: Clock,
    options: SessionOptions = {},
  ) {
    this.#idleMs = options.idleMs ?? 30 * 60_000;
    this.#maxAgeMs = options.maxAgeMs ?? 12 * 3_600_000;
    this.#max = options.maxSessions ?? 10_000;
  }

  /** Seconds a new session's cookie may live (its absolute limit). */
  get maxAgeSeconds(): number {
    return Math.floor(this.#maxAgeMs / 1000);
  }

  /** Start a session; returns the id for the cookie (32 random bytes, never stored as such). */
  create(principal: Principal, mustChangePassword: boolean): { id: string; session: Session } {
    const id = randomBytes(32).toString('base64url');
    const at = this.now();
    const session: Session = { principal, csrf: randomBytes(32).toString('base64url'), createdAt: at, lastSeenAt: at, mustChangePassword };
    this.#sessions.set(digest(id), session);
    while (this.#sessions.size > this.#max) this.#sessions.delete(this.#sessions.keys().next().value as string);
    return { id, session };
  }

  /** The live session of a cookie's id (its idle time restarted), or undefined when it ended or never was. */
  get(id: string | undefined): Session | undefined {
    if (id === undefined || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const key = digest(id);
    const s = this.#sessions.get(key);
    if (s === undefined) return undefined;
    const at = this.now();
    if (at - s.lastSeenAt > this.#idleMs || at - s.createdAt > this.#maxAgeMs) {
      this.#sessions.delete(key);
      return undefined;
    }
    s.lastSeenAt = at;
    this.#sessions.delete(key);
    this.#sessions.set(key, s);
    return s;
  }

  /** End one session (sign-out). */
  end(id: string | undefined): void {
    if (id !== undefined) this.#sessions.delete(digest(id));
  }

  /**
   * End every session of one person but `keep` (after its password changed, was reset, or it was
   * removed); `company` undefined: of that e-mail in any company (the vendor acting on a license).
   */
  endAllOf(company: string | undefined, email: string, keep?: Session): number {
    let n = 0;
    for (const [key, s] of this.#sessions) {
      const p = s.principal;
      if (p.kind !== 'vendor' && (company === undefined || p.company === company) && p.email === email && s !== keep) {
        this.#sessions.delete(key);
        n += 1;
      }
    }
    return n;
  }

  /** Sessions alive or not yet swept (for tests and metrics). */
  get size(): number {
    return this.#sessions.size;
  }
}
