/**
 * A machine fingerprint: named components, each an HMAC of one hardware fact under a
 * per-application salt, and a stable string form to put in a license (`--fingerprint`).
 *
 * String form (docs/fingerprint.md): `fp1:` then comma-separated `code=hash` entries in a fixed
 * order, where `code` names the kind (`su` system-uuid, `ss` system-serial, `bs` board-serial,
 * `bd` board, `cs` chassis-serial, `cp` cpu, `mi` machine-id, `mc` mac, `ml` mac-local; `mc` and
 * `ml` may repeat) and `hash` is 16 base64url characters (the first 96 bits of HMAC-SHA-256).
 */
import { base64urlEncode } from '../codec/base64.js';
import { LicenseError } from '../errors.js';
import type { HostFacts } from './facts.js';
import { hmacSha256 } from './hmac.js';
import { isSharedMac } from './rules.js';

/**
 * What a component identifies. `"mac"` is a globally unique (vendor-assigned) MAC address;
 * `"mac-local"` one that software assigns, which other machines may share: locally administered
 * (bit 0x02 of the first octet, e.g. a microVM's `02:fc:00:00:00:01`) or in a hypervisor's block.
 */
export type ComponentKind = 'system-uuid' | 'system-serial' | 'board-serial' | 'board' | 'chassis-serial' | 'cpu' | 'mac' | 'mac-local' | 'machine-id';

/** Every kind, in the order of the string form. */
export const COMPONENT_KINDS: readonly ComponentKind[] = ['system-uuid', 'system-serial', 'board-serial', 'board', 'chassis-serial', 'cpu', 'machine-id', 'mac', 'mac-local'];

/** Kinds that may appear more than once (one per network adapter). */
const REPEATABLE: ReadonlySet<ComponentKind> = new Set<ComponentKind>(['mac', 'mac-local']);

const CODES: Record<ComponentKind, string> = {
  'system-uuid': 'su',
  'system-serial': 'ss',
  'board-serial': 'bs',
  board: 'bd',
  'chassis-serial': 'cs',
  cpu: 'cp',
  'machine-id': 'mi',
  mac: 'mc',
  'mac-local': 'ml',
};
const KIND_OF_CODE = new Map(Object.entries(CODES).map(([k, c]) => [c, k as ComponentKind]));

/** One hashed component. */
export interface FingerprintComponent {
  /** What this component identifies (its code in the string form, e.g. `mc` for `"mac"`, `ml` for `"mac-local"`). */
  readonly kind: ComponentKind;
  /** Which one: the interface name for a MAC, else the kind. Not part of the string form. */
  readonly name: string;
  /** 16 base64url characters: the salted hash of the fact. */
  readonly value: string;
}

/**
 * How the facts were obtained: `"native"` (the addon), `"fallback"` (JavaScript), `"supplied"`
 * (an operator-supplied machine id), or `"parsed"` (read back from its string).
 */
export type FingerprintSource = 'native' | 'fallback' | 'supplied' | 'parsed';

const PREFIX = 'fp1:';
const HASH_RE = /^[A-Za-z0-9_-]{16}$/;
const MAX_TEXT = 4096;
const MAX_MACS = 32;

/** Same fact, same text: case, surrounding and repeated blanks never change a hash. */
function normalise(value: string): string {
  return value.trim().replace(/\s+/g, ' ').toUpperCase();
}

/**
 * HMAC-SHA-256 keyed by the salt, over a domain tag, the kind and the value; first 96 bits.
 * A `"mac-local"` value hashes as a `"mac"`: one MAC has one hash whichever code it is filed
 * under, so a string written before `ml` existed (every MAC under `mc`) still finds its adapter.
 */
export function hashComponent(salt: string, kind: ComponentKind, value: string): string {
  const domain = kind === 'mac-local' ? 'mac' : kind;
  return base64urlEncode(hmacSha256(salt, `licit-fp1\0${domain}\0${normalise(value)}`).subarray(0, 12));
}

