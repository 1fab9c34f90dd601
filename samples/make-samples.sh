#!/usr/bin/env bash
# samples/make-samples.sh — make the sample captures, one per verdict class, in
# the network-namespace lab (tests/lab/lab.sh).
#
# Usage: sudo samples/make-samples.sh [--out DIR] [--case NAME]... [--injector PATH]
#                                     [--snaplen N] [--list]
#   --out DIR        write DIR/<case>/{capture.pcapng,expected.json,README.md}
#                    (default: the directory of this script, i.e. the committed samples)
#   --case NAME      only this case (repeatable; default: every case)
#   --injector PATH  a built splab-injector (default: $SPLAB_INJECTOR, then
#                    <repo>/build/tests/lab/splab-injector, else a private copy
#                    is compiled with c++ into the lab's state directory)
#   --snaplen N      capture snapshot length (default 0 = tcpdump's full 262144)
#   --list           print the case names and exit
#
# Runs as root, from any working directory. It brings up its own lab
# (SPLAB_ID "smp<PID>"), takes every capture with tcpdump on the client's only
# interface (pcap, converted to pcapng with editcap), checks each capture
# against the scenario (attempt count, who answered with which TTL), writes the
# expected verdicts, and tears the lab down on exit, even on failure.

set -euo pipefail

SAMPLES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SAMPLES_DIR/.." && pwd)
LAB_SH=$REPO_DIR/tests/lab/lab.sh

# Our own lab, whatever the caller's SPLAB_ID is.
export SPLAB_ID="smp$$"
export SPLAB_STATE="/run/splab-$SPLAB_ID"
# shellcheck source-path=SCRIPTDIR source=../tests/lab/lab.sh
source "$LAB_SH"

OUT_DIR=$SAMPLES_DIR
INJECTOR=${SPLAB_INJECTOR:-}
SNAPLEN=0
SELECTED=()

SERVER4=$LAB_SERVER4
SERVER6=$LAB_SERVER6
CLIENT4=$LAB_CLIENT4
CLIENT6=$LAB_CLIENT6
CLIENT_IF=$LAB_CLIENT_IF

# ---------------------------------------------------------------------------
# The cases: the truth, written from how each scenario is built in lab.sh.
#   port | verdict | actor | responder v4 | responder v6 | hop
# ("-" stands for JSON null.)
# ---------------------------------------------------------------------------

ALL_CASES=(open host-closed host-reject-rst host-icmp-port-unreachable
    host-icmp-admin-prohibited host-drop router-reject-rst
    router-icmp-admin-prohibited router-icmp-host-unreachable
    router-icmp-net-unreachable router-drop router-ttl255-reject-rst
    injected-reset one-direction
    alone-host-closed alone-host-icmp-port-unreachable alone-host-drop
    alone-router-reject-rst alone-router-icmp-admin-prohibited
    alone-router-ttl255-reject-rst alone-injected-reset
    ttl-forging-firewall ttl-forging-firewall-traced one-direction-drop reordered
    stale-address
    request-control request-sni-reset request-sni-drop request-injected-reset
    request-proxy-reset request-proxy-close)

# How each case is captured and what the client runs besides its one attempt per
# family to the tested port (default: baseline):
#   baseline  one curl to port 80 per family first: the host's own TTL, IP-ID, RTT
#   plain     no baseline: the attempt is the curl to port 80 itself
#   alone     no baseline: the one attempt per family is the only packet exchange
#             with the server in the file (the poorest capture: one failing nc)
#   outbound  like alone (or plain for port 80), captured with tcpdump -Q out
#   split     like baseline, captured by two tcpdumps (-Q in, -Q out) whose files are
#             concatenated with mergecap -a, inbound first: every answer is written
#             before the SYN it answers
#   traced    like baseline, then traceroute -T -N 1 -q 1 to the tested port before
#             the attempt: the routers' time-exceeded errors are in the file
declare -A CASE_MODE=(
    [open]=plain [one-direction]=outbound [one-direction-drop]=outbound
    [alone-host-closed]=alone [alone-host-icmp-port-unreachable]=alone [alone-host-drop]=alone
    [alone-router-reject-rst]=alone [alone-router-icmp-admin-prohibited]=alone
    [alone-router-ttl255-reject-rst]=alone [alone-injected-reset]=alone
    [reordered]=split [ttl-forging-firewall-traced]=traced [stale-address]=alone
)

# The tested attempt's destination, when it is not the server (IPv4 / IPv6): an address
# on the server's LAN where no host lives (lab.sh: LAB_STALE4 / LAB_STALE6).
declare -A CASE_TARGET4=([stale-address]=$LAB_STALE4)
declare -A CASE_TARGET6=([stale-address]=$LAB_STALE6)
target_of() {   # target_of CASE 4|6
    if [[ $2 == 4 ]]; then printf '%s' "${CASE_TARGET4[$1]:-$SERVER4}"; else printf '%s' "${CASE_TARGET6[$1]:-$SERVER6}"; fi
}

# Why the refuser refused (expected.json "cause"), where the scenario builds one.
declare -A CASE_CAUSE=([stale-address]=no-host-at-address)
case_mode() { printf '%s' "${CASE_MODE[$1]:-baseline}"; }

declare -A CASE_ROW=(
    [open]="80 open host $SERVER4 $SERVER6 4"
    [host-closed]="81 refused-by-host host $SERVER4 $SERVER6 4"
    [host-reject-rst]="82 refused-by-host host $SERVER4 $SERVER6 4"
    [host-icmp-port-unreachable]="83 icmp-unreachable host $SERVER4 $SERVER6 4"
    [host-icmp-admin-prohibited]="84 icmp-unreachable host $SERVER4 $SERVER6 4"
    [host-drop]="85 dropped unknown - - -"
    [router-reject-rst]="90 refused-by-middlebox middlebox - - 2"
    [router-icmp-admin-prohibited]="91 icmp-unreachable router 198.18.2.2 2001:db8:2::2 2"
    [router-icmp-host-unreachable]="92 icmp-unreachable router 198.18.3.2 2001:db8:3::2 3"
    [router-icmp-net-unreachable]="93 icmp-unreachable router 198.18.1.2 2001:db8:1::2 1"
    [router-drop]="94 dropped unknown - - -"
    [router-ttl255-reject-rst]="96 refused-by-middlebox middlebox - - 3"
    [injected-reset]="95 injected-reset middlebox - - 2"
    [one-direction]="80 open host $SERVER4 $SERVER6 -"
    [alone-host-closed]="81 refused-by-host host $SERVER4 $SERVER6 4"
    [alone-host-icmp-port-unreachable]="83 icmp-unreachable host $SERVER4 $SERVER6 4"
    [alone-host-drop]="85 dropped unknown - - -"
    [alone-router-reject-rst]="90 refused-by-middlebox middlebox - - 2"
    [alone-router-icmp-admin-prohibited]="91 icmp-unreachable router 198.18.2.2 2001:db8:2::2 2"
    [alone-router-ttl255-reject-rst]="96 refused-by-middlebox middlebox - - 3"
    [alone-injected-reset]="95 injected-reset middlebox - - 2"
    [ttl-forging-firewall]="97 refused-by-middlebox middlebox - - 2"
    [ttl-forging-firewall-traced]="97 refused-by-middlebox middlebox 198.18.2.2 2001:db8:2::2 2"
    [one-direction-drop]="85 dropped unknown - - -"
    [reordered]="81 refused-by-host host $SERVER4 $SERVER6 4"
    [stale-address]="80 icmp-unreachable router 198.18.3.2 2001:db8:3::2 3"
    # Issue 14's cases (REQ_STEPS below): the failing step's port and truth.
    [request-control]="8443 open host $SERVER4 $SERVER6 4"
    [request-sni-reset]="8443 refused-by-middlebox middlebox - - 2"
    [request-sni-drop]="8443 dropped unknown - - -"
    [request-injected-reset]="8080 injected-reset middlebox - - 2"
    [request-proxy-reset]="8081 refused-by-host host $SERVER4 $SERVER6 4"
    [request-proxy-close]="8082 refused-by-host host $SERVER4 $SERVER6 4"
)

# What the packets of a case cannot show, whatever the tool: the fields of the tested
# attempt's truth that the capture does not determine, and why. expected.json lists
# them ("capture_cannot_tell", "why"); tests/e2e/check_samples.py then accepts another
# value for them only when synprobe says it cannot be sure (confidence <= 0.6 and a
# "to_settle"; for the hop: null with a hop_range holding the true hop).
declare -A CASE_CANNOT_TELL=(
    [alone-router-reject-rst]="verdict actor responder"
    [ttl-forging-firewall]="hop"
)
declare -A CASE_WHY=(
    [alone-router-reject-rst]="a lone Linux-shaped RST/ACK from the destination's address, initial TTL 64, hop 2: a host 2 hops away would send exactly this; nothing in the file gives the host's own distance"
    [ttl-forging-firewall]="the RST's timing proves a nearer device, but its TTL is forged and the file holds no time-exceeded error to map round trips to hops: only the range 1..3 is known"
)

