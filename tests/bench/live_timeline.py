#!/usr/bin/env python3
"""Where the wall time of a `synprobe probe --json` run went, from the timestamps in its
own JSON (tests/bench/live.sh keeps every run's output; docs/BENCHMARKS-live.md).

  live_timeline.py OUTPUT.json [WALL_SECONDS]

Prints: process start to `started` (when WALL is given: WALL - (finished - started) is the
time outside the measured run: exec, resolving, rendering and writing the JSON), started to
the first SYN, the first to the last SYN of the first SYNs (rate achieved, per 100 ms
window the fewest and most SYNs), the last SYN to `finished` (waiting for answers, tracing,
judging), and the probe summary (packets sent and captured, capture drops).
"""
import datetime
import json
import sys


def ts(text):
    base, _, frac = text.rstrip("Z").partition(".")
    t = datetime.datetime.fromisoformat(base).replace(tzinfo=datetime.timezone.utc).timestamp()
    return t + (int(frac) / 10 ** len(frac) if frac else 0)


def main():
    text = open(sys.argv[1]).read()
    d = json.loads(text[: text.rfind("}") + 1])
    started, finished = ts(d["started"]), ts(d["finished"])
    syns = sorted(ts(s["time"]) for a in d["attempts"] for s in a["syns"] if s["ttl"] == d["probe"]["ttl"])
    answers = sorted(ts(x["time"]) for a in d["attempts"] for x in a["answers"])
    p = d["probe"]
    print(f"targets {len(d['attempts'])}, packets sent {p['packets_sent']}, captured {p['packets_captured']}, "
          f"capture drops {p['kernel_drops']}, rate limit {p['rate_pps']}/s, count {p['count']}, "
          f"timeout {p['timeout_s']} s")
    if len(sys.argv) > 2:
        wall = float(sys.argv[2])
        print(f"outside started..finished (exec, setup, rendering, output): {wall - (finished - started):7.3f} s")
    if syns:
        span = syns[-1] - syns[0]
        bins = {}
        for t in syns:
            bins[int((t - syns[0]) * 10)] = bins.get(int((t - syns[0]) * 10), 0) + 1
        full = [bins.get(i, 0) for i in range(int(span * 10))]  # whole 100 ms windows only
        print(f"started -> first SYN:                                      {syns[0] - started:7.3f} s")
        print(f"first -> last SYN ({len(syns)} SYNs seen in the capture):        {span:7.3f} s "
              f"= {len(syns) / span if span else 0:,.0f} SYN/s"
              + (f" (per 100 ms: {min(full)}..{max(full)})" if full else ""))
        print(f"last SYN -> finished (wait, trace, judge):                 {finished - syns[-1]:7.3f} s")
    if answers and syns:
        print(f"last SYN -> last answer:                                   {answers[-1] - syns[-1]:7.3f} s")
    print(f"started -> finished:                                       {finished - started:7.3f} s")


if __name__ == "__main__":
    main()
