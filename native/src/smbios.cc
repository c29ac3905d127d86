// SMBIOS parser (see include/licit/smbios.h). Every read goes through Bytes, which checks bounds,
// so hostile or truncated tables can only end the walk early, never read past the buffer.
#include "licit/smbios.h"

#include <cstring>

namespace licit {
namespace smbios {
namespace {

// A bounds-checked view. Reads past the end return 0 and report failure through ok().
class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  size_t size() const { return size_; }
  bool has(size_t off, size_t n) const { return off <= size_ && n <= size_ - off; }
  uint8_t u8(size_t off) const { return off < size_ ? data_[off] : 0; }
  uint16_t u16(size_t off) const { return static_cast<uint16_t>(u8(off) | (u8(off + 1) << 8)); }
  uint32_t u32(size_t off) const { return u16(off) | (static_cast<uint32_t>(u16(off + 2)) << 16); }
  uint64_t u64(size_t off) const { return u32(off) | (static_cast<uint64_t>(u32(off + 4)) << 32); }
  const uint8_t* at(size_t off) const { return data_ + off; }  // only after has(off, n)
  Bytes sub(size_t off, size_t n) const {
    if (!has(off, n)) return Bytes(data_, 0);
    return Bytes(data_ + off, n);
  }
  bool checksum_ok(size_t off, size_t n) const {
    if (!has(off, n)) return false;
    uint8_t sum = 0;
    for (size_t i = 0; i < n; i++) sum = static_cast<uint8_t>(sum + data_[off + i]);
    return sum == 0;
  }
  bool starts_with(size_t off, const char* anchor) const {
    size_t n = std::strlen(anchor);
    return has(off, n) && std::memcmp(data_ + off, anchor, n) == 0;
  }

 private:
  const uint8_t* data_;
  size_t size_;
};

// Copy text, replacing control bytes and invalid UTF-8 with '.', as dmidecode does for control
// bytes, so the result is always printable, valid UTF-8.
std::string Clean(const uint8_t* p, size_t n) {
  std::string s;
  s.reserve(n);
  for (size_t i = 0; i < n;) {
    uint8_t c = p[i];
    if (c < 0x80) {
      s.push_back(c < 0x20 || c == 0x7F ? '.' : static_cast<char>(c));
      i++;
      continue;
    }
    size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    bool valid = len != 0 && i + len <= n && c >= 0xC2 && c <= 0xF4;
    for (size_t k = 1; valid && k < len; k++) valid = (p[i + k] & 0xC0) == 0x80;
    if (valid && len == 3) {
      uint8_t c1 = p[i + 1];
      valid = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);  // overlong, surrogates
    }
    if (valid && len == 4) {
      uint8_t c1 = p[i + 1];
      valid = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);  // overlong, > U+10FFFF
    }
    if (!valid) {
      s.push_back('.');
      i++;
    } else {
      s.append(reinterpret_cast<const char*>(p + i), len);
      i += len;
    }
  }
  return s;
}

// One structure: formatted area [0, length) and its string set after it.
struct Structure {
  Bytes formatted;
  Bytes strings;  // from the end of the formatted area up to (excluding) the final double NUL
  uint8_t type() const { return formatted.u8(0); }
  uint8_t length() const { return formatted.u8(1); }

  // String number `index` (1-based) of the string set; not present when 0 or out of range.
  Field str(size_t offset) const {
    Field f;
    if (offset >= length()) return f;
    uint8_t index = formatted.u8(offset);
    if (index == 0) return f;
    size_t pos = 0;
    for (uint8_t k = 1; pos < strings.size(); k++) {
      size_t end = pos;
      while (end < strings.size() && strings.u8(end) != 0) end++;
      if (k == index) {
        if (end == pos) return f;  // an empty string is the terminator, not a string
        f.text = Clean(strings.at(pos), end - pos);
        f.present = true;
        return f;
      }
      if (end == pos) return f;  // reached the end of the set
      pos = end + 1;
    }
    return f;
  }
};

const char kHex[] = "0123456789abcdef";
const char kHexUpper[] = "0123456789ABCDEF";

void PutHex(std::string* s, uint8_t b, const char* digits) {
  s->push_back(digits[b >> 4]);
  s->push_back(digits[b & 0xF]);
}

// UUID at formatted offset 08h. From SMBIOS 2.6 the first three fields are little-endian
// (DSP0134 7.2.1); earlier tables were inconsistent and dmidecode prints them as stored.
Field Uuid(const Structure& st, int major, int minor) {
  Field f;
  if (st.length() < 0x18 || !st.formatted.has(8, 16)) return f;
  const uint8_t* u = st.formatted.at(8);
  bool little = major == 0 || major > 2 || (major == 2 && minor >= 6);
  static const int kLe[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) f.text.push_back('-');
    PutHex(&f.text, u[little ? kLe[i] : i], kHex);
  }
  f.present = true;
  return f;
}

