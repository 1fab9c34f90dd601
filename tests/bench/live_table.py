#!/usr/bin/env python3
"""Prints the table of tests/bench/live.sh from its results.jsonl (one line per run).

Per part and tool configuration: runs, best and median wall time, targets per second
(at the median), the fewest verdicts right over the runs (synprobe's classes, and the tool's
own coarser classes), and the ratio of the median wall time to synprobe's (--no-trace).
"""
import json
import statistics
import sys

LABELS = {
    "synprobe-notrace": "synprobe probe --no-trace",
    "synprobe-count1": "synprobe probe --no-trace --count 1",
    "synprobe-auto": "synprobe probe (auto trace)",
    "nmap-default": "nmap -sS (default timing)",
    "nmap-minrate": "nmap -sS --min-rate",
    "masscan": "masscan --show closed",
}
PARTS = {"ports": "(a) ports of one host", "hosts": "(b) host:port pairs over {hosts} hosts",
         "hosts1000": "(c) {hosts} hosts, one port each"}


def line():
    """One run (a results.jsonl line on stdin), on one line, for the log."""
    s = json.loads(sys.stdin.read())
    print(f"{s['part']:6} {s['config']:17} run {s['run']}: {s['wall']:8.3f} s  right {s['right_full']}/{s['targets']}"
          f" (own classes {s['right_own']})  load {s['load']}  exit {' '.join(s['exit'])}"
          + (f"  capture drops {s['kernel_drops']}" if s.get("kernel_drops") else ""))


def main():
    if sys.argv[1:] == ["--line"]:
        return line()
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    by = {}
    for r in rows:
        by.setdefault((r["part"], r["config"]), []).append(r)
    for part in dict.fromkeys(r["part"] for r in rows):
        ref = [r["wall"] for r in by.get((part, "synprobe-notrace"), [])]
        ref_med = statistics.median(ref) if ref else None
        first = next(r for r in rows if r["part"] == part)
        n = first["targets"]
        print(f"\n{PARTS.get(part, part).format(hosts=first.get('hosts', '?'))}: {n} targets")
        print("| tool | runs | wall best s | wall median s | targets/s | right (synprobe classes) | "
              "right (own classes) | located | load | x synprobe |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|")
        for (p, config), runs in by.items():
            if p != part:
                continue
            walls = [r["wall"] for r in runs]
            med = statistics.median(walls)
            full = min(r["right_full"] for r in runs)
            own = min(r["right_own"] for r in runs)
            located = (f"{min(r['located'] for r in runs)}/{runs[0]['locatable']}"
                       if runs[0]["tool"] == "synprobe" else "-")
            drops = max((r.get("kernel_drops") or 0) for r in runs)
            note = f" (capture drops ≤ {drops})" if drops else ""
            failed = [e for r in runs for e in r["exit"] if e != "0"]
            if failed:
                note += f" exit {' '.join(failed)}"
            loads = [r["load"] for r in runs]
            ratio = f"{med / ref_med:.2f}" if ref_med else "-"
            print(f"| {LABELS.get(config, config)}{note} | {len(runs)} | {min(walls):.2f} | {med:.2f} | "
                  f"{n / med:,.0f} | {full}/{n} | {own}/{n} | {located} | {min(loads):.1f}–{max(loads):.1f} | {ratio} |")
        print("commands:")
        for (p, config), runs in by.items():
            if p == part:
                cmd = runs[0]["command"]
                print(f"  {config}: {cmd if len(cmd) < 300 else cmd[:300] + ' ...'}")


if __name__ == "__main__":
    main()
