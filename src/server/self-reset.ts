/**
 * Self-service reset: a license's holder frees one of their own devices from the application (the
 * machine was lost, died or was reinstalled elsewhere) without asking the vendor, a limited number
 * of times per period, as the license says (`selfResets` per `selfResetDays`). The new
 * installation's activation names the device (`resetDevice`); the reset and the activation happen
 * in the same transaction, so a refused activation frees nothing. A self reset takes none of the
 * license's transfers: its own budget bounds it. Where users sign in, only the user who activated
 * the device may free it (a device of another user is not found, so its existence is not told).
 */
import { adminEvent } from '../core/admin/events.js';
import { LicenseError, isLicenseError } from '../core/errors.js';
import type { ExchangeRequest } from '../core/exchange/request.js';
import type { License } from '../core/license/license.js';
import type { Activations } from '../core/seats/index.js';
import type { StoreTx } from '../core/store/store.js';
import { KINDS } from './kinds.js';

const DAY = 86_400_000;

/** Free `req.resetDevice` for `user`, within the license's self-service budget, in `tx`. */
export async function selfReset(tx: StoreTx, acts: Activations, license: License, req: ExchangeRequest & { resetDevice: string }, user: string, now: number): Promise<void> {
  const allowed = license.selfResets ?? 0;
  if (allowed === 0) {
    throw new LicenseError('ERR_SELF_RESET_NOT_ALLOWED', `license ${license.id} does not let its holder free devices; ask the license's administrator or the vendor to reset device ${req.resetDevice}`, { licenseId: license.id, deviceId: req.resetDevice });
  }
  if (req.resetDevice === req.installationId) return; // this installation itself: nothing to free
  const target = await acts.device(user, req.resetDevice);
  if (target === undefined) {
    throw new LicenseError('ERR_ACTIVATION_NOT_FOUND', `license user ${user} has no device ${req.resetDevice} on license ${license.id}; check the device id (the application's device list, or the error of the refused activation)`, { licenseId: license.id, deviceId: req.resetDevice, userId: user });
  }
  const periodMs = license.selfResetDays * DAY;
  const recent = readTimes((await tx.get(KINDS.selfReset, 'recent'))?.at).filter((t) => t > now - periodMs);
  if (recent.length >= allowed) {
    const retryAt = new Date(Math.min(...recent) + periodMs);
    throw new LicenseError('ERR_SELF_RESETS_EXHAUSTED', `license ${license.id} allows ${allowed} self-service device reset${allowed === 1 ? '' : 's'} per ${license.selfResetDays} days, all used; the next is possible on ${retryAt.toISOString()}, or ask the vendor to reset device ${req.resetDevice}`, { licenseId: license.id, allowed, periodDays: license.selfResetDays, retryAt: retryAt.toISOString() });
  }
  const actor = `installation:${req.installationId}`;
  await acts.resetDevice(req.resetDevice, { countTransfer: false, actor });
  tx.put(KINDS.selfReset, 'recent', { at: [...recent, now].map((t) => new Date(t).toISOString()) });
  tx.append(adminEvent(now, actor, 'device.self-reset', { device: req.resetDevice, user, by: req.installationId, used: recent.length + 1, allowed, periodDays: license.selfResetDays }));
}

/**
 * A refusal for want of activations, on a license whose holder may free devices: the same refusal,
 * with what the application needs to offer it (this user's devices, newest check-in first, at most
 * 50, and the self-service budget). Anything else passes through.
 */
export async function offerSelfReset(e: unknown, license: License, acts: Activations, user: string): Promise<never> {
  if (!isLicenseError(e) || e.code !== 'ERR_ACTIVATIONS_EXHAUSTED' || (license.selfResets ?? 0) === 0) throw e;
  const devices = (await acts.devices(user)).sort((a, b) => b.validatedAt.getTime() - a.validatedAt.getTime()).slice(0, 50);
  throw new LicenseError(e.code, `${e.message}; or free one of your devices yourself: activate again naming it (resetDevice), ${license.selfResets} per ${license.selfResetDays} days`, {
    ...e.details,
    selfResets: { allowed: license.selfResets ?? 0, periodDays: license.selfResetDays },
    devices: devices.map((a) => ({ deviceId: a.deviceId, label: typeof a.info.label === 'string' ? a.info.label : null, app: typeof a.info.app === 'string' ? a.info.app : null, lastValidated: a.validatedAt.toISOString() })),
  });
}

function readTimes(v: unknown): number[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').map((x) => Date.parse(x)).filter(Number.isFinite) : [];
}
