#!/usr/bin/python3
"""Plots a spatten-sim run (its stats.json) as one PNG: busy fraction per pipeline module, which
shows the bottleneck at a glance, and DRAM bytes by kind against the dense baseline, with the
reduction factor of each technique.

    MPLBACKEND=Agg PYTHONPATH=scripts/python /usr/bin/python3 -m attnsim.plot_spatten \\
        RUN/stats.json --out spatten.png [--title TEXT]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the headless backend)

REDUCTION_KEYS = ("token_pruning", "local_v_pruning", "head_pruning", "quantization")


class StatsError(ValueError):
    """The file is not a spatten-sim stats.json."""


def read_stats(path: Path) -> dict:
    try:
        stats = json.loads(path.read_text())
        utilization = {name: float(module["utilization"])
                       for name, module in stats["utilization"].items()}
        by_kind = {kind: int(v["transferred_bytes"])
                   for kind, v in stats["dram"]["bytes_by_kind"].items()}
        return {"cycles": int(stats["cycles"]), "utilization": utilization, "by_kind": by_kind,
                "dense_bytes": int(stats["dram"]["dense_baseline_bytes"]),
                "reduction": {k: float(stats["dram"]["reduction"][k])
                              for k in ("total", *REDUCTION_KEYS)}}
    except (OSError, json.JSONDecodeError) as error:
        raise StatsError(f"{path}: not readable as JSON: {error}") from None
    except (KeyError, TypeError, ValueError) as error:
        raise StatsError(f"{path}: field {error}: expected a spatten-sim stats.json") from None


def plot(stats: dict, out: Path, title: str | None = None) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5),
                                      gridspec_kw={"width_ratios": [3, 2]})
    names = sorted(stats["utilization"], key=stats["utilization"].get)
    values = [stats["utilization"][n] * 100 for n in names]
    left.barh(names, values, color=["#b2182b" if v == max(values) else "#4393c3" for v in values])
    left.set(xlim=(0, 100), xlabel="busy (% of the run's cycles)",
             title=f"module utilization over {stats['cycles']:,} cycles")
    for y, v in enumerate(values):
        left.text(v + 1, y, f"{v:.0f} %", va="center", fontsize=8)

    bottom = 0.0
    for kind, count in stats["by_kind"].items():
        right.bar(["SpAtten"], [count / 1e6], bottom=[bottom], label=kind)
        bottom += count / 1e6
    right.bar(["dense 16-bit"], [stats["dense_bytes"] / 1e6], color="0.6", label="dense baseline")
    r = stats["reduction"]
    right.set(ylabel="DRAM MB", title=f"DRAM: {r['total']:.1f}x below dense")
    right.text(0.98, 0.97, "\n".join(f"{k.replace('_', ' ')}: {r[k]:.2f}x" for k in REDUCTION_KEYS),
               transform=right.transAxes, ha="right", va="top", fontsize=8)
    right.legend(fontsize=8, loc="center right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stats", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--title")
    args = parser.parse_args(argv)
    try:
        stats = read_stats(args.stats)
    except StatsError as error:
        print(f"plot_spatten: error: {error}", file=sys.stderr)
        return 2
    plot(stats, args.out, args.title)
    return 0


if __name__ == "__main__":
    sys.exit(main())