void Decode(const Structure& st, int major, int minor, Table* out) {
  switch (st.type()) {
    case 1:
      if (out->system.found || st.length() < 8) return;
      out->system.found = true;
      out->system.manufacturer = st.str(4);
      out->system.product = st.str(5);
      out->system.version = st.str(6);
      out->system.serial = st.str(7);
      out->system.uuid = Uuid(st, major, minor);
      return;
    case 2:
      if (out->baseboard.found || st.length() < 8) return;
      out->baseboard.found = true;
      out->baseboard.manufacturer = st.str(4);
      out->baseboard.product = st.str(5);
      out->baseboard.version = st.str(6);
      out->baseboard.serial = st.str(7);
      return;
    case 3:
      if (out->chassis.found || st.length() < 9) return;
      out->chassis.found = true;
      out->chassis.manufacturer = st.str(4);
      out->chassis.type = st.formatted.u8(5) & 0x7F;
      out->chassis.version = st.str(6);
      out->chassis.serial = st.str(7);
      return;
    case 4: {
      if (st.length() < 0x1A || out->processors.size() >= 1024) return;
      Processor p;
      p.socket = st.str(4);
      p.manufacturer = st.str(7);
      p.version = st.str(0x10);
      for (size_t i = 0; i < 8; i++) {
        uint8_t b = st.formatted.u8(8 + i);
        if (i) p.id.text.push_back(' ');
        PutHex(&p.id.text, b, kHexUpper);
      }
      p.id.present = true;
      p.populated = (st.formatted.u8(0x18) & 0x40) != 0;
      out->processors.push_back(std::move(p));
      return;
    }
    default:
      return;
  }
}

// 2.x entry point versions that firmware got wrong; dmidecode corrects the same ones.
void FixVersion(Table* t) {
  int v = (t->major << 8) | t->minor;
  if (v == 0x021F || v == 0x0221) t->major = 2, t->minor = 3;
  if (v == 0x0233) t->major = 2, t->minor = 6;
}

struct EntryPoint {
  uint64_t address = 0;
  uint64_t length = 0;
  size_t count = 0;  // 0: walk to the end-of-table structure or the length
};

Status ReadEntryPoint(const Bytes& b, Table* t, EntryPoint* ep) {
  if (b.starts_with(0, "_SM3_")) {
    uint8_t len = b.u8(6);
    if (len < 0x18 || !b.checksum_ok(0, len)) return Status::kBadEntryPoint;
    t->major = b.u8(7);
    t->minor = b.u8(8);
    t->docrev = b.u8(9);
    ep->length = b.u32(0x0C);  // maximum size; the walk stops at type 127
    ep->address = b.u64(0x10);
    return Status::kOk;
  }
  if (b.starts_with(0, "_SM_")) {
    uint8_t len = b.u8(5);
    // 0x1E is a common firmware mistake for 0x1F (SMBIOS 2.1); dmidecode accepts it too.
    if (len < 0x1E || !b.checksum_ok(0, len) || !b.starts_with(0x10, "_DMI_") || !b.checksum_ok(0x10, 0x0F)) {
      return Status::kBadEntryPoint;
    }
    t->major = b.u8(6);
    t->minor = b.u8(7);
    FixVersion(t);
    ep->length = b.u16(0x16);
    ep->address = b.u32(0x18);
    ep->count = b.u16(0x1C);
    return Status::kOk;
  }
  if (b.starts_with(0, "_DMI_")) {
    if (!b.checksum_ok(0, 0x0F)) return Status::kBadEntryPoint;
    uint8_t bcd = b.u8(0x0E);
    t->major = bcd >> 4;
    t->minor = bcd & 0x0F;
    ep->length = b.u16(0x06);
    ep->address = b.u32(0x08);
    ep->count = b.u16(0x0C);
    return Status::kOk;
  }
  return Status::kNoEntryPoint;
}

}  // namespace

const char* StatusName(Status s) {
  switch (s) {
    case Status::kOk: return "ok";
    case Status::kNoEntryPoint: return "no-entry-point";
    case Status::kBadEntryPoint: return "bad-entry-point";
    case Status::kTableOutOfRange: return "table-out-of-range";
    case Status::kEmptyTable: return "empty-table";
  }
  return "unknown";
}

Status ParseTable(const uint8_t* data, size_t size, int major, int minor, size_t max_structures, Table* out) {
  Bytes b(data, size);
  size_t pos = 0;
  size_t count = 0;
  while (b.has(pos, 4)) {
    if (max_structures != 0 && count >= max_structures) break;
    uint8_t len = b.u8(pos + 1);
    if (len < 4 || !b.has(pos, len)) break;  // dmidecode: "Invalid entry length"
    // The string set ends with a double NUL; search from the end of the formatted area.
    size_t s = pos + len;
    size_t end = s;
    while (b.has(end, 2) && !(b.u8(end) == 0 && b.u8(end + 1) == 0)) end++;
    if (!b.has(end, 2)) break;  // truncated: no terminator inside the buffer
    Structure st{b.sub(pos, len), b.sub(s, end - s)};
    count++;
    Decode(st, major, minor, out);
    pos = end + 2;
    if (st.type() == 127) break;  // end-of-table
  }
  out->structures = count;
  return count == 0 ? Status::kEmptyTable : Status::kOk;
}

Status ParseEntryPoint(const uint8_t* data, size_t size, Table* out) {
  EntryPoint ep;
  return ReadEntryPoint(Bytes(data, size), out, &ep);
}

Status ParseDump(const uint8_t* data, size_t size, Table* out) {
  Bytes b(data, size);
  EntryPoint ep;
  Status st = ReadEntryPoint(b, out, &ep);
  if (st != Status::kOk) return st;
  if (ep.address >= size) return Status::kTableOutOfRange;
  size_t off = static_cast<size_t>(ep.address);
  size_t avail = size - off;
  // A 3.x length is a maximum; a 2.x length is exact but firmware overstates it sometimes.
  size_t len = ep.length == 0 || ep.length > avail ? avail : static_cast<size_t>(ep.length);
  return ParseTable(data + off, len, out->major, out->minor, ep.count, out);
}

}  // namespace smbios
}  // namespace licit
