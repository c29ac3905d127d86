/**
 * What one answered request leaves in the store: its nonce (so a code works once), the usage its
 * installation reported, and, for a refusal, an `exchange.refused` event in the audit log.
 */
import { LicenseError } from '../core/errors.js';
import type { ExchangeRequest } from '../core/exchange/request.js';
import type { License } from '../core/license/license.js';
import type { JsonValue } from '../core/store/store.js';
import { adminEvent } from '../core/admin/events.js';
import { addSpent, checkPlausible, licenseTotalIn } from './consumption.js';
import type { RequestWindow } from './identity-policy.js';
import { KINDS } from './kinds.js';
import { registeredText } from './license-registry.js';
import type { VendorContext } from './vendor-types.js';

/** Requests one installation may make within the request window (nonces are kept that long). */
const MAX_NONCES = 4096;

/** Refusals that leave a trace in the license's audit log. */
export const REFUSALS_AUDITED: ReadonlySet<string> = new Set([
  'ERR_EXCHANGE_UNPROVEN',
  'ERR_EXCHANGE_IMPLAUSIBLE',
  'ERR_EXCHANGE_REPLAYED',
  'ERR_EXCHANGE_FUTURE',
  'ERR_MACHINE_ID_NOT_ALLOWED',
  'ERR_FINGERPRINT_WEAK',
  'ERR_FINGERPRINT_MISMATCH',
  'ERR_ACTIVATION_NOT_FOUND',
  'ERR_USER_AUTH_REQUIRED',
  'ERR_LICENSE_SUSPENDED',
  'ERR_LICENSE_REVOKED',
  'ERR_DEVICE_SUSPENDED',
  'ERR_DEVICE_REVOKED',
  'ERR_USER_SUSPENDED',
  'ERR_USER_REVOKED',
]);

/**
 * In one transaction: refuse a replayed nonce (remembered for the whole request window) and
 * implausible usage, remember the nonce, and (with `usage`) add what this installation's ledger
 * spent to the license's consumption and record its seats. A new installation's usage is recorded
 * only once its activation counted (a second call with `nonce: false`): usage only from activations.
 * Returns the floor for the lease: the license's whole known consumption.
 */
export async function recordExchange(
  v: VendorContext,
  window: RequestWindow,
  license: License,
  req: ExchangeRequest,
  user: string,
  now: number,
  phase: { nonce: boolean; usage: boolean },
): Promise<number> {
  return v.store.transaction(license.id, async (tx) => {
    const rec = (await tx.get(KINDS.installation, req.installationId)) ?? {};
    const horizon = Math.floor((now - window.maxAgeMs - window.maxSkewMs) / 1000);
    let nonces = readNonces(rec.nonces).filter(([, at]) => at >= horizon);
    if (phase.nonce) {
      if (nonces.some(([n]) => n === req.nonce)) {
        throw new LicenseError('ERR_EXCHANGE_REPLAYED', 'this request was already answered; a request code works once. Make a new request.', { nonce: req.nonce });
      }
      if (nonces.length >= MAX_NONCES) {
        throw new LicenseError('ERR_RATE_LIMITED', `this installation made ${MAX_NONCES} requests within the request window; wait before making another`, { retryAfterSeconds: 3600 });
      }
      nonces = [...nonces, [req.nonce, Math.floor(req.clientTime.getTime() / 1000)]];
    }
    const topups = await tx.list(KINDS.topup);
    const allowance = (license.credits ?? 0) + topups.reduce((n, e) => n + (typeof e.value.credits === 'number' ? e.value.credits : 0), 0);
    checkPlausible(license, req, allowance);
    const total = phase.usage ? await addSpent(tx, req, now, allowance) : await licenseTotalIn(tx, now);
    const at = new Date(now).toISOString();
    const usage = phase.usage
      ? { consumed: Math.max(typeof rec.consumed === 'number' ? rec.consumed : 0, req.consumed ?? 0), seats: req.seats === undefined ? (rec.seats ?? null) : { ...req.seats } }
      : { consumed: typeof rec.consumed === 'number' ? rec.consumed : 0, seats: rec.seats ?? null };
    tx.put(KINDS.installation, req.installationId, {
      user,
      nonces,
      ...usage,
      app: req.appName ?? null,
      version: req.appVersion ?? null,
      container: req.container,
      lastSeen: at,
    });
    return Math.max(total, license.carriedCredits);
  });
}

/** Append `exchange.refused` to a license this server knows (never create state for an unknown id). */
export async function auditRefusal(v: VendorContext, req: ExchangeRequest, e: LicenseError): Promise<void> {
  try {
    if ((await registeredText(v.store, req.licenseId)) === undefined) return;
    await v.store.transaction(req.licenseId, async (tx) => {
      tx.append(adminEvent(v.now(), `installation:${req.installationId}`, 'exchange.refused', { operation: req.operation, code: e.code, reason: typeof e.details.reason === 'string' ? e.details.reason : null, device: req.installationId }));
    });
  } catch {
    /* the refusal stands whether or not it could be audited */
  }
}

/** `[nonce, clientTime seconds]` pairs of an installation record (older records kept bare nonces: dropped). */
function readNonces(v: JsonValue | undefined): [string, number][] {
  if (!Array.isArray(v)) return [];
  const out: [string, number][] = [];
  for (const x of v) if (Array.isArray(x) && typeof x[0] === 'string' && typeof x[1] === 'number') out.push([x[0], x[1]]);
  return out;
}
