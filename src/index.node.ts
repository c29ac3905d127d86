/**
 * `licit` as Node resolves it (the `node` export condition): the runtime-neutral API of
 * `index.ts` with the `node:crypto` backends installed (Ed25519, AES-GCM, SHA-256), plus the
 * Node-only helpers that `licit` exported before it became runtime-neutral. Their home is
 * `licit/node`; they stay here so that Node code importing them from `licit` keeps working.
 * Only re-exports.
 *
 * @module licit (node)
 */
import './node/crypto/backends.js';

export * from './index.js';
export { fileClockGuard } from './node/licensing/file-clock-guard.js';
export { SealedFile } from './node/crypto/sealed-file.js';
export { nodeBackend } from './node/crypto/ed25519-node.js';
export { nodeAead } from './node/crypto/aead-node.js';
