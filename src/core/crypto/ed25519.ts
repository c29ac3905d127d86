/**
 * Ed25519 verification backends. The Node entry installs `node:crypto` (fastest, synchronous);
 * elsewhere WebCrypto is used where the runtime supports Ed25519, and @noble/ed25519 otherwise.
 * All of them are strict RFC 8032 verifiers (S < L, canonical points), and the tests prove
 * they agree on every RFC 8032 and Wycheproof vector.
 */
import { plain } from '../codec/bytes.js';

/**
 * @noble/ed25519, loaded on first use: Node verifies with node:crypto and browsers mostly with
 * WebCrypto, so most processes never need it, and importing it costs every cold start.
 */
let nobleModule: Promise<typeof import('@noble/ed25519')> | undefined;
const loadNoble = () => (nobleModule ??= import('@noble/ed25519'));

/** A verifier of Ed25519 signatures for one imported public key. */
export type Ed25519Verify = (signature: Uint8Array, message: Uint8Array) => boolean | Promise<boolean>;

/** One way of running Ed25519. */
export interface Ed25519Backend {
  /** `node`, `webcrypto` or `noble`. */
  readonly name: string;
  /** Import a raw 32-byte public key once; the returned function verifies against it. */
  importPublicKey(raw: Uint8Array): Ed25519Verify | Promise<Ed25519Verify>;
}

/** Pure-JS backend: runs anywhere. `zip215: false` selects RFC 8032's strict rules. */
export const nobleBackend: Ed25519Backend = {
  name: 'noble',
  importPublicKey(raw) {
    const pub = raw.slice();
    return async (sig, msg) => (await loadNoble()).verifyAsync(sig, msg, pub, { zip215: false }).catch(() => false);
  },
};

const subtle: SubtleCrypto | undefined = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;

/** WebCrypto backend (browsers, Deno, Bun, Node >= 20). Undefined where there is no `crypto.subtle`. */
export const webcryptoBackend: Ed25519Backend | undefined =
  subtle === undefined
    ? undefined
    : {
        name: 'webcrypto',
        async importPublicKey(raw) {
          const key = await subtle.importKey('raw', plain(raw.slice()), { name: 'Ed25519' }, false, ['verify']);
          return (sig, msg) => subtle.verify('Ed25519', key, plain(sig), plain(msg)).catch(() => false);
        },
      };

let current: Ed25519Backend | undefined;
let probed: Promise<Ed25519Backend> | undefined;

/** Choose the backend every later verification uses (the Node entry installs `node:crypto`). */
export function setEd25519Backend(backend: Ed25519Backend): void {
  current = backend;
}

/** The active backend: the one set, else WebCrypto if it supports Ed25519 here, else noble. */
export function getEd25519Backend(): Ed25519Backend | Promise<Ed25519Backend> {
  if (current !== undefined) return current;
  probed ??= (async () => {
    if (webcryptoBackend !== undefined) {
      try {
        await webcryptoBackend.importPublicKey(new Uint8Array(32).fill(1));
        return webcryptoBackend;
      } catch {
        /* runtime without WebCrypto Ed25519 */
      }
    }
    return nobleBackend;
  })();
  return probed;
}
