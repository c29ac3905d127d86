// Adapter rules shared by every OS: which names and descriptions are virtual adapters, and what a
// usable MAC address looks like. The same lists live in src/node/fingerprint/rules.ts for the
// JavaScript fallback; docs/fingerprint.md documents them.
#include <cctype>
#include <cstring>

#include "host.h"

namespace licit {
namespace {

std::string Lower(const std::string& s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Interface name prefixes of virtual adapters (Linux, macOS and BSD naming).
const char* const kNamePrefixes[] = {
    "docker", "br-",     "veth",  "virbr", "vnet",  "vmnet",  "vboxnet", "podman", "cni",    "flannel",
    "cali",   "weave",   "cilium", "kube", "lxc",   "lxd",    "tun",     "tap",    "wg",     "zt",
    "tailscale", "utun", "awdl",  "llw",   "anpi",  "bridge", "bond",    "dummy",  "ifb",    "vxlan",
    "gre",    "erspan",  "ip6",   "sit",   "ipip",  "macvtap", "macvlan", "ipvlan", "nlmon", "vcan",
    "vrf",    "team",    "genev", "ppp",   "slip",  "usb",    "rndis",   "feth",   "vmenet", "gif",
    "stf",    "ham",     "nordlynx", "vpn", "ztun", "ovs",    "qvb",     "qvo",    "qbr",    "tapvm",
};

// Substrings of adapter descriptions (Windows) or drivers (Linux) of virtual adapters.
const char* const kDescriptionWords[] = {
    "virtual",  "vmnet",    "virtualbox", "hyper-v virtual", "vpn",       "tap-windows", "wintun",  "wireguard",
    "tunnel",   "loopback", "pseudo",     "miniport",    "bluetooth", "kernel debug", "teredo", "isatap",
    "npcap",    "zerotier", "tailscale",  "docker",      "vethernet", "hamachi",     "openvpn", "fortinet",
    "anyconnect", "juniper", "pangp",     "globalprotect", "remote ndis", "mobile device", "veth", "vxlan",
    "bridge",   "bonding",  "dummy",      "ifb",         "macvlan",   "ipvlan",      "tun",     "vboxnet",
};

}  // namespace

bool NameLooksVirtual(const std::string& name) {
  std::string n = Lower(name);
  for (const char* p : kNamePrefixes) {
    if (n.compare(0, std::strlen(p), p) == 0) return true;
  }
  return false;
}

bool DescriptionLooksVirtual(const std::string& description) {
  std::string d = Lower(description);
  for (const char* w : kDescriptionWords) {
    if (d.find(w) != std::string::npos) return true;
  }
  return false;
}

std::string CanonicalMac(const unsigned char* b, size_t len) {
  if (len != 6) return "";
  bool zero = true;
  for (size_t i = 0; i < 6; i++) zero = zero && b[i] == 0;
  if (zero || (b[0] & 1) != 0) return "";  // unset, or a multicast/broadcast address
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < 6; i++) {
    if (i) s.push_back(':');
    s.push_back(kHex[b[i] >> 4]);
    s.push_back(kHex[b[i] & 0xF]);
  }
  return s;
}

bool IsLocallyAdministered(const std::string& mac) {
  if (mac.size() < 2) return false;
  int v = std::isdigit(static_cast<unsigned char>(mac[1])) ? mac[1] - '0' : (std::tolower(mac[1]) - 'a' + 10);
  return (v & 2) != 0;
}

}  // namespace licit
