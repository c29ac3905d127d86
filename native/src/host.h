// What the operating system tells about this machine: the SMBIOS table, the CPU, its network
// interfaces and the machine id. One implementation per OS (host_linux.cc, host_win.cc,
// host_mac.cc), each compiled only on its platform; cpu.cc is shared.
//
// Facts only: which interfaces are physical adapters and which SMBIOS strings are filler is
// decided in TypeScript (src/core/fingerprint/adapters.ts, placeholders.ts), once, for the addon
// and the JavaScript fallback alike.
#pragma once

#include <cstddef>
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

// One entry of /sys/class/net as sysfs shows it. Text facts are the first line of their file,
// "" when the file is missing or unreadable.
struct LinuxInterface {
  std::string name;
  bool has_device = false;  // a `device` link (PCI, USB, virtio, ...)
  std::string type;         // ARPHRD type, "1" for Ethernet and Wi-Fi
  bool bridge = false, bonding = false, tun_flags = false, physfn = false;  // entries present
  bool has_devtype = false;  // uevent has a DEVTYPE= line
  std::string devtype;       // its value ("wlan", "vlan", "bridge", ...)
  std::string driver;        // basename of device/driver
  std::string ifalias;
  std::string addr_assign_type;   // "0" permanent, "1" random, "2" stolen, "3" set by the user
  std::string address;            // current address text
  std::string permanent_address;  // burned-in address from the ethtool ioctl, "" when none
};

// One adapter of GetAdaptersAddresses, with its GetIfEntry2 row when that call succeeds.
struct WindowsInterface {
  std::string name;  // AdapterName, the {GUID}
  std::string description;
  std::string friendly_name;
  unsigned long if_type = 0;  // IF_TYPE_* (6 Ethernet, 71 802.11)
  std::string address;        // PhysicalAddress as hex bytes, "" when it has none
  bool if_entry = false;      // GetIfEntry2 succeeded; the three facts below are from it
  bool hardware_interface = false;
  bool filter_interface = false;
  std::string permanent_address;  // PermanentPhysicalAddress as hex bytes
};

// One AF_LINK entry of getifaddrs.
struct MacInterface {
  std::string name;
  bool ether = false;   // sdl_type is IFT_ETHER
  std::string address;  // link-layer address as hex bytes
};

// Each OS fills its own list; the others stay empty.
struct Interfaces {
  std::vector<LinuxInterface> linux_ifs;
  std::vector<WindowsInterface> windows_ifs;
  std::vector<MacInterface> mac_ifs;
};

struct SmbiosResult {
  smbios::Table table;
  // "sysfs-table" (Linux /sys/firmware/dmi/tables), "sysfs-dmi-id" (Linux /sys/class/dmi/id,
  // a partial view when the table is root-only), "rsmb" (Windows), "iokit" (macOS), "none".
  std::string source = "none";
};

CpuInfo ReadCpu();
SmbiosResult ReadSmbios();
// Every network interface. `sysfs_net` replaces /sys/class/net on Linux ("" for the real one);
// other OSes ignore it.
Interfaces ReadInterfaces(const std::string& sysfs_net);
// /etc/machine-id, Windows MachineGuid, macOS IOPlatformUUID; "" when unavailable.
std::string ReadMachineId();

// Bytes as lower-case hex pairs joined by ':' ("aa:bb:cc:dd:ee:ff"); "" for none.
inline std::string HexBytes(const unsigned char* b, size_t len) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < len; i++) {
    if (i) s.push_back(':');
    s.push_back(kHex[b[i] >> 4]);
    s.push_back(kHex[b[i] & 0xF]);
  }
  return s;
}

}  // namespace licit
