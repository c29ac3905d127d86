/**
 * Hardware fingerprint: read this machine's identity ({@link getFingerprint}), store it as a
 * string ({@link Fingerprint}), compare with tolerance ({@link match}, {@link explain}) and judge
 * how strong an identity it is ({@link fingerprintStrength}). Only re-exports; see
 * docs/fingerprint.md.
 */
export { getFingerprint, readHostFacts, clearFingerprintCache, type GetFingerprintOptions } from './get.js';
export { Fingerprint, COMPONENT_KINDS, hashComponent, type ComponentKind, type FingerprintComponent, type FingerprintSource, type FromFactsOptions } from './fingerprint.js';
export { match, explain, DEFAULT_WEIGHTS, type MatchStrategy, type MatchResult, type Explanation, type KindStatus } from './match.js';
export { fingerprintStrength, isStrongKind, STRONG_KINDS, WEAK_KINDS, type FingerprintStrength } from './strength.js';
export { saltForVendor } from './salt.js';
export type { HostFacts } from './facts.js';
