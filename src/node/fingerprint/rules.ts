/** Moved to the core (`src/core/fingerprint/rules.ts`): the fingerprint model is pure. Kept so old import paths still work. */
export * from '../../core/fingerprint/rules.js';
