#!/usr/bin/python3
"""Runs `synprobe analyze --json` on every sample and compares with its expected.json.

The expected files are written from how each sample was made (samples/*/README.md), not
from synprobe's output. Every attempt the sample lists must be found with the expected
verdict, actor, responder and hop, and synprobe must find no attempt the sample does not
list. The JSON is also validated against docs/schema/synprobe.schema.json.
"""
import argparse
import json
import pathlib
import subprocess
import sys

import jsonschema

FIELDS = ("verdict", "actor", "responder", "hop")


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

    found = {}
    for a in result["attempts"]:
        found.setdefault((a["family"], a["dst"], a["dport"]), []).append(a)
    for want in expected["attempts"]:
        key = (want["family"], want["dst"], want["dport"])
        got = found.pop(key, [])
        if len(got) != 1:
            problems.append(f"{key}: expected one attempt, found {len(got)}")
            continue
        for field in FIELDS:
            if field in want and got[0][field] != want[field]:
                problems.append(f"{key}: {field} is {got[0][field]!r}, expected {want[field]!r} "
                                f"(evidence: {[e['signal'] for e in got[0]['evidence']]})")
    for key, extra in found.items():
        problems.append(f"{key}: {len(extra)} attempt(s) not listed in expected.json")
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
