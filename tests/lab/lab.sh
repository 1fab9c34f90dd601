#!/usr/bin/env bash
# tests/lab/lab.sh — synprobe's network-namespace lab.
#
#   client --link1-- r1 --link2-- r2 --link3-- r3 --link4 (server LAN)-- server
#
# Usage: lab.sh up|down|status
#        lab.sh exec NODE CMD...          (NODE: client r1 r2 r3 server; server-a = server)
#        lab.sh injector PATH [SECONDS] [COUNT]
#                                         start the on-path RST injector on r2 (port 95)
#        lab.sh injector-request PATH [SECONDS] [COUNT]
#                                         start the request injector on r2 (port 8080,
#                                         Host: censored.lab.test)
#
# Environment:
#   SPLAB_ID     prefix of every namespace (default "splab": splab-client, splab-r1 ...)
#   SPLAB_STATE  state directory: namespaces made, PIDs started, logs
#                (default /run/splab-$SPLAB_ID)
#   SPLAB_DELAYS       1 (default): per-link delays (splab-delay on each router); 0: none
#   SPLAB_LINK_DELAYS  one-way delay of link1..link4 in ms (default "1 2 3 4": seen from
#                      the client, RTT 2 ms to r1, 6 to r2, 12 to r3, 20 to the server)
#   SPLAB_DELAY_BIN    the built splab-delay (default: <repo>/build/tests/lab/splab-delay,
#                      else a private copy compiled into the state directory)
#   SPLAB_DELAY_SECONDS  lifetime of each splab-delay (default 3600; past it the
#                      delayed links stop passing traffic: "lab.sh up" again restarts them)
# Variants (each off by default; "up" applies whichever is set, so a variant is a
# lab of its own, with its own SPLAB_ID):
#   SPLAB_SILENT_R1=1  r1 never answers time-exceeded (drops its own ICMP type 11 /
#                      ICMPv6 type 3 in OUTPUT): hop 1 is "*" in every trace
#   SPLAB_LOSS_PERCENT=N  r1 drops N % (0..50) of everything it forwards, at random,
#                      both directions, IPv4 and IPv6 (loss on the r1 hop of the path)
#   SPLAB_R2_ICMP_RATELIMIT=MS  r2's per-destination ICMP error rate limit
#                      (net.ipv4.icmp_ratelimit, net.ipv6.icmp.ratelimit; kernel defaults
#                      1000 / 100 ms, burst 6): above 240000 r2 sends the client no ICMP
#                      error at all (a new destination starts with 60 s of credit; IPv6
#                      divides MS by 4 at /64)
#   SPLAB_SECOND_CLIENT=1  a second client on another path that joins the first at r2
#                      (synprobe merge, #16): client2 --link5-- r4, and r4 is on link 2's
#                      LAN beside r1 (r2's l2 becomes a bridge over its veth to r1, l2p,
#                      and one to r4, l2q); client2 198.18.5.1 / 2001:db8:5::1, r4 .5.2 and
#                      198.18.2.3 / 2001:db8:2::3. r2 answers both clients from 198.18.2.2,
#                      so by address the paths join at r2, hop 2 from both. Port 98: r1
#                      resets it (hop 1 of client's path only; a listener on the server
#                      answers client2); port 96 (r3, after the join) refuses both paths.
#
# Everything happens inside namespaces named "$SPLAB_ID-<node>" that this script
# creates; nothing touches the host's own interfaces, routes or firewall. Only
# addresses from 198.18.0.0/15 and 2001:db8::/32 are used. "up" and "down" are
# idempotent. The script can also be sourced (samples/make-samples.sh does): it
# then only defines the lab_* functions.
#
# Addressing: on link i (1..3) the client-side end is .1 / ::1 and the other end
# .2 / ::2; on link4 r3 is 198.18.4.1 / 2001:db8:4::1 and the server .10 / ::10.
# Every interface is named after its link: l1, l2, l3, l4 (so r2 has l2 and l3).
# Seen from the client, r1 is hop 1, r2 hop 2, r3 hop 3, the server hop 4.
# r3 has initial TTL / hop limit 255, every other node 64.
#
# Scenarios (destination port on the server; IPv4 and IPv6 alike):
#   80 open (socat)                 81 closed (no listener: the stack's RST)
#   82 server REJECT tcp-reset      83 server REJECT icmp port-unreachable
#   84 server REJECT admin-prohib.  85 server DROP
#   90 r2 REJECT tcp-reset          91 r2 REJECT icmp admin-prohibited
#   92 r3 REJECT icmp host/addr-unr 93 r1 REJECT icmp net-unreachable / no-route
#   94 r2 DROP                      96 r3 (TTL 255) REJECT tcp-reset
#   95 open (socat), but an on-path injector on r2 races a forged RST|ACK
#   97 r2 REJECT tcp-reset, and r2 forges the TTL of those RSTs (mangle OUTPUT, TTL /
#      HL --set 62) so that they reach the client with the server's TTL (61)
#
# Refusals after the handshake (issue 14: the request stage). The handshake always
# completes with the server; what refuses reads the request (the TLS ClientHello's
# server name, the HTTP Host header). The client connects by literal address and puts
# the name only in the SNI / Host (names under lab.test, never resolved):
#   8443  TLS (socat OPENSSL-LISTEN, a throwaway self-signed cert made at "up"), any SNI;
#        r2 FORWARD: a ClientHello holding "blocked.lab.test" -> REJECT tcp-reset
#        (iptables/ip6tables -m string), one holding "dropped.lab.test" -> DROP;
#        "allowed.lab.test": the control, served
#   8080 HTTP (socat, like 80); the request injector on r2 (lab.sh injector-request)
#        races a forged RST|ACK against the server's reply to a request holding
#        "Host: censored.lab.test"; "Host: allowed.lab.test": the control, served
#   8081 a proxy without backend (nobackend.py): reads the request, resets (SO_LINGER 0)
#   8082 the same, closing with a FIN without answering
#
# Names (the client's own /etc/hosts: /etc/netns/<client namespace>/hosts, which
# "ip netns exec" mounts over /etc/hosts), each probed on port 80:
#   app.lab.test      the server (.10 / ::10, open), its second address (.11 / ::11,
#                     whose port 80 the server's firewall REJECTs with tcp-reset) and
#                     the stale address where no host lives (.99 / ::99)
#   v6fails.lab.test  the server's IPv4 address (open) and its third IPv6 address
#                     (::12), to which r2 REJECTs TCP port 80 with adm-prohibited: an
#                     IPv6 rule forgotten open

