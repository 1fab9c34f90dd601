#!/usr/bin/python3
"""Live probing on loopback, the most common "connection refused" of all: a development
server that is not running. Sends only to 127.0.0.1 and ::1. Needs root (CAP_NET_RAW);
skips with 77 otherwise.

1. `synprobe probe localhost:OPEN,CLOSED` probes both 127.0.0.1 and ::1 (names resolve to
   all their addresses): OPEN has a listener we start (socat, stopped by PID), CLOSED has
   none. Truth: open / refused-by-host, actor host, responder the address, hop 1.
2. Ctrl-C: a run with many rounds is interrupted by SIGINT after its first answers; it must
   still print complete JSON marked "interrupted": true, and exit with 130.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time


def free_port(family, address):
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def main():
    synprobe = sys.argv[1]
    if os.geteuid() != 0:
        print("needs root (CAP_NET_RAW): skipped")
        return 77
    problems = []
    open_port = free_port(socket.AF_INET6, "::1")
    closed_port = free_port(socket.AF_INET6, "::1")
    listener = subprocess.Popen(["socat", f"TCP6-LISTEN:{open_port},bind=[::1],fork,reuseaddr,ipv6only=0",
                                 "SYSTEM:true"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    listener4 = subprocess.Popen(["socat", f"TCP4-LISTEN:{open_port},bind=127.0.0.1,fork,reuseaddr", "SYSTEM:true"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        run = subprocess.run([synprobe, "probe", f"localhost:{open_port},{closed_port}", "--json", "--timeout", "1",
                              "--no-trace"], capture_output=True, text=True, timeout=60)
        if run.returncode != 0:
            problems.append(f"probe exit {run.returncode}: {run.stderr.strip()}")
        else:
            result = json.loads(run.stdout)
            found = {(a["dst"], a["dport"]): a for a in result["attempts"]}
            families = {a["family"] for a in result["attempts"]}
            if families != {4, 6}:
                problems.append(f"localhost should give both 127.0.0.1 and ::1, got families {families}")
            for address in ("127.0.0.1", "::1"):
                if (address, open_port) not in found and address == "::1" and 6 not in families:
                    continue
                for port, verdict in ((open_port, "open"), (closed_port, "refused-by-host")):
                    a = found.get((address, port))
                    if a is None:
                        problems.append(f"{address}:{port}: no attempt")
                        continue
                    got = (a["verdict"], a["actor"], a["responder"], a["hop"])
                    want = (verdict, "host", address, 1)
                    print(f"{address}:{port}: {got}")
                    if got != want:
                        problems.append(f"{address}:{port}: {got}, expected {want}")

        # Ctrl-C: 16 rounds one second apart; SIGINT after 1.5 s.
        proc = subprocess.Popen([synprobe, "probe", f"127.0.0.1:{closed_port}", "--json", "--count", "16",
                                 "--interval", "1", "--timeout", "1", "--no-trace"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        if proc.returncode != 130:
            problems.append(f"interrupted run: exit {proc.returncode}, expected 130 ({err.strip()})")
        try:
            result = json.loads(out)
            if result.get("interrupted") is not True:
                problems.append("interrupted run: JSON not marked interrupted")
            attempts = result.get("attempts", [])
            if len(attempts) != 1 or attempts[0]["verdict"] != "refused-by-host":
                problems.append(f"interrupted run: expected the one refused attempt, got {attempts}")
            elif not 1 <= attempts[0]["syn_count"] < 16:
                problems.append(f"interrupted run: sent {attempts[0]['syn_count']} SYNs, expected fewer than 16")
        except json.JSONDecodeError:
            problems.append(f"interrupted run: output is not complete JSON: {out[:200]!r}")
    finally:
        for p in (listener, listener4):
            p.terminate()
            p.wait(timeout=5)
    for p in problems:
        print("FAIL", p)
    print(f"{0 if problems else 1} passed, {1 if problems else 0} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
