/**
 * The CLI's one internal entry: what `src/cli/**` needs from licit that no public entry exports, or
 * that a public entry would only give with many modules the verb does not use. NOT a package
 * entry: it is deliberately absent from package.json `exports` (applications cannot import it), and
 * nothing here is public API; names change with the CLI. See docs/architecture.md.
 *
 * The CLI imports licit only through the public entries (`index.node.ts`, `seats.ts`, `admin.ts`,
 * `fingerprint.node.ts`, `node/index.ts`, `issuer/index.ts`, `server/index.ts`,
 * `postgres/index.ts`) and this file, never a deep path (test/99.architecture.test.ts holds it to
 * that, for static, type-only and dynamic imports). A module's path inside src/ is written here
 * once, so moving it changes this file, not the verbs.
 *
 * Cold start: every verb loads this file, and so everything it imports statically. Its static
 * imports are therefore only the two modules every verb loads anyway (errors, for `LicenseError`,
 * and time-words, for the flag parser's dates). Everything else is a loader: a function that
 * imports the module defining the names on first call and hands back those names only (its type
 * `Pick`s them), so a verb loads the modules it uses and no others, as when it imported them by
 * path. None of the loaders is in package.json `sideEffects`, so the `licit fingerprint` bundle
 * (scripts/build-cli.js) keeps only the ones that verb calls.
 */
import type { Store } from './core/store/store.js';
import type { OpenStoreOptions } from './server/open-store.js';

export { ERROR_CODES, LicenseError, type LicenseErrorCode } from './core/errors.js';
export { describeEnd, formatInstant, parseTimeWords, type DayEdge } from './core/time/time-words.js';

export type { OpenStoreOptions } from './server/open-store.js';
export type { MergedUserId } from './core/seats/migrate-ids.js';
export type { PartyAction, PartyKind, PartyState } from './core/admin/registry.js';

/** Module `M` narrowed to the names `K`: what a loader hands back. */
type Names<M, K extends keyof M> = Promise<Pick<M, K>>;

// Opening a store (a FileStore directory or a postgres:// URL), the one way the server opens one.

/** `openStore` of server/open-store.ts, loaded on first use. The store is audit-chained unless `chain: false`. */
export async function openStore(spec: string, options: OpenStoreOptions): Promise<Store> {
  return (await import('./server/open-store.js')).openStore(spec, options);
}

/** Checks on a flag that names a directory (node/fs/dir-arg.ts, shared with the store opener). */
export const loadDirArg = (): Names<typeof import('./node/fs/dir-arg.js'), 'assertDirectory'> => import('./node/fs/dir-arg.js');

// Text and ids.

/** Printable-text checks (core/codec/text.ts): what a flag or a value shown on a terminal may hold. */
export const loadText = (): Names<typeof import('./core/codec/text.js'), 'isPrintableText' | 'printableForTerminal'> => import('./core/codec/text.js');

/** License user ids as every store keeps them (core/seats/user-id.ts). */
export const loadUserIds = (): Names<typeof import('./core/seats/user-id.js'), 'normalizeUserId' | 'isNormalUserId'> => import('./core/seats/user-id.js');

/** The stored user ids of a license rewritten to their normal form (core/seats/migrate-ids.ts). */
export const loadMigrateIds = (): Names<typeof import('./core/seats/migrate-ids.js'), 'migrateUserIds'> => import('./core/seats/migrate-ids.js');

/** Devices and users as JSON, the form the admin API answers with (core/seats/activation-records.ts). */
export const loadActivationRecords = (): Names<typeof import('./core/seats/activation-records.js'), 'activationJson' | 'userJson'> => import('./core/seats/activation-records.js');

/** The license claims' fixed vocabularies (core/license/claims.ts). */
export const loadClaims = (): Names<typeof import('./core/license/claims.js'), 'USER_AUTH_MODES'> => import('./core/license/claims.js');

/** The audit event kinds (core/store/audit-event.ts; `licit/admin` exports them with the report and alert modules). */
export const loadEventKinds = (): Names<typeof import('./core/store/audit-event.js'), 'EVENT_KINDS'> => import('./core/store/audit-event.js');

// Reading codes without verifying them (`licit inspect`), and what verifies them.

/** A license key's claims without its signature checked (core/license/inspect.ts), and their JSON form (core/license/license.ts). */
export async function loadLicenseReader(): Promise<Pick<typeof import('./core/license/inspect.js'), 'inspectLicense'> & Pick<typeof import('./core/license/license.js'), 'claimsToJSON'>> {
  const [{ inspectLicense }, { claimsToJSON }] = await Promise.all([import('./core/license/inspect.js'), import('./core/license/license.js')]);
  return { inspectLicense, claimsToJSON };
}

/** Signed envelopes and the vendor keyring that opens them (core/crypto/envelope.ts, core/crypto/keys.ts). */
export async function loadEnvelopes(): Promise<Pick<typeof import('./core/crypto/envelope.js'), 'openEnvelope'> & Pick<typeof import('./core/crypto/keys.js'), 'toKeyring'>> {
  const [{ openEnvelope }, { toKeyring }] = await Promise.all([import('./core/crypto/envelope.js'), import('./core/crypto/keys.js')]);
  return { openEnvelope, toKeyring };
}

/** Top-up tokens (core/exchange/topup.ts). */
export const loadTopUps = (): Names<typeof import('./core/exchange/topup.js'), 'decodeTopUp' | 'verifyTopUp'> => import('./core/exchange/topup.js');

/** Response codes (leases; core/exchange/lease.ts). */
export const loadLeases = (): Names<typeof import('./core/exchange/lease.js'), 'decodeLease' | 'openLease'> => import('./core/exchange/lease.js');

