#!/usr/bin/python3
"""Faults during a live run (issue 7, item 6): `synprobe probe` in the namespace lab while
something goes wrong. The verdict must stay right or become `inconclusive` with its
reason; never a wrong confident verdict, never a hang; an interface that fails ends the
run with one `synprobe: ` line and exit code 6 (docs/exit-codes.md).

Each check brings up a lab of its own (SPLAB_ID "ft<check><PID>", link delays on) and
tears it down on exit, even on failure or SIGTERM; whatever it starts inside the lab
(the faultsend tool, a second splab-delay) is stopped by PID. Every check covers IPv4
and IPv6.

  ifdown     the client's only link to the lab fails while synprobe waits for answers
             (SPLAB_LINK_DELAYS "1 2 3 200": the server answers after ~410 ms, so the
             fault lands after the SYNs left and before their answers): `ip link set l1
             down`, with one capture (IPv4, IPv6) and with two (a second, idle veth in
             the client: libpcap's non-blocking read hides ENETDOWN, see
             capture/live_capture.cpp); a down-and-up flap; the interface deleted.
             Each must end within --fault-bound seconds of the fault, exit 6, print
             nothing on stdout and exactly one stderr line naming l1.
  loss20     SPLAB_LOSS_PERCENT=20 (r1 loses a fifth of what it forwards, both ways):
             ports 81 85 90 91 94. Each verdict right (actor, hop / hop_range and
             responder too), or inconclusive with its reason; a wrong verdict fails
             when its confidence is >= CONFIDENT.
  dup        r1 duplicates every packet it forwards toward the client (nftables `dup`,
             after link2's delay: both copies arrive together, identical): ports 80 81
             85 90 91 95 (injector on r2). Exact truth; the dup rules must have fired.
  reorder    r1 holds every second packet toward the client --reorder-ms (5) longer (a
             second splab-delay on queue 11, iptables `statistic --mode nth`), so
             answers, time-exceeded and baseline packets overtake each other: ports as
             in dup. Exact truth; the queue must have held packets.
  jitter     as reorder, but every second packet waits --jitter-ms (30) longer: more than
             the host's whole round trip, so round trips mislead (a delayed SYN/ACK makes
             the host look far, a hop's median mixes a held and an unheld answer). Each
             verdict right, or inconclusive with its reason, or wrong below CONFIDENT.
  unrelated  faultsend (r1) answers every SYN of the run with RSTs and ICMP errors for
             OTHER flows (the server's next port, another address, the client's next
             port; ICMP quoting them), each with the SYN's own ack / sequence number:
             ports 80 81 85. Exact truth.
  spoof      faultsend (r1) answers every SYN with RST|ACKs on the SYN's own 4-tuple,
             shaped and timed like a host's but with a wrong ack (ISN, ISN+2, ...):
             ports 80 81 85. Exact truth, and `unmatched-reset` in the evidence (seen,
             and set aside).

ICMP rate limiting is item 6 too: `lab.scenario-ratelimit` (check_scenarios.py) covers it.

Exit status: 0 pass, 1 failure, 77 not root (skipped).
"""
import argparse
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import check_probe as cp  # noqa: E402  (the Lab class, addresses, truth, schema loader)
import check_scenarios as cs  # noqa: E402  (judging helpers)

# "Confident": docs/verdicts.md scores a refusal 0.5 + |host - middlebox| / 2, so 0.5 is a
# coin toss, and the least a plain finding gets is 0.65 (`dropped` after one SYN); 0.6
# sits between. A wrong verdict at or above it is a wrong confident verdict.
CONFIDENT = 0.6
FAULTSEND = pathlib.Path(__file__).resolve().parent / "faultsend.py"
SERVERS = {4: cp.SERVER4, 6: cp.SERVER6}


def log(msg):
    print(msg, flush=True)


def want(family, port):
    """The truth (check_probe.py's table; port 97 from check_scenarios.py)."""
    if port in cp.TRUTH:
        return cp.expected_for(family, port)
    return cs.truth(family, port)