declare -A CASE_TRUTH=(
    [open]="the server listens on port 80 (socat) and completes the handshake; curl fetches a page"
    [host-closed]="nothing listens on port 81 and nothing filters it: the server's own TCP stack answers the SYN with a reset"
    [host-reject-rst]="the server's own firewall (INPUT) rejects port 82 with a TCP reset"
    [host-icmp-port-unreachable]="the server's own firewall (INPUT) rejects port 83 with ICMP port unreachable (ICMPv6 port unreachable)"
    [host-icmp-admin-prohibited]="the server's own firewall (INPUT) rejects port 84 with ICMP administratively prohibited (ICMPv6 administratively prohibited)"
    [host-drop]="the server's own firewall (INPUT) silently drops port 85"
    [router-reject-rst]="r2 (hop 2) rejects port 90 in its FORWARD chain with a TCP reset carrying the server's address"
    [router-icmp-admin-prohibited]="r2 (hop 2) rejects port 91 in its FORWARD chain with ICMP administratively prohibited from its client-side address"
    [router-icmp-host-unreachable]="r3 (hop 3, initial TTL 255) rejects port 92 in its FORWARD chain with ICMP host unreachable (ICMPv6 address unreachable) from its client-side address"
    [router-icmp-net-unreachable]="r1 (hop 1) rejects port 93 in its FORWARD chain with ICMP network unreachable (ICMPv6 no route) from its client-side address"
    [router-drop]="r2 (hop 2) silently drops port 94 in its FORWARD chain"
    [router-ttl255-reject-rst]="r3 (hop 3, initial TTL 255) rejects port 96 in its FORWARD chain with a TCP reset carrying the server's address"
    [injected-reset]="the server listens on port 95, but an on-path injector on r2 (hop 2) answers each SYN first with a forged RST|ACK carrying the server's address; the server's real SYN|ACK arrives later and the client resets it"
    [alone-host-closed]="as host-closed (nothing listens on port 81, the server's stack resets), but the file holds nothing else of the server: no baseline"
    [alone-host-icmp-port-unreachable]="as host-icmp-port-unreachable (the server's INPUT rejects port 83 with ICMP port unreachable), with no baseline"
    [alone-host-drop]="as host-drop (the server's INPUT drops port 85), with no baseline: three SYNs and silence"
    [alone-router-reject-rst]="as router-reject-rst (r2, hop 2, resets port 90 in FORWARD with the server's address), with no baseline: the capture alone cannot tell this RST from a host's 2 hops away"
    [alone-router-icmp-admin-prohibited]="as router-icmp-admin-prohibited (r2, hop 2, answers port 91 with ICMP administratively prohibited), with no baseline"
    [alone-router-ttl255-reject-rst]="as router-ttl255-reject-rst (r3, hop 3, initial TTL 255, resets port 96), with no baseline: the TTL class alone names network gear"
    [alone-injected-reset]="as injected-reset (an injector on r2 races a forged RST|ACK against the server's SYN|ACK on port 95), with no baseline"
    [ttl-forging-firewall]="r2 (hop 2) resets port 97 in FORWARD with the server's address and rewrites its RSTs' TTL so that they arrive with the server's 61; only their timing gives them away"
    [ttl-forging-firewall-traced]="as ttl-forging-firewall, and the client ran traceroute -T to port 97 first: r1 and r2 answer time-exceeded, the probe with TTL 3 gets r2's forged RST"
    [one-direction-drop]="the server's INPUT drops port 85, and the capture (tcpdump -Q out) holds only the client's packets: three SYNs, no baseline"
    [reordered]="as host-closed (port 81, after the port-80 baseline), captured by two tcpdumps, one per direction, whose files were concatenated inbound first (mergecap -a): every answer is written before its SYN"
    [stale-address]="no host lives at 198.18.4.99 / 2001:db8:4::99 on the server's LAN (a stale DNS record's address): r3 (hop 3), the LAN's router, tries ARP / Neighbour Discovery for about 3 s and then answers each held SYN with ICMP host unreachable (ICMPv6 address unreachable)"
    [one-direction]="curl fetches a page from port 80, but the capture (tcpdump -Q out) holds only the client's own packets: its ACK of the server's sequence number, its GET and its FIN prove a SYN/ACK reached it"
    [request-control]="nothing refuses: curl fetches a page over TLS (port 8443, server name allowed.lab.test) and over HTTP (port 8080, Host allowed.lab.test), and nc -z completes a handshake on 8443 without sending a byte (stage syn)"
    [request-sni-reset]="the handshake on 8443 completes with the server; r2 (hop 2) reads the TLS ClientHello and, for the server name blocked.lab.test, drops it and answers with a TCP reset carrying the server's address (REJECT tcp-reset, -m string); the control (allowed.lab.test, same server and port) works"
    [request-sni-drop]="the handshake on 8443 completes with the server; r2 (hop 2) silently drops every ClientHello naming dropped.lab.test (-m string, DROP), so the client retransmits it until curl gives up at 4 s; the control (allowed.lab.test) works"
    [request-injected-reset]="the handshake on 8080 completes with the server; an on-path injector on r2 (hop 2) reads the request and, for Host censored.lab.test, sends the client a forged RST|ACK in the server's name without stopping the request: the server's genuine reply arrives after the reset; the control (Host allowed.lab.test) works"
    [request-proxy-reset]="the server accepts on 8081 and reads the request, but as a proxy without a healthy backend it closes the connection with a RST (SO_LINGER 0) without answering"
    [request-proxy-close]="the server accepts on 8082 and reads the request, but as a proxy without a healthy backend it closes the connection with a FIN without a byte of answer"
)

# What the capture must show as the answer to the tested port, per family:
# "SOURCE TTL KIND" lines (KIND: SA = SYN|ACK, RA = RST|ACK, icmp:T/C,
# icmp6:T/C), "none" when nothing may answer. Observed in the lab and derived
# from the build: TTL = initial TTL (64, r3 255) - routers in between.
declare -A CASE_ANSWER4=(
    [open]="$SERVER4 61 SA"
    [host-closed]="$SERVER4 61 RA"
    [host-reject-rst]="$SERVER4 61 RA"
    [host-icmp-port-unreachable]="$SERVER4 61 icmp:3/3"
    [host-icmp-admin-prohibited]="$SERVER4 61 icmp:3/13"
    [host-drop]="none"
    [router-reject-rst]="$SERVER4 63 RA"
    [router-icmp-admin-prohibited]="198.18.2.2 63 icmp:3/13"
    [router-icmp-host-unreachable]="198.18.3.2 253 icmp:3/1"
    [router-icmp-net-unreachable]="198.18.1.2 64 icmp:3/0"
    [router-drop]="none"
    [router-ttl255-reject-rst]="$SERVER4 253 RA"
    [injected-reset]="$SERVER4 61 SA,$SERVER4 63 RA"
    [one-direction]="none"
    [alone-host-closed]="$SERVER4 61 RA"
    [alone-host-icmp-port-unreachable]="$SERVER4 61 icmp:3/3"
    [alone-host-drop]="none"
    [alone-router-reject-rst]="$SERVER4 63 RA"
    [alone-router-icmp-admin-prohibited]="198.18.2.2 63 icmp:3/13"
    [alone-router-ttl255-reject-rst]="$SERVER4 253 RA"
    [alone-injected-reset]="$SERVER4 61 SA,$SERVER4 63 RA"
    [ttl-forging-firewall]="$SERVER4 61 RA"
    [ttl-forging-firewall-traced]="198.18.1.2 64 icmp:11/0,198.18.2.2 63 icmp:11/0,$SERVER4 61 RA"
    [one-direction-drop]="none"
    [reordered]="$SERVER4 61 RA"
    [stale-address]="198.18.3.2 253 icmp:3/1"
)
declare -A CASE_ANSWER6=(
    [open]="$SERVER6 61 SA"
    [host-closed]="$SERVER6 61 RA"
    [host-reject-rst]="$SERVER6 61 RA"
    [host-icmp-port-unreachable]="$SERVER6 61 icmp6:1/4"
    [host-icmp-admin-prohibited]="$SERVER6 61 icmp6:1/1"
    [host-drop]="none"
    [router-reject-rst]="$SERVER6 63 RA"
    [router-icmp-admin-prohibited]="2001:db8:2::2 63 icmp6:1/1"
    [router-icmp-host-unreachable]="2001:db8:3::2 253 icmp6:1/3"
    [router-icmp-net-unreachable]="2001:db8:1::2 64 icmp6:1/0"
    [router-drop]="none"
    [router-ttl255-reject-rst]="$SERVER6 253 RA"
    [injected-reset]="$SERVER6 61 SA,$SERVER6 63 RA"
    [one-direction]="none"
    [alone-host-closed]="$SERVER6 61 RA"
    [alone-host-icmp-port-unreachable]="$SERVER6 61 icmp6:1/4"
    [alone-host-drop]="none"
    [alone-router-reject-rst]="$SERVER6 63 RA"
    [alone-router-icmp-admin-prohibited]="2001:db8:2::2 63 icmp6:1/1"
    [alone-router-ttl255-reject-rst]="$SERVER6 253 RA"
    [alone-injected-reset]="$SERVER6 61 SA,$SERVER6 63 RA"
    [ttl-forging-firewall]="$SERVER6 61 RA"
    [ttl-forging-firewall-traced]="2001:db8:1::2 64 icmp6:3/0,2001:db8:2::2 63 icmp6:3/0,$SERVER6 61 RA"
    [one-direction-drop]="none"
    [reordered]="$SERVER6 61 RA"
    [stale-address]="2001:db8:3::2 253 icmp6:1/3"
)

# ---------------------------------------------------------------------------
# Refusals after the handshake (issue 14: the request stage). The handshake always
# completes with the server; what refuses reads the request: the TLS ClientHello's
# server name or the HTTP Host header (tests/lab/README.md, "Refusals after the
# handshake"). The client connects by literal address and sends the name only in the
# SNI / Host. Each case is a list of steps, each step one attempt per family (IPv4,
# then IPv6; a dropped request's attempts run both at once):
#   PORT:CLIENT:NAME:OUTCOME
#   CLIENT  tls   curl -k https://NAME:PORT/ with --resolve NAME:PORT:<literal address>
#           http  curl -H 'Host: NAME' http://<literal address>:PORT/
#           nc    nc -z (handshake, then the client's FIN: no request; NAME is "-")
# Every expected.json entry of these cases has "stage" ("request" when the client sent
# data, "syn" when it did not) and "trigger" (the name sent; null for nc).
# ---------------------------------------------------------------------------

declare -A REQ_STEPS=(
    [request-control]="8443:tls:$LAB_NAME_ALLOWED:open $LAB_REQ_HTTP_PORT:http:$LAB_NAME_ALLOWED:open 8443:nc:-:open"
    [request-sni-reset]="8443:tls:$LAB_NAME_ALLOWED:open 8443:tls:$LAB_NAME_RESET:sni-reset"
    [request-sni-drop]="8443:tls:$LAB_NAME_ALLOWED:open 8443:tls:$LAB_NAME_DROPPED:dropped"
    [request-injected-reset]="$LAB_REQ_HTTP_PORT:http:$LAB_NAME_ALLOWED:open $LAB_REQ_HTTP_PORT:http:$LAB_NAME_INJECTED:injected"
    [request-proxy-reset]="$LAB_PROXY_RESET_PORT:http:app.lab.test:proxy-reset"
    [request-proxy-close]="$LAB_PROXY_CLOSE_PORT:http:app.lab.test:proxy-close"
)
# OUTCOME -> the truth (verdict actor responder hop; "server" = the attempt's
# destination, "-" = null), then what the capture must show of the flow after the
# handshake (checked by check_request_capture): the first packet from the server's side
# after the request that is not a bare ACK (KIND@TTL: R = RST, RA = RST|ACK, D = data,
# F = FIN without data; "-" none) and whether data from the server's side follows the
# request at all (y/n).
declare -A REQ_OUTCOME=(
    [open]="open host server 4 D@61 y"
    [sni-reset]="refused-by-middlebox middlebox - 2 R@63 n"
    [dropped]="dropped unknown - - - n"
    [injected]="injected-reset middlebox - 2 RA@63 y"
    [proxy-reset]="refused-by-host host server 4 RA@61 n"
    [proxy-close]="refused-by-host host server 4 F@61 n"
)

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

