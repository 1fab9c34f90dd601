#!/usr/bin/env python3
"""Bad input at the command line: every case exits with its documented code
(docs/exit-codes.md) and prints exactly one line on stderr, "synprobe: ...", that names
the problem; nothing on stdout.

  check_cli_errors.py SYNPROBE SOURCE_DIR

Live-probing cases (probe, trace) must fail before anything is sent. As a safety net
they run in a network namespace of their own (unshare --net, loopback only), so even a
regression cannot put a packet on a real network. Cases that get past the privilege
check need root for that; without root they are skipped (the rest still run).
"""
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile


def main():
    synprobe, source = sys.argv[1], sys.argv[2]
    sample = os.path.join(source, "samples", "open", "capture.pcapng")
    root = os.geteuid() == 0
    tmp = tempfile.mkdtemp(prefix="synprobe-cli-")
    try:
        return run_cases(synprobe, source, sample, root, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_cases(synprobe, source, sample, root, tmp):
    def write(name, content):
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            f.write(content)
        return path

    good_json = os.path.join(tmp, "good.json")
    subprocess.run([synprobe, "analyze", sample, "--json", "-o", good_json], check=True)
    not_synprobe = write("other.json", '{"name": "not a synprobe result", "attempts": []}\n')
    huge_number = write("huge.json", "1E400\n")  # fuzzer finding json_report-cb29640cdf40
    newer = write("newer.json", '{"tool": "synprobe", "schema_version": "2.0"}\n')
    unreadable = write("unreadable.pcap", "")
    os.chmod(unreadable, 0)
    unreadable_json = write("unreadable.json", open(good_json).read())
    os.chmod(unreadable_json, 0)
    dir_html = os.path.join(tmp, "dir.html")  # a directory with a report's name
    os.mkdir(dir_html)
    # Writable by root only: probe/trace write their outputs after becoming nobody.
    root_only = os.path.join(tmp, "root-only")
    os.mkdir(root_only, 0o755)
    os.chmod(tmp, 0o755)
    # libpcap's D-Bus pseudo-device connects where DBUS_SESSION_BUS_ADDRESS says, and
    # "unixexec:" runs a program: it must never be reached (docs/HARDENING.md, the audit).
    marker = os.path.join(tmp, "dbus-program-ran")
    dbus_program = write("dbus-program.sh", f"#!/bin/sh\ntouch {marker}\n")
    os.chmod(dbus_program, 0o755)
    dbus_env = {"DBUS_SESSION_BUS_ADDRESS": f"unixexec:path={dbus_program}"}
    readme = os.path.join(source, "README.md")
    missing = os.path.join(tmp, "missing", "x")

    # (name, arguments, exit code, a regular expression the stderr line must match, kind[, env])
    # kind: "" any user; "live" gets past the privilege check (root, own namespace);
    #       "nobody" runs as an unprivileged user (root cannot be refused a read).
    # The classes every command is checked for, where they apply: directories given as
    # files, unreadable files, bad BPF, ports out of range, bad addresses. probe and trace
    # read no file and take no filter: trailing words are targets, refused as such.
    cases = [
        # analyze: files
        ("analyze-missing-file", ["analyze", missing], 3, r"No such file", ""),
        ("analyze-directory", ["analyze", tmp], 3, r"is a directory", ""),
        ("analyze-empty-file", ["analyze", "/dev/null"], 3, r"empty file", ""),
        ("analyze-not-a-capture", ["analyze", readme], 3, r"not a pcap or pcapng file", ""),
        ("analyze-unreadable-file", ["analyze", unreadable], 3, r"Permission denied", "nobody"),
        ("analyze-proc-mem", ["analyze", "/proc/self/mem"], 3, r"/proc/self/mem", ""),
        # analyze: arguments
        ("analyze-no-file", ["analyze"], 2, r"file is required", ""),
        ("analyze-bad-bpf", ["analyze", sample, "port", "notaport"], 2, r"bad filter expression", ""),
        ("analyze-bad-bpf-option", ["analyze", sample, "-f", "tcp and ("], 2, r"bad filter expression", ""),
        ("analyze-bpf-port-out-of-range", ["analyze", sample, "port", "70000"], 2, r"illegal port number 70000", ""),
        ("analyze-bpf-bad-ipv4", ["analyze", sample, "host", "300.1.2.3"], 2, r"invalid IPv4 address '300\.1\.2\.3'", ""),
        ("analyze-bpf-bad-ipv6-mask", ["analyze", sample, "net", "2001:db8::/200"], 2, r"mask length", ""),
        ("analyze-bad-format", ["analyze", sample, "--format", "yaml"], 2, r"yaml", ""),
        ("analyze-bad-color", ["analyze", sample, "--color", "sometimes"], 2, r"sometimes", ""),
        ("analyze-report-pdf", ["analyze", sample, "--report", "x.pdf"], 2, r"x\.pdf.*\.md", ""),
        ("analyze-unknown-option", ["analyze", sample, "--bogus"], 2, r"--bogus", ""),
        # analyze: output
        ("analyze-output-missing-dir", ["analyze", sample, "-o", missing], 7, r"missing", ""),
        ("analyze-output-is-directory", ["analyze", sample, "-o", tmp], 7, re.escape(tmp) + r": is a directory", ""),
        ("analyze-report-is-directory", ["analyze", sample, "--report", dir_html], 7, r"dir\.html: is a directory", ""),
        ("analyze-report-missing-dir", ["analyze", sample, "--report", missing + ".md"], 7, r"missing", ""),
        # report and diff
        ("report-missing-file", ["report", missing], 3, r"No such file", ""),
        ("report-not-json", ["report", readme], 3, r"not JSON", ""),
        ("report-not-synprobe-json", ["report", not_synprobe], 3, r"not a synprobe result", ""),
        ("report-number-overflow", ["report", huge_number], 3, r"not JSON", ""),
        ("report-newer-schema", ["report", newer], 3, r"schema_version 2\.0", ""),
        ("report-directory", ["report", tmp], 3, re.escape(tmp) + r": is a directory", ""),
        ("probe-bracketed-not-ipv6", ["probe", "[2001:db8::zz]:80"], 2, r"'2001:db8::zz' is not an IPv6 address", ""),
        ("probe-bracketed-ipv4", ["probe", "[198.18.4.10]:80"], 2, r"'198\.18\.4\.10' is not an IPv6 address", ""),
        ("report-endless-input", ["report", "/dev/zero"], 3, r"/dev/zero: larger than 512 MiB", ""),
        ("report-unreadable-file", ["report", unreadable_json], 3, r"unreadable\.json: Permission denied", "nobody"),
        ("report-output-is-directory", ["report", good_json, "-o", tmp], 7, re.escape(tmp) + r": is a directory", ""),
        ("report-bad-format", ["report", good_json, "--format", "pdf"], 2, r"pdf", ""),
        ("report-output-missing-dir", ["report", good_json, "-o", missing + ".md"], 7, r"missing", ""),
        ("diff-missing-file", ["diff", good_json, missing], 3, r"No such file", ""),
        ("diff-directory", ["diff", tmp, good_json], 3, re.escape(tmp) + r": is a directory", ""),
        ("diff-unreadable-file", ["diff", good_json, unreadable_json], 3, r"Permission denied", "nobody"),
        ("diff-one-file", ["diff", good_json], 2, r"after", ""),
        ("diff-not-synprobe-json", ["diff", not_synprobe, good_json], 3, r"not a synprobe result", ""),
        ("diff-bad-format", ["diff", good_json, good_json, "--format", "html"], 2, r"html", ""),
        ("merge-one-file", ["merge", good_json], 2, r"at least 2", ""),
        ("merge-missing-file", ["merge", good_json, missing], 3, r"No such file", ""),
        ("merge-directory", ["merge", good_json, tmp], 3, re.escape(tmp) + r": is a directory", ""),
        ("merge-not-json", ["merge", good_json, readme], 3, r"not JSON", ""),
        ("merge-not-synprobe-json", ["merge", good_json, not_synprobe], 3, r"not a synprobe result", ""),
        ("merge-unreadable-file", ["merge", good_json, unreadable_json], 3, r"Permission denied", "nobody"),
        ("merge-bad-change-at", ["merge", good_json, good_json, "--change-at", "noon"], 2, r"--change-at noon", ""),
        ("merge-output-missing-dir", ["merge", good_json, good_json, "-o", missing + ".md"], 7, r"missing", ""),
        # probe and trace: refused by the argument parser, before any privilege matters
        ("probe-no-target", ["probe"], 2, r"targets is required", ""),
        ("probe-port-too-big", ["probe", "192.0.2.1:70000"], 2, r"70000.*1-65535", ""),
        ("probe-port-zero", ["probe", "192.0.2.1:0"], 2, r"'0'.*1-65535", ""),
        ("probe-ports-option-too-big", ["probe", "192.0.2.1", "-p", "65536"], 2, r"65536", ""),
        ("probe-port-range-backwards", ["probe", "192.0.2.1", "-p", "10-5"], 2, r"10-5", ""),
        ("probe-port-name", ["probe", "192.0.2.1:http"], 2, r"'http'", ""),
        ("probe-sport-zero", ["probe", "192.0.2.1:80", "--sport", "0"], 2, r"--sport", ""),
        ("probe-count-zero", ["probe", "192.0.2.1:80", "--count", "0"], 2, r"--count", ""),
        ("probe-count-too-big", ["probe", "192.0.2.1:80", "--count", "17"], 2, r"--count", ""),
        ("probe-ttl-zero", ["probe", "192.0.2.1:80", "--ttl", "0"], 2, r"--ttl", ""),
        ("probe-ttl-too-big", ["probe", "192.0.2.1:80", "--ttl", "256"], 2, r"--ttl", ""),
        ("probe-interval-negative", ["probe", "192.0.2.1:80", "--interval", "-1"], 2, r"--interval", ""),
        ("probe-report-pdf", ["probe", "192.0.2.1:80", "--report", "x.pdf"], 2, r"x\.pdf", ""),
        ("probe-both-families", ["probe", "192.0.2.1:80", "-4", "-6"], 2, r"-4|-6", ""),
        ("trace-max-ttl-zero", ["trace", "192.0.2.1:80", "--max-ttl", "0"], 2, r"--max-ttl", ""),
        ("trace-repeat-too-big", ["trace", "192.0.2.1:80", "--repeat", "11"], 2, r"--repeat", ""),
        # probe and trace: refused after the privilege check, still before sending
        ("probe-sni-with-space", ["probe", "192.0.2.1:443", "--sni", "a b"], 2, r"--sni 'a b'.*space", "live"),
        ("probe-http-host-header", ["probe", "192.0.2.1:80", "--http-host", "a\r\nX-Y: 1"], 2, r"--http-host", "live"),
        ("probe-sni-too-long", ["probe", "192.0.2.1:443", "--sni", "a" * 254], 2, r"longer than 253", "live"),
        ("probe-source-short-form", ["probe", "192.0.2.1:80", "--source", "1.2.3"], 2, r"--source 1\.2\.3: not an IP address", "live"),
        ("probe-target-short-form", ["probe", "1.2.3:80"], 2, r"1\.2\.3: not an IP address", "live"),
        ("probe-target-octet-too-big", ["probe", "10.0.0.256:80"], 2, r"10\.0\.0\.256: not an IP address", "live"),
        ("probe-ipv4-only-v6-target", ["probe", "-4", "[2001:db8::1]:80"], 2, r"not an IPv4 address", "live"),
        ("probe-control-port-zero", ["probe", "127.0.0.1:9", "--control-port", "0"], 2, r"'0'", "live"),
        ("probe-output-missing-dir", ["probe", "127.0.0.1:9", "-o", missing], 7, r"does not exist", "live"),
        ("probe-write-missing-dir", ["probe", "127.0.0.1:9", "-w", missing + ".pcapng"], 7, r"does not exist", "live"),
        ("trace-output-missing-dir", ["trace", "127.0.0.1:9", "-o", missing], 7, r"does not exist", "live"),
        # probe and trace: directories given as files, refused before anything is sent
        ("probe-output-is-directory", ["probe", "127.0.0.1:9", "-o", tmp], 7, re.escape(tmp) + r": is a directory", "live"),
        ("probe-write-is-directory", ["probe", "127.0.0.1:9", "-w", tmp], 7, re.escape(tmp) + r": is a directory", "live"),
        ("probe-report-is-directory", ["probe", "127.0.0.1:9", "--report", dir_html], 7, r"dir\.html: is a directory", "live"),
        ("trace-output-is-directory", ["trace", "127.0.0.1:9", "-o", tmp], 7, re.escape(tmp) + r": is a directory", "live"),
        ("trace-write-is-directory", ["trace", "127.0.0.1:9", "-w", tmp], 7, re.escape(tmp) + r": is a directory", "live"),
        ("probe-output-unwritable", ["probe", "127.0.0.1:9", "-o", os.path.join(root_only, "x.json")], 7,
         r"user 'nobody'.*cannot write in", "live"),
        ("trace-write-unwritable", ["trace", "127.0.0.1:9", "-w", os.path.join(root_only, "x.pcapng")], 7,
         r"user 'nobody'.*cannot write in", "live"),
        # probe and trace: ports out of range, bad addresses, a filter where targets go
        ("probe-port-range-too-big", ["probe", "127.0.0.1", "-p", "65530-65540"], 2, r"'65540'.*1-65535", "live"),
        ("trace-port-too-big", ["trace", "127.0.0.1:65536"], 2, r"'65536'.*1-65535", "live"),
        ("trace-ports-option-zero", ["trace", "127.0.0.1", "-p", "0"], 2, r"'0'.*1-65535", "live"),
        ("probe-bracket-unclosed", ["probe", "[::1:80"], 2, r"missing '\]'", "live"),
        ("trace-bracket-unclosed", ["trace", "[::1:80"], 2, r"missing '\]'", "live"),
        ("probe-bad-ipv6", ["probe", "[2001:db8::zz]:80"], 2, r"2001:db8::zz", "live"),
        ("probe-ipv4-octet-too-big", ["probe", "300.1.1.1:80"], 2, r"300\.1\.1\.1: not an IP address", "live"),
        ("trace-ipv4-octet-too-big", ["trace", "300.1.1.1:80"], 2, r"300\.1\.1\.1: not an IP address", "live"),
        ("probe-source-bad-ipv6", ["probe", "127.0.0.1:9", "-S", "2001:db8::zz"], 2, r"--source 2001:db8::zz: not an IP address", "live"),
        ("probe-ipv6-only-v4-target", ["probe", "-6", "127.0.0.1:80"], 2, r"not an IPv6 address", "live"),
        ("probe-multicast", ["probe", "224.0.0.1:80"], 2, r"224\.0\.0\.1: it is a multicast address", "live"),
        ("trace-multicast-v6", ["trace", "[ff02::1]:80"], 2, r"ff02::1: it is a multicast address", "live"),
        ("probe-broadcast", ["probe", "255.255.255.255:80"], 2, r"it is the broadcast address", "live"),
        ("probe-unspecified", ["probe", "0.0.0.0:80"], 2, r"it is the unspecified address", "live"),
        ("trace-unspecified-v6", ["trace", "[::]:80"], 2, r"it is the unspecified address", "live"),
        ("probe-filter-as-target", ["probe", "127.0.0.1:80", "tcp and ("], 2, r"no port for 'tcp and \('", "live"),
        ("probe-unknown-user", ["probe", "127.0.0.1:9", "--user", "no-such-user-here"], 2, r"no-such-user-here: no such user", "live"),
        # interfaces: only the kernel's; never libpcap's D-Bus pseudo-device (see above)
        ("probe-unknown-interface", ["probe", "127.0.0.1:9", "-i", "nosuch0"], 6, r"no interface named nosuch0", "live"),
        ("probe-interface-dbus", ["probe", "127.0.0.1:9", "-i", "dbus-session"], 6, r"no interface named dbus-session",
         "live", dbus_env),
    ]

    in_netns = root and shutil.which("unshare") is not None
    failures, skipped = [], []
    for name, args, code, pattern, kind, *env in cases:
        command = [synprobe] + args
        if kind == "live" or args[0] in ("probe", "trace"):
            if not in_netns:
                if kind == "live":
                    skipped.append(name)
                    continue
            else:
                # A namespace of our own with only the loopback up: nothing can leave it.
                command = ["unshare", "--net", "sh", "-c", 'ip link set lo up 2>/dev/null; exec "$@"', "sh"] + command
        elif kind == "nobody":
            if not root:
                pass  # already unprivileged
            elif shutil.which("setpriv"):
                command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + command
            else:
                skipped.append(name)
                continue
        p = subprocess.run(command, capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, **env[0]) if env else None)
        lines = p.stderr.splitlines()
        problems = []
        if os.path.exists(marker):
            problems.append(f"DBUS_SESSION_BUS_ADDRESS's program ran ({marker} exists)")
            os.remove(marker)
        if p.returncode != code:
            problems.append(f"exit {p.returncode}, expected {code}")
        if len(lines) != 1 or not p.stderr.endswith("\n") or not lines[0].startswith("synprobe: "):
            problems.append("stderr is not one 'synprobe: ' line")
        elif not re.search(pattern, lines[0]):
            problems.append(f"stderr does not match /{pattern}/")
        if p.stdout:
            problems.append("something was printed on stdout")
        status = "ok" if not problems else "FAIL: " + "; ".join(problems)
        print(f"{name:32} {p.returncode:3}  {lines[0] if lines else '(no stderr)'}  [{status}]")
        if problems:
            failures.append(name)
            print(f"    command: {command}\n    stderr: {p.stderr!r}\n    stdout: {p.stdout[:300]!r}")
    print(f"{len(cases) - len(skipped)} cases run, {len(failures)} failed, {len(skipped)} skipped"
          + (f" (need root: {', '.join(skipped)})" if skipped else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
