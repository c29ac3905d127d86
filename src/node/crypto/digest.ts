/**
 * SHA-256 on Node: `node:crypto` installed behind the core's {@link sha256Digest}, so Node code
 * and core code hash through one function. Node modules import SHA-256 from here (never
 * `createHash('sha256')` or @noble/hashes directly); importing it installs the backend.
 */
import * as nodeCrypto from 'node:crypto';
import { setSha256Backend } from '../../core/crypto/digest.js';

// crypto.hash (one call, no Hash object) exists from Node 20.12; createHash before that. Read
// off the namespace: a named import of a missing export would fail to link on older Node 20s.
const oneShot = (nodeCrypto as { hash?: typeof nodeCrypto.hash }).hash;
setSha256Backend((data) => {
  const d = oneShot !== undefined ? oneShot('sha256', data, 'buffer') : nodeCrypto.createHash('sha256').update(data).digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.length);
});

export { sha256Digest, sha256Hex } from '../../core/crypto/digest.js';
