# shellcheck shell=bash
# tests/bench/live-lab.sh — sourced by tests/bench/live.sh and tests/bench/trace.sh.
#
# A namespace lab of the benchmark's own (tests/lab/lab.sh with its own SPLAB_ID), plus,
# for the many-target benchmark, the ranges of known state that tests/bench/live_targets.py
# describes: extra addresses on the server, iptables rules on the server, r2 and r3, and one
# listener (backlog 4096) that the "open" ranges are redirected to. Everything happens inside
# namespaces lab.sh creates; addresses only in 198.18.0.0/15 and 2001:db8::/32. The listener
# is started with lab.sh's lab_spawn, so it is recorded (PID and start time) and stopped by
# "lab.sh down" by PID like the lab's own processes.
#
# Functions (the caller sets BENCH_LAB to tests/lab/lab.sh and BENCH_DELAY_BIN):
#   benchlab_up ID [SET...]   lab.sh up with SPLAB_ID=ID, then the rules of each SET
#   benchlab_icmp_unlimited   r3 sends its ICMP errors without rate limit (see live.sh)
#   benchlab_down             stop the delay shims (their summaries kept in BENCH_OUT), lab.sh down
#   benchlab_client CMD...    run CMD in the client namespace

BENCH_HERE=${BENCH_HERE:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
BENCH_LAB_IDS=()

benchlab_log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

benchlab_env() {   # benchlab_env ID: the lab.sh environment of lab ID
    export SPLAB_ID=$1 SPLAB_STATE=/run/splab-$1 SPLAB_DELAY_BIN=$BENCH_DELAY_BIN
}

benchlab_up() {
    local id=$1 set node f rest
    shift
    benchlab_env "$id"
    BENCH_LAB_IDS+=("$id")
    "$BENCH_LAB" up >"${BENCH_OUT:-/tmp}/lab-$id-up.log" 2>&1 ||
        { cat "${BENCH_OUT:-/tmp}/lab-$id-up.log" >&2; return 1; }
    # lab.sh's functions (lab_in, lab_ipt, lab_spawn...), for the current SPLAB_ID.
    # shellcheck source=tests/lab/lab.sh
    source "$BENCH_LAB"
    (($# > 0)) || return 0
    for set in "$@"; do
        while read -r node f rest; do
            [[ -n $node ]] || continue
            if [[ $f == addr ]]; then
                if [[ $rest == *:* ]]; then
                    lab_in "$node" ip -6 addr replace "$rest" dev l4 nodad
                else
                    lab_in "$node" ip addr replace "$rest" dev l4
                fi
            else
                # shellcheck disable=SC2086  # iptables arguments, split on purpose
                lab_ipt "$node" "$f" $rest
            fi
        done < <(python3 "$BENCH_HERE/live_targets.py" rules "$set")
    done
    # The listener the "open" ranges are redirected to: dual-stack, backlog 4096 (SYN
    # cookies would otherwise start at 64 half-open connections), never accepting (every
    # client's kernel resets the SYN/ACK its raw-socket probe drew).
    lab_in server sysctl -q -w net.core.somaxconn=8192 net.ipv4.tcp_max_syn_backlog=8192
    lab_spawn server bench-listener python3 -c '
import socket, time
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 8089))
s.listen(4096)
print("bench-listener: ready", flush=True)
time.sleep(3600)
'
    lab_wait_for_line "$SPLAB_STATE/bench-listener.log" 'bench-listener: ready' "$LAB_SPAWNED_PID" 100 ||
        { cat "$SPLAB_STATE/bench-listener.log" >&2; benchlab_log "listener did not start"; return 1; }
    # Every extra address answers ARP / neighbour discovery before the first probe.
    local a
    for a in $(for set in "$@"; do python3 "$BENCH_HERE/live_targets.py" rules "$set"; done |
        awk '$2 == "addr" { sub("/.*", "", $3); print $3 }'); do
        if [[ $a == *:* ]]; then lab_in client ping -6 -c 1 -W 1 "$a" >/dev/null || true
        else lab_in client ping -c 1 -W 1 "$a" >/dev/null || true; fi
    done
}

# r3 refuses a whole range with ICMP errors; with the kernel's per-destination limit
# (icmp_ratelimit 1000 ms, burst 6; global icmp_msgs_per_sec 1000, burst 50) no tool could
# see more than a handful of them, so the truth would be unobservable. The bench turns the
# limit off on r3 only (ratemask 0: no ICMP type is rate limited).
benchlab_icmp_unlimited() {
    lab_in r3 sysctl -q -w net.ipv4.icmp_ratemask=0 net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
    lab_in r3 sysctl -q -w net.ipv4.icmp_msgs_per_sec=1000000 net.ipv4.icmp_msgs_burst=1000000 2>/dev/null || true
}

benchlab_client() { "$BENCH_LAB" exec client "$@"; }

# Stops the delay shims first (by the PIDs lab.sh recorded) so that their summary lines
# (packets delayed, queue overflows, ENOBUFS) can be kept, then lab.sh down.
benchlab_down() {
    local id pid start name
    for id in "${BENCH_LAB_IDS[@]}"; do
        benchlab_env "$id"
        if [[ -f $SPLAB_STATE/pids ]] && declare -F lab_kill_pid >/dev/null; then
            while read -r pid start name; do
                [[ $name == delay-* ]] || continue
                lab_kill_pid "$pid" "$start"
                [[ -n ${BENCH_OUT:-} && -f $SPLAB_STATE/$name.log ]] && cp "$SPLAB_STATE/$name.log" "$BENCH_OUT/$id-$name.log"
            done <"$SPLAB_STATE/pids"
        fi
        "$BENCH_LAB" down || true
    done
    BENCH_LAB_IDS=()
}
