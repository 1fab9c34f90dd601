"""The options each synprobe command lists in its --help (CLI11's layout: option rows
start with two spaces and a dash, names joined by commas: "  -F,--format TEXT ...")."""
import re
import subprocess

COMMANDS = ["synprobe", "analyze", "probe", "trace", "report", "diff", "merge"]


def help_text(synprobe, command):
    args = [synprobe, "--help"] if command == "synprobe" else [synprobe, command, "--help"]
    run = subprocess.run(args, capture_output=True, text=True, timeout=30)
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(args)} exited {run.returncode}: {run.stderr}")
    return run.stdout


def help_options(synprobe, command):
    options = set()
    for line in help_text(synprobe, command).splitlines():
        m = re.match(r"^  (-[^\s]+)", line)
        if m:
            options.update(name for name in m.group(1).split(",") if name.startswith("-"))
    return options