SPLAB_ID=${SPLAB_ID:-splab}
SPLAB_STATE=${SPLAB_STATE:-/run/splab-$SPLAB_ID}
SPLAB_DELAYS=${SPLAB_DELAYS:-1}
SPLAB_LINK_DELAYS=${SPLAB_LINK_DELAYS:-1 2 3 4}
SPLAB_DELAY_BIN=${SPLAB_DELAY_BIN:-}
SPLAB_DELAY_SECONDS=${SPLAB_DELAY_SECONDS:-3600}
SPLAB_SILENT_R1=${SPLAB_SILENT_R1:-0}
SPLAB_LOSS_PERCENT=${SPLAB_LOSS_PERCENT:-0}
SPLAB_R2_ICMP_RATELIMIT=${SPLAB_R2_ICMP_RATELIMIT:-}
SPLAB_SECOND_CLIENT=${SPLAB_SECOND_CLIENT:-0}
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Some of these are only used by the scripts that source this file.
# shellcheck disable=SC2034
{
    LAB_NODES=(client r1 r2 r3 server)
    LAB_ROUTERS=(r1 r2 r3)
    LAB_CLIENT_IF=l1        # the client's only interface: where captures are taken
    LAB_INJECTOR_IF=l2      # r2's client-facing interface
    LAB_CLIENT4=198.18.1.1
    LAB_CLIENT6=2001:db8:1::1
    LAB_SERVER4=198.18.4.10
    LAB_SERVER6=2001:db8:4::10
    LAB_OPEN_PORTS=(80 95 8080)  # socat listeners on the server (plain HTTP)
    # On the server's LAN, where no host lives (a stale DNS record's address): r3, the
    # LAN's router, resolves it for ~3 s (ARP / ND: 3 tries a second apart) and then
    # answers host-unreachable / address-unreachable. Nothing configures them: no node
    # owns them, and every lab address stays in 198.18.0.0/15 and 2001:db8::/32.
    LAB_STALE4=198.18.4.99
    LAB_STALE6=2001:db8:4::99
    # The server's other addresses, for the names (see the header).
    LAB_SERVER_B4=198.18.4.11
    LAB_SERVER_B6=2001:db8:4::11
    LAB_SERVER_C6=2001:db8:4::12
    LAB_NAMES_APP=(app.lab.test 198.18.4.10 198.18.4.11 198.18.4.99 2001:db8:4::10 2001:db8:4::11 2001:db8:4::99)
    LAB_NAMES_V6FAILS=(v6fails.lab.test 198.18.4.10 2001:db8:4::12)
    # Port 97: r2's resets leave with TTL / hop limit 62, r1 makes it 61: the
    # server's own packets (64, three routers) arrive with 61 too.
    LAB_FORGED_TTL=62
    # Refusals after the handshake (issue 14): ports and the names sent in the TLS
    # server name (SNI) or the HTTP Host header; the client connects by literal address.
    # Not 443: synprobe probe's default control ports are 443 and 80 (--control-port), so an
    # open 443 on the server would change the baseline of every live probe of the lab (it
    # did: lab.probe-verdicts then located port 94's IPv4 drop at [2, 4], 3 runs of 3).
    LAB_TLS_PORT=8443                # TLS on the server; r2 filters ClientHellos by name
    LAB_REQ_HTTP_PORT=8080           # HTTP on the server; the request injector on r2
    LAB_PROXY_RESET_PORT=8081        # proxy without backend: reads the request, RST
    LAB_PROXY_CLOSE_PORT=8082        # proxy without backend: reads the request, FIN
    LAB_NAME_ALLOWED=allowed.lab.test     # the control: nothing on the path minds it
    LAB_NAME_RESET=blocked.lab.test       # r2 resets a ClientHello holding it (8443)
    LAB_NAME_DROPPED=dropped.lab.test     # r2 drops a ClientHello holding it (8443)
    LAB_NAME_INJECTED=censored.lab.test   # the request injector resets (8080, Host)
    # Which router delays which link (both directions, see lab_delays).
    LAB_DELAY_LINKS_r1="1 2"
    LAB_DELAY_LINKS_r2="3"
    LAB_DELAY_LINKS_r3="4"
    # Variant SPLAB_SECOND_CLIENT=1: client2 behind r4, joining at r2 on link 2's LAN (no
    # link delays of its own: r4 runs no shim, and is not in LAB_ROUTERS).
    LAB_CLIENT2_4=198.18.5.1
    LAB_CLIENT2_6=2001:db8:5::1
    LAB_ONE_PATH_PORT=98    # r1 resets it (client's path only); open for client2
    if [[ $SPLAB_SECOND_CLIENT == 1 ]]; then
        LAB_NODES+=(client2 r4)
        LAB_OPEN_PORTS+=("$LAB_ONE_PATH_PORT")
    fi
}

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

lab_log() { printf 'lab[%s]: %s\n' "$SPLAB_ID" "$*" >&2; }
lab_die() { lab_log "error: $*"; return 1; }

lab_check_id() {
    [[ $SPLAB_ID =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,23}$ ]] ||
        lab_die "SPLAB_ID must be 1-24 characters of [A-Za-z0-9_-]"
}

# Namespace name of a node ("server-a" is an alias of "server").
lab_ns() {
    local node=$1
    [[ $node == server-a ]] && node=server
    printf '%s-%s\n' "$SPLAB_ID" "$node"
}

lab_ns_exists() { [[ -e /run/netns/$1 ]]; }

# Run a command inside a node's namespace.
lab_in() {
    local node=$1
    shift
    ip netns exec "$(lab_ns "$node")" "$@"
}

lab_sysctl() {
    local node=$1
    shift
    lab_in "$node" sysctl -q -w "$@" >/dev/null
}

# Addresses: lab_addr4 LINK HOST -> 198.18.LINK.HOST, lab_addr6 likewise.
lab_addr4() { printf '198.18.%s.%s\n' "$1" "$2"; }
lab_addr6() { printf '2001:db8:%s::%s\n' "$1" "$2"; }

# ---------------------------------------------------------------------------
# State: which namespaces we made, which processes we started
# ---------------------------------------------------------------------------

lab_state_init() {
    mkdir -p "$SPLAB_STATE"
    touch "$SPLAB_STATE/namespaces" "$SPLAB_STATE/pids"
}

# Recorded BEFORE the namespace is created, so a failure half-way still cleans up.
lab_record_ns() {
    grep -qxF "$1" "$SPLAB_STATE/namespaces" 2>/dev/null ||
        printf '%s\n' "$1" >>"$SPLAB_STATE/namespaces"
}

# /proc/PID/stat fields after the "(comm)" field: state is the 1st, the start
# time (clock ticks since boot) the 20th.
lab_proc_field() {   # lab_proc_field PID N
    local stat fields
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    read -r -a fields <<<"${stat##*) }"
    [[ -n ${fields[$2 - 1]:-} ]] || return 1
    printf '%s\n' "${fields[$2 - 1]}"
}

