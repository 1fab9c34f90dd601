#!/usr/bin/python3
"""`synprobe merge` on live runs from two clients of the lab (#16), IPv4 and IPv6.

Brings up a lab of its own (SPLAB_ID mglab<PID>, the SPLAB_SECOND_CLIENT variant: client2
behind r4, which shares link 2's LAN with r1, joins client's path at r2), traces ports 80, 96
and 98 of the server from both clients with `synprobe trace`, merges the two results,
checks the findings, and takes the lab down (namespaces and every process it started)
whatever happens.

What the lab is made to do, hence what merge must find:
- 80 is open from both: open-everywhere; the paths join at r2 (198.18.2.2, which answers
  both clients from its link-2 address), hop 2 from both.
- 98: r1 resets it, and only client's path passes r1: refused by hop 1 (198.18.1.2) from
  client1, open from client2: local, on client1's side, before the join at r2.
- 96: r3 resets for every source: the same refusal from both, by r3 at hop 3: global.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile

FAMILIES = {
    4: {"server": "198.18.4.10", "target": "198.18.4.10", "r1": "198.18.1.2", "r2": "198.18.2.2",
        "r3": "198.18.3.2"},
    6: {"server": "2001:db8:4::10", "target": "[2001:db8:4::10]", "r1": "2001:db8:1::2", "r2": "2001:db8:2::2",
        "r3": "2001:db8:3::2"},
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--synprobe", required=True)
    p.add_argument("--lab", required=True)
    p.add_argument("--delay", required=True)
    args = p.parse_args()
    if os.geteuid() != 0:
        print("lab test: needs root, skipped")
        return 77
    lab_id = f"mglab{os.getpid()}"
    env = dict(os.environ, SPLAB_ID=lab_id, SPLAB_STATE=f"/run/splab-{lab_id}", SPLAB_SECOND_CLIENT="1",
               SPLAB_DELAY_BIN=args.delay)
    failures = passes = 0

    def check(ok, what):
        nonlocal failures, passes
        passes += bool(ok)
        failures += not ok
        if not ok:
            print(f"FAIL {what}")

    try:
        subprocess.run([args.lab, "up"], env=env, check=True, timeout=180)
        with tempfile.TemporaryDirectory() as tmp:
            t = pathlib.Path(tmp)
            for family, a in FAMILIES.items():
                files = []
                for node, name in (("client", "client1"), ("client2", "client2")):
                    out = t / f"{name}-v{family}.json"
                    run = subprocess.run([args.lab, "exec", node, args.synprobe, "trace", f"{a['target']}:80,96,98",
                                          "--vantage-name", name, "--json"], env=env, capture_output=True, text=True,
                                         timeout=120)
                    check(run.returncode == 0, f"v{family} trace from {node}: exit {run.returncode}: {run.stderr}")
                    out.write_text(run.stdout)
                    doc = json.loads(run.stdout)
                    check(doc["vantage"]["name"] == name and doc["vantage"]["first_hop"] is not None,
                          f"v{family} {name} vantage: {doc.get('vantage')}")
                    files.append(out)
                merged = subprocess.run([args.synprobe, "merge", *map(str, files), "--json"], capture_output=True,
                                        text=True, timeout=60)
                check(merged.returncode == 0, f"v{family} merge: {merged.stderr}")
                targets = {x["dport"]: x for x in json.loads(merged.stdout)["targets"]}
                print(f"IPv{family}:")
                for port in (80, 96, 98):
                    f = targets[port]
                    print(f"  {port}: {f['finding'] if f['finding'].startswith(f['kind']) else f['kind'] + ': ' + f['finding']}")
                open80, both96, one98 = targets[80], targets[96], targets[98]
                fates98 = {f["vantage"]: f for f in one98["fates"]}
                check(open80["kind"] == "open-everywhere" and open80["join"] == a["r2"]
                      and [f["join_hop"] for f in open80["fates"]] == [2, 2], f"v{family} port 80: {open80}")
                check(one98["kind"] == "local" and one98["join"] == a["r2"], f"v{family} port 98: {one98['finding']}")
                check(fates98["client1"]["verdict"] == "refused-by-middlebox" and fates98["client1"]["hop"] == 1
                      and fates98["client1"]["responder"] == a["r1"] and fates98["client1"]["side"] == "before-join",
                      f"v{family} port 98 client1: {fates98['client1']}")
                check(fates98["client2"]["verdict"] == "open", f"v{family} port 98 client2: {fates98['client2']}")
                check(f"on the client1 side, before the paths join at {a['r2']}" in one98["finding"],
                      f"v{family} port 98 finding: {one98['finding']}")
                check(both96["kind"] == "global" and "a device all paths share refuses" in both96["finding"]
                      and a["r3"] in both96["finding"]
                      and all(f["hop"] == 3 and f["responder"] == a["r3"] for f in both96["fates"]),
                      f"v{family} port 96: {both96['finding']}")
    finally:
        subprocess.run([args.lab, "down"], env=env, timeout=120)
        left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        check(f"{lab_id}-" not in left, f"namespaces of {lab_id} left behind")
    print(f"{passes} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
