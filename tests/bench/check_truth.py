#!/usr/bin/env python3
"""Compares synprobe's verdicts with the generator's truth file.

    check_truth.py TRUTH.jsonl SYNPROBE.json [--show N]

Every attempt in the truth file must appear in synprobe's JSON (matched by src, sport, dst,
dport and ISN) with the same verdict, actor and hop; synprobe must report no attempt that the
truth does not hold. Prints counts per generated outcome and the first N mismatches with
synprobe's evidence. Exit status 0 when all agree, 1 otherwise, 2 on unusable input.

Memory stays small whatever the file's size (10^7 attempts, several GB of JSON): synprobe's
attempts are read one at a time from its pretty-printed output, and the truth, written in
nearly the same order (that of the attempts' first SYNs), is read just as far as needed.
"""
import argparse
import collections
import functools
import ipaddress
import json
import sys


@functools.lru_cache(maxsize=1 << 16)
def address(text):
    return ipaddress.ip_address(text)


def key(src, sport, dst, dport, isn):
    return (address(src), int(sport), address(dst), int(dport), int(isn))


def synprobe_attempts(path, tail):
    """Yields synprobe's attempts one by one from its JSON (the writer puts each attempt
    between a line "    {" and a line "    }" or "    },"), then fills `tail` with the rest
    of the document parsed (the attempts list empty)."""
    head, chunk, rest = [], None, []
    state = "head"
    with open(path) as f:
        for line in f:
            if state == "head":
                head.append(line)
                if line.strip() == '"attempts": [':
                    state = "list"
                elif line.strip() == '"attempts": [],':
                    state = "tail"
            elif state == "list":
                stripped = line.strip()
                if chunk is None:
                    if stripped == "{":
                        chunk = [line]
                    elif stripped in ("],", "]"):
                        state = "tail"
                        rest.append(line)
                    else:
                        raise ValueError(f"unexpected line in the attempts list: {stripped[:60]}")
                else:
                    chunk.append(line)
                    if line.startswith("    }") and stripped in ("}", "},"):
                        text = "".join(chunk).rstrip().rstrip(",")
                        chunk = None
                        yield json.loads(text)
            else:
                rest.append(line)
    if state == "head":
        raise ValueError("no attempts list")
    text = "".join(head) + "".join(rest)
    tail.update(json.loads(text))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("truth")
    ap.add_argument("report")
    ap.add_argument("--show", type=int, default=5, help="mismatches to print in full")
    args = ap.parse_args()

    truth_file = open(args.truth)
    pending = {}  # truth read ahead of synprobe's order
    truth_count = 0

    def truth_lookup(k):
        nonlocal truth_count
        if k in pending:
            return pending.pop(k)
        for line in truth_file:
            t = json.loads(line)
            truth_count += 1
            tk = key(t["src"], t["sport"], t["dst"], t["dport"], t["isn"])
            if tk == k:
                return t
            pending[tk] = t
        return None

    per_kind = collections.defaultdict(lambda: [0, 0])  # right, wrong
    wrong = []
    extra = []
    wrong_count = extra_count = listed = 0
    tail = {}
    try:
        for a in synprobe_attempts(args.report, tail):
            listed += 1
            k = key(a["src"], a["sport"], a["dst"], a["dport"], a["isn"])
            t = truth_lookup(k)
            if t is None:
                extra_count += 1
                if len(extra) < args.show:
                    extra.append(a)
                continue
            got = (a["verdict"], a["actor"], a["hop"])
            want = (t["verdict"], t["actor"], t["hop"])
            if got == want:
                per_kind[t["kind"]][0] += 1
            else:
                per_kind[t["kind"]][1] += 1
                wrong_count += 1
                if len(wrong) < 10000:
                    wrong.append((t, a))
    except (OSError, ValueError) as e:
        print(f"check_truth: cannot read synprobe's JSON: {e}", file=sys.stderr)
        return 2
    missing = list(pending.values())
    for line in truth_file:
        truth_count += 1
        missing.append(json.loads(line))
    truth_count_all = truth_count

    right = sum(r for r, _ in per_kind.values())
    print(f"correctness: {truth_count_all} attempts in the truth, {listed} in synprobe's output")
    print(f"  {'outcome':28} {'right':>7} {'wrong':>7}")
    for kind in sorted(per_kind):
        r, w = per_kind[kind]
        print(f"  {kind:28} {r:7} {w:7}")
    print(f"  right {right}, wrong {wrong_count}, missing {len(missing)}, extra {extra_count}")
    early = tail.get("input", {}).get("attempts_judged_early")
    if early:
        print(f"  synprobe judged {early} attempts before they settled, to bound memory")

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
    return 0 if not wrong_count and not missing and not extra_count else 1


if __name__ == "__main__":
    sys.exit(main())