# A PID counts as ours only if its start time matches the one recorded, so a
# recycled PID is never signalled.
# (A process already gone when recorded gets start time "-": never signalled.)
lab_record_pid() {   # lab_record_pid PID NAME
    local start
    start=$(lab_proc_field "$1" 20) || start=-
    printf '%s %s %s\n' "$1" "$start" "$2" >>"$SPLAB_STATE/pids"
}

# Alive and not a zombie (a sourced caller may not have reaped it yet).
lab_pid_alive() {
    local state
    state=$(lab_proc_field "$1" 1) || return 1
    [[ $state != Z ]]
}

lab_pid_is() {   # lab_pid_is PID START: still the process we recorded?
    local now
    lab_pid_alive "$1" || return 1
    now=$(lab_proc_field "$1" 20) || return 1
    [[ $now == "$2" ]]
}

# Stop one process we started (and the process group it leads: socat's
# per-connection children), by PID only; SIGTERM, then SIGKILL after 2 s.
lab_kill_pid() {   # lab_kill_pid PID START [SIGNAL]
    local pid=$1 start=$2 sig=${3:-TERM} i
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    lab_pid_is "$pid" "$start" || return 0
    kill "-$sig" -- "-$pid" 2>/dev/null || kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do
        lab_pid_alive "$pid" || return 0
        sleep 0.1
    done
    lab_pid_is "$pid" "$start" || return 0
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
}

# Start time recorded for a PID we started ("" if none).
lab_pid_start() {
    awk -v p="$1" '$1 == p { s = $2 } END { print s }' "$SPLAB_STATE/pids" 2>/dev/null
}

# lab_spawn NODE NAME CMD... — start CMD in the background inside NODE's
# namespace as its own process group, record its PID; the PID is left in
# LAB_SPAWNED_PID. Output goes to $SPLAB_STATE/NAME.log.
lab_spawn() {
    local node=$1 name=$2
    shift 2
    # Emptied here, before the fork: the redirection below happens in the child, later, so
    # a caller waiting for a line in the log (lab_wait_for_line) could otherwise read the
    # previous process's log of the same name ("listening on" of the last case's tcpdump)
    # and go on before this one is ready: make-samples then lost the first SYN of a case.
    : >"$SPLAB_STATE/$name.log"
    # ip netns exec and setsid both exec(), so $! is the command's own PID.
    setsid ip netns exec "$(lab_ns "$node")" "$@" \
        </dev/null >"$SPLAB_STATE/$name.log" 2>&1 &
    LAB_SPAWNED_PID=$!
    lab_record_pid "$LAB_SPAWNED_PID" "$name"
}

# PID of the newest live process recorded under NAME ("" if none).
lab_running_pid() {
    local pid start name found=""
    [[ -f $SPLAB_STATE/pids ]] || return 0
    while read -r pid start name; do
        [[ $name == "$1" ]] && lab_pid_is "$pid" "$start" && found=$pid
    done <"$SPLAB_STATE/pids"
    printf '%s\n' "$found"
}

# Wait (bounded: TRIES x 50 ms) until FILE contains PATTERN; fails if PID died first.
lab_wait_for_line() {
    local file=$1 pattern=$2 pid=$3 tries=${4:-100} i
    for ((i = 0; i < tries; i++)); do
        grep -q -- "$pattern" "$file" 2>/dev/null && return 0
        lab_pid_alive "$pid" || { sleep 0.05; grep -q -- "$pattern" "$file" 2>/dev/null; return; }
        sleep 0.05
    done
    return 1
}

# ---------------------------------------------------------------------------
# Namespaces and kernel settings
# ---------------------------------------------------------------------------

lab_create_namespaces() {
    local node ns
    for node in "${LAB_NODES[@]}"; do
        ns=$(lab_ns "$node")
        lab_record_ns "$ns"
        lab_ns_exists "$ns" || ip netns add "$ns"
        lab_in "$node" ip link set lo up
    done
}

# Set before the links exist, so new interfaces inherit "default".
lab_sysctls() {
    local node
    for node in "${LAB_NODES[@]}"; do
        # No DAD (addresses usable at once), no router solicitations or SLAAC,
        # and the unsolicited MLD reports sent on link-up done within
        # milliseconds instead of ~1 s: keeps stray ICMPv6 out of the captures.
        lab_sysctl "$node" net.ipv6.conf.default.mldv1_unsolicited_report_interval=10 \
            net.ipv6.conf.default.mldv2_unsolicited_report_interval=10
        lab_sysctl "$node" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
            net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 \
            net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0 \
            net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0
    done
    for node in "${LAB_ROUTERS[@]}"; do
        lab_sysctl "$node" net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
            net.ipv6.conf.default.forwarding=1
    done
    # r3 plays network gear with initial TTL / hop limit 255 (per-interface
    # hop_limit is set again in lab_interface_sysctls once the links exist).
    lab_sysctl r3 net.ipv4.ip_default_ttl=255 net.ipv6.conf.all.hop_limit=255 \
        net.ipv6.conf.default.hop_limit=255
    # Unanswered connection attempts: two retransmissions, SYN at 0 s, 1 s and
    # 3 s (the kernel would give up at 7 s; the clients' own 4 s timeouts end
    # them first). Shared by IPv4 and IPv6. Linux >= 6.5 retransmits the first
    # tcp_syn_linear_timeouts (default 4) SYNs every second and only counts
    # tcp_syn_retries after those (SYN at 0, 1, 2, 3 s ...); switch that off so
    # the client behaves as specified (-e: the key is absent on older kernels).
    lab_sysctl client net.ipv4.tcp_syn_retries=2
    lab_in client sysctl -q -e -w net.ipv4.tcp_syn_linear_timeouts=0 >/dev/null
}

# Per-interface settings do not inherit from "all": set them on each link.
lab_interface_sysctls() {
    local node=$1 ifname=$2
    lab_sysctl "$node" "net.ipv6.conf.$ifname.accept_dad=0" "net.ipv6.conf.$ifname.accept_ra=0" \
        "net.ipv6.conf.$ifname.mldv1_unsolicited_report_interval=10" \
        "net.ipv6.conf.$ifname.mldv2_unsolicited_report_interval=10"
    if [[ $node == r3 ]]; then
        lab_sysctl "$node" "net.ipv6.conf.$ifname.hop_limit=255"
    fi
}

# ---------------------------------------------------------------------------
# Links and addresses
# ---------------------------------------------------------------------------

