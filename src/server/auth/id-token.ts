/**
 * ID tokens from the vendor's identity provider (OpenID Connect), verified with `jose` against the
 * provider's JSON Web Key Set: signature, issuer, audience, expiry, then the claim that names the
 * license user. No JWT parsing or signature check is written here.
 */
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { toClock, type Clock } from '../../core/time/clock.js';
import { LicenseError } from '../../core/errors.js';
import { checkId } from '../../core/store/store.js';

/** Options of {@link createIdTokenVerifier}. Give exactly one of `jwksUrl` and `jwks`. */
export interface IdTokenVerifierOptions {
  /** The provider's issuer, exactly as in its tokens' `iss` (e.g. `"https://login.example.com/"`). */
  readonly issuer: string;
  /** The client id(s) tokens must be issued to (`aud`). */
  readonly audience: string | readonly string[];
  /** The provider's `jwks_uri`; https, or http on a loopback address only. Keys are cached 10 minutes and refetched for an unknown `kid` (at most every 30 s). */
  readonly jwksUrl?: string | URL | undefined;
  /** The provider's keys, given inline instead of fetched. */
  readonly jwks?: JSONWebKeySet | undefined;
  /** The claim holding the license user id (default `"sub"`; `"email"` is common, and then `email_verified` must not be false). */
  readonly userClaim?: string | undefined;
  /** Clock skew allowed on `exp`, `nbf` and `iat`, in seconds (default 30, at most 300). */
  readonly clockToleranceSec?: number | undefined;
  /** Signature algorithms accepted (default every asymmetric JWS algorithm; `none` and HMAC are refused). */
  readonly algorithms?: readonly string[] | undefined;
  /** How long one JWKS fetch may take, in ms (default 5000). */
  readonly jwksTimeoutMs?: number | undefined;
  /** Clock in milliseconds since the epoch (default `Date.now`). */
  readonly now?: Clock | undefined;
}

/** A verified ID token: the license user it names and all of its claims. */
export interface VerifiedIdToken {
  /** The value of the user claim. */
  readonly userId: string;
  /** Every claim of the token (`iss`, `sub`, `aud`, `exp`, `email`, …). */
  readonly claims: Record<string, unknown>;
}

/** Verifies one ID token; rejects with `ERR_USER_AUTH_FAILED` (`details.reason` says why). */
export type IdTokenVerifier = (idToken: string) => Promise<VerifiedIdToken>;

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
/** Far above any real ID token; stops megabyte "tokens" before base64 decoding. */
const MAX_TOKEN_LENGTH = 16 * 1024;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
/** Errors from the key lookup that are the token's fault (unknown kid, unsupported alg); anything else is the provider's. */
const TOKEN_FAULTS = new Set(['ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_MULTIPLE_MATCHING_KEYS', 'ERR_JOSE_NOT_SUPPORTED', 'ERR_JOSE_ALG_NOT_ALLOWED']);

/** The key set could not be fetched or used: not the token's fault. */
class JwksUnavailable extends Error {}

const usage = (why: string) => new LicenseError('ERR_USAGE', `createIdTokenVerifier: ${why}`);

/** The one message of a token that did not verify; `reason` is jose's code or one of ours. */
function failed(reason: string, extra: Record<string, unknown> = {}, cause?: unknown): LicenseError {
  return new LicenseError('ERR_USER_AUTH_FAILED', 'the ID token did not verify; sign in again', { method: 'id-token', reason, ...extra }, { cause });
}

function keyLookup(options: IdTokenVerifierOptions): JWTVerifyGetKey {
  if ((options.jwksUrl === undefined) === (options.jwks === undefined)) throw usage('give exactly one of jwksUrl and jwks');
  if (options.jwks !== undefined) {
    try {
      return createLocalJWKSet(options.jwks);
    } catch (e) {
      throw new LicenseError('ERR_USAGE', 'createIdTokenVerifier: jwks is not a JSON Web Key Set ({ keys: [...] })', {}, { cause: e });
    }
  }
  let url: URL;
  try {
    url = new URL(String(options.jwksUrl));
  } catch {
    throw usage('jwksUrl is not a URL');
  }
  // Keys fetched over plain http could be swapped on the way, and with them every token.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) throw usage('jwksUrl must be https (http only on a loopback address)');
  const timeout = options.jwksTimeoutMs ?? 5000;
  if (!Number.isSafeInteger(timeout) || timeout < 1 || timeout > 60_000) throw usage('jwksTimeoutMs must be a whole number of ms from 1 to 60000');
  const remote = createRemoteJWKSet(url, { timeoutDuration: timeout });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (e) {
      if (e instanceof errors.JOSEError && TOKEN_FAULTS.has(e.code)) throw e;
      throw new JwksUnavailable('JWKS unavailable', { cause: e });
    }
  };
}

