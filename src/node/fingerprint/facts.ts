/**
 * The raw facts a fingerprint is made of, as one plain object, whichever source read them.
 * Raw serials and MACs live only here, inside the process; {@link Fingerprint} hashes them.
 */
import type { NativeAdapter, NativeCpu, SmbiosInfo } from '../native.js';

/** Raw identity facts of this machine. Never leaves the process unhashed. */
export interface HostFacts {
  /** `"native"` (the addon) or `"fallback"` (pure JavaScript, fewer facts). */
  readonly source: 'native' | 'fallback';
  /** Where SMBIOS came from: `"sysfs-table"`, `"sysfs-dmi-id"`, `"rsmb"`, `"iokit"` or `"none"`. */
  readonly smbiosSource: string;
  readonly smbios: SmbiosInfo | null;
  readonly cpu: NativeCpu;
  readonly adapters: readonly NativeAdapter[];
  readonly machineId: string;
}
