#!/usr/bin/python3
"""The lab scenarios of issue 4 (tests/lab/lab.sh): live `synprobe probe` / `trace` tests.

Each check brings up a lab of its own (SPLAB_ID "sc<check><PID>", link delays on, the
variant it needs) and tears it down on exit, even on failure or SIGTERM. Every run
probes IPv4 and IPv6 at once; every check makes three runs in a row (--runs).

  forging    port 97: r2 REJECTs with tcp-reset and rewrites the TTL / hop limit of
             its RSTs so that they arrive like the server's (61). Truth:
             refused-by-middlebox / middlebox / r2 / hop 2 (`probe` and `trace`);
             the trace must show the RSTs starting at TTL 3 while the host is at 4,
             and the RST must take hop 2's round trip. Port 95 (the injector on r2)
             in the same probe runs: injected-reset / middlebox / r2 / hop 2.
  silent     SPLAB_SILENT_R1=1 (r1 never answers time-exceeded): ports 90 (r2 resets)
             and 94 (r2 drops) keep their truth, and every trace shows "*" at hop 1
             (`probe`, and `trace` on port 90).
  ratelimit  SPLAB_R2_ICMP_RATELIMIT=300000: r2's per-destination ICMP budget (a burst of
             6, then one error per 300 s; IPv6 /64: per 75 s) is spent by TTL-2 pings
             from the client before each run, so r2 answers no TTL-limited probe.
             Ports 90 and 94: the verdict must stay right, no location may exclude the
             truth (a drop's hop_range must cover r2's [2, 3]), no address may be
             wrong, and synprobe must say why it cannot see hop 2
             (icmp-rate-limit-suspected or silent-hop).
  loss       SPLAB_LOSS_PERCENT=5 (r1 loses 5 % of what it forwards, both ways):
             ports 81 85 90 91 94 95 97 with synprobe's defaults. Every verdict must
             be right or inconclusive; where right, actor, hop (a drop's hop_range
             covering the truth) must be right and the responder right or null.
  lost-refusal  the loss check's rare case made certain: r1 drops every ICMP unreachable
             that quotes one of the first SYNs (an iptables u32 match on the quoted TTL), so
             port 91's SYNs are refused by r2 (admin-prohibited) and the client sees
             nothing, while the other traces of the run spend r2's ICMP budget, which
             r2's refusals of the TTL-limited SYNs draw on too. Same ports as loss,
             no random loss; judged like loss (r2's budget is short), and port 91
             exactly: r2's refusal found by its trace, not "dropped after hop 2".

  lost-baseline  the loss check's other rare case made certain, and worse: r1 drops every
             SYN/ACK and echo reply of the server, so no packet of the host's own tells
             its distance, timing or IP-ID, and every RST is judged without a baseline.
             Ports 81 (the host's RST), 90 (r2's RST, whose TTL was once taken for the
             host's distance: hop 2), 91, 93, 96 and 97 (r2 forges the host's TTL): every
             verdict exactly right; the host's RST and the forger's, which then share an
             answer shape, each located by its own trace (never trace-shared).

  timing     issue 4's "a full trace of a 30-hop budget finishes in about one round trip
             plus the timeout": `trace` of the drops at r2 (94) and at the server (85),
             with the host's distance known from its baseline and without (--no-baseline:
             the whole 30-hop budget), and of r2's reset (90), each within a bound of
             the timeout plus the --interval of the second SYN plus a margin; and
             `probe -p 90,94` (two traces of one host sharing the routers' budgets).
  shared     many targets of one host refused alike: r2 REJECTs 9000-9011 with
             tcp-reset and DROPs 9100-9111 (rules added for this check). At most 8
             resets are traced on their own flows, the others located by a trace of the
             same answer (trace-shared). Drops are never shared (two silent ports may be
             dropped at different hops): they are traced in waves of at most 8 in flight
             within the trace budget (issue 17: the 8 a run used to trace left the rest
             not-traced, though each alone is located); one the budget cannot reach says
             not-traced with the command that locates it, gives no hop, and is in the
             run's probe.locate_rest. Every verdict right, within a time bound.

  locate-all  issue 17: a multi-target run locates what single-target runs locate. Every
             router sends its ICMP without rate limit (ratemask 0: no budget to share,
             as the run measures), and 12 ports of the server are probed at once, IPv4
             and IPv6: 81, 90-94, 96, 97, 9100-9102 (r2 DROPs them) and 9200 (the server's
             own firewall DROPs it). Each port is first probed alone; then three
             multi-target runs in a row must give every target the same verdict, actor,
             responder, hop and hop range as its single run, with none not-traced.

Between runs the check waits --gap seconds so that the routers' ICMP budgets (Linux:
a burst of 6, then one error a second per destination) refill: synprobe is judged on
what one run can see, not on what the previous run used up.

Exit status: 0 pass, 1 failure, 77 not root (skipped).
"""
import argparse
import contextlib
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import check_probe as cp  # noqa: E402  (the Lab class, addresses, schema loader)

