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
  /** Decoded SMBIOS table, or `null` when none was readable (always `null` from some fallbacks). */
  readonly smbios: SmbiosInfo | null;
  /** CPU identity (vendor, signature, brand, hypervisor). */
  readonly cpu: NativeCpu;
  /** Physical network adapters with their raw MACs. */
  readonly adapters: readonly NativeAdapter[];
  /** `/etc/machine-id`, Windows MachineGuid or macOS IOPlatformUUID; `""` when unavailable. */
  readonly machineId: string;
}
