#!/usr/bin/python3
"""Refusals after the handshake, live (issue 14): `synprobe probe --sni/--http-host` in the lab.

It brings up a lab of its own (SPLAB_ID "rp<PID>", link delays on), starts the request
injector on r2 (lab.sh injector-request) and, three runs in a row (--runs), over IPv4 and
over IPv6, runs from the client:
  probe SERVER:8443 --sni blocked.lab.test --sni dropped.lab.test --sni allowed.lab.test
  probe SERVER:8080 SERVER:8081 SERVER:8082 --http-host censored.lab.test --http-host app.lab.test
and checks every attempt (target x request) against how the lab is built (tests/lab/README.md,
"Refusals after the handshake"):
  8443 blocked.lab.test    r2 REJECTs the ClientHello (string match): refused-by-middlebox,
                           located by the request's TTL-limited copies at hop 2, r2's address
  8443 dropped.lab.test    r2 DROPs it: dropped after hop 2 (hop_range [2, 3]), r2's address
  8443 allowed.lab.test    the control: open, host, hop 4
  8080 censored.lab.test   the injector on r2 races a forged RST: injected-reset, hop 2, r2
  8080 app.lab.test        the control: open
  8081 (either name)       a proxy without backend resets: refused-by-host, hop 4
  8082 (either name)       the same, closing with a FIN: refused-by-host, hop 4,
                           cause closed-without-response
Each attempt: stage (request), trigger (the name sent), verdict, actor, responder, hop,
hop_range where the drop gives one; the JSON against the schema; each run within a bound
(the dropped request waits --timeout, 2 s, and every sweep takes about 4 x 3 connections).
Exit status: 0 pass, 1 failure, 77 not root (skipped).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

import check_probe as cp

SERVER = {4: "198.18.4.10", 6: "2001:db8:4::10"}
R2 = {4: "198.18.2.2", 6: "2001:db8:2::2"}

# (port, name) -> (verdict, actor, responder, hop, hop_range, cause); "server" and "r2" by family.
TRUTH = {
    (8443, "blocked.lab.test"): ("refused-by-middlebox", "middlebox", "r2", 2, None, None),
    (8443, "dropped.lab.test"): ("dropped", "unknown", "r2", 2, [2, 3], None),
    (8443, "allowed.lab.test"): ("open", "host", "server", 4, None, None),
    (8080, "censored.lab.test"): ("injected-reset", "middlebox", "r2", 2, None, None),
    (8080, "app.lab.test"): ("open", "host", "server", 4, None, None),
    (8081, "censored.lab.test"): ("refused-by-host", "host", "server", 4, None, None),
    (8081, "app.lab.test"): ("refused-by-host", "host", "server", 4, None, None),
    (8082, "censored.lab.test"): ("refused-by-host", "host", "server", 4, None, "closed-without-response"),
    (8082, "app.lab.test"): ("refused-by-host", "host", "server", 4, None, "closed-without-response"),
}

PROBES = [
    ([8443], ["--sni", "blocked.lab.test", "--sni", "dropped.lab.test", "--sni", "allowed.lab.test"]),
    ([8080, 8081, 8082], ["--http-host", "censored.lab.test", "--http-host", "app.lab.test"]),
]
# One probe run: the dropped request's 2 s, three sweeps of 4 TTLs x 3 connections (about
# 0.1 s each, 0.3 s for a copy nothing answers), measured 5-7 s; the bound leaves room for
# a loaded machine.
RUN_BOUND_S = 20


def expected(family, port, name):
    verdict, actor, responder, hop, hop_range, cause = TRUTH[(port, name)]
    who = {"server": SERVER[family], "r2": R2[family]}.get(responder, responder)
    return {"stage": "request", "trigger": name, "verdict": verdict, "actor": actor, "responder": who,
            "hop": hop, "hop_range": hop_range, "cause": cause}


def check_run(lab, args, validator, n):
    problems = []
    for family in (4, 6):
        for ports, request_args in PROBES:
            targets = [f"{SERVER[family]}:{p}" if family == 4 else f"[{SERVER[family]}]:{p}" for p in ports]
            t0 = time.monotonic()
            r = lab.client(args.synprobe, "probe", *targets, *request_args, "--json", timeout=120,
                           capture_output=True, text=True)
            took = time.monotonic() - t0
            label = f"run {n} IPv{family} {' '.join(targets)}"
            if r.returncode != 0:
                problems.append(f"{label}: exit {r.returncode}: {r.stderr.strip()}")
                continue
            if took > RUN_BOUND_S:
                problems.append(f"{label}: took {took:.1f} s, bound {RUN_BOUND_S} s")
            doc = json.loads(r.stdout)
            for e in validator.iter_errors(doc):
                problems.append(f"{label}: schema: {e.message}")
            names = request_args[1::2]
            seen = set()
            for a in doc["attempts"]:
                key = (a["dport"], a.get("trigger"))
                seen.add(key)
                if key not in TRUTH:
                    problems.append(f"{label}: an attempt nobody asked for: {key}")
                    continue
                want = expected(family, *key)
                got = {f: a.get(f) for f in want}
                bad = [f for f in want if got[f] != want[f]]
                row = f"{label} :{key[0]} {key[1]}: {got['verdict']}/{got['actor']}/{got['responder']}/{got['hop']}"
                if bad:
                    problems.append(f"{row}: " + "; ".join(f"{f} is {got[f]!r}, expected {want[f]!r}" for f in bad) +
                                    f" (rule {a.get('rule')}, evidence {[e['signal'] for e in a['evidence']]})")
                else:
                    cp.log(f"ok   {row} ({took:.1f} s)")
            for p in ports:
                for name in names:
                    if (p, name) not in seen:
                        problems.append(f"{label}: no attempt for port {p} with {name}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synprobe", required=True)
    parser.add_argument("--lab", required=True, help="tests/lab/lab.sh")
    parser.add_argument("--delay", help="splab-delay (default: lab.sh finds or builds one)")
    parser.add_argument("--injector", required=True, help="splab-injector (its --request mode runs on r2)")
    parser.add_argument("--schema", required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("lab test: needs root, skipped")
        return 77
    for p in ("synprobe", "lab", "delay", "injector"):
        v = getattr(args, p)
        if v:
            setattr(args, p, os.path.abspath(v))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    validator = cp.load_validator(args.schema)
    t0 = time.monotonic()
    lab = cp.Lab(args.lab, args.delay)
    lab.id = f"rp{os.getpid()}"[:24]
    lab.env.update(SPLAB_ID=lab.id, SPLAB_STATE=f"/run/splab-{lab.id}")
    problems = []
    try:
        lab.up()
        # The injector answers each request for censored.lab.test: the plain connection and
        # every copy that passes r2 (TTL 2 and up, 3 copies each) in both families.
        r = lab.run("injector-request", args.injector, str(min(600, 60 + 40 * args.runs)), str(40 * args.runs),
                    capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"lab.sh injector-request failed: {r.stderr}")
        for n in range(1, args.runs + 1):
            problems += check_run(lab, args, validator, n)
    except (RuntimeError, subprocess.SubprocessError, OSError, json.JSONDecodeError) as e:
        problems.append(f"lab: {e}")
    finally:
        if not lab.down():
            problems.append("lab: teardown left something behind")
    for p in problems:
        cp.log(f"FAIL {p}")
    cp.log(f"request probe: {len(problems)} problem(s), {args.runs} runs, IPv4 and IPv6, "
           f"{time.monotonic() - t0:.1f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
