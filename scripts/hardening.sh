#!/usr/bin/env bash
# Hardening checks (docs/HARDENING.md), apart from scripts/test.sh:
#  (a) the asan preset (ASan + UBSan, g++): build, then every test but the lab's;
#  (b) each libFuzzer target for FUZZ_SECONDS (default 60), two at a time on two cores
#      (tests/fuzz/run.sh: crashes land in tests/fuzz/regressions/, one log row per target);
#  (c) every file of the shared robustness corpus through the asan `synprobe analyze`.
#
#   sudo scripts/hardening.sh [FUZZ_SECONDS]
# Environment: ASAN_BUILD_DIR (default: the preset's build-asan), FUZZ_BUILD_DIR (build-fuzz),
#              SYNPROBE_SHARED_DIR (default ../shared; (c) is skipped without it).
# scripts/test.sh (CI) runs the same three stages; this script is for longer fuzzing runs by
# hand. Needs clang and libclang-rt-14-dev for (b) (scripts/install-deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds=${1:-60}
asan_dir=${ASAN_BUILD_DIR:-build-asan}
shared=${SYNPROBE_SHARED_DIR:-$PWD/../shared}
start=$(date +%s)
status=0

step() { echo "hardening.sh: $* ($(( $(date +%s) - start )) s)"; }

step "asan: build"
cmake --preset asan -B "$asan_dir" >/dev/null
cmake --build "$asan_dir" -j "$(nproc)"
step "asan: tests"
ctest --test-dir "$asan_dir" -LE 'lab|stress|bench' -j "$(nproc)" --output-on-failure || status=1

step "fuzzing: ${fuzz_seconds} s per target"
tests/fuzz/run.sh "$fuzz_seconds" || status=1

if [ -d "$shared/corpus/robustness" ]; then
  step "robustness corpus under asan"
  python3 tests/fuzz/robustness.py "$asan_dir/src/synprobe" "$shared/corpus/robustness" --timeout 60 || status=1
fi
step "finished, status $status"
exit $status
