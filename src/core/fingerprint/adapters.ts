/**
 * Which network interfaces are physical adapters: the one place these rules live. The addon and
 * the JavaScript fallback only report facts ({@link InterfaceFacts}); every judgement, for every
 * OS, is made here. The first failing rule is the reason an interface is left out, in the order
 * docs/fingerprint.md lists them.
 */
import type { InterfaceFacts, LinuxInterfaceFacts, MacInterfaceFacts, NativeAdapter, OtherInterfaceFacts, WindowsInterfaceFacts } from './facts.js';
import { canonicalMac, descriptionLooksVirtual, isLocallyAdministered, nameLooksVirtual } from './rules.js';

/** Why an interface is not a physical adapter, as `licit fingerprint --adapters` prints it. */
export type AdapterRejection =
  | 'loopback'
  | 'no-device'
  | 'not-ethernet'
  | 'bridge'
  | 'bond'
  | 'tun-tap'
  | 'sriov-vf'
  | 'virtual-devtype'
  | 'virtual-name'
  | 'virtual-driver'
  | 'no-usable-address'
  | 'random-address'
  | 'stolen-address'
  | 'user-set-address'
  | 'unknown-address-type';

/** The verdict on one interface: kept as an adapter, or left out with the first rule that excluded it. */
export type AdapterJudgement = { readonly adapter: NativeAdapter } | { readonly reason: AdapterRejection };

/** Physical adapters, and each interface left out with the first rule that excluded it. */
export interface AdapterReport {
  /** Adapters kept as physical, with their MAC. */
  readonly adapters: NativeAdapter[];
  /** Interfaces left out, each with the first rule that excluded it. */
  readonly rejected: Array<{
    /** Interface name, e.g. `docker0`. */
    readonly name: string;
    /** Short rule name, e.g. `"no-device"`, `"bridge"`, `"virtual-name"`. */
    readonly reason: string;
  }>;
}

const keep = (name: string, mac: string, origin: 'current' | 'permanent'): AdapterJudgement => ({ adapter: { name, mac, origin } });
const no = (reason: AdapterRejection): AdapterJudgement => ({ reason });

/** Number of bytes in `aa:bb:...` text; 0 for `""`. */
const byteCount = (hex: string) => (hex === '' ? 0 : hex.split(':').length);

/**
 * Linux, from sysfs facts. Physical means backed by a device (PCI, USB, virtio, ...): veth,
 * bridges, tun/tap, vxlan, ifb, dummy, bonds, VLANs and WireGuard have none.
 */
export function judgeLinuxInterface(f: LinuxInterfaceFacts): AdapterJudgement {
  if (f.name === 'lo') return no('loopback');
  if (!f.hasDevice) return no('no-device');
  if (f.type !== '1') return no('not-ethernet'); // ARPHRD_ETHER (Ethernet and Wi-Fi)
  if (f.bridge) return no('bridge');
  if (f.bonding) return no('bond');
  if (f.tunFlags) return no('tun-tap');
  if (f.physfn) return no('sriov-vf');
  if (f.devtype !== null && f.devtype !== 'wlan') return no('virtual-devtype'); // vlan, bridge, bond, wireguard, macvlan, dsa, ...
  if (nameLooksVirtual(f.name)) return no('virtual-name');
  if (descriptionLooksVirtual(f.driver) || descriptionLooksVirtual(f.ifalias)) return no('virtual-driver');
  const assign = f.addrAssignType;
  if (assign === '0' || assign === '') {
    // NET_ADDR_PERM: the device's own address, locally administered ones included.
    const mac = canonicalMac(f.address);
    return mac === undefined ? no('no-usable-address') : keep(f.name, mac, 'current');
  }
  if (assign === '1') return no('random-address'); // NET_ADDR_RANDOM
  if (assign === '2') return no('stolen-address'); // NET_ADDR_STOLEN: another device's address
  if (assign === '3') {
    // NET_ADDR_SET by the user: the burned-in one if known (the addon's ethtool ioctl; the fallback has none).
    const mac = canonicalMac(f.permanentAddress);
    return mac === undefined ? no('user-set-address') : keep(f.name, mac, 'permanent');
  }
  return no('unknown-address-type');
}