/** Request codes (core/exchange/request.ts). */
export const loadRequests = (): Names<typeof import('./core/exchange/request.js'), 'openRequest'> => import('./core/exchange/request.js');

// The vendor's registry and signing.

/** The license registry and the state of licenses, devices and users (core/admin/registry.ts). */
export const loadRegistry = (): Names<
  typeof import('./core/admin/registry.js'),
  'assertSameSigner' | 'changeLicenseState' | 'findLicenses' | 'showLicense'
> => import('./core/admin/registry.js');

/** Suspending, revoking or reinstating one device or license user, with its activations (core/admin/parties.ts, as the admin API does). */
export const loadParties = (): Names<typeof import('./core/admin/parties.js'), 'changeActivationState'> => import('./core/admin/parties.js');

/** Renaming a license user with the server's own records of it, as POST /v1/admin/users/rename does (server/rename-user.ts). */
export const loadUserRename = (): Names<typeof import('./server/rename-user.js'), 'renameLicenseUser'> => import('./server/rename-user.js');

/** Registering a signed license in a store, as the server does (server/license-registry.ts). */
export const loadLicenseRegistration = (): Names<typeof import('./server/license-registry.js'), 'registerLicense'> => import('./server/license-registry.js');

/** Re-issuing a license from its newest key, as the admin API and the portal do (server/reissue.ts). */
export const loadReissue = (): Names<typeof import('./server/reissue.js'), 'reissueLicense'> => import('./server/reissue.js');

/** The `License` of a key just signed, without verifying it again (issuer/issue.ts). */
export const loadSignedLicense = (): Names<typeof import('./issuer/issue.js'), 'signedLicense'> => import('./issuer/issue.js');

/** Writing a vendor key pair (issuer/keygen.ts; `licit/issuer` exports it with the signing modules). */
export const loadKeygen = (): Names<typeof import('./issuer/keygen.js'), 'writeKeyPair'> => import('./issuer/keygen.js');

/** The licensing portal's companies and their administrator accounts (server/portal/companies.ts; not the portal's pages). */
export const loadPortalCompanies = (): Names<
  typeof import('./server/portal/companies.js'),
  'addAccount' | 'changeCompanyLicenses' | 'createCompany' | 'listAccounts' | 'listCompanies' | 'removeAccount' | 'resetAccountPassword'
> => import('./server/portal/companies.js');

/** The exchange's vendor side (server/vendor.ts; `licit/server` exports it with the HTTP server). */
export const loadVendor = (): Names<typeof import('./server/vendor.js'), 'Vendor'> => import('./server/vendor.js');

// The Node runtime, one part at a time (`licit/node` loads all of it).

/** The application's runtime (node/licensing/licensing.ts). */
export const loadLicensing = (): Names<typeof import('./node/licensing/licensing.js'), 'Licensing'> => import('./node/licensing/licensing.js');

/** The check of a node-locked license against this machine (node/licensing/machine-check.ts). */
export const loadMachineCheck = (): Names<typeof import('./node/licensing/machine-check.js'), 'machineCheck'> => import('./node/licensing/machine-check.js');

/** The credit ledger (node/ledger/credit-ledger.ts). */
export const loadCreditLedger = (): Names<typeof import('./node/ledger/credit-ledger.js'), 'CreditLedger'> => import('./node/ledger/credit-ledger.js');

/** The HTML page of a usage report (node/admin/report-html.ts). */
export const loadReportHtml = (): Names<typeof import('./node/admin/report-html.js'), 'writeReportHtml'> => import('./node/admin/report-html.js');

/** SMBIOS dumps (node/fingerprint/smbios.ts). */
export const loadSmbios = (): Names<typeof import('./node/fingerprint/smbios.js'), 'decodeSmbios'> => import('./node/fingerprint/smbios.js');

// This machine's fingerprint (`licit fingerprint`): its reader alone; matching and key parsing
// are loaded only for --explain and --public-key.

/** This machine's fingerprint (node/fingerprint/get.ts). */
export const loadFingerprintReader = (): Names<typeof import('./node/fingerprint/get.js'), 'getFingerprint'> => import('./node/fingerprint/get.js');

/** How strong a fingerprint is (core/fingerprint/strength.ts). */
export const loadFingerprintStrength = (): Names<typeof import('./core/fingerprint/strength.js'), 'fingerprintStrength'> => import('./core/fingerprint/strength.js');

/** Which components of a stored fingerprint differ from this machine's (core/fingerprint/match.ts). */
export const loadFingerprintMatch = (): Names<typeof import('./core/fingerprint/match.js'), 'explain'> => import('./core/fingerprint/match.js');

/** The fingerprint salt derived from a vendor public key (core/fingerprint/salt.ts). */
export const loadSaltForVendor = (): Names<typeof import('./core/fingerprint/salt.js'), 'saltForVendor'> => import('./core/fingerprint/salt.js');

/** The native addon, when it loads (node/fingerprint/native.ts). */
export const loadNativeAddon = (): Names<typeof import('./node/fingerprint/native.js'), 'loadNative'> => import('./node/fingerprint/native.js');

/** The core's rules on network adapters (core/fingerprint/adapters.ts), which judge the addon's facts. */
export const loadAdapterRules = (): Names<typeof import('./core/fingerprint/adapters.js'), 'judgeInterfaces'> => import('./core/fingerprint/adapters.js');

/** The JavaScript fallback's adapter report (node/fingerprint/fallback.ts: Linux sysfs, judged by the same rules). */
export const loadLinuxAdapters = (): Names<typeof import('./node/fingerprint/fallback.js'), 'linuxAdapterReport'> => import('./node/fingerprint/fallback.js');
