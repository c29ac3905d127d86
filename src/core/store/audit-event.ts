/**
 * The one list of audit event kinds licit writes, and the one builder of an event for
 * `tx.append`. Seats, administration, the license server and user authentication all write
 * through {@link auditEvent}; `licit log`, `readVerifiedLog` and the reports read these kinds.
 */
import { checkId, type AuditEventInput, type JsonObject } from './store.js';

/** The kinds the seat layer writes (seats, license users, devices, floating leases). */
export const AUDIT_KINDS = [
  'seat.assigned',
  'seat.reassigned',
  'seat.released',
  'user.added',
  'user.removed',
  'user.limit-changed',
  'user.activations-reset',
  'device.activated',
  'device.deactivated',
  'device.reset',
  'device.transferred',
  'device.reinstalled',
  'device.renamed',
  'lease.checked-out',
  'lease.checked-in',
  'lease.expired',
  'user.ids-normalized',
  'user.renamed',
] as const;

/**
 * The kinds administration writes: seat counts and credits (`record…` helpers and the license
 * server), alerts and automatic top-ups (`AlertMonitor`), and the license server's own: a license
 * key registered by the vendor, an exchange refused, credits spent beyond the allowance; a license's
 * alert settings changed (core/admin/settings-record.ts).
 */
export const ADMIN_KINDS = [
  'seats.changed',
  'credits.topped-up',
  'credits.consumed',
  'alert.raised',
  'alert.cleared',
  'topup.requested',
  'topup.completed',
  'topup.failed',
  'license.registered',
  'license.suspended',
  'license.revoked',
  'license.reinstated',
  'trial.started',
  'device.suspended',
  'device.revoked',
  'device.reinstated',
  'device.self-reset',
  'user.suspended',
  'user.revoked',
  'user.reinstated',
  'exchange.refused',
  'credits.overspent',
  'portal.company-created',
  'portal.company-changed',
  'portal.account-added',
  'portal.account-removed',
  'settings.changed',
] as const;

/**
 * The kinds user authentication writes (the license server's password store). They go into the
 * same chained log as the rest, so `licit log` shows them; details never hold a password or a hash.
 */
export const USER_AUTH_KINDS = ['user.password-set', 'user.password-cleared', 'user.auth-failed', 'user.locked', 'user.unlocked'] as const;

/** Every kind of audit event licit writes: {@link AUDIT_KINDS}, {@link ADMIN_KINDS} and {@link USER_AUTH_KINDS}. */
export const EVENT_KINDS = [...AUDIT_KINDS, ...ADMIN_KINDS, ...USER_AUTH_KINDS] as const;

/** One of {@link AUDIT_KINDS}. */
export type AuditKind = (typeof AUDIT_KINDS)[number];
/** One of {@link ADMIN_KINDS}. */
export type AdminKind = (typeof ADMIN_KINDS)[number];
/** One of {@link USER_AUTH_KINDS}. */
export type UserAuthKind = (typeof USER_AUTH_KINDS)[number];
/** One of {@link EVENT_KINDS}. */
export type EventKind = (typeof EVENT_KINDS)[number];

/** Build an event for `tx.append` (the actor is caller text: checked like any identifier). */
export function auditEvent(at: Date | number, actor: string, kind: EventKind, details: JsonObject): AuditEventInput {
  checkId(actor, 'actor');
  return { at: new Date(at).toISOString(), actor, kind, details };
}
