#!/usr/bin/env bash
# Fuzzes each harness for SECONDS (default 10) from its seed corpus, in a clang build with
# AddressSanitizer, UndefinedBehaviorSanitizer and libFuzzer (build-fuzz/, CMakePresets.json
# "fuzz"). New inputs go to a scratch corpus, not the repository's; a crash leaves its
# input as build-fuzz/crash-* and fails the script. Prints executions per harness.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-10}
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target fuzz_libsvm fuzz_csv fuzz_bin fuzz_model fuzz_checkpoint fuzz_config >&2
for name in libsvm csv bin model checkpoint config; do
  scratch=$(mktemp -d)
  log=build-fuzz/fuzz_${name}.log
  if ! (cd build-fuzz && ASAN_OPTIONS=detect_leaks=0 "./bin/fuzz_${name}" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
        "$scratch" "../tests/fuzz/corpus/${name}" $([ "$name" = libsvm ] && echo ../tests/corpus/libsvm)) >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz_${name}: FAILED (see $log)" >&2
    exit 1
  fi
  echo "fuzz_${name}: $(grep -o 'Done [0-9]* runs' "$log" | tail -1) in ${seconds} s"
  rm -rf "$scratch"
done
