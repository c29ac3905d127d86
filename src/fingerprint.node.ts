/**
 * `licit/fingerprint` as Node resolves it (the `node` export condition): the runtime-neutral model
 * of `fingerprint.ts` plus reading this machine's fingerprint ({@link getFingerprint}) with the
 * native addon or its JavaScript fallback, and `node:crypto` for SHA-256. Loads the fingerprint
 * reader only, not the rest of `licit/node`. Only re-exports.
 *
 * @example
 * ```ts
 * import { getFingerprint } from 'licit/fingerprint'
 * const fp = await getFingerprint({ salt: 'com.example.app' })
 * ```
 * @module licit/fingerprint (node)
 */
import './node/crypto/digest.js';

export * from './fingerprint.js';
export { getFingerprint, readHostFacts, clearFingerprintCache, type GetFingerprintOptions } from './node/fingerprint/get.js';
