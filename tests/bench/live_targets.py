#!/usr/bin/env python3
"""The known truth of the live benchmarks (tests/bench/live.sh), in one place.

It says which port of which lab address is in which state, and it writes the firewall
rules and addresses that make it so; the scorer (live_score.py) reads the same tables, so
the rules and the truth cannot drift apart.

  live_targets.py rules  SET     lines "NODE FAMILY iptables-args..." / "NODE addr ..." to apply
  live_targets.py truth  SET     one JSON line per target: dst, dport, verdict, actor, hop
  live_targets.py targets SET    the targets, one per line, as synprobe takes them (HOST:PORTS)
  live_targets.py spec SET       shell assignments for nmap and masscan: PORTS, HOSTS4, HOSTS6

SET is "ports" (part a: one host, many ports), "hosts" (part b: many hosts, a few ports
each) or "hosts1000" (part c: 1,000 addresses of the server, IPv6, one port each), each
optionally with ":N" to shrink it to N targets (the CTest smoke run).

Lab (tests/lab/lab.sh): client - r1 - r2 - r3 - server; the server LAN is 198.18.4.0/24 and
2001:db8:4::/64, the server is .10 / ::10. Seen from the client r1 is hop 1, r2 hop 2,
r3 hop 3 (initial TTL 255), the server hop 4.

States (the verdict synprobe should give; nmap and masscan are scored by live_score.py):
  open        nat REDIRECT on the server to a listener (backlog 4096) on port 8089 (8080 is the lab's HTTP server for the request-stage scenarios)
  closed      nothing listens: the server's stack answers RST          refused-by-host
  host-drop   server INPUT DROP                                       dropped
  r2-reset    r2 FORWARD REJECT --reject-with tcp-reset                refused-by-middlebox (hop 2)
  r3-icmp     r3 FORWARD REJECT --reject-with icmp(6)-adm-prohibited   icmp-unreachable (router, hop 3)
  r2-drop     r2 FORWARD DROP                                         dropped
Only addresses in 198.18.0.0/15 and 2001:db8::/32.
"""
import json
import sys

LISTEN_PORT = 8089
SERVER4 = "198.18.4.10"

TRUTH = {
    "open": ("open", "host", 4),
    "closed": ("refused-by-host", "host", 4),
    "host-drop": ("dropped", "unknown", None),
    "r2-reset": ("refused-by-middlebox", "middlebox", 2),
    "r3-icmp": ("icmp-unreachable", "router", 3),
    "r2-drop": ("dropped", "unknown", None),
}

# Part a: 10,000 ports of one host, in ranges (mostly closed, as a real host is).
PORTS_RANGES = [
    (10000, 10999, "open"),
    (11000, 16999, "closed"),
    (17000, 17999, "host-drop"),
    (18000, 18999, "r2-reset"),
    (19000, 19499, "r3-icmp"),
    (19500, 19999, "r2-drop"),
]

# Part b: 20 hosts (10 IPv4, 10 IPv6 extra addresses of the server), 50 ports each = 1,000
# host:port pairs. Ports 20000-20049 in five blocks of ten; which state a block has
# rotates with the host, so every host has every state on other ports.
HOSTS4 = [f"198.18.4.{20 + i}" for i in range(10)]
HOSTS6 = [f"2001:db8:4::{20 + i:x}" for i in range(10)]
HOST_PORT_BASE = 20000
HOST_PORTS = 50
HOST_STATES = ["open", "closed", "host-drop", "r2-reset", "r3-icmp"]

# Part c: 1,000 hosts, one port each (issue 17: many hosts traced). IPv6 addresses of the
# server, 2001:db8:4::1:0 to 2001:db8:4::1:3e7, port 20000; five blocks of 200 addresses,
# one state each (the rules match address ranges).
MANY_HOSTS = [f"2001:db8:4::1:{i:x}" for i in range(1000)]
MANY_HOSTS_PORT = 20000


def many_hosts_blocks():
    """(first index, last index, state) of part c's blocks."""
    return [(200 * b, 200 * b + 199, st) for b, st in enumerate(HOST_STATES)]


