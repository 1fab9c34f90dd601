#!/usr/bin/python3
"""A full disk (docs/exit-codes.md): exit 7, one stderr line naming the file and the
reason, nothing on stdout, and no half-written file left behind: neither the output nor a
temporary file beside it, and a file that was already there keeps its old content.

  check_full_disk.py SYNPROBE SOURCE_DIR offline   analyze, report, diff
  check_full_disk.py SYNPROBE SOURCE_DIR live      probe -w / -o on 127.0.0.1

The disk is a 16 KiB tmpfs, filled to the last byte, mounted in a private mount namespace
(unshare --mount) that only this test sees; "live" also runs in a network namespace of its
own (unshare --net, only the loopback up), so nothing can leave it. Needs root; skips with
77 otherwise.
"""
import errno
import os
import re
import shutil
import subprocess
import sys
import tempfile


def fill(directory):
    """Writes a file until the file system has no byte left."""
    with open(os.path.join(directory, "filler"), "wb", buffering=0) as f:
        block = b"\xff" * 4096
        while True:
            try:
                f.write(block)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                break
        while True:  # the last partial block
            try:
                if not f.write(b"\xff"):
                    break
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                break


def inside(synprobe, source, mode):
    """Runs in the private namespaces: mounts the disk and runs the cases."""
    sample = os.path.join(source, "samples", "open", "capture.pcapng")
    work = tempfile.mkdtemp(prefix="synprobe-fulldisk-")
    os.chmod(work, 0o755)  # probe and trace write after becoming nobody
    disk = os.path.join(work, "disk")
    os.mkdir(disk)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k,mode=1777", "synprobe-full", disk], check=True)
    try:
        good = os.path.join(work, "good.json")  # not on the full disk
        subprocess.run([synprobe, "analyze", sample, "--json", "-o", good], check=True)
        # A result already there: a failed -o over it must leave it as it was.
        old = os.path.join(disk, "old.json")
        shutil.copy(good, old)
        old_bytes = open(old, "rb").read()
        os.chmod(old, 0o666)
        fill(disk)
        st = os.statvfs(disk)
        print(f"disk: {disk}, {st.f_bavail} blocks free; holds {sorted(os.listdir(disk))}")
        if st.f_bavail != 0:
            print("FAIL could not fill the disk")
            return 1

        def on_disk(name):
            return os.path.join(disk, name)

        if mode == "offline":
            cases = [
                ("analyze -o", [synprobe, "analyze", sample, "--json", "-o", on_disk("out.json")], "out.json"),
                ("analyze -o over an old file", [synprobe, "analyze", sample, "--json", "-o", old], "old.json"),
                ("analyze --report", [synprobe, "analyze", sample, "--report", on_disk("report.html")], "report.html"),
                ("analyze --report, -o", [synprobe, "analyze", sample, "--report", on_disk("r.md"),
                                          "-o", os.path.join(work, "never.txt")], "r.md"),
                ("report -o", [synprobe, "report", good, "--format", "md", "-o", on_disk("out.md")], "out.md"),
                ("diff -o", [synprobe, "diff", good, good, "-o", on_disk("diff.txt")], "diff.txt"),
            ]
        else:
            # 127.0.0.1:9 is closed in a fresh namespace: a short run, a few packets.
            probe = [synprobe, "probe", "127.0.0.1:9", "--no-trace", "--timeout", "0.3"]
            cases = [
                ("probe -w", probe + ["-w", on_disk("evidence.pcapng")], "evidence.pcapng"),
                ("probe -o", probe + ["--json", "-o", on_disk("out.json")], "out.json"),
                ("probe --report", probe + ["--report", on_disk("report.md")], "report.md"),
                ("trace -w", [synprobe, "trace", "127.0.0.1:9", "--timeout", "0.3", "--max-ttl", "2",
                              "-w", on_disk("trace.pcapng")], "trace.pcapng"),
            ]
        failures = 0
        before = sorted(os.listdir(disk))
        for name, command, target in cases:
            p = subprocess.run(command, capture_output=True, text=True, timeout=120)
            lines = p.stderr.splitlines()
            problems = []
            if p.returncode != 7:
                problems.append(f"exit {p.returncode}, expected 7")
            if len(lines) != 1 or not lines[0].startswith("synprobe: "):
                problems.append(f"stderr is not one 'synprobe: ' line: {p.stderr!r}")
            elif not (re.search(re.escape(target), lines[0]) and re.search(r"No space left on device", lines[0])):
                problems.append(f"stderr does not name {target} and 'No space left on device'")
            if p.stdout:
                problems.append(f"stdout is not empty: {p.stdout[:200]!r}")
            after = sorted(os.listdir(disk))
            if after != before:
                problems.append(f"the disk held {before}, now {after}")
            if open(old, "rb").read() != old_bytes:
                problems.append("old.json changed")
            if os.path.exists(os.path.join(work, "never.txt")):
                problems.append("-o was written although --report failed")
            print(f"{name:30} {p.returncode:3}  {lines[0] if lines else '(no stderr)'}  "
                  f"[{'ok' if not problems else 'FAIL: ' + '; '.join(problems)}]")
            failures += bool(problems)
        print(f"{len(cases)} cases, {failures} failed")
        return 1 if failures else 0
    finally:
        subprocess.run(["umount", disk])
        shutil.rmtree(work, ignore_errors=True)


def main():
    if len(sys.argv) == 5 and sys.argv[4] == "--inside":
        return inside(*sys.argv[1:4])
    synprobe, source, mode = sys.argv[1:4]
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        print("needs root and unshare (a mount namespace of its own): skipped")
        return 77
    namespaces = ["--mount", "--propagation", "private"] + (["--net"] if mode == "live" else [])
    script = 'ip link set lo up && exec "$@"' if mode == "live" else 'exec "$@"'
    return subprocess.run(["unshare"] + namespaces + ["sh", "-c", script, "sh", sys.executable,
                                                      os.path.abspath(__file__), synprobe, source, mode,
                                                      "--inside"]).returncode


if __name__ == "__main__":
    sys.exit(main())
