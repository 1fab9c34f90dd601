#!/usr/bin/env python3
"""Compares synprobe's verdicts with the generator's truth file.

    check_truth.py TRUTH.jsonl SYNPROBE.json [--show N]

Every attempt in the truth file must appear in synprobe's JSON (matched by src, sport, dst,
dport and ISN) with the same verdict, actor and hop; synprobe must report no attempt that the
truth does not hold. Prints counts per generated outcome and the first N mismatches with
synprobe's evidence. Exit status 0 when all agree, 1 otherwise, 2 on unusable input.
"""
import argparse
import collections
import ipaddress
import json
import sys


def key(src, sport, dst, dport, isn):
    return (ipaddress.ip_address(src), int(sport), ipaddress.ip_address(dst), int(dport), int(isn))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("truth")
    ap.add_argument("report")
    ap.add_argument("--show", type=int, default=5, help="mismatches to print in full")
    args = ap.parse_args()

    truth = {}
    with open(args.truth) as f:
        for line in f:
            t = json.loads(line)
            truth[key(t["src"], t["sport"], t["dst"], t["dport"], t["isn"])] = t
    try:
        with open(args.report) as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        print(f"check_truth: cannot read synprobe's JSON: {e}", file=sys.stderr)
        return 2

    seen = set()
    per_kind = collections.defaultdict(lambda: [0, 0])  # right, wrong
    wrong = []
    extra = []
    for a in report["attempts"]:
        k = key(a["src"], a["sport"], a["dst"], a["dport"], a["isn"])
        t = truth.get(k)
        if t is None:
            extra.append(a)
            continue
        seen.add(k)
        got = (a["verdict"], a["actor"], a["hop"])
        want = (t["verdict"], t["actor"], t["hop"])
        if got == want:
            per_kind[t["kind"]][0] += 1
        else:
            per_kind[t["kind"]][1] += 1
            wrong.append((t, a))
    missing = [t for k, t in truth.items() if k not in seen]

    right = sum(r for r, _ in per_kind.values())
    print(f"correctness: {len(truth)} attempts in the truth, {len(report['attempts'])} in synprobe's output")
    print(f"  {'outcome':28} {'right':>7} {'wrong':>7}")
    for kind in sorted(per_kind):
        r, w = per_kind[kind]
        print(f"  {kind:28} {r:7} {w:7}")
    print(f"  right {right}, wrong {len(wrong)}, missing {len(missing)}, extra {len(extra)}")

    if wrong:
        confusion = collections.Counter(
            (t["kind"], f"{a['verdict']}/{a['actor']}/hop {a['hop']} vs truth hop {t['hop']}")
            for t, a in wrong)
        print("  wrong verdicts by outcome (synprobe said):")
        for (kind, said), n in confusion.most_common(10):
            print(f"    {n:6}  {kind}: {said}")
    for t, a in wrong[: args.show]:
        print(f"  MISMATCH {t['src']}:{t['sport']} -> {t['dst']}:{t['dport']} isn {t['isn']} ({t['kind']})")
        print(f"    truth:    {t['verdict']} / {t['actor']} / hop {t['hop']}"
              f" (host initial TTL {t['host_initial_ttl']}, hop {t['host_hop']};"
              f" device initial TTL {t['device_initial_ttl']})")
        print(f"    synprobe: {a['verdict']} / {a['actor']} / hop {a['hop']}, confidence {a['confidence']}")
        for e in a["evidence"]:
            print(f"      - {e['signal']}: {e['detail']}")
    for t in missing[: args.show]:
        print(f"  MISSING {t['src']}:{t['sport']} -> {t['dst']}:{t['dport']} isn {t['isn']} ({t['kind']})")
    for a in extra[: args.show]:
        print(f"  EXTRA {a['src']}:{a['sport']} -> {a['dst']}:{a['dport']} isn {a['isn']}: {a['verdict']}")
    return 0 if not wrong and not missing and not extra else 1


if __name__ == "__main__":
    sys.exit(main())
