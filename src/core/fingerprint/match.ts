/**
 * Matching a stored fingerprint against this machine with tolerance, and explaining the result.
 *
 * Components are compared per kind. A kind counts as *same* when the stored and current sets
 * share a hash (for MACs: any one adapter still present), *changed* when the stored kind is
 * missing or different now, *unavailable* when this process cannot read it (ignored), and *new*
 * when only the current machine has it (ignored: more facts never break a license).
 * The score is the weight of same kinds over the weight of same plus changed kinds.
 *
 * Weak kinds (a CPU model, a board model, software-assigned MACs: `WEAK_KINDS`) never make a
 * match by themselves: when the stored fingerprint has a strong component, at least one strong
 * kind that counts (weight above 0) must be the same; a weak-only stored fingerprint matches only
 * an identical weak-only one, and the result says `strength: "weak"` so a policy can refuse it.
 */
import { LicenseError } from '../errors.js';
import { COMPONENT_KINDS, Fingerprint, type ComponentKind } from './fingerprint.js';
import { isStrongKind } from './strength.js';

/** Weights per kind. The motherboard's identity outweighs anything that is routinely replaced. */
export const DEFAULT_WEIGHTS: Readonly<Record<ComponentKind, number>> = Object.freeze({
  'system-uuid': 3,
  'system-serial': 3,
  'board-serial': 3,
  board: 1,
  'chassis-serial': 1,
  cpu: 2,
  'machine-id': 2,
  mac: 2,
  'mac-local': 1,
});

/**
 * How tolerant a match is.
 * - `"all"`: every stored kind that can be read must be the same.
 * - `"most"` (default): more than half the compared weight must be the same. A new network card
 *   or CPU keeps the license; a new motherboard (UUID, serials, on-board NIC) does not.
 * - `{ atLeast: n }`: the same kinds must weigh at least `n`.
 * Any form may carry `weights` replacing {@link DEFAULT_WEIGHTS} for some kinds.
 */
export type MatchStrategy =
  | 'all'
  | 'most'
  | {
      /** `"all"` or `"most"`, as the string forms. */
      readonly mode: 'all' | 'most';
      /** Weights for some kinds, replacing those of {@link DEFAULT_WEIGHTS}; negative counts as 0. */
      readonly weights?: Partial<Record<ComponentKind, number>>;
    }
  | {
      /** Minimum total weight of the same kinds (must also be above 0) for a match. */
      readonly atLeast: number;
      /** Weights for some kinds, replacing those of {@link DEFAULT_WEIGHTS}; negative counts as 0. */
      readonly weights?: Partial<Record<ComponentKind, number>>;
    };

/** Outcome of {@link match}. */
export interface MatchResult {
  /** Whether this machine matches the stored fingerprint under the strategy. */
  readonly ok: boolean;
  /** Same weight over compared weight, 0..1 (0 when nothing could be compared). */
  readonly score: number;
  /** Kinds that were stored and are different or gone now. */
  readonly changed: ComponentKind[];
  /** Stored kinds this process cannot read, left out of the score. */
  readonly unavailable: ComponentKind[];
  /**
   * What the comparison rests on: `"strong"` when a strong kind (one that singles out a machine,
   * e.g. a serial or the machine id) that counts is the same in both, else `"weak"`. A match
   * (`ok: true`) is `"weak"` only when the stored fingerprint has no strong component and this
   * machine's is identical to it: any machine of the same kind would match too.
   */
  readonly strength: 'strong' | 'weak';
}

/** Status of one kind in an {@link Explanation}. */
export type KindStatus = 'same' | 'changed' | 'unavailable' | 'new';

