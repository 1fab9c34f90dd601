#!/usr/bin/env bash
# tests/compare/compare.sh — synprobe next to its peers, in the namespace lab.
#
# Usage (as root): tests/compare/compare.sh SYNPROBE SPLAB-DELAY SPLAB-INJECTOR [OUTDIR]
#
# Brings up three labs of its own (tests/lab/lab.sh: the plain one, SPLAB_SILENT_R1=1,
# SPLAB_R2_ICMP_RATELIMIT=300000), and on the same scenarios runs, from the client
# namespace only and only at lab addresses:
#   synprobe probe --json
#   traceroute -T -p PORT -n -m 10       (IPv4 and IPv6)
#   nmap -sS --reason --traceroute -n -Pn -p PORT   (IPv4 and IPv6)
#   hping3 -S -p PORT -c 3               (IPv4 only: hping3 has no IPv6)
# then times a refused port (90) and a dropped one (94): synprobe with its defaults vs
# traceroute -T with its defaults. Raw outputs go to OUTDIR (default /tmp/synprobe-compare);
# docs/COMPARISON.md summarises them. Not run by CI (needs traceroute, nmap, hping3:
# apt-get install traceroute nmap hping3).
#
# Every tool runs under `timeout`, with bounded counts; every lab is torn down on exit.
set -uo pipefail

SYNPROBE=$(realpath "${1:?synprobe binary}")
DELAY=$(realpath "${2:?splab-delay binary}")
INJECTOR=$(realpath "${3:?splab-injector binary}")
OUT=${4:-/tmp/synprobe-compare}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB=$HERE/../lab/lab.sh
S4=198.18.4.10
S6=2001:db8:4::10
GAP=${COMPARE_GAP:-6}   # seconds between tools: the routers' ICMP budgets refill (1/s, burst 6)

[[ $(id -u) == 0 ]] || { echo "compare.sh: needs root" >&2; exit 77; }
for t in traceroute nmap hping3 tshark; do
    command -v "$t" >/dev/null || { echo "compare.sh: $t missing (apt-get install $t)" >&2; exit 2; }
done
mkdir -p "$OUT"
chmod 755 "$OUT"

IDS=()
cleanup() {
    local id
    for id in "${IDS[@]}"; do
        SPLAB_ID=$id SPLAB_STATE=/run/splab-$id "$LAB" down || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

lab_up() {   # lab_up ID [VAR=VALUE...]
    local id=$1
    shift
    IDS+=("$id")
    export SPLAB_ID=$id SPLAB_STATE=/run/splab-$id SPLAB_DELAY_BIN=$DELAY
    env "$@" "$LAB" up
}
in_client() { "$LAB" exec client "$@"; }

# run NAME SECONDS CMD...: output to $OUT/NAME.txt, wall time appended.
run() {
    local name=$1 limit=$2 t0 t1 rc
    shift 2
    t0=$(date +%s.%N)
    timeout -k 2 "$limit" "$LAB" exec client "$@" >"$OUT/$name.txt" 2>&1
    rc=$?
    t1=$(date +%s.%N)
    printf '# exit %s, wall %.1f s: %s\n' "$rc" "$(echo "$t1 - $t0" | bc)" "$*" >>"$OUT/$name.txt"
    printf '%-34s exit %-3s %6.1f s\n' "$name" "$rc" "$(echo "$t1 - $t0" | bc)"
    sleep "$GAP"
}

synprobe_summary() {   # the verdict lines of a synprobe --json output
    python3 - "$1" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
try:
    d = json.loads(text[:text.rfind("}") + 1])
except ValueError as e:
    print(f"  (not JSON: {e})"); sys.exit()
for a in d["attempts"]:
    hops = " ".join(f"{h['hop']}:{(h.get('address') or '*')}:{h['majority']}" for h in (a.get("hops") or [])
                    if h["hop"] <= 5)
    print(f"  {a['dst']}:{a['dport']} {a['verdict']} actor={a['actor']} responder={a['responder']} "
          f"hop={a['hop']} range={a.get('hop_range')} conf={a['confidence']} | {hops}")
PY
}

scenario() {   # scenario TAG PORT
    local tag=$1 port=$2
    run "$tag-synprobe" 60 "$SYNPROBE" probe --json "$S4" "[$S6]" -p "$port"
    synprobe_summary "$OUT/$tag-synprobe.txt"
    run "$tag-traceroute4" 120 traceroute -T -p "$port" -n -m 10 "$S4"
    run "$tag-traceroute6" 120 traceroute -6 -T -p "$port" -n -m 10 "$S6"
    run "$tag-nmap4" 120 nmap -sS --reason --traceroute -n -Pn --max-retries 2 --host-timeout 90s -p "$port" "$S4"
    run "$tag-nmap6" 120 nmap -6 -sS --reason --traceroute -n -Pn --max-retries 2 --host-timeout 90s -p "$port" "$S6"
    run "$tag-hping3" 20 hping3 -S -p "$port" -c 3 "$S4"
}

echo "== plain lab (injector on r2 for port 95)"
lab_up cmpa"$$" >/dev/null 2>&1 || { echo "lab up failed" >&2; exit 1; }
"$LAB" injector "$INJECTOR" 600 300 >/dev/null
for port in 81 85 90 91 94 95 96 97; do scenario "p$port" "$port"; done
echo "== wall time, defaults: synprobe probe vs traceroute -T (refused 90, dropped 94)"
for port in 90 94; do
    run "time-$port-synprobe" 120 "$SYNPROBE" probe "$S4:$port"
    run "time-$port-traceroute" 180 traceroute -T -p "$port" "$S4"
done
cleanup; IDS=()

echo "== silent r1 (SPLAB_SILENT_R1=1)"
lab_up cmps"$$" SPLAB_SILENT_R1=1 >/dev/null 2>&1 || { echo "lab up failed" >&2; exit 1; }
scenario silent-p90 90
cleanup; IDS=()

echo "== r2's ICMP budget spent (SPLAB_R2_ICMP_RATELIMIT=300000)"
lab_up cmpr"$$" SPLAB_R2_ICMP_RATELIMIT=300000 >/dev/null 2>&1 || { echo "lab up failed" >&2; exit 1; }
scenario ratelimit-p94 94
scenario ratelimit-p90 90
echo "raw outputs in $OUT"
