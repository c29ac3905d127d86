/**
 * `licit/admin`: the hash-chained audit log, usage reports over day/week/month/custom ranges, and
 * alerts with an automatic top-up hook. Pure TypeScript over the `Store` interface, runtime-neutral.
 * The chain's own building blocks (`linkEvent`, `CHAIN_FIELD`, the head record, `canonicalJson`,
 * unverified `rawEvents`) are internals and not exported. Only re-exports.
 *
 * @example
 * ```ts
 * import { readVerifiedLog } from 'licit/admin'
 * const { events } = await readVerifiedLog(store, license.id)
 * ```
 * @module licit/admin
 */
export {
  verifyAuditLog,
  readVerifiedLog,
  withAuditChain,
  isAuditChained,
  EVENT_KINDS,
  USER_AUTH_KINDS,
  ADMIN_KINDS,
  recordSeatsChange,
  recordCreditTopUp,
  recordCreditUsage,
  resolveRange,
  parseRangeText,
  monthStart,
  MAX_RANGE_MS,
  computeReport,
  buildReport,
  AlertMonitor,
  evaluateAlerts,
  seatsObservation,
  checkRules,
  type AuditHead,
  type AuditLogEntry,
  type VerifiedLog,
  type AuditVerification,
  type VerifyAuditOptions,
  type EventKind,
  type UserAuthKind,
  type AdminKind,
  type ChangeSource,
  type RecordOptions,
  type RangeText,
  type ParseRangeOptions,
  type RangeSpec,
  type CalendarRange,
  type BucketUnit,
  type ResolvedRange,
  type UsageReport,
  type ReportOptions,
  type SeatTypeReport,
  type LimitReport,
  type LimitName,
  type ReportBucket,
  type MonthAdditions,
  type CreditHistoryEntry,
  type AlertRule,
  type AlertMetric,
  type AlertObservation,
  type AlertEvent,
  type RuleState,
  type TopUpRequest,
  type TopUpHook,
  type AlertMonitorOptions,
  type AlertCheck,
} from './core/admin/index.js';
