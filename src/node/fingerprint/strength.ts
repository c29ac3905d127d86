/** Moved to the core (`src/core/fingerprint/strength.ts`): the fingerprint model is pure. Kept so old import paths still work. */
export { fingerprintStrength, isStrongKind, STRONG_KINDS, WEAK_KINDS, type FingerprintStrength } from '../../core/fingerprint/strength.js';