# lab_link I UPNODE DOWNNODE UPHOST DOWNHOST: veth "l<I>" in both namespaces.
lab_link() {
    local i=$1 up=$2 down=$3 uphost=$4 downhost=$5 ifname="l$1"
    if ! lab_in "$up" ip link show dev "$ifname" >/dev/null 2>&1; then
        # Created from inside the upstream namespace, peer placed straight into
        # the downstream one: the host's namespace never sees either end.
        lab_in "$up" ip link add "$ifname" type veth peer name "$ifname" netns "$(lab_ns "$down")"
    fi
    lab_interface_sysctls "$up" "$ifname"
    lab_interface_sysctls "$down" "$ifname"
    lab_in "$up" ip addr replace "$(lab_addr4 "$i" "$uphost")/24" dev "$ifname"
    lab_in "$down" ip addr replace "$(lab_addr4 "$i" "$downhost")/24" dev "$ifname"
    lab_in "$up" ip -6 addr replace "$(lab_addr6 "$i" "$uphost")/64" dev "$ifname" nodad
    lab_in "$down" ip -6 addr replace "$(lab_addr6 "$i" "$downhost")/64" dev "$ifname" nodad
    lab_in "$up" ip link set "$ifname" up
    lab_in "$down" ip link set "$ifname" up
}

lab_links() {
    lab_link 1 client r1 1 2
    lab_link 2 r1 r2 1 2
    lab_link 3 r2 r3 1 2
    lab_link 4 r3 server 1 10
    lab_in server ip addr replace "$LAB_SERVER_B4/24" dev l4
    lab_in server ip -6 addr replace "$LAB_SERVER_B6/64" dev l4 nodad
    lab_in server ip -6 addr replace "$LAB_SERVER_C6/64" dev l4 nodad
}

# The client's /etc/hosts (ip netns exec mounts /etc/netns/NS/hosts over it): the
# lab's names. Removed by lab_down with the namespace.
lab_hosts_file() {
    local dir
    dir=/etc/netns/$(lab_ns client)
    mkdir -p "$dir"
    {
        printf '127.0.0.1 localhost\n::1 localhost\n'
        lab_hosts_lines "${LAB_NAMES_APP[@]}"
        lab_hosts_lines "${LAB_NAMES_V6FAILS[@]}"
    } >"$dir/hosts"
}

lab_hosts_lines() {   # lab_hosts_lines NAME ADDRESS...
    local name=$1 address
    shift
    for address in "$@"; do printf '%s %s\n' "$address" "$name"; done
}

# ---------------------------------------------------------------------------
# Routes: static, both ways
# ---------------------------------------------------------------------------

lab_route() {   # lab_route NODE LINK-NET VIA-LINK VIA-HOST
    local node=$1 net=$2 vialink=$3 viahost=$4
    lab_in "$node" ip route replace "198.18.$net.0/24" via "$(lab_addr4 "$vialink" "$viahost")"
    lab_in "$node" ip -6 route replace "2001:db8:$net::/64" via "$(lab_addr6 "$vialink" "$viahost")"
}

# Variant SPLAB_SECOND_CLIENT=1: client2 --link5-- r4, r4 on link 2's LAN, routed both
# ways. Runs before lab_routes: making r2's l2 a bridge moves its addresses, and the routes
# through it are set after.
lab_second_client() {
    [[ $SPLAB_SECOND_CLIENT == 1 ]] || return 0
    lab_sysctl r4 net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.ipv6.conf.default.forwarding=1
    lab_sysctl client2 net.ipv4.tcp_syn_retries=2
    lab_link 5 client2 r4 1 2
    lab_link2_lan
    lab_in client2 ip route replace default via "$(lab_addr4 5 2)"
    lab_in client2 ip -6 route replace default via "$(lab_addr6 5 2)"
    lab_in r4 ip route replace default via "$(lab_addr4 2 2)"
    lab_in r4 ip -6 route replace default via "$(lab_addr6 2 2)"
    lab_route r2 5 2 3
    lab_route r3 5 3 1
}

# Link 2 as a LAN of three: r2's end becomes a bridge named l2 (so that everything that
# names r2's l2 still finds it) over the veth to r1 (renamed l2p) and a veth to r4 (l2q).
lab_link2_lan() {
    if ! lab_in r2 test -d /sys/class/net/l2/bridge; then
        lab_in r2 ip link set l2 down
        lab_in r2 ip link set l2 name l2p
        lab_in r2 ip addr flush dev l2p
        lab_in r2 ip link add l2 type bridge mcast_snooping 0
        lab_interface_sysctls r2 l2
        lab_in r2 ip link set l2p master l2
        lab_in r2 ip link set l2p up
    fi
    if ! lab_in r4 ip link show dev l2 >/dev/null 2>&1; then
        lab_in r4 ip link add l2 type veth peer name l2q netns "$(lab_ns r2)"
    fi
    lab_interface_sysctls r4 l2
    lab_in r2 ip link set l2q master l2
    lab_in r2 ip link set l2q up
    lab_in r2 ip addr replace "$(lab_addr4 2 2)/24" dev l2
    lab_in r2 ip -6 addr replace "$(lab_addr6 2 2)/64" dev l2 nodad
    lab_in r2 ip link set l2 up
    lab_in r4 ip addr replace "$(lab_addr4 2 3)/24" dev l2
    lab_in r4 ip -6 addr replace "$(lab_addr6 2 3)/64" dev l2 nodad
    lab_in r4 ip link set l2 up
}

lab_routes() {
    local k net
    # client and server: everything goes to their one router.
    lab_in client ip route replace default via "$(lab_addr4 1 2)"
    lab_in client ip -6 route replace default via "$(lab_addr6 1 2)"
    lab_in server ip route replace default via "$(lab_addr4 4 1)"
    lab_in server ip -6 route replace default via "$(lab_addr6 4 1)"
    # router rk sits on links k (upstream) and k+1 (downstream): nets before
    # link k go upstream to .1 of link k, nets after link k+1 go downstream to
    # .2 of link k+1.
    for k in 1 2 3; do
        for ((net = 1; net < k; net++)); do
            lab_route "r$k" "$net" "$k" 1
        done
        for ((net = k + 2; net <= 4; net++)); do
            lab_route "r$k" "$net" "$((k + 1))" 2
        done
    done
}

# ---------------------------------------------------------------------------
# Firewall (iptables / ip6tables, nf_tables backend), one function per node.
# Rules that refuse traffic addressed to the server itself live in the
# server's INPUT chain (the host's own firewall); rules on routers live in
# FORWARD, the only chain that transit packets traverse (never INPUT: the
# packets are not addressed to the router). Each node's filter table is
# flushed first, so "up" can be repeated.
# ---------------------------------------------------------------------------

lab_ipt() {   # lab_ipt NODE 4|6 ARGS...
    local node=$1 family=$2
    shift 2
    if [[ $family == 4 ]]; then
        lab_in "$node" iptables -w 5 "$@"
    else
        lab_in "$node" ip6tables -w 5 "$@"
    fi
}

lab_fw_reset() {
    local node=$1 f
    for f in 4 6; do
        lab_ipt "$node" "$f" -F
        lab_ipt "$node" "$f" -P INPUT ACCEPT
        lab_ipt "$node" "$f" -P FORWARD ACCEPT
        lab_ipt "$node" "$f" -P OUTPUT ACCEPT
    done
}

