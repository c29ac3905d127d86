/**
 * Hardware fingerprint: read this machine's identity ({@link getFingerprint}), store it as a
 * string ({@link Fingerprint}), and compare with tolerance ({@link match}, {@link explain}).
 * Only re-exports; see docs/fingerprint.md.
 */
export { getFingerprint, readHostFacts, clearFingerprintCache, DEFAULT_FINGERPRINT_SALT, type GetFingerprintOptions } from './get.js';
export { Fingerprint, COMPONENT_KINDS, hashComponent, type ComponentKind, type FingerprintComponent, type FingerprintSource, type FromFactsOptions } from './fingerprint.js';
export { match, explain, DEFAULT_WEIGHTS, type MatchStrategy, type MatchResult, type Explanation, type KindStatus } from './match.js';
export type { HostFacts } from './facts.js';
