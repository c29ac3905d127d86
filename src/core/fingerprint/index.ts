/**
 * The fingerprint model, pure (no `node:` import, no `Buffer`): the string form ({@link Fingerprint}),
 * salted component hashes ({@link hashComponent}), tolerant comparison ({@link match},
 * {@link explain}), strength ({@link fingerprintStrength}) and the vendor salt
 * ({@link saltForVendor}). Reading this machine's facts is the Node layer's work
 * (`src/node/fingerprint/get.ts`). Only re-exports; see docs/fingerprint.md.
 */
export { Fingerprint, COMPONENT_KINDS, hashComponent, type ComponentKind, type FingerprintComponent, type FingerprintSource, type FromFactsOptions } from './fingerprint.js';
export { match, explain, DEFAULT_WEIGHTS, type MatchStrategy, type MatchResult, type Explanation, type KindStatus } from './match.js';
export { fingerprintStrength, isStrongKind, STRONG_KINDS, WEAK_KINDS, type FingerprintStrength } from './strength.js';
export { saltForVendor } from './salt.js';
export type { HostFacts, NativeAdapter, NativeCpu, SmbiosInfo } from './facts.js';
