// Linux: SMBIOS from /sys/firmware/dmi/tables (root) or /sys/class/dmi/id (partial, any user),
// network interfaces from sysfs, machine id from /etc/machine-id.
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
  return f;
}

// The permanent (burned-in) address through the ethtool ioctl on `sock`; "" when the driver has
// none or there is no interface of that name in this network namespace.
std::string PermanentMac(int sock, const std::string& ifname) {
  if (sock < 0 || ifname.size() >= IFNAMSIZ) return "";
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
  if (ioctl(sock, SIOCETHTOOL, &ifr) != 0 || req->size > 32) return "";
  return HexBytes(storage + sizeof(struct ethtool_perm_addr), req->size);
}

std::string Basename(const std::string& link) {
  char buf[4096];
  ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
  if (n <= 0) return "";
  std::string s(buf, static_cast<size_t>(n));
  size_t slash = s.rfind('/');
  return slash == std::string::npos ? s : s.substr(slash + 1);
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

// The facts of interface `name` under `root`; docs/fingerprint.md says how TypeScript judges them.
static LinuxInterface ReadInterface(const std::string& root, const std::string& name, int sock) {
  LinuxInterface f;
  std::string base = root + "/" + name + "/";
  f.name = name;
  f.has_device = Exists(base + "device");
  f.type = FirstLine(base + "type");
  f.bridge = Exists(base + "bridge");
  f.bonding = Exists(base + "bonding");
  f.tun_flags = Exists(base + "tun_flags");
  f.physfn = Exists(base + "device/physfn");
  std::string uevent;
  ReadAll(base + "uevent", &uevent, 4096);
  for (size_t pos = 0; pos < uevent.size();) {  // the first line that starts with DEVTYPE=
    size_t eol = uevent.find('\n', pos);
    std::string line = uevent.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
    if (line.compare(0, 8, "DEVTYPE=") == 0) {
      f.has_devtype = true;
      f.devtype = line.substr(8);
      break;
    }
    if (eol == std::string::npos) break;
    pos = eol + 1;
  }
  f.driver = Basename(base + "device/driver");
  f.ifalias = FirstLine(base + "ifalias");
  f.addr_assign_type = FirstLine(base + "addr_assign_type");
  f.address = FirstLine(base + "address");
  f.permanent_address = PermanentMac(sock, name);
  return f;
}

Interfaces ReadInterfaces(const std::string& root_in) {
  Interfaces out;
  std::string root = root_in.empty() ? "/sys/class/net" : root_in;
  DIR* dir = opendir(root.c_str());
  if (dir == nullptr) return out;
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  while (struct dirent* e = readdir(dir)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    out.linux_ifs.push_back(ReadInterface(root, name, sock));
  }
  if (sock >= 0) close(sock);
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
