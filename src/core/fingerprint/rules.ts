/**
 * The word lists and small tests behind the fingerprint's rules: which names and descriptions are
 * virtual adapters, what a usable MAC is, which SMBIOS text is filler. Only TypeScript has them:
 * the addon reports facts and `adapters.ts` / `placeholders.ts` judge them with these. Documented
 * in docs/fingerprint.md.
 */

/** Interface-name prefixes of virtual adapters (Linux, macOS and BSD naming). */
export const VIRTUAL_NAME_PREFIXES: readonly string[] = [
  'docker', 'br-', 'veth', 'virbr', 'vnet', 'vmnet', 'vboxnet', 'podman', 'cni', 'flannel',
  'cali', 'weave', 'cilium', 'kube', 'lxc', 'lxd', 'tun', 'tap', 'wg', 'zt',
  'tailscale', 'utun', 'awdl', 'llw', 'anpi', 'bridge', 'bond', 'dummy', 'ifb', 'vxlan',
  'gre', 'erspan', 'ip6', 'sit', 'ipip', 'macvtap', 'macvlan', 'ipvlan', 'nlmon', 'vcan',
  'vrf', 'team', 'genev', 'ppp', 'slip', 'usb', 'rndis', 'feth', 'vmenet', 'gif',
  'stf', 'ham', 'nordlynx', 'vpn', 'ztun', 'ovs', 'qvb', 'qvo', 'qbr', 'tapvm',
];

/** Substrings of adapter descriptions (Windows) or driver names (Linux) of virtual adapters. */
export const VIRTUAL_DESCRIPTION_WORDS: readonly string[] = [
  'virtual', 'vmnet', 'virtualbox', 'hyper-v virtual', 'vpn', 'tap-windows', 'wintun', 'wireguard',
  'tunnel', 'loopback', 'pseudo', 'miniport', 'bluetooth', 'kernel debug', 'teredo', 'isatap',
  'npcap', 'zerotier', 'tailscale', 'docker', 'vethernet', 'hamachi', 'openvpn', 'fortinet',
  'anyconnect', 'juniper', 'pangp', 'globalprotect', 'remote ndis', 'mobile device', 'veth', 'vxlan',
  'bridge', 'bonding', 'dummy', 'ifb', 'macvlan', 'ipvlan', 'tun', 'vboxnet',
];

/** True when an interface name marks a virtual adapter (`docker0`, `veth12ab`, `utun3`, ...). */
export function nameLooksVirtual(name: string): boolean {
  const n = name.toLowerCase();
  return VIRTUAL_NAME_PREFIXES.some((p) => n.startsWith(p));
}

/** True when a description or driver name marks a virtual adapter. */
export function descriptionLooksVirtual(description: string): boolean {
  const d = description.toLowerCase();
  return VIRTUAL_DESCRIPTION_WORDS.some((w) => d.includes(w));
}

/** Canonical `aa:bb:cc:dd:ee:ff`, or `undefined` for malformed, all-zero or multicast addresses. */
export function canonicalMac(text: string): string | undefined {
  const m = /^\s*([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})\s*$/i.exec(text);
  if (m === null) return undefined;
  const bytes = m.slice(1, 7).map((h) => parseInt(h, 16));
  if (bytes.every((b) => b === 0) || (bytes[0]! & 1) === 1) return undefined;
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** True for a locally administered address (second-lowest bit of the first octet). */
export function isLocallyAdministered(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 2) === 2;
}

/**
 * OUIs (first three octets) that virtualisation vendors assign their guests' adapters from. A MAC
 * in one is set by the hypervisor's configuration (one line of a .vmx or a libvirt domain), not
 * burnt into hardware, so whoever runs the hypervisor can give a second guest the same one.
 * QEMU/KVM's `52:54:00` and Firecracker's `02:fc:…`/`06:…` are locally administered anyway.
 */
export const HYPERVISOR_OUIS: readonly string[] = [
  '00:05:69', '00:0c:29', '00:1c:14', '00:50:56', // VMware
  '00:15:5d', // Microsoft Hyper-V
  '00:03:ff', // Microsoft Virtual PC / Virtual Server
  '00:16:3e', // Xen
  '08:00:27', // VirtualBox
  '00:1c:42', // Parallels
  '00:1a:4a', // Qumranet: KVM under oVirt / Red Hat Virtualization
  '00:21:f6', // Virtual Iron / Oracle VM
  '00:18:51', // SWsoft: Virtuozzo / OpenVZ
  '58:9c:fc', // FreeBSD Foundation: bhyve
];

/**
 * True for a MAC that software assigns and other machines may share: locally administered, in a
 * hypervisor's OUI, or not readable as a unicast MAC at all. Such an address makes a `mac-local`
 * (`ml`) component, which never decides a match by itself.
 */
export function isSharedMac(mac: string): boolean {
  const m = canonicalMac(mac);
  if (m === undefined) return true;
  return isLocallyAdministered(m) || HYPERVISOR_OUIS.includes(m.slice(0, 8));
}

/** Known placeholder texts, compared whole, lower-case, without surrounding dots and blanks. */
const FILLER = new Set([
  'to be filled by o.e.m', 'to be filled by oem', 'to be filled', 'fill by oem', 'filled by oem', 'default string',
  'default', '$(default_string)', 'not specified', 'not applicable', 'not available', 'not present',
  'not settable', 'not defined', 'undefined', 'none', 'n/a', 'na', 'unknown', 'invalid', 'empty',
  'oem', 'o.e.m', 'oem_default', 'system serial number', 'system product name', 'system version',
  'system manufacturer', 'system name', 'base board serial number', 'base board product name', 'base board version',
  'board serial number', 'chassis serial number', 'chassis version', 'chassis manufacturer', 'chassis manufacture',
  'type1productconfigid', 'type2 - board serial number', 'type2 - board product name', 'type2 - board version',
  'serial number', 'serialnumber', 'product name', 'manufacturer', 'version', 'bsn12345678901234567',
  'mb-1234567890', 'x.x', 'xx.xx', 'sku', 'default-string', 'no asset information', 'asset tag',
]);

/** True for firmware filler that identifies nothing ("To Be Filled By O.E.M.", "0", "0123456789", ...). */
export function isPlaceholder(raw: string): boolean {
  // Control characters read as '.', as the addon's table decoder shows them (sysfs text is not
  // cleaned); only ASCII letters fold case; only an ASCII character repeated counts.
  const s = raw
    .replace(/[\x00-\x1f\x7f]/g, '.')
    .replace(/^[ .]+|[ .]+$/g, '')
    .replace(/[A-Z]/g, (c) => c.toLowerCase());
  if (s === '') return true;
  if (s.charCodeAt(0) < 0x80 && [...s].every((c) => c === s[0])) return true;
  if (s.length >= 5 && (s[0] === '0' || s[0] === '1')) {
    let counting = true;
    for (let i = 1; i < s.length && counting; i++) counting = s.charCodeAt(i) === s.charCodeAt(i - 1) + 1;
    if (counting) return true;
  }
  return FILLER.has(s);
}
