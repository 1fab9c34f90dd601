#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, preset "fuzz") and runs each for SECONDS (default 60)
# on its seed corpus; keeps every crash as tests/fuzz/regressions/<target>-<hash> and
# appends one line per target to the fuzzing log in docs/HARDENING.md.
#
#   tests/fuzz/run.sh [SECONDS]
#
# Environment:
#   FUZZ_BUILD_DIR   build directory (default: build-fuzz, as the preset)
#   FUZZ_TARGETS     targets to run (default: all four)
#   FUZZ_JOBS        targets fuzzed at the same time (default: nproc; each uses one core)
#   FUZZ_NO_LOG=1    do not append to docs/HARDENING.md
#   SYNPROBE_SHARED_DIR  the shared material (default: ../shared); its corpus/robustness
#                    files seed the capture and frame targets when present (read in place)
# Exit status: 0 when no target found anything, 1 when one did (the inputs are kept) or a
# fuzzer did not run to its time (its log's end is printed).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
seconds=${1:-60}
build=${FUZZ_BUILD_DIR:-build-fuzz}
targets=(${FUZZ_TARGETS:-decode_frame quote capture_file json_report})
jobs=${FUZZ_JOBS:-$(nproc)}
shared=${SYNPROBE_SHARED_DIR:-$root/../shared}
regressions=$root/tests/fuzz/regressions

command -v clang++ >/dev/null || { echo "run.sh: clang++ is missing (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }

start=$(date +%s)
cmake --preset fuzz -B "$build" >/dev/null
cmake --build "$build" -j "$(nproc)" --target synprobe $(printf 'fuzz_%s ' "${targets[@]}") >/dev/null
echo "run.sh: built in $(( $(date +%s) - start )) s"

work=$(mktemp -d /tmp/synprobe-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Seeds: the samples, the shared robustness corpus (when present), and JSON results of both.
captures=("$root"/samples/*/capture.pcapng)
[ -d "$shared/corpus/robustness" ] && captures+=("$shared"/corpus/robustness/*.pcap*)
mkdir -p "$work/seeds/capture_file" "$work/seeds/json_report"
ln -s "${captures[@]}" "$work/seeds/capture_file/" 2>/dev/null || true
python3 "$root/tests/fuzz/make_seeds.py" "$work/seeds" "${captures[@]}"
n=0
for c in "${captures[@]}"; do
  n=$((n + 1))
  timeout 20 "$build/src/synprobe" analyze "$c" --json -o "$work/seeds/json_report/$n.json" 2>/dev/null || true
done
cp "$root"/samples/*/*.json "$work/seeds/json_report/" 2>/dev/null || true
echo "run.sh: seeds: $(ls "$work/seeds/json_report" | wc -l) JSON results, ${#captures[@]} captures"

max_len() {
  case $1 in
    capture_file|json_report) echo 65536 ;;
    *) echo 4096 ;;
  esac
}

# One target: its corpus persists in the build directory, so later runs start further on.
fuzz_one() {
  local t=$1
  local corpus=$build/corpus/$t artifacts=$work/artifacts/$t/ dict=()
  mkdir -p "$corpus" "$artifacts"
  [ -f "$root/tests/fuzz/$t.dict" ] && dict=(-dict="$root/tests/fuzz/$t.dict")
  local seed_dirs=("$work/seeds/$t")
  ls "$regressions"/"$t"-* >/dev/null 2>&1 && { mkdir -p "$work/seeds/$t-regressions"; cp "$regressions"/"$t"-* "$work/seeds/$t-regressions/"; seed_dirs+=("$work/seeds/$t-regressions"); }
  local t0=$(date +%s)
  # Leaks are findings too (LeakSanitizer); -timeout: a hang of 10 s on one input is one.
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len="$(max_len "$t")" -print_final_stats=1 -artifact_prefix="$artifacts" "${dict[@]}" \
      "$corpus" "${seed_dirs[@]}" >"$work/$t.log" 2>&1 && rc=0 || rc=$?
  echo $(( $(date +%s) - t0 )) >"$work/$t.seconds"
  echo "$rc" >"$work/$t.status"
}

pids=()
for t in "${targets[@]}"; do
  fuzz_one "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$jobs" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done

found=0
rows=()
for t in "${targets[@]}"; do
  log=$work/$t.log
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  units=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -1)
  ran=$(cat "$work/$t.seconds")
  findings=()
  for a in "$work/artifacts/$t/"*; do
    [ -f "$a" ] || continue
    kind=$(basename "$a"); kind=${kind%%-*}   # crash, leak, timeout, oom, slow-unit
    [ "$kind" = slow ] && continue
    # Keep the smallest input that still fails the same way (libFuzzer's crash minimiser).
    if [ "$kind" = crash ] && ASAN_OPTIONS=detect_leaks=1 "$build/tests/fuzz/fuzz_$t" -minimize_crash=1 \
         -max_total_time=30 -exact_artifact_path="$a.min" "$a" >>"$work/$t.minimize.log" 2>&1 && [ -s "$a.min" ]; then
      mv "$a.min" "$a"
    fi
    hash=$(sha1sum "$a" | cut -c1-12)
    cp "$a" "$regressions/$t-$hash"
    findings+=("$kind $t-$hash")
    found=1
  done
  # libFuzzer exits 0 when its time is up; anything else without an input to show for it
  # (it did not start, a seed broke it before fuzzing, the build is not a fuzzer) is a
  # failure too, not a quiet "none".
  rc=$(cat "$work/$t.status")
  if [ ${#findings[@]} -eq 0 ] && { [ "$rc" != 0 ] || [ -z "$execs" ]; }; then
    findings+=("error: exit $rc, ${execs:-no} execs, no input kept")
    found=1
  fi
  summary=$( [ ${#findings[@]} -eq 0 ] && echo none || (IFS=,; echo "${findings[*]}") )
  echo "run.sh: $t: ${ran} s, ${execs:-?} execs (${rate:-?}/s), ${units:-?} new units, findings: $summary"
  if [ ${#findings[@]} -gt 0 ]; then
    echo "---- $t: the end of its log ----"; tail -40 "$log"
  fi
  rows+=("| $(date -u +%Y-%m-%d) | $t | $ran | ${execs:-?} | ${rate:-?} | $summary |")
done

if [ "${FUZZ_NO_LOG:-0}" != 1 ]; then
  # The log table ends at the marker line; new rows go just above it.
  marker='<!-- fuzz-log-end -->'
  if grep -qF "$marker" docs/HARDENING.md 2>/dev/null; then
    python3 - "$marker" "${rows[@]}" <<'PY'
import sys
marker, rows = sys.argv[1], sys.argv[2:]
path = "docs/HARDENING.md"
text = open(path).read()
open(path, "w").write(text.replace(marker, "\n".join(rows) + "\n" + marker, 1))
PY
  else
    echo "run.sh: docs/HARDENING.md has no '$marker' line: log rows not written" >&2
  fi
fi
echo "run.sh: finished in $(( $(date +%s) - start )) s"
exit $found
