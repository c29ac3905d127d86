/** Moved to `src/os/make-dir.ts` (shared by the issuer and the Node runtime). Kept so old import paths still work. */
export { makeDirectory } from '../../os/make-dir.js';
