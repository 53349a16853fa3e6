#!/usr/bin/python3
"""Compares kernels' measurement files (bsattn-bench / torch_attention_bench.py JSON) run on the
same masks: per head dim, how many masks the first kernel runs at least as fast as the reference
(time <= reference time), the median and worst time ratios, and a per-family table. Prints
Markdown (the results README's tables).

    golden/hopper/compare_runs.py --ref flexattention.json sm90.json sm90-persistent.json golden.json
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path


def load(path: Path) -> dict[tuple[str, int], float]:
    try:
        runs = json.loads(path.read_text())["runs"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"compare_runs: error: {path}: runs: expected a JSON object with 'runs' of mask, "
              f"head_dim and ms ({error})", file=sys.stderr)
        sys.exit(2)
    return {(run["mask"], int(run["head_dim"])): float(run["ms"]) for run in runs}


def family(mask: str) -> str:
    name = Path(mask).stem
    return re.sub(r"(-\d+)?-s\d+.*$", "", name)  # causal-s4096-h32, document-014-s8192-...


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", type=Path, required=True, action="append",
                        help="the reference kernel's JSON (again for more files, e.g. one per "
                        "head dim)")
    parser.add_argument("runs", type=Path, nargs="+", help="the kernels' JSON files")
    args = parser.parse_args(argv)
    ref = {key: ms for path in args.ref for key, ms in load(path).items()}
    print(f"Reference: `{'`, `'.join(path.name for path in args.ref)}`; ratio = reference time / "
          "kernel time (> 1: the kernel is faster).\n")
    print("| kernel | d | masks | >= reference speed | median ratio | worst ratio (mask) |")
    print("|---|---|---|---|---|---|")
    per_family: dict[str, dict[tuple[str, int], list[float]]] = {}
    for path in args.runs:
        runs = load(path)
        for d in sorted({d for _, d in runs}):
            ratios = {m: ref[(m, d)] / ms for (m, dd), ms in runs.items()
                      if dd == d and (m, d) in ref and ms > 0}
            if not ratios:
                continue
            worst = min(ratios, key=ratios.get)
            faster = sum(r >= 1.0 for r in ratios.values())
            print(f"| {path.stem} | {d} | {len(ratios)} | {faster} | "
                  f"{statistics.median(ratios.values()):.3f} | "
                  f"{ratios[worst]:.3f} ({Path(worst).stem}) |")
            for m, r in ratios.items():
                per_family.setdefault(family(m), {}).setdefault((path.stem, d), []).append(r)
    columns = [(p.stem, d) for p in args.runs for d in (64, 128)]
    columns = [c for c in columns if any(c in v for v in per_family.values())]
    print("\nMedian ratio per family:\n")
    print("| family | " + " | ".join(f"{k} d{d}" for k, d in columns) + " |")
    print("|---|" + "---|" * len(columns))
    for fam in sorted(per_family):
        cells = [f"{statistics.median(per_family[fam][c]):.2f}" if c in per_family[fam] else ""
                 for c in columns]
        print(f"| {fam} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