/** A support-friendly account of a match. */
export interface Explanation extends MatchResult {
  /** The strategy in words with the weights found, e.g. `"most of the weight the same (got 7 of 9)"`. */
  readonly strategy: string;
  /** One entry per kind present in either fingerprint, in string-form order. */
  readonly kinds: ReadonlyArray<{
    /** The component kind. */
    readonly kind: ComponentKind;
    /** How it compared. */
    readonly status: KindStatus;
    /** Its weight under the strategy (0 or more). */
    readonly weight: number;
    /** Number of stored components of this kind (more than 1 only for MACs). */
    readonly stored: number;
    /** Number of current components of this kind. */
    readonly current: number;
  }>;
  /** Several lines of plain text saying what changed and whether a reset is needed. */
  readonly text: string;
}

/**
 * The stored fingerprint as a {@link Fingerprint}. `undefined` is what `license.fingerprint` is on
 * a license that is not node-locked: say so rather than fail on a property read.
 */
function storedFingerprint(f: unknown): Fingerprint {
  if (f instanceof Fingerprint) return f;
  if (typeof f === 'string') return Fingerprint.parse(f);
  throw new LicenseError(
    'ERR_USAGE',
    f === undefined || f === null
      ? `no stored fingerprint to match (got ${String(f)}): a license that is not node-locked has none (license.fingerprint is undefined). Check license.fingerprint first, or pass the fingerprint string stored in a node-locked license`
      : `the stored fingerprint must be the fingerprint string stored in the license (license.fingerprint) or a Fingerprint, got ${typeof f}`,
  );
}

/** This machine's fingerprint as a {@link Fingerprint}: normally what `getFingerprint()` returns. */
function currentFingerprint(f: unknown): Fingerprint {
  if (f instanceof Fingerprint) return f;
  if (typeof f === 'string') {
    try {
      return Fingerprint.parse(f);
    } catch (e) {
      if (!(e instanceof LicenseError)) throw e;
      throw new LicenseError('ERR_FINGERPRINT_MALFORMED', `the current fingerprint is not valid (${String(e.details.reason)}); pass this machine's fingerprint, \`await getFingerprint({ salt })\``, e.details);
    }
  }
  throw new LicenseError('ERR_USAGE', `the current fingerprint must be this machine's fingerprint, \`await getFingerprint({ salt })\`, or its string, got ${f === null ? 'null' : typeof f}`);
}

/** A strategy checked and resolved: a typo must not quietly make matching looser. */
interface Rule {
  readonly mode: 'all' | 'most' | 'atLeast';
  readonly atLeast: number;
  readonly weights: Readonly<Record<ComponentKind, number>>;
}

function usage(message: string): LicenseError {
  return new LicenseError('ERR_USAGE', `${message}. A match strategy is "all", "most", { mode: "all" | "most", weights? } or { atLeast: n, weights? }`);
}

function resolveStrategy(strategy: unknown): Rule {
  if (strategy === 'all' || strategy === 'most') return { mode: strategy, atLeast: 0, weights: DEFAULT_WEIGHTS };
  if (strategy === null || typeof strategy !== 'object') throw usage(`unknown match strategy ${JSON.stringify(strategy) ?? String(strategy)}`);
  const o = strategy as { mode?: unknown; atLeast?: unknown; weights?: unknown };
  const weights: Record<ComponentKind, number> = { ...DEFAULT_WEIGHTS };
  if (o.weights !== undefined) {
    if (o.weights === null || typeof o.weights !== 'object') throw usage('strategy weights must be an object of component kind to number');
    for (const [kind, w] of Object.entries(o.weights)) {
      if (!(COMPONENT_KINDS as readonly string[]).includes(kind)) throw usage(`unknown component kind "${kind}" in strategy weights (kinds: ${COMPONENT_KINDS.join(', ')})`);
      if (typeof w !== 'number' || !Number.isFinite(w)) throw usage(`the weight of ${kind} must be a finite number, got ${String(w)}`);
      weights[kind as ComponentKind] = Math.max(0, w);
    }
  }
  if ('atLeast' in o) {
    if ('mode' in o) throw usage('give either mode or atLeast, not both');
    if (typeof o.atLeast !== 'number' || !Number.isFinite(o.atLeast) || o.atLeast < 0) throw usage(`atLeast must be a finite number >= 0, got ${String(o.atLeast)}`);
    return { mode: 'atLeast', atLeast: o.atLeast, weights };
  }
  if (o.mode !== 'all' && o.mode !== 'most') throw usage(`unknown match mode ${JSON.stringify(o.mode) ?? String(o.mode)}`);
  return { mode: o.mode, atLeast: 0, weights };
}

