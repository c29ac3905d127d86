/**
 * The license server's rate limits: exchange requests per client and per license, and failed
 * admin tokens per client. Each is a {@link TokenBuckets}; a refusal is `ERR_RATE_LIMITED` with
 * `details.retryAfterSeconds` (the server adds the `Retry-After` header).
 */
import type { Clock } from '../core/time/clock.js';
import { LicenseError } from '../core/errors.js';
import { clientKey } from './client-address.js';
import { checkLimit, TokenBuckets, type RateLimit, type Take } from './rate-limit.js';

/** The `rateLimit` option of `createLicenseServer`: each limit can be changed or turned off (`false`). */
export interface RateLimitOptions {
  /**
   * Exchange requests (`/v1/activate`, `/renew`, `/deactivate`, `/usage`, `/topup`) per client
   * address (an IPv6 client by its /64). Default 60 per 60 s, bursts of 60. Applies when the
   * client's address is known: behind `listen()`, or passed as `handle(req, { clientAddress })`.
   */
  readonly perClient?: RateLimit | false | undefined;
  /**
   * Exchange requests per license id, whoever sends them. Default 120 per 60 s, bursts of 120.
   * Counted once the request code's signature holds; the license id in it is the installation's
   * claim, so whoever knows a license id can spend its budget (bounded by their own per-client limit).
   */
  readonly perLicense?: RateLimit | false | undefined;
  /**
   * Failed admin tokens per client (a wrong `Authorization: Bearer`; a request without the header is
   * not a guess). Default 10 per 600 s. Once spent, the client's admin calls are refused with 429
   * before the token is even compared, right token or not, until it refills.
   */
  readonly adminFailures?: RateLimit | false | undefined;
  /** Clients or licenses tracked at most per limit (default 50,000); the longest idle is forgotten first. */
  readonly maxTrackedKeys?: number | undefined;
}

/** The defaults of {@link RateLimitOptions}. */
export const DEFAULT_RATE_LIMITS = {
  perClient: { requests: 60, perSeconds: 60 },
  perLicense: { requests: 120, perSeconds: 60 },
  adminFailures: { requests: 10, perSeconds: 600 },
} as const satisfies Record<string, RateLimit>;

/** Where an unknown client's admin failures are counted: together, so guessing stays slow. */
const UNKNOWN_CLIENT = 'unknown-client';

/** The three limits of one server. */
export class ServerLimits {
  private readonly perClient: TokenBuckets | undefined;
  private readonly perLicense: TokenBuckets | undefined;
  private readonly adminFailures: TokenBuckets | undefined;

  constructor(options: RateLimitOptions | false | undefined, now: Clock) {
    const o: RateLimitOptions = options === false ? { perClient: false, perLicense: false, adminFailures: false } : (options ?? {});
    if (typeof o !== 'object') throw new LicenseError('ERR_USAGE', 'rateLimit must be an object ({ perClient, perLicense, adminFailures }) or false');
    const make = (limit: RateLimit | false | undefined, fallback: RateLimit, name: string) => {
      if (limit === false) return undefined;
      const l = limit ?? fallback;
      checkLimit(l, `rateLimit.${name}`);
      return new TokenBuckets(l, { now, maxKeys: o.maxTrackedKeys });
    };
    this.perClient = make(o.perClient, DEFAULT_RATE_LIMITS.perClient, 'perClient');
    this.perLicense = make(o.perLicense, DEFAULT_RATE_LIMITS.perLicense, 'perLicense');
    this.adminFailures = make(o.adminFailures, DEFAULT_RATE_LIMITS.adminFailures, 'adminFailures');
  }

  /** Whether requests are counted per license (if not, nobody needs to read the license id). */
  get countsLicenses(): boolean {
    return this.perLicense !== undefined;
  }

  /** Count an exchange request from `address` (nothing when the address is unknown). */
  client(address: string | undefined): void {
    if (this.perClient === undefined || address === undefined) return;
    refuse(this.perClient.take(clientKey(address)), 'too many requests from this client');
  }

  /** Count an exchange request for `licenseId`. */
  license(licenseId: string): void {
    if (this.perLicense === undefined) return;
    refuse(this.perLicense.take(licenseId), 'too many requests for this license');
  }

  /**
   * Run `authorize` for a client, counting its failures when it offered a token; refuse with 429,
   * without calling `authorize`, a client that failed too often.
   */
  admin(address: string | undefined, offeredToken: boolean, authorize: () => void): void {
    if (this.adminFailures === undefined) return authorize();
    const key = address === undefined ? UNKNOWN_CLIENT : clientKey(address);
    refuse(this.adminFailures.peek(key), 'too many failed admin token attempts from this client');
    try {
      authorize();
    } catch (e) {
      if (offeredToken) this.adminFailures.take(key);
      throw e;
    }
  }
}

function refuse(t: Take, what: string): void {
  if (!t.ok) throw new LicenseError('ERR_RATE_LIMITED', `${what}; retry in ${t.retryAfterSeconds} s`, { retryAfterSeconds: t.retryAfterSeconds });
}

