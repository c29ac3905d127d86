/**
 * Seats, license users and device activations: the counting rules of a license, written once over
 * the {@link Store} interface so they run the same on `MemoryStore`, `FileStore` and `PostgresStore`.
 */
export { SeatManager, exhausted, type SeatAssignment, type SeatUsage, type AccessLevel, type AccessDecision } from './seats.js';
export { Activations, type LicenseUser, type Activation, type ActivationUsage } from './activations.js';
export { migrateUserIds, type UserIdMigration, type MergedUserId } from './migrate-ids.js';
export { normalizeUserId } from './user-id.js';
export { renameUser, type UserRename, type RenameOptions } from './rename-user.js';
export { FloatingSeats, type FloatingLease, type FloatingOptions } from './floating.js';
export { AUDIT_KINDS, auditEvent, type AuditKind, type SeatAuditEvent } from './audit.js';
export { checkLimits, type SeatLimits, type SeatOptions, type ActOptions } from './limits.js';
export { readCounters, type Counters } from './counters.js';
export type { Store, StoreTx, StoreReader, AuditEvent, AuditEventInput, JsonObject, JsonValue, EventQuery, TransactionOptions, ReadHint } from '../store/store.js';
