/**
 * Hardware fingerprint: read this machine's identity ({@link getFingerprint}), store it as a
 * string ({@link Fingerprint}), compare with tolerance ({@link match}, {@link explain}) and judge
 * how strong an identity it is ({@link fingerprintStrength}). Only re-exports; see
 * docs/fingerprint.md. The model (string form, matching, strength, salt) is pure and lives in
 * `src/core/fingerprint/`; this folder reads the facts from the OS.
 */
export { getFingerprint, readHostFacts, clearFingerprintCache, type GetFingerprintOptions } from './get.js';
export {
  Fingerprint,
  COMPONENT_KINDS,
  hashComponent,
  match,
  explain,
  DEFAULT_WEIGHTS,
  fingerprintStrength,
  isStrongKind,
  STRONG_KINDS,
  WEAK_KINDS,
  saltForVendor,
  type ComponentKind,
  type FingerprintComponent,
  type FingerprintSource,
  type FromFactsOptions,
  type MatchStrategy,
  type MatchResult,
  type Explanation,
  type KindStatus,
  type FingerprintStrength,
  type HostFacts,
} from '../../core/fingerprint/index.js';
