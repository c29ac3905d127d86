// licit native addon: the N-API glue, kept thin. Every function takes plain values and returns
// plain values or status codes; argument validation and friendly errors live in src/node/native.ts.
// No C++ exceptions cross this boundary (NAPI_DISABLE_CPP_EXCEPTIONS).
#include <napi.h>

#include <string>

#include "host.h"
#include "licit/smbios.h"
#include "lock.h"

namespace {

using licit::smbios::Field;
using licit::smbios::Table;

Napi::Value TypeError(const Napi::Env& env, const char* msg) {
  Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

// lockFd(fd) -> 0 taken, 1 busy, <0 -errno
Napi::Value LockFd(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) return TypeError(info.Env(), "lockFd(fd: number)");
  return Napi::Number::New(info.Env(), licit::TryLockFd(info[0].As<Napi::Number>().Int32Value()));
}

// unlockFd(fd) -> 0 or -errno
Napi::Value UnlockFd(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) return TypeError(info.Env(), "unlockFd(fd: number)");
  return Napi::Number::New(info.Env(), licit::UnlockFd(info[0].As<Napi::Number>().Int32Value()));
}

// Sets obj[key] = text when the field is in the table; notes placeholders by their dotted path.
void Put(Napi::Object obj, const char* key, const Field& f, const std::string& path, Napi::Array placeholders) {
  if (!f.present) return;
  obj.Set(key, f.text);
  if (f.placeholder) placeholders.Set(placeholders.Length(), path + key);
}

Napi::Object TableToJs(Napi::Env env, const Table& t) {
  Napi::Object o = Napi::Object::New(env);
  Napi::Array ph = Napi::Array::New(env);
  std::string version = std::to_string(t.major) + "." + std::to_string(t.minor);
  if (t.major >= 3) version += "." + std::to_string(t.docrev);
  o.Set("version", version);
  o.Set("structures", Napi::Number::New(env, static_cast<double>(t.structures)));

  Napi::Object sys = Napi::Object::New(env);
  Put(sys, "manufacturer", t.system.manufacturer, "system.", ph);
  Put(sys, "product", t.system.product, "system.", ph);
  Put(sys, "version", t.system.version, "system.", ph);
  Put(sys, "serial", t.system.serial, "system.", ph);
  Put(sys, "uuid", t.system.uuid, "system.", ph);
  o.Set("system", sys);

  Napi::Object board = Napi::Object::New(env);
  Put(board, "manufacturer", t.baseboard.manufacturer, "baseboard.", ph);
  Put(board, "product", t.baseboard.product, "baseboard.", ph);
  Put(board, "version", t.baseboard.version, "baseboard.", ph);
  Put(board, "serial", t.baseboard.serial, "baseboard.", ph);
  o.Set("baseboard", board);

  Napi::Object chassis = Napi::Object::New(env);
  Put(chassis, "manufacturer", t.chassis.manufacturer, "chassis.", ph);
  Put(chassis, "version", t.chassis.version, "chassis.", ph);
  Put(chassis, "serial", t.chassis.serial, "chassis.", ph);
  if (t.chassis.type != 0) chassis.Set("type", Napi::Number::New(env, t.chassis.type));
  o.Set("chassis", chassis);

  Napi::Array procs = Napi::Array::New(env, t.processors.size());
  for (size_t i = 0; i < t.processors.size(); i++) {
    const auto& p = t.processors[i];
    Napi::Object po = Napi::Object::New(env);
    std::string path = "processors." + std::to_string(i) + ".";
    Put(po, "socket", p.socket, path, ph);
    Put(po, "manufacturer", p.manufacturer, path, ph);
    Put(po, "version", p.version, path, ph);
    Put(po, "id", p.id, path, ph);
    po.Set("populated", Napi::Boolean::New(env, p.populated));
    procs.Set(static_cast<uint32_t>(i), po);
  }
  o.Set("processors", procs);
  o.Set("placeholders", ph);
  return o;
}

