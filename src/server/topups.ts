/**
 * Credits added to a license after it was issued: a top-up the vendor records by hand, or one an
 * activated installation asks for and the vendor's `topUpPolicy` grants. An idempotency key makes
 * every retry land on the same stored token, so credits are never added twice.
 */
import { LicenseError } from '../core/errors.js';
import type { ExchangeRequest } from '../core/exchange/request.js';
import type { License } from '../core/license/license.js';
import type { JsonObject } from '../core/store/store.js';
import { verifyTopUp } from '../core/exchange/topup.js';
import { adminEvent } from '../core/admin/events.js';
import { issueTopUp } from '../issuer/issue.js';
import { sha256Hex } from '../node/crypto/digest.js';
import { KINDS } from './kinds.js';
import type { TopUpGrant, TopUpPolicyRequest, VendorContext } from './vendor-types.js';

/** What `recordTopUp` grants: a signed token (or the signed `token` given), and who asked. */
export interface TopUpRecord {
  readonly credits?: number;
  readonly token?: string;
  readonly idempotencyKey?: string;
  readonly requested?: number;
  readonly source: 'manual' | 'auto';
  readonly actor: string;
}

/** What `recordTopUp` returns. */
export interface RecordedTopUp {
  /** The top-up token's id. */
  tokenId: string;
  /** Credits the token adds. */
  credits: number;
  /** The signed token text (`LICITT1-…`), whitespace removed. */
  token: string;
  /** False when the idempotency key had been used before: the stored token is returned, nothing added. */
  added: boolean;
}

/**
 * The token id of the top-up an idempotency key names: a digest of the license id and the key, so
 * every retry with the key (from any server process) lands on the same stored token.
 */
export function topUpTokenId(licenseId: string, idempotencyKey: string): string {
  return `TOP-${sha256Hex(`licit-topup\n${licenseId}\n${idempotencyKey}`).slice(0, 32).toUpperCase()}`;
}

/** See `Vendor.topUp`. */
export async function recordTopUp(v: VendorContext, license: License, grant: TopUpRecord): Promise<RecordedTopUp> {
  const tokenId = grant.idempotencyKey === undefined ? undefined : topUpTokenId(license.id, grant.idempotencyKey);
  if (tokenId !== undefined) {
    const prior = await v.store.read(license.id, (r) => r.get(KINDS.topup, tokenId));
    if (prior !== undefined) return repeatTopUp(license, prior, tokenId, grant);
  }
  const text =
    grant.token !== undefined
      ? grant.token.replace(/\s+/g, '')
      : await issueTopUp({ licenseId: license.id, credits: grant.credits as number, ...(tokenId === undefined ? {} : { tokenId }) }, { signingKey: v.signer, now: v.now });
  const t = await verifyTopUp(text, { publicKeys: v.publicKeys });
  if (t.licenseId !== license.id) throw new LicenseError('ERR_EXCHANGE_WRONG_LICENSE', `the top-up is for license ${t.licenseId}, not ${license.id}`);
  const requested = grant.requested ?? t.credits;
  return v.store.transaction(license.id, async (tx) => {
    const prior = await tx.get(KINDS.topup, t.tokenId);
    // Two concurrent retries of one key: the first to commit wins, the other reports it.
    if (prior !== undefined) return repeatTopUp(license, prior, t.tokenId, grant);
    const at = v.now();
    const rec: JsonObject = { token: text, credits: t.credits, requested, at: new Date(at).toISOString(), source: grant.source };
    if (grant.idempotencyKey !== undefined) rec.key = grant.idempotencyKey;
    tx.put(KINDS.topup, t.tokenId, rec);
    tx.append(adminEvent(at, grant.actor, 'credits.topped-up', { credits: t.credits, tokenId: t.tokenId, source: grant.source }));
    return { tokenId: t.tokenId, credits: t.credits, token: text, added: true };
  });
}

/** A key used before: the stored token again, unless the retry asks for another amount (then it names another top-up). */
function repeatTopUp(license: License, prior: JsonObject, tokenId: string, grant: { credits?: number; requested?: number; idempotencyKey?: string }): { tokenId: string; credits: number; token: string; added: false } {
  const credits = typeof prior.credits === 'number' ? prior.credits : 0;
  const requested = typeof prior.requested === 'number' ? prior.requested : credits;
  const asked = grant.requested ?? grant.credits;
  if (asked !== undefined && asked !== requested) {
    throw new LicenseError('ERR_IDEMPOTENCY_CONFLICT', `the idempotency key "${grant.idempotencyKey ?? ''}" was already used for a top-up of ${requested} credits on license ${license.id}; use a new key for a different top-up`, { licenseId: license.id, tokenId, idempotencyKey: grant.idempotencyKey ?? '' });
  }
  return { tokenId, credits, token: typeof prior.token === 'string' ? prior.token : '', added: false };
}

/** An installation's ask for credits: audit it, let the vendor's policy decide, sign what it grants. */
export async function askTopUp(
  v: VendorContext,
  policy: ((req: TopUpPolicyRequest) => number | Promise<number>) | undefined,
  license: License,
  req: ExchangeRequest,
  user: string,
  ask: { credits: number; idempotencyKey: string },
): Promise<TopUpGrant> {
  const actor = `installation:${req.installationId}`;
  const tokenId = topUpTokenId(license.id, ask.idempotencyKey);
  const prior = await v.store.transaction(license.id, async (tx) => {
    tx.append(adminEvent(v.now(), actor, 'topup.requested', { key: ask.idempotencyKey, credits: ask.credits, device: req.installationId, user }));
    return tx.get(KINDS.topup, tokenId);
  });
  if (prior !== undefined) {
    // A retry of an ask granted before: the same token, not a second grant (nor a second policy call).
    const r = repeatTopUp(license, prior, tokenId, { requested: ask.credits, idempotencyKey: ask.idempotencyKey });
    return { requested: ask.credits, granted: r.credits, tokenId, added: false };
  }
  const granted = policy === undefined ? 0 : await policy({ licenseId: license.id, requested: ask.credits, installation: req.installationId, user, idempotencyKey: ask.idempotencyKey, license });
  if (!Number.isSafeInteger(granted) || granted < 0 || granted > 0xffffffff) {
    throw new LicenseError('ERR_INTERNAL', `the server's topUpPolicy returned ${String(granted)}; it must return a whole number of credits from 0 to 4294967295`);
  }
  if (granted === 0) return { requested: ask.credits, granted: 0, tokenId: undefined, added: false };
  const r = await recordTopUp(v, license, { credits: granted, requested: ask.credits, idempotencyKey: ask.idempotencyKey, source: 'auto', actor });
  return { requested: ask.credits, granted: r.credits, tokenId: r.tokenId, added: r.added };
}
