/**
 * Is this machine a virtual machine, and is this process in a container? Hardware identity means
 * little in either case (see docs/fingerprint.md): report it and let the vendor's policy decide.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { HostFacts } from '../../core/fingerprint/facts.js';

/** SMBIOS manufacturer/product texts of hypervisors and clouds. */
const VM_VENDORS = /qemu|kvm|vmware|virtualbox|innotek|xen|bochs|parallels|bhyve|microsoft corporation virtual|virtual machine|amazon ec2|google compute engine|openstack|oracle cloud|hetzner vserver|digitalocean|cloud-hypervisor|firecracker|oxide|proxmox/i;

/** True when the facts point to a virtual machine: the CPUID hypervisor bit or a VM's SMBIOS vendor. */
export function looksVirtual(f: HostFacts): boolean {
  if (f.cpu.hypervisor) return true;
  const s = f.smbios;
  if (s === null) return false;
  return [s.system.manufacturer, s.system.product, s.baseboard.manufacturer].some((t) => t !== undefined && VM_VENDORS.test(t));
}

let containerCache: boolean | undefined;

/**
 * True when this process runs in a container (Docker, Podman, Kubernetes, LXC, systemd-nspawn).
 * Cheap checks only: marker files, the `container` variable, the cgroup path.
 */
export function inContainer(): boolean {
  if (containerCache !== undefined) return containerCache;
  containerCache = detectContainer();
  return containerCache;
}

function detectContainer(): boolean {
  if (process.platform !== 'linux') return false;
  if (process.env.container !== undefined || process.env.KUBERNETES_SERVICE_HOST !== undefined) return true;
  if (existsSync('/.dockerenv') || existsSync('/run/.containerenv')) return true;
  try {
    // cgroup v1 paths name the runtime; under cgroup v2 with a private namespace this is "0::/".
    return /docker|kubepods|containerd|libpod|lxc|crio|garden/.test(readFileSync('/proc/self/cgroup', 'utf8'));
  } catch {
    return false;
  }
}