say() { printf 'make-samples: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

usage() { sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

parse_args() {
    while (($#)); do
        case $1 in
        --out) OUT_DIR=${2:?--out needs a directory}; shift 2 ;;
        --case) SELECTED+=("${2:?--case needs a name}"); shift 2 ;;
        --injector) INJECTOR=${2:?--injector needs a path}; shift 2 ;;
        --snaplen) SNAPLEN=${2:?--snaplen needs a number}; shift 2 ;;
        --list) printf '%s\n' "${ALL_CASES[@]}"; exit 0 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
        esac
    done
    [[ $SNAPLEN =~ ^[0-9]{1,6}$ ]] || die "--snaplen must be a number"
    ((${#SELECTED[@]})) || SELECTED=("${ALL_CASES[@]}")
    local c
    for c in "${SELECTED[@]}"; do
        [[ -n ${CASE_ROW[$c]:-} ]] || die "unknown case '$c' (see --list)"
    done
    mkdir -p "$OUT_DIR"
    OUT_DIR=$(cd "$OUT_DIR" && pwd)
}

check_tools() {
    local t
    [[ $EUID -eq 0 ]] || die "needs root (network namespaces, iptables, tcpdump)"
    for t in ip iptables ip6tables tcpdump editcap mergecap tshark curl nc socat setsid traceroute openssl ss; do
        command -v "$t" >/dev/null || die "missing tool: $t (scripts/install-deps.sh)"
    done
}

wants_case() {
    local c
    for c in "${SELECTED[@]}"; do [[ $c == "$1" ]] && return 0; done
    return 1
}

# The injector: given, or a CMake build in the usual place, or compiled here.
find_injector() {
    if [[ -z $INJECTOR && -x $REPO_DIR/build/tests/lab/splab-injector ]]; then
        INJECTOR=$REPO_DIR/build/tests/lab/splab-injector
    fi
    if [[ -z $INJECTOR ]]; then
        INJECTOR=$SPLAB_STATE/splab-injector
        say "no --injector given: compiling tests/lab/injector.cpp into $INJECTOR"
        "${CXX:-c++}" -std=c++20 -O2 -o "$INJECTOR" "$REPO_DIR/tests/lab/injector.cpp" -ltins -lpcap ||
            die "could not build the injector; pass --injector PATH"
    fi
    [[ -x $INJECTOR ]] || die "injector not executable: $INJECTOR"
    INJECTOR=$(cd "$(dirname "$INJECTOR")" && pwd)/$(basename "$INJECTOR")
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    lab_down || say "warning: lab teardown reported an error"
    rm -f -- "$OUT_DIR"/*/capture.pcapng.tmp
    ((rc == 0)) || say "failed or interrupted (exit $rc); lab $SPLAB_ID torn down"
    exit "$rc"
}

# ---------------------------------------------------------------------------
# Capture and client actions
# ---------------------------------------------------------------------------

CAPTURE_PIDS=()

# start_capture FILE [TCPDUMP-ARGS...] — one more tcpdump on the client's interface.
start_capture() {
    local file=$1 name=tcpdump${#CAPTURE_PIDS[@]}
    shift
    # -Z root: write the file as root (no privilege drop to the tcpdump user).
    lab_spawn client "$name" tcpdump -i "$CLIENT_IF" -n -U --immediate-mode \
        -s "$SNAPLEN" -Z root "$@" -w "$file"
    CAPTURE_PIDS+=("$LAB_SPAWNED_PID")
    lab_wait_for_line "$SPLAB_STATE/$name.log" 'listening on' "$LAB_SPAWNED_PID" 100 ||
        { cat "$SPLAB_STATE/$name.log" >&2; die "tcpdump did not start"; }
}

# Stops every tcpdump start_capture started (SIGINT: each flushes and closes its file).
stop_capture() {
    local pid
    for pid in "${CAPTURE_PIDS[@]}"; do
        lab_kill_pid "$pid" "$(lab_pid_start "$pid")" INT
        wait "$pid" 2>/dev/null || true
    done
    CAPTURE_PIDS=()
}

CLIENT_CMDS=()   # what the client ran, for the README

# One HTTP request with curl (exactly one connection: literal address, one family).
client_curl() {   # client_curl 4|6
    local url
    if [[ $1 == 4 ]]; then url="http://$SERVER4:80/"; else url="http://[$SERVER6]:80/"; fi
    CLIENT_CMDS+=("curl -$1 --noproxy '*' -sS -g --max-time 5 -o /dev/null $url")
    lab_in client curl "-$1" --noproxy '*' -sS -g --max-time 5 -o /dev/null "$url" ||
        die "curl to $url failed"
}

# traceroute -T to the tested port, one probe per TTL, one TTL at a time (-N 1), so
# that it stops at the first hop whose answer claims the destination's address.
client_traceroute() {   # client_traceroute 4|6 PORT
    local dst=$SERVER4
    [[ $1 == 6 ]] && dst=$SERVER6
    CLIENT_CMDS+=("traceroute -$1 -n -T -N 1 -q 1 -m 6 -p $2 $dst")
    lab_in client traceroute "-$1" -n -T -N 1 -q 1 -m 6 -p "$2" "$dst" >/dev/null ||
        die "traceroute to [$dst]:$2 failed"
}

# One connection attempt with nc (a single connect(), given up after 4 s).
# Every tested port other than 80 must fail.
client_nc() {   # client_nc 4|6 PORT
    local dst=$SERVER4
    [[ $1 == 6 ]] && dst=$SERVER6
    CLIENT_CMDS+=("nc -$1 -z -w 4 $dst $2")
    if lab_in client nc "-$1" -z -w 4 "$dst" "$2" 2>/dev/null; then
        die "nc to [$dst]:$2 unexpectedly connected"
    fi
}

# ---------------------------------------------------------------------------
# Checking a capture against the scenario
# ---------------------------------------------------------------------------

# One tshark pass per capture; the checks and the README read this dump.
# occurrence=f: for an ICMP error, the ip/ipv6 fields are the outer header's
# and the tcp fields the quoted segment's.
DUMP_FIELDS=(frame.number frame.time_relative ip.src ipv6.src ip.dst ipv6.dst ip.ttl ipv6.hlim
    tcp.srcport tcp.dstport tcp.flags tcp.seq_raw icmp.type icmp.code icmpv6.type icmpv6.code
    _ws.col.Source _ws.col.Destination _ws.col.Protocol _ws.col.Info)
dump_capture() {   # dump_capture PCAP > DUMP
    local f args=()
    for f in "${DUMP_FIELDS[@]}"; do args+=(-e "$f"); done
    tshark -r "$1" -n -E occurrence=f -T fields "${args[@]}" 2>/dev/null
}

# awk prelude: column numbers of the dump and TCP flag decoding (mawk has no
# bit operations).
# shellcheck disable=SC2016  # awk code: $n are awk fields
AWK_LIB='
BEGIN { FS = "\t" }
function hex(s,   i, v) { v = 0; s = tolower(s); sub(/^0x/, "", s)
    for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
    return v }
function bit(v, b) { return int(v / b) % 2 }
function is_icmp() { return $13 != "" || $15 != "" }
function src() { return $3 != "" ? $3 : $4 }
function ttl() { return $7 != "" ? $7 : $8 }
'

# Distinct attempts: SYN without ACK from the client, keyed by 5-tuple + ISN
# (not the SYNs quoted inside ICMP errors).
count_attempts() {   # count_attempts DUMP
    awk "$AWK_LIB"'
        !is_icmp() && $11 != "" { f = hex($11); if (bit(f, 2) && !bit(f, 16)) seen[$3 $4 "|" $9 "|" $5 $6 "|" $10 "|" $12] = 1 }
        END { n = 0; for (k in seen) n++; print n }' "$1"
}

# Answers to PORT in the capture: "SOURCE TTL KIND", one per line, sorted.
# A TCP answer is a segment from PORT with SYN or RST (the data of an open
# connection is no answer); an ICMP error answers if it quotes a segment to PORT.
answers() {   # answers DUMP FAMILY PORT
    local client=$CLIENT4
    [[ $2 == 6 ]] && client=$CLIENT6
    awk "$AWK_LIB"'
        (fam == 4 && $3 == "") || (fam == 6 && $4 == "") || src() == client { next }
        ($13 == "3" || $13 == "11") && $10 == port { print src(), ttl(), "icmp:" $13 "/" $14; next }
        ($15 == "1" || $15 == "3") && $10 == port { print src(), ttl(), "icmp6:" $15 "/" $16; next }
        !is_icmp() && $9 == port && $11 != "" {
            f = hex($11)
            if (!bit(f, 2) && !bit(f, 4)) next
            kind = sprintf("tcp:0x%04x", f)
            if (f == 18) kind = "SA"; else if (f == 20) kind = "RA"
            print src(), ttl(), kind
        }' fam="$2" port="$3" client="$client" "$1" | sort -u
}

# Has the case a port-80 baseline in its capture?
has_baseline() { [[ $(case_mode "$1") == baseline || $(case_mode "$1") == split || $(case_mode "$1") == traced ]]; }

# Connection attempts a case's capture holds: per family, the tested attempt, the
# baseline's, and traceroute's three probes (TTL 1 and 2 expire at r1 and r2; TTL 3
# gets the answer that claims the destination's address, and traceroute stops).
expected_attempts() {   # expected_attempts CASE
    local per_family=1
    has_baseline "$1" && per_family=$((per_family + 1))
    [[ $(case_mode "$1") == traced ]] && per_family=$((per_family + 3))
    printf '%s' $((2 * per_family))
}

check_capture() {   # check_capture CASE DUMP
    local name=$1 file=$2 port expected got want f spec
    read -r port _ <<<"${CASE_ROW[$name]}"
    want=$(expected_attempts "$name")
    got=$(count_attempts "$file")
    ((got == want)) || die "$name: capture holds $got connection attempts, expected $want"
    for f in 4 6; do
        if [[ $f == 4 ]]; then spec=${CASE_ANSWER4[$name]}; else spec=${CASE_ANSWER6[$name]}; fi
        if [[ $spec == none ]]; then expected=""; else expected=$(tr ',' '\n' <<<"$spec" | sort -u); fi
        got=$(answers "$file" "$f" "$port")
        [[ $got == "$expected" ]] ||
            die "$name: IPv$f answers to port $port are [${got//$'\n'/; }], expected [${expected//$'\n'/; }]"
        if has_baseline "$name"; then
            # The baseline: the server itself, 3 routers away.
            if [[ $f == 4 ]]; then expected="$SERVER4 61 SA"; else expected="$SERVER6 61 SA"; fi
            got=$(answers "$file" "$f" 80)
            [[ $got == "$expected" ]] || die "$name: IPv$f baseline answers [${got//$'\n'/; }]"
        fi
    done
}

# ---------------------------------------------------------------------------
# Writing expected.json and README.md
# ---------------------------------------------------------------------------

json_str() { [[ $1 == - ]] && printf 'null' || printf '"%s"' "$1"; }
json_num() { [[ $1 == - ]] && printf 'null' || printf '%s' "$1"; }

# attempt_json FAMILY DST PORT VERDICT ACTOR RESPONDER HOP [EXTRA-JSON-MEMBERS]
attempt_json() {
    printf '    {"family": %s, "dst": "%s", "dport": %s, "verdict": "%s", "actor": "%s", "responder": %s, "hop": %s%s}' \
        "$1" "$2" "$3" "$4" "$5" "$(json_str "$6")" "$(json_num "$7")" "${8:+, $8}"
}

# The fields of the tested attempt that the capture cannot show (CASE_CANNOT_TELL).
cannot_tell_json() {   # cannot_tell_json CASE
    local fields=${CASE_CANNOT_TELL[$1]:-} f list=()
    [[ -n $fields ]] || return 0
    for f in $fields; do list+=("\"$f\""); done
    printf '"capture_cannot_tell": [%s], "why": "%s"' "$(printf '%s, ' "${list[@]}" | sed 's/, $//')" \
        "${CASE_WHY[$1]}"
}

write_expected() {   # write_expected CASE FILE
    local name=$1 out=$2 port verdict actor r4 r6 hop lines=() f dst resp
    read -r port verdict actor r4 r6 hop <<<"${CASE_ROW[$name]}"
    local r1 r2 extra=""
    for f in 4 6; do
        if [[ $f == 4 ]]; then dst=$SERVER4 resp=$r4 r1=198.18.1.2 r2=198.18.2.2
        else dst=$SERVER6 resp=$r6 r1=2001:db8:1::2 r2=2001:db8:2::2; fi
        if has_baseline "$name"; then
            lines+=("$(attempt_json "$f" "$dst" 80 open host "$dst" 4)")
        fi
        dst=$(target_of "$name" "$f")
        [[ -n ${CASE_CAUSE[$name]:-} ]] && extra="\"cause\": \"${CASE_CAUSE[$name]}\""
        if [[ $(case_mode "$name") == traced ]]; then
            # traceroute's probes: TTL 1 and 2 expire (nothing refused them; the router
            # that said so is the hop); TTL 3 meets r2's reset like the attempt after it.
            lines+=("$(attempt_json "$f" "$dst" "$port" inconclusive router "$r1" 1 '"probe": "traceroute -T, TTL 1"')")
            lines+=("$(attempt_json "$f" "$dst" "$port" inconclusive router "$r2" 2 '"probe": "traceroute -T, TTL 2"')")
            extra='"count": 2, "probe": "traceroute -T TTL 3, then nc"'
        fi
        lines+=("$(attempt_json "$f" "$dst" "$port" "$verdict" "$actor" "$resp" "$hop" \
            "$(cannot_tell_json "$name")${extra:+${CASE_CANNOT_TELL[$name]:+, }$extra}")")
    done
    {
        printf '{\n  "case": "%s",\n  "truth": "%s",\n  "attempts": [\n' "$name" "${CASE_TRUTH[$name]}"
        local i
        for ((i = 0; i < ${#lines[@]}; i++)); do
            printf '%s' "${lines[i]}"
            ((i + 1 < ${#lines[@]})) && printf ','
            printf '\n'
        done
        printf '  ]\n}\n'
    } >"$out"
}

# How the scenario is built and why the verdict is what it is (hand-written).
case_story() {
    case $1 in
    open) cat <<'EOF'
**Scenario.** The server runs a dual-stack socat listener on port 80
(`TCP6-LISTEN:80,fork,reuseaddr,ipv6only=0`) that answers one HTTP/1.0 reply.
No firewall rule touches port 80 anywhere on the path.

**What the packets show.** For each family: the client's SYN (TTL 64), the
server's SYN|ACK arriving with TTL/hop limit 61 (initial 64, three routers),
then the handshake ACK, the GET, the reply and a normal FIN close.

**Why the verdict.** A SYN|ACK from the destination completes the handshake:
`open`, answered by the host itself, hop 64 - 61 + 1 = 4.
EOF
        ;;
    host-closed) cat <<'EOF'
**Scenario.** Nothing listens on port 81 of the server and no rule filters it.
The server's own TCP stack (`tcp_v4_send_reset` / `tcp_v6_send_reset`) answers.

**What the packets show.** The baseline curl to port 80 gets its SYN|ACK with
TTL 61. The SYN to port 81 gets a RST|ACK (seq 0, ack = ISN+1, window 0) from
198.18.4.10 / 2001:db8:4::10 with TTL / hop limit 61, the same as the baseline
SYN|ACK; on IPv4 its IP-ID is 0 with DF set, like every stack RST.

**Why the verdict.** The reset comes from as far away as the server's own
SYN|ACK (hop 4): the host refused: `refused-by-host`.
EOF
        ;;
    host-reject-rst) cat <<'EOF'
**Scenario.** The server's own firewall rejects port 82 in INPUT (the packets
are addressed to the server itself):
`iptables -A INPUT -d 198.18.4.10 -p tcp --dport 82 -j REJECT --reject-with tcp-reset`
(and the same with ip6tables for 2001:db8:4::10).

**What the packets show.** Like the closed port: RST|ACK from the server's
address, TTL / hop limit 61 (the baseline SYN|ACK also arrives with 61).
`nf_send_reset` builds the same seq 0 / ack ISN+1 / window 0 / DF / IP-ID 0
reset as the stack does.

**Why the verdict.** From the outside a host firewall's reset and the host
stack's reset are the same thing, sent from the same distance (hop 4):
`refused-by-host`.
EOF
        ;;
    host-icmp-port-unreachable) cat <<'EOF'
**Scenario.** The server's own firewall rejects port 83 in INPUT with an ICMP
error: `REJECT --reject-with icmp-port-unreachable` (IPv6:
`icmp6-port-unreachable`).

**What the packets show.** ICMP type 3 code 3 (ICMPv6 type 1 code 4) from
198.18.4.10 / 2001:db8:4::10 with TTL / hop limit 61, quoting the client's SYN
(quoted TTL 61: decremented by the three routers on the way in). The client gives up at the first
error. (Linux takes an ICMP error that arrives while connect() still holds the
socket as soft and retransmits once: without link delays, SPLAB_DELAYS=0, the
IPv6 client did so and got a second identical error, the same attempt.)

**Why the verdict.** An ICMP destination-unreachable sent by the destination
itself, from hop 4: `icmp-unreachable`, actor `host`, responder the server.
EOF
        ;;
    host-icmp-admin-prohibited) cat <<'EOF'
**Scenario.** The server's own firewall rejects port 84 in INPUT with
`REJECT --reject-with icmp-admin-prohibited` (IPv6: `icmp6-adm-prohibited`),
as firewalld does by default.

**What the packets show.** ICMP type 3 code 13 (ICMPv6 type 1 code 1) from
198.18.4.10 / 2001:db8:4::10, TTL / hop limit 61. As for port 83, the
client gives up at the first error.

**Why the verdict.** Administratively prohibited, sent by the destination
itself from hop 4: `icmp-unreachable`, actor `host`.
EOF
        ;;
    host-drop) cat <<'EOF'
**Scenario.** The server's own firewall drops port 85 in INPUT:
`iptables -A INPUT -d 198.18.4.10 -p tcp --dport 85 -j DROP` (and ip6tables).

**What the packets show.** The baseline curl works (SYN|ACK, TTL 61). The SYN
to port 85 is sent three times (0 s, 1 s, 3 s: `tcp_syn_retries=2` in the
client) and nothing comes back; nc gives up after 4 s.

**Why the verdict.** Silence: `dropped`. Nothing in the capture tells who
dropped it (the server's firewall here, but a router would look the same), so
actor `unknown`, no responder, no hop.
EOF
        ;;
    router-reject-rst) cat <<'EOF'
**Scenario.** r2 (hop 2) rejects port 90 in its FORWARD chain (the packets are
in transit through r2, so only FORWARD sees them):
`iptables -A FORWARD -d 198.18.4.10 -p tcp --dport 90 -j REJECT --reject-with tcp-reset`
(and ip6tables).

**What the packets show.** The baseline SYN|ACK from the server arrives with
TTL / hop limit 61. The RST|ACK for port 90 also claims to come from
198.18.4.10 / 2001:db8:4::10, but arrives with 63: r2 sent it with 64 and only
r1 decremented it. On IPv4 it carries IP-ID 0 and DF like the server's own
resets (nf_send_reset), so only the distance gives it away.

**Why the verdict.** A reset "from the server" that is two hops closer than the
server's own SYN|ACK was forged by something on the path:
`refused-by-middlebox`, actor `middlebox`, hop 64 - 63 + 1 = 2; the responder
is unknown (its own address never appears), hence null.
EOF
        ;;
    router-icmp-admin-prohibited) cat <<'EOF'
**Scenario.** r2 (hop 2) rejects port 91 in FORWARD with
`REJECT --reject-with icmp-admin-prohibited` (IPv6: `icmp6-adm-prohibited`).

**What the packets show.** ICMP type 3 code 13 (ICMPv6 type 1 code 1) from
198.18.2.2 / 2001:db8:2::2 (r2's address on the link toward the client, chosen
by the route back to the client), TTL / hop limit 63. The quoted SYN has TTL
62: decremented by r1 and by r2 itself before its FORWARD hook. The client gives up at the
first error.

**Why the verdict.** An ICMP error from a router: `icmp-unreachable`, actor
`router`, responder r2's address, hop 64 - 63 + 1 = 2.
EOF
        ;;
    router-icmp-host-unreachable) cat <<'EOF'
**Scenario.** r3 (hop 3), which runs with initial TTL / hop limit 255, rejects
port 92 in FORWARD with `REJECT --reject-with icmp-host-unreachable` (IPv6:
`icmp6-addr-unreachable`).

**What the packets show.** ICMP type 3 code 1 (ICMPv6 type 1 code 3) from
198.18.3.2 / 2001:db8:3::2 with TTL / hop limit 253: sent with 255, decremented
by r2 and r1. The client gives
up at the first error.

**Why the verdict.** `icmp-unreachable` from a router, hop 255 - 253 + 1 = 3
(the initial TTL is inferred as 255 by rounding 253 up; 64 would be impossible).
EOF
        ;;
    router-icmp-net-unreachable) cat <<'EOF'
**Scenario.** r1 (hop 1) rejects port 93 in FORWARD with
`REJECT --reject-with icmp-net-unreachable` (IPv6: `icmp6-no-route`).

**What the packets show.** ICMP type 3 code 0 (ICMPv6 type 1 code 0) from
198.18.1.2 / 2001:db8:1::2 with TTL / hop limit 64: r1 is the client's own
gateway, nothing decrements in between. The client gives up at
the first error.

**Why the verdict.** `icmp-unreachable` from a router, hop 64 - 64 + 1 = 1.
EOF
        ;;
    router-drop) cat <<'EOF'
**Scenario.** r2 (hop 2) drops port 94 in FORWARD:
`iptables -A FORWARD -d 198.18.4.10 -p tcp --dport 94 -j DROP` (and ip6tables).

**What the packets show.** The baseline works; the SYN to port 94 is sent at
0 s, 1 s and 3 s and nothing answers; nc gives up after 4 s.

**Why the verdict.** `dropped`. The capture alone cannot tell a router's drop
from the host's (compare `host-drop`): actor `unknown`, responder and hop null.
EOF
        ;;
    router-ttl255-reject-rst) cat <<'EOF'
**Scenario.** r3 (hop 3), initial TTL / hop limit 255, rejects port 96 in
FORWARD with `REJECT --reject-with tcp-reset` (and ip6tables).

**What the packets show.** The RST|ACK claims to come from 198.18.4.10 /
2001:db8:4::10 but arrives with TTL / hop limit 253, while the server's own
SYN|ACK (baseline) arrives with 61.

**Why the verdict.** A TTL of 253 cannot come from the server (initial 64, 3
routers: 61). Rounded up, the sender's initial TTL is 255, so it is
255 - 253 + 1 = 3 hops away: `refused-by-middlebox`, hop 3. A tool that
assumed the server's initial TTL (64) for every packet "from the server" would
get this one wrong.
EOF
        ;;
    injected-reset | alone-injected-reset) cat <<'EOF'
**Scenario.** The server listens on port 95 (socat, like port 80). An on-path
injector (tests/lab/injector.cpp, `splab-injector`) runs in r2's namespace,
sniffs client SYNs to port 95 on r2's client-facing interface, and answers
each with a forged RST|ACK from the server's address: seq 0, ack = ISN+1,
window 0, TTL / hop limit 64, sent through a raw socket (so not decremented on
r2). It cannot block anything: the SYN still reaches the server. It wins the
race by distance, as a real injector near the client does: with the lab's link
delays its reset reaches the client about 6 ms after the SYN, the server's
SYN|ACK about 20 ms after it.

**What the packets show.** SYN (TTL 64); about 6 ms later a RST|ACK "from the
server" with TTL / hop limit 63, on IPv4 with IP-ID 1 and DF clear (the
server's own packets: IP-ID 0, DF set); about 20 ms after the SYN the server's
real SYN|ACK with TTL 61, to which the client, whose connect() has already
failed, answers with a bare RST.

**Why the verdict.** Two contradictory answers from "the server" for one
attempt: a reset from 2 hops away and a SYN|ACK from 4 hops away. The reset
was injected on the path: `injected-reset`, actor `middlebox`, hop
64 - 63 + 1 = 2, responder unknown (null). The attempt needs no baseline: its
own SYN|ACK is the host's distance (the `alone-` case has none).
EOF
        ;;
    alone-host-closed) cat <<'EOF'
**Scenario.** As `host-closed`: nothing listens on port 81, the server's own
stack resets. The client makes no other connection: the file holds one
attempt per family and its answer, the poorest capture there is.

**What the packets show.** SYN, then about 20 ms later a RST|ACK from the
server's address with TTL / hop limit 61 (seq 0, ack ISN+1, window 0; IPv4
IP-ID 0, DF).

**Why the verdict.** `refused-by-host`, hop 4. Nothing contradicts the
destination's address: initial TTL 64 is a host's, and nothing in the file is
nearer or faster. The capture cannot prove it either (a firewall 4 hops away
with a Linux stack would look the same), so the confidence is low and the tool
should say what would settle it.
EOF
        ;;
    alone-host-icmp-port-unreachable) cat <<'EOF'
**Scenario.** As `host-icmp-port-unreachable`: the server's INPUT rejects
port 83 with ICMP port unreachable (ICMPv6 port unreachable). No baseline.

**What the packets show.** The SYN, the ICMP error from the server's own
address with TTL / hop limit 61, quoting the SYN.

**Why the verdict.** `icmp-unreachable` sent by the destination itself (its
address is the ICMP source): actor `host`, hop 4.
EOF
        ;;
    alone-host-drop) cat <<'EOF'
**Scenario.** As `host-drop`: the server's INPUT drops port 85. No baseline.

**What the packets show.** Three SYNs per family (0, 1, 3 s) and nothing back.

**Why the verdict.** `dropped`; nobody to name: actor `unknown`, responder
and hop null.
EOF
        ;;
    alone-router-reject-rst) cat <<'EOF'
**Scenario.** As `router-reject-rst`: r2 (hop 2) resets port 90 in FORWARD
with the server's address and its own TTL (64, so 63 at the client). No
baseline.

**What the packets show.** The SYN and, about 6 ms later, a RST|ACK from the
server's address with TTL / hop limit 63, shaped as Linux builds it (seq 0,
window 0, IPv4 IP-ID 0, DF).

**Why the verdict.** The truth is `refused-by-middlebox` at hop 2. The capture
cannot show it: a host two hops away with a Linux stack sends exactly this
RST, and the file holds nothing of the real server (its TTL, its round trip)
to compare with. expected.json marks verdict, actor and responder as what the
capture cannot tell: the tool may say `refused-by-host` only with a confidence
of at most 0.6 and a `to_settle` (an open port of the same host, or a live
probe). Only the hop, 2, is certain: whoever sent it is two hops away.
EOF
        ;;
    alone-router-icmp-admin-prohibited) cat <<'EOF'
**Scenario.** As `router-icmp-admin-prohibited`: r2 answers port 91 with ICMP
administratively prohibited (ICMPv6 administratively prohibited) from its
client-side address. No baseline.

**What the packets show.** The SYN and the ICMP error from 198.18.2.2 /
2001:db8:2::2, TTL / hop limit 63.

**Why the verdict.** The error's source is not the destination: a router on
the path refused. `icmp-unreachable`, actor `router`, hop 2, responder r2.
EOF
        ;;
    alone-router-ttl255-reject-rst) cat <<'EOF'
**Scenario.** As `router-ttl255-reject-rst`: r3 (hop 3, initial TTL 255)
resets port 96 with the server's address. No baseline.

**What the packets show.** The SYN and a RST|ACK "from the server" with TTL /
hop limit 253, about 12 ms later.

**Why the verdict.** Initial TTL 255 is network gear's (Linux, BSD and macOS
hosts start at 64, Windows at 128; only Solaris/illumos hosts use 255), so the
RST is a middlebox's even without a baseline: `refused-by-middlebox`, hop
255 - 253 + 1 = 3, responder null (its own address never appears).
EOF
        ;;
    ttl-forging-firewall | ttl-forging-firewall-traced) cat <<'EOF'
**Scenario.** r2 (hop 2) rejects port 97 in FORWARD with a TCP reset carrying
the server's address (`REJECT --reject-with tcp-reset`) and rewrites the TTL /
hop limit of those resets in its mangle OUTPUT chain to 62
(`-j TTL --ttl-set 62`, `-j HL --hl-set 62`, lab.sh `lab_ttl_forging`), so
that after r1 they arrive with 61, exactly the server's own TTL.

**What the packets show.** The baseline SYN|ACK from the server takes about
20 ms (TTL 61). The RST|ACK for port 97 also has TTL 61, IP-ID 0 and DF like
the server's packets, but comes about 6 ms after its SYN: r2's round trip.
In the `-traced` case the client first ran `traceroute -T -p 97` (one probe per
TTL): the TTL-1 probe gets time-exceeded from r1 (about 2 ms), the TTL-2
probe from r2 (about 6 ms), the TTL-3 probe r2's forged RST (about 6 ms:
the "destination" answers at hop 3 with hop 2's round trip), and traceroute
stops.

**Why the verdict.** The host cannot answer in 30 % of its own fastest round
trip, whatever the TTL says: a nearer device forged the reset,
`refused-by-middlebox`. Without the trace the capture says only that it is
nearer than the host (hops 1 to 3; expected.json marks the hop as what the
capture cannot tell). With the trace, the RST's round trip is the one of the
hop 2 that answered time-exceeded from 198.18.2.2 / 2001:db8:2::2: hop 2, and
that address. traceroute's own TTL-1 and TTL-2 probes were refused by nobody:
they expired at r1 and r2 (`inconclusive`, the router that said so).
EOF
        ;;
    one-direction-drop) cat <<'EOF'
**Scenario.** As `alone-host-drop` (the server's INPUT drops port 85, no
baseline), captured with `tcpdump -Q out`: only the client's own packets.

**What the packets show.** Three SYNs per family, at 0, 1 and 3 s: a Linux
client's schedule (initial timeout 1 s, doubling; `tcp_syn_retries=2`).

**Why the verdict.** A stack retransmits its SYN only while nothing
acceptable came back: a SYN/ACK makes it ACK, a RST or an ICMP hard error ends
connect(). Three SYNs and then nothing (no ACK, no data) say that no answer
reached the client: `dropped`, actor `unknown`. That the capture shows one
direction only is the caveat, and lowers the confidence.
EOF
        ;;
    reordered) cat <<'EOF'
**Scenario.** As `host-closed` with its port-80 baseline, captured by two
tcpdumps on the client's interface, one per direction (`-Q in`, `-Q out`),
whose files were concatenated with `mergecap -a`, inbound first: what one
gets by joining per-direction captures without re-sorting them.

**What the packets show.** Every packet the server sent (its SYN|ACKs, data,
FINs, the RST|ACKs for port 81), then every packet the client sent. Each
packet keeps its own timestamp; only their order in the file is wrong.

**Why the verdict.** The same as in `host-closed`: the answers are matched to
their SYNs by the flow, the ISN and the timestamps, not by their place in the
file. Port 80 `open`, port 81 `refused-by-host`, hop 4.
EOF
        ;;
    stale-address) cat <<'EOF'
**Scenario.** Nothing lives at 198.18.4.99 / 2001:db8:4::99, addresses of the
server's LAN (link4): what a DNS record still points to after its server was
decommissioned or moved. r3 (hop 3, initial TTL 255) is the LAN's router: it
holds each SYN while it asks for the address with ARP / Neighbour Discovery
(3 solicitations a second apart: Linux's `mcast_solicit` 3, `retrans_time_ms`
1000, RFC 4861's MAX_MULTICAST_SOLICIT and RETRANS_TIMER), then answers every
packet it held with ICMP host unreachable (type 3 code 1; ICMPv6 address
unreachable, type 1 code 3). No firewall rule is involved. No baseline.

**What the packets show.** Per family the client's SYN at 0, 1 and 3 s (its
`tcp_syn_retries=2` schedule), then about 3.07 s after the first SYN three ICMP
errors from 198.18.3.2 / 2001:db8:3::2 (TTL / hop limit 253) within a
fraction of a millisecond, one quoting each SYN (on IPv4 consecutive IP-IDs).
The client gives up at the first.

**Why the verdict.** `icmp-unreachable` from the router at hop 3, and the
delay says why: a router answers in milliseconds unless it waits for a
neighbour, and it released errors for SYNs sent seconds apart together. So the
cause is `no-host-at-address`: the address is stale or its host is down; the
router's own firewall refusing with the same code would answer in about 12 ms
(compare `router-icmp-host-unreachable`).
EOF
        ;;
    one-direction) cat <<'EOF'
**Scenario.** The same open port 80 as the `open` case, but tcpdump runs with
`-Q out`: it records only the packets the client sends, as a capture taken on
the wrong side of an asymmetric path or with a direction filter would.

**What the packets show.** For each family: the client's SYN, then its ACK,
its HTTP GET, its ACKs and its FIN. Nothing from the server.

**Why the verdict.** The capture holds no answer, but the client's own acts
prove one: a stack leaves SYN-SENT only on an acceptable SYN/ACK (RFC 9293
3.10.7.3), and this client then acknowledged the server's sequence number,
sent its GET on ISN+1 and closed with a FIN. So the port is `open`, actor
`host`, responder the server's address; the hop is null, because no packet
of the server is in the capture to give its TTL.
EOF
        ;;
    request-control) cat <<'EOF'
**Scenario.** Nothing refuses. The server runs TLS on port 8443 (socat
`OPENSSL-LISTEN`, a throwaway self-signed certificate, any server name) and
HTTP on 8080 (socat, like port 80), both answering one HTTP/1.0 reply. The
client fetches `https://allowed.lab.test:8443/` (curl, server name
`allowed.lab.test`, connecting to the literal address with `--resolve`) and
`http://<address>:8080/` with `Host: allowed.lab.test`, then `nc -z` opens
and closes a connection to 8443 without sending a byte. This is the control of
the other `request-` cases: same server, same ports, a harmless name.

**What the packets show.** For each family: the handshakes with the server's
SYN|ACK at TTL / hop limit 61 (about 20 ms); on 8443 the ClientHello (517
bytes, server name `allowed.lab.test`), the server's HelloRetryRequest (socat's
OpenSSL server asks for another key share group), the second ClientHello, the
server's handshake and reply, all at 61; on 8080 the GET, the server's ACK and
reply. The `nc -z` flow is SYN, SYN|ACK, ACK and the client's FIN: no data.

**Why the verdict.** Every attempt is `open`, answered by the host at hop 4.
The two curl attempts reached the request stage (`stage` `request`, `trigger`
the name sent); the `nc -z` attempt never sent data (`stage` `syn`,
`trigger` null).
EOF
        ;;
    request-sni-reset) cat <<'EOF'
**Scenario.** r2 (hop 2) plays a next-generation firewall that reads the TLS
server name: in FORWARD, a segment to 8443 whose payload holds
`blocked.lab.test` is rejected with a TCP reset carrying the server's address
(`iptables -A FORWARD -d 198.18.4.10 -p tcp --dport 8443 -m string --string
blocked.lab.test --algo bm -j REJECT --reject-with tcp-reset`, the same with
ip6tables). The SYN and the handshake pass: they carry no name. The client
first fetches the same server and port with the harmless name
`allowed.lab.test` (the control), then with `blocked.lab.test`.

**What the packets show.** The control works (SYN|ACK and TLS from the server,
TTL / hop limit 61). For `blocked.lab.test`: SYN, the server's SYN|ACK (TTL
61, about 20 ms), the client's ACK and ClientHello (517 bytes); about 6.4 ms
after the ClientHello a bare RST (no ACK flag: REJECT answers a segment that
has an ACK with seq = its ack) from the server's address with TTL / hop
limit 63, IPv4 IP-ID 0 and DF. The ClientHello never reaches the server,
which sends nothing more; curl says "Connection reset by peer".

**Why the verdict.** The reset answers the request, not the SYN (`stage`
`request`, `trigger` `blocked.lab.test`). It claims the server's address but
is two hops nearer than the server's own SYN|ACK of the same connection (TTL
63 against 61) and comes in hop 2's round trip: `refused-by-middlebox`, actor
`middlebox`, hop 64 - 63 + 1 = 2, responder null (its own address never
appears). The control, same server and port, was served: the name decided.
EOF
        ;;
    request-sni-drop) cat <<'EOF'
**Scenario.** r2 (hop 2) silently drops, in FORWARD, every segment to 8443
whose payload holds `dropped.lab.test` (`-m string --string dropped.lab.test
--algo bm -j DROP`, IPv4 and IPv6). The client first fetches the same server
and port with `allowed.lab.test` (the control), then both families at once
with `dropped.lab.test`; curl gives up after 4 s (`--max-time 4`).

**What the packets show.** The control works. For `dropped.lab.test`: the
handshake with the server (SYN|ACK at TTL 61), the ClientHello, and then
only the client: its ClientHello retransmitted at about 0.2, 0.45, 0.9, 1.8
and 3.6 s, and nothing back. (After the capture the recipe ends the client's
orphaned socket with `ss -K` so that its retransmissions do not spill into
the next capture; that is not in the file.)

**Why the verdict.** Silence after the request: `dropped` at the request
stage (`trigger` `dropped.lab.test`). Who dropped it the packets cannot say:
actor `unknown`, responder and hop null. The handshake itself proves the
server reachable and listening.
EOF
        ;;
    request-injected-reset) cat <<'EOF'
**Scenario.** The server answers HTTP on 8080 (socat). An on-path injector on
r2 (`splab-injector --request 'Host: censored.lab.test' --port 8080`,
tests/lab/injector.cpp) sniffs the client's segments on r2's client-facing
interface and, for a request holding `Host: censored.lab.test`, sends the
client a forged RST|ACK in the server's name: seq = the request's ack field,
ack = the request's end, window 0, TTL / hop limit 64, through a raw socket.
It cannot stop the request, which reaches the server. The client first sends
the same request with `Host: allowed.lab.test` (the control).

**What the packets show.** The control works (no injection). For
`censored.lab.test`: handshake (SYN|ACK TTL 61), the GET (81 bytes); about
6.5 ms later the forged RST|ACK (TTL / hop limit 63, IPv4 IP-ID 1, DF clear);
about 21 ms after the GET the server's genuine ACK, then its reply (TTL 61),
each answered by the client, already reset, with a bare RST.

**Why the verdict.** Two contradicting answers to one request from "the
server": a reset from 2 hops away and, later, the real server's ACK and data
from 4 hops away. The reset was injected on the path: `injected-reset`,
actor `middlebox`, hop 2, responder null; `stage` `request`, `trigger`
`censored.lab.test`.
EOF
        ;;
    request-proxy-reset | request-proxy-close) cat <<'EOF'
**Scenario.** The server plays a reverse proxy with no healthy backend
(tests/lab/nobackend.py): it accepts every connection, reads the request head
and answers nothing. On 8081 it then closes with `SO_LINGER` 0, so its
kernel sends a RST|ACK (`request-proxy-reset`); on 8082 it closes normally,
a FIN without a byte of answer (`request-proxy-close`; curl: "Empty reply
from server"). The client sends one GET with `Host: app.lab.test` per
family; the proxy refuses whatever the name.

**What the packets show.** The handshake (SYN|ACK at TTL / hop limit 61,
about 20 ms), the GET (76 bytes), the server's ACK of it (TTL 61, about 21
ms later), then from the server at TTL 61: on 8081 a RST|ACK about 2 ms after
its ACK; on 8082 a FIN|ACK, which the client answers with its own FIN.

**Why the verdict.** Everything after the request comes from the server
itself, at its own distance (TTL 61 like its SYN|ACK): the host refused the
request: `refused-by-host`, actor `host`, responder the server, hop 4;
`stage` `request`, `trigger` `app.lab.test`.
EOF
        ;;
    esac
}

# Packet listing of the capture, for the README.
packet_table() {   # packet_table DUMP
    printf '| # | time (s) | source | destination | proto | TTL/HL | info |\n'
    printf '|---|---|---|---|---|---|---|\n'
    awk "$AWK_LIB"'{
        info = $20; gsub(/\|/, "\\|", info); sub(/ +$/, "", info)
        printf "| %s | %.3f | %s | %s | %s | %s | %s |\n", $1, $2, $17, $18, $19, ttl(), info
    }' "$1"
}

# Markdown backticks in single quotes are meant literally.
# shellcheck disable=SC2016
write_readme() {   # write_readme CASE DIR
    local name=$1 dir=$2 port verdict actor r4 r6 hop cmd
    read -r port verdict actor r4 r6 hop <<<"${CASE_ROW[$name]}"
    {
        printf '# Sample `%s`: %s\n\n' "$name" "$verdict"
        printf 'Truth: %s.\n\n' "${CASE_TRUTH[$name]}"
        printf 'Regenerate: `sudo samples/make-samples.sh --case %s` (see ../README.md).\n\n' "$name"
        printf '## Topology\n\n'
        printf '```\nclient --link1-- r1 --link2-- r2 --link3-- r3 --link4-- server\n'
        printf '198.18.1.1    .1.2|.2.1    .2.2|.3.1    .3.2|.4.1    198.18.4.10\n'
        printf '2001:db8:1::1 (the same shape in IPv6)                2001:db8:4::10\n```\n\n'
        printf 'Network namespaces made by `tests/lab/lab.sh`; r3 has initial TTL / hop limit\n'
        printf '255, every other node 64. Seen from the client r1 is hop 1, r2 hop 2, r3 hop 3,\n'
        printf 'the server hop 4 (hop = initial TTL - observed TTL + 1). Captured on the\n'
        printf "client's interface with \`tcpdump -i l1 -n -U --immediate-mode -s %s%s -w\`, converted\n" \
            "$SNAPLEN" "$([[ $name == one-direction ]] && printf ' -Q out')"
        printf 'with `editcap -F pcapng`. The client has `net.ipv4.tcp_syn_retries=2`.\n\n'
        case_story "$name"
        printf '\n## Client commands (in this order, in the client namespace)\n\n```\n'
        for cmd in "${CLIENT_CMDS[@]}"; do printf '%s\n' "$cmd"; done
        printf '```\n\n## Expected verdicts (expected.json)\n\n'
        printf '| family | dst | dport | verdict | actor | responder | hop | note |\n|---|---|---|---|---|---|---|---|\n'
        jq_free_table "$dir/expected.json"
        printf '\n## Packets in capture.pcapng\n\n'
        packet_table "$DUMP"
    } >"$dir/README.md"
}

# expected.json -> markdown rows, without needing jq (one attempt per line).
jq_free_table() {
    sed -n 's/^ *{"family": \([46]\), "dst": "\([^"]*\)", "dport": \([0-9]*\), "verdict": "\([^"]*\)", "actor": "\([^"]*\)", "responder": \([^,]*\), "hop": \([^,}]*\),* *\(.*\)}.*/| \1 | \2 | \3 | \4 | \5 | \6 | \7 | \8 |/p' "$1" |
        tr -d '"'
}

# ---------------------------------------------------------------------------
# One case
# ---------------------------------------------------------------------------

run_case() {
    local name=$1 port verdict actor r4 r6 hop dir raw settle=1.0 t0
    read -r port verdict actor r4 r6 hop <<<"${CASE_ROW[$name]}"
    dir=$OUT_DIR/$name
    raw=$SPLAB_STATE/$name.pcap
    CLIENT_CMDS=()
    t0=$SECONDS
    mkdir -p "$dir"

    local mode
    mode=$(case_mode "$name")
    case $mode in
    outbound) start_capture "$raw" -Q out ;;
    split) start_capture "$raw.in" -Q in; start_capture "$raw.out" -Q out ;;
    *) start_capture "$raw" ;;
    esac
    if has_baseline "$name"; then
        client_curl 4          # the baseline: the host's own TTL / IP-ID / RTT
        client_curl 6
    fi
    if [[ $mode == traced ]]; then
        client_traceroute 4 "$port"
        client_traceroute 6 "$port"
    fi
    if [[ $verdict == open ]]; then
        client_curl 4
        client_curl 6
    elif [[ $verdict == dropped || $name == stale-address ]]; then
        # Silence (and a router's 3 s of neighbour resolution) costs 3 to 4 s per attempt:
        # run both families at once.
        local p4 p6 d4 d6
        d4=$(target_of "$name" 4) d6=$(target_of "$name" 6)
        CLIENT_CMDS+=("nc -4 -z -w 4 $d4 $port &  nc -6 -z -w 4 $d6 $port  (in parallel)")
        lab_in client nc -4 -z -w 4 "$d4" "$port" 2>/dev/null & p4=$!
        lab_in client nc -6 -z -w 4 "$d6" "$port" 2>/dev/null & p6=$!
        ! wait "$p4" || die "nc to $d4:$port unexpectedly connected"
        ! wait "$p6" || die "nc to [$d6]:$port unexpectedly connected"
    else
        [[ $verdict == injected-reset ]] && lab_start_injector "$INJECTOR" 20 2
        client_nc 4 "$port"
        client_nc 6 "$port"
        # Wait for the server's SYN|ACK, which comes after the forged reset, and the
        # client's RST in answer to it.
        [[ $verdict == injected-reset ]] && settle=1.6
    fi
    # Give tcpdump time to read the last answers out of the kernel before SIGINT ends it:
    # on a loaded 2-core CI machine 0.3 s once lost a whole attempt.
    sleep "$settle"
    stop_capture
    if [[ $mode == split ]]; then
        # Inbound first: each answer lands in the file before the SYN it answers.
        mergecap -a -F pcap -w "$raw" "$raw.in" "$raw.out"
    fi
    if [[ $verdict == injected-reset ]]; then
        lab_kill_pid "$LAB_INJECTOR_PID" "$(lab_pid_start "$LAB_INJECTOR_PID")"
        cp "$SPLAB_STATE/injector.log" "$SPLAB_STATE/injector-$name.log"
    fi

    editcap -F pcapng "$raw" "$dir/capture.pcapng.tmp"
    DUMP=$SPLAB_STATE/$name.dump
    dump_capture "$dir/capture.pcapng.tmp" >"$DUMP"
    check_capture "$name" "$DUMP"
    mv -f "$dir/capture.pcapng.tmp" "$dir/capture.pcapng"
    write_expected "$name" "$dir/expected.json"
    write_readme "$name" "$dir"
    if [[ -n ${SUDO_UID:-} ]]; then
        chown -R "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$dir"
    fi
    say "$(printf '%-30s %2d attempts %3d packets %6d bytes %3ds' "$name" \
        "$(count_attempts "$DUMP")" "$(wc -l <"$DUMP")" \
        "$(stat -c %s "$dir/capture.pcapng")" "$((SECONDS - t0))")"
}

