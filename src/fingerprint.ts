/**
 * `licit/fingerprint`: the hardware-fingerprint model, runtime-neutral: the string form
 * ({@link Fingerprint}), tolerant comparison ({@link match}, {@link explain}), strength
 * ({@link fingerprintStrength}) and the vendor salt ({@link saltForVendor}). A browser or a
 * server can parse and compare fingerprints with it. Reading this machine's facts needs the OS:
 * in Node, the `node` condition of this subpath adds `getFingerprint` (as does `licit/node`).
 * Only re-exports; see docs/fingerprint.md.
 *
 * @example
 * ```ts
 * import { Fingerprint, match } from 'licit/fingerprint'
 * const result = match(license.fingerprint!, Fingerprint.parse(reportedByTheClient))
 * ```
 * @module licit/fingerprint
 */
export {
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
  type NativeAdapter,
  type NativeCpu,
  type SmbiosInfo,
} from './core/fingerprint/index.js';