SERVER = {4: cp.SERVER4, 6: cp.SERVER6}
R1, R2, R3 = cp.R1, cp.R2, cp.R3

# port -> verdict, actor, responder ("server", a (v4, v6) pair, or None), hop, hop_range
TRUTH = {
    81: ("refused-by-host", "host", "server", 4, None),
    85: ("dropped", "unknown", R3, 3, [3, 4]),
    90: ("refused-by-middlebox", "middlebox", R2, 2, None),
    91: ("icmp-unreachable", "router", R2, 2, None),
    94: ("dropped", "unknown", R2, 2, [2, 3]),
    95: ("injected-reset", "middlebox", R2, 2, None),
    97: ("refused-by-middlebox", "middlebox", R2, 2, None),
    93: ("icmp-unreachable", "router", R1, 1, None),
    96: ("refused-by-middlebox", "middlebox", R3, 3, None),
}
HOP_ADDR = {1: R1, 2: R2, 3: R3}
# The hop whose round trip the first answer takes.
FIRST_ANSWER_HOP = {81: 4, 90: 2, 91: 2, 95: 2, 97: 2}
QUIET = ("icmp-rate-limit-suspected", "silent-hop")
# Every kind of answer at once, the router refusals and drops sharing r2's ICMP budget
# (loss, lost-refusal).
LOSS_PORTS = [81, 85, 90, 91, 94, 95, 97]


def log(msg):
    print(msg, flush=True)


def pick(pair, family):
    return pair[0] if family == 4 else pair[1]


def truth(family, port):
    verdict, actor, responder, hop, hop_range = TRUTH[port]
    if responder == "server":
        responder = SERVER[family]
    elif isinstance(responder, tuple):
        responder = pick(responder, family)
    return {"verdict": verdict, "actor": actor, "responder": responder, "hop": hop, "hop_range": hop_range}


def fmt(d):
    r = d.get("hop_range")
    return (f"{d.get('verdict')}/{d.get('actor')}/{d.get('responder') or '-'}/"
            f"{d.get('hop') if d.get('hop') is not None else '-'}{'/' + str(r) if r else ''}")


class ScenarioLab(cp.Lab):
    def __init__(self, args, tag, **variant):
        super().__init__(args.lab, args.delay)
        self.id = f"sc{tag}{os.getpid()}"[:24]
        self.env.update(SPLAB_ID=self.id, SPLAB_STATE=f"/run/splab-{self.id}", **variant)


class Check:
    """Collects, per (family, port), what each run found, and the problems."""

    def __init__(self, name):
        self.name = name
        self.rows = {}      # (mode, family, port) -> [cell per run]
        self.problems = []

    def cell(self, mode, family, port, text):
        self.rows.setdefault((mode, family, port), []).append(text)

    def fail(self, msg):
        self.problems.append(msg)

    def report(self, want_fn):
        log(f"{'mode':<5} {'target':<15} {'port':>4}  {'truth':<52} found (per run)")
        for (mode, family, port), cells in sorted(self.rows.items()):
            log(f"{mode:<5} {SERVER[family]:<15} {port:>4}  {fmt(want_fn(family, port)):<52} " + " | ".join(cells))
        for p in self.problems:
            log(f"FAIL {p}")
        log(f"{self.name}: {'ok' if not self.problems else f'{len(self.problems)} problem(s)'}")
        return 1 if self.problems else 0


@contextlib.contextmanager
def lab_up(chk, lab):
    """The lab up for one check, and down again whatever happens; anything left behind fails the check."""
    try:
        lab.up()
        yield lab
    finally:
        if not lab.down():
            chk.fail("lab teardown left something behind")


