#!/usr/bin/env bash
# tests/bench/live.sh — many targets, live, in a namespace lab of its own: synprobe probe
# against nmap -sS (default timing, and --min-rate) and masscan, on the same targets of
# known state, in the same run (issue 6, part 3; docs/BENCHMARKS-live.md).
#
#   sudo tests/bench/live.sh [--synprobe BIN] [--delay BIN] [--out DIR] [--repeat N]
#                            [--rate PPS] [--parts "ports hosts"] [--tools "synprobe nmap masscan"]
#                            [--no-install] [--keep-lab]
#   sudo tests/bench/live.sh --smoke    # 200 ports + 100 host:port pairs, synprobe only,
#                                       # correctness only (CTest bench.live-smoke)
#
# Parts (tests/bench/live_targets.py holds the truth and writes the rules):
#   ports  10,000 ports of 198.18.4.10 (1,000 open, 6,000 closed, 1,000 dropped by the
#          server, 1,000 reset by r2, 500 refused by r3 with ICMP, 500 dropped by r2)
#   hosts  1,000 host:port pairs: 10 IPv4 + 10 IPv6 addresses of the server x 50 ports,
#          the state of each block of 10 ports rotating with the host
# Every tool runs from the client namespace, at lab addresses only (198.18.0.0/15,
# 2001:db8::/32; checked before anything runs), under `timeout`. The lab (SPLAB_ID
# spbench$$) is removed at the end, its processes stopped by PID (trap on EXIT).
# Wall time is measured around each command (process start to exit, output written).
# Runs are interleaved tool by tool, --repeat times (a configuration whose first run
# took more than 120 s runs once). Exit status: 0 done (and, with --smoke, synprobe right
# on every target), 1 synprobe wrong somewhere in --smoke or a tool failed, 2 usage,
# 77 not root.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
synprobe=$root/build-release/src/synprobe
delay=""
out=/tmp/synprobe-bench-live
repeat=3
rate=10000
parts="ports hosts"
tools="synprobe nmap masscan"
smoke=0
install=1
keep_lab=0

usage() { sed -n '2,28p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; }
while (($#)); do
    case $1 in
    --synprobe) synprobe=$2; shift 2 ;;
    --delay) delay=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --parts) parts=$2; shift 2 ;;
    --tools) tools=$2; shift 2 ;;
    --smoke) smoke=1; shift ;;
    --no-install) install=0; shift ;;
    --keep-lab) keep_lab=1; shift ;;
    -h | --help) usage ;;
    *) echo "live.sh: unknown argument $1" >&2; usage ;;
    esac
done
[[ $(id -u) == 0 ]] || { echo "live.sh: needs root (network namespaces), skipped" >&2; exit 77; }
[[ $repeat =~ ^[1-9][0-9]?$ && $rate =~ ^[0-9]{1,6}$ ]] || { echo "live.sh: bad --repeat or --rate" >&2; exit 2; }
if ! synprobe=$(realpath "$synprobe") || [[ ! -x $synprobe ]]; then echo "live.sh: no synprobe at $synprobe" >&2; exit 2; fi
if [[ -z $delay ]]; then delay=$(dirname "$(dirname "$synprobe")")/tests/lab/splab-delay; fi
[[ -x $delay ]] || { echo "live.sh: no splab-delay at $delay (--delay)" >&2; exit 2; }
delay=$(realpath "$delay")
if ((smoke)); then
    sets=(ports:200 hosts:100)
    tools=synprobe
    repeat=1
    out=${out%/}-smoke
else
    sets=()
    for p in $parts; do sets+=("$p"); done
fi

