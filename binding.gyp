{
  "targets": [
    {
      "target_name": "licit_native",
      "sources": [
        "native/src/addon.cc",
        "native/src/lock.cc",
        "native/src/smbios.cc",
        "native/src/cpu.cc",
        "native/src/host_linux.cc",
        "native/src/host_win.cc",
        "native/src/host_mac.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native/include"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-fno-exceptions", "-Wall", "-Wextra"],
      "xcode_settings": {
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "MACOSX_DEPLOYMENT_TARGET": "10.15",
        "GCC_ENABLE_CPP_EXCEPTIONS": "NO"
      },
      "msvs_settings": { "VCCLCompilerTool": { "AdditionalOptions": ["/std:c++17"] } },
      "conditions": [
        ["OS=='win'", { "libraries": ["iphlpapi.lib", "advapi32.lib"], "defines": ["_WIN32_WINNT=0x0600"] }],
        ["OS=='mac'", { "libraries": ["-framework IOKit", "-framework CoreFoundation"] }]
      ]
    }
  ]
}
