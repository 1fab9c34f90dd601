#!/usr/bin/python3
"""Shell completion, driven as bash drives it: source completion/synprobe.bash, set
COMP_WORDS/COMP_CWORD/COMP_LINE/COMP_POINT, call _synprobe, read COMPREPLY. Once with
bash-completion's helpers loaded (as on an installed system) and once without.

Checks: `synprobe an<TAB>` gives analyze, `synprobe analyze --fo<TAB>` gives --format,
the --format values, capture files for analyze and JSON files for report/diff, and for
the top level and every command, `-<TAB>` offers exactly the options its --help lists.
zsh: the completion file parses (zsh -n) and names every option of every command.
"""
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

from help_options import COMMANDS, help_options

BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"

DRIVER = r"""
set +o history
%(preload)s
source "$SYNPROBE_COMPLETION" || exit 3
declare -F _synprobe >/dev/null || exit 4
shopt -s extglob
complete_words() {
  COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
  COMP_LINE=$SYNPROBE_LINE; COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  _synprobe synprobe "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
  printf '%%s\n' "${COMPREPLY[@]}"
}
complete_words "$@"
"""


def line_of(words):
    """The command line the words come from: bash splits "--format=j" into "--format", "=", "j"."""
    line = " ".join(words)
    return line.replace(" = ", "=").removesuffix(" =") + ("=" if words[-1] == "=" else "")


def complete(completion, words, cwd, with_bash_completion):
    preload = f'source {BASH_COMPLETION}' if with_bash_completion else ""
    run = subprocess.run(["bash", "--norc", "--noprofile", "-c", DRIVER % {"preload": preload}, "complete",
                          *words], capture_output=True, text=True, cwd=cwd, timeout=30,
                         env=dict(os.environ, SYNPROBE_COMPLETION=completion, SYNPROBE_LINE=line_of(words)))
    if run.returncode != 0 or run.stderr:
        raise SystemExit(f"bash completion of {words!r} failed ({run.returncode}): {run.stderr}")
    return {line for line in run.stdout.splitlines() if line}


def main():
    synprobe, completion_dir = os.path.abspath(sys.argv[1]), pathlib.Path(sys.argv[2]).resolve()
    bash_file = str(completion_dir / "synprobe.bash")
    zsh_file = completion_dir / "_synprobe"
    failures = []
    helps = {c: help_options(synprobe, c) for c in COMMANDS}

    with tempfile.TemporaryDirectory() as tmp:
        for name in ["lab.pcapng", "old.pcap", "result.json", "notes.txt"]:
            pathlib.Path(tmp, name).write_text("")
        os.mkdir(os.path.join(tmp, "captures"))
        cases = [
            (["synprobe", "an"], {"analyze"}),
            (["synprobe", "analyze", "--fo"], {"--format"}),
            (["synprobe", "analyze", "--format", ""], {"text", "json", "md", "html"}),
            (["synprobe", "report", "-F", "h"], {"html"}),
            # --format=VALUE: bash's COMP_WORDS split at '=' (COMP_WORDBREAKS)
            (["synprobe", "analyze", "--format", "=", "j"], {"json"}),
            (["synprobe", "analyze", "--format", "="], {"text", "json", "md", "html"}),
            (["synprobe", "diff", "--format", ""], {"text", "md", "json"}),
            (["synprobe", "probe", "--color", ""], {"auto", "always", "never"}),
            (["synprobe", "analyze", ""], {"lab.pcapng", "old.pcap", "captures"}),
            (["synprobe", "analyze", "-r", ""], {"lab.pcapng", "old.pcap", "captures"}),
            (["synprobe", "report", ""], {"result.json", "captures"}),
            (["synprobe", "diff", "result.json", ""], {"result.json", "captures"}),
            (["synprobe", "-"], helps["synprobe"]),
        ]
        cases += [(["synprobe", c, "-"], helps[c]) for c in COMMANDS if c != "synprobe"]
        modes = [False] + ([True] if os.path.exists(BASH_COMPLETION) else [])
        if len(modes) == 1:
            print(f"note: {BASH_COMPLETION} absent (package bash-completion): checked without its helpers only")
        for with_bc in modes:
            for words, expected in cases:
                got = complete(bash_file, words, tmp, with_bc)
                label = f"{' '.join(words)}<TAB>{' (bash-completion loaded)' if with_bc else ''}"
                if got != expected:
                    failures.append(f"{label}: got {sorted(got)}, expected {sorted(expected)}")
                else:
                    print(f"ok   {label}: {' '.join(sorted(got))}")

    if shutil.which("zsh"):
        run = subprocess.run(["zsh", "-n", str(zsh_file)], capture_output=True, text=True, timeout=30)
        if run.returncode != 0:
            failures.append(f"zsh -n {zsh_file}: {run.stderr.strip()}")
    else:
        print("note: zsh absent: _synprobe not parsed")
    zsh_text = zsh_file.read_text()
    for command, options in helps.items():
        for o in sorted(options):
            # zsh specs write an option as -F+ / --format= / '-4[' / {-h,--help}
            if not any(f"{o}{end}" in zsh_text for end in "+=[,}"):
                failures.append(f"zsh: {command}'s {o} is not in {zsh_file.name}")
        if command != "synprobe" and f"{command}:" not in zsh_text:
            failures.append(f"zsh: command {command} is not offered")

    for f in failures:
        print("FAIL " + f)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
