/** Moved to the core (`src/core/fingerprint/fingerprint.ts`): the fingerprint model is pure. Kept so old import paths still work. */
export { Fingerprint, COMPONENT_KINDS, hashComponent, type ComponentKind, type FingerprintComponent, type FingerprintSource, type FromFactsOptions } from '../../core/fingerprint/fingerprint.js';
