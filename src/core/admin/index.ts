/**
 * Administration: the hash-chained audit log, usage reports and alerts with an automatic top-up
 * hook. Pure TypeScript over the {@link Store} interface. Only re-exports.
 */
export { canonicalJson } from './canonical.js';
export {
  verifyAuditLog,
  readVerifiedLog,
  genesisHash,
  eventHash,
  linkEvent,
  isAuditHead,
  CHAIN_FIELD,
  HEAD_KIND,
  HEAD_KEY,
  type AuditHead,
  type AuditLogEntry,
  type VerifiedLog,
  type AuditVerification,
  type VerifyAuditOptions,
} from './audit-chain.js';
export { withAuditChain, isAuditChained, rawEvents } from './chained-store.js';
export { EVENT_KINDS, USER_AUTH_KINDS, type EventKind, type UserAuthKind } from '../store/audit-event.js';
export { ADMIN_KINDS, adminEvent, recordSeatsChange, recordCreditTopUp, recordCreditUsage, type AdminKind, type ChangeSource, type RecordOptions } from './events.js';
export { resolveRange, parseRangeText, monthStart, MAX_RANGE_MS, type RangeText, type ParseRangeOptions, type RangeSpec, type CalendarRange, type BucketUnit, type ResolvedRange } from './range.js';
export {
  computeReport,
  buildReport,
  type UsageReport,
  type ReportOptions,
  type SeatTypeReport,
  type LimitReport,
  type LimitName,
  type ReportBucket,
  type MonthAdditions,
  type CreditHistoryEntry,
} from './report.js';
export {
  AlertMonitor,
  evaluateAlerts,
  seatsObservation,
  checkRules,
  type AlertRule,
  type AlertMetric,
  type AlertObservation,
  type AlertEvent,
  type RuleState,
  type TopUpRequest,
  type TopUpHook,
  type AlertMonitorOptions,
  type AlertCheck,
  type MonitorEventKind,
} from './alerts.js';
export {
  checkSettings,
  checkEmail,
  settingsJson,
  settingsRules,
  recipientsFor,
  NOTIFICATION_KINDS,
  MAX_RECIPIENTS,
  type LicenseSettings,
  type FigureSettings,
  type Threshold,
  type AutoTopUp,
  type Recipient,
  type NotificationKind,
  type SettingsScope,
  type RulePurpose,
} from './license-settings.js';
export { readSettings, saveSettings, settingsIn, type StoredSettings, type SettingsChange } from './settings-record.js';
export {
  recordIssue,
  recordIssueIn,
  changeLicenseState,
  assertLicenseActive,
  licenseStateIn,
  findLicenses,
  showLicense,
  currentKeyText,
  REGISTRY_KIND,
  type LicenseState,
  type RegistryEntry,
  type IssueRecord,
  type LicenseFilter,
} from './registry.js';
export { computeVendorReport, type VendorReport, type VendorReportGroup, type VendorReportOptions, type VendorReportGrouping } from './vendor-report.js';
export { resolveZonedRange } from './zoned-range.js';
