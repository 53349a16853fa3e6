"""--format json|table|csv for the package's entry points, as the C++ tools have it
(sim/common/output_format.h): json and csv put the results alone on stdout and the human-readable
lines on stderr; table (the entry points' default unless said) keeps the readable text on stdout.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys

FORMATS = ("json", "table", "csv")


def add_format_option(parser: argparse.ArgumentParser, default: str = "table") -> None:
    parser.add_argument("--format", choices=FORMATS, default=default,
                        help=f"what stdout carries: json, table or csv (default: {default}); with "
                             "json or csv the human-readable lines go to stderr")


def human(fmt: str):
    """Where the readable lines go: stdout for table, stderr for json and csv."""
    return sys.stdout if fmt == "table" else sys.stderr


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return value


def write_csv(rows: list[dict], stream=None) -> None:
    """One row per dict, columns in first-seen order."""
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    writer = csv.DictWriter(stream or sys.stdout, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})


def emit(fmt: str, data, rows: list[dict] | None = None, table: str | None = None) -> None:
    """Prints the results: `data` as JSON, `rows` as CSV (default: `data` when it is a list of
    dicts), `table` as text (nothing when None: the tool printed its table as it went)."""
    if fmt == "json":
        print(json.dumps(data, indent=2, sort_keys=True, default=str))
    elif fmt == "csv":
        if rows is None:
            rows = data if isinstance(data, list) else [data]
        write_csv(rows)
    elif table is not None:
        print(table)
