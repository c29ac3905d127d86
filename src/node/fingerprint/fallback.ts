/**
 * The pure JavaScript reader used when the addon is missing (`source: "fallback"`). It reads what
 * the OS exposes to files: on Linux the same sysfs facts as the addon (so both sources give the
 * same components where they can), elsewhere only `os.networkInterfaces()` and the CPU model.
 * What it cannot do: CPUID (the CPU signature is rebuilt from /proc/cpuinfo), permanent MACs of
 * adapters whose address was changed by the user (they are left out), Windows/macOS serials.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { cpus, networkInterfaces } from 'node:os';
import type { NativeAdapter, NativeCpu, SmbiosInfo } from '../native.js';
import type { HostFacts } from './facts.js';
import { canonicalMac, descriptionLooksVirtual, isLocallyAdministered, isPlaceholder, nameLooksVirtual } from './rules.js';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

const line = (path: string) => read(path)?.split('\n', 1)[0];

/** Physical adapters from a Linux sysfs net directory, by the rules of native/src/host_linux.cc. */
export function linuxAdapters(root = '/sys/class/net'): NativeAdapter[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  const out: NativeAdapter[] = [];
  for (const name of names.sort()) {
    if (name === 'lo') continue;
    const base = `${root}/${name}/`;
    if (!existsSync(base + 'device') || line(base + 'type') !== '1') continue;
    if (existsSync(base + 'bridge') || existsSync(base + 'bonding') || existsSync(base + 'tun_flags') || existsSync(base + 'device/physfn')) continue;
    const devtype = /^DEVTYPE=(.*)$/m.exec(read(base + 'uevent') ?? '')?.[1];
    if (devtype !== undefined && devtype !== 'wlan') continue;
    let driver = '';
    try {
      driver = readlinkSync(base + 'device/driver').split('/').pop() ?? '';
    } catch {
      // no driver bound
    }
    if (nameLooksVirtual(name) || descriptionLooksVirtual(driver) || descriptionLooksVirtual(line(base + 'ifalias') ?? '')) continue;
    const assign = line(base + 'addr_assign_type') ?? '';
    if (assign !== '0' && assign !== '') continue; // random, stolen, or user-set (no ethtool here)
    const mac = canonicalMac(line(base + 'address') ?? '');
    if (mac !== undefined) out.push({ name, mac, origin: 'current' });
  }
  return out;
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
    if (mac === undefined || nameLooksVirtual(name) || isLocallyAdministered(mac)) continue;
    if (!out.some((o) => o.mac === mac)) out.push({ name, mac, origin: 'current' });
  }
  return out;
}

/** Read the facts without the addon. */
export function readFallbackFacts(): HostFacts {
  if (process.platform === 'linux') {
    const smbios = linuxSmbios();
    const mid = (line('/etc/machine-id') ?? line('/var/lib/dbus/machine-id') ?? '').trim();
    return {
      source: 'fallback',
      smbiosSource: smbios === null ? 'none' : 'sysfs-dmi-id',
      smbios,
      cpu: linuxCpu(),
      adapters: linuxAdapters(),
      machineId: /^[0-9a-f]{32}$/.test(mid) && !/^0+$/.test(mid) ? mid : '',
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