lab_fw_server() {
    local f=$1 dst=$2 portunr=icmp-port-unreachable adminprohib=icmp-admin-prohibited second=$LAB_SERVER_B4
    if [[ $f == 6 ]]; then portunr=icmp6-port-unreachable adminprohib=icmp6-adm-prohibited second=$LAB_SERVER_B6; fi
    # app.lab.test: the server's second address refuses port 80 (its firewall's RST).
    lab_ipt server "$f" -A INPUT -d "$second" -p tcp --dport 80 -j REJECT --reject-with tcp-reset
    # 81: nothing listens and nothing filters: the server's stack answers RST.
    # 82: the host firewall answers a RST itself (nf_send_reset), source = server.
    lab_ipt server "$f" -A INPUT -d "$dst" -p tcp --dport 82 -j REJECT --reject-with tcp-reset
    # 83/84: the host firewall answers with an ICMP error from its own address.
    lab_ipt server "$f" -A INPUT -d "$dst" -p tcp --dport 83 -j REJECT --reject-with "$portunr"
    lab_ipt server "$f" -A INPUT -d "$dst" -p tcp --dport 84 -j REJECT --reject-with "$adminprohib"
    # 85: the host firewall drops silently.
    lab_ipt server "$f" -A INPUT -d "$dst" -p tcp --dport 85 -j DROP
}