# ---------------------------------------------------------------------------
# Refusals after the handshake (issue 14): the cases of REQ_STEPS
# ---------------------------------------------------------------------------

is_request_case() { [[ -n ${REQ_STEPS[$1]:-} ]]; }

# request_attempt FAMILY PORT CLIENT NAME OUTCOME — one attempt with a real client, its
# command line kept for the README; curl / nc must succeed exactly when OUTCOME is open.
request_attempt() {
    local f=$1 port=$2 client=$3 name=$4 outcome=$5 addr lit cmd=() words
    addr=$SERVER4 lit=$SERVER4
    if [[ $f == 6 ]]; then addr=$SERVER6 lit="[$SERVER6]"; fi
    case $client in
    tls)
        cmd=(curl "-$f" --noproxy '*' -sS -k --max-time 4 -o /dev/null --resolve "$name:$port:$lit" "https://$name:$port/")
        words="curl -$f --noproxy '*' -sS -k --max-time 4 -o /dev/null --resolve $name:$port:$lit https://$name:$port/"
        ;;
    http)
        cmd=(curl "-$f" --noproxy '*' -sS -g --max-time 4 -o /dev/null -H "Host: $name" "http://$lit:$port/")
        words="curl -$f --noproxy '*' -sS -g --max-time 4 -o /dev/null -H 'Host: $name' http://$lit:$port/"
        ;;
    nc)
        cmd=(nc "-$f" -z -w 4 "$addr" "$port")
        words="nc -$f -z -w 4 $addr $port"
        ;;
    *) die "unknown client '$client'" ;;
    esac
    CLIENT_CMDS+=("$words")
    if lab_in client "${cmd[@]}" 2>/dev/null; then
        [[ $outcome == open ]] || die "$words: unexpectedly succeeded"
    else
        [[ $outcome != open ]] || die "$words: failed"
    fi
}

