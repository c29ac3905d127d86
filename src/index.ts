/**
 * `licit`: verify vendor-signed license keys and gate features, offline, in O(1) per check.
 *
 * @example
 * ```ts
 * import { verifyLicense } from 'licit'
 * const license = await verifyLicense(process.env.LICENSE_KEY!, { publicKeys: [VENDOR_PUBLIC_KEY_PEM] })
 * if (license.has('reports')) showReports()
 * ```
 * @module licit
 */
// In Node, node:crypto runs Ed25519 and AES-GCM; other runtimes get WebCrypto or noble via the core.
import './node/backends.js';
import { ClockGuard, type SealedStateStore, type TimeWitness } from './core/clock-guard.js';
import { requireSecret } from './core/require-secret.js';
import { SealedFile } from './node/sealed-file.js';

export { verifyLicense, type VerifyOptions, type MachineCheck } from './core/verify.js';
export { License, claimsToJSON } from './core/license.js';
export { LicenseError, isLicenseError, ERROR_CODES, type LicenseErrorCode, type LicenseErrorJSON } from './core/errors.js';
export type { LicenseClaims, LicenseInput } from './core/claims.js';
export { evaluateStatus, type LicenseStatus, type StatusReport } from './core/policy.js';
export { ClockGuard, type ClockGuardOptions, type SealedStateStore, type SignedTimeResult, type TimeWitness } from './core/clock-guard.js';
export { verifyTopUp, type TopUp, type VerifiedTopUp } from './core/topup.js';
export { inspectLicense, type InspectedLicense } from './core/inspect.js';
export { keyId, type PublicKeyInput } from './core/keys.js';
export { setEd25519Backend, getEd25519Backend, nobleBackend, webcryptoBackend, type Ed25519Backend, type Ed25519Verify } from './core/ed25519.js';
export { nodeBackend } from './node/ed25519-node.js';
export { setAeadBackend, webcryptoAead, SealKey, type AeadBackend } from './core/seal.js';
export { nodeAead } from './node/aead-node.js';
export { SealedFile } from './node/sealed-file.js';

/**
 * A clock guard whose sealed high-water mark lives in a file (and in every store of `alsoKeepIn`).
 * Throws `ERR_SECRET_REQUIRED` without a `secret`: there is no shared default.
 *
 * @example
 * ```ts
 * const clockGuard = fileClockGuard('/var/lib/myapp/clock', { secret: APP_SECRET, alsoKeepIn: [installation.clockStore] })
 * await verifyLicense(key, { publicKeys, clockGuard })
 * ```
 */
export function fileClockGuard(
  path: string,
  options: {
    /** Your application's secret (required). */
    readonly secret: string | Uint8Array;
    /** How far back the clock may step, in ms (default 10 minutes). */
    readonly toleranceMs?: number | undefined;
    /** More stores keeping the same state, e.g. `installation.clockStore` (default none). */
    readonly alsoKeepIn?: readonly SealedStateStore[] | undefined;
    /** Records whose latest time counts as seen, e.g. the credit ledger (default none). */
    readonly witnesses?: readonly TimeWitness[] | undefined;
  },
): ClockGuard {
  const secret = requireSecret(options?.secret, 'fileClockGuard');
  return new ClockGuard({ store: new SealedFile(path), secret, toleranceMs: options.toleranceMs, alsoKeepIn: options.alsoKeepIn, witnesses: options.witnesses });
}

// Seats, license users, device activations and floating seats: pure rules over a Store.
export * from './core/seats/index.js';
export { MemoryStore } from './core/memory-store.js';

// Administration: hash-chained audit log, reports over day/week/month/custom ranges, alerts.
export * from './core/admin/index.js';
