/**
 * The pure JavaScript reader used when the addon is missing (`source: "fallback"`). It reads what
 * the OS exposes to files: on Linux the same sysfs facts as the addon (so both sources give the
 * same components where they can), elsewhere only `os.networkInterfaces()` and the CPU model.
 * What it cannot do: CPUID (the CPU signature is rebuilt from /proc/cpuinfo), permanent MACs of
 * adapters whose address was changed by the user (they are left out), Windows/macOS serials.
 * Like the addon it reports raw MACs: which of them are software-assigned (`ml`, weak) is decided
 * once, when components are built (`isSharedMac`, in Fingerprint.fromFacts).
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { cpus, networkInterfaces } from 'node:os';
import type { HostFacts, NativeAdapter, NativeCpu, SmbiosInfo } from '../../core/fingerprint/facts.js';
import { canonicalMac, descriptionLooksVirtual, isLocallyAdministered, isPlaceholder, nameLooksVirtual } from '../../core/fingerprint/rules.js';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

const line = (path: string) => read(path)?.split('\n', 1)[0];

/** Physical adapters, and each adapter left out with the first rule that excluded it. */
export interface AdapterReport {
  /** Adapters kept as physical, with their current MAC. */
  readonly adapters: NativeAdapter[];
  /** Adapters left out, each with the first rule that excluded it. */
  readonly rejected: Array<{
    /** Interface name, e.g. `docker0`. */
    readonly name: string;
    /** Short rule name, e.g. `"no-device"`, `"bridge"`, `"virtual-name"`. */
    readonly reason: string;
  }>;
}

/** Why adapter `name` is not physical (the reasons of native/src/host_linux.cc), or its entry. */
function judge(root: string, name: string): NativeAdapter | string {
  if (name === 'lo') return 'loopback';
  const base = `${root}/${name}/`;
  if (!existsSync(base + 'device')) return 'no-device';
  if (line(base + 'type') !== '1') return 'not-ethernet';
  if (existsSync(base + 'bridge')) return 'bridge';
  if (existsSync(base + 'bonding')) return 'bond';
  if (existsSync(base + 'tun_flags')) return 'tun-tap';
  if (existsSync(base + 'device/physfn')) return 'sriov-vf';
  const devtype = /^DEVTYPE=(.*)$/m.exec(read(base + 'uevent') ?? '')?.[1];
  if (devtype !== undefined && devtype !== 'wlan') return 'virtual-devtype';
  if (nameLooksVirtual(name)) return 'virtual-name';
  let driver = '';
  try {
    driver = readlinkSync(base + 'device/driver').split('/').pop() ?? '';
  } catch {
    // no driver bound
  }
  if (descriptionLooksVirtual(driver) || descriptionLooksVirtual(line(base + 'ifalias') ?? '')) return 'virtual-driver';
  const assign = line(base + 'addr_assign_type') ?? '';
  if (assign === '0' || assign === '') {
    const mac = canonicalMac(line(base + 'address') ?? '');
    return mac === undefined ? 'no-usable-address' : { name, mac, origin: 'current' };
  }
  if (assign === '1') return 'random-address';
  if (assign === '2') return 'stolen-address';
  // 3: set by the user. The permanent address needs the ethtool ioctl, which only the addon has.
  if (assign === '3') return 'user-set-address';
  return 'unknown-address-type';
}

/** Every adapter of a Linux sysfs net directory, judged by the rules of native/src/host_linux.cc. */
export function linuxAdapterReport(root = '/sys/class/net'): AdapterReport {
  const report: AdapterReport = { adapters: [], rejected: [] };
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return report;
  }
  for (const name of names.sort()) {
    const j = judge(root, name);
    if (typeof j === 'string') report.rejected.push({ name, reason: j });
    else report.adapters.push(j);
  }
  return report;
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

function linuxSmbios(): SmbiosInfo | null {
  // Absent on machines without SMBIOS (and in some containers): one check instead of a failed
  // read, and its exception, per field.
  if (!existsSync('/sys/class/dmi/id')) return null;
  const placeholders: string[] = [];
  const pick = <K extends string>(group: string, map: Record<K, string>) => {
    const o: Partial<Record<K, string>> = {};
    for (const [k, file] of Object.entries(map) as Array<[K, string]>) {
      const v = dmiField(file);
      if (v === undefined) continue;
      o[k] = v;
      if (isPlaceholder(v)) placeholders.push(`${group}.${k}`);
    }
    return o;
  };
  const system = pick('system', { manufacturer: 'sys_vendor', product: 'product_name', version: 'product_version', serial: 'product_serial', uuid: 'product_uuid' });
  if (system.uuid !== undefined && /^(0{8}-0{4}-0{4}-0{4}-0{12}|f{8}-f{4}-f{4}-f{4}-f{12})$/i.test(system.uuid)) placeholders.push('system.uuid');
  const baseboard = pick('baseboard', { manufacturer: 'board_vendor', product: 'board_name', version: 'board_version', serial: 'board_serial' });
  const chassis = pick('chassis', { manufacturer: 'chassis_vendor', version: 'chassis_version', serial: 'chassis_serial' });
  if (Object.keys(system).length + Object.keys(baseboard).length + Object.keys(chassis).length === 0) return null;
  return { version: '0.0', structures: 0, system, baseboard, chassis, processors: [], placeholders };
}

function otherAdapters(): NativeAdapter[] {
  const out: NativeAdapter[] = [];
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    const a = addrs?.find((x) => !x.internal);
    const mac = a === undefined ? undefined : canonicalMac(a.mac);
    // Windows and macOS give adapters random, locally administered addresses for privacy; they
    // change, so they are left out here as the addon leaves them out there.
    if (mac === undefined || nameLooksVirtual(name) || isLocallyAdministered(mac)) continue;
    if (!out.some((o) => o.mac === mac)) out.push({ name, mac, origin: 'current' });
  }
  return out;
}

/** Read the facts without the addon. */
export function readFallbackFacts(): HostFacts {
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
      adapters: linuxAdapters(),
      machineId: mid,
    };
  }
  const c = cpus()[0];
  return {
    source: 'fallback',
    smbiosSource: 'none',
    smbios: null,
    cpu: { vendor: '', signature: '', brand: c?.model.trim() ?? '', hypervisor: false, hypervisorVendor: '' },
    adapters: otherAdapters(),
    machineId: '',
  };
}