# One tshark pass for the flows of a request case: time, IPv4 / IPv6 source, TTL / hop
# limit, stream, ports, flags, payload length, relative sequence number.
dump_request_flows() {   # dump_request_flows PCAP > FLOWS
    tshark -r "$1" -n -o tcp.relative_sequence_numbers:TRUE -T fields -e frame.time_relative \
        -e ip.src -e ipv6.src -e ip.ttl -e ipv6.hlim -e tcp.stream -e tcp.srcport -e tcp.dstport \
        -e tcp.flags -e tcp.len -e tcp.seq 2>/dev/null
}

# What each attempt of a request case shows, one line per TCP stream in the order of the
# client's first packet: "FAMILY DPORT SA@TTL sent=S first=KIND@TTL data=y|n", where S is
# how often the client sent its first data segment (0: no request, 1, or "retx"), KIND the
# first packet from the server's side after the request that is not a bare ACK (R, RA, D
# data, F FIN; "-" none) and data whether anything from the server's side carried data
# after the request.
request_flow_lines() {   # request_flow_lines FLOWS
    awk "$AWK_LIB"'
        $6 == "" { next }
        {
            s = $6; fam = ($2 != "") ? 4 : 6; from = ($2 != "") ? $2 : $3
            hl = ($4 != "") ? $4 : $5; f = hex($9); len = $10 + 0
        }
        from == c4 || from == c6 {
            if (!(s in family)) { family[s] = fam; port[s] = $8; order[++n] = s }
            if (len > 0 && $11 == 1) { sent[s]++; req[s] = 1 }
            next
        }
        bit(f, 2) && bit(f, 16) { sa[s] = "SA@" hl; next }
        !req[s] { next }
        {
            kind = ""
            if (bit(f, 4)) kind = bit(f, 16) ? "RA" : "R"
            else if (len > 0) kind = "D"
            else if (bit(f, 1)) kind = "F"
            if (len > 0) data[s] = 1
            if (kind != "" && first[s] == "") first[s] = kind "@" hl
        }
        END {
            for (i = 1; i <= n; i++) {
                s = order[i]
                a = "-"; if (s in sa) a = sa[s]
                k = "-"; if (first[s] != "") k = first[s]
                c = sent[s] + 0; if (c > 1) c = "retx"
                d = "n"; if (data[s]) d = "y"
                printf "%s %s %s sent=%s first=%s data=%s\n", family[s], port[s], a, c, k, d
            }
        }' c4="$CLIENT4" c6="$CLIENT6" "$1"
}

