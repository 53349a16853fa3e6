#!/usr/bin/python3
"""Turns a bsattn-bench / H200 session timing file (golden/results/...) into a `tilesim calibrate`
measurements file: one kernel configuration (head dim, dtype), masks as inline tilesim patterns,
and the runs to fit first.

    PYTHONPATH=scripts /usr/bin/python3 -m pyattnsim.tilesim_measurements \\
        golden/results/h200/2026-11-23-builtin-patterns/flexattention.json --head-dim 128 \\
        --fit 5 --out runs.json
    tilesim calibrate --kernel flexattention --measurements runs.json --fit-runs 5 --out cal.json

Mask names understood: dense, causal, window:LEFT:RIGHT (keys q-LEFT .. q+RIGHT: tilesim's
causal_window with window LEFT+1 when RIGHT is 0, else band). The --fit runs are spread over the masks and lengths: masks from the sparsest
(lowest allowed-pair density) to the densest, each contributing alternately its shortest and its
longest remaining run, so the sparse masks' fixed costs are seen at both ends; the rest follow,
held out.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .runinfo import write_json_atomically


class MeasurementError(ValueError):
    """A timing file or run this converter cannot express."""


def pattern_for(run: dict) -> str:
    """The inline tilesim pattern of one timed run."""
    geometry = f"seq_q={run['seq_q']},seq_kv={run['seq_kv']},heads={run['heads']}," \
               f"batch={run.get('batch', 1)}"
    name = run["mask"]
    if name == "dense":
        return f"pattern:dense,{geometry}"
    if name == "causal":
        return f"pattern:causal,{geometry}"
    parts = name.split(":")
    if len(parts) == 3 and parts[0] == "window" and parts[1].isdigit() and parts[2].isdigit():
        if parts[2] == "0":
            return f"pattern:causal_window,{geometry},window={int(parts[1]) + 1}"
        return f"pattern:band,{geometry},left={parts[1]},right={parts[2]}"
    raise MeasurementError(f"mask '{name}': expected dense, causal or window:LEFT:RIGHT")


def spread(runs: list[dict], count: int) -> list[dict]:
    """`count` runs covering every mask and both ends of the lengths, in a fixed order."""
    by_mask: dict[str, list[dict]] = {}
    for run in sorted(runs, key=lambda r: (r["mask"], r["seq_q"])):
        by_mask.setdefault(run["mask"], []).append(run)

    def density(group: list[dict]) -> float:
        return sum(r["allowed_pairs"] / (r["seq_q"] * r["seq_kv"]) for r in group) / len(group)

    groups = sorted(by_mask.values(), key=lambda g: (density(g), g[0]["mask"]))
    picked = []
    while len(picked) < min(count, len(runs)):
        for group in groups:
            for end in (0, -1):  # shortest, then longest
                if group and len(picked) < count:
                    picked.append(group.pop(end))
    return picked


def convert(timings: dict, head_dim: int, dtype: str, fit: int, source: str) -> dict:
    runs = [r for r in timings["runs"] if r["head_dim"] == head_dim and r["dtype"] == dtype]
    if not runs:
        raise MeasurementError(f"{source}: no runs with head_dim {head_dim} and dtype {dtype}")
    if any(r.get("kv_heads", r["heads"]) != r["heads"] for r in runs):
        raise MeasurementError(f"{source}: GQA runs are not converted yet")
    first = spread(runs, fit)
    rest = [r for r in runs if not any(r is f for f in first)]
    return {
        "gpu": timings["gpu"], "kernel": timings["kernel"],
        "provenance": f"converted from {source} (head_dim {head_dim}, {dtype}); the first "
                      f"{len(first)} runs are the fit set",
        "runs": [{"mask": pattern_for(r), "ms": r["ms"], "head_dim": head_dim, "dtype": dtype}
                 for r in first + rest]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("timings", type=Path)
    parser.add_argument("--head-dim", type=int, default=128)
    parser.add_argument("--dtype", default="bf16")
    parser.add_argument("--fit", type=int, default=5, help="runs placed first, for --fit-runs")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        timings = json.loads(args.timings.read_text())
        converted = convert(timings, args.head_dim, args.dtype, args.fit, str(args.timings))
    except (OSError, KeyError, json.JSONDecodeError, MeasurementError) as error:
        print(f"tilesim_measurements: error: {args.timings}: {error}", file=sys.stderr)
        return 2
    write_json_atomically(args.out, converted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
