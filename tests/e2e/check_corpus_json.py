#!/usr/bin/python3
"""Validates synprobe's JSON on captures nobody here made (../shared/corpus/outcomes).

Skips (exit 77) when the corpus is absent. Every file must analyse with exit code 0 or 4
(damaged input, results still complete), produce schema-valid JSON, and every attempt's
answers must really match it: SYN/ACK and RST/ACK acknowledge ISN+1 (up to ISN+1+data
for a Fast Open SYN).

With a fourth argument, the hand-derived table (corpus_outcomes_expected.json, read from the
packets with tshark, docs/CORPUS.md) is checked too: every attempt it lists with a determined
outcome must get that verdict (and actor, when the table names one); an "undetermined" attempt
must be inconclusive or carry a confidence of at most 0.6 (the tool may reason further, from the
client's behaviour for example: printed as info); a file's aggregate "counts" must match exactly
(an attempt counts as undetermined only when inconclusive or at most 0.6 sure); in a file without
counts, every attempt synprobe reports must be in the table and every row must be found.
"""
import collections
import ipaddress
import json
import pathlib
import subprocess
import sys

import jsonschema

import decisive


def main():
    synprobe, corpus, schema = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
    if not corpus.is_dir():
        print(f"corpus absent: {corpus}")
        return 77
    validator = jsonschema.Draft202012Validator(json.loads(schema.read_text()))
    results = {}
    failed = passed = 0
    for capture in sorted(corpus.iterdir()):
        run = subprocess.run([synprobe, "analyze", str(capture), "--json"],
                             capture_output=True, text=True, timeout=60)
        problems = []
        if run.returncode not in (0, 4):
            problems.append(f"exit {run.returncode}: {run.stderr.strip()}")
        else:
            result = json.loads(run.stdout)
            results[capture.name] = result
            problems += [e.message for e in validator.iter_errors(result)]
            for a in result["attempts"]:
                problems += decisive.contradictions(a)
            for a in result["attempts"]:
                for x in a["answers"]:
                    if x["kind"] == "syn-ack" or (x["kind"] == "reset" and "ACK" in x["flags"]):
                        # ISN+1, or up to ISN+1+data for a Fast Open SYN (RFC 7413)
                        if (x["ack"] - a["isn"] - 1) % 2**32 > a.get("syn_data", 0):
                            problems.append(f"attempt {a['id']}: {x['kind']} ack {x['ack']} != ISN+1")
        if problems:
            failed += 1
            print(f"FAIL {capture.name}: {problems[:3]}")
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    if len(sys.argv) > 4:
        if not check_table(json.loads(pathlib.Path(sys.argv[4]).read_text()), results, corpus):
            failed += 1
    return 1 if failed else 0


UNDETERMINED = "undetermined"


def key(src, sport, dst, dport, isn):
    return (ipaddress.ip_address(src), int(sport), ipaddress.ip_address(dst), int(dport), int(isn))


def undetermined_ok(attempt):
    """The tool may go further than the packets decide, but not with confidence."""
    return attempt["verdict"] == "inconclusive" or attempt["confidence"] <= 0.6


def show(a):
    return f"{a['verdict']} ({a.get('actor')}, {a['confidence']:.2f}, rule {a.get('rule', '?')}, stage {a.get('stage', 'syn')})"


def check_counts(expected, attempts):
    """An assignment of synprobe's attempts to the table's buckets must exist: an attempt goes
    to the bucket of its verdict, or to "undetermined" when inconclusive or at most 0.6 sure."""
    n = collections.Counter(a["verdict"] for a in attempts)
    low = collections.Counter(a["verdict"] for a in attempts if undetermined_ok(a))
    problems, moved = [], 0
    for verdict in sorted(set(n) | set(expected) - {UNDETERMINED}):
        want, have = expected.get(verdict, 0), n.get(verdict, 0)
        extra = have - want  # these must be the undetermined ones
        if extra < 0 or extra > low.get(verdict, 0):
            problems.append(f"{verdict}: table {want}, synprobe {have} ({low.get(verdict, 0)} of them inconclusive or <= 0.6)")
        else:
            moved += extra
    if not problems and moved != expected.get(UNDETERMINED, 0):
        problems.append(f"undetermined: table {expected.get(UNDETERMINED, 0)}, synprobe {moved} inconclusive or <= 0.6 beyond the determined counts")
    return problems


