/**
 * {@link authenticateUser}: the one call the license server makes to learn which license user a
 * request speaks for, on licenses whose users must prove who they are. There, a user id alone
 * selects nothing: it comes from a verified ID token, or it comes with the user's password.
 */
import { withAuditChain } from '../../core/admin/chained-store.js';
import { toClock, type Clock } from '../../core/time/clock.js';
import { LicenseError } from '../../core/errors.js';
import { checkId, type Store } from '../../core/store/store.js';
import { LicenseUserCredentials, type CredentialOptions } from './credentials.js';
import type { IdTokenVerifier, VerifiedIdToken } from './id-token.js';

import type { UserAuthMode } from '../../core/license/claims.js';
export type { UserAuthMode } from '../../core/license/claims.js';

/** What a license (or the server, per license) requires of its users. */
export interface UserAuthPolicy {
  /** How users sign in. */
  readonly mode: UserAuthMode;
}

/** What a request carries to prove its user. */
export interface UserCredentialsInput {
  /** The user's password (needs the request's user id). */
  readonly password?: string | undefined;
  /** An ID token from the vendor's identity provider (names the user itself). */
  readonly idToken?: string | undefined;
}

/** The input of {@link authenticateUser}. */
export interface AuthenticateUserContext {
  /** The server's store (the vendor's, so audit events join its chain). */
  readonly store: Store;
  /** The license the request is for. */
  readonly licenseId: string;
  /** The user id the request names, if any. */
  readonly userId: string | undefined;
  /** The credentials the request carries, if any. */
  readonly credentials: UserCredentialsInput | undefined;
  /** What the license requires. */
  readonly mode: UserAuthMode;
  /** Verifies ID tokens (from {@link createIdTokenVerifier}); required when `mode` accepts them. */
  readonly idTokenVerifier?: IdTokenVerifier | undefined;
  /** Clock in ms (default `Date.now`). */
  readonly now?: Clock | undefined;
  /** Who is signing in, for the audit trail (e.g. `"installation:<id>"`; default the user id, else `"anonymous"`). */
  readonly actor?: string | undefined;
  /** Lockout settings for passwords (default 5 failures, 15 minutes). */
  readonly lockout?: Pick<CredentialOptions, 'maxFailures' | 'lockMs'> | undefined;
}

/** Who the request speaks for, and how that was established. */
export type AuthenticatedUser =
  | {
      /** The license requires no sign-in: the request's user id, unchecked (may be undefined). */
      readonly method: 'none';
      readonly userId: string | undefined;
      readonly mustChange: false;
    }
  | {
      /** Password checked. */
      readonly method: 'password';
      readonly userId: string;
      /** The administrator asked the user to choose a new password (the portal should ask). */
      readonly mustChange: boolean;
    }
  | {
      /** ID token verified; the user id is the token's. */
      readonly method: 'id-token';
      readonly userId: string;
      readonly mustChange: false;
      /** The token's claims. */
      readonly claims: Record<string, unknown>;
    };

const MODES: readonly string[] = ['none', 'password', 'id-token', 'password-or-id-token'];
const NEEDS: Record<Exclude<UserAuthMode, 'none'>, string> = {
  password: 'its user id and password',
  'id-token': 'an ID token from the identity provider',
  'password-or-id-token': 'its user id and password, or an ID token from the identity provider',
};

function credential(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new LicenseError('ERR_USAGE', `${what} must be a string`);
  return v;
}

/**
 * Establish the license user of a request. With mode `"none"` the request's user id is returned as
 * given. Otherwise an ID token (when the mode accepts one and the request has one) is verified and
 * names the user (a request user id must then match it); else the password is checked for the
 * request's user id. Failures are audited as `user.auth-failed`.
 *
 * @throws `ERR_USER_AUTH_REQUIRED` (no usable credential; the message says which the license needs,
 *   `details.accepts` lists them), `ERR_USER_AUTH_FAILED`, `ERR_RATE_LIMITED`, `ERR_USAGE`
 *   (an unknown mode, or an ID-token mode without `idTokenVerifier`)
 * @example
 * ```ts
 * const who = await authenticateUser({ store: vendor.store, licenseId, userId: req.user, credentials: body.credentials, mode: 'password-or-id-token', idTokenVerifier })
 * const user = who.userId ?? 'default'
 * ```
 */
export async function authenticateUser(ctx: AuthenticateUserContext): Promise<AuthenticatedUser> {
  if (ctx === null || typeof ctx !== 'object' || !MODES.includes(ctx.mode)) {
    throw new LicenseError('ERR_USAGE', `the user authentication mode must be one of ${MODES.join(', ')}`);
  }
  if (ctx.mode === 'none') return { method: 'none', userId: ctx.userId, mustChange: false };
  const mode = ctx.mode;
  const tokens = mode === 'id-token' || mode === 'password-or-id-token';
  const passwords = mode === 'password' || mode === 'password-or-id-token';
  if (tokens && typeof ctx.idTokenVerifier !== 'function') {
    throw new LicenseError('ERR_USAGE', `user authentication mode "${mode}" needs an idTokenVerifier (createIdTokenVerifier) configured on the server`);
  }
  if (ctx.userId !== undefined) checkId(ctx.userId, 'user id');
  const idToken = tokens ? credential(ctx.credentials?.idToken, 'idToken') : undefined;
  const password = passwords ? credential(ctx.credentials?.password, 'password') : undefined;
  const accepts = [...(passwords ? ['password'] : []), ...(tokens ? ['id-token'] : [])];
  const actor = checkId(ctx.actor ?? ctx.userId ?? 'anonymous', 'actor');

  if (idToken !== undefined && ctx.idTokenVerifier !== undefined) {
    let verified: VerifiedIdToken;
    try {
      verified = await ctx.idTokenVerifier(idToken);
      if (ctx.userId !== undefined && ctx.userId !== verified.userId) {
        throw new LicenseError('ERR_USER_AUTH_FAILED', 'the ID token did not verify; sign in again', { method: 'id-token', reason: 'user-mismatch' });
      }
    } catch (e) {
      if (e instanceof LicenseError && e.code === 'ERR_USER_AUTH_FAILED') await auditTokenFailure(ctx, actor, e);
      throw e;
    }
    return { method: 'id-token', userId: verified.userId, mustChange: false, claims: verified.claims };
  }
  if (password !== undefined) {
    if (ctx.userId === undefined) {
      throw new LicenseError('ERR_USER_AUTH_REQUIRED', 'a password was sent without the user id it belongs to: send both', { accepts });
    }
    const creds = new LicenseUserCredentials(ctx.store, ctx.licenseId, { now: ctx.now, maxFailures: ctx.lockout?.maxFailures, lockMs: ctx.lockout?.lockMs });
    const { mustChange } = await creds.checkPassword(ctx.userId, password, { actor });
    return { method: 'password', userId: ctx.userId, mustChange };
  }
  throw new LicenseError('ERR_USER_AUTH_REQUIRED', `this license requires its users to sign in: send ${NEEDS[mode]}`, { accepts });
}

async function auditTokenFailure(ctx: AuthenticateUserContext, actor: string, e: LicenseError): Promise<void> {
  const at = new Date(toClock(ctx.now)()).toISOString();
  const reason = typeof e.details.reason === 'string' ? e.details.reason : 'unknown';
  await withAuditChain(ctx.store).transaction(ctx.licenseId, async (tx) => {
    tx.append({ at, actor, kind: 'user.auth-failed', details: { user: ctx.userId ?? null, method: 'id-token', reason } });
  });
}
