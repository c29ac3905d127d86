/** Host facts of a physical machine with SMBIOS serials (a Lenovo laptop read as root), for fingerprint tests and vectors. */
import type { HostFacts, SmbiosInfo } from '../../src/core/fingerprint/facts.js';

/** Its SMBIOS, with any identifier replaced. */
export function physicalSmbios(over: Partial<{ uuid: string; serial: string; board: string; boardSerial: string; chassisSerial: string }> = {}, placeholders: string[] = []): SmbiosInfo {
  return {
    version: '3.0.0',
    structures: 40,
    system: { manufacturer: 'LENOVO', product: '20L8S07A14', serial: over.serial ?? 'PC131TBF', uuid: over.uuid ?? '161674cc-2a1e-11b2-a85c-e121881d01b9' },
    baseboard: { manufacturer: 'LENOVO', product: over.board ?? '20L8S07A14', serial: over.boardSerial ?? 'L1HF9380025' },
    chassis: { manufacturer: 'LENOVO', serial: over.chassisSerial ?? 'PC131TBF' },
    processors: [],
    placeholders,
  };
}

/** The whole machine: SMBIOS, an Intel CPU, a wired and a wireless adapter, a machine id. */
export function physicalFacts(over: Partial<HostFacts> = {}): HostFacts {
  return {
    source: 'native',
    smbiosSource: 'sysfs-table',
    smbios: physicalSmbios(),
    cpu: { vendor: 'GenuineIntel', signature: '000806ea', brand: 'Intel(R) Core(TM) i7-8650U', hypervisor: false, hypervisorVendor: '' },
    adapters: [
      { name: 'enp0s31f6', mac: '8c:16:45:aa:bb:cc', origin: 'current' },
      { name: 'wlp61s0', mac: 'a4:34:d9:11:22:33', origin: 'current' },
    ],
    machineId: '3d1219c7c4c5404aaa1f6d2a48adfda4',
    ...over,
  };
}
