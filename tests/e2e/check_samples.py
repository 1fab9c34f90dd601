#!/usr/bin/python3
"""Runs `synprobe analyze --json` on every sample and compares with its expected.json.

The expected files are written from how each sample was made (samples/*/README.md), not
from synprobe's output. Every attempt the sample lists must be found with the expected
verdict, actor, responder and hop, and synprobe must find no attempt the sample does not
list. Where an expected attempt has "stage" (syn / request: did the client send data
after the handshake) and "trigger" (the TLS server name or HTTP Host it sent; the
request- samples, issue 14), synprobe's attempt must have them too, equal. Several
attempts to one destination port (a traceroute's probes, a control and a refused
request) are matched as a multiset; a field the capture cannot show is accepted otherwise only where synprobe says
it is unsure (see field_problem). The JSON is also validated against docs/schema/synprobe.schema.json.
"""
import argparse
import json
import pathlib
import subprocess
import sys

import jsonschema

import decisive

FIELDS = ("verdict", "actor", "responder", "hop", "cause", "stage", "trigger")
MISSING = object()

# A field the capture cannot show (expected.json "capture_cannot_tell"; the sample's
# README says why) may differ from the truth only where synprobe says it cannot be
# sure: for the verdict, actor and responder a confidence of at most this and a
# "to_settle"; for the hop, null with a hop_range that holds the true hop.
UNSURE_CONFIDENCE = 0.6


def field_problem(want, got, field):
    """Why synprobe's attempt `got` fails the expected `want` on `field`, or None."""
    if field not in want:
        return None
    if got.get(field, MISSING) is MISSING:
        return f"{field} missing from synprobe's attempt, expected {want[field]!r}"
    if got[field] == want[field]:
        return None
    if field in want.get("capture_cannot_tell", []):
        if field == "hop":
            lo_hi = got.get("hop_range")
            if got["hop"] is None and lo_hi and lo_hi[0] <= want["hop"] <= lo_hi[1]:
                return None
        elif got["confidence"] <= UNSURE_CONFIDENCE and got.get("to_settle"):
            return None
        return (f"{field} is {got[field]!r}, expected {want[field]!r}, which the capture cannot "
                f"show, but synprobe does not say it is unsure (confidence {got['confidence']}, "
                f"hop_range {got.get('hop_range')}, to_settle {bool(got.get('to_settle'))})")
    return (f"{field} is {got[field]!r}, expected {want[field]!r} "
            f"(evidence: {[e['signal'] for e in got['evidence']]})")


def match_key(key, wants, gots):
    """Problems matching synprobe's attempts to one (family, dst, dport) against the
    expected ones: as many of each, and each attempt meets one expected entry (an entry
    with "count": N stands for N attempts)."""
    pool = [w for w in wants for _ in range(w.get("count", 1))]
    if len(gots) != len(pool):
        return [f"{key}: expected {len(pool)} attempt(s), found {len(gots)}"]
    problems = []
    for got in sorted(gots, key=lambda a: a["first_seen"]):
        fits = [w for w in pool if not any(field_problem(w, got, f) for f in FIELDS)]
        if fits:
            pool.remove(fits[0])
            continue
        # No entry fits: report against the nearest one (fewest failing fields).
        nearest = min(pool, key=lambda w: sum(bool(field_problem(w, got, f)) for f in FIELDS))
        pool.remove(nearest)
        problems += [f"{key} sport {got['sport']}: {p}"
                     for p in (field_problem(nearest, got, f) for f in FIELDS) if p]
    return problems


def check_case(synprobe, case_dir, validator):
    expected = json.loads((case_dir / "expected.json").read_text())
    capture = case_dir / expected.get("capture", "capture.pcapng")
    run = subprocess.run([synprobe, "analyze", str(capture), "--json"],
                         capture_output=True, text=True, timeout=60)
    if run.returncode != 0:
        return [f"exit code {run.returncode}: {run.stderr.strip()}"]
    result = json.loads(run.stdout)
    problems = [f"schema: {e.message} at {list(e.absolute_path)}"
                for e in validator.iter_errors(result)]

    found, wanted = {}, {}
    for a in result["attempts"]:
        found.setdefault((a["family"], a["dst"], a["dport"]), []).append(a)
    for want in expected["attempts"]:
        wanted.setdefault((want["family"], want["dst"], want["dport"]), []).append(want)
    for key, wants in wanted.items():
        problems += match_key(key, wants, found.pop(key, []))
    for key, extra in found.items():
        problems.append(f"{key}: {len(extra)} attempt(s) not listed in expected.json")
    for a in result["attempts"]:
        problems += decisive.contradictions(a)
    return problems + check_summary(synprobe, capture, result, validator)


def check_summary(synprobe, capture, result, validator):
    """`--summary --json` counts what the full run lists: schema-valid, the same counts."""
    run = subprocess.run([synprobe, "analyze", str(capture), "--summary", "--json"],
                         capture_output=True, text=True, timeout=60)
    if run.returncode != 0:
        return [f"--summary: exit code {run.returncode}: {run.stderr.strip()}"]
    summary = json.loads(run.stdout)
    problems = [f"--summary schema: {e.message} at {list(e.absolute_path)}"
                for e in validator.iter_errors(summary)]
    s = summary["summary"]
    attempts = result["attempts"]
    if summary["attempts"] or s["attempts_listed"] is not False:
        problems.append("--summary listed attempts")
    if s["attempts"] != len(attempts) or s["by_verdict"] != result["summary"]["by_verdict"]:
        problems.append(f"--summary counts {s['attempts']} {s['by_verdict']}, the full run {result['summary']}")
    per_dst = {}
    for a in attempts:
        per_dst[a["dst"]] = per_dst.get(a["dst"], 0) + 1
    top = {d["address"]: d["attempts"] for d in s["destinations"]["top"]}
    if top != per_dst or s["destinations"]["tracked"] != len(per_dst):
        problems.append(f"--summary destinations {top}, the full run {per_dst}")
    refused = {}
    for a in attempts:
        if a["verdict"] != "open":
            k = (a["actor"], a["hop"], a["verdict"])
            refused[k] = refused.get(k, 0) + 1
    got = {(r["actor"], r["hop"], r["verdict"]): r["attempts"] for r in s["refusers"]}
    if got != refused:
        problems.append(f"--summary refusers {got}, the full run {refused}")
    return problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--synprobe", required=True)
    parser.add_argument("--samples", required=True, type=pathlib.Path)
    parser.add_argument("--schema", required=True, type=pathlib.Path)
    parser.add_argument("--min-cases", type=int, default=1)
    args = parser.parse_args()

    validator = jsonschema.Draft202012Validator(json.loads(args.schema.read_text()))
    cases = sorted(p.parent for p in args.samples.glob("*/expected.json"))
    if len(cases) < args.min_cases:
        print(f"only {len(cases)} sample cases under {args.samples}, expected at least {args.min_cases}")
        return 1
    failed = 0
    for case in cases:
        problems = check_case(args.synprobe, case, validator)
        status = "ok" if not problems else "FAIL"
        print(f"{status:4} {case.name}")
        for p in problems:
            print(f"     {p}")
        failed += bool(problems)
    print(f"{len(cases) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
