/**
 * Installs the `node:crypto` backends (Ed25519, AES-GCM, SHA-256) into the runtime-neutral core.
 * Imported for its effect by every Node entry point (`licit`, `licit/node`, the CLI); idempotent.
 */
import * as nodeCrypto from 'node:crypto';
import { setSha256Backend } from '../core/digest.js';
import { setEd25519Backend } from '../core/ed25519.js';
import { setAeadBackend } from '../core/seal.js';
import { nodeAead } from './aead-node.js';
import { nodeBackend } from './ed25519-node.js';

setEd25519Backend(nodeBackend);
setAeadBackend(nodeAead);
// crypto.hash (one call, no Hash object) exists from Node 20.12; createHash before that. Read
// off the namespace: a named import of a missing export would fail to link on older Node 20s.
const oneShot = (nodeCrypto as { hash?: typeof nodeCrypto.hash }).hash;
setSha256Backend((data) => {
  const d = oneShot !== undefined ? oneShot('sha256', data, 'buffer') : nodeCrypto.createHash('sha256').update(data).digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.length);
});
