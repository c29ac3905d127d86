/**
 * Installs the `node:crypto` backends (Ed25519, AES-GCM, SHA-256) into the runtime-neutral core.
 * Imported for its effect by every Node entry point (`licit`, `licit/node`, the CLI); idempotent.
 */
import { setEd25519Backend } from '../../core/crypto/ed25519.js';
import { setAeadBackend } from '../../core/crypto/seal.js';
import { nodeAead } from './aead-node.js';
import { nodeBackend } from './ed25519-node.js';
// SHA-256: installed by importing it.
import './digest.js';

setEd25519Backend(nodeBackend);
setAeadBackend(nodeAead);
