/** Moved to the core (`src/core/fingerprint/match.ts`): the fingerprint model is pure. Kept so old import paths still work. */
export { match, explain, DEFAULT_WEIGHTS, type MatchStrategy, type MatchResult, type Explanation, type KindStatus } from '../../core/fingerprint/match.js';
