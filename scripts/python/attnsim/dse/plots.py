"""PNG plots of a sweep: Pareto fronts, heatmaps (one panel per facet value), scatters, and the
predicted-vs-measured scatter of the golden H200 dataset."""
from __future__ import annotations

import csv
import math
import os
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .. import REPO_ROOT  # noqa: E402
from .spec import Spec  # noqa: E402


def pareto_front(points: list[tuple[float, float]], x_sense: str = "min",
                 y_sense: str = "min") -> list[int]:
    """Indices of the non-dominated points, sorted by x. A point is dominated when another is
    at least as good in both objectives and better in one."""
    sx = 1 if x_sense == "min" else -1
    sy = 1 if y_sense == "min" else -1
    order = sorted(range(len(points)), key=lambda i: (sx * points[i][0], sy * points[i][1]))
    front, best_y = [], math.inf
    for i in order:
        y = sy * points[i][1]
        if y < best_y:
            front.append(i)
            best_y = y
    return front


def _numeric(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _ok_rows(table: list[dict]) -> list[dict]:
    return [row for row in table if row["status"] == "ok"]


def plot_pareto(table, plot: dict, out: Path) -> Path:
    rows = [r for r in _ok_rows(table)
            if _numeric(r.get(plot["x"])) is not None and _numeric(r.get(plot["y"])) is not None]
    xy = [(float(r[plot["x"]]), float(r[plot["y"]])) for r in rows]
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    color = plot.get("color")
    if color and rows:
        groups = sorted({str(r.get(color)) for r in rows}, key=_sort_key)
        for g in groups:
            sel = [p for p, r in zip(xy, rows) if str(r.get(color)) == g]
            ax.scatter([p[0] for p in sel], [p[1] for p in sel], s=18, alpha=0.7,
                       label=f"{color}={g}")
        ax.legend(fontsize=7)
    else:
        ax.scatter([p[0] for p in xy], [p[1] for p in xy], s=18, alpha=0.7)
    front = pareto_front(xy, plot.get("x_sense", "min"), plot.get("y_sense", "min"))
    ax.plot([xy[i][0] for i in front], [xy[i][1] for i in front], "k-", lw=1.2, marker="o",
            mfc="none", ms=8, label="Pareto front")
    ax.set_xlabel(f"{plot['x']} ({plot.get('x_sense', 'min')})")
    ax.set_ylabel(f"{plot['y']} ({plot.get('y_sense', 'min')})")
    ax.set_title(f"Pareto front: {len(front)} of {len(xy)} points")
    ax.grid(alpha=0.3)
    return _save(fig, out)


def _sort_key(value):
    number = _numeric(value)
    if number is not None:
        return (0, number, "")
    text = str(value)
    if "x" in text and all(part.isdigit() for part in text.split("x")):
        return (0, math.prod(int(p) for p in text.split("x")), text)
    return (1, 0, text)


def plot_heatmap(table, plot: dict, out: Path) -> Path:
    rows = [r for r in _ok_rows(table) if _numeric(r.get(plot["value"])) is not None]
    facet = plot.get("facet")
    facets = sorted({str(r.get(facet)) for r in rows}, key=_sort_key) if facet else [None]
    xs = sorted({str(r[plot["x"]]) for r in rows}, key=_sort_key)
    ys = sorted({str(r[plot["y"]]) for r in rows}, key=_sort_key)
    cols = min(len(facets), 3) or 1
    nrows = max(1, math.ceil(len(facets) / cols))
    fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, 3.6 * nrows), squeeze=False)
    for ax in axes.flat[len(facets):]:
        ax.axis("off")
    for ax, f in zip(axes.flat, facets):
        grid = np.full((len(ys), len(xs)), np.nan)
        for iy, y in enumerate(ys):
            for ix, x in enumerate(xs):
                # Mean over the parameters not on an axis (e.g. schedulers), said in the title.
                values = [float(r[plot["value"]]) for r in rows
                          if str(r[plot["x"]]) == x and str(r[plot["y"]]) == y
                          and (f is None or str(r.get(facet)) == f)]
                if values:
                    grid[iy, ix] = float(np.mean(values))
        image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
        for iy in range(len(ys)):
            for ix in range(len(xs)):
                if not np.isnan(grid[iy, ix]):
                    ax.text(ix, iy, f"{grid[iy, ix]:.3g}", ha="center", va="center",
                            fontsize=7, color="w")
        ax.set_xticks(range(len(xs)), xs, fontsize=7, rotation=30)
        ax.set_yticks(range(len(ys)), ys, fontsize=7)
        ax.set_xlabel(plot["x"])
        ax.set_ylabel(plot["y"])
        ax.set_title(f"{facet}={f}" if f is not None else plot["value"], fontsize=9)
        fig.colorbar(image, ax=ax, fraction=0.046)
    fig.suptitle(f"{plot['value']} (mean over the other parameters)", fontsize=10)
    return _save(fig, out)


