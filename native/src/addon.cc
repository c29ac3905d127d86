// licit native addon: N-API glue. Placeholder exports until the hardware-identity work lands.
#include <napi.h>

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  return exports;
}

NODE_API_MODULE(licit_native, Init)