# The lines request_flow_lines must print for a case, from its steps and their outcomes.
expected_request_flow_lines() {   # expected_request_flow_lines CASE
    local f step port client name outcome verdict actor resp hop first data sent
    for f in 4 6; do
        for step in ${REQ_STEPS[$1]}; do
            IFS=: read -r port client name outcome <<<"$step"
            read -r verdict actor resp hop first data <<<"${REQ_OUTCOME[$outcome]}"
            sent=1
            [[ $client == nc ]] && sent=0 first=- data=n
            [[ $outcome == dropped ]] && sent=retx
            printf '%s %s SA@61 sent=%s first=%s data=%s\n' "$f" "$port" "$sent" "$first" "$data"
        done
    done
}

check_request_capture() {   # check_request_capture CASE PCAP
    local name=$1 flows=$SPLAB_STATE/$1.flows got want
    dump_request_flows "$2" >"$flows"
    got=$(request_flow_lines "$flows" | sort -s -k1,1)
    want=$(expected_request_flow_lines "$name")
    [[ $got == "$want" ]] ||
        die "$name: the flows show [${got//$'\n'/; }], expected [${want//$'\n'/; }]"
}

write_request_expected() {   # write_request_expected CASE FILE
    local name=$1 out=$2 lines=() f step port client name_sent outcome verdict actor resp hop dst stage trigger
    for step in ${REQ_STEPS[$name]}; do
        IFS=: read -r port client name_sent outcome <<<"$step"
        read -r verdict actor resp hop _ <<<"${REQ_OUTCOME[$outcome]}"
        stage=request trigger="\"$name_sent\""
        if [[ $client == nc ]]; then stage=syn trigger=null; fi
        for f in 4 6; do
            dst=$SERVER4
            [[ $f == 6 ]] && dst=$SERVER6
            lines+=("$f|$(attempt_json "$f" "$dst" "$port" "$verdict" "$actor" \
                "$([[ $resp == server ]] && printf '%s' "$dst" || printf -- -)" "$hop" \
                "\"stage\": \"$stage\", \"trigger\": $trigger")")
        done
    done
    {
        printf '{\n  "case": "%s",\n  "truth": "%s",\n  "attempts": [\n' "$name" "${CASE_TRUTH[$name]}"
        local i fam first=1
        # IPv4's attempts first, then IPv6's, each in the order the client made them.
        for fam in 4 6; do
            for ((i = 0; i < ${#lines[@]}; i++)); do
                [[ ${lines[i]%%|*} == "$fam" ]] || continue
                ((first)) || printf ',\n'
                first=0
                printf '%s' "${lines[i]#*|}"
            done
        done
        printf '\n  ]\n}\n'
    } >"$out"
}

# expected.json of a request case -> markdown rows (one attempt per line, without jq).
request_table() {   # request_table EXPECTED
    printf '| family | dst | dport | stage | trigger | verdict | actor | responder | hop |\n'
    printf '|---|---|---|---|---|---|---|---|---|\n'
    sed -n 's/^ *{"family": \([46]\), "dst": "\([^"]*\)", "dport": \([0-9]*\), "verdict": "\([^"]*\)", "actor": "\([^"]*\)", "responder": \([^,]*\), "hop": \([^,}]*\), "stage": "\([^"]*\)", "trigger": \([^,}]*\)}.*/| \1 | \2 | \3 | \8 | \9 | \4 | \5 | \6 | \7 |/p' "$1" |
        tr -d '"'
}

# Markdown backticks in single quotes are meant literally.
# shellcheck disable=SC2016
write_request_readme() {   # write_request_readme CASE DIR
    local name=$1 dir=$2 cmd
    {
        printf '# Sample `%s`: refused after the handshake (issue 14)\n\n' "$name"
        printf 'Truth: %s.\n\n' "${CASE_TRUTH[$name]}"
        printf 'Regenerate: `sudo samples/make-samples.sh --case %s` (see ../README.md).\n\n' "$name"
        printf '## Topology\n\n'
        printf '```\nclient --link1-- r1 --link2-- r2 --link3-- r3 --link4-- server\n'
        printf '198.18.1.1    .1.2|.2.1    .2.2|.3.1    .3.2|.4.1    198.18.4.10\n'
        printf '2001:db8:1::1 (the same shape in IPv6)                2001:db8:4::10\n```\n\n'
        printf 'Network namespaces made by `tests/lab/lab.sh`; r3 has initial TTL / hop limit\n'
        printf '255, every other node 64. Seen from the client r1 is hop 1, r2 hop 2, r3 hop 3,\n'
        printf 'the server hop 4 (hop = initial TTL - observed TTL + 1). Captured on the\n'
        printf "client's interface with \`tcpdump -i l1 -n -U --immediate-mode -s %s -w\`, converted\n" "$SNAPLEN"
        printf 'with `editcap -F pcapng`. The client connects by literal address; the names\n'
        printf '(under `lab.test`) are only sent, as the TLS server name or the HTTP Host, never\n'
        printf 'resolved. Each expected attempt has `stage` (`request`: the client sent data;\n'
        printf '`syn`: it did not) and `trigger` (the name it sent).\n\n'
        case_story "$name"
        printf '\n## Client commands (in this order, in the client namespace)\n\n```\n'
        for cmd in "${CLIENT_CMDS[@]}"; do printf '%s\n' "$cmd"; done
        printf '```\n\n## Expected verdicts (expected.json)\n\n'
        request_table "$dir/expected.json"
        printf '\n## Packets in capture.pcapng\n\n'
        packet_table "$DUMP"
    } >"$dir/README.md"
}

run_request_case() {   # run_request_case CASE
    local name=$1 dir raw t0 step port client name_sent outcome f p4 p6 a4 a6
    dir=$OUT_DIR/$name
    raw=$SPLAB_STATE/$name.pcap
    CLIENT_CMDS=()
    t0=$SECONDS
    mkdir -p "$dir"
    start_capture "$raw"
    if [[ $name == request-injected-reset ]]; then
        lab_start_request_injector "$INJECTOR" 20 2
    fi
    for step in ${REQ_STEPS[$name]}; do
        IFS=: read -r port client name_sent outcome <<<"$step"
        if [[ $outcome == dropped ]]; then
            # A dropped request costs curl's whole 4 s: both families at once.
            request_attempt 4 "$port" "$client" "$name_sent" "$outcome" & p4=$!
            request_attempt 6 "$port" "$client" "$name_sent" "$outcome" & p6=$!
            wait "$p4" || die "the IPv4 attempt of $name failed its check"
            wait "$p6" || die "the IPv6 attempt of $name failed its check"
            # (the subshells' CLIENT_CMDS are lost: say it here)
            a4=$SERVER4 a6="[$SERVER6]"
            CLIENT_CMDS+=("curl -4 --noproxy '*' -sS -k --max-time 4 -o /dev/null --resolve $name_sent:$port:$a4 https://$name_sent:$port/ &"
                "curl -6 --noproxy '*' -sS -k --max-time 4 -o /dev/null --resolve $name_sent:$port:$a6 https://$name_sent:$port/  (in parallel)")
        else
            for f in 4 6; do request_attempt "$f" "$port" "$client" "$name_sent" "$outcome"; done
        fi
    done
    sleep 1.0
    stop_capture
    if [[ $name == request-injected-reset ]]; then
        lab_kill_pid "$LAB_INJECTOR_PID" "$(lab_pid_start "$LAB_INJECTOR_PID")"
        cp "$SPLAB_STATE/injector-request.log" "$SPLAB_STATE/injector-$name.log"
    fi
    # A dropped request leaves the client's socket retransmitting (orphaned, FIN-WAIT-1)
    # for minutes: end it (SOCK_DESTROY: the client sends a RST) so that it cannot spill
    # into the next capture.
    for step in ${REQ_STEPS[$name]}; do
        IFS=: read -r port _ <<<"$step"
        lab_in client ss -K state fin-wait-1 "( dport = :$port )" >/dev/null 2>&1 || true
    done
    [[ -z $(lab_in client ss -Htn state fin-wait-1) ]] || die "$name: a client socket is still retransmitting"

    editcap -F pcapng "$raw" "$dir/capture.pcapng.tmp"
    DUMP=$SPLAB_STATE/$name.dump
    dump_capture "$dir/capture.pcapng.tmp" >"$DUMP"
    local want
    want=$(($(wc -w <<<"${REQ_STEPS[$name]}") * 2))
    (($(count_attempts "$DUMP") == want)) ||
        die "$name: capture holds $(count_attempts "$DUMP") connection attempts, expected $want"
    check_request_capture "$name" "$dir/capture.pcapng.tmp"
    mv -f "$dir/capture.pcapng.tmp" "$dir/capture.pcapng"
    write_request_expected "$name" "$dir/expected.json"
    write_request_readme "$name" "$dir"
    if [[ -n ${SUDO_UID:-} ]]; then
        chown -R "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$dir"
    fi
    say "$(printf '%-30s %2d attempts %3d packets %6d bytes %3ds' "$name" \
        "$(count_attempts "$DUMP")" "$(wc -l <"$DUMP")" \
        "$(stat -c %s "$dir/capture.pcapng")" "$((SECONDS - t0))")"
}

main() {
    parse_args "$@"
    check_tools
    local start=$SECONDS c
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    lab_up
    if wants_case injected-reset || wants_case alone-injected-reset || wants_case request-injected-reset; then
        find_injector
    fi
    for c in "${ALL_CASES[@]}"; do
        wants_case "$c" || continue
        if is_request_case "$c"; then run_request_case "$c"; else run_case "$c"; fi
    done
    say "done: ${#SELECTED[@]} case(s) in $OUT_DIR, $((SECONDS - start)) s"
}

main "$@"