# The peers: installed with apt when missing (root only), else left out of the table.
want=()
for t in $tools; do [[ $t == synprobe ]] || command -v "$t" >/dev/null || want+=("$t"); done
if ((${#want[@]} && install)); then
    echo "live.sh: installing ${want[*]} (apt-get)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${want[@]}" >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${want[@]}" >/dev/null 2>&1; } ||
        echo "live.sh: apt-get install ${want[*]} failed" >&2
fi
have=()
for t in $tools; do
    if [[ $t == synprobe ]] || command -v "$t" >/dev/null; then have+=("$t"); else echo "live.sh: $t missing: left out" >&2; fi
done
tools="${have[*]}"

# $out is emptied first: only a directory of ours (or a new one).
if [[ -e $out && ( ! -d $out || -n $(ls -A "$out") ) && ! -f $out/results.jsonl ]]; then
    echo "live.sh: $out exists and is not an output directory of this script (no results.jsonl)" >&2
    exit 2
fi
rm -rf -- "$out"
mkdir -p "$out"
chmod 755 "$out"   # synprobe writes nothing here itself, but its user may read
results=$out/results.jsonl
: >"$results"

# Read by live-lab.sh.
export BENCH_LAB=$root/tests/lab/lab.sh BENCH_DELAY_BIN=$delay BENCH_OUT=$out
# shellcheck source=tests/bench/live-lab.sh
source "$here/live-lab.sh"
id=spbench$$
cleanup() {
    if ((keep_lab)); then echo "live.sh: lab $id kept (SPLAB_ID=$id $BENCH_LAB down)" >&2; return; fi
    benchlab_down >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Nothing but lab addresses, ever.
for s in "${sets[@]}"; do
    eval "$(python3 "$here/live_targets.py" spec "$s")"
    for a in $HOSTS4 $HOSTS6; do
        [[ $a =~ ^198\.1[89]\. || $a =~ ^2001:db8: ]] || { echo "live.sh: $a is not a lab address" >&2; exit 2; }
    done
done

benchlab_log "lab $id up (rules: ${sets[*]%%:*})"
base_sets=()
for s in "${sets[@]}"; do base_sets+=("${s%%:*}"); done
benchlab_up "$id" "${base_sets[@]}" || exit 1
benchlab_icmp_unlimited
r1mac=$(lab_in r1 cat /sys/class/net/l1/address)

load() { cut -d' ' -f1 /proc/loadavg; }

# timed NAME LIMIT CMD...: runs CMD in the client namespace; adds the wall seconds to WALL
# and the exit status to RCS.
timed() {
    local name=$1 limit=$2 t0 t1 rc
    shift 2
    t0=$(date +%s.%N)
    timeout -k 5 "$limit" "$BENCH_LAB" exec client "$@" >"$out/$name.stdout" 2>"$out/$name.stderr"
    rc=$?
    t1=$(date +%s.%N)
    WALL=$(python3 -c "print(round($WALL + $t1 - $t0, 3))")
    RCS+="$rc "
}

# masscan_timed NAME CMD...: masscan 1.3.2 often does not exit once its --wait is over: its
# status line counts on, "waiting -1-secs", "-2-secs"... (masscan issue #144; the maintainer:
# stop it with Ctrl-C, "no data will be lost"). So it runs in the background, and its time is
# taken from its status line: the first "waiting -1-secs" appears one second after the wait
# ended, so the wall time counted is that moment minus 1 s (if it exits by itself, the exit).
# It is then stopped with SIGINT (by PID; SIGKILL after 5 s), which writes its output out.
masscan_timed() {
    local name=$1 t0 t1 pid rc i end=""
    shift
    t0=$(date +%s.%N)
    # In $out: a stopped masscan leaves its resume file (paused.conf) in its working directory.
    (cd "$out" && exec setsid ip netns exec "$SPLAB_ID-client" "$@" >"$out/$name.stdout" 2>"$out/$name.stderr") &
    pid=$!
    for ((i = 0; i < 6000; i++)); do   # at most 120 s
        kill -0 "$pid" 2>/dev/null || break
        if grep -q -- 'waiting -1-secs' "$out/$name.stderr" 2>/dev/null; then
            end=$(python3 -c "print($(date +%s.%N) - 1.0)")
            break
        fi
        sleep 0.02
    done
    # Several SIGINTs in quick succession (one only starts masscan's own wait), then up to
    # 10 s for it to write its output out and exit.
    for ((i = 0; i < 3; i++)); do kill -INT "$pid" 2>/dev/null; sleep 0.1; done
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        echo "live.sh: masscan killed (SIGKILL): its output may be cut short" >>"$out/$name.stderr"
    fi
    wait "$pid"
    rc=$?
    t1=$(date +%s.%N)
    if [[ -n $end ]]; then
        t1=$end
        rc=0
        echo "live.sh: masscan did not exit after its wait; timed to its status line, stopped with SIGINT" >>"$out/$name.stderr"
    fi
    WALL=$(python3 -c "print(round($WALL + $t1 - $t0, 3))")
    RCS+="$rc "
}

# run_config PART SET CONFIG RUN: one run of one tool configuration; appends a JSON line
# to results.jsonl.
run_config() {
    local part=$1 set=$2 config=$3 run=$4 tag="$1-$3-$4" l cmd="" files=() tool
    local PORTS HOSTS4 HOSTS6 targets=()
    eval "$(python3 "$here/live_targets.py" spec "$set")"
    mapfile -t targets < <(python3 "$here/live_targets.py" targets "$set")
    WALL=0 RCS="" l=$(load)
    case $config in
    synprobe-notrace | synprobe-auto | synprobe-count1)
        tool=synprobe
        local opts=(--rate "$rate" --max-packets 100000 --json)
        [[ $config == synprobe-notrace ]] && opts=(--no-trace "${opts[@]}")
        [[ $config == synprobe-count1 ]] && opts=(--no-trace --count 1 "${opts[@]}")
        cmd="synprobe probe ${targets[*]} ${opts[*]}"
        timed "$tag" 300 "$synprobe" probe "${targets[@]}" "${opts[@]}"
        files=("$out/$tag.stdout")
        ;;
    nmap-default | nmap-minrate)
        tool=nmap
        local nopts=(-sS -n -Pn --reason -p "$PORTS")
        [[ $config == nmap-minrate ]] && nopts+=(--min-rate "$rate")
        cmd="nmap ${nopts[*]} -oX F.xml HOSTS4; nmap -6 ... HOSTS6"
        if [[ -n $HOSTS4 ]]; then
            # shellcheck disable=SC2086
            timed "$tag-v4" 1200 nmap "${nopts[@]}" -oX "$out/$tag-v4.xml" $HOSTS4
            files+=("$out/$tag-v4.xml")
        fi
        if [[ -n $HOSTS6 ]]; then
            # shellcheck disable=SC2086
            timed "$tag-v6" 1200 nmap -6 "${nopts[@]}" -oX "$out/$tag-v6.xml" $HOSTS6
            files+=("$out/$tag-v6.xml")
        fi
        ;;
    masscan)
        tool=masscan
        local mopts=(-p "$PORTS" --rate "$rate" --wait 2 --show closed)
        cmd="masscan HOSTS4 ${mopts[*]} -oL F; masscan HOSTS6 ${mopts[*]} --adapter l1 --source-ip 2001:db8:1::1 --router-mac-ipv6 R1MAC -oL F"
        if [[ -n $HOSTS4 ]]; then
            masscan_timed "$tag-v4" masscan "${HOSTS4// /,}" "${mopts[@]}" -oL "$out/$tag-v4.txt"
            files+=("$out/$tag-v4.txt")
        fi
        if [[ -n $HOSTS6 ]]; then
            # masscan 1.3.2 does not find the interface's IPv6 address or router by itself
            # in the lab: told them, it scans.
            masscan_timed "$tag-v6" masscan "${HOSTS6// /,}" "${mopts[@]}" --adapter l1 \
                --source-ip 2001:db8:1::1 --router-mac-ipv6 "$r1mac" -oL "$out/$tag-v6.txt"
            files+=("$out/$tag-v6.txt")
        fi
        ;;
    esac
    python3 "$here/live_score.py" --truth "$out/$part.truth.jsonl" --tool "$tool" "${files[@]}" |
        python3 -c '
import json, sys
s = json.loads(sys.stdin.read())
s.update(part=sys.argv[1], config=sys.argv[2], run=int(sys.argv[3]), wall=float(sys.argv[4]),
         load=float(sys.argv[5]), exit=sys.argv[6].split(), command=sys.argv[7])
if s["tool"] == "synprobe":
    try:
        text = open(sys.argv[8]).read()
        p = json.loads(text[: text.rfind("}") + 1])["probe"]
        s.update(packets_sent=p["packets_sent"], packets_captured=p["packets_captured"],
                 kernel_drops=p["kernel_drops"])
    except (OSError, ValueError, KeyError):
        pass
print(json.dumps(s))' "$part" "$config" "$run" "$WALL" "$l" "$RCS" "$cmd" "${files[0]:-}" >>"$results"
    benchlab_log "$(tail -1 "$results" | python3 "$here/live_table.py" --line)"
}

configs=()
for t in $tools; do
    case $t in
    synprobe) configs+=(synprobe-notrace); ((smoke)) || configs+=(synprobe-count1 synprobe-auto) ;;
    nmap) configs+=(nmap-default nmap-minrate) ;;
    masscan) configs+=(masscan) ;;
    esac
