/** Moved to the core (`src/core/fingerprint/facts.ts`): the fingerprint model is pure. Kept so old import paths still work. */
export type { HostFacts } from '../../core/fingerprint/facts.js';