function verifyOptions(options: IdTokenVerifierOptions): JWTVerifyOptions {
  if (typeof options.issuer !== 'string' || options.issuer === '') throw usage('issuer must be a non-empty string');
  const aud = typeof options.audience === 'string' ? [options.audience] : options.audience;
  if (!Array.isArray(aud) || aud.length === 0 || !aud.every((a) => typeof a === 'string' && a !== '')) throw usage('audience must be a non-empty string or array of strings');
  const algorithms = options.algorithms === undefined ? ASYMMETRIC : [...options.algorithms];
  if (algorithms.length === 0 || !algorithms.every((a) => typeof a === 'string' && a !== '' && a.toLowerCase() !== 'none' && !a.startsWith('HS'))) {
    throw usage('algorithms must list asymmetric JWS algorithms (no "none", no HMAC: a public key set cannot hold a shared secret)');
  }
  const tolerance = options.clockToleranceSec ?? 30;
  if (!Number.isSafeInteger(tolerance) || tolerance < 0 || tolerance > 300) throw usage('clockToleranceSec must be a whole number of seconds from 0 to 300');
  return { issuer: options.issuer, audience: [...aud], algorithms, clockTolerance: tolerance, requiredClaims: ['exp', 'iat'] };
}

/**
 * Make a function that verifies ID tokens of one identity provider and returns the license user
 * they name. Every failure is `ERR_USER_AUTH_FAILED` with one message and `details.reason`: jose's
 * error code (`ERR_JWT_EXPIRED`, `ERR_JWT_CLAIM_VALIDATION_FAILED` with `details.claim`,
 * `ERR_JWS_SIGNATURE_VERIFICATION_FAILED`, `ERR_JWKS_NO_MATCHING_KEY`, `ERR_JOSE_ALG_NOT_ALLOWED`, …),
 * `user-claim-missing`, `email-unverified`, `token-too-large`, or `jwks-unreachable` when the
 * provider's keys could not be fetched (`details.retryable: true`; the token may be fine).
 *
 * @throws `ERR_USAGE` at creation for a bad option
 * @example
 * ```ts
 * const verify = createIdTokenVerifier({
 *   issuer: 'https://login.example.com/',
 *   audience: 'licit-portal',
 *   jwksUrl: 'https://login.example.com/.well-known/jwks.json',
 *   userClaim: 'email',
 * })
 * const { userId } = await verify(idToken) // "ann@example.com"
 * ```
 */
export function createIdTokenVerifier(options: IdTokenVerifierOptions): IdTokenVerifier {
  if (options === null || typeof options !== 'object') throw usage('options { issuer, audience, jwksUrl | jwks } are required');
  const verifyOpts = verifyOptions(options);
  const getKey = keyLookup(options);
  const userClaim = options.userClaim ?? 'sub';
  if (typeof userClaim !== 'string' || userClaim === '') throw usage('userClaim must be a non-empty claim name');
  const now = options.now === undefined ? undefined : toClock(options.now);

  const verify = async (token: string) => {
    const opts = now === undefined ? verifyOpts : { ...verifyOpts, currentDate: new Date(now()) };
    try {
      return await jwtVerify(token, getKey, opts);
    } catch (e) {
      if (!(e instanceof errors.JWKSMultipleMatchingKeys)) throw e;
      // Several keys fit the header (no kid): try each, as jose documents.
      for await (const key of e) {
        try {
          return await jwtVerify(token, key, opts);
        } catch (inner) {
          if (inner instanceof errors.JWSSignatureVerificationFailed) continue;
          throw inner;
        }
      }
      throw new errors.JWSSignatureVerificationFailed();
    }
  };

  return async (idToken: string): Promise<VerifiedIdToken> => {
    if (typeof idToken !== 'string') throw new LicenseError('ERR_USAGE', 'an ID token must be a string');
    if (idToken.length > MAX_TOKEN_LENGTH) throw failed('token-too-large');
    let claims: Record<string, unknown>;
    try {
      claims = (await verify(idToken)).payload as Record<string, unknown>;
    } catch (e) {
      if (e instanceof JwksUnavailable) {
        throw new LicenseError('ERR_USER_AUTH_FAILED', "the identity provider's signing keys could not be fetched; try again later", { method: 'id-token', reason: 'jwks-unreachable', retryable: true }, { cause: e.cause });
      }
      if (e instanceof errors.JOSEError) throw failed(e.code, 'claim' in e && typeof e.claim === 'string' ? { claim: e.claim } : {}, e);
      throw failed('ERR_JOSE_GENERIC', {}, e);
    }
    const userId = claims[userClaim];
    if (typeof userId !== 'string' || userId === '') throw failed('user-claim-missing', { claim: userClaim });
    try {
      checkId(userId, 'user id');
    } catch {
      throw failed('user-claim-invalid', { claim: userClaim });
    }
    // Some providers send the flag as a string.
    if (userClaim === 'email' && (claims.email_verified === false || claims.email_verified === 'false')) throw failed('email-unverified', { claim: 'email_verified' });
    return { userId, claims };
  };
}
