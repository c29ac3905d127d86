/**
 * `licit`: verify vendor-signed license keys and gate features, offline, in O(1) per check. This
 * entry is runtime-neutral: it imports nothing from `node:`, so it runs in browsers, Web Workers,
 * Deno, Bun and edge runtimes (WebCrypto, or `@noble/ed25519` where WebCrypto lacks Ed25519). In
 * Node, the `node` export condition serves `index.node.ts` instead: this API with `node:crypto`
 * installed, plus the Node-only helpers. Seats, administration and the fingerprint model have
 * subpaths of their own (`licit/seats`, `licit/admin`, `licit/fingerprint`). Only re-exports.
 *
 * @example
 * ```ts
 * import { verifyLicense } from 'licit'
 * const license = await verifyLicense(LICENSE_KEY, { publicKeys: [VENDOR_PUBLIC_KEY_PEM] })
 * if (license.has('reports')) showReports()
 * ```
 * @module licit
 */
export { verifyLicense, type VerifyOptions, type MachineCheck } from './core/license/verify.js';
export { License, claimsToJSON } from './core/license/license.js';
export { LicenseError, isLicenseError, ERROR_CODES, type LicenseErrorCode, type LicenseErrorJSON } from './core/errors.js';
export type { LicenseClaims, LicenseInput } from './core/license/claims.js';
export { evaluateStatus, type LicenseStatus, type StatusReport } from './core/license/policy.js';
export { ClockGuard, type ClockGuardOptions, type SealedStateStore, type SignedTimeResult, type TimeWitness } from './core/time/clock-guard.js';
export { verifyTopUp, type TopUp, type VerifiedTopUp } from './core/exchange/topup.js';
export { inspectLicense, type InspectedLicense } from './core/license/inspect.js';
export { keyId, type PublicKeyInput } from './core/crypto/keys.js';
export { setEd25519Backend, getEd25519Backend, nobleBackend, webcryptoBackend, type Ed25519Backend, type Ed25519Verify } from './core/crypto/ed25519.js';
export { setAeadBackend, webcryptoAead, SealKey, type AeadBackend } from './core/crypto/seal.js';
