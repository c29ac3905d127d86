/**
 * This machine's fingerprint. `getFingerprint` reads the facts once per process (the addon when it
 * loads, else the JavaScript fallback) and hashes them under the caller's salt; later calls with
 * the same salt return the same object at no cost.
 */
import { LicenseError } from '../../core/errors.js';
import { loadNative, warnNativeFallback } from './native.js';
import { inContainer, looksVirtual } from './environment.js';
import type { HostFacts } from '../../core/fingerprint/facts.js';
import { classifyHostFacts } from '../../core/fingerprint/classify.js';
import { Fingerprint, hashComponent } from '../../core/fingerprint/fingerprint.js';

/** Options for {@link getFingerprint}. */
export interface GetFingerprintOptions {
  /**
   * Per-application salt: fingerprints under different salts cannot be linked. Required: there is
   * no default, since one salt shared by every vendor would link their fingerprints. Use your
   * application's own fixed string, or `saltForVendor(vendorPublicKey)`, the salt `Licensing`
   * uses when given none.
   */
  readonly salt: string;
  /** Read with the JavaScript fallback even when the addon loads. Default false. */
  readonly fallback?: boolean;
  /**
   * An explicit machine id supplied by the operator (for containers, whose hardware identity
   * changes on every restart). When set, the fingerprint is this one component, hashed like any
   * other, and no hardware fact enters it; `virtual` and `container` still describe this machine.
   * Default: unset.
   */
  readonly machineId?: string | undefined;
}

let factsCache: { native?: HostFacts; fallback?: HostFacts } = {};
let fallbackModule: Promise<typeof import('./fallback.js')> | undefined;
const fpCache = new Map<string, Fingerprint>();

/**
 * The raw facts (serials, MACs in clear), classified by the core's rules (physical adapters only,
 * SMBIOS placeholders named) whichever reader saw them. Internal to the process: never log or
 * send them. Cached; `fallback: true` forces the JavaScript reader.
 */
export async function readHostFacts(
  opts: {
    /** Read with the JavaScript fallback even when the addon loads. Default false. */
    fallback?: boolean | undefined;
  } = {},
): Promise<HostFacts> {
  const addon = opts.fallback === true ? undefined : loadNative();
  if (addon !== undefined) {
    if (factsCache.native === undefined) {
      const h = addon.hostIdentity();
      factsCache.native = classifyHostFacts({ source: 'native', smbiosSource: h.smbiosSource, smbios: h.smbios, cpu: h.cpu, interfaces: h.interfaces, machineId: h.machineId });
    }
    return factsCache.native;
  }
  if (opts.fallback !== true) warnNativeFallback('the hardware fingerprint');
  if (factsCache.fallback === undefined) {
    // Loaded only when needed, so the common native path stays small; the module is kept, as a
    // repeated import() still goes through the module loader (costly under loader hooks).
    const { readFallbackFacts } = await (fallbackModule ??= import('./fallback.js'));
    factsCache.fallback = classifyHostFacts(readFallbackFacts());
  }
  return factsCache.fallback;
}

/**
 * This machine's fingerprint under `salt`, from the addon (`source: "native"`) or the JavaScript
 * fallback (`source: "fallback"`). Cached per process and salt: the second call is free.
 *
 * @example
 * ```ts
 * import { getFingerprint } from 'licit/node';
 * const fp = await getFingerprint({ salt: 'com.example.app' });
 * console.log(fp.toString()); // fp1:su=…,cp=…,mi=…,mc=…
 * ```
 */
export async function getFingerprint(options: GetFingerprintOptions): Promise<Fingerprint> {
  if (options === null || typeof options !== 'object') throw new LicenseError('ERR_USAGE', 'getFingerprint takes an options object with the salt, e.g. { salt: "com.example.app" }');
  const opts = options;
  const salt = opts.salt;
  if (typeof salt !== 'string' || salt === '') {
    throw new LicenseError(
      'ERR_USAGE',
      `getFingerprint needs your application's salt (got ${salt === '' ? 'an empty one' : salt === undefined ? 'none' : `a ${typeof salt}`}): pass { salt: "com.example.app" } (a fixed string unique to your application), or { salt: saltForVendor(vendorPublicKey) }, the salt Licensing uses when given none. There is no shared default: it would link your fingerprints with every other vendor's`,
    );
  }
  if (opts.machineId !== undefined) {
    if (typeof opts.machineId !== 'string' || opts.machineId.trim() === '') throw new LicenseError('ERR_USAGE', 'machineId must be a non-empty string (the id your operator assigns to this instance)');
    // The id replaces the hardware in the fingerprint, not in the environment report: a VM given
    // an id is still a VM, and a vendor's policy may depend on knowing it.
    const facts = await readHostFacts({ fallback: opts.fallback });
    return new Fingerprint([{ kind: 'machine-id', name: 'machine-id (supplied)', value: hashComponent(salt, 'machine-id', opts.machineId) }], 'supplied', { virtual: looksVirtual(facts), container: inContainer() });
  }
  const key = `${opts.fallback === true ? 'f' : 'n'}\0${salt}`;
  const hit = fpCache.get(key);
  if (hit !== undefined) return hit;
  const facts = await readHostFacts({ fallback: opts.fallback });
  const fp = Fingerprint.fromFacts(facts, { salt, virtual: looksVirtual(facts), container: inContainer() });
  fpCache.set(key, fp);
  return fp;
}

/** Forget cached facts and fingerprints (tests; after hardware hot-plug). */
export function clearFingerprintCache(): void {
  factsCache = {};
  fpCache.clear();
}
