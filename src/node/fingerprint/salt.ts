/** Moved to the core (`src/core/fingerprint/salt.ts`): the fingerprint model is pure. Kept so old import paths still work. */
export { saltForVendor } from '../../core/fingerprint/salt.js';
