#!/usr/bin/env python3
"""Runs every file of a corpus through `synprobe analyze` (meant for the asan build) and
tabulates the outcomes: read (exit 0), rejected (exit 3, by reason), damaged (exit 4),
and anything else: a crash, a sanitizer report (ASan, UBSan, LeakSanitizer), or a hang.

  robustness.py SYNPROBE CORPUS_DIR [--timeout SECONDS] [--markdown]

Exit status 1 when any file crashed, hung, leaked or broke the one-line-on-stderr rule.
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import time

SANITIZER = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: \w+Sanitizer")


def reason_of(line, path):
    """The reason of a refusal, without the file's name and the particulars."""
    text = line.removeprefix("synprobe: ").replace("input damaged, results cover what came before: ", "").replace(path, "FILE")
    for pattern, reason in [
        (r"unsupported link type", "unsupported link type"),
        (r"not a pcap or pcapng file", "not a pcap or pcapng file"),
        (r"empty file", "empty file"),
        (r"too short to be a capture", "too short to be a capture file"),
        (r"truncated pcap(ng)? header", "truncated file header"),
        (r"pcap(ng)? version", "unsupported pcap/pcapng version"),
        (r"impossible length|mismatched length|claims .* bytes", "bogus record/block length"),
        (r"ends (in|inside)", "file ends inside a record/block"),
        (r"never described", "packet names an undeclared interface"),
        (r"byte-order magic", "bad section byte-order magic"),
    ]:
        if re.search(pattern, text):
            return reason
    return re.sub(r"\d+", "N", text)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("synprobe")
    parser.add_argument("corpus")
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()

    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0", UBSAN_OPTIONS="print_stacktrace=1")
    files = sorted(f for f in os.listdir(args.corpus)
                   if os.path.isfile(os.path.join(args.corpus, f)) and not f.endswith((".tsv", ".md")))
    outcomes = collections.Counter()
    rejected = collections.Counter()
    damaged = collections.Counter()
    bad = []
    slowest = (0.0, "")
    start = time.monotonic()
    for name in files:
        path = os.path.join(args.corpus, name)
        t0 = time.monotonic()
        try:
            p = subprocess.run([args.synprobe, "analyze", path, "--json", "-o", os.devnull],
                               capture_output=True, text=True, errors="replace", timeout=args.timeout, env=env)
        except subprocess.TimeoutExpired:
            outcomes["hung"] += 1
            bad.append((name, "hung", f"no exit after {args.timeout} s"))
            continue
        took = time.monotonic() - t0
        slowest = max(slowest, (took, name))
        lines = p.stderr.splitlines()
        if SANITIZER.search(p.stderr) or p.returncode not in (0, 3, 4):
            outcomes["crashed"] += 1
            bad.append((name, f"exit {p.returncode}", p.stderr[-2000:]))
        elif p.returncode == 0:
            outcomes["read"] += 1
            if p.stderr:
                bad.append((name, "exit 0 with stderr", p.stderr[:300]))
        else:
            if len(lines) != 1 or not lines[0].startswith("synprobe: "):
                bad.append((name, f"exit {p.returncode}: stderr is not one line", p.stderr[:500]))
            key = "rejected" if p.returncode == 3 else "damaged"
            outcomes[key] += 1
            (rejected if p.returncode == 3 else damaged)[reason_of(lines[0] if lines else "", path)] += 1
    elapsed = time.monotonic() - start

    print(f"{len(files)} files in {elapsed:.0f} s (slowest {slowest[0]:.1f} s: {slowest[1]}), timeout {args.timeout:g} s per file")
    print()
    print("| outcome | files | reasons |")
    print("|---|---|---|")
    print(f"| read (exit 0) | {outcomes['read']} | |")
    print(f"| rejected (exit 3) | {outcomes['rejected']} | "
          + "; ".join(f"{r}: {n}" for r, n in rejected.most_common()) + " |")
    print(f"| damaged (exit 4) | {outcomes['damaged']} | "
          + "; ".join(f"{r}: {n}" for r, n in damaged.most_common()) + " |")
    print(f"| crashed / sanitizer report / leak | {outcomes['crashed']} | |")
    print(f"| hung (> {args.timeout:g} s) | {outcomes['hung']} | |")
    for name, what, detail in bad:
        print(f"\n{name}: {what}\n{detail}", file=sys.stderr)
    return 1 if outcomes["crashed"] or outcomes["hung"] or bad else 0


if __name__ == "__main__":
    sys.exit(main())
