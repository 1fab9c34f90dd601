#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is needed, builds
# with warnings as errors, and runs every test. CI runs exactly this (.ci/run). Stages:
#   1. default build (g++, warnings as errors): unit and end-to-end tests, in parallel
#   2. asan build (g++, ASan + UBSan + LeakSanitizer): the same tests; any sanitizer report
#      fails the run, even from a process whose exit status a test does not look at
#   3. the shared robustness corpus (../shared/corpus/robustness, when present) through the
#      asan `synprobe analyze`: no crash, hang, leak or stray stderr line
#   4. fuzzing (clang, libFuzzer): each target FUZZ_SECONDS (default 60), two at a time;
#      a finding fails the run and is kept under tests/fuzz/regressions/
#   5. the network-namespace lab (root), alone and one test at a time, so that its timing
#      checks (per-hop RTTs, tcpdump keeping up) never compete for the CPU
# A failing stage does not stop the later ones (a build failure does); the exit status is
# 1 when any stage failed. Arguments are passed to every ctest run (e.g. -R PATTERN).
# Environment: FUZZ_SECONDS (default 60; 0 skips stage 4), SYNPROBE_SHARED_DIR (../shared).
# Wall time, cold, on a 2-core machine: docs/HARDENING.md ("CI").
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "test.sh: run as root: the lab tests create network namespaces (sudo $0)" >&2
  exit 1
fi

start=$(date +%s)
stage_start=$start
failed=()
timings=()
stage() {  # stage NAME: closes the previous stage's timing and starts NAME's
  local now
  now=$(date +%s)
  [ -n "${current:-}" ] && timings+=("$current $((now - stage_start)) s")
  current=$1
  stage_start=$now
  echo "test.sh: == $1 ($((now - start)) s)"
}
fail() { failed+=("$1"); echo "test.sh: FAILED: $1" >&2; }

fuzz_seconds=${FUZZ_SECONDS:-60}
shared=${SYNPROBE_SHARED_DIR:-$PWD/../shared}
jobs=$(nproc)

stage install-deps
bash scripts/install-deps.sh

stage "default build"
cmake --preset default
cmake --build --preset default -j "$jobs"
stage "default tests"
ctest --preset default -j "$jobs" -LE 'lab|stress' "$@" || fail "default tests"

stage "asan build"
cmake --preset asan
cmake --build --preset asan -j "$jobs"
stage "asan tests"
# Every sanitizer report ends its process with a failure status (UBSan does not recover),
# which fails the test that looks at it. For a process whose status a test ignores:
# AddressSanitizer and LeakSanitizer reports also go to files (log_path), and any file there
# fails the run (the directory is writable by all: probe and trace become an unprivileged
# user before they exit); UBSan writes to stderr whatever log_path says (g++ 12, measured),
# so every test's whole output (LastTest.log) is searched for "runtime error:" as well.
sanitizer_logs=$(mktemp -d /tmp/synprobe-sanitizers.XXXXXX)
chmod 1777 "$sanitizer_logs"
ASAN_OPTIONS="log_path=$sanitizer_logs/asan:detect_leaks=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  ctest --preset asan -j "$jobs" -LE 'lab|stress|bench' "$@" ||
  fail "asan tests"
if ls "$sanitizer_logs"/asan.* >/dev/null 2>&1; then
  for f in "$sanitizer_logs"/asan.*; do echo "---- $f"; head -60 "$f"; done
  fail "AddressSanitizer/LeakSanitizer reports ($(ls "$sanitizer_logs"/asan.* | wc -l) files)"
fi
if grep -E -m 20 'runtime error:|ERROR: (AddressSanitizer|LeakSanitizer)' build-asan/Testing/Temporary/LastTest.log; then
  fail "sanitizer reports in the tests' output"
fi
rm -rf "$sanitizer_logs"

if [ -d "$shared/corpus/robustness" ]; then
  stage "robustness corpus"
  python3 tests/fuzz/robustness.py build-asan/src/synprobe "$shared/corpus/robustness" --timeout 60 ||
    fail "robustness corpus"
else
  echo "test.sh: no $shared/corpus/robustness: robustness corpus skipped"
fi

if [ "$fuzz_seconds" != 0 ]; then
  stage "fuzzing (${fuzz_seconds} s per target)"
  # The fuzzing log in docs/HARDENING.md is kept by hand from runs on purpose, not by CI.
  FUZZ_NO_LOG=1 FUZZ_JOBS=$jobs SYNPROBE_SHARED_DIR=$shared tests/fuzz/run.sh "$fuzz_seconds" || fail "fuzzing"
fi

stage "lab"
ctest --preset default -L '^lab$' "$@" || fail "lab"

stage end
for t in "${timings[@]}"; do echo "test.sh:   $t"; done
echo "test.sh: finished in $(( $(date +%s) - start )) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "test.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
