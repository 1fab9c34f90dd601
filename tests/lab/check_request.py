#!/usr/bin/python3
"""Refusals after the handshake (issue 14), end to end: real clients in the lab, a capture,
`synprobe analyze CAPTURE --json`, every attempt against the truth of how the lab is built.

It brings up a lab of its own (SPLAB_ID "rq<PID>", link delays on), starts the request
injector on r2 (lab.sh injector-request) and, three runs in a row (--runs), captures with
tcpdump on the client's l1 while the client makes, over IPv4 and over IPv6:

  tls-control    curl https, server name allowed.lab.test, port 8443       open, host, hop 4
  sni-reset      curl https, server name blocked.lab.test, port 8443        r2 REJECTs the ClientHello
                                                                         with a RST: refused-by-
                                                                         middlebox, hop 2
  sni-drop       curl https, server name dropped.lab.test, port 8443        r2 DROPs it: dropped
  http-control   curl http, Host allowed.lab.test, port 8080              open, host, hop 4
  injected       curl http, Host censored.lab.test, port 8080             the injector on r2 races a
                                                                         forged RST|ACK: injected-
                                                                         reset, hop 2
  proxy-reset    curl http, Host app.lab.test, port 8081                  the server reads, RSTs:
                                                                         refused-by-host, hop 4
  proxy-close    curl http, Host app.lab.test, port 8082                  the server reads, FINs:
                                                                         refused-by-host, hop 4
  syn-only       nc -z, port 8443 (no data)                                open, stage syn

Each client binds a source port of its own (curl --local-port, nc -p), so that each of
synprobe's attempts is matched to the command that made it. The names are only sent (SNI,
Host), never resolved: the client connects by literal address (curl --resolve / -H Host).

Two kinds of problems are told apart:
  lab       the capture does not show what the lab builds (the server's SYN|ACK at TTL 61,
            the request sent once or retransmitted, the first answer after it that is not
            a bare ACK with its TTL, the server's data or none): the lab, not synprobe, is
            wrong, and the run says so;
  synprobe  synprobe's attempt differs from the truth: each field named (stage, trigger,
            verdict, actor, responder, hop), with the attempt's evidence.
The closing summary counts synprobe's mismatches per field, and says whether any is
outside the request stage (a syn-stage attempt or a control whose verdict changed).

Exit status: 0 pass, 1 failure, 77 not root (skipped).
"""
import argparse
import collections
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import check_probe as cp  # noqa: E402  (the Lab class, addresses, schema loader)

SERVER = {4: cp.SERVER4, 6: cp.SERVER6}
CLIENT = {4: cp.CLIENT4, 6: cp.CLIENT6}
ALLOWED, RESET, DROPPED, INJECTED, PROXY = ("allowed.lab.test", "blocked.lab.test", "dropped.lab.test",
                                            "censored.lab.test", "app.lab.test")

# name -> port, client (tls / http / nc), name sent, truth (verdict, actor, responder
# ("server" or None), hop), and what the capture must show after the request: the first
# packet from the server's side that is not a bare ACK (KIND@TTL; R = RST, RA = RST|ACK,
# D = data, F = FIN; "-" none), whether the server's data follows (y/n), and how often the
# client sent its request ("0": none, "1", "retx").
Scenario = collections.namedtuple("Scenario", "name port client sent_name truth first data sent")
SCENARIOS = [
    Scenario("tls-control", 8443, "tls", ALLOWED, ("open", "host", "server", 4), "D@61", "y", "1"),
    Scenario("sni-reset", 8443, "tls", RESET, ("refused-by-middlebox", "middlebox", None, 2), "R@63", "n", "1"),
    Scenario("sni-drop", 8443, "tls", DROPPED, ("dropped", "unknown", None, None), "-", "n", "retx"),
    Scenario("http-control", 8080, "http", ALLOWED, ("open", "host", "server", 4), "D@61", "y", "1"),
    Scenario("injected", 8080, "http", INJECTED, ("injected-reset", "middlebox", None, 2), "RA@63", "y", "1"),
    Scenario("proxy-reset", 8081, "http", PROXY, ("refused-by-host", "host", "server", 4), "RA@61", "n", "1"),
    Scenario("proxy-close", 8082, "http", PROXY, ("refused-by-host", "host", "server", 4), "F@61", "n", "1"),
    Scenario("syn-only", 8443, "nc", None, ("open", "host", "server", 4), "-", "n", "0"),
]
FIELDS = ("stage", "trigger", "verdict", "actor", "responder", "hop")
# Attempts whose truth does not depend on the request stage: the truth the engine gave
# before issue 14 (the controls are open, an attempt without data is judged on its SYN).
SYN_TRUTH_SCENARIOS = ("tls-control", "http-control", "syn-only")
CLIENT_TIMEOUT_S = 4       # curl --max-time, nc -w
PORT_BASE = 41000          # run r, scenario i, family f: PORT_BASE + 100 r + 2 i + (f == 6)


