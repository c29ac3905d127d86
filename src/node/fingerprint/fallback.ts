/**
 * The pure JavaScript reader used when the addon is missing (`source: "fallback"`). It reads what
 * the OS exposes to files: on Linux the same sysfs facts as the addon, field for field (so both
 * sources give the same components where they can), elsewhere only `os.networkInterfaces()` and
 * the CPU model. What it cannot do: CPUID (the CPU signature is rebuilt from /proc/cpuinfo), the
 * permanent MAC (an ethtool ioctl; adapters whose address the user changed are then left out),
 * Windows/macOS serials. Like the addon it reports facts only: `classifyHostFacts`
 * (`src/core/fingerprint/`) judges both readers' facts with the same rules.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { cpus, networkInterfaces } from 'node:os';
import type { LinuxInterfaceFacts, NativeAdapter, NativeCpu, OtherInterfaceFacts, RawHostFacts, SmbiosFacts } from '../../core/fingerprint/facts.js';
import { judgeInterfaces, type AdapterReport } from '../../core/fingerprint/adapters.js';

export type { AdapterReport } from '../../core/fingerprint/adapters.js';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

const line = (path: string) => read(path)?.split('\n', 1)[0];

/** The entry exists, without following a final link (sysfs links may dangle), as the addon checks. */
function exists(path: string): boolean {
  if (existsSync(path)) return true;
  try {
    readlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The facts of interface `name` under `root`, the same fields the addon reads (no ioctl: no permanent address). */
function linuxInterface(root: string, name: string): LinuxInterfaceFacts {
  const base = `${root}/${name}/`;
  let driver = '';
  try {
    driver = readlinkSync(base + 'device/driver').split('/').pop() ?? '';
  } catch {
    // no driver bound
  }
  const devtype = (read(base + 'uevent') ?? '').split('\n').find((l) => l.startsWith('DEVTYPE='));
  return {
    os: 'linux',
    name,
    hasDevice: exists(base + 'device'),
    type: line(base + 'type') ?? '',
    bridge: exists(base + 'bridge'),
    bonding: exists(base + 'bonding'),
    tunFlags: exists(base + 'tun_flags'),
    physfn: exists(base + 'device/physfn'),
    devtype: devtype === undefined ? null : devtype.slice('DEVTYPE='.length),
    driver,
    ifalias: line(base + 'ifalias') ?? '',
    addrAssignType: line(base + 'addr_assign_type') ?? '',
    address: line(base + 'address') ?? '',
    permanentAddress: '',
  };
}

/** The facts of every interface of a Linux sysfs net directory, by name. */
export function linuxInterfaces(root = '/sys/class/net'): LinuxInterfaceFacts[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  return names.sort().map((name) => linuxInterface(root, name));
}

/** Every interface of a Linux sysfs net directory, judged by the core's rules (`judgeLinuxInterface`). */
export function linuxAdapterReport(root = '/sys/class/net'): AdapterReport {
  return judgeInterfaces(linuxInterfaces(root));
}

/** Physical adapters from a Linux sysfs net directory. */
export function linuxAdapters(root = '/sys/class/net'): NativeAdapter[] {
  return linuxAdapterReport(root).adapters;
}

/** CPUID leaf-1 EAX rebuilt from /proc/cpuinfo's family/model/stepping (processor type 0). */
export function signatureFromCpuinfo(family: number, model: number, stepping: number): string {
  const baseFamily = family >= 15 ? 15 : family;
  const extFamily = family >= 15 ? family - 15 : 0;
  const extModel = family === 6 || family >= 15 ? model >> 4 : 0;
  const eax = (stepping & 0xf) | ((model & 0xf) << 4) | (baseFamily << 8) | (extModel << 16) | (extFamily << 20);
  return (eax >>> 0).toString(16).padStart(8, '0');
}

function linuxCpu(): NativeCpu {
  const info = read('/proc/cpuinfo') ?? '';
  const first = info.split(/\n\n/, 1)[0] ?? '';
  const get = (k: string) => new RegExp(`^${k}\\s*:\\s*(.*)$`, 'm').exec(first)?.[1]?.trim();
  const vendor = get('vendor_id') ?? get('CPU implementer') ?? 'unknown';
  const family = get('cpu family');
  const model = get('model');
  const stepping = get('stepping');
  let signature = '';
  if (family !== undefined && model !== undefined && stepping !== undefined && /^\d+$/.test(family + model + stepping)) {
    signature = signatureFromCpuinfo(Number(family), Number(model), Number(stepping));
  } else {
    signature = (line('/sys/devices/system/cpu/cpu0/regs/identification/midr_el1') ?? '').trim();
  }
  const flags = get('flags') ?? '';
  return { vendor, signature, brand: get('model name') ?? '', hypervisor: /\bhypervisor\b/.test(flags), hypervisorVendor: '' };
}

function dmiField(file: string): string | undefined {
  const v = read(`/sys/class/dmi/id/${file}`)?.replace(/\n+$/, '');
  return v === undefined || v === '' ? undefined : v;
}

function linuxSmbios(): SmbiosFacts | null {
  // Absent on machines without SMBIOS (and in some containers): one check instead of a failed
  // read, and its exception, per field.
  if (!existsSync('/sys/class/dmi/id')) return null;
  const pick = <K extends string>(map: Record<K, string>) => {
    const o: Partial<Record<K, string>> = {};
    for (const [k, file] of Object.entries(map) as Array<[K, string]>) {
      const v = dmiField(file);
      if (v !== undefined) o[k] = v;
    }
    return o;
  };
  const system = pick({ manufacturer: 'sys_vendor', product: 'product_name', version: 'product_version', serial: 'product_serial', uuid: 'product_uuid' });
  const baseboard = pick({ manufacturer: 'board_vendor', product: 'board_name', version: 'board_version', serial: 'board_serial' });
  const chassis = pick({ manufacturer: 'chassis_vendor', version: 'chassis_version', serial: 'chassis_serial' });
  if (Object.keys(system).length + Object.keys(baseboard).length + Object.keys(chassis).length === 0) return null;
  return { version: '0.0', structures: 0, system, baseboard, chassis, processors: [] };
}

/** `os.networkInterfaces()`: each name with the MAC of its first non-internal address (`""` when it has none). */
function otherInterfaces(): OtherInterfaceFacts[] {
  return Object.entries(networkInterfaces()).map(([name, addrs]) => ({ os: 'other', name, address: addrs?.find((x) => !x.internal)?.mac ?? '' }));
}

/** Read the facts without the addon (to be judged by `classifyHostFacts`, as the addon's are). */
export function readFallbackFacts(): RawHostFacts {
  if (process.platform === 'linux') {
    const smbios = linuxSmbios();
    // Each file in turn, as the addon does: an empty or "uninitialized" /etc/machine-id (first
    // boot, some images) falls through to D-Bus's copy.
    const mid = ['/etc/machine-id', '/var/lib/dbus/machine-id'].map((p) => (line(p) ?? '').replace(/[ \r]+$/, '')).find((id) => /^[0-9a-f]{32}$/.test(id) && !/^0+$/.test(id)) ?? '';
    return {
      source: 'fallback',
      smbiosSource: smbios === null ? 'none' : 'sysfs-dmi-id',
      smbios,
      cpu: linuxCpu(),
      interfaces: linuxInterfaces(),
      machineId: mid,
    };
  }
  const c = cpus()[0];
  return {
    source: 'fallback',
    smbiosSource: 'none',
    smbios: null,
    cpu: { vendor: '', signature: '', brand: c?.model.trim() ?? '', hypervisor: false, hypervisorVendor: '' },
    interfaces: otherInterfaces(),
    machineId: '',
  };
}
