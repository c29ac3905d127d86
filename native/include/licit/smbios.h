// SMBIOS table parser: a pure function over bytes. No I/O, no allocation beyond the result,
// no exceptions, and no read outside [data, data + size) whatever the bytes are.
//
// Spec: DMTF DSP0134 (SMBIOS) 3.x. Structure types decoded: 1 System, 2 Baseboard, 3 Chassis,
// 4 Processor. Everything else is walked over and counted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace licit {
namespace smbios {

// One string field as it stands in the table. `present` is false when the structure is too short
// for the field, its string index is 0 or points past the string set. `text` keeps the bytes as
// they are (trailing spaces included, as dmidecode prints them); control bytes and invalid UTF-8
// become '.'. Whether a text is filler ("To Be Filled By O.E.M.", "0", an all-zero UUID) is
// decided in TypeScript (isPlaceholder in src/core/fingerprint/rules.ts), not here.
struct Field {
  std::string text;
  bool present = false;
};

struct System {
  bool found = false;
  Field manufacturer, product, version, serial;
  // Lower-case 8-4-4-4-12, byte order per the table's version (little-endian first three fields
  // from SMBIOS 2.6 on).
  Field uuid;
};

struct Baseboard {
  bool found = false;
  Field manufacturer, product, version, serial;
};

struct Chassis {
  bool found = false;
  Field manufacturer, version, serial;
  int type = 0;  // bits 6:0 of offset 05h; 0 when absent
};

struct Processor {
  Field socket, manufacturer, version;
  // Processor ID (offset 08h, 8 bytes) as dmidecode prints it: "D4 06 03 00 FF FB EB BF".
  Field id;
  bool populated = false;  // status bit 6 (offset 18h) when present
};

struct Table {
  // SMBIOS version from the entry point; 0.0 when parsed without one.
  int major = 0, minor = 0, docrev = 0;
  System system;
  Baseboard baseboard;
  Chassis chassis;
  std::vector<Processor> processors;
  size_t structures = 0;
};

enum class Status {
  kOk = 0,
  kNoEntryPoint,     // no _SM3_, _SM_ or _DMI_ anchor at offset 0
  kBadEntryPoint,    // anchor found, but its length or checksum is wrong
  kTableOutOfRange,  // the entry point names a table that is not inside the bytes given
  kEmptyTable,       // no complete structure could be read
};

// Short stable name of a status, for error messages ("bad-entry-point", ...).
const char* StatusName(Status s);

// Parse a dump as written by `dmidecode --dump-bin` (entry point at offset 0, table at the address
// the entry point names, which dmidecode rewrites to 0x20), or any buffer that starts with an
// entry point and holds the table at its stated offset.
Status ParseDump(const uint8_t* data, size_t size, Table* out);

// Parse an entry point alone (Linux /sys/firmware/dmi/tables/smbios_entry_point) for its version.
// Returns kOk and sets major/minor/docrev, or the reason it is not one.
Status ParseEntryPoint(const uint8_t* data, size_t size, Table* out);

// Walk a bare structure table (Linux /sys/firmware/dmi/tables/DMI, the payload of Windows
// GetSystemFirmwareTable('RSMB')). `major`/`minor` choose the UUID byte order; pass 0, 0 when
// unknown (treated as a modern table). `max_structures` 0 means no limit.
Status ParseTable(const uint8_t* data, size_t size, int major, int minor, size_t max_structures, Table* out);

}  // namespace smbios
}  // namespace licit
