/**
 * The audit trail of seats, license users and devices. Every change is one event appended through
 * the store in the same transaction as the change itself, so the trail and the state never disagree.
 * Events are numbered per license (1, 2, 3, …) and never rewritten; reports and the hash chain of a
 * later layer are computed from them.
 */
import type { AuditEvent } from '../store/store.js';
import { AUDIT_KINDS, type AuditKind } from '../store/audit-event.js';

// The kinds and the builder live with every other kind in core/store/audit-event.ts.
export { AUDIT_KINDS, auditEvent, type AuditKind } from '../store/audit-event.js';

/** An audit event written by the seat layer. */
export interface SeatAuditEvent extends AuditEvent {
  /** What happened: one of {@link AUDIT_KINDS}. */
  readonly kind: AuditKind;
}
