#!/usr/bin/python3
"""`synprobe merge` end to end (#16): the binary on JSON results, every format, the errors.

The inputs are made here, and each expected finding follows from how they were made:

1. Both sides of a firewall, from a real capture: `analyze` of a sample is the capture
   outside (the client's side); `analyze` of the same capture with a BPF filter that removes
   one port is what a capture behind a firewall dropping that port sees. The SYNs to that
   port are in the outside result only: dropped between the two points; the other port is
   the same everywhere.
2. Three vantage points with traces, from the router-reject-rst sample's real attempts (a
   middlebox two hops out resets port 90; port 80 is open): turned into probe results by
   giving each the hop table a trace in the lab's shape finds. office (198.18.1.2) and vpn
   (198.18.6.2) both reach the middlebox r2 (198.18.2.2) at hop 2, then r3 (198.18.3.2);
   the datacenter (198.18.5.2) reaches r3 directly and never crosses r2, so port 90 is open
   from there. Expected: port 90 refused on the office/vpn side, before the paths join at
   r3; port 80 open everywhere. The same with the datacenter's run two hours later: the
   runs are too far apart to blame a side (the golden result's times are pinned to
   2026-01-01T00:00:00Z, so a change at 01:00 falls between them). The same file twice:
   identical paths, global.
3. A result written before schema 1.1 (no `vantage`) is still merged, named by its file.
4. Errors: fewer than 2 inputs exit 2; missing, directory, not JSON, not synprobe exit 3;
   always one line on stderr.
"""
import copy
import json
import pathlib
import subprocess
import sys
import tempfile

import jsonschema

SYN = sys.argv[1]
ROOT = pathlib.Path(sys.argv[2])
failures = 0
passes = 0


def check(ok, what):
    global failures, passes
    if ok:
        passes += 1
    else:
        failures += 1
        print(f"FAIL {what}")


def run(*args, code=0):
    p = subprocess.run([SYN, *map(str, args)], capture_output=True, text=True, timeout=60)
    check(p.returncode == code, f"synprobe {' '.join(map(str, args))}: exit {p.returncode}, expected {code}: {p.stderr}")
    return p


def target(doc, name):
    for t in doc["targets"]:
        if t["target"] == name:
            return t
    check(False, f"no target {name}")
    return {"kind": None, "finding": "", "fates": [], "join": None}


def hop(n, address, answer="time-exceeded"):
    return {"hop": n, "address": address, "addresses": [address] if address else [], "rtt_ms": 1.0 * n,
            "answers": [answer] * 3, "majority": answer, "icmp": None, "refuser": False, "changes": []}


def as_probe(doc, name, first_hop, source, paths, shift_s=0):
    """The analyze result `doc` as a probe run from `name`: its IPv4 attempts, each with the
    hop table `paths[port]` (addresses in order; the destination last when it answered)."""
    out = copy.deepcopy(doc)
    out["mode"] = "probe"
    del out["input"]
    out["probe"] = {"interfaces": ["eth0"], "sources": [source], "next_hops": [first_hop], "source_port": 40000,
                    "count": 1, "ttl": 64, "interval_s": 1, "timeout_s": 3, "rate_pps": 100, "baseline": True,
                    "control_ports": [443, 80], "packets_sent": 10, "packets_captured": 10, "kernel_drops": 0,
                    "user": "nobody", "evidence_file": None}
    out["vantage"] = {"name": name, "host": name + "-host", "sources": [source], "interfaces": ["eth0"],
                      "first_hop": first_hop}
    out["attempts"] = []
    for a in doc["attempts"]:
        if a["family"] != 4:
            continue
        a = copy.deepcopy(a)
        a["src"] = source
        path = paths[a["dport"]]
        a["hops"] = [hop(i + 1, addr, "reset" if addr == a["dst"] else "time-exceeded") for i, addr in enumerate(path)]
        if path[-1] == a["dst"]:
            a.update(verdict="open", actor="host", responder=a["dst"], hop=len(path), rule="syn-ack")
        else:
            a.update(verdict="refused-by-middlebox", actor="middlebox", responder=path[-1], hop=len(path))
            a["hops"][-1]["refuser"] = True
        out["attempts"].append(a)
    if shift_s:
        import datetime
        for key in ("started", "finished"):
            t = datetime.datetime.strptime(out[key][:19], "%Y-%m-%dT%H:%M:%S") + datetime.timedelta(seconds=shift_s)
            out[key] = t.strftime("%Y-%m-%dT%H:%M:%S") + out[key][19:]
    return out


