/**
 * How strong a fingerprint is as an identity: which of its components single out one machine
 * (strong) and which many machines share (weak). Works on the string form alone, so a vendor's
 * server can judge a fingerprint it was sent before binding a license to it.
 */
import { LicenseError } from '../errors.js';
import { COMPONENT_KINDS, Fingerprint, type ComponentKind } from './fingerprint.js';

/**
 * Kinds that are unique to one machine as it comes: SMBIOS serials and UUID, the machine id, and
 * globally unique (vendor-assigned) MACs. Unique is not uncopyable: a VM's are whatever its
 * hypervisor says, and a machine id travels with a disk image (docs/fingerprint.md).
 */
export const STRONG_KINDS: readonly ComponentKind[] = Object.freeze(['system-uuid', 'system-serial', 'board-serial', 'chassis-serial', 'machine-id', 'mac'] as ComponentKind[]);

/**
 * Kinds that many machines share: a board model name, a CPU model (every guest of one instance
 * type has the same), and MACs software assigns (`mac-local`: locally administered or in a
 * hypervisor's block, such as a microVM's default `02:fc:00:00:00:01`).
 */
export const WEAK_KINDS: readonly ComponentKind[] = Object.freeze(['board', 'cpu', 'mac-local'] as ComponentKind[]);

const STRONG: ReadonlySet<ComponentKind> = new Set(STRONG_KINDS);

/** True when a component of this kind singles out one machine (see {@link STRONG_KINDS}). */
export function isStrongKind(kind: ComponentKind): boolean {
  return STRONG.has(kind);
}

/** Outcome of {@link fingerprintStrength}. */
export interface FingerprintStrength {
  /**
   * `"strong"` when the fingerprint has at least one strong component, so a match can rest on
   * something one machine has; `"weak"` when every component is one many machines share.
   */
  readonly level: 'strong' | 'weak';
  /** Strong kinds present, in string-form order, each once. */
  readonly strong: ComponentKind[];
  /** Weak kinds present, in string-form order, each once. */
  readonly weak: ComponentKind[];
  /** One or two sentences saying why, and for a weak one what to do instead. */
  readonly why: string;
}

/**
 * How strong `fp` is as an identity: a {@link Fingerprint} or its string (validated:
 * `ERR_FINGERPRINT_MALFORMED`). A pure function of the components; for a `Fingerprint` read on
 * this machine it also says which strong kinds this process could not read.
 *
 * @example
 * ```ts
 * // vendor side, before node-locking a license to what a customer sent
 * const s = fingerprintStrength('fp1:cp=…,mi=…,ml=…');
 * if (s.level === 'weak') refuse(s.why);
 * ```
 */
export function fingerprintStrength(fp: string | Fingerprint): FingerprintStrength {
  let f: Fingerprint;
  if (fp instanceof Fingerprint) f = fp;
  else if (typeof fp === 'string') f = Fingerprint.parse(fp);
  else throw new LicenseError('ERR_USAGE', `fingerprintStrength takes a fingerprint string (fp1:…) or a Fingerprint, got ${fp === null ? 'null' : typeof fp}`);
  const present = COMPONENT_KINDS.filter((k) => f.components.some((c) => c.kind === k));
  const strong = present.filter((k) => STRONG.has(k));
  const weak = present.filter((k) => !STRONG.has(k));
  const unreadable = f.unavailable.filter((k) => STRONG.has(k));
  if (strong.length > 0) {
    const sole = strong.length === 1 && strong[0] === 'machine-id'
      ? ' The machine id is its only strong part: it is copied with a disk image or VM template, and it may be an id supplied by the operator (the string cannot tell which).'
      : '';
    const shared = weak.length > 0 ? ` ${weak.join(', ')} ${weak.length === 1 ? 'is' : 'are'} shared by many machines and never decide${weak.length === 1 ? 's' : ''} a match alone.` : '';
    return { level: 'strong', strong, weak, why: `Identified by ${strong.join(', ')}.${shared}${sole}` };
  }
  const parts = weak.length === 0 ? 'no components' : `only components many machines share (${weak.join(', ')})`;
  const root = unreadable.length > 0 ? ` This process could not read ${unreadable.join(', ')}: a fingerprint taken as root/administrator may be strong.` : '';
  return {
    level: 'weak',
    strong,
    weak,
    why: `Weak: ${parts}, so another machine of the same kind (such as a second VM of the same type) presents the same values.${root} Do not node-lock to it: bind to a machine id the vendor approves, or use a floating seat.`,
  };
}