/** Windows, from `GetAdaptersAddresses` and `GetIfEntry2` facts. */
export function judgeWindowsInterface(f: WindowsInterfaceFacts): AdapterJudgement {
  if (f.ifType !== 6 && f.ifType !== 71) return no('not-ethernet'); // IF_TYPE_ETHERNET_CSMACD, IF_TYPE_IEEE80211
  if (byteCount(f.address) !== 6) return no('no-usable-address');
  if (descriptionLooksVirtual(f.description) || descriptionLooksVirtual(f.friendlyName)) return no('virtual-driver');
  let mac: string | undefined;
  let origin: 'current' | 'permanent' = 'current';
  if (f.ifEntry) {
    // Only NDIS miniports backed by hardware; filter drivers (LWFs) are the same NIC again.
    if (!f.hardwareInterface || f.filterInterface) return no('no-device');
    mac = canonicalMac(f.permanentAddress);
    if (mac !== undefined) origin = 'permanent';
  }
  mac ??= canonicalMac(f.address);
  if (mac === undefined) return no('no-usable-address');
  // Windows gives no assignment type: a locally administered current address may be the "random
  // hardware address" privacy feature, so only a permanent one counts then.
  if (origin === 'current' && isLocallyAdministered(mac)) return no('random-address');
  return keep(f.name, mac, origin);
}

/**
 * macOS, from a `getifaddrs` `AF_LINK` entry; `undefined` for entries that are not Ethernet-type
 * with a 6-byte address (not adapters at all, so not listed as left out either).
 */
export function judgeMacInterface(f: MacInterfaceFacts): AdapterJudgement | undefined {
  if (!f.ether || byteCount(f.address) !== 6) return undefined;
  if (nameLooksVirtual(f.name)) return no('virtual-name'); // bridge, utun, awdl, llw, anpi, vmenet, feth, ...
  const mac = canonicalMac(f.address);
  // Private Wi-Fi addresses are locally administered; hardware addresses are not.
  if (mac === undefined) return no('no-usable-address');
  if (isLocallyAdministered(mac)) return no('random-address');
  return keep(f.name, mac, 'current');
}

/** The JavaScript fallback off Linux: a name and the MAC `os.networkInterfaces()` gives. */
export function judgeOtherInterface(f: OtherInterfaceFacts): AdapterJudgement {
  const mac = canonicalMac(f.address);
  if (mac === undefined) return no('no-usable-address');
  if (nameLooksVirtual(f.name)) return no('virtual-name');
  // Windows and macOS give adapters random, locally administered addresses for privacy; they change.
  if (isLocallyAdministered(mac)) return no('random-address');
  return keep(f.name, mac, 'current');
}

/** The verdict on one interface of any OS; `undefined` for a macOS link entry that is no adapter. */
export function judgeInterface(f: InterfaceFacts): AdapterJudgement | undefined {
  switch (f.os) {
    case 'linux':
      return judgeLinuxInterface(f);
    case 'win32':
      return judgeWindowsInterface(f);
    case 'darwin':
      return judgeMacInterface(f);
    case 'other':
      return judgeOtherInterface(f);
  }
}

/**
 * Judge every interface: the adapters kept (in the order given) and the rest with their reasons.
 * An adapter of `os.networkInterfaces()` whose MAC was already kept is not listed again.
 */
export function judgeInterfaces(interfaces: readonly InterfaceFacts[]): AdapterReport {
  const report: AdapterReport = { adapters: [], rejected: [] };
  for (const f of interfaces) {
    const j = judgeInterface(f);
    if (j === undefined) continue;
    if ('reason' in j) report.rejected.push({ name: f.name, reason: j.reason });
    else if (f.os !== 'other' || !report.adapters.some((a) => a.mac === j.adapter.mac)) report.adapters.push(j.adapter);
  }
  return report;
}
