"""PNG plots of a sweep: Pareto fronts, heatmaps (one panel per facet value), scatters, and the
predicted-vs-measured scatter of the golden H200 dataset.

Plots say only what the data supports: a Pareto front is drawn over objectives (costs, spec.py
checks), an objective whose relative spread is below FLAT_SPREAD is reported as flat instead of
drawn as a trade-off, the front's points are labelled with their design, heatmap panels share
one labelled colour scale and a facet with no values gets no panel."""
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
from ..table_values import numeric as _numeric  # noqa: E402
from ..table_values import sort_key as _sort_key  # noqa: E402

#: An objective varying by less than this, relative to its mean, is flat: no trade-off to draw.
FLAT_SPREAD = 1e-3

#: Axis names for the result columns people plot most; other columns show their own name.
LABELS = {
    "area_mm2": "area (mm²)", "cycles": "cycles", "energy_j": "energy (J)",
    "seconds": "time (s)", "speedup": "speedup over the published design",
    "edp_nj_s": "energy × delay (nJ·s)", "predicted_ms": "predicted time (ms)",
    "predicted_speedup": "predicted speedup over dense", "density_tiles": "tile density",
    "density_tokens": "token density", "speedup_bound_sched": "schedule speedup bound",
    "efficiency_vs_bound": "predicted speedup / schedule bound",
}


def axis_label(column: str, sense: str | None = None) -> str:
    text = LABELS.get(column, column.replace("_", " "))
    if text != column:
        text += f"  [{column}]"
    if sense:
        text += ": lower is better" if sense == "min" else ": higher is better"
    return text


def relative_spread(values: list[float]) -> float:
    """(max - min) / |mean|: 0 for a constant, inf when the mean is 0 but values differ."""
    if not values:
        return 0.0
    span = max(values) - min(values)
    scale = abs(sum(values) / len(values))
    if span == 0:
        return 0.0
    return span / scale if scale > 0 else math.inf


def flat_axes(xy: list[tuple[float, float]]) -> dict[str, float]:
    """The axes ("x", "y") whose relative spread is below FLAT_SPREAD, with that spread."""
    spreads = {axis: relative_spread([p[i] for p in xy]) for i, axis in enumerate(("x", "y"))}
    return {axis: spread for axis, spread in spreads.items() if spread < FLAT_SPREAD}


def design_label(row: dict, parameters: list[str]) -> str:
    """The point's parameter values, short names ("lanes=16, channels=8")."""
    return ", ".join(f"{name.split('.')[-1]}={row.get(name)}" for name in parameters)


def _varying(rows: list[dict], parameters: list[str]) -> list[str]:
    return [p for p in parameters if len({str(r.get(p)) for r in rows}) > 1]


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


def _ok_rows(table: list[dict]) -> list[dict]:
    return [row for row in table if row["status"] == "ok"]


def plot_pareto(table, plot: dict, out: Path, parameters: list[str] | None = None) -> Path:
    rows = [r for r in _ok_rows(table)
            if _numeric(r.get(plot["x"])) is not None and _numeric(r.get(plot["y"])) is not None]
    xy = [(float(r[plot["x"]]), float(r[plot["y"]])) for r in rows]
    senses = {"x": plot.get("x_sense", "min"), "y": plot.get("y_sense", "min")}
    names = _varying(rows, parameters or [])
    fig, ax = plt.subplots(figsize=(7.2, 5.4))
    color = plot.get("color")
    if color and rows:
        groups = sorted({str(r.get(color)) for r in rows}, key=_sort_key)
        for g in groups:
            sel = [p for p, r in zip(xy, rows) if str(r.get(color)) == g]
            ax.scatter([p[0] for p in sel], [p[1] for p in sel], s=18, alpha=0.7,
                       label=f"{color}={g}")
    else:
        ax.scatter([p[0] for p in xy], [p[1] for p in xy], s=18, alpha=0.7)
    spreads = {axis: relative_spread([p[i] for p in xy]) for i, axis in enumerate(("x", "y"))}
    flat = list(flat_axes(xy))
    for axis in flat:  # a flat axis reads as one value, not as noise around an offset
        values = [p[0 if axis == "x" else 1] for p in xy]
        mid = sum(values) / len(values)
        half = max(abs(mid) * 5 * FLAT_SPREAD, 1e-300)
        (ax.set_xlim if axis == "x" else ax.set_ylim)(mid - half, mid + half)
    ax.ticklabel_format(useOffset=False)
    if xy and len(flat) == 1:
        # One objective is flat: the other alone ranks the designs; mark its best.
        other = "y" if flat[0] == "x" else "x"
        index = 0 if other == "x" else 1
        pick = min if senses[other] == "min" else max
        best = pick(range(len(xy)), key=lambda i: xy[i][index])
        ax.scatter([xy[best][0]], [xy[best][1]], s=90, facecolors="none", edgecolors="k",
                   label=f"best {plot[other]}")
        _annotate(ax, [best], xy, rows, names)
        title = (f"{plot[flat[0]]} is flat (relative spread {spreads[flat[0]]:.1e} over "
                 f"{len(xy)} designs): no trade-off, {plot[other]} alone ranks them")
    elif xy and len(flat) == 2:
        title = (f"{plot['x']} and {plot['y']} are both flat over {len(xy)} designs "
                 f"(relative spreads {spreads['x']:.1e}, {spreads['y']:.1e})")
    else:
        front = pareto_front(xy, senses["x"], senses["y"])
        ax.plot([xy[i][0] for i in front], [xy[i][1] for i in front], "k-", lw=1.2, marker="o",
                mfc="none", ms=8, label="Pareto front")
        shared = _annotate(ax, front, xy, rows, names)
        title = f"Pareto front: {len(front)} of {len(xy)} designs" + (
            f" (all with {shared})" if shared else "")
    ax.set_xlabel(axis_label(plot["x"], senses["x"]))
    ax.set_ylabel(axis_label(plot["y"], senses["y"]))
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return _save(fig, out)


