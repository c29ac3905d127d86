/**
 * `licit/node`: the Node.js runtime (what needs the operating system). Only re-exports; each
 * concern lives in its own module.
 */
import './crypto/backends.js';
export { acquireLock, withLock, type FileLock, type LockOptions } from './fs/lock.js';
export { loadNative, requireNative, nativeLoadError, setNativeAddonPath, type NativeAddon } from './fingerprint/native.js';
export {
  getFingerprint,
  readHostFacts,
  clearFingerprintCache,
  Fingerprint,
  COMPONENT_KINDS,
  match,
  explain,
  DEFAULT_WEIGHTS,
  fingerprintStrength,
  isStrongKind,
  STRONG_KINDS,
  WEAK_KINDS,
  saltForVendor,
  type FingerprintStrength,
  type GetFingerprintOptions,
  type ComponentKind,
  type FingerprintComponent,
  type FingerprintSource,
  type MatchStrategy,
  type MatchResult,
  type Explanation,
  type HostFacts,
} from './fingerprint/index.js';
export { decodeSmbios } from './fingerprint/smbios.js';
export type { SmbiosInfo, SmbiosFacts, NativeAdapter, NativeCpu, NativeHostIdentity, InterfaceFacts, LinuxInterfaceFacts, WindowsInterfaceFacts, MacInterfaceFacts } from './fingerprint/native.js';
export { FileStore, type FileStoreOptions } from './store/file-store.js';
export { fileClockGuard } from './licensing/file-clock-guard.js';
export { SealedFile } from './crypto/sealed-file.js';
export { nodeBackend } from './crypto/ed25519-node.js';
export { nodeAead } from './crypto/aead-node.js';
export { machineCheck, type MachineCheckOptions } from './licensing/machine-check.js';
export { Installation, PENDING_TTL_MS, type InstallationOptions, type ExchangeState, type PendingRequest } from './licensing/installation.js';
export { requestTrial, type TrialRequestOptions } from './licensing/trial.js';
export { Licensing, type TopUpResult, type LicensingOptions, type UserSignIn, type LeaseStatus, type StatusEvent, type RenewalFailure, type LedgerHook, type Schedule } from './licensing/licensing.js';
export { createRequest, openRequest, createLease, openLease, verifyLease, checkLeaseBinding, checkLeaseNonce, newNonce, type RequestInput, type ExchangeRequest, type RequestOperation, type InstallationSigner, type Lease, type LeaseInput, type LeaseBinding, type NonceState } from '../core/exchange/index.js';
export {
  CreditLedger,
  type LedgerLicense,
  type CreditLedgerOptions,
  type LedgerEntry,
  type ConsumeReceipt,
  type ConsumeOptions,
  type TopUpReceipt,
  type CopyState,
  type CopyStates,
  type VerifyReport,
  type CreditLedgerEvents,
  type LedgerStats,
} from './ledger/credit-ledger.js';
export { defaultLedgerDirs } from './ledger/paths.js';
export type { Balance } from '../core/ledger/plan.js';
export { renderReportHtml, writeReportHtml, type ReportHtmlOptions } from './admin/report-html.js';
