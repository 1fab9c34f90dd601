#!/usr/bin/env bash
# tests/bench/trace.sh — time to a hop-aware verdict (issue 6, part 4; docs/BENCHMARKS-live.md).
#
#   sudo tests/bench/trace.sh [--synprobe BIN] [--delay BIN] [--out DIR] [--repeat N]
#                             [--ports "90 94 85"] [--gap SECONDS] [--no-install]
#
# In a namespace lab of its own (tests/lab/lab.sh with SPLAB_ID spbtrace$$, its link delays:
# hops at RTT 2/6/12/20 ms; the kernel's ICMP rate limits as they are by default), times
# on a refused port (90: r2 resets) and on dropped ports (94: r2 drops; 85: the server drops):
#   synprobe probe 198.18.4.10:P --json
#   synprobe trace 198.18.4.10:P --json
#   synprobe probe 198.18.4.10:P --interval 0 --rate 1000 --json   (no waits between rounds)
#   traceroute -T -p P -n 198.18.4.10               (its defaults: 30 hops, 3 probes, 5 s wait)
#   nmap -sS --traceroute -n -p P -oX F 198.18.4.10   (default timing and host discovery)
# -n only keeps the tools from asking a resolver about lab addresses. Each --repeat times
# (default 3), interleaved, --gap seconds apart (default 6: the routers' ICMP budgets, a burst
# of 6 and one a second, refill between tools). Prints best and median wall time, what each
# tool says, whether it names the right hop, and traceroute's time over each tool's.
# Every tool runs from the client namespace at lab addresses only, under `timeout`; the lab
# is removed at the end (trap on EXIT), its processes stopped by PID.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
synprobe=$root/build-release/src/synprobe
delay=""
out=/tmp/synprobe-bench-trace
repeat=3
ports="90 94 85"
gap=6
install=1

usage() { sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; }
while (($#)); do
    case $1 in
    --synprobe) synprobe=$2; shift 2 ;;
    --delay) delay=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --ports) ports=$2; shift 2 ;;
    --gap) gap=$2; shift 2 ;;
    --no-install) install=0; shift ;;
    -h | --help) usage ;;
    *) echo "trace.sh: unknown argument $1" >&2; usage ;;
    esac
done
[[ $(id -u) == 0 ]] || { echo "trace.sh: needs root (network namespaces), skipped" >&2; exit 77; }
[[ $repeat =~ ^[1-9]$ && $gap =~ ^[0-9]{1,2}$ ]] || { echo "trace.sh: bad --repeat or --gap" >&2; exit 2; }
for p in $ports; do [[ $p == 90 || $p == 94 || $p == 85 ]] || { echo "trace.sh: ports are 90, 94, 85" >&2; exit 2; }; done
if ! synprobe=$(realpath "$synprobe") || [[ ! -x $synprobe ]]; then echo "trace.sh: no synprobe at $synprobe" >&2; exit 2; fi
if [[ -z $delay ]]; then delay=$(dirname "$(dirname "$synprobe")")/tests/lab/splab-delay; fi
[[ -x $delay ]] || { echo "trace.sh: no splab-delay at $delay (--delay)" >&2; exit 2; }
delay=$(realpath "$delay")

want=()
for t in traceroute nmap; do command -v "$t" >/dev/null || want+=("$t"); done
if ((${#want[@]} && install)); then
    echo "trace.sh: installing ${want[*]} (apt-get)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${want[@]}" >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${want[@]}" >/dev/null 2>&1; } ||
        echo "trace.sh: apt-get install ${want[*]} failed" >&2
fi
tools=(synprobe-probe synprobe-trace synprobe-fast)
for t in traceroute nmap; do
    if command -v "$t" >/dev/null; then tools+=("$t"); else echo "trace.sh: $t missing: left out" >&2; fi
done

# $out is emptied first: only a directory of ours (or a new one).
if [[ -e $out && ( ! -d $out || -n $(ls -A "$out") ) && ! -f $out/results.jsonl ]]; then
    echo "trace.sh: $out exists and is not an output directory of this script (no results.jsonl)" >&2
    exit 2
fi
rm -rf -- "$out"
mkdir -p "$out"
chmod 755 "$out"
results=$out/results.jsonl
: >"$results"

# Read by live-lab.sh.
export BENCH_LAB=$root/tests/lab/lab.sh BENCH_DELAY_BIN=$delay BENCH_OUT=$out
# shellcheck source=tests/bench/live-lab.sh
source "$here/live-lab.sh"
id=spbtrace$$
trap 'benchlab_down >/dev/null 2>&1' EXIT
trap 'exit 130' INT TERM

S4=198.18.4.10
benchlab_log "lab $id up"
benchlab_up "$id" || exit 1
sleep "$gap"

one() {   # one TOOL PORT RUN
    local tool=$1 port=$2 f="$out/$1-$2-$3" t0 t1 rc l src cmd=()
    case $tool in
    synprobe-probe) cmd=("$synprobe" probe "$S4:$port" --json) ;;
    synprobe-trace) cmd=("$synprobe" trace "$S4:$port" --json) ;;
    synprobe-fast) cmd=("$synprobe" probe "$S4:$port" --interval 0 --rate 1000 --json) ;;
    traceroute) cmd=(traceroute -T -p "$port" -n "$S4") ;;
    nmap) cmd=(nmap -sS --traceroute -n -p "$port" -oX "$f.xml" "$S4") ;;
    esac
    l=$(cut -d' ' -f1 /proc/loadavg)
    t0=$(date +%s.%N)
    timeout -k 5 300 "$BENCH_LAB" exec client "${cmd[@]}" >"$f.out" 2>"$f.err"
    rc=$?
    t1=$(date +%s.%N)
    echo "# ${cmd[*]}" >>"$f.err"
    [[ $tool == nmap ]] && src=$f.xml || src=$f.out
    python3 "$here/trace_score.py" line "$tool" "$port" "$src" "$(python3 -c "print(round($t1 - $t0, 3))")" "$l" "$rc" >>"$results"
    benchlab_log "$(tail -1 "$results" | python3 "$here/trace_score.py" logline)"
    sleep "$gap"
}

for ((r = 1; r <= repeat; r++)); do
    for p in $ports; do
        for t in "${tools[@]}"; do one "$t" "$p" "$r"; done
    done
done

{
    echo "machine: $(nproc) CPU ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')), kernel $(uname -r)"
    echo "versions: $("$synprobe" --version 2>/dev/null | head -1); $(traceroute --version 2>&1 | head -1); $(nmap --version 2>/dev/null | head -1)"
    echo "raw outputs in $out"
    python3 "$here/trace_score.py" table "$results"
} | tee "$out/table.txt"
exit 0
