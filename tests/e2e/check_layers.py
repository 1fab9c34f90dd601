#!/usr/bin/python3
"""dissect/'s layers include one way only (dissect/README.md):

    decode  <-  infer  <-  verdict  <-  trace

A file of a layer may include its own layer's headers and those of the layers before it,
never one after it. Every source file of dissect/ lives in a layer's folder, includes
dissect's headers by their path from the repository's root ("dissect/decode/packet.hpp",
never a sibling's bare name), and includes nothing from capture/, reports/ or src/ (the
pure library links fmt only).

  check_layers.py SOURCE_DIR     checks SOURCE_DIR/dissect
  check_layers.py --self-test    shows that it fails on trees that break each rule
"""
import pathlib
import re
import sys
import tempfile

LAYERS = ["decode", "infer", "verdict", "trace"]
SOURCES = {".cpp", ".hpp", ".h", ".cc"}
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)
OUTSIDE = ("capture/", "reports/", "src/")


def problems(root):
    dissect = root / "dissect"
    found = []
    files = sorted(p for p in dissect.rglob("*") if p.is_file() and p.suffix in SOURCES)
    if not files:
        return [f"{dissect}: no sources found"]
    for path in files:
        rel = path.relative_to(root).as_posix()
        parts = path.relative_to(dissect).parts
        if len(parts) != 2 or parts[0] not in LAYERS:
            found.append(f"{rel}: not in one of dissect/{{{','.join(LAYERS)}}}/")
            continue
        rank = LAYERS.index(parts[0])
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            target = m.group(1)
            where = f"{rel}:{number}: #include \"{target}\""
            if target.startswith(OUTSIDE):
                found.append(f"{where}: the pure library includes nothing outside dissect/")
                continue
            if not target.startswith("dissect/"):
                found.append(f"{where}: include dissect's headers from the root (\"dissect/<layer>/<file>\")")
                continue
            tparts = target.split("/")
            if len(tparts) != 3 or tparts[1] not in LAYERS:
                found.append(f"{where}: not a header of a layer")
                continue
            if not (root / target).is_file():
                found.append(f"{where}: no such file")
                continue
            trank = LAYERS.index(tparts[1])
            if trank > rank:
                found.append(f"{where}: {parts[0]}/ may not include {tparts[1]}/ "
                             f"(allowed: {', '.join(LAYERS[:rank + 1])})")
    return found


def self_test():
    """Each broken tree must fail, the good one must pass."""
    good = {
        "dissect/decode/packet.hpp": "#pragma once\n",
        "dissect/infer/attempt.hpp": '#include "dissect/decode/packet.hpp"\n',
        "dissect/verdict/verdict.hpp": '#include "dissect/infer/attempt.hpp"\n',
        "dissect/trace/trace.hpp": '#include "dissect/verdict/verdict.hpp"\n#include "dissect/decode/packet.hpp"\n',
    }
    broken = {
        "decode includes infer": {"dissect/decode/packet.cpp": '#include "dissect/infer/attempt.hpp"\n'},
        "infer includes verdict": {"dissect/infer/attempt.cpp": '#include "dissect/verdict/verdict.hpp"\n'},
        "verdict includes trace": {"dissect/verdict/verdict.cpp": '  #  include "dissect/trace/trace.hpp"\n'},
        "sibling include": {"dissect/infer/ip_id.hpp": '#include "attempt.hpp"\n'},
        "file outside the layers": {"dissect/stray.hpp": "#pragma once\n"},
        "unknown layer": {"dissect/util/x.hpp": "#pragma once\n"},
        "missing header": {"dissect/trace/x.cpp": '#include "dissect/decode/nothing.hpp"\n'},
        "includes capture": {"dissect/decode/x.cpp": '#include "capture/route.hpp"\n'},
    }
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra in [("good tree", {})] + list(broken.items()):
            root = pathlib.Path(tmp) / re.sub(r"\W+", "-", name)
            for rel, text in {**good, **extra}.items():
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_text(text)
            found = problems(root)
            ok = not found if not extra else len(found) == 1
            print(f"{'ok  ' if ok else 'FAIL'} {name}: {found or 'no problem'}")
            failures += not ok
    print(f"{len(broken) + 1 - failures} passed, {failures} failed")
    return 1 if failures else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    found = problems(pathlib.Path(sys.argv[1]))
    for p in found:
        print(p)
    print("dissect's layers include one way" if not found else f"{len(found)} problems")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
