#!/usr/bin/python3
"""Plots `tilesim predict --trace t.csv` CSV as an occupancy timeline PNG: one lane per SM slot with
a bar per work item, and under it the number of busy slots over time, so the tail of the launch
is visible at a glance. Bars are coloured by head (--color head, the default: shows the launch
order; a colour scale with one step per head says which head is which) or by the item's share of
masked tiles (--color masked: shows where masking costs).

    MPLBACKEND=Agg PYTHONPATH=scripts/python /usr/bin/python3 -m attnsim.plot_timeline timeline.csv \\
        --out timeline.png [--mask NAME] [--color head|masked] [--title TEXT]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the headless backend)
from matplotlib.collections import PolyCollection  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

COLUMNS = ["mask", "slot", "sm", "batch", "head", "q_tile", "start_us", "end_us", "tiles_full",
           "tiles_partial", "tiles_empty_visited"]


class TimelineError(ValueError):
    """The CSV is not a tilesim timeline."""


def read_timeline(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise TimelineError(f"{path}: not a tilesim timeline: missing columns {missing}")
    if frame.empty:
        raise TimelineError(f"{path}: the timeline has no work items")
    return frame


def busy_slots(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step function of running items: times (sorted) and the count from each time on."""
    times = np.concatenate([starts, ends])
    deltas = np.concatenate([np.ones_like(starts), -np.ones_like(ends)])
    order = np.lexsort((deltas, times))  # at equal times, ends (-1) before starts (+1)
    return times[order], np.cumsum(deltas[order])


def plot(frame: pd.DataFrame, out: Path, title: str | None = None, color: str = "head") -> None:
    slots = int(frame["slot"].max()) + 1
    makespan = float(frame["end_us"].max())
    start, end = frame["start_us"].to_numpy(), frame["end_us"].to_numpy()
    lane = frame["slot"].to_numpy()
    if color == "masked":
        tiles = (frame["tiles_full"] + frame["tiles_partial"] + frame["tiles_empty_visited"])
        masked = (frame["tiles_partial"] + frame["tiles_empty_visited"]) / tiles.clip(lower=1)
        colours = plt.get_cmap("viridis")(masked.to_numpy())
        legend = "masked share of the item's tiles"
    else:
        heads = frame["head"].to_numpy()
        head_count = int(heads.max()) + 1
        # One colour per head, in a colour scale whose steps are labelled with the head: tab20
        # up to 20 heads, a continuous map cut into head_count steps beyond (never reused).
        cmap = plt.get_cmap("tab20" if head_count <= 20 else "turbo", head_count)
        head_norm = matplotlib.colors.BoundaryNorm(np.arange(head_count + 1) - 0.5, head_count)
        colours = cmap(head_norm(heads))
        legend = None
    fig, (lanes, busy) = plt.subplots(2, 1, figsize=(12, 7), sharex=True, layout="constrained",
                                      gridspec_kw={"height_ratios": [4, 1]})
    # One polygon per item: thousands of bars draw in a second, unlike barh.
    boxes = np.stack([np.stack([start, lane - 0.45], 1), np.stack([end, lane - 0.45], 1),
                      np.stack([end, lane + 0.45], 1), np.stack([start, lane + 0.45], 1)], 1)
    lanes.add_collection(PolyCollection(boxes, facecolors=colours, edgecolors="white",
                                        linewidths=0.2))
    lanes.set_ylim(slots - 0.5, -0.5)
    lanes.set_ylabel("SM slot")
    busy_time = float((end - start).sum())
    efficiency = busy_time / (slots * makespan) if makespan > 0 else 0.0
    mask = str(frame["mask"].iloc[0])
    lanes.set_title(title or f"{mask}: {len(frame)} work items on {slots} slots, makespan "
                    f"{makespan:.1f} us, wave efficiency {efficiency:.1%}", fontsize=10)
    if legend:
        scale = plt.cm.ScalarMappable(cmap="viridis", norm=plt.Normalize(0, 1))
        fig.colorbar(scale, ax=[lanes, busy], label=legend, pad=0.01)
    else:
        scale = plt.cm.ScalarMappable(cmap=cmap, norm=head_norm)
        bar = fig.colorbar(scale, ax=[lanes, busy], label="head (batch items share colours)"
                           if int(frame["batch"].max()) > 0 else "head", pad=0.01)
        step = max(1, int(np.ceil(head_count / 32)))
        bar.set_ticks(np.arange(0, head_count, step))
    times, running = busy_slots(start, end)
    busy.step(times, running, where="post", color="black", linewidth=1)
    busy.axhline(slots, color="grey", linestyle=":", linewidth=1)
    busy.set_ylim(0, slots * 1.1)
    busy.set_ylabel("busy slots")
    busy.set_xlabel("time (us)")
    busy.set_xlim(0, makespan * 1.01 if makespan > 0 else 1)
    tmp = out.with_name(f"{out.name}.tmp-{os.getpid()}")
    try:
        fig.savefig(tmp, dpi=110, format="png")
        os.replace(tmp, out)
    finally:
        plt.close(fig)
        tmp.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("timeline", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="PNG to write")
    parser.add_argument("--mask", help="which mask of a multi-mask timeline (default: the first)")
    parser.add_argument("--color", choices=["head", "masked"], default="head")
    parser.add_argument("--title")
    args = parser.parse_args(argv)
    try:
        frame = read_timeline(args.timeline)
        masks = list(dict.fromkeys(frame["mask"]))
        mask = args.mask if args.mask is not None else masks[0]
        if mask not in masks:
            raise TimelineError(f"{args.timeline}: mask '{mask}' not in the timeline "
                                f"(it has: {', '.join(masks)})")
        plot(frame[frame["mask"] == mask], args.out, args.title, args.color)
    except (OSError, TimelineError, pd.errors.ParserError) as error:
        print(f"plot_timeline: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
