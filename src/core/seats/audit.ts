/**
 * The audit trail of seats, license users and devices. Every change is one event appended through
 * the store in the same transaction as the change itself, so the trail and the state never disagree.
 * Events are numbered per license (1, 2, 3, …) and never rewritten; reports and the hash chain of a
 * later layer are computed from them.
 */
import { checkId, type AuditEvent, type AuditEventInput, type JsonObject } from '../store.js';

/** Every kind of audit event the seat layer writes. */
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
  'lease.checked-out',
  'lease.checked-in',
  'lease.expired',
] as const;

/** One of {@link AUDIT_KINDS}. */
export type AuditKind = (typeof AUDIT_KINDS)[number];

/** An audit event written by the seat layer. */
export interface SeatAuditEvent extends AuditEvent {
  /** What happened: one of {@link AUDIT_KINDS}. */
  readonly kind: AuditKind;
}

/** Build an event for `tx.append` (the actor is caller text: checked like any identifier). */
export function auditEvent(at: number, actor: string, kind: AuditKind, details: JsonObject): AuditEventInput {
  checkId(actor, 'actor');
  return { at: new Date(at).toISOString(), actor, kind, details };
}
