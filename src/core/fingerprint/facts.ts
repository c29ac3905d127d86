/**
 * The raw facts a fingerprint is made of, as one plain object, whichever source read them.
 * Raw serials and MACs live only here, inside the process; {@link Fingerprint} hashes them.
 * Plain data shapes: the Node layer (`src/node/fingerprint/native.ts`, `fallback.ts`) reads them
 * ({@link RawHostFacts}); the core classifies them ({@link classifyHostFacts}: which interfaces are
 * physical adapters, which SMBIOS strings are filler) into {@link HostFacts}.
 */

/** One physical network adapter, as the rules of `adapters.ts` keep it (raw, before hashing). */
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
 * `.`), as the addon's parser reports them. A field is absent when the table does not have it.
 */
export interface SmbiosFacts {
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
}

/**
 * {@link SmbiosFacts} with the filler named: {@link SmbiosInfo.placeholders} lists the present fields
 * whose text identifies nothing ("To Be Filled By O.E.M.", "Default string", "0", an all-zero
 * UUID, ...), as `classifySmbios` (`placeholders.ts`) finds them.
 */
export interface SmbiosInfo extends SmbiosFacts {
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

/**
 * One entry of Linux `/sys/class/net/<name>/`: what sysfs shows, nothing judged. Text facts are
 * the first line of their file, `""` when it is missing or unreadable.
 */
export interface LinuxInterfaceFacts {
  /** Tag of the Linux shape. */
  readonly os: 'linux';
  /** Interface name, e.g. `eth0`. */
  readonly name: string;
  /** A `device` entry exists (a PCI, USB, virtio ... device backs the interface). */
  readonly hasDevice: boolean;
  /** ARPHRD type from `type`: `"1"` for Ethernet and Wi-Fi. */
  readonly type: string;
  /** A `bridge` entry exists. */
  readonly bridge: boolean;
  /** A `bonding` entry exists. */
  readonly bonding: boolean;
  /** A `tun_flags` entry exists (tun or tap). */
  readonly tunFlags: boolean;
  /** A `device/physfn` entry exists (an SR-IOV virtual function). */
  readonly physfn: boolean;
  /** `DEVTYPE=` of `uevent` (`"wlan"`, `"vlan"`, `"bridge"`, ...), `null` when it has none. */
  readonly devtype: string | null;
  /** Basename of the `device/driver` link (`"e1000e"`, `"virtio_net"`), `""` when none. */
  readonly driver: string;
  /** `ifalias`, the administrator's description. */
  readonly ifalias: string;
  /** `addr_assign_type`: `"0"` permanent, `"1"` random, `"2"` stolen, `"3"` set by the user. */
  readonly addrAssignType: string;
  /** `address`, the current link-layer address as text. */
  readonly address: string;
  /** The permanent address from the ethtool ioctl (the addon only), `""` when unknown. */
  readonly permanentAddress: string;
}

/** One adapter of Windows `GetAdaptersAddresses`, with what `GetIfEntry2` adds. */
export interface WindowsInterfaceFacts {
  /** Tag of the Windows shape. */
  readonly os: 'win32';
  /** `AdapterName`, the `{GUID}` (stable across renames). */
  readonly name: string;
  /** `Description`, e.g. `"Intel(R) Ethernet Connection I219-LM"`. */
  readonly description: string;
  /** `FriendlyName`, e.g. `"Ethernet 2"`. */
  readonly friendlyName: string;
  /** `IfType`: 6 Ethernet, 71 IEEE 802.11, 24 loopback, ... */
  readonly ifType: number;
  /** `PhysicalAddress` as `aa:bb:...` (as many bytes as it has), `""` when none. */
  readonly address: string;
  /** Whether `GetIfEntry2` answered; the next three facts are from it. */
  readonly ifEntry: boolean;
  /** `InterfaceAndOperStatusFlags.HardwareInterface`. */
  readonly hardwareInterface: boolean;
  /** `InterfaceAndOperStatusFlags.FilterInterface` (a filter driver over another adapter). */
  readonly filterInterface: boolean;
  /** `PermanentPhysicalAddress` as `aa:bb:...`, `""` when none. */
  readonly permanentAddress: string;
}

/** One `AF_LINK` entry of macOS `getifaddrs`. */
export interface MacInterfaceFacts {
  /** Tag of the macOS shape. */
  readonly os: 'darwin';
  /** Interface name, e.g. `en0`. */
  readonly name: string;
  /** `sdl_type` is `IFT_ETHER`. */
  readonly ether: boolean;
  /** Link-layer address as `aa:bb:...`, `""` when none. */
  readonly address: string;
}

/**
 * One entry of Node's `os.networkInterfaces()`: all the JavaScript fallback knows off Linux (its
 * first non-internal address's MAC).
 */
export interface OtherInterfaceFacts {
  /** Tag of the `os.networkInterfaces()` shape. */
  readonly os: 'other';
  /** Interface name. */
  readonly name: string;
  /** The MAC Node reports. */
  readonly address: string;
}

/** The facts of one network interface, tagged by where they come from. */
export type InterfaceFacts = LinuxInterfaceFacts | WindowsInterfaceFacts | MacInterfaceFacts | OtherInterfaceFacts;

/**
 * What a reader (the addon or the JavaScript fallback) reports, before the core's rules: raw SMBIOS
 * strings and every network interface.
 */
export interface RawHostFacts {
  /** `"native"` (the addon) or `"fallback"` (pure JavaScript, fewer facts). */
  readonly source: 'native' | 'fallback';
  /** Where SMBIOS came from: `"sysfs-table"`, `"sysfs-dmi-id"`, `"rsmb"`, `"iokit"` or `"none"`. */
  readonly smbiosSource: string;
  /** Decoded SMBIOS strings, or `null` when none was readable. */
  readonly smbios: SmbiosFacts | null;
  /** CPU identity (vendor, signature, brand, hypervisor). */
  readonly cpu: NativeCpu;
  /** Every network interface with its facts. */
  readonly interfaces: readonly InterfaceFacts[];
  /** `/etc/machine-id`, Windows MachineGuid or macOS IOPlatformUUID; `""` when unavailable. */
  readonly machineId: string;
}

/** Raw identity facts of this machine, classified. Never leaves the process unhashed. */
export interface HostFacts {
  /** `"native"` (the addon) or `"fallback"` (pure JavaScript, fewer facts). */
  readonly source: 'native' | 'fallback';
  /** Where SMBIOS came from: `"sysfs-table"`, `"sysfs-dmi-id"`, `"rsmb"`, `"iokit"` or `"none"`. */
  readonly smbiosSource: string;
  /** Decoded SMBIOS table with its placeholders named, or `null` when none was readable (always `null` from some fallbacks). */
  readonly smbios: SmbiosInfo | null;
  /** CPU identity (vendor, signature, brand, hypervisor). */
  readonly cpu: NativeCpu;
  /** Physical network adapters with their raw MACs (the interfaces the rules of `adapters.ts` keep). */
  readonly adapters: readonly NativeAdapter[];
  /** `/etc/machine-id`, Windows MachineGuid or macOS IOPlatformUUID; `""` when unavailable. */
  readonly machineId: string;
}
