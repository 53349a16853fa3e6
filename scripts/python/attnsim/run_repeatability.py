"""How closely one H200 session repeats its own sm90 measurements: the flat grid's runs
(`sm90.json`) against the runs of the same masks that `--grid auto` put on the flat grid
(`sm90_auto.json`, `info.grid == "flat"`), taken minutes later in the same session with the same
binary on the same machine. Per head dim: how many pairs, and the median, 90th percentile and
maximum of |t_auto / t_flat - 1|. A prediction cannot be held to a tighter error than the
measurement repeats itself (golden/README.md, "Documents as intervals, and a fifth machine").

    python3 -m attnsim.run_repeatability golden/results/h200/2026-12-04-doc-runs-retime/rules ...
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


def repeatability(dataset: Path) -> list[dict]:
    """One row per head dim of `dataset` (a folder with sm90.json and sm90_auto.json)."""
    flat = {(r["mask"], r["head_dim"]): r["ms"] for r in _runs(dataset / "sm90.json")}
    spreads: dict[int, list[float]] = {}
    for run in _runs(dataset / "sm90_auto.json"):
        key = (run["mask"], run["head_dim"])
        if run.get("info", {}).get("grid") == "flat" and key in flat:
            spreads.setdefault(run["head_dim"], []).append(abs(run["ms"] / flat[key] - 1))
    if not spreads:
        raise RepeatabilityError(f"{dataset}: no mask ran on the flat grid in both sm90.json and "
                                 "sm90_auto.json")
    rows = []
    for head_dim, values in sorted(spreads.items()):
        values.sort()
        rows.append({"dataset": str(dataset), "head_dim": head_dim, "pairs": len(values),
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
    parser.add_argument("datasets", nargs="+", type=Path,
                        help="folders with sm90.json and sm90_auto.json of one session")
    add_format_option(parser)
    args = parser.parse_args(argv)
    try:
        rows = [row for dataset in args.datasets for row in repeatability(dataset)]
    except RepeatabilityError as error:
        print(f"run_repeatability: error: {error}", file=sys.stderr)
        return 2
    emit(args.format, rows, table=table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