def plot_scatter(table, plot: dict, out: Path) -> Path:
    plot = dict(plot, x_sense="min", y_sense="min")
    rows = [r for r in _ok_rows(table)
            if _numeric(r.get(plot["x"])) is not None and _numeric(r.get(plot["y"])) is not None]
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    ax.scatter([float(r[plot["x"]]) for r in rows], [float(r[plot["y"]]) for r in rows], s=18)
    ax.set_xlabel(plot["x"])
    ax.set_ylabel(plot["y"])
    ax.grid(alpha=0.3)
    return _save(fig, out)


def read_validation(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def plot_predicted_vs_measured(plot: dict, out: Path) -> Path:
    rows = read_validation(REPO_ROOT / plot["validation_csv"])
    fig, ax = plt.subplots(figsize=(5.6, 5.2))
    kernels = sorted({(r["kernel"], r["head_dim"]) for r in rows})
    for kernel, head_dim in kernels:
        sel = [r for r in rows if (r["kernel"], r["head_dim"]) == (kernel, head_dim)]
        ax.scatter([float(r["measured_ms"]) for r in sel],
                   [float(r["predicted_ms"]) for r in sel], s=14, alpha=0.7,
                   label=f"{kernel} d{head_dim}")
    # The calibration runs were fitted, so only the held-out ones test the model: mark them apart.
    fitted = [r for r in rows if str(r.get("in_fit", "0")) == "1"]
    if fitted:
        ax.scatter([float(r["measured_ms"]) for r in fitted],
                   [float(r["predicted_ms"]) for r in fitted], s=30, marker="x", color="black",
                   linewidths=0.8, label="in the calibration fit")
    values = [float(r[c]) for r in rows for c in ("measured_ms", "predicted_ms")]
    lo, hi = min(values), max(values)
    ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="predicted = measured")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("measured on the H200 (ms)")
    ax.set_ylabel("tilesim predicted (ms)")
    ax.set_title(f"{len(rows)} runs ({len(rows) - len(fitted)} held out), "
                 f"{plot['validation_csv'].split('/')[-3]}", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    return _save(fig, out)


def _save(fig, out: Path) -> Path:
    fig.tight_layout()
    tmp = out.with_name(out.stem + f".tmp-{os.getpid()}.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, out)
    return out


def draw_plots(spec: Spec, table: list[dict], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for plot in spec.plots:
        out = folder / (plot["name"].replace("/", "_").replace(" ", "_") + ".png")
        kind = plot["kind"]
        if kind == "pareto":
            written.append(plot_pareto(table, plot, out))
        elif kind == "heatmap":
            written.append(plot_heatmap(table, plot, out))
        elif kind == "scatter":
            written.append(plot_scatter(table, plot, out))
        else:
            written.append(plot_predicted_vs_measured(plot, out))
    return written
