/**
 * Token buckets keyed by a string (a client address, a license id): pure (no timers, no I/O), the
 * clock injected, the memory bounded. The license server uses three of them (per client, per
 * license, failed admin tokens per client); see `rateLimit` in `LicenseServerOptions`.
 */
import { LicenseError } from '../core/errors.js';
import { toClock, type Clock } from '../core/time/clock.js';

/** A rate: `requests` every `perSeconds`, with bursts of up to `burst`. */
export interface RateLimit {
  /** Requests allowed per `perSeconds` (the refill rate). */
  readonly requests: number;
  /** The window the rate is expressed in, in seconds. */
  readonly perSeconds: number;
  /** Requests a key that was quiet may make at once (the bucket size; default `requests`). */
  readonly burst?: number | undefined;
}

/** What {@link TokenBuckets.take} answers: allowed, or refused with when to come back. */
export type Take = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };

/** Options of {@link TokenBuckets}. */
export interface TokenBucketsOptions {
  /** Milliseconds since any fixed origin (default `Date.now`); a clock that steps back refills nothing. */
  readonly now?: Clock | undefined;
  /**
   * Keys tracked at most (default 50,000). Past it the longest-unused key is forgotten (it starts
   * again with a full bucket), so memory stays bounded whatever the number of clients.
   */
  readonly maxKeys?: number | undefined;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * One rate limit over many keys.
 *
 * @example
 * ```ts
 * const perClient = new TokenBuckets({ requests: 60, perSeconds: 60 })
 * const t = perClient.take('203.0.113.9')
 * if (!t.ok) answer429(t.retryAfterSeconds)
 * ```
 */
export class TokenBuckets {
  private readonly burst: number;
  /** Tokens per millisecond. */
  private readonly rate: number;
  /** A bucket untouched this long is full again: the same as no bucket, so it is dropped. */
  private readonly fullAfterMs: number;
  private readonly now: Clock;
  private readonly maxKeys: number;
  /** In order of last use (a touched key moves to the end), so idle keys are at the front. */
  private readonly buckets = new Map<string, Bucket>();

  constructor(limit: RateLimit, options: TokenBucketsOptions = {}) {
    checkLimit(limit, 'rate limit');
    this.burst = limit.burst ?? limit.requests;
    this.rate = limit.requests / (limit.perSeconds * 1000);
    this.fullAfterMs = this.burst / this.rate;
    this.now = toClock(options.now);
    this.maxKeys = options.maxKeys ?? 50_000;
    if (!Number.isSafeInteger(this.maxKeys) || this.maxKeys < 1) throw new LicenseError('ERR_USAGE', `maxKeys must be a whole number >= 1, got ${String(options.maxKeys)}`);
  }

  /** Take `cost` tokens from `key`'s bucket, or say how many seconds until they are there. */
  take(key: string, cost = 1): Take {
    return this.use(key, cost, true);
  }

  /** Whether {@link take} would succeed, without taking anything. */
  peek(key: string, cost = 1): Take {
    return this.use(key, cost, false);
  }

  /** Keys tracked now (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private use(key: string, cost: number, consume: boolean): Take {
    const now = this.now();
    this.sweep(now);
    const b = this.buckets.get(key);
    const tokens = b === undefined ? this.burst : Math.min(this.burst, b.tokens + Math.max(0, now - b.at) * this.rate);
    if (tokens < cost) {
      // Not refused forever: a cost above the burst is refused until a full bucket, like any other.
      const missing = Math.min(cost, this.burst) - tokens;
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(missing / this.rate / 1000)) };
    }
    if (!consume) return { ok: true };
    this.buckets.delete(key);
    this.buckets.set(key, { tokens: tokens - cost, at: now });
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
    return { ok: true };
  }

  /** Drop the buckets that refilled completely (amortised O(1): each is dropped once per use). */
  private sweep(now: number): void {
    for (const [key, b] of this.buckets) {
      if (now - b.at < this.fullAfterMs) break;
      this.buckets.delete(key);
    }
  }
}

/** Refuse a limit that would divide by zero or never refill, naming where it came from. */
export function checkLimit(limit: RateLimit, name: string): void {
  const positive = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;
  if (limit === null || typeof limit !== 'object' || !positive(limit.requests) || !positive(limit.perSeconds) || (limit.burst !== undefined && !(positive(limit.burst) && limit.burst >= 1))) {
    throw new LicenseError('ERR_USAGE', `${name} must be { requests, perSeconds, burst? } with numbers > 0 (burst >= 1), or false to turn it off`);
  }
}