def run_synprobe(lab, args, command, ports, extra=()):
    t0 = time.monotonic()
    try:
        r = lab.client(args.synprobe, command, "--json", "--timeout", str(args.timeout), cp.SERVER4,
                       f"[{cp.SERVER6}]", "-p", ",".join(map(str, ports)), *extra,
                       timeout=120, capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        return None, f"synprobe {command} still running after 120 s (killed)", 120.0
    took = time.monotonic() - t0
    if r.returncode != 0:
        return None, f"synprobe {command} exit {r.returncode}: {r.stderr.strip()}", took
    try:
        return json.loads(r.stdout), None, took
    except json.JSONDecodeError as e:
        return None, f"synprobe {command}: output is not JSON: {e}", took


def attempts_by_target(result):
    found = {}
    for a in result.get("attempts", []):
        found.setdefault((a["family"], a["dport"]), []).append(a)
    return found


def signals(a):
    return [e["signal"] for e in a.get("evidence", [])]


def describe(a):
    answers = [(x.get("kind"), x.get("from"), x.get("ttl"), x.get("rtt_ms")) for x in a.get("answers", [])]
    hops = [f"{h['hop']}:{h.get('address') or '-'}:{','.join(h['answers'])}" for h in (a.get("hops") or [])
            if any(x != "*" for x in h["answers"]) or h["hop"] <= 4]
    return f"evidence {signals(a)}; answers {answers}; hops {hops}"


def exact_problems(a, want):
    have = {k: a.get(k) for k in want}
    return [f"{k} {have[k]!r} (expected {want[k]!r})" for k in want if have[k] != want[k]]


def safe_problems(a, want):
    """Right, or honestly less sure: never a wrong verdict, hop, range or address."""
    bad = []
    if a.get("verdict") == "inconclusive":
        return bad
    # The injector's RSTs can all be lost (r1 loses 5 % each way; two SYNs, so ~1 in 400
    # runs of port 95): the client then gets only the host's SYN/ACKs, and its port is open
    # (it was: the server answered). Judged on what arrived, not on what was sent.
    if (want["verdict"] == "injected-reset" and a.get("verdict") == "open"
            and not any(x.get("kind") == "reset" for x in a.get("answers", []))):
        return bad
    if a.get("verdict") != want["verdict"]:
        return [f"verdict {a.get('verdict')!r} (expected {want['verdict']!r} or inconclusive), "
                f"confidence {a.get('confidence')}"]
    if a.get("actor") != want["actor"]:
        bad.append(f"actor {a.get('actor')!r} (expected {want['actor']!r})")
    if want["hop_range"]:
        # A drop: the range synprobe gives must cover the true one; its hop and responder
        # are the range's first hop (the last that answers) and that hop's router.
        r = a.get("hop_range")
        if r is None:
            if a.get("hop") is not None or a.get("responder") is not None:
                bad.append(f"hop {a.get('hop')!r} / responder {a.get('responder')!r} without a hop_range")
        elif not (r[0] <= want["hop_range"][0] and r[1] >= want["hop_range"][1]):
            bad.append(f"hop_range {r} does not cover the truth {want['hop_range']}")
        else:
            if a.get("hop") != r[0]:
                bad.append(f"hop {a.get('hop')!r} is not the range's first hop {r[0]}")
            addr = HOP_ADDR.get(r[0])
            if a.get("responder") not in (None, addr and pick(addr, a["family"])):
                bad.append(f"responder {a.get('responder')!r} is not hop {r[0]}'s router")
    else:
        if a.get("hop") is not None and a.get("hop") != want["hop"]:
            bad.append(f"hop {a.get('hop')!r} (expected {want['hop']!r} or null)")
        if a.get("responder") not in (None, want["responder"]):
            bad.append(f"responder {a.get('responder')!r} (expected {want['responder']!r} or null)")
    return bad


def rtt_problem(lab, a, port):
    hop = FIRST_ANSWER_HOP.get(port)
    if hop is None:
        return None
    rtts = [x["rtt_ms"] for x in a.get("answers", []) if x.get("rtt_ms") is not None]
    lo = lab.hop_rtt_ms(hop)
    if not rtts:
        return "no RTT"
    if not (lo - cp.RTT_EARLY_MS <= min(rtts) <= lo + cp.RTT_LATE_MS):
        return f"first answer after {min(rtts):.1f} ms, expected hop {hop}'s {lo}..{lo + cp.RTT_LATE_MS:.0f} ms"
    return None


def judge_run(chk, lab, validator, mode, run_no, result, ports, judge, extra_checks=None):
    """Checks one synprobe result; `judge(a, want)` returns the problems of an attempt."""
    problems = [f"{mode} run {run_no}: schema: {e.message} at {list(e.absolute_path)}"
                for e in validator.iter_errors(result)]
    found = attempts_by_target(result)
    for family in (4, 6):
        for port in ports:
            want = truth(family, port)
            got = found.get((family, port), [])
            if len(got) != 1:
                problems.append(f"{mode} run {run_no}: IPv{family} {port}: {len(got)} attempts, expected 1")
                chk.cell(mode, family, port, "MISSING")
                continue
            a = got[0]
            bad = judge(a, want)
            if extra_checks:
                bad += extra_checks(lab, a, family, port)
            chk.cell(mode, family, port, "ok" if not bad else f"FAIL {fmt(a)}")
            if bad:
                problems.append(f"{mode} run {run_no}: IPv{family} {SERVER[family]} port {port}: "
                                f"{'; '.join(bad)}; {describe(a)}")
    chk.problems += problems
    return not problems


def runs(chk, lab, args, validator, plan, judge, extra_checks=None):
    """plan: list of (mode, command, ports, extra args); each round runs the whole plan."""
    for n in range(1, args.runs + 1):
        for mode, command, ports, extra in plan:
            if args.before_run:
                args.before_run(lab)
            result, err, took = run_synprobe(lab, args, command, ports, extra)
            if err:
                chk.fail(f"{mode} run {n}: {err}")
                for family in (4, 6):
                    for port in ports:
                        chk.cell(mode, family, port, "ERROR")
            else:
                ok = judge_run(chk, lab, validator, mode, n, result, ports, judge, extra_checks)
                log(f"{mode} run {n} ({command} -p {','.join(map(str, ports))}): "
                    f"{'ok' if ok else 'problem(s)'} ({took:.1f} s)")
            time.sleep(args.gap)


def first_ttl(a, kind):
    for h in a.get("hops") or []:
        if h.get("majority") == kind:
            return h["hop"]
    return None


# ---------------------------------------------------------------------------

def cmd_forging(args, validator):
    chk = Check("forging")
    lab = ScenarioLab(args, "f")
    with lab_up(chk, lab):
        lab.injector(args.injector, 120, 200)

        def extra(lab_, a, family, port):
            bad = []
            rtt = rtt_problem(lab_, a, port)
            if rtt:
                bad.append(rtt)
            if port == 97:
                # One RST per SYN synprobe sent (--count), each forged to the server's TTL 61.
                ttl = [x.get("ttl") for x in a.get("answers", []) if x.get("kind") == "reset"]
                if not ttl or set(ttl) != {61}:
                    bad.append(f"lab: the RSTs arrived with TTLs {ttl}, the forging rule wants 61")
                if first_ttl(a, "reset") != 3:
                    bad.append(f"trace: RSTs start at TTL {first_ttl(a, 'reset')}, expected 3 (host at 4)")
            return bad

        runs(chk, lab, args, validator,
             [("probe", "probe", [95, 97], ()), ("trace", "trace", [97], ())],
             exact_problems, extra)
    return chk.report(truth)


def cmd_silent(args, validator):
    chk = Check("silent")
    lab = ScenarioLab(args, "s", SPLAB_SILENT_R1="1")
    with lab_up(chk, lab):
        def extra(lab_, a, family, port):
            hops = a.get("hops") or []
            if not hops:
                return ["no trace (hops is empty): the silent hop is not shown"]
            h1 = hops[0]
            if h1["hop"] != 1 or any(x != "*" for x in h1["answers"]):
                return [f"lab: hop 1 should be '*' (r1 is silent), trace says {h1['answers']}"]
            return []

        runs(chk, lab, args, validator,
             [("probe", "probe", [90, 94], ()), ("trace", "trace", [90], ())],
             exact_problems, extra)
    return chk.report(truth)


def exhaust_r2(lab):
    """Spends r2's ICMP budget toward the client: TTL-2 pings (r2 answers time-exceeded)."""
    got = []
    for family, dst in ((4, cp.SERVER4), (6, cp.SERVER6)):
        r = lab.client("ping", f"-{family}", "-n", "-t", "2", "-c", "10", "-i", "0.01", "-W", "1", dst,
                       timeout=20, capture_output=True, text=True)
        got.append(r.stdout.lower().count("exceeded"))
    log(f"r2's budget spent: {got[0]} (v4) / {got[1]} (v6) time-exceeded for 10 TTL-2 pings each")


def cmd_ratelimit(args, validator):
    chk = Check("ratelimit")
    lab = ScenarioLab(args, "r", SPLAB_R2_ICMP_RATELIMIT="300000")
    args.before_run = exhaust_r2
    with lab_up(chk, lab):
        def extra(lab_, a, family, port):
            if a.get("verdict") == "inconclusive" or any(s in QUIET for s in signals(a)):
                return []
            return [f"nothing says hop 2 is silent (no {' / '.join(QUIET)})"]

        runs(chk, lab, args, validator, [("probe", "probe", [90, 94], ())], safe_problems, extra)
    return chk.report(truth)


def cmd_loss(args, validator):
    chk = Check("loss")
    lab = ScenarioLab(args, "l", SPLAB_LOSS_PERCENT="5")
    ports = LOSS_PORTS
    with lab_up(chk, lab):
        lab.injector(args.injector, 180, 400)
        runs(chk, lab, args, validator, [("probe", "probe", ports, ())], safe_problems)
    return chk.report(truth)


# r1 drops every destination-unreachable toward the client that quotes one of the first
# SYNs (a quoted TTL / hop limit of 32 or more; a TTL-limited SYN's is below 32), whichever
# router sent it: the u32 match reads the quoted header's TTL (IPv4: byte 36, the quoted
# header after 20 bytes of IP and 8 of ICMP) or hop limit (IPv6: byte 55, after 40 + 8).
FIRST_SYN_REFUSALS = (("iptables", ["-p", "icmp", "--icmp-type", "destination-unreachable",
                                    "-m", "u32", "--u32", "36>>24=32:255"]),
                      ("ip6tables", ["-p", "ipv6-icmp", "--icmpv6-type", "destination-unreachable",
                                     "-m", "u32", "--u32", "52&0xFF=32:255"]))


def r1_drops(lab, rules):
    """r1 drops what each (tool, match) of `rules` matches, ahead of its other FORWARD rules."""
    for tool, match in rules:
        r = lab.run("exec", "r1", tool, "-w", "5", "-I", "FORWARD", *match, "-j", "DROP",
                    capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"r1: {tool} rule {match}: {r.stderr.strip()}")


def cmd_lost_refusal(args, validator):
    chk = Check("lost-refusal")
    lab = ScenarioLab(args, "q")
    with lab_up(chk, lab):
        r1_drops(lab, FIRST_SYN_REFUSALS)
        lab.injector(args.injector, 180, 400)

        def refusal_found(lab_, a, family, port):
            # The point of the check: r2's refusal of port 91, whatever r2's budget left for it.
            return exact_problems(a, truth(family, port)) if port == 91 else []

        runs(chk, lab, args, validator, [("probe", "probe", LOSS_PORTS, ())], safe_problems,
             refusal_found)
    return chk.report(truth)

# r1 drops every SYN/ACK and echo reply of the server, both families (the client never
# sees a packet of the host's own: no control port, no open target, no ping).
HOST_OWN_PACKETS = (
    ("iptables", ["-p", "tcp", "-s", cp.SERVER4, "--tcp-flags", "SYN,ACK", "SYN,ACK"]),
    ("ip6tables", ["-p", "tcp", "-s", cp.SERVER6, "--tcp-flags", "SYN,ACK", "SYN,ACK"]),
    ("iptables", ["-p", "icmp", "-s", cp.SERVER4, "--icmp-type", "echo-reply"]),
    ("ip6tables", ["-p", "ipv6-icmp", "-s", cp.SERVER6, "--icmpv6-type", "echo-reply"]))
LOST_BASELINE_PORTS = [81, 90, 91, 93, 96, 97]


def cmd_lost_baseline(args, validator):
    chk = Check("lost-baseline")
    lab = ScenarioLab(args, "b")
    with lab_up(chk, lab):
        r1_drops(lab, HOST_OWN_PACKETS)

        def own_traces(lab_, a, family, port):
            # The host's RST and the forger's are told apart only by their own flows.
            if port in (81, 97) and "trace-shared" in signals(a):
                return ["located by another target's trace although nothing timed the host"]
            return []

        runs(chk, lab, args, validator, [("probe", "probe", LOST_BASELINE_PORTS, ())], exact_problems, own_traces)
    return chk.report(truth)


# A wall-clock bound is judged on the median of an item's runs: on a shared machine one run
# in fifteen or so took 0.6-1.1 s longer (a process start, the delay shim or a router's
# ICMP budget held up by the machine's load) although synprobe did the same work. No run
# may exceed the bound by more than this, though: a trace of TTLs one after another, or a
# needless wait for a re-probe in every run, would.
TIMING_OUTLIER_S = 1.5


def timed_runs(chk, lab, args, validator, plan):
    """plan: (mode, command, ports, extra, limit_s); like runs(), and each item must end within
    limit_s (the median of its runs; every run within limit_s + TIMING_OUTLIER_S)."""
    took_by_item = {}
    for n in range(1, args.runs + 1):
        for item, (mode, command, ports, extra, limit) in enumerate(plan):
            label = f"{mode} ({command} -p {','.join(map(str, ports))} {' '.join(extra)})"
            result, err, took = run_synprobe(lab, args, command, ports, extra)
            if err:
                chk.fail(f"{mode} run {n}: {err}")
                continue
            took_by_item.setdefault(item, []).append(took)
            ok = judge_run(chk, lab, validator, mode, n, result, ports, exact_problems)
            if took > limit + TIMING_OUTLIER_S:
                chk.fail(f"{label} run {n}: took {took:.2f} s, more than {limit:.2f} + {TIMING_OUTLIER_S} s")
            log(f"{label} run {n}: {'ok' if ok else 'problem(s)'} ({took:.2f} s, limit {limit:.2f} s)")
            time.sleep(args.gap)
    for item, (mode, command, ports, extra, limit) in enumerate(plan):
        times = sorted(took_by_item.get(item, []))
        if not times:
            continue
        median = times[len(times) // 2]
        label = f"{mode} ({command} -p {','.join(map(str, ports))} {' '.join(extra)})"
        if median > limit:
            chk.fail(f"{label}: median {median:.2f} s over {len(times)} runs, more than {limit:.2f} s")
        log(f"{label}: median {median:.2f} s (runs {', '.join(f'{t:.2f}' for t in took_by_item[item])}), "
            f"limit {limit:.2f} s")


def cmd_timing(args, validator):
    chk = Check("timing")
    lab = ScenarioLab(args, "t")
    interval = 0.2  # synprobe's default --interval: the second SYN leaves that much later
    # The SYNs' timeout, the second SYN's interval, and a margin for the last answers and
    # for starting the process in the namespace (measured: 0.1-0.2 s).
    drop_limit = args.timeout + interval + 0.6
    with lab_up(chk, lab):
        timed_runs(chk, lab, args, validator, [
            ("trace", "trace", [94], (), drop_limit),
            ("trace", "trace", [85], (), drop_limit),
            ("nobase", "trace", [94], ("--no-baseline",), drop_limit + 0.5),
            ("trace", "trace", [90], (), 1.0),
            ("probe", "probe", [90, 94], (), drop_limit),
        ])
    return chk.report(truth)


SHARED_RESETS = list(range(9000, 9012))
SHARED_DROPS = list(range(9100, 9112))
MAX_TRACES_PER_SOURCE = 8  # dissect/trace/trace_plan.hpp: per source address (here one host per family)


def ports_in_command(command, address):
    """The ports of `address` that a `synprobe trace ADDR:PORTS ...` command names."""
    ports = set()
    for word in command.split():
        host, _, plist = word.rpartition(":")
        if host.strip("[]") != address or not plist:
            continue
        for part in plist.split(","):
            lo, _, hi = part.partition("-")
            ports.update(range(int(lo), int(hi or lo) + 1))
    return ports


def add_shared_rules(lab):
    for tool in ("iptables", "ip6tables"):
        for ports, target in ((SHARED_RESETS, ["REJECT", "--reject-with", "tcp-reset"]),
                              (SHARED_DROPS, ["DROP"])):
            r = lab.run("exec", "r2", tool, "-I", "FORWARD", "-p", "tcp", "--dport",
                        f"{ports[0]}:{ports[-1]}", "-j", *target, timeout=20, capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError(f"r2 {tool}: {r.stderr.strip()}")


def cmd_shared(args, validator):
    chk = Check("shared")
    lab = ScenarioLab(args, "h")
    for port in SHARED_RESETS:
        TRUTH[port] = TRUTH[90]
    for port in SHARED_DROPS:
        TRUTH[port] = TRUTH[94]

    def judge(a, want):
        sig = signals(a)
        if "not-traced" in sig:
            # Untraced drops: the verdict stands, no location may be claimed.
            bad = [] if a.get("verdict") == want["verdict"] else [f"verdict {a.get('verdict')!r}"]
            if a.get("hop") is not None or a.get("hop_range") is not None:
                bad.append(f"not traced, yet hop {a.get('hop')!r} / range {a.get('hop_range')!r}")
            return bad
        return exact_problems(a, want)

    with lab_up(chk, lab):
        add_shared_rules(lab)
        for n in range(1, args.runs + 1):
            # The drops: each trace needs an answer from r1 and from r2, which answer one
            # TTL-limited SYN a second after a burst of 6 (Linux), so the 12 traces of each
            # family take r2's burst and about 7 s more of its budget, beside the late-answer
            # wait (up to 5 s) that silent targets get anyway.
            for ports, limit in ((SHARED_RESETS, 8.0), (SHARED_DROPS, 11.0)):
                result, err, took = run_synprobe(lab, args, "probe", ports)
                if err:
                    chk.fail(f"run {n}: {err}")
                    continue
                judge_run(chk, lab, validator, "probe", n, result, ports, judge)
                for family in (4, 6):
                    mine = [a for a in result["attempts"] if a["family"] == family]
                    shared = sum("trace-shared" in signals(a) for a in mine)
                    untraced = sum("not-traced" in signals(a) for a in mine)
                    traced = len(mine) - shared - untraced
                    if ports is SHARED_RESETS and (traced > MAX_TRACES_PER_SOURCE or untraced or
                                                   shared != len(ports) - traced):
                        chk.fail(f"run {n}: IPv{family} resets: {traced} traced, {shared} shared, {untraced} "
                                 f"not traced (at most {MAX_TRACES_PER_SOURCE} traced, the rest shared)")
                    if ports is SHARED_DROPS and (shared or untraced != len(ports) - traced):
                        chk.fail(f"run {n}: IPv{family} drops: {traced} traced, {shared} shared, {untraced} "
                                 f"not traced (none shared)")
                    for a in mine:
                        detail = " ".join(e.get("detail", "") for e in a.get("evidence", [])
                                          if e["signal"] == "not-traced")
                        rest = (result.get("probe") or {}).get("locate_rest") or ""
                        if detail and ("synprobe trace" not in detail or
                                       a["dport"] not in ports_in_command(rest, SERVER[family])):
                            chk.fail(f"run {n}: IPv{family} {a['dport']} not traced, but neither its detail nor "
                                     f"probe.locate_rest says what locates it: {detail!r} / {rest!r}")
                    log(f"run {n} IPv{family} {ports[0]}-{ports[-1]}: {traced} traced, {shared} shared, "
                        f"{untraced} not traced")
                if took > limit:
                    chk.fail(f"run {n} ({ports[0]}-{ports[-1]}): took {took:.2f} s, more than {limit} s")
                log(f"run {n} probe -p {ports[0]}-{ports[-1]}: {took:.2f} s (limit {limit} s)")
                time.sleep(args.gap)
    return chk.report(truth)


LOCATE_ALL_PORTS = [81, 90, 91, 92, 93, 94, 96, 97, 9100, 9101, 9102, 9200]


def icmp_unlimited(lab):
    """Every router sends its ICMP errors without rate limit (the limit off, as a router may have it)."""
    for router in ("r1", "r2", "r3"):
        for setting in ("net.ipv4.icmp_ratemask=0", "net.ipv4.icmp_ratelimit=0", "net.ipv6.icmp.ratelimit=0",
                        "net.ipv4.icmp_msgs_per_sec=1000000", "net.ipv4.icmp_msgs_burst=1000000"):
            r = lab.run("exec", router, "sysctl", "-q", "-w", setting, timeout=20, capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError(f"{router} sysctl {setting}: {r.stderr.strip()}")


def add_locate_all_rules(lab):
    for tool in ("iptables", "ip6tables"):
        for node, chain, ports in (("r2", "FORWARD", "9100:9102"), ("server", "INPUT", "9200")):
            r = lab.run("exec", node, tool, "-I", chain, "-p", "tcp", "--dport", ports, "-j", "DROP",
                        timeout=20, capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError(f"{node} {tool}: {r.stderr.strip()}")


def location(a):
    return {k: a.get(k) for k in ("verdict", "actor", "responder", "hop", "hop_range")}


def cmd_locate_all(args, validator):
    chk = Check("locate-all")
    lab = ScenarioLab(args, "a")
    alone = {}  # (family, port) -> location when probed alone

    with lab_up(chk, lab):
        icmp_unlimited(lab)
        add_locate_all_rules(lab)
        for port in LOCATE_ALL_PORTS:
            result, err, took = run_synprobe(lab, args, "probe", [port])
            if err:
                chk.fail(f"alone {port}: {err}")
                continue
            for (family, dport), got in attempts_by_target(result).items():
                alone[(family, dport)] = location(got[0])
                chk.cell("alone", family, dport, fmt(got[0]))
            log(f"alone {port}: {took:.2f} s")
            time.sleep(args.gap)
        for n in range(1, args.runs + 1):
            result, err, took = run_synprobe(lab, args, "probe", LOCATE_ALL_PORTS)
            if err:
                chk.fail(f"run {n}: {err}")
                continue
            chk.problems += [f"run {n}: schema: {e.message} at {list(e.absolute_path)}"
                             for e in validator.iter_errors(result)]
            found = attempts_by_target(result)
            for family in (4, 6):
                for port in LOCATE_ALL_PORTS:
                    got = found.get((family, port), [])
                    if len(got) != 1:
                        chk.fail(f"run {n}: IPv{family} {port}: {len(got)} attempts, expected 1")
                        continue
                    a = got[0]
                    want = alone.get((family, port))
                    bad = []
                    if "not-traced" in signals(a):
                        bad.append("not-traced")
                    if want is None:
                        bad.append("no single-target run to compare with")
                    elif location(a) != want:
                        bad.append(f"{fmt(a)}, alone {fmt(want)}")
                    chk.cell("multi", family, port, "ok" if not bad else f"FAIL {fmt(a)}")
                    if bad:
                        chk.fail(f"run {n}: IPv{family} {port}: {'; '.join(bad)}; {describe(a)}")
            if (result.get("probe") or {}).get("locate_rest"):
                chk.fail(f"run {n}: probe.locate_rest {result['probe']['locate_rest']!r}: something left untraced")
            log(f"run {n} probe -p {','.join(map(str, LOCATE_ALL_PORTS))}: {took:.2f} s")
            time.sleep(args.gap)
    return chk.report(lambda family, port: alone.get((family, port), {}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("check", choices=["forging", "silent", "ratelimit", "loss", "lost-refusal", "timing",
                                                "shared", "lost-baseline", "locate-all"])
    parser.add_argument("--synprobe", required=True)
    parser.add_argument("--lab", required=True, help="tests/lab/lab.sh")
    parser.add_argument("--delay", help="splab-delay (default: lab.sh finds or builds one)")
    parser.add_argument("--injector", help="splab-injector (forging, loss, lost-refusal)")
    parser.add_argument("--schema", required=True, help="docs/schema/synprobe.schema.json")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=2.0, help="synprobe --timeout")
    parser.add_argument("--gap", type=float,
                        help="seconds between runs, so that the routers' ICMP budgets refill (1/s, "
                             "burst 6; default: forging 4, silent 3, ratelimit 1, loss, lost-refusal, "
                             "timing and shared 6; locate-all 2: its routers have no ICMP limit)")
    args = parser.parse_args()
    args.before_run = None
    if args.gap is None:
        args.gap = {"forging": 4.0, "silent": 3.0, "ratelimit": 1.0, "loss": 6.0, "lost-refusal": 6.0,
                    "timing": 6.0, "shared": 6.0, "lost-baseline": 6.0, "locate-all": 2.0}[args.check]
    if os.geteuid() != 0:
        print("lab test: needs root, skipped")
        return 77
    if args.check in ("forging", "loss", "lost-refusal") and not args.injector:
        parser.error(f"{args.check} needs --injector")
    for p in ("synprobe", "lab", "delay", "injector"):
        v = getattr(args, p)
        if v:
            setattr(args, p, os.path.abspath(v))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    validator = cp.load_validator(args.schema)
    t0 = time.monotonic()
    rc = {"forging": cmd_forging, "silent": cmd_silent, "ratelimit": cmd_ratelimit,
          "loss": cmd_loss, "lost-refusal": cmd_lost_refusal, "timing": cmd_timing,
          "shared": cmd_shared, "lost-baseline": cmd_lost_baseline,
          "locate-all": cmd_locate_all}[args.check](args, validator)
    log(f"{args.check}: {time.monotonic() - t0:.1f} s")
    return rc


if __name__ == "__main__":
    sys.exit(main())
