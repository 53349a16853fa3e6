"""How closely an H200 measurement repeats itself, per head dim: how many pairs of runs of the
same mask, and the median, 90th percentile and maximum of |t_2 / t_1 - 1|. A prediction cannot be
held to a tighter error than the measurement repeats (golden/README.md, "Documents as intervals,
and a fifth machine").

- DATASET folders: the sm90 kernel's flat-grid runs (`sm90.json`) against the runs of the same
  masks that `--grid auto` put on the flat grid (`sm90_auto.json`, `info.grid == "flat"`), taken
  minutes later in the same session with the same binary on the same machine.
- `--pair FIRST SECOND`: two measurement files of the same masks, e.g. FlexAttention timed twice
  in one session (golden/results/h200/2026-12-04-flex-repeat/).
- `--min-ms`: only masks whose first run took at least this long (the issues' error targets are
  looser under 0.2 ms).

    python3 -m attnsim.run_repeatability golden/results/h200/2026-12-04-doc-runs-retime/rules ...
    python3 -m attnsim.run_repeatability --min-ms 0.2 --pair A.json B.json
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from .output_format import add_format_option, emit


class RepeatabilityError(Exception):
    """A folder without the two measurement files, or a file without runs."""


def _runs(path: Path) -> list[dict]:
    try:
        runs = json.loads(path.read_text())["runs"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise RepeatabilityError(f"{path}: expected a bsattn-bench JSON with 'runs' ({error})")
    if not isinstance(runs, list):
        raise RepeatabilityError(f"{path}: runs: expected a list")
    return runs


def repeatability(dataset: Path, min_ms: float = 0.0) -> list[dict]:
    """One row per head dim of `dataset` (a folder with sm90.json and sm90_auto.json)."""
    first = _runs(dataset / "sm90.json")
    second = [r for r in _runs(dataset / "sm90_auto.json")
              if r.get("info", {}).get("grid") == "flat"]
    rows = _rows(str(dataset), first, second, min_ms)
    if not rows:
        floor = f" for {min_ms} ms or more" if min_ms else ""
        raise RepeatabilityError(f"{dataset}: no mask ran on the flat grid in both sm90.json and "
                                 f"sm90_auto.json{floor}")
    return rows


def pair_repeatability(first: Path, second: Path, min_ms: float = 0.0) -> list[dict]:
    """One row per head dim of two measurement files of the same masks."""
    rows = _rows(f"{first} vs {second}", _runs(first), _runs(second), min_ms)
    if not rows:
        raise RepeatabilityError(f"{second}: no run of a mask and head dim that {first} has"
                                 + (f" for {min_ms} ms or more" if min_ms else ""))
    return rows


def _rows(label: str, first: list[dict], second: list[dict], min_ms: float) -> list[dict]:
    before = {(r["mask"], r["head_dim"]): r["ms"] for r in first}
    spreads: dict[int, list[float]] = {}
    for run in second:
        key = (run["mask"], run["head_dim"])
        if key in before and before[key] >= min_ms:
            spreads.setdefault(run["head_dim"], []).append(abs(run["ms"] / before[key] - 1))
    rows = []
    for head_dim, values in sorted(spreads.items()):
        values.sort()
        rows.append({"dataset": label, "head_dim": head_dim, "pairs": len(values),
                     "median": statistics.median(values),
                     "p90": values[min(len(values) - 1, int(0.9 * len(values)))],
                     "max": values[-1]})
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| dataset | d | pairs | median | p90 | max |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['dataset']} | {r['head_dim']} | {r['pairs']} | {r['median'] * 100:.1f} % | "
              f"{r['p90'] * 100:.1f} % | {r['max'] * 100:.1f} % |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="*", type=Path,
                        help="folders with sm90.json and sm90_auto.json of one session")
    parser.add_argument("--pair", nargs=2, type=Path, action="append", default=[],
                        metavar=("FIRST", "SECOND"),
                        help="two measurement files of the same masks (repeatable)")
    parser.add_argument("--min-ms", type=float, default=0.0,
                        help="only masks whose first run took at least this many ms")
    add_format_option(parser)
    args = parser.parse_args(argv)
    if not args.datasets and not args.pair:
        parser.error("give DATASET folders or --pair FIRST SECOND")
    try:
        rows = [row for dataset in args.datasets for row in repeatability(dataset, args.min_ms)]
        rows += [row for first, second in args.pair
                 for row in pair_repeatability(first, second, args.min_ms)]
    except RepeatabilityError as error:
        print(f"run_repeatability: error: {error}", file=sys.stderr)
        return 2
    emit(args.format, rows, table=table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
