// libFuzzer target for the SMBIOS parser. Built with clang -fsanitize=fuzzer,address by
// CMakeLists.txt (LICIT_FUZZ=ON); run bounded by scripts/fuzz-smbios.sh.
// Each input is tried as a whole dump (entry point + table), as a bare table of every version
// family, and as an entry point alone, so every path of the parser sees hostile bytes.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "licit/smbios.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace licit::smbios;
  // Copy into an exactly-sized heap block so ASan flags any read one byte past the end.
  uint8_t* buf = new uint8_t[size == 0 ? 1 : size];
  if (size) std::memcpy(buf, data, size);
  {
    Table t;
    ParseDump(buf, size, &t);
  }
  {
    Table t;
    ParseTable(buf, size, 2, 5, 0, &t);
    // Touch every decoded string so a bad length would surface.
    size_t total = t.system.uuid.text.size() + t.system.serial.text.size() + t.baseboard.serial.text.size();
    for (const auto& p : t.processors) total += p.id.text.size() + p.version.text.size();
    if (total == static_cast<size_t>(-1)) __builtin_trap();
  }
  {
    Table t;
    ParseTable(buf, size, 3, 0, size % 7, &t);
  }
  {
    Table t;
    ParseEntryPoint(buf, size, &t);
  }
  delete[] buf;
  return 0;
}