def log(msg):
    print(msg, flush=True)


def source_port(run_no, index, family):
    return PORT_BASE + 100 * run_no + 2 * index + (family == 6)


def truth(sc, family):
    verdict, actor, responder, hop = sc.truth
    return {"stage": "syn" if sc.client == "nc" else "request", "trigger": sc.sent_name, "verdict": verdict,
            "actor": actor, "responder": SERVER[family] if responder == "server" else None, "hop": hop}


def client_cmd(sc, family, sport):
    """The client's command line (run inside the client namespace)."""
    addr = SERVER[family]
    lit = f"[{addr}]" if family == 6 else addr
    if sc.client == "tls":
        return ["curl", f"-{family}", "--noproxy", "*", "-sS", "-k", "--max-time", str(CLIENT_TIMEOUT_S),
                "-o", "/dev/null", "--local-port", str(sport), "--resolve", f"{sc.sent_name}:{sc.port}:{lit}",
                f"https://{sc.sent_name}:{sc.port}/"]
    if sc.client == "http":
        return ["curl", f"-{family}", "--noproxy", "*", "-sS", "-g", "--max-time", str(CLIENT_TIMEOUT_S),
                "-o", "/dev/null", "--local-port", str(sport), "-H", f"Host: {sc.sent_name}",
                f"http://{lit}:{sc.port}/"]
    return ["nc", f"-{family}", "-z", "-w", str(CLIENT_TIMEOUT_S), "-p", str(sport), addr, str(sc.port)]


