#!/usr/bin/env python3
"""Reads one run of tests/bench/trace.sh and says what the tool concluded and whether it
names the right hop.

  trace_score.py line TOOL PORT OUTPUT WALL LOAD EXIT   -> one JSON line (results.jsonl)
  trace_score.py table RESULTS.jsonl                      -> the table

Truth (tests/lab/lab.sh, seen from the client; r1 198.18.1.2, r2 198.18.2.2, r3 198.18.3.2,
server 198.18.4.10 at hop 4):
  90  r2 REJECT tcp-reset   refused-by-middlebox at hop 2 (198.18.2.2)
  94  r2 DROP               dropped after hop 2 (198.18.2.2 is the last hop that answers)
  85  server DROP           dropped after hop 3 (198.18.3.2 is the last hop that answers)

How each tool's output is read (the reading a user would make, nothing added):
  synprobe   its JSON: verdict, hop, responder (hop_range for drops)
  traceroute the hop lines: if the destination answers at line N, it says "the destination
             is at hop N" (a refusal by the host); if it never does, the last line with an
             address says where the silence starts (a drop after that hop)
  nmap       the port state and reason (closed = a RST: refused by the host; filtered +
             no-response = dropped), and the hop it shows the answering address at; its
             --traceroute hops, which for a filtered port come from other probes, name no
             place of a drop
"""
import json
import re
import statistics
import sys
import xml.etree.ElementTree as ET

SERVER = "198.18.4.10"
TRUTH = {
    90: {"verdict": "refused-by-middlebox", "hop": 2, "address": "198.18.2.2", "what": "r2 REJECT tcp-reset"},
    94: {"verdict": "dropped", "hop": 2, "address": "198.18.2.2", "what": "r2 DROP"},
    85: {"verdict": "dropped", "hop": 3, "address": "198.18.3.2", "what": "server DROP"},
}


def read_synprobe(path):
    text = open(path).read()
    a = json.loads(text[: text.rfind("}") + 1])["attempts"][0]
    said = f"{a['verdict']} hop {a['hop']} {a['responder'] or '?'}"
    if a.get("hop_range"):
        said += f" range {a['hop_range']}"
    return a["verdict"], a["hop"], a["responder"], said


def read_traceroute(path):
    hops = {}
    for line in open(path):
        m = re.match(r"^\s*(\d+)\s+(.*)$", line)
        if not m:
            continue
        addrs = re.findall(r"\b(\d+\.\d+\.\d+\.\d+)\b", m.group(2))
        hops[int(m.group(1))] = addrs[0] if addrs else None
    reached = [h for h, a in sorted(hops.items()) if a == SERVER]
    answered = [h for h, a in sorted(hops.items()) if a]
    if reached:
        return "refused-by-host", reached[0], SERVER, f"destination at hop {reached[0]} ({len(hops)} lines)"
    if answered:
        last = answered[-1]
        return "dropped", last, hops[last], f"silence after hop {last} {hops[last]} ({len(hops)} lines)"
    return "dropped", None, None, f"no answer ({len(hops)} lines)"


def read_nmap(path):
    root = ET.parse(path).getroot()
    host = root.find("host")
    if host is None:
        return "(none)", None, None, "no host in the output"
    st = host.find("ports/port/state")
    if st is None:
        ex = host.find("ports/extraports")
        state, reason = (ex.get("state"), (ex.find("extrareasons").get("reason") if ex.find("extrareasons") is not None else "")) if ex is not None else ("?", "")
    else:
        state, reason = st.get("state"), st.get("reason")
    trace = [(int(h.get("ttl")), h.get("ipaddr")) for h in host.iter("hop")]
    at = [ttl for ttl, a in trace if a == SERVER]
    tr = " ".join(f"{t}:{a}" for t, a in trace)
    if state == "closed":
        return "refused-by-host", (at[0] if at else None), SERVER, f"closed ({reason}); trace {tr}"
    if state == "open":
        return "open", (at[0] if at else None), SERVER, f"open; trace {tr}"
    if state == "filtered" and reason == "no-response":
        # its trace reaches the host by other probes: it does not say where the SYNs die
        return "dropped", None, None, f"filtered (no-response); trace {tr}"
    return f"{state}/{reason}", None, None, f"{state} ({reason}); trace {tr}"


def line(tool, port, path, wall, load, rc):
    port = int(port)
    t = TRUTH[port]
    try:
        verdict, hop, addr, said = {"synprobe-probe": read_synprobe, "synprobe-trace": read_synprobe, "synprobe-fast": read_synprobe,
                                   "traceroute": read_traceroute, "nmap": read_nmap}[tool](path)
    except (OSError, ValueError, KeyError, IndexError, ET.ParseError) as e:
        verdict, hop, addr, said = "(none)", None, None, f"unreadable: {type(e).__name__}"
    right_verdict = verdict == t["verdict"]
    right_hop = right_verdict and hop == t["hop"]
    print(json.dumps({"tool": tool, "port": port, "wall": float(wall), "load": float(load), "exit": rc,
                      "verdict": verdict, "hop": hop, "address": addr, "said": said,
                      "right_verdict": right_verdict, "right_hop": right_hop}))


LABELS = {"synprobe-probe": "synprobe probe", "synprobe-trace": "synprobe trace",
          "synprobe-fast": "synprobe probe --interval 0 --rate 1000",
          "traceroute": "traceroute -T -p P", "nmap": "nmap -sS --traceroute -p P"}


def table(path):
    rows = [json.loads(x) for x in open(path) if x.strip()]
    print("| port (truth) | tool | runs | wall best s | wall median s | says (last run) | right hop | "
          "traceroute ÷ tool (median) |")
    print("|---|---|---:|---:|---:|---|---|---:|")
    for port in dict.fromkeys(r["port"] for r in rows):
        t = TRUTH[port]
        tr = [r["wall"] for r in rows if r["port"] == port and r["tool"] == "traceroute"]
        tr_med = statistics.median(tr) if tr else None
        for tool in dict.fromkeys(r["tool"] for r in rows if r["port"] == port):
            runs = [r for r in rows if r["port"] == port and r["tool"] == tool]
            walls = [r["wall"] for r in runs]
            med = statistics.median(walls)
            right = sum(r["right_hop"] for r in runs)
            ratio = "-" if not tr_med else f"{tr_med / med:.2f}" if tr_med < med else f"{tr_med / med:.1f}"
            bad = [r["exit"] for r in runs if str(r["exit"]) != "0"]
            exits = f" (exit {' '.join(map(str, bad))})" if bad else ""
            print(f"| {port} ({t['what']}: {t['verdict']}, hop {t['hop']}) | {LABELS.get(tool, tool)}{exits} | "
                  f"{len(runs)} | {min(walls):.2f} | {med:.2f} | {runs[-1]['said']} | {right}/{len(runs)} | {ratio} |")
    loads = [r["load"] for r in rows]
    print(f"\nload average (1 min) before the runs: {min(loads):.2f}–{max(loads):.2f}")


if __name__ == "__main__":
    if len(sys.argv) == 8 and sys.argv[1] == "line":
        line(*sys.argv[2:])
    elif sys.argv[1:] == ["logline"]:
        s = json.loads(sys.stdin.read())
        print(f"{s['port']} {s['tool']:15} {s['wall']:7.2f} s  {s['said']}  right hop: {s['right_hop']}  load {s['load']}")
    elif len(sys.argv) == 3 and sys.argv[1] == "table":
        table(sys.argv[2])
    else:
        sys.exit(__doc__)