function compare(stored: Fingerprint, current: Fingerprint, strategy: MatchStrategy) {
  const rule = resolveStrategy(strategy);
  const weights = rule.weights;
  const kinds: Array<{ kind: ComponentKind; status: KindStatus; weight: number; stored: number; current: number }> = [];
  let same = 0;
  let compared = 0;
  // A MAC hashes alike under mc and ml: one filed under mc in a string from before ml existed is
  // still found among this machine's ml (and the other way round), as the same adapter; but only
  // mc found as mc is strong evidence.
  const macs = new Set([...current.of('mac'), ...current.of('mac-local')].map((x) => x.value));
  let strongMac = false;
  for (const kind of COMPONENT_KINDS) {
    const s = new Set(stored.of(kind).map((c) => c.value));
    const own = new Set(current.of(kind).map((x) => x.value));
    const c = kind === 'mac' || kind === 'mac-local' ? macs : own;
    if (kind === 'mac') strongMac = [...s].some((v) => own.has(v));
    if (s.size === 0 && own.size === 0) continue;
    const weight = weights[kind];
    let status: KindStatus;
    if (s.size === 0) status = 'new';
    else if (c.size === 0 && current.unavailable.includes(kind)) status = 'unavailable';
    else status = [...s].some((v) => c.has(v)) ? 'same' : 'changed';
    if (status === 'same') same += weight;
    if (status === 'same' || status === 'changed') compared += weight;
    kinds.push({ kind, status, weight, stored: s.size, current: own.size });
  }
  const score = compared === 0 ? 0 : same / compared;
  const changed = kinds.filter((k) => k.status === 'changed').map((k) => k.kind);
  const unavailable = kinds.filter((k) => k.status === 'unavailable').map((k) => k.kind);
  let passes: boolean;
  let label: string;
  if (rule.mode === 'atLeast') {
    passes = same >= rule.atLeast && same > 0;
    label = `at least weight ${rule.atLeast} the same (got ${same} of ${compared})`;
  } else {
    passes = compared > 0 && (rule.mode === 'all' ? changed.length === 0 : same * 2 > compared);
    label = rule.mode === 'all' ? 'all components the same' : `most of the weight the same (got ${same} of ${compared})`;
  }
  // What many machines share (a CPU model, a hypervisor's default MAC) must never be what makes
  // two machines one: a second VM of the same type has all of it.
  const strongSame = kinds.filter((k) => k.status === 'same' && k.weight > 0 && isStrongKind(k.kind) && (k.kind !== 'mac' || strongMac)).map((k) => k.kind);
  const storedStrong = stored.components.some((c) => isStrongKind(c.kind));
  const strength: 'strong' | 'weak' = strongSame.length > 0 ? 'strong' : 'weak';
  const identical = stored.toString() === current.toString();
  const ok = passes && (storedStrong ? strongSame.length > 0 : identical);
  // Why a match the strategy alone would pass is refused.
  const weakOnly = passes && !ok;
  // The stored mc adapters are here only as software-assigned ones: same, but weak.
  const macWeak = !strongMac && kinds.some((k) => k.kind === 'mac' && k.status === 'same');
  return { ok, score, changed, unavailable, kinds, label, strength, storedStrong, weakOnly, macWeak };
}

/**
 * Does this machine (`current`) match the `stored` fingerprint (a {@link Fingerprint} or its
 * string, which is validated: `ERR_FINGERPRINT_MALFORMED`)? Anything else, such as the
 * `undefined` fingerprint of a license that is not node-locked, is `ERR_USAGE`.
 *
 * @example
 * ```ts
 * const r = match(license.fingerprint!, await getFingerprint({ salt }), 'most');
 * if (!r.ok) console.log('changed:', r.changed.join(', '));
 * ```
 */