/** The canonical order of the string form: by kind as in {@link COMPONENT_KINDS}, then by hash. */
function order(a: FingerprintComponent, b: FingerprintComponent): number {
  const k = COMPONENT_KINDS.indexOf(a.kind) - COMPONENT_KINDS.indexOf(b.kind);
  return k !== 0 ? k : a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

const ORDER_TEXT = `entries must be in the order ${COMPONENT_KINDS.map((k) => CODES[k]).join(' ')}, MACs sorted by hash`;

/** Options for {@link Fingerprint.fromFacts}. */
export interface FromFactsOptions {
  /** Per-application salt; fingerprints under different salts cannot be linked. */
  readonly salt: string;
  /** Record that the machine looks like a virtual machine; default `false`. */
  readonly virtual?: boolean;
  /** Record that the process looks containerised; default `false`. */
  readonly container?: boolean;
}

/**
 * A fingerprint: sorted components plus what is known about the environment. Immutable.
 *
 * @example
 * ```ts
 * const fp = await getFingerprint({ salt: 'com.example.app' });
 * issue({ fingerprint: fp.toString() });           // vendor side
 * const again = Fingerprint.parse(license.fingerprint!);
 * ```
 */
export class Fingerprint {
  /** Components in string-form order. */
  readonly components: readonly FingerprintComponent[];
  /** How the facts were obtained (`"parsed"` for a fingerprint read back from its string). */
  readonly source: FingerprintSource;
  /** The machine looks like a virtual machine (false for parsed fingerprints: unknown). */
  readonly virtual: boolean;
  /** The process looks containerised (false for parsed fingerprints: unknown). */
  readonly container: boolean;
  /**
   * Kinds this process could not read (e.g. SMBIOS serials without root on Linux). A stored
   * component of such a kind is neither matched nor changed.
   */
  readonly unavailable: readonly ComponentKind[];

  /** Use {@link Fingerprint.fromFacts} or {@link Fingerprint.parse}. */
  constructor(
    components: readonly FingerprintComponent[],
    source: FingerprintSource,
    env: {
      /** See {@link Fingerprint.virtual}; default `false`. */
      virtual?: boolean;
      /** See {@link Fingerprint.container}; default `false`. */
      container?: boolean;
      /** See {@link Fingerprint.unavailable}; default none. */
      unavailable?: readonly ComponentKind[];
    } = {},
  ) {
    for (const c of components) {
      if (!(c.kind in CODES) || !HASH_RE.test(c.value)) {
        throw new LicenseError('ERR_FINGERPRINT_MALFORMED', `a fingerprint component must be a known kind with a 16-character hash, got ${String(c.kind)}=${String(c.value).slice(0, 20)}`);
      }
    }
    const sorted = [...components].sort(order);
    // The same rules as the string form, so that toString() always gives a string parse() accepts.
    sorted.forEach((c, i) => {
      const prev = sorted[i - 1];
      if (prev !== undefined && prev.kind === c.kind && (!REPEATABLE.has(c.kind) || prev.value === c.value)) {
        throw new LicenseError('ERR_FINGERPRINT_MALFORMED', `a fingerprint has at most one ${c.kind} component${REPEATABLE.has(c.kind) ? ' per hash' : ''}`);
      }
    });
    if (sorted.filter((c) => REPEATABLE.has(c.kind)).length > MAX_MACS) throw new LicenseError('ERR_FINGERPRINT_MALFORMED', `a fingerprint has at most ${MAX_MACS} MAC components`);
    this.components = Object.freeze(sorted);
    this.source = source;
    this.virtual = env.virtual ?? false;
    this.container = env.container ?? false;
    this.unavailable = Object.freeze([...(env.unavailable ?? [])]);
    Object.freeze(this);
  }

  /** Hash the raw facts into components. Placeholder and absent facts make no component. */
  static fromFacts(facts: HostFacts, opts: FromFactsOptions): Fingerprint {
    if (typeof opts.salt !== 'string' || opts.salt === '') {
      throw new LicenseError('ERR_USAGE', 'a fingerprint needs a non-empty salt: use a fixed string unique to your application, e.g. its bundle id');
    }
    const out: FingerprintComponent[] = [];
    const add = (kind: ComponentKind, name: string, value: string | undefined) => {
      if (value !== undefined && value.trim() !== '') out.push({ kind, name, value: hashComponent(opts.salt, kind, value) });
    };
    const s = facts.smbios;
    const ph = new Set(s?.placeholders ?? []);
    const usable = (path: string, v: string | undefined) => (v === undefined || ph.has(path) ? undefined : v);
    if (s !== null) {
      add('system-uuid', 'system-uuid', usable('system.uuid', s.system.uuid));
      add('system-serial', 'system-serial', usable('system.serial', s.system.serial));
      add('board-serial', 'board-serial', usable('baseboard.serial', s.baseboard.serial));
      const maker = usable('baseboard.manufacturer', s.baseboard.manufacturer);
      const product = usable('baseboard.product', s.baseboard.product);
      if (maker !== undefined || product !== undefined) add('board', 'board', `${maker ?? ''}|${product ?? ''}`);
      add('chassis-serial', 'chassis-serial', usable('chassis.serial', s.chassis.serial));
    }
    if (facts.cpu.signature !== '') add('cpu', 'cpu', `${facts.cpu.vendor} ${facts.cpu.signature}`);
    add('machine-id', 'machine-id', facts.machineId === '' ? undefined : facts.machineId);
    const seen = new Set<string>();
    for (const a of [...facts.adapters].sort((x, y) => (x.name < y.name ? -1 : 1))) {
      if (seen.has(a.mac) || seen.size >= MAX_MACS) continue;
      seen.add(a.mac);
      // Classified here, once, for the addon and the fallback alike: a MAC software assigns is
      // kept (it is this VM's adapter) but under its own code, so it never passes for hardware.
      add(isSharedMac(a.mac) ? 'mac-local' : 'mac', a.name, a.mac);
    }
    // Without root, Linux shows SMBIOS names but not serials or the UUID: unknown, not absent.
    const unavailable: ComponentKind[] = facts.smbiosSource === 'sysfs-dmi-id' ? ['system-uuid', 'system-serial', 'board-serial', 'chassis-serial'].filter((k) => !out.some((c) => c.kind === k)) as ComponentKind[] : [];
    return new Fingerprint(out, facts.source, { virtual: opts.virtual ?? false, container: opts.container ?? false, unavailable });
  }

  /**
   * Read a fingerprint string (as stored in a license). Whitespace is ignored. Throws
   * `LicenseError('ERR_FINGERPRINT_MALFORMED')` for anything else than the documented form,
   * including entries out of the canonical order (the order {@link Fingerprint.toString} writes).
   *
   * @example
   * ```ts
   * const stored = Fingerprint.parse(license.fingerprint); // e.g. 'fp1:cp=…,mi=…,mc=…'
   * ```
   */
  static parse(text: string): Fingerprint {
    const bad = (why: string): never => {
      throw new LicenseError('ERR_FINGERPRINT_MALFORMED', `the stored fingerprint is not valid (${why}); copy it again from \`licit fingerprint\` output`, { reason: why });
    };
    if (typeof text !== 'string') return bad('not a string');
    if (text.length > MAX_TEXT * 2) return bad('too long');
    const t = text.replace(/\s+/g, '');
    if (t.length > MAX_TEXT) return bad('too long');
    if (!t.startsWith(PREFIX)) return bad(`it must start with "${PREFIX}"`);
    const body = t.slice(PREFIX.length);
    if (body === '') return bad('it has no components');
    const components: FingerprintComponent[] = [];
    for (const entry of body.split(',')) {
      const eq = entry.indexOf('=');
      const kind = KIND_OF_CODE.get(eq < 0 ? entry : entry.slice(0, eq));
      const value = entry.slice(eq + 1);
      if (eq < 0 || kind === undefined) return bad(`unknown component "${entry.slice(0, 8)}"`);
      if (!HASH_RE.test(value)) return bad(`component ${kind} has a malformed hash`);
      if (!REPEATABLE.has(kind) && components.some((c) => c.kind === kind)) return bad(`component ${kind} appears twice`);
      if (components.some((c) => c.kind === kind && c.value === value)) return bad(`component ${kind} repeats a value`);
      const prev = components[components.length - 1];
      // One canonical string per fingerprint: a reordered copy is not silently accepted as the same.
      if (prev !== undefined && order(prev, { kind, name: kind, value }) > 0) return bad(`${ORDER_TEXT}; ${CODES[kind]}=${value} comes after ${CODES[prev.kind]}=${prev.value}`);
      components.push({ kind, name: kind, value });
    }
    if (components.filter((c) => REPEATABLE.has(c.kind)).length > MAX_MACS) return bad('too many MAC components');
    return new Fingerprint(components, 'parsed');
  }

  /** The stable string form: `fp1:code=hash,...` in a fixed order. Same facts and salt, same string. */
  toString(): string {
    return PREFIX + this.components.map((c) => `${CODES[c.kind]}=${c.value}`).join(',');
  }

  /** The components of one kind. */
  of(kind: ComponentKind): FingerprintComponent[] {
    return this.components.filter((c) => c.kind === kind);
  }

  /** JSON view, as `licit fingerprint --json` prints it. */
  toJSON(): {
    /** As {@link Fingerprint.source}. */
    source: FingerprintSource;
    /** As {@link Fingerprint.virtual}. */
    virtual: boolean;
    /** As {@link Fingerprint.container}. */
    container: boolean;
    /** The string form, as {@link Fingerprint.toString} returns it. */
    fingerprint: string;
    /** Copies of the components, in string-form order. */
    components: FingerprintComponent[];
  } {
    return { source: this.source, virtual: this.virtual, container: this.container, fingerprint: this.toString(), components: this.components.map((c) => ({ ...c })) };
  }
}
