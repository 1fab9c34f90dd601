#!/usr/bin/env bash
# tests/bench/run-all.sh — every benchmark of issue 6, one after the other, then all tables:
#   1. tests/bench/run.sh (offline: synprobe analyze vs tcpdump and tshark; its default size)
#   2. tests/bench/live.sh (many targets live: synprobe vs nmap -sS and masscan)   [root]
#   3. tests/bench/trace.sh (time to a hop-aware verdict: vs traceroute -T and nmap) [root]
#
#   sudo tests/bench/run-all.sh [--build DIR] [--out DIR] [--quick]
#
# --build DIR: the build directory holding src/synprobe, tests/bench/synprobe-gencap and
#   tests/lab/splab-delay (default: build-release). --quick: live.sh and trace.sh with one
#   run each instead of three. Without root the two live benchmarks are skipped (they need
#   network namespaces); the offline one still runs. The live ones install nmap, masscan and
#   traceroute with apt-get when missing. Exit status: the worst of the three (77 = skipped
#   counts as fine).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/build-release
out=/tmp/synprobe-bench-all
repeat=3
while (($#)); do
    case $1 in
    --build) build=$(realpath "$2"); shift 2 ;;
    --out) out=$2; shift 2 ;;
    --quick) repeat=1; shift ;;
    -h | --help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
    *) echo "run-all.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
synprobe=$build/src/synprobe
gencap=$build/tests/bench/synprobe-gencap
delay=$build/tests/lab/splab-delay
for f in "$synprobe" "$gencap"; do
    [[ -x $f ]] || { echo "run-all.sh: $f missing (cmake --build $build)" >&2; exit 2; }
done
mkdir -p "$out"
status=0
note() { printf '\n===== %s =====\n' "$*"; }
worst() { (($1 != 0 && $1 != 77 && $1 > status)) && status=$1; return 0; }

note "offline: tests/bench/run.sh --synprobe $synprobe --gencap $gencap"
"$here/run.sh" --synprobe "$synprobe" --gencap "$gencap" 2>&1 | tee "$out/offline.txt"
worst "${PIPESTATUS[0]}"

if [[ $(id -u) != 0 ]]; then
    note "live benchmarks skipped: they need root (network namespaces)"
    exit "$status"
fi
[[ -x $delay ]] || { echo "run-all.sh: $delay missing (built with -DSYNPROBE_BUILD_TESTS=ON)" >&2; exit 2; }

note "many targets: tests/bench/live.sh --repeat $repeat"
"$here/live.sh" --synprobe "$synprobe" --delay "$delay" --repeat "$repeat" --out "$out/live" \
    >"$out/live.log" 2>&1
worst $?
cat "$out/live/table.txt" 2>/dev/null || tail -20 "$out/live.log"

note "hop-aware verdict: tests/bench/trace.sh --repeat $repeat"
"$here/trace.sh" --synprobe "$synprobe" --delay "$delay" --repeat "$repeat" --out "$out/trace" \
    >"$out/trace.log" 2>&1
worst $?
cat "$out/trace/table.txt" 2>/dev/null || tail -20 "$out/trace.log"

note "all tables above; logs and raw outputs in $out"
exit "$status"
