// licit native addon: the N-API glue, kept thin. Every function takes plain values and returns
// plain values or status codes; argument validation and friendly errors live in src/node/native.ts.
// No C++ exceptions cross this boundary (NAPI_DISABLE_CPP_EXCEPTIONS). The addon reports facts:
// which adapters are physical and which SMBIOS strings are filler is TypeScript's to decide.
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

// Sets obj[key] = text when the field is in the table.
void Put(Napi::Object obj, const char* key, const Field& f) {
  if (f.present) obj.Set(key, f.text);
}

Napi::Object TableToJs(Napi::Env env, const Table& t) {
  Napi::Object o = Napi::Object::New(env);
  std::string version = std::to_string(t.major) + "." + std::to_string(t.minor);
  if (t.major >= 3) version += "." + std::to_string(t.docrev);
  o.Set("version", version);
  o.Set("structures", Napi::Number::New(env, static_cast<double>(t.structures)));

  Napi::Object sys = Napi::Object::New(env);
  Put(sys, "manufacturer", t.system.manufacturer);
  Put(sys, "product", t.system.product);
  Put(sys, "version", t.system.version);
  Put(sys, "serial", t.system.serial);
  Put(sys, "uuid", t.system.uuid);
  o.Set("system", sys);

  Napi::Object board = Napi::Object::New(env);
  Put(board, "manufacturer", t.baseboard.manufacturer);
  Put(board, "product", t.baseboard.product);
  Put(board, "version", t.baseboard.version);
  Put(board, "serial", t.baseboard.serial);
  o.Set("baseboard", board);

  Napi::Object chassis = Napi::Object::New(env);
  Put(chassis, "manufacturer", t.chassis.manufacturer);
  Put(chassis, "version", t.chassis.version);
  Put(chassis, "serial", t.chassis.serial);
  if (t.chassis.type != 0) chassis.Set("type", Napi::Number::New(env, t.chassis.type));
  o.Set("chassis", chassis);

  Napi::Array procs = Napi::Array::New(env, t.processors.size());
  for (size_t i = 0; i < t.processors.size(); i++) {
    const auto& p = t.processors[i];
    Napi::Object po = Napi::Object::New(env);
    Put(po, "socket", p.socket);
    Put(po, "manufacturer", p.manufacturer);
    Put(po, "version", p.version);
    Put(po, "id", p.id);
    po.Set("populated", Napi::Boolean::New(env, p.populated));
    procs.Set(static_cast<uint32_t>(i), po);
  }
  o.Set("processors", procs);
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

std::string OptionalString(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() > i && info[i].IsString() ? info[i].As<Napi::String>().Utf8Value() : std::string();
}

// Every interface of this OS as plain objects tagged with `os`; the shapes are the
// LinuxInterfaceFacts, WindowsInterfaceFacts and MacInterfaceFacts of src/core/fingerprint/facts.ts.
Napi::Array InterfacesToJs(Napi::Env env, const licit::Interfaces& ifs) {
  Napi::Array arr = Napi::Array::New(env);
  auto push = [&](Napi::Object o) { arr.Set(arr.Length(), o); };
  for (const auto& f : ifs.linux_ifs) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("os", "linux");
    o.Set("name", f.name);
    o.Set("hasDevice", Napi::Boolean::New(env, f.has_device));
    o.Set("type", f.type);
    o.Set("bridge", Napi::Boolean::New(env, f.bridge));
    o.Set("bonding", Napi::Boolean::New(env, f.bonding));
    o.Set("tunFlags", Napi::Boolean::New(env, f.tun_flags));
    o.Set("physfn", Napi::Boolean::New(env, f.physfn));
    o.Set("devtype", f.has_devtype ? Napi::Value(Napi::String::New(env, f.devtype)) : env.Null());
    o.Set("driver", f.driver);
    o.Set("ifalias", f.ifalias);
    o.Set("addrAssignType", f.addr_assign_type);
    o.Set("address", f.address);
    o.Set("permanentAddress", f.permanent_address);
    push(o);
  }
  for (const auto& f : ifs.windows_ifs) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("os", "win32");
    o.Set("name", f.name);
    o.Set("description", f.description);
    o.Set("friendlyName", f.friendly_name);
    o.Set("ifType", Napi::Number::New(env, static_cast<double>(f.if_type)));
    o.Set("address", f.address);
    o.Set("ifEntry", Napi::Boolean::New(env, f.if_entry));
    o.Set("hardwareInterface", Napi::Boolean::New(env, f.hardware_interface));
    o.Set("filterInterface", Napi::Boolean::New(env, f.filter_interface));
    o.Set("permanentAddress", f.permanent_address);
    push(o);
  }
  for (const auto& f : ifs.mac_ifs) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("os", "darwin");
    o.Set("name", f.name);
    o.Set("ether", Napi::Boolean::New(env, f.ether));
    o.Set("address", f.address);
    push(o);
  }
  return arr;
}

// networkInterfaces(sysfsNetRoot?: string) -> the facts of every network interface
Napi::Value NetworkInterfaces(const Napi::CallbackInfo& info) {
  return InterfacesToJs(info.Env(), licit::ReadInterfaces(OptionalString(info, 0)));
}

// hostIdentity(sysfsNetRoot?) -> { smbios, smbiosSource, cpu, interfaces, machineId }: one call,
// all the facts.
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
  o.Set("interfaces", InterfacesToJs(env, licit::ReadInterfaces(OptionalString(info, 0))));
  o.Set("machineId", licit::ReadMachineId());
  return o;
}

}  // namespace

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // 2: facts only (networkInterfaces, no placeholders); 1 judged adapters and placeholders here.
  exports.Set("abiVersion", Napi::Number::New(env, 2));
  exports.Set("lockFd", Napi::Function::New(env, LockFd, "lockFd"));
  exports.Set("unlockFd", Napi::Function::New(env, UnlockFd, "unlockFd"));
  exports.Set("parseSmbios", Napi::Function::New(env, ParseSmbios, "parseSmbios"));
  exports.Set("networkInterfaces", Napi::Function::New(env, NetworkInterfaces, "networkInterfaces"));
  exports.Set("hostIdentity", Napi::Function::New(env, HostIdentity, "hostIdentity"));
  return exports;
}

NODE_API_MODULE(licit_native, Init)