def main():
    merge_schema = jsonschema.Draft202012Validator(json.loads((ROOT / "docs/schema/synprobe-merge.schema.json").read_text()))
    result_schema = jsonschema.Draft202012Validator(json.loads((ROOT / "docs/schema/synprobe.schema.json").read_text()))
    with tempfile.TemporaryDirectory() as tmp:
        t = pathlib.Path(tmp)

        # 1. Both sides of a firewall.
        for sample, port, outside_answer in (("host-drop", 85, "no answer there"),
                                             ("router-reject-rst", 90, "there it drew refused-by-middlebox")):
            cap = ROOT / "samples" / sample / "capture.pcapng"
            run("analyze", cap, "--json", "--vantage-name", "outside", "-o", t / "outside.json")
            run("analyze", cap, f"not port {port}", "--json", "--vantage-name", "inside", "-o", t / "inside.json")
            for f in ("outside.json", "inside.json"):
                errors = list(result_schema.iter_errors(json.loads((t / f).read_text())))
                check(not errors, f"{sample} {f} is not schema-valid: {errors[:1]}")
            check(json.loads((t / "outside.json").read_text())["vantage"]["name"] == "outside", "vantage.name from --vantage-name")
            doc = json.loads(run("merge", t / "outside.json", t / "inside.json", "--json").stdout)
            errors = list(merge_schema.iter_errors(doc))
            check(not errors, f"merge JSON is not schema-valid: {errors[:1]}")
            for dst in ("198.18.4.10", "[2001:db8:4::10]"):
                dropped = target(doc, f"{dst}:{port}")
                check(dropped["kind"] == "dropped-between", f"{sample} {dst}:{port}: {dropped['kind']}")
                check("seen at outside" in dropped["finding"] and "never at inside" in dropped["finding"]
                      and outside_answer in dropped["finding"], f"{sample} finding: {dropped['finding']}")
                same = target(doc, f"{dst}:80")
                check(same["kind"] == "open-everywhere", f"{sample} {dst}:80: {same['kind']}")
            text = run("merge", t / "outside.json", t / "inside.json").stdout
            check(f"198.18.4.10:{port}  dropped-between: " in text and "4 targets from 2 vantages (outside, inside)" in text,
                  f"text output: {text}")

        # 2. Three vantage points with traces.
        base = json.loads((ROOT / "tests/golden/router-reject-rst.json").read_text())
        r1, r2, r3, d1, v1, server = "198.18.1.2", "198.18.2.2", "198.18.3.2", "198.18.5.2", "198.18.6.2", "198.18.4.10"
        office = as_probe(base, "office", r1, "198.18.1.1", {80: [r1, r2, r3, server], 90: [r1, r2]})
        vpn = as_probe(base, "vpn", v1, "198.18.6.1", {80: [v1, r2, r3, server], 90: [v1, r2]})
        dc = as_probe(base, "datacenter", d1, "198.18.5.1", {80: [d1, r3, server], 90: [d1, r3, server]})
        dc_later = as_probe(base, "datacenter", d1, "198.18.5.1", {80: [d1, r3, server], 90: [d1, r3, server]}, 7200)
        for name, d in (("office", office), ("vpn", vpn), ("dc", dc), ("dc-later", dc_later)):
            errors = list(result_schema.iter_errors(d))
            check(not errors, f"made-up {name} result is not schema-valid: {errors[:1]}")
            (t / f"{name}.json").write_text(json.dumps(d))
        p = run("merge", t / "office.json", t / "dc.json", t / "vpn.json", "--json", "--report", t / "where.html")
        doc = json.loads(p.stdout)
        check(not list(merge_schema.iter_errors(doc)), "merge JSON (3 vantages) is schema-valid")
        refused = target(doc, f"{server}:90")
        check(refused["kind"] == "local", f"port 90 kind: {refused['kind']}: {refused['finding']}")
        check(refused["join"] == r3, f"port 90 join: {refused['join']}")
        check("from office and vpn" in refused["finding"] and "open from datacenter" in refused["finding"]
              and f"on the office/vpn side, before the paths join at {r3}" in refused["finding"],
              f"port 90 finding: {refused['finding']}")
        fates = {f["vantage"]: f for f in refused["fates"]}
        check(fates["office"]["side"] == "before-join" and fates["office"]["join_hop"] == 3
              and fates["office"]["path_port"] == 80, f"office fate: {fates['office']}")
        check(fates["datacenter"]["side"] == "none" and fates["datacenter"]["join_hop"] == 2,
              f"datacenter fate: {fates['datacenter']}")
        check(target(doc, f"{server}:80")["kind"] == "open-everywhere", "port 80 open everywhere")
        html = (t / "where.html").read_text()
        check(html.startswith("<!DOCTYPE html>") and "<svg" in html and f">{r3}<" in html and "✕ refused-by-middlebox" in html
              and "<script" not in html, "the HTML report draws the paths")
        md = run("merge", t / "office.json", t / "dc.json", t / "vpn.json", "-o", t / "where.md")
        check((t / "where.md").read_text().startswith("# Is it just me?"), "-o .md writes Markdown")

        later = json.loads(run("merge", t / "office.json", t / "dc-later.json", "--json").stdout)
        apart = target(later, f"{server}:90")
        check(later["runs_apart"] and apart["kind"] == "runs-apart" and "2.0 h apart" in apart["finding"],
              f"two hours apart: {apart['kind']}: {apart['finding']}")
        wide = json.loads(run("merge", t / "office.json", t / "dc-later.json", "--json", "--max-apart", "10000").stdout)
        check(target(wide, f"{server}:90")["kind"] == "local", "--max-apart 10000 compares them again")
        change = json.loads(run("merge", t / "office.json", t / "dc-later.json", "--json", "--max-apart", "10000",
                                "--change-at", "2026-01-01T01:00:00Z").stdout)
        check(target(change, f"{server}:90")["kind"] == "runs-apart" and "both sides of the change"
              in target(change, f"{server}:90")["finding"], "--change-at between the runs")

        (t / "office2.json").write_text(json.dumps(dict(office, vantage=dict(office["vantage"], name="office-2"))))
        same = json.loads(run("merge", t / "office.json", t / "office2.json", "--json").stdout)
        g = target(same, f"{server}:90")
        check(g["kind"] == "global" and g["join"] == r1 and "a device all paths share refuses" in g["finding"]
              and r2 in g["finding"], f"identical paths: {g['kind']}: {g['finding']}")

        # 3. A result without vantage (schema 1.0).
        old = json.loads((t / "dc.json").read_text())
        del old["vantage"]
        old["schema_version"] = "1.0"
        for a in old["attempts"]:
            for h in a["hops"]:
                del h["addresses"]
        (t / "old-dc.json").write_text(json.dumps(old))
        mixed = json.loads(run("merge", t / "office.json", t / "old-dc.json", "--json").stdout)
        check([v["name"] for v in mixed["vantages"]] == ["office", "old-dc"], f"names: {mixed['vantages']}")
        check(target(mixed, f"{server}:90")["kind"] == "local", "an old file merges too")

        # 4. Errors: the exit code and one line.
        (t / "bad.json").write_text("{ not json")
        (t / "other.json").write_text('{"tool": "other"}')
        for args, code in (([t / "office.json"], 2), ([t / "office.json", t / "nope.json"], 3),
                           ([t / "office.json", t], 3), ([t / "office.json", t / "bad.json"], 3),
                           ([t / "office.json", t / "other.json"], 3),
                           ([t / "office.json", t / "dc.json", "--change-at", "yesterday"], 2),
                           ([t / "office.json", t / "dc.json", "--format", "yaml"], 2)):
            p = run("merge", *args, code=code)
            lines = p.stderr.splitlines()
            check(len(lines) == 1 and lines[0].startswith("synprobe: ") and not p.stdout,
                  f"merge {args}: stderr {p.stderr!r}")
    print(f"{passes} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
