#!/usr/bin/python3
"""The man page and --help agree: every option that `synprobe --help` and each
`synprobe COMMAND --help` list is described in docs/man/synprobe.1 for that command, and
every option the man page describes for a command is one its --help lists.

The man page marks each block of options with a comment line
    .\\" options: analyze probe trace
naming the commands the block belongs to; an option is a tag line (the line after .TP).
Also: man(1) renders the page without a warning, its header names the binary's version,
and it describes every verdict and every signal of docs/signals.md.
"""
import os
import re
import subprocess
import sys

from help_options import COMMANDS, help_options


def man_options(page):
    """{command: set of options} from the page's option blocks."""
    options = {c: set() for c in COMMANDS}
    commands = []
    lines = page.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r'^\.\\" options: (.*)$', line)
        if m:
            commands = [] if m.group(1).strip() == "end" else m.group(1).split()
            unknown = set(commands) - set(COMMANDS)
            if unknown:
                raise SystemExit(f"man page: unknown command(s) in '{line}': {unknown}")
            continue
        if line.startswith(".SH"):
            commands = []
        if line == ".TP" and commands and i + 1 < len(lines):
            tag = re.sub(r"\\f[BIRP]", "", lines[i + 1]).replace("\\-", "-")
            names = set(re.findall(r'(?:^\.\w+ |[\s"])(--?[A-Za-z0-9][A-Za-z0-9-]*)', tag))
            if not names:
                raise SystemExit(f"man page: an option block's tag names no option: {lines[i + 1]}")
            for c in commands:
                options[c] |= names
    return options


def main():
    synprobe, page_path = sys.argv[1], sys.argv[2]
    page = open(page_path).read()
    documented = man_options(page)
    failures = []
    for command in COMMANDS:
        listed = help_options(synprobe, command)
        if not listed:
            failures.append(f"{command}: --help lists no option (the parser of --help is broken?)")
        for o in sorted(listed - documented[command]):
            failures.append(f"{command}: {o} is in --help but not described in the man page")
        for o in sorted(documented[command] - listed):
            failures.append(f"{command}: {o} is described in the man page but not in --help")
        print(f"{command}: {len(listed)} options in --help, {len(documented[command])} in the man page")

    # The page's header names the binary's version.
    version = subprocess.run([synprobe, "--version"], capture_output=True, text=True, timeout=30).stdout.splitlines()[0]
    th = next((l for l in page.splitlines() if l.startswith(".TH ")), "")
    if f'"{version}"' not in th:
        failures.append(f"the man page's .TH line does not name \"{version}\": {th}")

    # Every verdict is named (as a tag of the VERDICTS section).
    for verdict in ["open", "refused-by-host", "refused-by-middlebox", "injected-reset", "icmp-unreachable",
                    "dropped", "inconclusive"]:
        if f".B {verdict.replace('-', chr(92) + '-')}\n" not in page:
            failures.append(f"verdict {verdict} is not described in the man page")

    # Every evidence signal of docs/signals.md (itself checked against the engine's table)
    # is described.
    signals_md = os.path.join(os.path.dirname(os.path.abspath(page_path)), "..", "signals.md")
    signals = re.findall(r"^\| `([a-z0-9-]+)` \|", open(signals_md).read(), re.M)
    if len(signals) < 50:
        failures.append(f"{signals_md}: only {len(signals)} signals read (the table's layout changed?)")
    for signal in signals:
        if f".B {signal.replace('-', chr(92) + '-')}\n" not in page:
            failures.append(f"signal {signal} is not described in the man page")

    # man renders it without a warning (groff's -ww through man --warnings).
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    run = subprocess.run(["man", "--warnings=all", "-E", "UTF-8", "-l", page_path], capture_output=True,
                         text=True, env=env, timeout=60)
    if run.returncode != 0 or run.stderr.strip():
        failures.append(f"man -l {page_path}: exit {run.returncode}: {run.stderr.strip()}")
    elif "EXIT STATUS" not in run.stdout or "SYNOPSIS" not in run.stdout:
        failures.append("the rendered page lacks its SYNOPSIS or EXIT STATUS section")

    for f in failures:
        print("FAIL " + f)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
