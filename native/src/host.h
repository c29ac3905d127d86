// What the operating system tells about this machine: the SMBIOS table, the CPU, physical network
// adapters and the machine id. One implementation per OS (host_linux.cc, host_win.cc,
// host_mac.cc), each compiled only on its platform; cpu.cc is shared.
#pragma once

#include <string>
#include <vector>

#include "licit/smbios.h"

namespace licit {

struct CpuInfo {
  std::string vendor;             // "GenuineIntel", "AuthenticAMD", "ARM" ...
  std::string signature;          // CPUID leaf 1 EAX as 8 hex digits; MIDR on ARM; "" when unknown
  std::string brand;              // marketing name, trimmed
  bool hypervisor = false;        // CPUID leaf 1 ECX bit 31 (set by every mainstream hypervisor)
  std::string hypervisor_vendor;  // CPUID leaf 0x40000000 ("KVMKVMKVM", "Microsoft Hv", ...)
};

struct Adapter {
  std::string name;    // OS interface name
  std::string mac;     // "aa:bb:cc:dd:ee:ff"
  std::string origin;  // "current" (assigned by hardware) or "permanent" (read back from the NIC)
};

struct SmbiosResult {
  smbios::Table table;
  // "sysfs-table" (Linux /sys/firmware/dmi/tables), "sysfs-dmi-id" (Linux /sys/class/dmi/id,
  // a partial view when the table is root-only), "rsmb" (Windows), "iokit" (macOS), "none".
  std::string source = "none";
};

CpuInfo ReadCpu();
SmbiosResult ReadSmbios();
// An adapter left out, and the first rule that excluded it ("no-device", "random-address", ...).
struct Rejected {
  std::string name;
  std::string reason;
};

// Physical adapters under `sysfs_net` (Linux; "" means /sys/class/net). Other OSes ignore it.
// When `rejected` is given, every adapter left out is listed there with its reason.
std::vector<Adapter> ReadAdapters(const std::string& sysfs_net, std::vector<Rejected>* rejected = nullptr);
// /etc/machine-id, Windows MachineGuid, macOS IOPlatformUUID; "" when unavailable.
std::string ReadMachineId();

// Shared adapter rules (adapters.cc).
bool NameLooksVirtual(const std::string& name);
bool DescriptionLooksVirtual(const std::string& description);
// Parses "aa:bb:..." or 6 raw bytes into canonical lower-case text; "" for zero/multicast/bad.
std::string CanonicalMac(const unsigned char* bytes, size_t len);
bool IsLocallyAdministered(const std::string& mac);

}  // namespace licit