// parseSmbios(bytes: Uint8Array, kind: 'dump' | 'table', major?: number, minor?: number)
//   -> { status: 'ok', table } | { status: '<reason>' }
Napi::Value ParseSmbios(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsString()) {
    return TypeError(env, "parseSmbios(bytes: Uint8Array, kind: 'dump' | 'table', major?, minor?)");
  }
  Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_uint8_array) return TypeError(env, "parseSmbios: bytes must be a Uint8Array");
  Napi::Uint8Array bytes = ta.As<Napi::Uint8Array>();
  std::string kind = info[1].As<Napi::String>().Utf8Value();
  int major = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : 0;
  int minor = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Int32Value() : 0;
  Table t;
  licit::smbios::Status st;
  if (kind == "dump") {
    st = licit::smbios::ParseDump(bytes.Data(), bytes.ByteLength(), &t);
  } else {
    t.major = major;
    t.minor = minor;
    st = licit::smbios::ParseTable(bytes.Data(), bytes.ByteLength(), major, minor, 0, &t);
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("status", licit::smbios::StatusName(st));
  if (st == licit::smbios::Status::kOk) r.Set("table", TableToJs(env, t));
  return r;
}

Napi::Array AdaptersToJs(Napi::Env env, const std::vector<licit::Adapter>& list) {
  Napi::Array arr = Napi::Array::New(env, list.size());
  for (size_t i = 0; i < list.size(); i++) {
    Napi::Object a = Napi::Object::New(env);
    a.Set("name", list[i].name);
    a.Set("mac", list[i].mac);
    a.Set("origin", list[i].origin);
    arr.Set(static_cast<uint32_t>(i), a);
  }
  return arr;
}

std::string OptionalString(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() > i && info[i].IsString() ? info[i].As<Napi::String>().Utf8Value() : std::string();
}

// networkAdapters(sysfsNetRoot?: string) -> physical adapters
Napi::Value NetworkAdapters(const Napi::CallbackInfo& info) {
  return AdaptersToJs(info.Env(), licit::ReadAdapters(OptionalString(info, 0)));
}

// adapterReport(sysfsNetRoot?: string) -> { adapters, rejected: [{ name, reason }] }, for support
// and tests: which rule left each adapter out.
Napi::Value AdapterReport(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<licit::Rejected> rejected;
  std::vector<licit::Adapter> adapters = licit::ReadAdapters(OptionalString(info, 0), &rejected);
  Napi::Object o = Napi::Object::New(env);
  o.Set("adapters", AdaptersToJs(env, adapters));
  Napi::Array r = Napi::Array::New(env, rejected.size());
  for (size_t i = 0; i < rejected.size(); i++) {
    Napi::Object x = Napi::Object::New(env);
    x.Set("name", rejected[i].name);
    x.Set("reason", rejected[i].reason);
    r.Set(static_cast<uint32_t>(i), x);
  }
  o.Set("rejected", r);
  return o;
}

// hostIdentity() -> { smbios, smbiosSource, cpu, adapters, machineId }: one call, all the facts.
Napi::Value HostIdentity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  licit::SmbiosResult s = licit::ReadSmbios();
  o.Set("smbiosSource", s.source);
  o.Set("smbios", s.source == "none" ? env.Null() : Napi::Value(TableToJs(env, s.table)));
  licit::CpuInfo c = licit::ReadCpu();
  Napi::Object cpu = Napi::Object::New(env);
  cpu.Set("vendor", c.vendor);
  cpu.Set("signature", c.signature);
  cpu.Set("brand", c.brand);
  cpu.Set("hypervisor", Napi::Boolean::New(env, c.hypervisor));
  cpu.Set("hypervisorVendor", c.hypervisor_vendor);
  o.Set("cpu", cpu);
  o.Set("adapters", AdaptersToJs(env, licit::ReadAdapters(OptionalString(info, 0))));
  o.Set("machineId", licit::ReadMachineId());
  return o;
}

}  // namespace

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  exports.Set("lockFd", Napi::Function::New(env, LockFd, "lockFd"));
  exports.Set("unlockFd", Napi::Function::New(env, UnlockFd, "unlockFd"));
  exports.Set("parseSmbios", Napi::Function::New(env, ParseSmbios, "parseSmbios"));
  exports.Set("networkAdapters", Napi::Function::New(env, NetworkAdapters, "networkAdapters"));
  exports.Set("adapterReport", Napi::Function::New(env, AdapterReport, "adapterReport"));
  exports.Set("hostIdentity", Napi::Function::New(env, HostIdentity, "hostIdentity"));
  return exports;
}

NODE_API_MODULE(licit_native, Init)
