#!/usr/bin/python3
"""Checks the reports for people against each sample's known truth (expected.json).

For every sample: `synprobe analyze --report x.md` and `--report x.html`; every attempt's
finding paragraph (the first paragraph of its section) must name the true refuser and hop
in words, the HTML must be one self-contained page (no external fetch, no script) with a
path diagram, and `synprobe report` must re-render the JSON to the same Markdown.
"""
import argparse
import json
import pathlib
import re
import subprocess
import sys
import tempfile


def expected_phrase(want):
    """The words the finding must contain, from the truth of how the sample was made.
    Where the capture cannot show part of the truth (expected.json "capture_cannot_tell"),
    the finding must say so instead of naming it."""
    v, hop, responder = want["verdict"], want.get("hop"), want.get("responder")
    unseen = want.get("capture_cannot_tell", [])
    if "verdict" in unseen:
        return ["cannot tell"]
    if v == "refused-by-middlebox" and "hop" in unseen:
        return ["refused by the device at a hop between", "not by the server"]
    if v == "open":
        return ["are accepted"]
    if v == "refused-by-host":
        return ["refused by the server itself", f"hop {hop}"]
    if v == "refused-by-middlebox":
        return [f"refused by the device at hop {hop}", "not by the server"]
    if v == "injected-reset":
        return [f"reset by a device at hop {hop}", "forges"]
    if v == "icmp-unreachable" and want.get("cause") == "no-host-at-address":
        return [f"refused by the router at hop {hop} ({responder})", "no device answered", "stale"]
    if v == "icmp-unreachable":
        if want["actor"] == "host":
            return ["refused by the server itself", "ICMP"]
        return [f"refused by the router at hop {hop} ({responder})", "ICMP"]
    if v == "dropped":
        return ["drop"]
    if v == "inconclusive":
        return ["does not support a verdict"]
    raise ValueError(v)


def sections(markdown):
    """{(family, dst, dport): [first paragraph of each attempt's section, in order]} from a
    report with several attempts (a control and a refused request share their port)."""
    out = {}
    for m in re.finditer(r"^### (\S+) → (\S+)/tcp\n\n(.+?)\n", markdown, re.M):
        target = m.group(2)
        if target.startswith("["):
            dst, port = target[1:].split("]:")
            fam = 6
        else:
            dst, port = target.rsplit(":", 1)
            fam = 4
        out.setdefault((fam, dst, int(port)), []).append(m.group(3))
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--synprobe", required=True)
    p.add_argument("--samples", required=True, type=pathlib.Path)
    args = p.parse_args()
    failed = passed = 0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        for case in sorted(c.parent for c in args.samples.glob("*/expected.json")):
            expected = json.loads((case / "expected.json").read_text())
            md, html = tmp / f"{case.name}.md", tmp / f"{case.name}.html"
            js = tmp / f"{case.name}.md.json"  # the JSON of the same run as the Markdown
            capture = case / "capture.pcapng"
            for report in (md, html):
                run = subprocess.run([args.synprobe, "analyze", str(capture), "--report", str(report), "--json",
                                      "-o", str(report) + ".json"], capture_output=True, text=True, timeout=60)
                if run.returncode != 0:
                    print(f"FAIL {case.name}: analyze --report {report.suffix}: {run.stderr.strip()}")
                    failed += 1
                    continue
            problems = []
            text = md.read_text()
            found = sections(text)
            for want in expected["attempts"]:
                if want.get("probe") and want["verdict"] == "inconclusive":
                    continue  # a traceroute's expired probe: the port's finding is its refusal
                key = (want["family"], want["dst"], want["dport"])
                paras = found.get(key)
                if not paras:
                    problems.append(f"{key}: no section in the Markdown report")
                    continue
                # Each expected attempt takes the first finding of its port that says all of it.
                phrases = expected_phrase(want)
                match = next((q for q in paras if all(ph in q for ph in phrases)), None)
                if match is None:
                    problems.append(f"{key}: no finding says {phrases}: {paras}")
                    continue
                paras.remove(match)
                # A refusal after the request names its control, when the capture holds one.
                control = next((c for c in expected["attempts"]
                                if want.get("stage") == "request" and want["verdict"] != "open"
                                and (c["family"], c["dst"], c["dport"]) == key and c["verdict"] == "open"
                                and c.get("stage") == "request" and c.get("trigger") != want.get("trigger")), None)
                if control and f"answered the request for" not in text:
                    problems.append(f"{key}: the refusal of {want.get('trigger')} does not name its control "
                                    f"({control.get('trigger')})")
                elif control and control.get("trigger") and control["trigger"] not in text:
                    problems.append(f"{key}: the control's trigger {control['trigger']} is not in the report")
            page = html.read_text()
            if "<svg" not in page or "</svg>" not in page:
                problems.append("HTML has no path diagram")
            if re.search(r"<script|<link |src=\"http|href=\"http|@import", page):
                problems.append("HTML is not self-contained")
            if "@media print" not in page:
                problems.append("HTML has no print stylesheet")
            rerender = subprocess.run([args.synprobe, "report", str(js), "--format", "md"], capture_output=True,
                                      text=True, timeout=60)
            if rerender.returncode != 0 or rerender.stdout != text:
                problems.append("synprobe report does not re-render the same Markdown from the JSON")
            status = "FAIL" if problems else "ok"
            print(f"{status:4} {case.name}")
            for pr in problems:
                print(f"     {pr}")
            failed += bool(problems)
            passed += not problems
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
