// licit native addon: the N-API glue, kept thin. Every function takes plain values and returns
// plain values or status codes; argument validation and friendly errors live in src/node/native.ts.
// No C++ exceptions cross this boundary (NAPI_DISABLE_CPP_EXCEPTIONS).
#include <napi.h>

#include "lock.h"

namespace {

bool IsInt(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() > i && info[i].IsNumber();
}

Napi::Value TypeError(const Napi::Env& env, const char* msg) {
  Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

// lockFd(fd) -> 0 taken, 1 busy, <0 -errno
Napi::Value LockFd(const Napi::CallbackInfo& info) {
  if (!IsInt(info, 0)) return TypeError(info.Env(), "lockFd(fd: number)");
  return Napi::Number::New(info.Env(), licit::TryLockFd(info[0].As<Napi::Number>().Int32Value()));
}

// unlockFd(fd) -> 0 or -errno
Napi::Value UnlockFd(const Napi::CallbackInfo& info) {
  if (!IsInt(info, 0)) return TypeError(info.Env(), "unlockFd(fd: number)");
  return Napi::Number::New(info.Env(), licit::UnlockFd(info[0].As<Napi::Number>().Int32Value()));
}

}  // namespace

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  exports.Set("lockFd", Napi::Function::New(env, LockFd, "lockFd"));
  exports.Set("unlockFd", Napi::Function::New(env, UnlockFd, "unlockFd"));
  return exports;
}

NODE_API_MODULE(licit_native, Init)