def flows(capture):
    """What the capture shows of each client flow: {sport: "SA@TTL sent=S first=K data=y|n"}."""
    out = subprocess.run(["tshark", "-r", capture, "-n", "-o", "tcp.relative_sequence_numbers:TRUE", "-T", "fields",
                          "-e", "ip.src", "-e", "ipv6.src", "-e", "ip.ttl", "-e", "ipv6.hlim", "-e", "tcp.srcport",
                          "-e", "tcp.dstport", "-e", "tcp.flags", "-e", "tcp.len", "-e", "tcp.seq"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    info = {}
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) < 9 or not f[4]:
            continue
        src, hl = f[0] or f[1], f[2] or f[3]
        flags, length, seq = int(f[6], 16), int(f[7] or 0), f[8]
        if src in CLIENT.values():
            d = info.setdefault(int(f[4]), {"sa": "-", "sent": 0, "first": "-", "data": "n", "req": False})
            if length > 0 and seq == "1":
                d["sent"] += 1
                d["req"] = True
            continue
        d = info.get(int(f[5]))
        if d is None:
            continue
        if flags & 0x02 and flags & 0x10:
            d["sa"] = f"SA@{hl}"
            continue
        if not d["req"]:
            continue
        kind = ""
        if flags & 0x04:
            kind = "RA" if flags & 0x10 else "R"
        elif length > 0:
            kind = "D"
        elif flags & 0x01:
            kind = "F"
        if length > 0:
            d["data"] = "y"
        if kind and d["first"] == "-":
            d["first"] = f"{kind}@{hl}"
    return {sport: f"{d['sa']} sent={'retx' if d['sent'] > 1 else d['sent']} first={d['first']} data={d['data']}"
            for sport, d in info.items()}


def expected_flow(sc):
    return f"SA@61 sent={sc.sent} first={sc.first} data={sc.data}"


def fmt(d):
    return "/".join(str(d.get(k)) if d.get(k) is not None else "-" for k in FIELDS)


class Run:
    def __init__(self, lab, args, run_no, workdir):
        self.lab, self.args, self.n, self.dir = lab, args, run_no, workdir

    def capture_attempts(self):
        """Every scenario over both families, under one tcpdump; returns the capture."""
        cap = os.path.join(self.dir, f"run{self.n}.pcap")
        log_path = os.path.join(self.dir, f"tcpdump{self.n}.log")
        with open(log_path, "w") as err:
            td = self.lab.client_popen("tcpdump", "-i", "l1", "-n", "-U", "--immediate-mode", "-Z", "root",
                                       "-w", cap, stdout=subprocess.DEVNULL, stderr=err)
        try:
            for _ in range(100):  # bounded: 10 s
                if "listening on" in pathlib.Path(log_path).read_text():
                    break
                if td.poll() is not None:
                    raise RuntimeError(f"tcpdump exited: {pathlib.Path(log_path).read_text()}")
                time.sleep(0.1)
            else:
                raise RuntimeError("tcpdump did not start")
            self.client_problems = []
            for i, sc in enumerate(SCENARIOS):
                if sc.first == "-" and sc.client != "nc":
                    # A dropped request costs the client's whole timeout: both families at once.
                    procs = {f: self.lab.client_popen(*client_cmd(sc, f, source_port(self.n, i, f)),
                                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                             for f in (4, 6)}
                    rcs = {f: p.wait(timeout=CLIENT_TIMEOUT_S + 10) for f, p in procs.items()}
                else:
                    rcs = {f: self.lab.client(*client_cmd(sc, f, source_port(self.n, i, f)), timeout=CLIENT_TIMEOUT_S + 10,
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
                           for f in (4, 6)}
                for f, rc in rcs.items():
                    if (rc == 0) != (sc.truth[0] == "open"):
                        self.client_problems.append(f"run {self.n} IPv{f} {sc.name}: the client exited {rc}")
            time.sleep(1.0)  # the last answers (the server's reply after an injected reset)
        finally:
            td.send_signal(signal.SIGINT)
            try:
                td.wait(timeout=10)
            except subprocess.TimeoutExpired:
                td.kill()
                td.wait()
            # A dropped request leaves the client's socket retransmitting for minutes
            # (orphaned, FIN-WAIT-1): end it, so that it cannot spill into the next run.
            self.lab.client("ss", "-K", "state", "fin-wait-1", "( dport = :8443 )", capture_output=True)
        return cap

    def check(self, validator, rows, mismatches):
        """Returns the lab problems; adds synprobe's mismatches to `mismatches`."""
        cap = self.capture_attempts()
        problems = list(self.client_problems)
        shown = flows(cap)
        expected_sports = set()
        for i, sc in enumerate(SCENARIOS):
            for f in (4, 6):
                sport = source_port(self.n, i, f)
                expected_sports.add(sport)
                got = shown.get(sport)
                if got != expected_flow(sc):
                    problems.append(f"lab: run {self.n} IPv{f} {sc.name} (sport {sport}): the capture shows "
                                    f"[{got}], the lab builds [{expected_flow(sc)}]")
        extra = sorted(set(shown) - expected_sports)
        if extra:
            problems.append(f"lab: run {self.n}: flows from unexpected client ports {extra}")
        run = subprocess.run([self.args.synprobe, "analyze", cap, "--json"], capture_output=True, text=True,
                             timeout=120)
        if run.returncode != 0:
            problems.append(f"synprobe: run {self.n}: analyze exited {run.returncode}: {run.stderr.strip()}")
            return problems
        result = json.loads(run.stdout)
        for e in validator.iter_errors(result):
            problems.append(f"synprobe: run {self.n}: schema: {e.message} at {list(e.absolute_path)}")
        by_sport = collections.defaultdict(list)
        for a in result.get("attempts", []):
            by_sport[a.get("sport")].append(a)
        for i, sc in enumerate(SCENARIOS):
            for f in (4, 6):
                sport = source_port(self.n, i, f)
                want = truth(sc, f)
                found = by_sport.pop(sport, [])
                key = f"run {self.n} IPv{f} {sc.name} ({sc.port}, sport {sport})"
                if len(found) != 1:
                    problems.append(f"synprobe: {key}: {len(found)} attempts")
                    rows.append((key, fmt(want), "(none)" if not found else f"({len(found)} attempts)"))
                    continue
                got = found[0]
                rows.append((key, fmt(want), fmt(got)))
                for field in FIELDS:
                    if field not in got:
                        mismatches.append((sc.name, f, field, f"{key}: {field} missing, expected {want[field]!r}"))
                    elif got[field] != want[field]:
                        mismatches.append((sc.name, f, field, f"{key}: {field} is {got[field]!r}, expected "
                                                              f"{want[field]!r} (evidence "
                                                              f"{[e.get('signal') for e in got.get('evidence', [])]})"))
        for sport, extra in by_sport.items():
            problems.append(f"synprobe: run {self.n}: {len(extra)} attempt(s) from sport {sport} that no client made")
        return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synprobe", required=True)
    parser.add_argument("--lab", required=True, help="tests/lab/lab.sh")
    parser.add_argument("--delay", help="splab-delay (default: lab.sh finds or builds one)")
    parser.add_argument("--injector", required=True, help="splab-injector (its --request mode runs on r2)")
    parser.add_argument("--schema", required=True, help="docs/schema/synprobe.schema.json")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("lab test: needs root, skipped")
        return 77
    if not 1 <= args.runs <= 10:
        parser.error("--runs: 1..10")
    for p in ("synprobe", "lab", "delay", "injector"):
        v = getattr(args, p)
        if v:
            setattr(args, p, os.path.abspath(v))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    validator = cp.load_validator(args.schema)
    t0 = time.monotonic()
    lab = cp.Lab(args.lab, args.delay)
    lab.id = f"rq{os.getpid()}"[:24]
    lab.env.update(SPLAB_ID=lab.id, SPLAB_STATE=f"/run/splab-{lab.id}")
    problems, rows, mismatches = [], [], []
    try:
        lab.up()
        # Two injections a run (IPv4, IPv6); it stops by itself after --seconds.
        r = lab.run("injector-request", args.injector, str(min(600, 60 + 20 * args.runs)), str(2 * args.runs),
                    capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"lab.sh injector-request failed: {r.stderr}")
        with tempfile.TemporaryDirectory(prefix="splab-request-") as workdir:
            os.chmod(workdir, 0o755)
            for n in range(1, args.runs + 1):
                problems += Run(lab, args, n, workdir).check(validator, rows, mismatches)
    except (RuntimeError, subprocess.SubprocessError, OSError) as e:
        problems.append(f"lab: {e}")
    finally:
        if not lab.down():
            problems.append("lab: teardown left something behind")
    width = max((len(r[0]) for r in rows), default=10)
    log(f"{'attempt':{width}}  expected stage/trigger/verdict/actor/responder/hop  ->  found")
    for key, want, got in rows:
        log(f"{key:{width}}  {want}  ->  {got}{'' if want == got else '   <-- differs'}")
    for p in problems:
        log(f"FAIL {p}")
    for *_, text in mismatches:
        log(f"MISMATCH {text}")
    per_field = collections.Counter(field for _, _, field, _ in mismatches)
    outside = [text for name, _, field, text in mismatches
               if name in SYN_TRUTH_SCENARIOS and field not in ("stage", "trigger")]
    log(f"synprobe mismatches per field: {dict(per_field) or 'none'}")
    log("mismatches outside the request stage (a control's or a syn-stage attempt's verdict, actor, "
        f"responder or hop): {len(outside) or 'none'}")
    lab_problems = [p for p in problems if p.startswith("lab")]
    log(f"lab problems (the capture or the clients, not synprobe): {len(lab_problems) or 'none'}")
    total = 2 * len(SCENARIOS) * args.runs
    bad = len({t.split(':')[0] for *_, t in mismatches})
    log(f"request: {total - bad} passed, {bad} failed ({args.runs} runs, IPv4 and IPv6, "
        f"{time.monotonic() - t0:.1f} s)")
    return 1 if problems or mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
