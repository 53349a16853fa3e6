"""No test writes into the source tree: `scripts/attnsim test` snapshots the tree before the
suites run and checks it after, as one more JUnit suite ("tree") in the totals.

    python3 -m attnsim.source_tree snapshot FILE        # before the tests
    python3 -m attnsim.source_tree check FILE JUNIT     # after: JUNIT holds one test case

What counts: every path git reports as untracked, ignored or changed, outside build/ (the build and
its test outputs), .devcarry/ (the device machine's staging area) and __pycache__ folders, with its
git status and modification time. A path that is new after the tests, or whose status or time moved,
was written by a test.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from . import REPO_ROOT

EXEMPT_PREFIXES = ("build/", ".devcarry/")


def snapshot(root: Path = REPO_ROOT) -> dict[str, list]:
    listing = subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain=v1", "-z", "--ignored=traditional",
         "--untracked-files=all"], capture_output=True, check=True).stdout.decode()
    state = {}
    for entry in filter(None, listing.split("\0")):
        status, path = entry[:2], entry[3:]
        if path.startswith(EXEMPT_PREFIXES) or "__pycache__/" in path:
            continue
        try:
            mtime = (root / path).stat().st_mtime_ns
        except OSError:
            mtime = None  # deleted
        state[path] = [status, mtime]
    return state


def written(before: dict, after: dict) -> list[str]:
    return sorted(p for p, s in after.items() if before.get(p) != s) + \
        sorted(p for p in before if p not in after and before[p][1] is not None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("snapshot", help="record the tree's state").add_argument("state", type=Path)
    check = sub.add_parser("check", help="compare with a recorded state, write a JUnit case")
    check.add_argument("state", type=Path)
    check.add_argument("junit", type=Path)
    args = parser.parse_args(argv)
    if args.command == "snapshot":
        args.state.write_text(json.dumps(snapshot()))
        return 0
    paths = written(json.loads(args.state.read_text()), snapshot())
    suite = ET.Element("testsuite", name="tree", tests="1", failures=str(int(bool(paths))))
    case = ET.SubElement(suite, "testcase", classname="tree", name="source_tree_untouched")
    if paths:
        shown = paths[:20] + ([f"... and {len(paths) - 20} more"] if len(paths) > 20 else [])
        ET.SubElement(case, "failure", message="tests wrote into the source tree").text = \
            "\n".join(shown)
        print("source tree: the tests wrote " + ", ".join(shown), file=sys.stderr)
    ET.ElementTree(suite).write(args.junit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
