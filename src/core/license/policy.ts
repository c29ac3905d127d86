/**
 * Policy: where a license stands at a given time. Pure functions over claims and a date;
 * the caller decides which time to trust (see the clock guard).
 */
import type { LicenseClaims } from './claims.js';
import { LicenseError } from '../errors.js';
import { formatInstant } from '../time/time-words.js';

/** `valid`; `grace` (expired but inside the grace period: usable, with a warning); `expired`; `not-yet-valid`. */
export type LicenseStatus = 'valid' | 'grace' | 'expired' | 'not-yet-valid';

/** Where a license stands at one instant. */
export interface StatusReport {
  /** Where the license stands. */
  readonly status: LicenseStatus;
  /** The instant evaluated. */
  readonly at: Date;
  /** End of the grace period, when the license expires. */
  readonly graceEndsAt?: Date | undefined;
  /** Whole days left: until expiry when `valid`, until the end of grace when `grace`. */
  readonly daysLeft?: number | undefined;
  /** A sentence for the user when something needs attention. */
  readonly warning?: string | undefined;
}

const DAY = 86_400_000;
const days = (ms: number) => Math.ceil(ms / DAY);
// The exact instant (ISO with Z): a bare day would not say which end of it is meant.
const isoDay = (d: Date) => formatInstant(d);

/** Evaluate expiry, not-before and grace at `at`. */
export function evaluateStatus(c: LicenseClaims, at: Date): StatusReport {
  // License dates are whole seconds and ends inclusive: an expiry of 23:59:59Z covers that whole second.
  const t = Math.floor(at.getTime() / 1000) * 1000;
  if (c.notBefore !== undefined && t < c.notBefore.getTime()) {
    return { status: 'not-yet-valid', at, warning: `the license becomes valid at ${isoDay(c.notBefore)}` };
  }
  if (c.expiresAt === undefined) return { status: 'valid', at };
  const exp = c.expiresAt.getTime();
  const graceEndsAt = new Date(exp + c.graceDays * DAY);
  if (t <= exp) {
    const left = days(exp - t);
    return { status: 'valid', at, graceEndsAt, daysLeft: left, warning: left <= 30 ? `the license expires in ${left} day(s), at ${isoDay(c.expiresAt)}` : undefined };
  }
  if (t <= graceEndsAt.getTime()) {
    const left = days(graceEndsAt.getTime() - t);
    return { status: 'grace', at, graceEndsAt, daysLeft: left, warning: `the license expired at ${isoDay(c.expiresAt)}; it keeps working for ${left} more day(s) of grace. Renew it now.` };
  }
  return { status: 'expired', at, graceEndsAt };
}

/** True while maintenance covers `at` (always true without a maintenance expiry). */
export function maintenanceActive(c: LicenseClaims, at: Date): boolean {
  return c.maintenanceExpiresAt === undefined || at.getTime() <= c.maintenanceExpiresAt.getTime();
}

/** Throw the matching error when a status is not usable. */
export function assertUsable(c: LicenseClaims, report: StatusReport): void {
  if (report.status === 'expired') {
    throw new LicenseError('ERR_LICENSE_EXPIRED', `the license expired at ${isoDay(c.expiresAt as Date)}${c.graceDays > 0 ? ` and its ${c.graceDays}-day grace period ended at ${isoDay(report.graceEndsAt as Date)}` : ''}. Ask the vendor for a renewed license key.`, {
      licenseId: c.licenseId,
      status: report.status,
      expiresAt: c.expiresAt?.toISOString(),
      graceEndsAt: report.graceEndsAt?.toISOString(),
    });
  }
  if (report.status === 'not-yet-valid') {
    throw new LicenseError('ERR_LICENSE_NOT_YET_VALID', `the license is not valid before ${(c.notBefore as Date).toISOString()}; check the system clock or wait until then`, {
      licenseId: c.licenseId,
      status: report.status,
      notBefore: c.notBefore?.toISOString(),
    });
  }
}

/** Refuse an application release dated after maintenance expiry (the license itself stays valid for earlier releases). */
export function assertReleaseCovered(c: LicenseClaims, releaseDate: Date | undefined): void {
  if (releaseDate === undefined || c.maintenanceExpiresAt === undefined) return;
  if (releaseDate.getTime() > c.maintenanceExpiresAt.getTime()) {
    throw new LicenseError('ERR_MAINTENANCE_EXPIRED', `maintenance ended at ${isoDay(c.maintenanceExpiresAt)}, before this release (${isoDay(releaseDate)}). Keep using a release from before that date, or renew maintenance with the vendor.`, {
      licenseId: c.licenseId,
      maintenanceExpiresAt: c.maintenanceExpiresAt.toISOString(),
      releaseDate: releaseDate.toISOString(),
    });
  }
}