def host_blocks(index):
    """(low, high, state) ranges of host number `index` (0..9 within its family)."""
    out = []
    for b in range(HOST_PORTS // 10):
        low = HOST_PORT_BASE + 10 * b
        out.append((low, low + 9, HOST_STATES[(b + index) % len(HOST_STATES)]))
    return out


def parse_set(arg):
    name, _, n = arg.partition(":")
    if name not in ("ports", "hosts", "hosts1000"):
        sys.exit(f"live_targets.py: unknown set {name!r} (ports, hosts or hosts1000)")
    return name, (int(n) if n else None)


def ranges(name, limit=None):
    """[(address, low, high, state)] of a set. A limit keeps every state but fewer ports:
    each range shrinks proportionally (at least 2 ports each)."""
    if name == "ports":
        rs = [(SERVER4, lo, hi, st) for lo, hi, st in PORTS_RANGES]
    elif name == "hosts1000":
        rs = []
        for first, last, st in many_hosts_blocks():
            rs += [(h, MANY_HOSTS_PORT, MANY_HOSTS_PORT, st) for h in MANY_HOSTS[first:last + 1]]
        if limit:
            rs = rs[::max(1, len(rs) // limit)][:limit]
        return rs
    else:
        rs = []
        for i, h in enumerate(HOSTS4):
            rs += [(h, lo, hi, st) for lo, hi, st in host_blocks(i)]
        for i, h in enumerate(HOSTS6):
            rs += [(h, lo, hi, st) for lo, hi, st in host_blocks(i)]
    if limit:
        total = sum(hi - lo + 1 for _, lo, hi, _ in rs)
        if name == "hosts":  # fewer hosts first: 2 of each family, then shrink
            keep = set(HOSTS4[:2] + HOSTS6[:2])
            rs = [r for r in rs if r[0] in keep]
            total = sum(hi - lo + 1 for _, lo, hi, _ in rs)
        out = []
        for a, lo, hi, st in rs:
            n = max(2, round((hi - lo + 1) * limit / total))
            out.append((a, lo, min(hi, lo + n - 1), st))
        rs = out
    return rs


def rules(name, limit=None):
    """Lines for live.sh: "NODE F iptables-args" (F = 4 or 6) or "server addr ADDR/LEN"."""
    lines = []
    if name == "hosts1000":
        for h in MANY_HOSTS:
            lines.append(f"server addr {h}/64")
        for first, last, st in many_hosts_blocks():
            m = f"-m iprange --dst-range {MANY_HOSTS[first]}-{MANY_HOSTS[last]} -p tcp --dport {MANY_HOSTS_PORT}"
            lines += rule_lines("6", m, st)
        return lines
    rs = ranges(name, None)  # rules for the whole set; a limited run probes a subset
    if name == "hosts":
        for h in HOSTS4:
            lines.append(f"server addr {h}/24")
        for h in HOSTS6:
            lines.append(f"server addr {h}/64")
    for a, lo, hi, st in rs:
        f = "6" if ":" in a else "4"
        lines += rule_lines(f, f"-d {a} -p tcp --dport {lo}:{hi}", st)
    return lines


def rule_lines(f, m, st):
    """The rule that gives matches `m` (family `f`) the state `st`."""
    if st == "open":
        return [f"server {f} -t nat -A PREROUTING {m} -j REDIRECT --to-ports {LISTEN_PORT}"]
    if st == "host-drop":
        return [f"server {f} -A INPUT {m} -j DROP"]
    if st == "r2-reset":
        return [f"r2 {f} -A FORWARD {m} -j REJECT --reject-with tcp-reset"]
    if st == "r3-icmp":
        why = "icmp6-adm-prohibited" if f == "6" else "icmp-admin-prohibited"
        return [f"r3 {f} -A FORWARD {m} -j REJECT --reject-with {why}"]
    if st == "r2-drop":
        return [f"r2 {f} -A FORWARD {m} -j DROP"]
    return []


def truth(name, limit=None):
    out = []
    for a, lo, hi, st in ranges(name, limit):
        verdict, actor, hop = TRUTH[st]
        for p in range(lo, hi + 1):
            out.append({"dst": a, "dport": p, "state": st, "verdict": verdict, "actor": actor, "hop": hop})
    return out


def targets(name, limit=None):
    """synprobe targets: HOST:lo-hi,lo-hi per host (IPv6 in brackets)."""
    per_host = {}
    for a, lo, hi, _ in ranges(name, limit):
        per_host.setdefault(a, []).append(f"{lo}-{hi}" if hi > lo else f"{lo}")
    return [f"[{a}]:{','.join(p)}" if ":" in a else f"{a}:{','.join(p)}" for a, p in per_host.items()]


def spec(name, limit=None):
    """PORTS (the union of every host's ports, as nmap -p takes it), HOSTS4, HOSTS6."""
    ports, v4, v6 = set(), [], []
    for a, lo, hi, _ in ranges(name, limit):
        ports.update(range(lo, hi + 1))
        fam = v6 if ":" in a else v4
        if a not in fam:
            fam.append(a)
    runs, start, prev = [], None, None
    for p in sorted(ports):
        if start is None:
            start = prev = p
        elif p == prev + 1:
            prev = p
        else:
            runs.append((start, prev))
            start = prev = p
    if start is not None:
        runs.append((start, prev))
    text = ",".join(f"{a}-{b}" if b > a else f"{a}" for a, b in runs)
    return [f"PORTS='{text}'", f"HOSTS4='{' '.join(v4)}'", f"HOSTS6='{' '.join(v6)}'"]


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("rules", "truth", "targets", "spec"):
        sys.exit(__doc__)
    name, limit = parse_set(sys.argv[2])
    if sys.argv[1] == "rules":
        print("\n".join(rules(name, limit)))
    elif sys.argv[1] == "truth":
        for t in truth(name, limit):
            print(json.dumps(t))
    elif sys.argv[1] == "spec":
        print("\n".join(spec(name, limit)))
    else:
        print("\n".join(targets(name, limit)))


if __name__ == "__main__":
    main()
