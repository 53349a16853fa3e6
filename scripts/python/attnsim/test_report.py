"""Totals of a test run from JUnit XML files (ctest --output-junit, pytest --junitxml), printed as
the last lines of `scripts/attnsim test`. Exit status 1 if anything failed or a suite left no
report (it crashed or never ran)."""
from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from dataclasses import asdict
from pathlib import Path

from .output_format import add_format_option, emit, human


@dataclass
class SuiteTotals:
    name: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failed_names: list[str] = field(default_factory=list)
    skipped_names: list[str] = field(default_factory=list)
    missing: bool = False


def read_junit(name: str, path: Path) -> SuiteTotals:
    totals = SuiteTotals(name)
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        totals.missing = True
        return totals
    for case in root.iter("testcase"):
        label = case.get("name", "?")
        if case.get("classname") and name == "pytest":
            label = f"{case.get('classname')}.{label}"
        if case.find("failure") is not None or case.find("error") is not None:
            totals.failed += 1
            totals.failed_names.append(label)
        elif case.find("skipped") is not None or case.get("status") in ("notrun", "disabled"):
            totals.skipped += 1
            totals.skipped_names.append(label)
        else:
            totals.passed += 1
    return totals


def summarize(suites: list[SuiteTotals]) -> tuple[str, bool]:
    lines = ["", "== attnsim test summary =="]
    ok = True
    for s in suites:
        if s.missing:
            lines.append(f"{s.name:<7} no report: the suite did not run to completion")
            ok = False
            continue
        lines.append(f"{s.name:<7} {s.passed} passed, {s.failed} failed, {s.skipped} skipped")
        for failed in s.failed_names:
            lines.append(f"          FAILED  {failed}")
        for skipped in s.skipped_names:
            lines.append(f"          skipped {skipped}")
        ok = ok and s.failed == 0
    total = [sum(getattr(s, k) for s in suites) for k in ("passed", "failed", "skipped")]
    lines.append(f"{'total':<7} {total[0]} passed, {total[1]} failed, {total[2]} skipped: "
                 f"{'OK' if ok else 'FAILED'}")
    return "\n".join(lines), ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", metavar="NAME=JUNIT.xml")
    add_format_option(parser)
    args = parser.parse_args(argv)
    suites = []
    for spec in args.reports:
        name, _, path = spec.partition("=")
        suites.append(read_junit(name, Path(path)))
    text, ok = summarize(suites)
    print(text, file=human(args.format))
    rows = [{k: v for k, v in asdict(s).items() if not k.endswith("_names")} for s in suites]
    emit(args.format, {"ok": ok, "suites": [asdict(s) for s in suites]}, rows=rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