def _annotate(ax, indices: list[int], xy, rows, names: list[str]) -> str:
    """Labels points with their design (right and left of the point in turn, so neighbours do
    not overlap); returns what the labelled designs share, for the title."""
    # Only what tells the labelled designs apart on the points; what they share, once.
    varying = _varying([rows[i] for i in indices], names) or names
    shared = [n for n in names if n not in varying]
    for k, i in enumerate(indices):
        right = k % 2 == 0
        ax.annotate(design_label(rows[i], varying), xy[i], xytext=(8 if right else -8, 4),
                    textcoords="offset points", fontsize=6, ha="left" if right else "right",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.7, "lw": 0})
    return design_label(rows[indices[0]], shared) if shared and indices else ""


def plot_heatmap(table, plot: dict, out: Path) -> Path:
    rows = [r for r in _ok_rows(table) if _numeric(r.get(plot["value"])) is not None]
    facet = plot.get("facet")
    facets = sorted({str(r.get(facet)) for r in rows}, key=_sort_key) if facet else [None]
    xs = sorted({str(r[plot["x"]]) for r in rows}, key=_sort_key)
    ys = sorted({str(r[plot["y"]]) for r in rows}, key=_sort_key)
    grids = {}
    for f in facets:
        grid = np.full((len(ys), len(xs)), np.nan)
        for iy, y in enumerate(ys):
            for ix, x in enumerate(xs):
                # Mean over the parameters not on an axis (e.g. schedulers), said in the title.
                values = [float(r[plot["value"]]) for r in rows
                          if str(r[plot["x"]]) == x and str(r[plot["y"]]) == y
                          and (f is None or str(r.get(facet)) == f)]
                if values:
                    grid[iy, ix] = float(np.mean(values))
        if not np.isnan(grid).all():  # no empty panels
            grids[f] = grid
    panels = list(grids) or [None]
    cols = max(1, math.ceil(math.sqrt(len(panels))))
    nrows = max(1, math.ceil(len(panels) / cols))
    fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols + 1.0, 3.6 * nrows + 0.6),
                             squeeze=False, layout="constrained")
    for ax in axes.flat[len(panels):]:
        fig.delaxes(ax)
    values = [v for g in grids.values() for v in g[~np.isnan(g)]]
    # One colour scale for every panel, so equal colours mean equal values.
    norm = plt.Normalize(min(values), max(values)) if values else plt.Normalize(0, 1)
    image = None
    for ax, f in zip(axes.flat, panels):
        grid = grids.get(f, np.full((len(ys), len(xs)), np.nan))
        image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis", norm=norm)
        for iy in range(len(ys)):
            for ix in range(len(xs)):
                if not np.isnan(grid[iy, ix]):
                    shade = norm(grid[iy, ix])
                    ax.text(ix, iy, f"{grid[iy, ix]:.3g}", ha="center", va="center",
                            fontsize=7, color="k" if shade > 0.6 else "w")
        ax.set_xticks(range(len(xs)), xs, fontsize=7, rotation=30)
        ax.set_yticks(range(len(ys)), ys, fontsize=7)
        ax.set_xlabel(axis_label(plot["x"]))
        ax.set_ylabel(axis_label(plot["y"]))
        ax.set_title(f"{facet} = {f}" if f is not None else plot["value"], fontsize=9)
    if image is not None:
        fig.colorbar(image, ax=axes.ravel().tolist()[:len(panels)],
                     label=axis_label(plot["value"]), shrink=0.9)
    dropped = [f for f in facets if f not in grids]
    fig.suptitle(f"{axis_label(plot['value'])}: mean over the parameters not on an axis"
                 + (f"; no values for {facet} = {', '.join(dropped)}" if dropped else ""),
                 fontsize=10)
    return _save(fig, out)


def plot_scatter(table, plot: dict, out: Path) -> Path:
    """Two columns against each other, no front: for quantities that are not both costs (e.g.
    a mask's density against the speedup it gets)."""
    rows = [r for r in _ok_rows(table)
            if _numeric(r.get(plot["x"])) is not None and _numeric(r.get(plot["y"])) is not None]
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    color = plot.get("color")
    groups = sorted({str(r.get(color)) for r in rows}, key=_sort_key) if color else [None]
    for g in groups:
        sel = [r for r in rows if g is None or str(r.get(color)) == g]
        ax.scatter([float(r[plot["x"]]) for r in sel], [float(r[plot["y"]]) for r in sel], s=18,
                   alpha=0.7, label=f"{color}={g}" if g is not None else None)
    if color:
        ax.legend(fontsize=7)
    ax.set_xlabel(axis_label(plot["x"]))
    ax.set_ylabel(axis_label(plot["y"]))
    ax.set_title(f"{len(rows)} points", fontsize=9)
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
    if not fig.get_constrained_layout():
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
            written.append(plot_pareto(table, plot, out, [p.name for p in spec.parameters]))
        elif kind == "heatmap":
            written.append(plot_heatmap(table, plot, out))
        elif kind == "scatter":
            written.append(plot_scatter(table, plot, out))
        else:
            written.append(plot_predicted_vs_measured(plot, out))
    return written
