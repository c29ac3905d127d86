/**
 * Who a sign-in is: the vendor (the server's admin token), a customer's administrator (company
 * code, e-mail and the account's password) or a license user (company code, the user id it was
 * assigned with, and the password the administrator gave it: the license's own credential, the
 * one the application signs in with too). Every wrong answer is the same `ERR_USER_AUTH_FAILED`,
 * whatever was wrong, and costs the same scrypt time; each account locks after repeated failures
 * (LicenseUserCredentials' lockout); the portal also limits failures per client (portal.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { LicenseError } from '../../core/errors.js';
import type { Store } from '../../core/store/store.js';
import { normalizeUserId } from '../../core/seats/user-id.js';
import { authFailed, LicenseUserCredentials } from '../auth/credentials.js';
import { dummyHash, verifyPassword, type ScryptParams } from '../auth/password.js';
import { accountCredentials, accountEmail, companyCode, companyLicenses, getAccount, getCompany } from './companies.js';
import { isLicenseUser } from './access.js';
import type { Principal } from './sessions.js';

/** What sign-in needs from the server. */
export interface SignInContext {
  readonly store: Store;
  readonly now: () => number;
  /** SHA-256 of the admin token, or undefined when the server has none (vendor sign-in is then off). */
  readonly adminTokenDigest: Buffer | undefined;
  /** @internal tests only */
  readonly scrypt?: ScryptParams | undefined;
}

/** At most this many of a company's licenses are tried for one license user's password. */
const MAX_LICENSES_TRIED = 20;

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/** The vendor's sign-in with the admin token (compared as digests, in constant time). */
export function signInVendor(ctx: SignInContext, token: string): Principal {
  if (ctx.adminTokenDigest === undefined) throw new LicenseError('ERR_UNAUTHORIZED', 'vendor sign-in is off: this server has no admin token (LICIT_ADMIN_TOKEN or --admin-token)');
  if (!timingSafeEqual(sha256(token), ctx.adminTokenDigest)) throw new LicenseError('ERR_UNAUTHORIZED', 'the admin token is wrong');
  return { kind: 'vendor' };
}

/** Spend what a real check costs, then fail the one way. */
async function fail(ctx: SignInContext, password: string): Promise<never> {
  await verifyPassword(password, dummyHash(ctx.scrypt)).catch(() => false);
  throw authFailed();
}

/**
 * A customer's sign-in. Returns who it is and whether the password must be changed first.
 * @throws `ERR_USER_AUTH_FAILED` (one message for every reason), `ERR_RATE_LIMITED` (the account is locked)
 */
export async function signInCustomer(ctx: SignInContext, input: { company: string; email: string; password: string }): Promise<{ principal: Principal; mustChange: boolean }> {
  let code: string;
  try {
    code = companyCode(input.company);
  } catch {
    return fail(ctx, input.password);
  }
  const company = await getCompany(ctx.store, code);
  if (company === undefined) return fail(ctx, input.password);
  // A customer administrator's account first.
  let email: string | undefined;
  try {
    email = accountEmail(input.email);
  } catch {
    email = undefined;
  }
  if (email !== undefined && (await getAccount(ctx.store, code, email)) !== undefined) {
    const { mustChange } = await accountCredentials(ctx.store, code, ctx).checkPassword(email, input.password, { actor: `portal:${email}` });
    return { principal: { kind: 'customer-admin', company: code, email }, mustChange };
  }
  // Else a license user of one or more of the company's licenses, with the password its license keeps.
  let userId: string;
  try {
    userId = normalizeUserId(input.email);
  } catch {
    return fail(ctx, input.password);
  }
  const candidates: string[] = [];
  for (const entry of await companyLicenses(ctx.store, company)) {
    if (candidates.length >= MAX_LICENSES_TRIED) break;
    // A user removed by the admin API keeps its password record: only users that still are count.
    if ((await isLicenseUser(ctx.store, entry.licenseId, userId)) && (await credentials(ctx, entry.licenseId).hasPassword(userId))) candidates.push(entry.licenseId);
  }
  if (candidates.length === 0) return fail(ctx, input.password);
  const matched: string[] = [];
  let mustChange = false;
  let last: unknown;
  for (const licenseId of candidates) {
    try {
      const r = await credentials(ctx, licenseId).checkPassword(userId, input.password, { actor: userId });
      matched.push(licenseId);
      mustChange ||= r.mustChange;
    } catch (e) {
      last = e;
    }
  }
  if (matched.length === 0) throw last;
  return { principal: { kind: 'license-user', company: code, email: userId, licenses: matched }, mustChange };
}

function credentials(ctx: SignInContext, licenseId: string): LicenseUserCredentials {
  return new LicenseUserCredentials(ctx.store, licenseId, { now: ctx.now, ...(ctx.scrypt === undefined ? {} : { scrypt: ctx.scrypt }) });
}

/**
 * Change the signed-in person's own password after checking the current one: an account's, or
 * a license user's on every license it signed in to. The new one is not an initial password.
 */
export async function changeOwnPassword(ctx: SignInContext, principal: Principal, current: string, next: string): Promise<void> {
  if (principal.kind === 'vendor') throw new LicenseError('ERR_FORBIDDEN', 'the vendor signs in with the admin token; change it where the server is configured');
  if (principal.kind === 'customer-admin') {
    const creds = accountCredentials(ctx.store, principal.company, ctx);
    await creds.checkPassword(principal.email, current, { actor: `portal:${principal.email}` });
    await creds.setPassword(principal.email, next, { mustChange: false, actor: `portal:${principal.email}` });
    return;
  }
  for (const licenseId of principal.licenses) await credentials(ctx, licenseId).checkPassword(principal.email, current, { actor: principal.email });
  for (const licenseId of principal.licenses) await credentials(ctx, licenseId).setPassword(principal.email, next, { mustChange: false, actor: principal.email });
}
