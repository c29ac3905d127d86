/** Moved to the core (`src/core/fingerprint/hmac.ts`): the fingerprint model is pure. Kept so old import paths still work. */
export { sha256, hmacSha256, utf8Bytes } from '../../core/fingerprint/hmac.js';