def check_table(table, results, corpus):
    """Compares synprobe's verdicts with the hand-derived table; returns True when they agree."""
    determined = agree = undetermined = 0
    disagreements, infos, known = [], [], []
    for name in sorted(table["files"]):
        entry = table["files"][name]
        if name not in results:
            disagreements.append(f"{name}: no result from synprobe (missing from {corpus} or not analysed)")
            print(f"TABLE {name}: no result")
            continue
        got = collections.defaultdict(list)
        for a in results[name]["attempts"]:
            got[key(a["src"], a["sport"], a["dst"], a["dport"], a["isn"])].append(a)
        file_bad = []
        seen = set()
        for row in entry.get("attempts", []):
            k = key(row["client"], row["sport"], row["server"], row["dport"], row["isn"])
            seen.add(k)
            label = f"{row['client']}:{row['sport']} -> {row['server']}:{row['dport']} isn {row['isn']}"
            if "counts" not in entry:
                if row["outcome"] == UNDETERMINED:
                    undetermined += 1
                else:
                    determined += 1
            if not got.get(k):
                file_bad.append(f"{label}: table {row['outcome']}, synprobe has no such attempt")
                continue
            a = got[k].pop(0)
            if "known_disagreement" in row:
                # A disagreement the table keeps on purpose: synprobe is wrong here and
                # docs/CORPUS.md says why and what it would take. It must stay wrong the
                # same way: once synprobe gets it right, the mark must go.
                if a["verdict"] == row["known_disagreement"]["synprobe"]:
                    known.append(f"{name} {label}: table {row['outcome']}, synprobe {show(a)}: "
                                 f"{row['known_disagreement']['why']}")
                else:
                    file_bad.append(f"{label}: marked as a known disagreement (synprobe "
                                    f"{row['known_disagreement']['synprobe']}), synprobe now says {show(a)}: "
                                    f"update the table")
                continue
            if row["outcome"] == UNDETERMINED:
                if undetermined_ok(a):
                    infos.append(f"{name} {label}: undetermined, synprobe {show(a)}")
                else:
                    file_bad.append(f"{label}: table undetermined ({row['reason']}), synprobe {show(a)}")
            elif (a["verdict"] != row["outcome"] or ("actor" in row and a["actor"] != row["actor"])
                  or ("stage" in row and a.get("stage", "syn") != row["stage"])):
                want = row["outcome"] + (f" ({row['actor']})" if "actor" in row else "") + \
                    (f" at stage {row['stage']}" if "stage" in row else "")
                file_bad.append(f"{label}: table {want} ({row['reason']}), synprobe {show(a)}")
            elif "counts" not in entry:
                agree += 1
        if "counts" in entry:
            counts = entry["counts"]
            problems = check_counts(counts, results[name]["attempts"])
            if problems and file_bad:  # the rows already name the attempts behind the counts
                problems = [f"(counts) {p}" for p in problems]
                notes = problems
            else:
                notes = []
            file_bad += [p for p in problems if p not in notes]
            undetermined += counts.get(UNDETERMINED, 0)
            d = sum(v for k2, v in counts.items() if k2 != UNDETERMINED)
            determined += d
            n = collections.Counter(a["verdict"] for a in results[name]["attempts"])
            agree += sum(min(v, n.get(k2, 0)) for k2, v in counts.items() if k2 != UNDETERMINED)
        else:
            extra = [a for k2, lst in got.items() for a in lst]
            file_bad += [f"{a['src']}:{a['sport']} -> {a['dst']}:{a['dport']} isn {a['isn']}: synprobe {show(a)}, not an attempt in the table"
                         for a in extra]
        rows = len(entry.get("attempts", []))
        scope = f"counts {entry['counts']}" if "counts" in entry else f"{rows} attempts"
        if file_bad:
            print(f"TABLE DISAGREE {name} ({scope}):")
            for b in file_bad + (notes if "counts" in entry else []):
                print(f"    {b}")
            disagreements += [f"{name}: {b}" for b in file_bad]
        else:
            print(f"TABLE ok {name} ({scope})")
    for i in infos:
        print(f"info: {i}")
    for k in known:
        print(f"KNOWN: {k}")
    print(f"{determined} attempts determined, {agree} agree, {undetermined} undetermined; "
          f"{len(known)} known disagreements (docs/CORPUS.md), {len(disagreements)} new disagreements")
    return not disagreements


if __name__ == "__main__":
    sys.exit(main())
