// macOS: no SMBIOS; the platform expert device in IOKit holds the UUID, serial and model.
// Network interfaces from getifaddrs (AF_LINK entries: name, type, address); which are physical
// is decided in TypeScript (src/core/fingerprint/adapters.ts). Not compiled on the development machine (Linux);
// written against IOKit (IOKitLib.h, IOServiceGetMatchingService, IORegistryEntryCreateCFProperty)
// and getifaddrs(3) / sockaddr_dl (net/if_dl.h).
#if defined(__APPLE__)

#include <CoreFoundation/CoreFoundation.h>
#include <IOKit/IOKitLib.h>
#include <ifaddrs.h>
#include <net/if_dl.h>
#include <net/if_types.h>
#include <sys/socket.h>

#include <cctype>
#include <string>
#include <vector>

#include "host.h"

namespace licit {
namespace {

std::string PlatformString(io_service_t dev, CFStringRef key) {
  std::string out;
  CFTypeRef v = IORegistryEntryCreateCFProperty(dev, key, kCFAllocatorDefault, 0);
  if (v == nullptr) return out;
  if (CFGetTypeID(v) == CFStringGetTypeID()) {
    char buf[256];
    if (CFStringGetCString(static_cast<CFStringRef>(v), buf, sizeof buf, kCFStringEncodingUTF8)) out = buf;
  } else if (CFGetTypeID(v) == CFDataGetTypeID()) {
    // "model" is a NUL-terminated C string in a CFData.
    CFDataRef d = static_cast<CFDataRef>(v);
    const UInt8* p = CFDataGetBytePtr(d);
    CFIndex n = CFDataGetLength(d);
    CFIndex len = 0;
    while (len < n && p[len] != 0) len++;
    out.assign(reinterpret_cast<const char*>(p), static_cast<size_t>(len));
  }
  CFRelease(v);
  return out;
}

smbios::Field MakeField(const std::string& text) {
  smbios::Field f;
  if (text.empty()) return f;
  f.text = text;
  f.present = true;
  return f;
}

struct Platform {
  std::string uuid, serial, model;
};

Platform ReadPlatform() {
  Platform p;
  // MACH_PORT_NULL selects the default main port (kIOMasterPortDefault before macOS 12).
  io_service_t dev = IOServiceGetMatchingService(MACH_PORT_NULL, IOServiceMatching("IOPlatformExpertDevice"));
  if (dev == IO_OBJECT_NULL) return p;
  p.uuid = PlatformString(dev, CFSTR("IOPlatformUUID"));
  p.serial = PlatformString(dev, CFSTR("IOPlatformSerialNumber"));
  p.model = PlatformString(dev, CFSTR("model"));
  IOObjectRelease(dev);
  for (auto& c : p.uuid) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return p;
}

}  // namespace

SmbiosResult ReadSmbios() {
  SmbiosResult r;
  Platform p = ReadPlatform();
  if (p.uuid.empty() && p.serial.empty()) return r;
  smbios::Table t;
  t.system.found = true;
  t.system.manufacturer = MakeField("Apple Inc.");
  t.system.product = MakeField(p.model);
  t.system.serial = MakeField(p.serial);
  t.system.uuid = MakeField(p.uuid);
  r.table = t;
  r.source = "iokit";
  return r;
}

Interfaces ReadInterfaces(const std::string&) {
  Interfaces out;
  struct ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (struct ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_LINK) continue;
    const struct sockaddr_dl* dl = reinterpret_cast<const struct sockaddr_dl*>(i->ifa_addr);
    MacInterface m;
    m.name = i->ifa_name;
    m.ether = dl->sdl_type == IFT_ETHER;
    m.address = HexBytes(reinterpret_cast<const unsigned char*>(LLADDR(dl)), dl->sdl_alen);
    out.mac_ifs.push_back(m);
  }
  freeifaddrs(list);
  return out;
}

std::string ReadMachineId() { return ReadPlatform().uuid; }

}  // namespace licit

#endif  // __APPLE__
