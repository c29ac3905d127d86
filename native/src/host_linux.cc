// Linux: SMBIOS from /sys/firmware/dmi/tables (root) or /sys/class/dmi/id (partial, any user),
// physical adapters from sysfs, machine id from /etc/machine-id.
#if defined(__linux__)

#include <dirent.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "host.h"

namespace licit {
namespace {

bool ReadAll(const std::string& path, std::string* out, size_t limit = 1 << 20) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out->clear();
  char buf[4096];
  while (f && out->size() < limit) {
    f.read(buf, sizeof buf);
    out->append(buf, static_cast<size_t>(f.gcount()));
  }
  return !f.bad();
}

std::string FirstLine(const std::string& path) {
  std::string s;
  if (!ReadAll(path, &s, 4096)) return "";
  size_t nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

// Whether the entry exists, without following a final symlink (sysfs links may dangle). Not
// lstat: glibc 2.33 made it a new symbol, and a prebuilt addon linked against it will not load
// on older glibc (Debian 11, Ubuntu 20.04, RHEL 8); access and readlink are as old as glibc.
bool Exists(const std::string& path) {
  char c;
  return access(path.c_str(), F_OK) == 0 || readlink(path.c_str(), &c, 1) >= 0;
}

smbios::Field DmiIdField(const std::string& file) {
  smbios::Field f;
  std::string v;
  if (!ReadAll("/sys/class/dmi/id/" + file, &v, 4096)) return f;  // root-only files fail here
  while (!v.empty() && (v.back() == '\n')) v.pop_back();
  if (v.empty()) return f;
  f.text = v;
  f.present = true;
  f.placeholder = smbios::IsPlaceholder(v);
  return f;
}

// The permanent (burned-in) address through the ethtool ioctl; "" when the driver has none.
std::string PermanentMac(const std::string& ifname) {
  if (ifname.size() >= IFNAMSIZ) return "";
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return "";
  // ethtool_perm_addr ends in a flexible array: give it room for up to 32 address bytes.
  alignas(struct ethtool_perm_addr) unsigned char storage[sizeof(struct ethtool_perm_addr) + 32];
  std::memset(storage, 0, sizeof storage);
  auto* req = reinterpret_cast<struct ethtool_perm_addr*>(storage);
  req->cmd = ETHTOOL_GPERMADDR;
  req->size = 32;
  struct ifreq ifr;
  std::memset(&ifr, 0, sizeof ifr);
  std::memcpy(ifr.ifr_name, ifname.c_str(), ifname.size());
  ifr.ifr_data = reinterpret_cast<char*>(storage);
  std::string mac;
  if (ioctl(sock, SIOCETHTOOL, &ifr) == 0 && req->size <= 32) mac = CanonicalMac(storage + sizeof(struct ethtool_perm_addr), req->size);
  close(sock);
  return mac;
}

std::string Basename(const std::string& link) {
  char buf[4096];
  ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
  if (n <= 0) return "";
  std::string s(buf, static_cast<size_t>(n));
  size_t slash = s.rfind('/');
  return slash == std::string::npos ? s : s.substr(slash + 1);
}

std::string ParseMacText(const std::string& text) {
  unsigned int b[6];
  if (std::sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6) return "";
  unsigned char raw[6];
  for (int i = 0; i < 6; i++) raw[i] = static_cast<unsigned char>(b[i]);
  return CanonicalMac(raw, 6);
}

}  // namespace

SmbiosResult ReadSmbios() {
  SmbiosResult r;
  std::string table, entry;
  if (ReadAll("/sys/firmware/dmi/tables/DMI", &table, 16 << 20) && !table.empty()) {
    smbios::Table t;
    if (ReadAll("/sys/firmware/dmi/tables/smbios_entry_point", &entry, 64)) {
      smbios::ParseEntryPoint(reinterpret_cast<const uint8_t*>(entry.data()), entry.size(), &t);
    }
    if (smbios::ParseTable(reinterpret_cast<const uint8_t*>(table.data()), table.size(), t.major, t.minor, 0, &t) == smbios::Status::kOk) {
      r.table = t;
      r.source = "sysfs-table";
      return r;
    }
  }
  // Without root only the non-sensitive files are readable (serials and UUID are mode 0400).
  smbios::Table t;
  t.system.manufacturer = DmiIdField("sys_vendor");
  t.system.product = DmiIdField("product_name");
  t.system.version = DmiIdField("product_version");
  t.system.serial = DmiIdField("product_serial");
  t.system.uuid = DmiIdField("product_uuid");
  // The table decoder flags all-00 and all-FF UUIDs from their bytes; here they arrive as text.
  if (t.system.uuid.present) {
    std::string hex;
    for (char c : t.system.uuid.text) {
      if (c != '-') hex.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
    }
    if (hex == std::string(32, '0') || hex == std::string(32, 'f')) t.system.uuid.placeholder = true;
  }
  t.baseboard.manufacturer = DmiIdField("board_vendor");
  t.baseboard.product = DmiIdField("board_name");
  t.baseboard.version = DmiIdField("board_version");
  t.baseboard.serial = DmiIdField("board_serial");
  t.chassis.manufacturer = DmiIdField("chassis_vendor");
  t.chassis.version = DmiIdField("chassis_version");
  t.chassis.serial = DmiIdField("chassis_serial");
  t.chassis.type = std::atoi(FirstLine("/sys/class/dmi/id/chassis_type").c_str());
  t.system.found = t.system.manufacturer.present || t.system.product.present || t.system.uuid.present;
  t.baseboard.found = t.baseboard.manufacturer.present || t.baseboard.product.present;
  t.chassis.found = t.chassis.manufacturer.present || t.chassis.type != 0;
  if (t.system.found || t.baseboard.found || t.chassis.found) {
    r.table = t;
    r.source = "sysfs-dmi-id";
  }
  return r;
}

// Why the adapter `name` under `root` is not a physical one, or nullptr when it is (then `a` is
// filled). The first failing rule is the reason, in the order docs/fingerprint.md lists them.
static const char* Judge(const std::string& root, const std::string& name, Adapter* a) {
  std::string base = root + "/" + name + "/";
  // Physical: backed by a device (PCI, USB, virtio, ...). veth, bridges, tun/tap, vxlan, ifb,
  // dummy, bonds, VLANs and WireGuard have no device link.
  if (!Exists(base + "device")) return "no-device";
  if (FirstLine(base + "type") != "1") return "not-ethernet";  // ARPHRD_ETHER (Ethernet and Wi-Fi)
  if (Exists(base + "bridge")) return "bridge";
  if (Exists(base + "bonding")) return "bond";
  if (Exists(base + "tun_flags")) return "tun-tap";
  if (Exists(base + "device/physfn")) return "sriov-vf";  // an SR-IOV virtual function
  std::string uevent;
  ReadAll(base + "uevent", &uevent, 4096);
  size_t dt = uevent.find("DEVTYPE=");
  if (dt != std::string::npos) {
    size_t eol = uevent.find('\n', dt);
    std::string devtype = uevent.substr(dt + 8, eol == std::string::npos ? std::string::npos : eol - dt - 8);
    if (devtype != "wlan") return "virtual-devtype";  // vlan, bridge, bond, wireguard, macvlan, dsa, ...
  }
  if (NameLooksVirtual(name)) return "virtual-name";
  if (DescriptionLooksVirtual(Basename(base + "device/driver")) || DescriptionLooksVirtual(FirstLine(base + "ifalias"))) {
    return "virtual-driver";
  }
  std::string assign = FirstLine(base + "addr_assign_type");
  a->name = name;
  if (assign == "0" || assign.empty()) {
    a->mac = ParseMacText(FirstLine(base + "address"));  // NET_ADDR_PERM: the device's own address,
    a->origin = "current";                               // locally administered ones included
    return a->mac.empty() ? "no-usable-address" : nullptr;
  }
  if (assign == "1") return "random-address";  // NET_ADDR_RANDOM
  if (assign == "2") return "stolen-address";  // NET_ADDR_STOLEN: another device's address
  if (assign == "3") {
    a->mac = PermanentMac(name);  // NET_ADDR_SET by the user: use the burned-in one if known
    a->origin = "permanent";
    return a->mac.empty() ? "user-set-address" : nullptr;
  }
  return "unknown-address-type";
}

std::vector<Adapter> ReadAdapters(const std::string& root_in, std::vector<Rejected>* rejected) {
  std::vector<Adapter> out;
  std::string root = root_in.empty() ? "/sys/class/net" : root_in;
  DIR* dir = opendir(root.c_str());
  if (dir == nullptr) return out;
  while (struct dirent* e = readdir(dir)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    Adapter a;
    const char* why = name == "lo" ? "loopback" : Judge(root, name, &a);
    if (why == nullptr) out.push_back(a);
    else if (rejected != nullptr) rejected->push_back({name, why});
  }
  closedir(dir);
  return out;
}

std::string ReadMachineId() {
  for (const char* path : {"/etc/machine-id", "/var/lib/dbus/machine-id"}) {
    std::string id = FirstLine(path);
    while (!id.empty() && (id.back() == ' ' || id.back() == '\r')) id.pop_back();
    if (id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string::npos && id != std::string(32, '0')) return id;
  }
  return "";
}

}  // namespace licit

#endif  // __linux__
