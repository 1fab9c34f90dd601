#!/usr/bin/python3
"""Validates synprobe's JSON on captures nobody here made (../shared/corpus/outcomes).

Skips (exit 77) when the corpus is absent. Every file must analyse with exit code 0 or 4
(damaged input, results still complete), produce schema-valid JSON, and every attempt's
answers must really match it: SYN/ACK and RST/ACK acknowledge ISN+1 (up to ISN+1+data
for a Fast Open SYN).
"""
import json
import pathlib
import subprocess
import sys

import jsonschema


def main():
    synprobe, corpus, schema = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
    if not corpus.is_dir():
        print(f"corpus absent: {corpus}")
        return 77
    validator = jsonschema.Draft202012Validator(json.loads(schema.read_text()))
    failed = passed = 0
    for capture in sorted(corpus.iterdir()):
        run = subprocess.run([synprobe, "analyze", str(capture), "--json"],
                             capture_output=True, text=True, timeout=60)
        problems = []
        if run.returncode not in (0, 4):
            problems.append(f"exit {run.returncode}: {run.stderr.strip()}")
        else:
            result = json.loads(run.stdout)
            problems += [e.message for e in validator.iter_errors(result)]
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
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
