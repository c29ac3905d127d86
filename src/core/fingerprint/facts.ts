/**
 * The raw facts a fingerprint is made of, as one plain object, whichever source read them.
 * Raw serials and MACs live only here, inside the process; {@link Fingerprint} hashes them.
 * Plain data shapes: the Node layer (`src/node/native.ts`, `fallback.ts`) fills them in.
 */

/** One physical network adapter as the addon reports it (raw, before hashing). */
export interface NativeAdapter {
  /** Interface name, e.g. `eth0` or `{GUID}` on Windows. */
  readonly name: string;
  /** Lower-case `aa:bb:cc:dd:ee:ff`: the permanent address when the OS gives it. */
  readonly mac: string;
  /** `"current"` (the device's own address) or `"permanent"` (read back when the user had set another). */
  readonly origin: 'current' | 'permanent';
}

/**
 * Decoded SMBIOS fields as they stand in the table (trailing spaces kept, control bytes shown as
 * `.`). A field is absent when the table does not have it; {@link SmbiosInfo.placeholders} names
 * the present ones whose text is filler ("To Be Filled By O.E.M.", "Default string", "0", ...).
 */
export interface SmbiosInfo {
  /** `"2.8"`, `"3.1.1"` … from the entry point; `"0.0"` when the table came without one. */
  readonly version: string;
  /** Number of structures walked (all types). */
  readonly structures: number;
  /** SMBIOS type 1 (System Information). */
  readonly system: {
    /** System manufacturer string. */
    readonly manufacturer?: string;
    /** Product (model) name. */
    readonly product?: string;
    /** Product version string. */
    readonly version?: string;
    /** System serial number. */
    readonly serial?: string;
    /** Lower-case `8-4-4-4-12`, in the byte order of the table's SMBIOS version. */
    readonly uuid?: string;
  };
  /** SMBIOS type 2 (Baseboard / motherboard). */
  readonly baseboard: {
    /** Board manufacturer string. */
    readonly manufacturer?: string;
    /** Board product name. */
    readonly product?: string;
    /** Board version string. */
    readonly version?: string;
    /** Board serial number. */
    readonly serial?: string;
  };
  /** SMBIOS type 3 (System enclosure / chassis). */
  readonly chassis: {
    /** Chassis manufacturer string. */
    readonly manufacturer?: string;
    /** Chassis version string. */
    readonly version?: string;
    /** Chassis serial number. */
    readonly serial?: string;
    /** Chassis type code (bits 6:0 of offset 05h, e.g. 3 desktop, 10 notebook, 1 other); absent when 0. */
    readonly type?: number;
  };
  /** SMBIOS type 4 (Processor Information), one entry per socket, in table order. */
  readonly processors: ReadonlyArray<{
    /** Socket designation, e.g. `"CPU0"`. */
    readonly socket?: string;
    /** Processor manufacturer string. */
    readonly manufacturer?: string;
    /** Processor version (model) string. */
    readonly version?: string;
    /** Processor ID as dmidecode prints it: `"D4 06 03 00 FF FB EB BF"`. */
    readonly id?: string;
    /** Whether the socket is populated (status bit 6 at offset 18h); `false` when the field is absent. */
    readonly populated: boolean;
  }>;
  /** Dotted paths of fields whose text is a placeholder, e.g. `"baseboard.serial"`, `"processors.0.id"`. */
  readonly placeholders: readonly string[];
}

/** CPU identity from CPUID (x86) or the system's registers elsewhere. */
export interface NativeCpu {
  /** CPUID vendor string, e.g. `"GenuineIntel"`; `"ARM implementer 0x41"` on ARM, `"unknown"` when unreadable. */
  readonly vendor: string;
  /** CPUID leaf 1 EAX as 8 hex digits (family/model/stepping); MIDR on ARM; `""` when unknown. */
  readonly signature: string;
  /** Processor brand / model name, e.g. `"Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz"`; `""` when unknown. */
  readonly brand: string;
  /** CPUID hypervisor-present bit. */
  readonly hypervisor: boolean;
  /** CPUID leaf 0x40000000 vendor, e.g. `"KVMKVMKVM"`; `""` without a hypervisor. */
  readonly hypervisorVendor: string;
}


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
