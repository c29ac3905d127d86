// Windows: SMBIOS through GetSystemFirmwareTable('RSMB'), adapters through GetAdaptersAddresses
// plus GetIfEntry2 (hardware and filter flags, permanent address), MachineGuid from the registry.
// Facts only: which adapters count is decided in TypeScript (src/core/fingerprint/adapters.ts).
// Not compiled on the development machine (Linux); written against the Win32 documentation:
// GetSystemFirmwareTable (sysinfoapi.h), RawSMBIOSData layout, GetAdaptersAddresses
// (iphlpapi.h), MIB_IF_ROW2 / GetIfEntry2 (netioapi.h), RegGetValueW (winreg.h).
#if defined(_WIN32)

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <winsock2.h>
#include <ws2ipdef.h>
#include <windows.h>
#include <iphlpapi.h>
#include <netioapi.h>

#include <vector>

#include "host.h"

namespace licit {
namespace {

std::string Utf8(const wchar_t* w) {
  if (w == nullptr || *w == 0) return "";
  int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, nullptr, 0, nullptr, nullptr);
  if (n <= 1) return "";
  std::string s(static_cast<size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, w, -1, &s[0], n, nullptr, nullptr);
  s.resize(static_cast<size_t>(n - 1));
  return s;
}

// The header GetSystemFirmwareTable('RSMB') puts before the structure table.
#pragma pack(push, 1)
struct RawSmbiosHeader {
  BYTE used20_calling_method;
  BYTE major;
  BYTE minor;
  BYTE dmi_revision;
  DWORD length;
};
#pragma pack(pop)

}  // namespace

SmbiosResult ReadSmbios() {
  SmbiosResult r;
  // The provider signature 'RSMB' as the documentation builds it: a big-endian FOURCC.
  const DWORD kRsmb = (DWORD('R') << 24) | (DWORD('S') << 16) | (DWORD('M') << 8) | DWORD('B');
  UINT size = GetSystemFirmwareTable(kRsmb, 0, nullptr, 0);
  if (size < sizeof(RawSmbiosHeader)) return r;
  std::vector<BYTE> buf(size);
  if (GetSystemFirmwareTable(kRsmb, 0, buf.data(), size) != size) return r;
  RawSmbiosHeader h;
  memcpy(&h, buf.data(), sizeof h);
  size_t avail = size - sizeof h;
  size_t len = h.length < avail ? h.length : avail;
  smbios::Table t;
  t.major = h.major;
  t.minor = h.minor;
  if (smbios::ParseTable(buf.data() + sizeof h, len, h.major, h.minor, 0, &t) == smbios::Status::kOk) {
    r.table = t;
    r.source = "rsmb";
  }
  return r;
}

Interfaces ReadInterfaces(const std::string&) {
  Interfaces out;
  ULONG flags = GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST | GAA_FLAG_SKIP_DNS_SERVER | GAA_FLAG_SKIP_UNICAST;
  ULONG size = 16 * 1024;
  std::vector<BYTE> buf;
  ULONG rc = ERROR_BUFFER_OVERFLOW;
  for (int attempt = 0; attempt < 3 && rc == ERROR_BUFFER_OVERFLOW; attempt++) {
    buf.resize(size);
    rc = GetAdaptersAddresses(AF_UNSPEC, flags, nullptr, reinterpret_cast<PIP_ADAPTER_ADDRESSES>(buf.data()), &size);
  }
  if (rc != NO_ERROR) return out;
  for (auto* a = reinterpret_cast<PIP_ADAPTER_ADDRESSES>(buf.data()); a != nullptr; a = a->Next) {
    WindowsInterface w;
    w.name = a->AdapterName;  // the {GUID}, stable across renames
    w.description = Utf8(a->Description);
    w.friendly_name = Utf8(a->FriendlyName);
    w.if_type = a->IfType;
    ULONG len = a->PhysicalAddressLength < MAX_ADAPTER_ADDRESS_LENGTH ? a->PhysicalAddressLength : MAX_ADAPTER_ADDRESS_LENGTH;
    w.address = HexBytes(a->PhysicalAddress, len);
    MIB_IF_ROW2 row;
    SecureZeroMemory(&row, sizeof row);
    row.InterfaceLuid = a->Luid;
    if (GetIfEntry2(&row) == NO_ERROR) {
      w.if_entry = true;
      w.hardware_interface = row.InterfaceAndOperStatusFlags.HardwareInterface;
      w.filter_interface = row.InterfaceAndOperStatusFlags.FilterInterface;
      ULONG plen = row.PhysicalAddressLength < IF_MAX_PHYS_ADDRESS_LENGTH ? row.PhysicalAddressLength : IF_MAX_PHYS_ADDRESS_LENGTH;
      w.permanent_address = HexBytes(row.PermanentPhysicalAddress, plen);
    }
    out.windows_ifs.push_back(w);
  }
  return out;
}

std::string ReadMachineId() {
  wchar_t buf[128] = {0};
  DWORD size = sizeof buf - sizeof(wchar_t);
  DWORD type = 0;
  HKEY key;
  // The 64-bit view: a 32-bit process would otherwise read the WOW6432Node copy.
  if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\Microsoft\\Cryptography", 0, KEY_QUERY_VALUE | KEY_WOW64_64KEY, &key) != ERROR_SUCCESS) {
    return "";
  }
  LSTATUS rc = RegQueryValueExW(key, L"MachineGuid", nullptr, &type, reinterpret_cast<LPBYTE>(buf), &size);
  RegCloseKey(key);
  if (rc != ERROR_SUCCESS || type != REG_SZ) return "";
  buf[size / sizeof(wchar_t)] = 0;  // registry strings need not be terminated
  return Utf8(buf);
}

}  // namespace licit

#endif  // _WIN32
