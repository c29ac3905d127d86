/**
 * `verifyLicense`: signature first, over the exact bytes; then claims; then time policy.
 */
import { mapToClaims, type LicenseClaims } from './claims.js';
import type { ClockGuard } from '../time/clock-guard.js';
import { decodeClaims, parseEnvelope, toBeSigned, verifySignature, type ParsedEnvelope } from '../crypto/envelope.js';
import { LicenseError } from '../errors.js';
import { toClock, type Clock, type LegacyNow, type NowOption } from '../time/clock.js';
import { keyringNow, toKeyring, type Keyring, type PublicKeyInput } from '../crypto/keys.js';
import { featureSets, License, type FeatureSets } from './license.js';
import { assertReleaseCovered, assertUsable, evaluateStatus } from './policy.js';

/** Checks that this machine matches the fingerprint a license is bound to; throws `ERR_FINGERPRINT_MISMATCH`. */
export type MachineCheck = (storedFingerprint: string, licenseId: string) => void | Promise<void>;

/** Options of {@link verifyLicense}. */
export interface VerifyOptions {
  /** Vendor public keys to trust (several during key rotation). */
  readonly publicKeys: PublicKeyInput | readonly PublicKeyInput[];
  /**
   * The clock to evaluate at (`() => ms`, see {@link Clock}). Default: the system clock (through
   * `clockGuard` when given). A fixed `Date` still works but is deprecated ({@link LegacyNow}).
   */
  readonly now?: NowOption | undefined;
  /** Release date of the running application; refused when after maintenance expiry. */
  readonly releaseDate?: Date | undefined;
  /** Refuses clocks set back; supplies the time to trust. */
  readonly clockGuard?: ClockGuard | undefined;
  /** Required for node-locked licenses (those issued with a fingerprint). */
  readonly machine?: MachineCheck | undefined;
}

/**
 * Verify a license key and evaluate it now. Resolves to a usable {@link License} (`valid` or
 * `grace`), or rejects with a {@link LicenseError}.
 *
 * @example
 * ```ts
 * import { verifyLicense } from 'licit'
 * const license = await verifyLicense(keyText, { publicKeys: [readFileSync('vendor.pub', 'utf8')] })
 * if (license.status === 'grace') console.warn(license.report.warning)
 * ```
 */
export async function verifyLicense(text: string, options: VerifyOptions): Promise<License> {
  if (options === null || typeof options !== 'object' || options.publicKeys === undefined) {
    throw new LicenseError('ERR_USAGE', 'verifyLicense(text, { publicKeys }) needs the vendor public key(s)');
  }
  const d = options.releaseDate;
  if (d !== undefined && !(d instanceof Date && Number.isFinite(d.getTime()))) {
    throw new LicenseError('ERR_USAGE', `verifyLicense option releaseDate must be a valid Date, got ${d instanceof Date ? 'an invalid Date' : typeof d}`);
  }
  // A fixed time that is not one is refused before anything else (a caller's mistake).
  const clock = options.now === undefined ? undefined : toClock(options.now, 'verifyLicense option now');
  const p = await authentic(text, options.publicKeys);
  const claims = p.claims as LicenseClaims;
  let now = clock === undefined ? new Date() : new Date(clock());
  if (options.clockGuard !== undefined) now = await options.clockGuard.check(now);
  const report = evaluateStatus(claims, now);
  assertUsable(claims, report);
  assertReleaseCovered(claims, options.releaseDate);
  if (claims.fingerprint !== undefined) {
    if (options.machine === undefined) {
      throw new LicenseError('ERR_FINGERPRINT_MISMATCH', 'this license is bound to one machine; verify it with a machine check (the `machine` option, or `licit verify` on that machine)', { licenseId: claims.licenseId });
    }
    await options.machine(claims.fingerprint, claims.licenseId);
  }
  return new License(claims, p.env.kid, p.compact, report, p.sets);
}

/**
 * A license key's claims once its signature held under `publicKeys`, whatever its dates say (no
 * time policy, no machine check): what a license server needs to know that a requester holds a
 * key of this vendor. Shares {@link verifyLicense}'s cache.
 */
export async function authenticLicenseClaims(text: string, publicKeys: PublicKeyInput | readonly PublicKeyInput[]): Promise<LicenseClaims> {
  return (await authentic(text, publicKeys)).claims as LicenseClaims;
}

/** Parse `text` and check its signature (once per key text and keyring), then read its claims. */
async function authentic(text: string, publicKeys: PublicKeyInput | readonly PublicKeyInput[]): Promise<Parsed> {
  const keyring = keyringNow(publicKeys) ?? (await toKeyring(publicKeys));
  const p = parse(text);
  if (p.verifiedBy?.has(keyring) !== true) {
    const pending = verifySignature(p.env, keyring, p.tbs);
    if (pending !== undefined) await pending;
    (p.verifiedBy ??= new WeakSet()).add(keyring);
  }
  // Claims are read only after the signature held over the exact bytes.
  if (p.claims === undefined) {
    p.claims = deepFreeze(mapToClaims(decodeClaims(p.env)));
    p.sets = featureSets(p.claims);
  }
  return p;
}

/** A parsed key: its envelope, the bytes its signature covers, and (once a signature held) its claims. */
interface Parsed {
  readonly env: ParsedEnvelope;
  readonly tbs: Uint8Array;
  readonly compact: string;
  claims?: LicenseClaims;
  sets?: FeatureSets;
  /**
   * Keyrings this exact text's signature held under. A keyring is immutable (a new list of keys
   * builds a new one), so a text verified under it stays verified: a license server checking the
   * same registered key on every renewal pays for one Ed25519 verification, not one per request.
   */
  verifiedBy?: WeakSet<Keyring>;
}

// Parsing and claim validation are pure functions of the key text, and a signature that held under
// a keyring holds for good, so repeated verifications of the same key reuse all three; time policy
// and the machine check run on every call. Least recently used entries leave first.
const parsedCache = new Map<string, Parsed>();
const PARSED_CACHE_SIZE = 1024;

function parse(text: string): Parsed {
  const hit = typeof text === 'string' ? parsedCache.get(text) : undefined;
  if (hit !== undefined) {
    parsedCache.delete(text);
    parsedCache.set(text, hit);
    return hit;
  }
  const env = parseEnvelope(text, 'license');
  const entry: Parsed = { env, tbs: toBeSigned(env.protectedBytes, env.payload), compact: text.replace(/\s+/g, '') };
  if (parsedCache.size >= PARSED_CACHE_SIZE) parsedCache.delete(parsedCache.keys().next().value as string);
  parsedCache.set(text, entry);
  return entry;
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (v !== null && typeof v === 'object' && !(v instanceof Date)) deepFreeze(v as object);
  return Object.freeze(o);
}
