#!/usr/bin/env bash
# Fuzz the SMBIOS parser with libFuzzer + AddressSanitizer for a bounded time.
#   scripts/fuzz-smbios.sh [SECONDS]      (default: $LICIT_FUZZ_SECONDS or 60)
# Exit 0: no crash found (or skipped: the reason is printed, starting with "SKIP:").
# Exit 1: the fuzzer found a crash; the reproducer is kept under native/build-cmake/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-${LICIT_FUZZ_SECONDS:-60}}"
out=native/build-cmake/fuzz

for tool in clang clang++ cmake; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool is not installed (apt-get install clang libclang-rt-14-dev cmake); the SMBIOS fuzzer did not run"
    exit 0
  fi
done
# libFuzzer and ASan runtimes come in a separate Debian package; probe with a one-line program.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' >"$probe/p.cc"
if ! clang++ -fsanitize=fuzzer,address "$probe/p.cc" -o "$probe/p" >/dev/null 2>&1; then
  echo "SKIP: clang cannot link -fsanitize=fuzzer,address (install libclang-rt-14-dev or your clang's compiler-rt); the SMBIOS fuzzer did not run"
  exit 0
fi

CC=clang CXX=clang++ cmake -S . -B "$out" -DLICIT_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$out" --target smbios_fuzz -j2 >/dev/null

# Seed with the real dumps; the working corpus lives in the build directory, never in the repo.
mkdir -p "$out/corpus"
cp test/native/fixtures/*.bin "$out/corpus/"
echo "fuzzing the SMBIOS parser for ${secs}s (libFuzzer + ASan + UBSan)"
"$out/smbios_fuzz" -max_total_time="$secs" -max_len=16384 -timeout=10 -rss_limit_mb=1024 \
  -print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" 2>"$out/fuzz.log" || {
  tail -n 60 "$out/fuzz.log"
  echo "FAIL: the fuzzer found a crash; reproducer in $out/ (crash-*), full log $out/fuzz.log"
  exit 1
}
grep -E '^stat::number_of_executed_units|^Done' "$out/fuzz.log" || true
echo "OK: no crash in ${secs}s"
