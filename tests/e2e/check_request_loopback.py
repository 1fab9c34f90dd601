#!/usr/bin/python3
"""probe --sni / --http-host on loopback, in a network namespace of its own (unshare --net,
only lo up): nothing can leave it. Three things:

  1. verdicts: a server on 127.0.0.1 that answers requests naming allowed.test and resets
     (SO_LINGER 0) those naming blocked.test, after reading them: allowed is open at stage
     request, blocked refused-by-host at stage request, each with its trigger; the JSON
     is the one the schema describes (checked by the caller's other tests);
  2. cleanup: the run changes nothing on the host. The handshakes are the kernel's own, so
     no firewall rule is added (iptables-save and ip6tables-save, in the namespace, are
     the same before and after), and every connection it made ends with its RST: none is
     left in any state, not even the server's side (CLOSE-WAIT after a FIN);
  3. SIGTERM in the middle of a run (a server that reads and never answers keeps the
     request waiting its --timeout): exit 130, the JSON complete and marked interrupted,
     and again no rule and no socket left.

  check_request_loopback.py SYNPROBE

Needs root (CAP_NET_RAW, namespaces) and unshare; skips with 77 otherwise.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PORT = 8443
SILENT_PORT = 8444

# Runs in the namespace: the two servers, then synprobe, then the checks of what is left.
INNER = r'''
set -u
ip link set lo up
rules_before=$( (iptables-save; ip6tables-save) 2>/dev/null | grep -v '^#')
python3 - "$PORT" "$SILENT_PORT" <<'PY' &
import socket, struct, sys, threading
def serve(port, answer):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port)); s.listen(16)
    while True:
        c, _ = s.accept()
        threading.Thread(target=answer, args=(c,), daemon=True).start()
def by_name(c):
    data = c.recv(4096)
    if b"blocked.test" in data:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    else:
        c.sendall(b"\x15\x03\x03\x00\x02\x02\x28")  # a TLS alert: an answer all the same
    c.close()
def never(c):
    c.recv(4096)
    threading.Event().wait(60)
threading.Thread(target=serve, args=(int(sys.argv[1]), by_name), daemon=True).start()
serve(int(sys.argv[2]), never)
PY
servers=$!
sleep 0.5
"$@" &
probe=$!
echo "probe-pid $probe" >&2
wait $probe
status=$?
sleep 0.2
# Every connection synprobe made ends with its RST (SO_LINGER 0): none may be left in any
# state on the servers' ports, not even the server's side waiting for a close.
left=$(ss -Htan state all '( sport = :8443 or dport = :8443 or sport = :8444 or dport = :8444 )' 2>/dev/null |
       grep -vc '^LISTEN' || true)
rules_after=$( (iptables-save; ip6tables-save) 2>/dev/null | grep -v '^#')
kill $servers 2>/dev/null
echo "status $status"
echo "sockets-left $left"
[ "$rules_before" = "$rules_after" ] && echo "rules same" || echo "rules changed"
'''


def run(synprobe, args, term_after=None):
    """Runs synprobe ARGS in a fresh namespace; returns (inner report lines, stdout file text, probe's pid)."""
    workdir = tempfile.mkdtemp(prefix="synprobe-request-")
    os.chmod(workdir, 0o777)  # synprobe writes after becoming an unprivileged user
    out_path = os.path.join(workdir, "out.json")
    command = ["unshare", "--net", "bash", "-c", INNER.replace("$PORT", str(PORT)).replace("$SILENT_PORT", str(SILENT_PORT)),
               "bash", synprobe, "probe", *args, "--json", "-o", out_path]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid = None
    if term_after is not None:
        # The probe's PID, as the inner shell reports it; SIGTERM once it has run a while.
        deadline = time.monotonic() + 20
        line = ""
        while time.monotonic() < deadline and not line.startswith("probe-pid"):
            line = proc.stderr.readline()
        if line.startswith("probe-pid"):
            pid = int(line.split()[1])
            time.sleep(term_after)
            os.kill(pid, signal.SIGTERM)
    stdout, _ = proc.communicate(timeout=90)
    text = open(out_path).read() if os.path.exists(out_path) else ""
    shutil.rmtree(workdir, ignore_errors=True)
    return stdout.split("\n"), text, pid


def inner_value(lines, key):
    for line in lines:
        if line.startswith(key + " "):
            return line[len(key) + 1:]
    return None


def main():
    synprobe = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        print("needs root and unshare (a network namespace of its own): skipped")
        return 77
    problems = []

    lines, text, _ = run(synprobe, [f"127.0.0.1:{PORT}", "--sni", "allowed.test", "--sni", "blocked.test"])
    if inner_value(lines, "status") != "0":
        problems.append(f"verdict run: exit {inner_value(lines, 'status')}")
    try:
        doc = json.loads(text)
        got = {a.get("trigger"): (a["verdict"], a.get("stage"), a["actor"]) for a in doc["attempts"]}
        want = {"allowed.test": ("open", "request", "host"), "blocked.test": ("refused-by-host", "request", "host")}
        if got != want:
            problems.append(f"verdict run: {got}, expected {want}")
        else:
            print(f"ok   verdicts: {got}")
    except (json.JSONDecodeError, KeyError) as e:
        problems.append(f"verdict run: JSON: {e}")
    for label, key, good in (("verdict run", "sockets-left", "0"), ("verdict run", "rules", "same")):
        if inner_value(lines, key) != good:
            problems.append(f"{label}: {key} {inner_value(lines, key)}")

    t0 = time.monotonic()
    lines, text, pid = run(synprobe, [f"127.0.0.1:{SILENT_PORT}", "--sni", "slow.test", "--timeout", "10"],
                           term_after=1.5)
    took = time.monotonic() - t0
    if pid is None:
        problems.append("SIGTERM run: the probe's PID never came")
    if inner_value(lines, "status") != "130":
        problems.append(f"SIGTERM run: exit {inner_value(lines, 'status')}, expected 130")
    try:
        doc = json.loads(text)
        if doc.get("interrupted") is not True:
            problems.append("SIGTERM run: the JSON is not marked interrupted")
        else:
            print(f"ok   SIGTERM: exit 130, interrupted, {len(doc['attempts'])} attempt(s), {took:.1f} s")
    except json.JSONDecodeError as e:
        problems.append(f"SIGTERM run: the JSON is not complete: {e}")
    for key, good in (("sockets-left", "0"), ("rules", "same")):
        if inner_value(lines, key) != good:
            problems.append(f"SIGTERM run: {key} {inner_value(lines, key)}")
    if took > 8:
        problems.append(f"SIGTERM run took {took:.1f} s: the signal did not stop it promptly")
    if inner_value(lines, "rules") == "same" and inner_value(lines, "sockets-left") == "0":
        print("ok   no firewall rule and no socket left, after a whole run and after SIGTERM")
    for p in problems:
        print(f"FAIL {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
