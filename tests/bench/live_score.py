#!/usr/bin/env python3
"""Scores one tool's answers against the truth of tests/bench/live_targets.py.

  live_score.py --truth TRUTH.jsonl --tool synprobe|nmap|masscan OUTPUT... [--json]

OUTPUT: synprobe --json output(s), nmap -oX file(s), masscan -oL file(s) (several files are
merged: nmap and masscan scan one family at a time).

Two scores, because the tools do not make the same distinctions:

* right (own classes): the tool's answer is true as far as the tool's own vocabulary goes.
    nmap -sS --reason: open = SYN/ACK; closed = a RST (any RST: it cannot tell the host's
      from a middlebox's); filtered + no-response = nothing came; filtered + an ICMP reason
      (admin-prohibited, host-unreach...) = an ICMP error. So nmap's classes are
      open | RST | silence | ICMP: it cannot tell refused-by-host from refused-by-middlebox.
    masscan --show closed: open = SYN/ACK; closed = a RST (any); not listed = anything else.
      So masscan's classes are open | RST | nothing-or-ICMP: it cannot tell host from
      middlebox RSTs, nor a drop from an ICMP refusal (it ignores ICMP).
    synprobe: its verdict itself.
* right (synprobe's classes): the answer read as a verdict of synprobe's classes, the way
  the tool's own words put it: nmap "closed" and masscan "closed" say the port is closed
  on the host (refused-by-host); nmap "filtered/no-response" and masscan's silence say
  dropped; nmap "filtered" with an ICMP reason says icmp-unreachable.

For synprobe it also counts "located": verdict right and, where the truth has one, the
actor and the hop right too (drops are located only when traced: not counted there).
"""
import argparse
import collections
import json
import sys
import xml.etree.ElementTree as ET

RST_VERDICTS = {"refused-by-host", "refused-by-middlebox", "injected-reset"}
ICMP_REASONS = {"admin-prohibited", "host-unreach", "net-unreach", "port-unreach", "host-prohibited",
                "net-prohibited", "proto-unreach", "addr-unreach", "no-route", "beyond-scope",
                "reject-route", "communication-prohibited", "host-unknown", "net-unknown",
                "source-quench", "time-exceeded", "host-tos-unreach", "net-tos-unreach",
                "precedence-cutoff", "host-precedence-violation", "admin-prohib"}


def canon(addr):
    import ipaddress
    return str(ipaddress.ip_address(addr))


def expand_ports(text):
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            lo, hi = part.split("-")
            out += range(int(lo), int(hi) + 1)
        else:
            out.append(int(part))
    return out


def read_synprobe(paths):
    answers = {}
    for path in paths:
        text = open(path).read()
        d = json.loads(text[: text.rfind("}") + 1])
        for a in d["attempts"]:
            answers[(canon(a["dst"]), a["dport"])] = {
                "own": a["verdict"], "full": a["verdict"], "actor": a["actor"], "hop": a["hop"],
                "hop_range": a.get("hop_range")}
    return answers


def nmap_answer(state, reason):
    if state == "open":
        return {"own": "open", "full": "open"}
    if state == "closed":
        return {"own": "rst", "full": "refused-by-host"}
    if state == "filtered" and reason in ICMP_REASONS:
        return {"own": "icmp", "full": "icmp-unreachable"}
    if state == "filtered":
        return {"own": "silence", "full": "dropped"}
    return {"own": state, "full": state}  # unfiltered, open|filtered...: wrong for every truth


