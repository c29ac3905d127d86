/**
 * `licit/seats`: named seats per user type, license users and device activations, floating seats,
 * and the {@link Store} interface they run over (`MemoryStore` here; `FileStore` in `licit/node`,
 * `PostgresStore` in `licit/postgres`). Pure TypeScript, runtime-neutral. Only re-exports.
 *
 * @example
 * ```ts
 * import { SeatManager, MemoryStore } from 'licit/seats'
 * await new SeatManager(new MemoryStore(), license).assign('ann@example.com', 'advanced')
 * ```
 * @module licit/seats
 */
export {
  SeatManager,
  Activations,
  FloatingSeats,
  AUDIT_KINDS,
  type SeatAssignment,
  type SeatUsage,
  type AccessLevel,
  type AccessDecision,
  type LicenseUser,
  type Activation,
  type ActivationUsage,
  type FloatingLease,
  type FloatingOptions,
  type AuditKind,
  type SeatAuditEvent,
  type SeatLimits,
  type SeatOptions,
  type ActOptions,
  type Counters,
  type Store,
  type StoreTx,
  type StoreReader,
  type AuditEvent,
  type AuditEventInput,
  type JsonObject,
  type JsonValue,
  type EventQuery,
  type TransactionOptions,
  type ReadHint,
} from './core/seats/index.js';
export { MemoryStore } from './core/store/memory-store.js';