done

for s in "${sets[@]}"; do
    part=${s%%:*}
    python3 "$here/live_targets.py" truth "$s" >"$out/$part.truth.jsonl"
    declare -A slow=()
    for ((r = 1; r <= repeat; r++)); do
        for c in "${configs[@]}"; do
            [[ -n ${slow[$c]:-} ]] && continue
            run_config "$part" "$s" "$c" "$r"
            w=$(tail -1 "$results" | python3 -c 'import json,sys; print(json.load(sys.stdin)["wall"])')
            python3 -c "import sys; sys.exit(0 if $w > 120 else 1)" && slow[$c]=1
            sleep 2
        done
    done
    unset slow
done

{
    echo "machine: $(nproc) CPU ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')), kernel $(uname -r)"
    echo "versions: $("$synprobe" --version 2>/dev/null | head -1); $(nmap --version 2>/dev/null | head -1); $(masscan --version 2>/dev/null | grep -m1 -i 'masscan version')"
    echo "synprobe rate $rate pps; raw outputs in $out"
    python3 "$here/live_table.py" "$results"
} | tee "$out/table.txt"

if ((smoke)); then
    python3 - "$results" <<'PY' || exit 1
import json, sys
bad = [s for s in map(json.loads, open(sys.argv[1])) if s["right_full"] != s["targets"] or s["exit"] != ["0"]]
for s in bad:
    print(f"live.sh --smoke: {s['part']} {s['config']}: {s['right_full']}/{s['targets']} right, exit {s['exit']}; "
          f"wrong e.g. {s.get('wrong_examples')}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
fi
exit 0
