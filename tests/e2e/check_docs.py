#!/usr/bin/python3
"""The JSON contract is described once, in the schema; docs/json.md must name every field
the schema names, so that the human documentation cannot silently fall behind."""
import json
import pathlib
import sys


def names(node, out):
    if isinstance(node, dict):
        for key, value in node.get("properties", {}).items():
            out.add(key)
            names(value, out)
        for key in ("$defs", "items"):
            if key in node:
                sub = node[key]
                for value in (sub.values() if key == "$defs" else [sub]):
                    names(value, out)
    return out


def main():
    schema = json.loads(pathlib.Path(sys.argv[1]).read_text())
    doc = pathlib.Path(sys.argv[2]).read_text()
    missing = sorted(n for n in names(schema, set()) if f"`{n}`" not in doc)
    for n in missing:
        print(f"docs/json.md does not describe `{n}`")
    print(f"{len(names(schema, set())) - len(missing)} passed, {len(missing)} failed")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