def read_nmap(paths):
    answers = {}
    for path in paths:
        root = ET.parse(path).getroot()
        for host in root.iter("host"):
            addr = next((a.get("addr") for a in host.iter("address") if a.get("addrtype") in ("ipv4", "ipv6")), None)
            if addr is None:
                continue
            addr = canon(addr)
            ports = host.find("ports")
            if ports is None:
                continue
            for extra in ports.iter("extraports"):
                for er in extra.iter("extrareasons"):
                    if er.get("ports") is None:
                        sys.exit(f"{path}: <extrareasons> without a ports list (nmap older than 7.80?)")
                    for p in expand_ports(er.get("ports")):
                        answers[(addr, p)] = nmap_answer(extra.get("state"), er.get("reason"))
            for port in ports.iter("port"):
                st = port.find("state")
                answers[(addr, int(port.get("portid")))] = nmap_answer(st.get("state"), st.get("reason"))
    return answers


def read_masscan(paths):
    answers = {}
    for path in paths:
        for line in open(path):
            f = line.split()
            if len(f) < 4 or f[0] not in ("open", "closed") or f[1] != "tcp":
                continue
            own = "open" if f[0] == "open" else "rst"
            full = "open" if f[0] == "open" else "refused-by-host"
            try:
                answers[(canon(f[3]), int(f[2]))] = {"own": own, "full": full}
            except ValueError:  # a line cut short (masscan stopped mid-write)
                continue
    return answers


def own_right(tool, truth, ans):
    v = truth["verdict"]
    if tool == "synprobe":
        return ans is not None and ans["own"] == v
    if tool == "nmap":
        if ans is None:
            return False
        return {"open": v == "open", "rst": v in RST_VERDICTS, "silence": v == "dropped",
                "icmp": v == "icmp-unreachable"}.get(ans["own"], False)
    # masscan: not listed means "no SYN/ACK and no RST"
    if ans is None:
        return v in ("dropped", "icmp-unreachable")
    return {"open": v == "open", "rst": v in RST_VERDICTS}.get(ans["own"], False)


def full_answer(tool, ans):
    if ans is None:
        return "dropped" if tool == "masscan" else "(none)"
    return ans["full"]


def score(tool, truth_rows, answers):
    s = {"tool": tool, "targets": len(truth_rows), "answered": 0, "right_own": 0, "right_full": 0,
         "located": 0, "locatable": 0, "extra": 0, "by_state": {}, "wrong_examples": []}
    keys = set()
    conf = collections.defaultdict(collections.Counter)
    for t in truth_rows:
        key = (canon(t["dst"]), t["dport"])
        keys.add(key)
        ans = answers.get(key)
        if ans is not None:
            s["answered"] += 1
        ro = own_right(tool, t, ans)
        fa = full_answer(tool, ans)
        rf = fa == t["verdict"]
        s["right_own"] += ro
        s["right_full"] += rf
        conf[t["state"]][fa] += 1
        if tool == "synprobe" and t["hop"] is not None:
            s["locatable"] += 1
            if rf and ans["actor"] == t["actor"] and ans["hop"] == t["hop"]:
                s["located"] += 1
        if not rf and len(s["wrong_examples"]) < 5:
            s["wrong_examples"].append({"target": f"{key[0]}:{key[1]}", "truth": t["verdict"], "answer": fa})
    s["extra"] = len(set(answers) - keys)
    s["hosts"] = len({k[0] for k in keys})
    s["by_state"] = {k: dict(v) for k, v in conf.items()}
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--tool", required=True, choices=["synprobe", "nmap", "masscan"])
    ap.add_argument("outputs", nargs="+")
    args = ap.parse_args()
    truth_rows = [json.loads(line) for line in open(args.truth) if line.strip()]
    reader = {"synprobe": read_synprobe, "nmap": read_nmap, "masscan": read_masscan}[args.tool]
    try:
        answers = reader(args.outputs)
    except (OSError, ValueError, ET.ParseError, KeyError) as e:
        answers = {}
        print(json.dumps({"tool": args.tool, "error": f"{type(e).__name__}: {e}", "targets": len(truth_rows),
                          "answered": 0, "right_own": 0, "right_full": 0, "located": 0, "locatable": 0}))
        return
    print(json.dumps(score(args.tool, truth_rows, answers)))


if __name__ == "__main__":
    main()