export function match(stored: Fingerprint | string, current: Fingerprint | string, strategy: MatchStrategy = 'most'): MatchResult {
  const r = compare(storedFingerprint(stored), currentFingerprint(current), strategy);
  return { ok: r.ok, score: r.score, changed: r.changed, unavailable: r.unavailable, strength: r.strength };
}

/**
 * Which components changed between `stored` and `current`, with a plain-text account for support.
 * Validates its arguments as {@link match} does.
 *
 * @example
 * ```ts
 * console.log(explain(license.fingerprint!, await getFingerprint({ salt })).text);
 * ```
 */
export function explain(stored: Fingerprint | string, current: Fingerprint | string, strategy: MatchStrategy = 'most'): Explanation {
  const r = compare(storedFingerprint(stored), currentFingerprint(current), strategy);
  const lines = r.kinds.map((k) => {
    const what =
      k.status === 'same'
        ? 'same'
        : k.status === 'changed'
          ? k.current === 0
            ? 'CHANGED (no longer present)'
            : 'CHANGED'
          : k.status === 'unavailable'
            ? 'not readable here (ignored; run as administrator/root to include it)'
            : 'new on this machine (ignored)';
    const counts = k.kind === 'mac' || k.kind === 'mac-local' ? ` [${k.stored} stored, ${k.current} now]` : '';
    const weak = !isStrongKind(k.kind) ? ' (weak: shared by many machines)' : k.kind === 'mac' && r.macWeak ? ' (found only as a software-assigned MAC: weak)' : '';
    return `  ${k.kind.padEnd(15)} weight ${k.weight}  ${what}${counts}${weak}`;
  });
  const sameWeak = r.kinds.filter((k) => k.status === 'same' && (!isStrongKind(k.kind) || (k.kind === 'mac' && r.macWeak))).map((k) => k.kind);
  const unreadableStrong = r.kinds.filter((k) => k.status === 'unavailable' && isStrongKind(k.kind)).map((k) => k.kind);
  const changedText = r.changed.length > 0 ? ` Changed: ${r.changed.join(', ')}.` : '';
  const verdict = r.ok
    ? r.strength === 'weak'
      ? `This machine matches the license, but only on components many machines share (${sameWeak.join(', ')}): the license has no component that singles out one machine, so any machine of the same kind would match too.`
      : r.changed.length === 0
        ? 'This machine matches the license.'
        : `This machine still matches; needed: ${r.label}.${changedText}`
    : r.weakOnly
      ? r.storedStrong
        ? `This machine does not match: only components many machines share are the same (${sameWeak.join(', ')}); none that singles out one machine is.${changedText}${unreadableStrong.length > 0 ? ` ${unreadableStrong.join(', ')} could not be read here: run as administrator/root to compare ${unreadableStrong.length === 1 ? 'it' : 'them'}.` : ' A license reset (new fingerprint) is needed.'}`
        : `This machine does not match: the license rests only on components many machines share, so only an identical fingerprint matches it.${changedText} A license reset (new fingerprint) is needed.`
      : r.kinds.every((k) => k.status === 'new' || k.status === 'unavailable')
        ? 'Nothing in the stored fingerprint can be compared on this machine: a license reset (new fingerprint) is needed.'
        : `This machine does not match; needed: ${r.label}.${changedText} A license reset (new fingerprint) is needed.`;
  // Every hash differing is what a different salt looks like, far more often than new hardware.
  const allDiffer = r.kinds.some((k) => k.status === 'changed') && r.kinds.every((k) => k.status !== 'same');
  const hint = allDiffer ? ['If this is the licensed machine, check the salt: every component differs, as when the two fingerprints were taken with different salts.'] : [];
  return { ok: r.ok, score: r.score, changed: r.changed, unavailable: r.unavailable, strength: r.strength, strategy: r.label, kinds: r.kinds, text: [verdict, ...hint, ...lines].join('\n') };
}
