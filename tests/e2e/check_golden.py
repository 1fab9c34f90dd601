#!/usr/bin/python3
"""Golden-file test of every output format, built from samples.

For each case below: `synprobe analyze` the sample to JSON, pin the fields that change
from run to run (command, start/end time, input path), and re-render it with
`synprobe report` as text, Markdown, HTML and JSON; each must equal tests/golden/<case>.*
byte for byte. The golden files were read by a person against the sample's truth
(samples/<case>/README.md) before they were committed; `--update` rewrites them, after
which they must be read again.
"""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

CASES = ["router-reject-rst", "router-icmp-admin-prohibited", "injected-reset", "host-drop"]
FORMATS = {"text": "txt", "md": "md", "html": "html", "json": "json"}
PINNED_TIME = "2026-01-01T00:00:00.000000000Z"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--synprobe", required=True)
    p.add_argument("--samples", required=True, type=pathlib.Path)
    p.add_argument("--golden", required=True, type=pathlib.Path)
    p.add_argument("--update", action="store_true")
    args = p.parse_args()
    failed = passed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            run = subprocess.run([args.synprobe, "analyze", str(args.samples / case / "capture.pcapng"), "--json"],
                                 capture_output=True, text=True, timeout=60, check=True)
            result = json.loads(run.stdout)
            result["command"] = f"synprobe analyze samples/{case}/capture.pcapng --json"
            result["started"] = result["finished"] = PINNED_TIME
            result["input"]["file"] = f"samples/{case}/capture.pcapng"
            # Where it ran: the host name is this machine's; the clients come from the capture.
            result["vantage"]["name"] = result["vantage"]["host"] = "golden"
            pinned = pathlib.Path(tmp) / f"{case}.json"
            pinned.write_text(json.dumps(result, indent=2) + "\n")
            for fmt, ext in FORMATS.items():
                out = subprocess.run([args.synprobe, "report", str(pinned), "--format", fmt], capture_output=True,
                                     text=True, timeout=60, check=True).stdout
                golden = args.golden / f"{case}.{ext}"
                if args.update:
                    golden.write_text(out)
                    continue
                if not golden.exists() or golden.read_text() != out:
                    failed += 1
                    print(f"FAIL {golden.name}: differs from the rendering (diff it with: synprobe report …)")
                else:
                    passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
