#!/usr/bin/python3
"""SIGTERM during a live run (docs/exit-codes.md: 130, "what was learnt is still printed,
marked interrupted"), with every output going to a file: the JSON (-o), the report for
people (--report) and the pcapng evidence (-w) must all be complete, and nothing else
(no temporary file) may be left beside them.

  check_probe_sigterm.py SYNPROBE

Sends only to 127.0.0.1, inside a network namespace of its own (unshare --net, only the
loopback up): nothing can leave it. Needs root (CAP_NET_RAW, namespaces); skips with 77
otherwise. (tests/e2e/check_loopback_probe.py covers SIGINT with the JSON on stdout.)

The run: 16 rounds of SYNs one second apart to a closed port. SIGTERM comes 1.5 s after
synprobe has dropped its privileges (seen in /proc/PID/status), that is after its first
answers and long before its last round.
"""
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

PORT = 9  # discard: closed in a fresh namespace


def wait_for_drop(pid, timeout=20.0):
    """Waits until the process no longer runs as root: setup is over, sending begins."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("Uid:") and line.split()[1] != "0":
                        return True
        except FileNotFoundError:
            return False
        time.sleep(0.05)
    return False


def pcapng_packets(path):
    """Walks a pcapng file block by block; returns (link types, packet bytes) or raises
    ValueError when it is not complete (a block cut short, lengths that disagree, bytes
    left over at the end)."""
    data = open(path, "rb").read()
    if data[:4] != b"\x0a\x0d\x0d\x0a":
        raise ValueError("does not start with a section header block")
    pos, order, links, packets = 0, "<", [], []
    while pos < len(data):
        if len(data) - pos < 12:
            raise ValueError(f"{len(data) - pos} bytes left at offset {pos}: a block cut short")
        if data[pos:pos + 4] == b"\x0a\x0d\x0d\x0a":
            magic = data[pos + 8:pos + 12]
            if magic not in (b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d"):
                raise ValueError(f"bad byte-order magic at {pos}")
            order = "<" if magic == b"\x4d\x3c\x2b\x1a" else ">"
            links = []
        btype, length = struct.unpack(order + "II", data[pos:pos + 8])
        if length < 12 or length % 4 or pos + length > len(data):
            raise ValueError(f"block at {pos} claims {length} bytes, {len(data) - pos} remain")
        (trailer,) = struct.unpack(order + "I", data[pos + length - 4:pos + length])
        if trailer != length:
            raise ValueError(f"block at {pos}: leading length {length}, trailing {trailer}")
        body = data[pos + 8:pos + length - 4]
        if btype == 1:
            links.append(struct.unpack(order + "H", body[:2])[0])
        elif btype == 6:
            iface, _, _, caplen, _ = struct.unpack(order + "IIIII", body[:20])
            if iface >= len(links):
                raise ValueError(f"packet at {pos} names interface {iface}, {len(links)} described")
            packets.append((links[iface], body[20:20 + caplen]))
        pos += length
    return links, packets


def tcp_of(link, frame):
    """(flags, sport, dport) of an IPv4 TCP frame, else None."""
    off = {1: 14, 113: 16, 276: 20, 101: 0, 228: 0}.get(link)
    if off is None or len(frame) < off + 20:
        return None
    if link == 1 and frame[12:14] != b"\x08\x00":
        return None
    ip = frame[off:]
    if ip[0] >> 4 != 4 or ip[9] != 6:
        return None
    tcp = ip[(ip[0] & 15) * 4:]
    if len(tcp) < 14:
        return None
    sport, dport = struct.unpack(">HH", tcp[:4])
    return tcp[13], sport, dport


def main():
    synprobe = sys.argv[1]
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        print("needs root and unshare (a network namespace of its own): skipped")
        return 77
    problems = []
    out = tempfile.mkdtemp(prefix="synprobe-sigterm-")
    os.chmod(out, 0o777)  # synprobe writes after becoming an unprivileged user
    try:
        json_path, pcap_path, md_path = (os.path.join(out, n) for n in ("out.json", "out.pcapng", "out.md"))
        command = ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
                   synprobe, "probe", f"127.0.0.1:{PORT}", "--count", "16", "--interval", "1", "--timeout", "1",
                   "--no-trace", "--json", "-o", json_path, "-w", pcap_path, "--report", md_path]
        # unshare and sh exec: the PID is synprobe's once it runs.
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            if not wait_for_drop(proc.pid):
                problems.append("synprobe never dropped its privileges (or ended early)")
            time.sleep(1.5)
            sent_at = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            stdout, stderr = proc.communicate(timeout=30)
            took = time.monotonic() - sent_at
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        print(f"exit {proc.returncode} {took:.2f} s after SIGTERM; stderr {stderr.strip()!r}")
        if proc.returncode != 130:
            problems.append(f"exit {proc.returncode}, expected 130 ({stderr.strip()})")
        if stdout:
            problems.append(f"stdout should be empty with -o: {stdout[:200]!r}")
        if took > 5:
            problems.append(f"took {took:.1f} s to stop after SIGTERM (timeout 1 s)")
        left = sorted(os.listdir(out))
        if left != ["out.json", "out.md", "out.pcapng"]:
            problems.append(f"files in the output directory: {left}, expected out.json, out.md, out.pcapng only")

        syn_count = None
        try:
            with open(json_path) as f:
                result = json.load(f)
            if result.get("interrupted") is not True:
                problems.append("JSON not marked interrupted")
            attempts = result.get("attempts", [])
            if len(attempts) != 1 or attempts[0]["verdict"] != "refused-by-host":
                problems.append(f"expected the one refused attempt, got {attempts}")
            else:
                syn_count = attempts[0]["syn_count"]
                print(f"JSON: interrupted, {syn_count} SYNs, verdict {attempts[0]['verdict']}")
                if not 1 <= syn_count < 16:
                    problems.append(f"sent {syn_count} SYNs, expected 1 to 15")
            if (result.get("probe") or {}).get("evidence_file") != pcap_path:
                problems.append(f"JSON does not name the evidence file: {result.get('probe')}")
        except (OSError, json.JSONDecodeError) as e:
            problems.append(f"JSON output missing or not complete: {e}")

        try:
            with open(md_path) as f:
                markdown = f.read()
            if "**interrupted**" not in markdown:
                problems.append("the Markdown report does not say the run was interrupted")
        except OSError as e:
            problems.append(f"Markdown report: {e}")

        try:
            links, packets = pcapng_packets(pcap_path)
            syns = resets = 0
            for link, frame in packets:
                tcp = tcp_of(link, frame)
                if tcp is None:
                    continue
                flags, sport, dport = tcp
                if dport == PORT and flags & 0x02 and not flags & 0x10:
                    syns += 1
                elif sport == PORT and flags & 0x04:
                    resets += 1
            print(f"pcapng: complete, {len(packets)} packets, link types {links}; "
                  f"{syns} SYNs to port {PORT}, {resets} resets from it")
            if syn_count is not None and (syns != syn_count or resets != syn_count):
                problems.append(f"pcapng holds {syns} SYNs and {resets} resets for port {PORT}, "
                                f"the JSON counts {syn_count} SYNs, each refused")
        except (OSError, ValueError, struct.error) as e:
            problems.append(f"pcapng evidence not complete: {e}")
    finally:
        shutil.rmtree(out, ignore_errors=True)
    for p in problems:
        print("FAIL", p)
    print("passed" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
