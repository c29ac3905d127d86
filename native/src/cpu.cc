// CPU identity: CPUID on x86/x64 (all OSes), MIDR / brand strings elsewhere.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "host.h"

#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <intrin.h>
#define LICIT_X86 1
static void Cpuid(uint32_t leaf, uint32_t r[4]) {
  int v[4];
  __cpuidex(v, static_cast<int>(leaf), 0);
  for (int i = 0; i < 4; i++) r[i] = static_cast<uint32_t>(v[i]);
}
#elif (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#include <cpuid.h>
#define LICIT_X86 1
static void Cpuid(uint32_t leaf, uint32_t r[4]) {
  __cpuid_count(leaf, 0, r[0], r[1], r[2], r[3]);
}
#endif

#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif
#if defined(_WIN32)
#include <windows.h>
#endif

namespace licit {
namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\n") - b + 1);
}

#if defined(LICIT_X86) || defined(__APPLE__)
std::string Hex8(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}
#endif

#if defined(__linux__) && !defined(LICIT_X86)
// ARM and others on Linux: the MIDR register as the kernel exposes it, else /proc/cpuinfo.
void LinuxNonX86(CpuInfo* c) {
  std::ifstream midr("/sys/devices/system/cpu/cpu0/regs/identification/midr_el1");
  std::string line;
  if (std::getline(midr, line)) c->signature = Trim(line);
  std::ifstream info("/proc/cpuinfo");
  std::string implementer, part, variant, revision;
  while (std::getline(info, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string k = Trim(line.substr(0, colon)), v = Trim(line.substr(colon + 1));
    if (k == "CPU implementer" && implementer.empty()) implementer = v;
    else if (k == "CPU part" && part.empty()) part = v;
    else if (k == "CPU variant" && variant.empty()) variant = v;
    else if (k == "CPU revision" && revision.empty()) revision = v;
    else if ((k == "model name" || k == "Model" || k == "cpu") && c->brand.empty()) c->brand = v;
    else if (k == "flags" && v.find("hypervisor") != std::string::npos) c->hypervisor = true;
  }
  if (c->signature.empty() && !implementer.empty()) c->signature = implementer + "-" + variant + "-" + part + "-" + revision;
  c->vendor = implementer.empty() ? "unknown" : "ARM implementer " + implementer;
}
#endif

}  // namespace

CpuInfo ReadCpu() {
  CpuInfo c;
#if defined(LICIT_X86)
  uint32_t r[4];
  Cpuid(0, r);
  uint32_t max_leaf = r[0];
  char vendor[13] = {0};
  std::memcpy(vendor, &r[1], 4);  // EBX, EDX, ECX spell the vendor
  std::memcpy(vendor + 4, &r[3], 4);
  std::memcpy(vendor + 8, &r[2], 4);
  c.vendor = vendor;
  if (max_leaf >= 1) {
    Cpuid(1, r);
    c.signature = Hex8(r[0]);  // family/model/stepping; EBX (APIC id, core count) is not identity
    c.hypervisor = (r[2] >> 31) & 1;
  }
  if (c.hypervisor) {
    Cpuid(0x40000000, r);
    char hv[13] = {0};
    std::memcpy(hv, &r[1], 4);
    std::memcpy(hv + 4, &r[2], 4);
    std::memcpy(hv + 8, &r[3], 4);
    for (char& ch : hv)
      if (ch != 0 && (ch < 0x20 || ch > 0x7E)) ch = '.';
    c.hypervisor_vendor = Trim(hv);
  }
  Cpuid(0x80000000, r);
  if (r[0] >= 0x80000004) {
    char brand[49] = {0};
    for (uint32_t i = 0; i < 3; i++) {
      Cpuid(0x80000002 + i, r);
      std::memcpy(brand + 16 * i, r, 16);
    }
    c.brand = Trim(brand);
  }
#elif defined(__APPLE__)
  char buf[256];
  size_t len = sizeof buf;
  if (sysctlbyname("machdep.cpu.brand_string", buf, &len, nullptr, 0) == 0) c.brand = Trim(std::string(buf, strnlen(buf, len)));
  uint32_t family = 0;
  len = sizeof family;
  if (sysctlbyname("hw.cpufamily", &family, &len, nullptr, 0) == 0) c.signature = Hex8(family);
  c.vendor = "Apple";
  int hv = 0;
  len = sizeof hv;
  if (sysctlbyname("kern.hv_vmm_present", &hv, &len, nullptr, 0) == 0) c.hypervisor = hv != 0;
#elif defined(_WIN32)
  // Windows on ARM: the registry keeps the processor identifier and name.
  wchar_t buf[256];
  DWORD size = sizeof buf;
  if (RegGetValueW(HKEY_LOCAL_MACHINE, L"HARDWARE\\DESCRIPTION\\System\\CentralProcessor\\0", L"ProcessorNameString",
                   RRF_RT_REG_SZ, nullptr, buf, &size) == ERROR_SUCCESS) {
    char out[512];
    int n = WideCharToMultiByte(CP_UTF8, 0, buf, -1, out, sizeof out, nullptr, nullptr);
    if (n > 0) c.brand = Trim(out);
  }
  size = sizeof buf;
  if (RegGetValueW(HKEY_LOCAL_MACHINE, L"HARDWARE\\DESCRIPTION\\System\\CentralProcessor\\0", L"Identifier",
                   RRF_RT_REG_SZ, nullptr, buf, &size) == ERROR_SUCCESS) {
    char out[512];
    int n = WideCharToMultiByte(CP_UTF8, 0, buf, -1, out, sizeof out, nullptr, nullptr);
    if (n > 0) c.signature = Trim(out);
  }
  c.vendor = "ARM";
#elif defined(__linux__)
  LinuxNonX86(&c);
#endif
  return c;
}

}  // namespace licit