class FaultLab(cs.ScenarioLab):
    def __init__(self, args, tag, **variant):
        super().__init__(args, tag, **variant)
        self.id = f"ft{tag}{os.getpid()}"[:24]
        self.env.update(SPLAB_ID=self.id, SPLAB_STATE=f"/run/splab-{self.id}")
        self.started = []  # Popen objects we started inside the lab

    def exec(self, node, *cmd, timeout=30, check=True):
        r = self.run("exec", node, *cmd, timeout=timeout, capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError(f"{node}: {' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
        return r

    def spawn(self, node, *cmd, ready=None, log_path=None):
        """Starts cmd inside node (lab.sh exec execs it: the PID is cmd's) and waits for `ready`."""
        out = open(log_path, "w+") if log_path else subprocess.DEVNULL
        p = subprocess.Popen([self.lab_sh, "exec", node, *cmd], env=self.env, stdout=out,
                             stderr=subprocess.STDOUT, start_new_session=True)
        p.log_path = log_path
        self.started.append(p)
        if ready:
            for _ in range(100):
                if p.poll() is not None:
                    break
                if ready in pathlib.Path(log_path).read_text():
                    return p
                time.sleep(0.05)
            raise RuntimeError(f"{cmd[0]} did not start on {node}: {pathlib.Path(log_path).read_text()}")
        return p

    def stop(self, p):
        """SIGTERM, then SIGKILL after 3 s; by PID only. Returns its output."""
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(3)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(3)
        return pathlib.Path(p.log_path).read_text() if p.log_path else ""

    def down(self):
        for p in self.started:
            self.stop(p)
        return super().down()


def state_file(lab, name):
    return os.path.join(lab.env["SPLAB_STATE"], name)


def run_probe(lab, args, targets, *extra, timeout=90):
    """synprobe probe --json; returns (rc, result or None, stderr, seconds)."""
    t0 = time.monotonic()
    try:
        r = lab.client(args.synprobe, "probe", "--json", "--timeout", "2", *targets, *extra,
                       timeout=timeout, capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        return None, None, f"still running after {timeout} s (killed): a hang", time.monotonic() - t0
    took = time.monotonic() - t0
    try:
        result = json.loads(r.stdout) if r.stdout.strip() else None
    except json.JSONDecodeError as e:
        return r.returncode, None, f"output is not JSON: {e}; {r.stderr.strip()}", took
    return r.returncode, result, r.stderr.strip(), took


def both(ports):
    return [cp.SERVER4, f"[{cp.SERVER6}]", "-p", ",".join(map(str, ports))]


def judge_exact(a, w):
    return cs.exact_problems(a, w)


def judge_safe(a, w):
    """Right, or inconclusive with its reason, or wrong but not confident."""
    if a.get("verdict") == "inconclusive":
        return [] if a.get("evidence") else ["inconclusive without any evidence (no reason given)"]
    if a.get("verdict") != w["verdict"]:
        if a.get("confidence", 1) >= CONFIDENT:
            return [f"wrong and confident: {a.get('verdict')!r} at confidence {a.get('confidence')} "
                    f"(truth {w['verdict']!r}; confident = >= {CONFIDENT})"]
        return []
    return cs.safe_problems(a, w)


def check_result(chk, validator, label, rc, result, err, took, ports, judge, bound, extra=None):
    """Common checks of one probe run: exit 0, time bound, schema, then each attempt."""
    if rc != 0 or result is None:
        chk.fail(f"{label}: exit {rc}: {err}")
        for family in (4, 6):
            for port in ports:
                chk.cell(label.split()[0], family, port, "ERROR")
        return
    if took > bound:
        chk.fail(f"{label}: took {took:.1f} s, more than the bound of {bound:.0f} s")
    for e in validator.iter_errors(result):
        chk.fail(f"{label}: schema: {e.message} at {list(e.absolute_path)}")
    found = cs.attempts_by_target(result)
    for family in (4, 6):
        for port in ports:
            got = found.get((family, port), [])
            mode = label.split()[0]
            if len(got) != 1:
                chk.fail(f"{label}: IPv{family} {port}: {len(got)} attempts, expected 1")
                chk.cell(mode, family, port, "MISSING")
                continue
            a = got[0]
            bad = judge(a, want(family, port))
            if extra:
                bad += extra(a, family, port)
            note = "" if a.get("verdict") != "inconclusive" else " (inconclusive)"
            chk.cell(mode, family, port, (f"FAIL {cs.fmt(a)}" if bad else "ok" + note))
            if bad:
                chk.fail(f"{label}: IPv{family} {SERVERS[family]} port {port}: {'; '.join(bad)}; "
                         f"confidence {a.get('confidence')}; {cs.describe(a)}")
    log(f"{label}: {took:.1f} s")


def repeat_runs(chk, lab, args, validator, mode, ports, judge, extra=None, before=None):
    for n in range(1, args.runs + 1):
        if before:
            before(n)
        rc, result, err, took = run_probe(lab, args, both(ports))
        check_result(chk, validator, f"{mode} run {n}", rc, result, err, took, ports, judge,
                     args.run_bound, extra)
        time.sleep(args.gap)


# ---------------------------------------------------------------------------
# ifdown
# ---------------------------------------------------------------------------

def second_capture(lab):
    """An idle veth pair inside the client (198.18.9.1/24 on v0, nothing answers): a
    target routed there gives synprobe a second capture interface."""
    if lab.exec("client", "ip", "link", "show", "v0", check=False).returncode != 0:
        lab.exec("client", "ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1")
    lab.exec("client", "ip", "addr", "replace", "198.18.9.1/24", "dev", "v0")
    lab.exec("client", "ip", "link", "set", "v0", "up")
    lab.exec("client", "ip", "link", "set", "v1", "up")


def cmd_ifdown(args, validator):
    chk = cs.Check("ifdown")
    lab = FaultLab(args, "i", SPLAB_LINK_DELAYS="1 2 3 200")
    # name, targets, fault (a command in the client), second capture?
    cases = [
        ("down, IPv4, one capture", [f"{cp.SERVER4}:81"], ["ip", "link", "set", "l1", "down"], False),
        ("down, IPv6, one capture", [f"[{cp.SERVER6}]:81"], ["ip", "link", "set", "l1", "down"], False),
        ("down, IPv4+IPv6, two captures", [f"{cp.SERVER4}:81", f"[{cp.SERVER6}]:81", "198.18.9.2:85"],
         ["ip", "link", "set", "l1", "down"], True),
        ("flap (down, up), IPv4+IPv6, two captures", [f"{cp.SERVER4}:81", f"[{cp.SERVER6}]:81", "198.18.9.2:85"],
         ["sh", "-c", "ip link set l1 down && ip link set l1 up"], True),
        ("deleted, IPv4+IPv6, one capture", [f"{cp.SERVER4}:81", f"[{cp.SERVER6}]:81"],
         ["ip", "link", "del", "l1"], False),
    ]
    with cs.lab_up(chk, lab):
        for n in range(1, args.runs + 1):
            for name, targets, fault, two in cases:
                label = f"run {n}: {name}"
                if two:
                    second_capture(lab)
                t0 = time.monotonic()
                p = lab.client_popen(args.synprobe, "probe", "--json", "--timeout", "2", *targets,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                # The SYNs leave at 0 and 0.2 s; the server's answers would come ~0.41 s after each.
                time.sleep(0.3)
                r = lab.exec("client", *fault, check=False)
                t_fault = time.monotonic()
                try:
                    out, err = p.communicate(timeout=args.fault_bound + 30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    out, err = p.communicate()
                    chk.fail(f"{label}: synprobe still running {args.fault_bound + 30:.0f} s after the fault: a hang")
                    lab.up()
                    continue
                after = time.monotonic() - t_fault
                lines = [x for x in err.splitlines() if x.strip()]
                bad = []
                if r.returncode != 0:
                    bad.append(f"the fault itself failed: {r.stderr.strip()}")
                if p.returncode != 6:
                    bad.append(f"exit {p.returncode}, expected 6 (network: docs/exit-codes.md)")
                if after > args.fault_bound:
                    bad.append(f"ended {after:.1f} s after the fault (bound {args.fault_bound:.0f} s)")
                if out.strip():
                    verdicts = ""
                    try:
                        verdicts = "; ".join(f"{a['dst']}:{a['dport']} {a['verdict']} {a['confidence']}"
                                             for a in json.loads(out).get("attempts", []))
                    except (json.JSONDecodeError, KeyError, TypeError):
                        pass
                    bad.append(f"printed a result although the capture failed: {verdicts or out[:200]}")
                if len(lines) != 1 or not lines[0].startswith("synprobe: ") or "l1" not in lines[0]:
                    bad.append(f"stderr is not one 'synprobe: ' line naming l1: {lines}")
                log(f"{label}: exit {p.returncode} {after:.2f} s after the fault "
                    f"({time.monotonic() - t0:.1f} s in all): {lines[0] if lines else '-'}")
                for b in bad:
                    chk.fail(f"{label}: {b}")
                lab.up()  # restores the link, its addresses and routes (idempotent)
    for p in chk.problems:
        log(f"FAIL {p}")
    log(f"ifdown: {'ok' if not chk.problems else f'{len(chk.problems)} problem(s)'}")
    return 1 if chk.problems else 0


# ---------------------------------------------------------------------------
# loss20, dup, reorder, unrelated, spoof
# ---------------------------------------------------------------------------

def cmd_loss20(args, validator):
    chk = cs.Check("loss20")
    lab = FaultLab(args, "l", SPLAB_LOSS_PERCENT="20")
    ports = [81, 85, 90, 91, 94]
    with cs.lab_up(chk, lab):
        repeat_runs(chk, lab, args, validator, "probe", ports, judge_safe)
    return chk.report(want)


DUP_RULES = """
table ip splabfault {
  chain pre {
    type filter hook prerouting priority -100; policy accept;
    iifname "l2" ip daddr 198.18.1.1 counter dup to 198.18.1.1 device "l1"
  }
}
table ip6 splabfault {
  chain pre {
    type filter hook prerouting priority -100; policy accept;
    iifname "l2" ip6 daddr 2001:db8:1::1 counter dup to 2001:db8:1::1 device "l1"
  }
}
"""


def dup_counts(lab):
    counts = []
    for family in ("ip", "ip6"):
        text = lab.exec("r1", "nft", "list", "table", family, "splabfault").stdout
        counts.append(int(text.split("counter packets ")[1].split()[0]))
    return counts


def cmd_dup(args, validator):
    chk = cs.Check("dup")
    lab = FaultLab(args, "d")
    ports = [80, 81, 85, 90, 91, 95]
    with cs.lab_up(chk, lab):
        lab.injector(args.injector, 120, 200)
        # Priority -100: after mangle PREROUTING (-150), where link2's delay is added, so
        # the copy leaves with the original (r1 OUTPUT, then link1's delay): identical,
        # TTL included (nf_dup decrements it in PREROUTING as forwarding does).
        r = lab.run("exec", "r1", "nft", "-f", "-", input=DUP_RULES, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"nft dup rules: {r.stderr}")
        repeat_runs(chk, lab, args, validator, "probe", ports, judge_exact)
        v4, v6 = dup_counts(lab)
        log(f"r1 duplicated {v4} IPv4 and {v6} IPv6 packets toward the client")
        if v4 < 10 or v6 < 10:
            chk.fail(f"lab: the dup rules hardly fired ({v4} IPv4, {v6} IPv6): nothing was tested")
    return chk.report(want)


def cmd_reorder(args, validator):
    return reorder_check(args, validator, "reorder", "o", args.reorder_ms, judge_exact)


def cmd_jitter(args, validator):
    return reorder_check(args, validator, "jitter", "j", args.jitter_ms, judge_safe)


def reorder_check(args, validator, name, tag, hold_ms, judge):
    chk = cs.Check(name)
    lab = FaultLab(args, tag)
    ports = [80, 81, 85, 90, 91, 95]
    with cs.lab_up(chk, lab):
        lab.injector(args.injector, 120, 200)
        shim = lab.spawn("r1", args.delay, "--queue", f"11:{hold_ms}", "--seconds", "300",
                         ready="splab-delay: ready", log_path=state_file(lab, "reorder.log"))
        # Before link1's queue rule: a packet sent to queue 11 skips the rest of mangle
        # POSTROUTING (NF_ACCEPT resumes at the next hook), so it waits reorder-ms instead
        # of link1's 1 ms; every second packet toward the client, per family.
        log(f"r1 holds every second packet toward the client {hold_ms} ms")
        for ipt, client in (("iptables", cp.CLIENT4), ("ip6tables", cp.CLIENT6)):
            lab.exec("r1", ipt, "-w", "5", "-t", "mangle", "-I", "POSTROUTING", "1", "-o", "l1", "-d", client,
                     "-m", "statistic", "--mode", "nth", "--every", "2", "--packet", "0",
                     "-j", "NFQUEUE", "--queue-num", "11")
        repeat_runs(chk, lab, args, validator, "probe", ports, judge)
        summary = lab.stop(shim)
        held = [int(m.group(1)) for m in re.finditer(r"queue 11 \(\d+ ms\): (\d+) packets", summary)]
        log(f"reorder shim: {summary.strip().splitlines()[-1] if summary.strip() else '-'}")
        if not held or held[0] < 20:
            chk.fail(f"lab: queue 11 held too few packets ({held}): nothing was reordered")
    return chk.report(want)


def faultsend_cmd(lab, mode, ports):
    return ["/usr/bin/python3", str(FAULTSEND), mode, "--netns", f"{lab.id}-r1", "--iface", "l1",
            "--client", cp.CLIENT4, "--client", cp.CLIENT6, "--server", cp.SERVER4, "--server", cp.SERVER6,
            "--ports", ",".join(map(str, ports)), "--seconds", "300", "--max", "5000"]


def forged_check(args, validator, mode, tag, extra=None):
    chk = cs.Check(mode)
    lab = FaultLab(args, tag)
    ports = [80, 81, 85]
    with cs.lab_up(chk, lab):
        tool = lab.spawn("r1", *faultsend_cmd(lab, mode, ports), ready="faultsend: ready",
                         log_path=state_file(lab, f"faultsend-{mode}.log"))
        repeat_runs(chk, lab, args, validator, "probe", ports, judge_exact, extra)
        summary = lab.stop(tool).strip().splitlines()
        log(summary[-1] if summary else "faultsend: no output")
        sent = [line for line in summary if line.startswith("faultsend: sent ")]
        if not sent or int(sent[-1].split()[2]) < 20:
            chk.fail(f"lab: faultsend sent too little: {summary[-1:] or '-'}")
    return chk.report(want)


def cmd_unrelated(args, validator):
    return forged_check(args, validator, "unrelated", "u")


def cmd_spoof(args, validator):
    def seen(a, family, port):
        sig = cs.signals(a)
        return [] if "unmatched-reset" in sig else ["no unmatched-reset: the spoofed RSTs were not seen"]
    return forged_check(args, validator, "spoof", "s", seen)


CHECKS = {"ifdown": cmd_ifdown, "loss20": cmd_loss20, "dup": cmd_dup, "reorder": cmd_reorder, "jitter": cmd_jitter,
          "unrelated": cmd_unrelated, "spoof": cmd_spoof}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("check", choices=list(CHECKS))
    parser.add_argument("--synprobe", required=True)
    parser.add_argument("--lab", required=True, help="tests/lab/lab.sh")
    parser.add_argument("--delay", required=True, help="splab-delay")
    parser.add_argument("--injector", help="splab-injector (dup, reorder)")
    parser.add_argument("--schema", required=True, help="docs/schema/synprobe.schema.json")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--gap", type=float, default=2.0,
                        help="seconds between runs (the routers' ICMP budgets refill at 1/s)")
    parser.add_argument("--run-bound", type=float, default=30.0, help="seconds a probe run may take")
    parser.add_argument("--fault-bound", type=float, default=3.0,
                        help="seconds synprobe may take to end after the interface fails")
    parser.add_argument("--reorder-ms", type=int, default=5,
                        help="reorder: how much longer every second packet waits (default 5: answers of "
                             "one burst overtake each other, round trips stay within the host's)")
    parser.add_argument("--jitter-ms", type=int, default=30,
                        help="jitter: likewise, longer than the host's whole round trip (default 30)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("lab test: needs root, skipped")
        return 77
    if args.check in ("dup", "reorder", "jitter") and not args.injector:
        parser.error(f"{args.check} needs --injector")
    for p in ("synprobe", "lab", "delay", "injector"):
        v = getattr(args, p)
        if v:
            setattr(args, p, os.path.abspath(v))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    validator = cp.load_validator(args.schema)
    t0 = time.monotonic()
    rc = CHECKS[args.check](args, validator)
    log(f"{args.check}: {time.monotonic() - t0:.1f} s")
    return rc


if __name__ == "__main__":
    sys.exit(main())