lab_fw_r1() {
    local f=$1 dst=$2 netunr=icmp-net-unreachable
    [[ $f == 6 ]] && netunr=icmp6-no-route
    # 93: hop 1 refuses with "network unreachable" (v6: "no route").
    lab_ipt r1 "$f" -A FORWARD -d "$dst" -p tcp --dport 93 -j REJECT --reject-with "$netunr"
    # Variant SPLAB_SECOND_CLIENT=1, port 98: hop 1 of client's path resets it; client2's
    # path does not pass r1 and reaches the server's listener.
    if [[ $SPLAB_SECOND_CLIENT == 1 ]]; then
        lab_ipt r1 "$f" -A FORWARD -d "$dst" -p tcp --dport "$LAB_ONE_PATH_PORT" -j REJECT --reject-with tcp-reset
    fi
    # Variant SPLAB_SILENT_R1=1: r1 routes as usual but never says time-exceeded (its
    # own ICMP errors leave through OUTPUT; only type 11 / ICMPv6 type 3 is dropped,
    # so port 93's unreachable still comes). Added once per family (f), any dst.
    if [[ $SPLAB_SILENT_R1 == 1 && $dst == "$LAB_SERVER4" ]]; then
        lab_ipt r1 4 -A OUTPUT -p icmp --icmp-type time-exceeded -j DROP
    elif [[ $SPLAB_SILENT_R1 == 1 && $dst == "$LAB_SERVER6" ]]; then
        lab_ipt r1 6 -A OUTPUT -p ipv6-icmp --icmpv6-type time-exceeded -j DROP
    fi
    # Variant SPLAB_LOSS_PERCENT=N: r1 loses N % of what it forwards, both ways,
    # whatever it is (first rule of FORWARD, before port 93's REJECT).
    if ((10#$SPLAB_LOSS_PERCENT > 0)); then
        lab_ipt r1 "$f" -I FORWARD 1 -m statistic --mode random \
            --probability "$(printf '0.%02d' "$((10#$SPLAB_LOSS_PERCENT))")" -j DROP
    fi
}

lab_fw_r2() {
    local f=$1 dst=$2 adminprohib=icmp-admin-prohibited
    [[ $f == 6 ]] && adminprohib=icmp6-adm-prohibited
    # 90: a forwarding firewall at hop 2 resets the connection: the RST carries
    #     the server's address but r2's TTL (64, one hop from the client).
    lab_ipt r2 "$f" -A FORWARD -d "$dst" -p tcp --dport 90 -j REJECT --reject-with tcp-reset
    # 91: hop 2 refuses with ICMP admin-prohibited from its client-side address.
    lab_ipt r2 "$f" -A FORWARD -d "$dst" -p tcp --dport 91 -j REJECT --reject-with "$adminprohib"
    # 94: hop 2 drops silently.
    lab_ipt r2 "$f" -A FORWARD -d "$dst" -p tcp --dport 94 -j DROP
    # 97: hop 2 resets like port 90, but forges the TTL of its resets (lab_ttl_forging).
    lab_ipt r2 "$f" -A FORWARD -d "$dst" -p tcp --dport 97 -j REJECT --reject-with tcp-reset
    # 8443 (issue 14, the request stage): the handshake passes; the ClientHello that
    #     names blocked.lab.test in its server name is refused with a TCP reset from
    #     the server's address (a next-generation firewall reading the SNI), the one
    #     naming dropped.lab.test is dropped silently. The string match sees the whole
    #     packet (-m string --algo bm); only client-to-server segments to 8443 are read.
    lab_ipt r2 "$f" -A FORWARD -d "$dst" -p tcp --dport "$LAB_TLS_PORT" \
        -m string --string "$LAB_NAME_RESET" --algo bm -j REJECT --reject-with tcp-reset
    lab_ipt r2 "$f" -A FORWARD -d "$dst" -p tcp --dport "$LAB_TLS_PORT" \
        -m string --string "$LAB_NAME_DROPPED" --algo bm -j DROP
    # v6fails.lab.test: hop 2 refuses IPv6 to the server's third address, port 80.
    if [[ $f == 6 ]]; then
        lab_ipt r2 6 -A FORWARD -d "$LAB_SERVER_C6" -p tcp --dport 80 -j REJECT --reject-with "$adminprohib"
    fi
}

lab_fw_r3() {
    local f=$1 dst=$2 hostunr=icmp-host-unreachable
    [[ $f == 6 ]] && hostunr=icmp6-addr-unreachable
    # 92: hop 3 (initial TTL 255) refuses with host-unreachable (v6: address-unreachable).
    lab_ipt r3 "$f" -A FORWARD -d "$dst" -p tcp --dport 92 -j REJECT --reject-with "$hostunr"
    # 96: hop 3 resets with the server's address and its own TTL 255.
    lab_ipt r3 "$f" -A FORWARD -d "$dst" -p tcp --dport 96 -j REJECT --reject-with tcp-reset
    # 95: nothing here. The injector on r2 wins its race against the server by
    #     distance alone: with the link delays its forged reset reaches the
    #     client ~6 ms after the SYN, the server's SYN|ACK ~20 ms after it
    #     (without delays, SPLAB_DELAYS=0, the server wins: see README.md).
}

lab_check_variants() {
    [[ $SPLAB_SILENT_R1 == 0 || $SPLAB_SILENT_R1 == 1 ]] || lab_die "SPLAB_SILENT_R1 must be 0 or 1" || return 1
    [[ $SPLAB_SECOND_CLIENT == 0 || $SPLAB_SECOND_CLIENT == 1 ]] ||
        lab_die "SPLAB_SECOND_CLIENT must be 0 or 1" || return 1
    [[ $SPLAB_LOSS_PERCENT =~ ^[0-9]{1,2}$ ]] && ((10#$SPLAB_LOSS_PERCENT <= 50)) ||
        lab_die "SPLAB_LOSS_PERCENT must be 0..50" || return 1
    [[ -z $SPLAB_R2_ICMP_RATELIMIT || $SPLAB_R2_ICMP_RATELIMIT =~ ^[0-9]{1,6}$ ]] ||
        lab_die "SPLAB_R2_ICMP_RATELIMIT must be 0..999999 ms" || return 1
}

lab_firewall() {
    local node
    for node in server r1 r2 r3; do
        lab_fw_reset "$node"
        "lab_fw_$node" 4 "$LAB_SERVER4"
        "lab_fw_$node" 6 "$LAB_SERVER6"
    done
}

# ---------------------------------------------------------------------------
# Link delays (splab-delay, NFQUEUE: this kernel has no sch_netem)
#
# Every link k has a one-way delay d_k (SPLAB_LINK_DELAYS), added once in each
# direction by ONE router, the link's end nearer the client: r1 delays link1
# and link2, r2 link3, r3 link4 (the client and the server run nothing). On
# each link it owns, a router queues in mangle PREROUTING what arrives on that
# interface and in mangle POSTROUTING what leaves through it, IPv4 and IPv6:
#   - PREROUTING comes before the routing decision and the TTL check, so it
#     also delays SYNs that expire at the router or are answered by it (its
#     own INPUT); FORWARD would miss a TTL-expired packet (ip_forward answers
#     time-exceeded before the FORWARD hook);
#   - POSTROUTING sees forwarded packets and the router's own ones (ICMP
#     errors, REJECT's resets, the injector's raw packets) alike.
# A packet forwarded from l1 to l2 at r1 thus waits d1 then d2. Seen from the
# client, hop k answers after 2 * (d1 + ... + dk). The owner is the near end so
# that the injector on r2, which sniffs r2's l2 with libpcap (before r2's
# netfilter), sees the SYN only after link2's delay: its forged reset is
# timed like r2's own answers.
# ---------------------------------------------------------------------------

# The splab-delay binary: given, built by CMake, or compiled here.
lab_delay_bin() {
    local bin=$SPLAB_DELAY_BIN built=$LAB_DIR/../../build/tests/lab/splab-delay
    if [[ -z $bin && -x $built ]]; then bin=$built; fi
    if [[ -z $bin ]]; then
        bin=$SPLAB_STATE/splab-delay
        if [[ ! -x $bin ]]; then
            lab_log "no splab-delay built: compiling tests/lab/delay.cpp into $bin"
            "${CXX:-c++}" -std=c++20 -O2 -o "$bin" "$LAB_DIR/delay.cpp" \
                -lnetfilter_queue -lnfnetlink ||
                lab_die "could not build splab-delay (libnetfilter-queue-dev?); set SPLAB_DELAY_BIN or SPLAB_DELAYS=0" ||
                return 1
        fi
    fi
    [[ -x $bin ]] || lab_die "splab-delay not executable: $bin" || return 1
    printf '%s\n' "$bin"
}

lab_delays() {
    local node f k d bin old links args=()
    # Start from nothing: mangle holds only our queue rules; old shims stop.
    for node in "${LAB_ROUTERS[@]}"; do
        for f in 4 6; do lab_ipt "$node" "$f" -t mangle -F; done
        old=$(lab_running_pid "delay-$node")
        [[ -z $old ]] || lab_kill_pid "$old" "$(lab_pid_start "$old")"
    done
    [[ $SPLAB_DELAYS == 0 ]] && { lab_log "link delays off (SPLAB_DELAYS=0)"; return 0; }
    read -r -a d <<<"$SPLAB_LINK_DELAYS"
    ((${#d[@]} == 4)) || lab_die "SPLAB_LINK_DELAYS needs 4 numbers (ms, link1..link4)" || return 1
    for k in 0 1 2 3; do
        [[ ${d[k]} =~ ^[0-9]{1,3}$ ]] || lab_die "SPLAB_LINK_DELAYS: '${d[k]}' is not 0..999 ms" || return 1
    done
    [[ $SPLAB_DELAY_SECONDS =~ ^[0-9]{1,5}$ ]] || lab_die "SPLAB_DELAY_SECONDS must be a number" || return 1
    bin=$(lab_delay_bin) || return 1
    for node in "${LAB_ROUTERS[@]}"; do
        links="LAB_DELAY_LINKS_$node"
        args=()
        for k in ${!links}; do args+=(--queue "$k:${d[k - 1]}"); done
        # The shim binds its queues before any rule sends packets there (no
        # --queue-bypass: if it is not running, the link passes nothing, which
        # "lab.sh status" shows, rather than silently losing its delay).
        # SCHED_FIFO (it sleeps between packets): punctual even while the machine compiles.
        lab_spawn "$node" "delay-$node" "$bin" "${args[@]}" --seconds "$SPLAB_DELAY_SECONDS" \
            --rt-priority 10
        lab_wait_for_line "$SPLAB_STATE/delay-$node.log" 'splab-delay: ready' "$LAB_SPAWNED_PID" 100 ||
            { cat "$SPLAB_STATE/delay-$node.log" >&2; lab_die "splab-delay did not start on $node"; return 1; }
        for k in ${!links}; do
            for f in 4 6; do
                lab_ipt "$node" "$f" -t mangle -A PREROUTING -i "l$k" -j NFQUEUE --queue-num "$k"
                lab_ipt "$node" "$f" -t mangle -A POSTROUTING -o "l$k" -j NFQUEUE --queue-num "$k"
            done
        done
    done
    lab_log "link delays ${d[*]} ms one-way (link1..link4)"
}

# Port 97: the TTL-forging middlebox. r2's REJECT sends its RST through its own
# OUTPUT (nf_send_reset -> ip_local_out / ip6_local_out), where mangle rewrites its
# TTL / hop limit so that it reaches the client exactly like the server's packets.
# mangle OUTPUT only (lab_delays flushes the whole mangle table first and uses
# PREROUTING / POSTROUTING), so this runs after lab_delays.
lab_ttl_forging() {
    lab_ipt r2 4 -t mangle -A OUTPUT -o l2 -s "$LAB_SERVER4" -d "$LAB_CLIENT4" -p tcp --sport 97 \
        --tcp-flags RST RST -j TTL --ttl-set "$LAB_FORGED_TTL"
    lab_ipt r2 6 -t mangle -A OUTPUT -o l2 -s "$LAB_SERVER6" -d "$LAB_CLIENT6" -p tcp --sport 97 \
        --tcp-flags RST RST -j HL --hl-set "$LAB_FORGED_TTL"
}

# Variant SPLAB_R2_ICMP_RATELIMIT: r2's per-destination ICMP rate limit (the kernel's
# token bucket: a burst of 6, then one error per MS; IPv6 scales MS down by the
# route's prefix length: /64 -> MS/4). A new destination starts with 60 s of credit,
# so MS > 60000 (IPv6: > 240000) means no ICMP error to the client at all.
# Set every time (the kernel's defaults when unset: 1000 ms for IPv4, 100 ms for
# IPv6), so that "up" without the variant undoes it.
lab_icmp_ratelimit() {
    lab_sysctl r2 "net.ipv4.icmp_ratelimit=${SPLAB_R2_ICMP_RATELIMIT:-1000}" \
        "net.ipv6.icmp.ratelimit=${SPLAB_R2_ICMP_RATELIMIT:-100}"
}

# ---------------------------------------------------------------------------
# Services on the server
# ---------------------------------------------------------------------------

lab_services() {
    local port name responder=$SPLAB_STATE/http-responder reply=$SPLAB_STATE/http-reply.txt
    [[ $SPLAB_STATE =~ ^[A-Za-z0-9/._-]+$ ]] || lab_die "SPLAB_STATE must be a plain path (socat)"
    printf 'HTTP/1.0 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n' >"$reply"
    # socat mangles quotes and backslashes inside SYSTEM:, so the tiny HTTP
    # responder is a script of its own, written so that every exchange looks
    # the same on the wire:
    # - it reads the request head first (at most 50 lines, 5 s): answering
    #   before the request is read makes socat's write of the request into the
    #   finished child fail, and socat then drops the reply;
    # - the reply is one write (cat of a file), so one segment;
    # - it then waits (at most 5 s) for the client to close first, so the FIN
    #   order is always client, then server.
    cat >"$responder" <<SH
#!/bin/bash
for ((i = 0; i < 50; i++)); do
    IFS= read -r -t 5 line || break
    [[ \$line == \$'\\r' || -z \$line ]] && break
done
cat $reply
timeout 5 cat >/dev/null
SH
    chmod 755 "$responder"
    for port in "${LAB_OPEN_PORTS[@]}"; do
        name="listener-$port"
        [[ -n $(lab_running_pid "$name") ]] && continue
        # One dual-stack listener per port (IPv4 arrives as ::ffff:198.18.4.10).
        lab_spawn server "$name" socat \
            "TCP6-LISTEN:$port,fork,reuseaddr,ipv6only=0,backlog=64" "EXEC:$responder"
    done
}

# Issue 14's services on the server: TLS on 8443 (any server name; a throwaway
# self-signed certificate, made here into the state directory, so "down" removes it)
# and the proxy without backend on 8081 (reset) and 8082 (close). Each lives until
# "down" (socat) or SPLAB_DELAY_SECONDS (nobackend.py).
lab_request_services() {
    local key=$SPLAB_STATE/tls-key.pem cert=$SPLAB_STATE/tls-cert.pem
    if [[ ! -s $cert ]]; then
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 \
            -subj /CN=lab.test -addext subjectAltName=DNS:*.lab.test \
            -keyout "$key" -out "$cert" >"$SPLAB_STATE/tls-cert.log" 2>&1 ||
            { cat "$SPLAB_STATE/tls-cert.log" >&2; lab_die "openssl could not make the lab's certificate"; return 1; }
    fi
    if [[ -z $(lab_running_pid "listener-$LAB_TLS_PORT") ]]; then
        lab_spawn server "listener-$LAB_TLS_PORT" socat \
            "OPENSSL-LISTEN:$LAB_TLS_PORT,pf=ip6,ipv6only=0,fork,reuseaddr,backlog=64,cert=$cert,key=$key,verify=0" \
            "EXEC:$SPLAB_STATE/http-responder"
    fi
    local port mode
    for port in "$LAB_PROXY_RESET_PORT" "$LAB_PROXY_CLOSE_PORT"; do
        mode=reset
        [[ $port == "$LAB_PROXY_CLOSE_PORT" ]] && mode=close
        [[ -n $(lab_running_pid "nobackend-$port") ]] && continue
        lab_spawn server "nobackend-$port" /usr/bin/python3 "$LAB_DIR/nobackend.py" --port "$port" \
            --mode "$mode" --netns "$(lab_ns server)" --seconds "$SPLAB_DELAY_SECONDS"
        lab_wait_for_line "$SPLAB_STATE/nobackend-$port.log" 'nobackend: ready' "$LAB_SPAWNED_PID" 100 ||
            { cat "$SPLAB_STATE/nobackend-$port.log" >&2; lab_die "nobackend did not start on $port"; return 1; }
    done
}

# Bounded wait (40 x 50 ms) until every listener of the server is bound.
lab_wait_listening() {
    local i port missing
    for ((i = 0; i < 40; i++)); do
        missing=""
        for port in "${LAB_OPEN_PORTS[@]}" "$LAB_TLS_PORT" "$LAB_PROXY_RESET_PORT" "$LAB_PROXY_CLOSE_PORT"; do
            lab_in server ss -Hltn "sport = :$port" | grep -q . || missing+=" $port"
        done
        [[ -z $missing ]] && return 0
        sleep 0.05
    done
    lab_die "no listener on the server's port(s)$missing"
}

# Bounded wait until the client reaches the server over IPv4 and IPv6; this
# also completes ARP / neighbour discovery on every link.
lab_wait_ready() {
    local i ok4=0 ok6=0
    for ((i = 0; i < 60; i++)); do
        if ((ok4 == 0)) && lab_in client curl -s --noproxy '*' --max-time 1 -o /dev/null \
            "http://$LAB_SERVER4:80/"; then ok4=1; fi
        if ((ok6 == 0)) && lab_in client curl -s --noproxy '*' --max-time 1 -g -o /dev/null \
            "http://[$LAB_SERVER6]:80/"; then ok6=1; fi
        ((ok4 && ok6)) && break
        sleep 0.2
    done
    ((ok4 && ok6)) || lab_die "server not reachable from the client (IPv4 ok=$ok4, IPv6 ok=$ok6)" || return 1
    [[ $SPLAB_SECOND_CLIENT == 1 ]] || return 0
    ok4=0 ok6=0
    for ((i = 0; i < 60; i++)); do
        if ((ok4 == 0)) && lab_in client2 curl -s --noproxy '*' --max-time 1 -o /dev/null \
            "http://$LAB_SERVER4:80/"; then ok4=1; fi
        if ((ok6 == 0)) && lab_in client2 curl -s --noproxy '*' --max-time 1 -g -o /dev/null \
            "http://[$LAB_SERVER6]:80/"; then ok6=1; fi
        ((ok4 && ok6)) && return 0
        sleep 0.2
    done
    lab_die "server not reachable from client2 (IPv4 ok=$ok4, IPv6 ok=$ok6)"
}

# ---------------------------------------------------------------------------
# The injector (scenario 95), on r2's client-facing interface
# ---------------------------------------------------------------------------

# lab_start_request_injector PATH [SECONDS] [COUNT] — the request injector (issue 14) on
# r2: it resets the connections whose request to port 8080 holds "Host: censored.lab.test"
# (splab-injector --request), racing the server's reply. PID left in LAB_INJECTOR_PID;
# one at a time, like lab_start_injector (it runs under its own name: both may run).
lab_start_request_injector() {
    local bin=$1 seconds=${2:-60} count=${3:-20} old
    [[ -x $bin ]] || lab_die "injector not executable: $bin"
    old=$(lab_running_pid injector-request)
    [[ -z $old ]] || lab_kill_pid "$old" "$(lab_pid_start "$old")"
    lab_spawn r2 injector-request "$bin" --iface "$LAB_INJECTOR_IF" --port "$LAB_REQ_HTTP_PORT" \
        --request "Host: $LAB_NAME_INJECTED" --seconds "$seconds" --count "$count"
    LAB_INJECTOR_PID=$LAB_SPAWNED_PID
    lab_wait_for_line "$SPLAB_STATE/injector-request.log" 'splab-injector: ready' "$LAB_INJECTOR_PID" 100 ||
        { cat "$SPLAB_STATE/injector-request.log" >&2; lab_die "request injector did not start"; }
}

# lab_start_injector PATH [SECONDS] [COUNT] — PID left in LAB_INJECTOR_PID.
# One injector at a time: a previous one we started is stopped first.
lab_start_injector() {
    local bin=$1 seconds=${2:-60} count=${3:-20} old
    [[ -x $bin ]] || lab_die "injector not executable: $bin"
    old=$(lab_running_pid injector)
    [[ -z $old ]] || lab_kill_pid "$old" "$(lab_pid_start "$old")"
    lab_spawn r2 injector "$bin" --iface "$LAB_INJECTOR_IF" --port 95 \
        --seconds "$seconds" --count "$count"
    LAB_INJECTOR_PID=$LAB_SPAWNED_PID
    lab_wait_for_line "$SPLAB_STATE/injector.log" 'splab-injector: ready' "$LAB_INJECTOR_PID" 100 ||
        { cat "$SPLAB_STATE/injector.log" >&2; lab_die "injector did not start"; }
}

# ---------------------------------------------------------------------------
# up / down / status
# ---------------------------------------------------------------------------

lab_up() {
    lab_check_id
    lab_check_variants
    lab_state_init
    lab_create_namespaces
    lab_sysctls
    lab_icmp_ratelimit
    lab_links
    lab_hosts_file
    lab_second_client
    lab_routes
    lab_firewall
    lab_delays
    lab_ttl_forging
    lab_services
    lab_request_services
    lab_wait_listening
    lab_wait_ready
    local variants=""
    [[ $SPLAB_SILENT_R1 == 1 ]] && variants+=", r1 silent"
    ((10#$SPLAB_LOSS_PERCENT > 0)) && variants+=", r1 loses $SPLAB_LOSS_PERCENT %"
    [[ -n $SPLAB_R2_ICMP_RATELIMIT ]] && variants+=", r2 ICMP rate limit $SPLAB_R2_ICMP_RATELIMIT ms"
    [[ $SPLAB_SECOND_CLIENT == 1 ]] && variants+=", client2 behind r4 (joins at r2)"
    lab_log "up (state in $SPLAB_STATE)$variants"
}

lab_down() {
    lab_check_id
    local pid start name ns
    if [[ -f $SPLAB_STATE/pids ]]; then
        while read -r pid start name; do
            lab_kill_pid "$pid" "$start"
        done <"$SPLAB_STATE/pids"
    fi
    if [[ -f $SPLAB_STATE/namespaces ]]; then
        while read -r ns; do
            [[ -n $ns ]] || continue
            lab_ns_exists "$ns" || continue
            # Anything still running in our namespace was started in it by us
            # (lab.sh exec ...): stop it by PID so the namespace really goes.
            for pid in $(ip netns pids "$ns" 2>/dev/null); do
                lab_log "stopping leftover PID $pid in $ns"
                lab_kill_pid "$pid" "$(lab_proc_field "$pid" 20 || true)"
            done
            ip netns delete "$ns"
        done <"$SPLAB_STATE/namespaces"
        # The client's /etc/hosts (lab_hosts_file): named after our namespace.
        while read -r ns; do
            if [[ -n $ns && -d /etc/netns/$ns ]]; then rm -rf -- "/etc/netns/$ns"; fi
        done <"$SPLAB_STATE/namespaces"
    fi
    rm -rf -- "$SPLAB_STATE"
}

lab_status() {
    local node ns pid start name rc=0
    for node in "${LAB_NODES[@]}"; do
        ns=$(lab_ns "$node")
        if lab_ns_exists "$ns"; then echo "namespace $ns: present"; else echo "namespace $ns: absent"; rc=1; fi
    done
    if [[ -f $SPLAB_STATE/pids ]]; then
        while read -r pid start name; do
            if lab_pid_is "$pid" "$start"; then echo "process $name ($pid): running"; else echo "process $name ($pid): gone"; fi
        done <"$SPLAB_STATE/pids"
    fi
    return "$rc"
}

lab_main() {
    set -euo pipefail
    local cmd=${1:-}
    shift || true
    case $cmd in
    up) lab_up ;;
    down) lab_down ;;
    status) lab_status ;;
    exec)
        (($# >= 2)) || { echo "usage: lab.sh exec NODE CMD..." >&2; return 2; }
        lab_ns_exists "$(lab_ns "$1")" || lab_die "no namespace $(lab_ns "$1") (lab.sh up?)"
        exec ip netns exec "$(lab_ns "$1")" "${@:2}"
        ;;
    injector)
        (($# >= 1)) || { echo "usage: lab.sh injector PATH [SECONDS] [COUNT]" >&2; return 2; }
        lab_state_init
        lab_start_injector "$@"
        echo "injector PID $LAB_INJECTOR_PID (stopped by 'lab.sh down' or after its time limit)"
        ;;
    injector-request)
        (($# >= 1)) || { echo "usage: lab.sh injector-request PATH [SECONDS] [COUNT]" >&2; return 2; }
        lab_state_init
        lab_start_request_injector "$@"
        echo "request injector PID $LAB_INJECTOR_PID (stopped by 'lab.sh down' or after its time limit)"
        ;;
    *)
        sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
        return 2
        ;;
    esac
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    lab_main "$@"
fi
