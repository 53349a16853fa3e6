#!/usr/bin/python3
"""Interactive HTML report of a run folder (report.html): every view the folder's files support,
as plotly figures that zoom and pan, in one file that opens offline (plotly.js is embedded).

Views, by the files found in the folder and its subfolders (up to three levels down):
- `validation.csv` (scripts/validate_gpu.py): predicted against measured time, log-log, one
  colour per kernel and head dim, held-out runs apart from the runs the calibration was fitted
  on, the line predicted = measured and its +-5 % band; then the held-out error per mask rule;
- `results.csv` beside `spec.resolved.json` (attnsim.dse): each plot the spec asks for (heatmap
  per facet on one colour scale, scatter, Pareto front, predicted against measured);
- `results.json` of `tilesim bounds|predict --out DIR`: each mask's speedup bounds and prediction;
- a tilesim timeline CSV (`tilesim predict --trace t.csv`): work items on SM slots, one colour
  per head, over the number of busy slots (zoom with the mouse, double-click to reset);
- `stats.json` of spatten-sim: module utilization and DRAM traffic;
- `results.json` of `topk-cosim --out DIR`: RTL against model cycles per (n, k) group;
- `results.json` of `topk-stats --out DIR`: cycles per (n, k) against the public model;
- `results.json` of `softmax-error --out DIR`: the error of each hardware softmax stage.

The C++ tools run this module on their own `--out DIR` run folders (sim/common/run_report.h;
`--no-report` skips it), so each of their run folders has its report.html.

    PYTHONPATH=scripts/python /usr/bin/python3 -m attnsim.html_report RUN_DIR [--out FILE]
        [--title TEXT] [--format json|table|csv]

The HTML is deterministic: the same folder gives the same bytes (plot ids are numbered, not
random). Exit 2 when the folder has nothing to report or a file is malformed (the message names
the file, the column and what was expected).
"""
from __future__ import annotations

import argparse
import csv
import html
import json
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .table_values import numeric as _numeric
from .table_values import sort_key as _sort_key

REPORT_NAME = "report.html"
#: Columns of a tilesim timeline CSV (tilesim predict --trace), as plot_timeline reads them.
TIMELINE_COLUMNS = ["mask", "slot", "sm", "batch", "head", "q_tile", "start_us", "end_us",
                    "tiles_full", "tiles_partial", "tiles_empty_visited"]
VALIDATION_COLUMNS = ["case", "kernel", "head_dim", "measured_ms", "predicted_ms", "error",
                      "in_fit", "rule"]
#: The issue's error band for predictions (gpu_validation.ERROR_TARGET_MAX).
ERROR_BAND = 0.05
MAX_DEPTH = 3
#: Qualitative colours (plotly's D3 palette, 10 steps; categorical data beyond 10 repeats them
#: with a different marker so no two groups look the same).
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]
SYMBOLS = ["circle", "square", "diamond", "triangle-up", "cross"]


class ReportError(ValueError):
    """A file of the run folder cannot be reported on; names the file, the field and what was
    expected."""


@dataclass
class Figure:
    """One plot of the report: a heading, a line saying what is drawn, and plotly's figure."""
    title: str
    caption: str
    figure: object  # plotly.graph_objects.Figure
    source: str  # the file it was drawn from, relative to the run folder


@dataclass
class Report:
    folder: Path
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _go():
    try:
        import plotly.graph_objects as go
    except ImportError as error:  # a missing dependency is the environment's fault, said once
        raise ReportError("python3-plotly is not installed (scripts/setup.sh installs it): "
                          f"{error}") from error
    return go


def _read_csv(path: Path, required: list[str]) -> list[dict]:
    try:
        with open(path, newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise ReportError(f"{path}: missing column(s) {', '.join(missing)} "
                                  f"(expected {', '.join(required)})")
            return list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ReportError(f"{path}: cannot read: {error}") from error


def _number(path: Path, row_index: int, row: dict, column: str) -> float:
    text = row.get(column)
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ReportError(f"{path}: row {row_index + 2}, column '{column}': expected a number, "
                          f"got '{text}'") from None
    if not math.isfinite(value):
        raise ReportError(f"{path}: row {row_index + 2}, column '{column}': expected a finite "
                          f"number, got '{text}'")
    return value


def _header(path: Path) -> list[str]:
    try:
        with open(path, newline="") as handle:
            return next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def _files(folder: Path, depth: int = 0):
    """Files under `folder`, sorted, at most MAX_DEPTH levels down; skips hidden entries."""
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir() and depth < MAX_DEPTH:
            yield from _files(entry, depth + 1)
        elif entry.is_file():
            yield entry


def _layout(go, title: str, x: str, y: str, **extra):
    return go.Layout(title={"text": title, "font": {"size": 14}}, xaxis={"title": {"text": x}},
                     yaxis={"title": {"text": y}}, template="plotly_white",
                     legend={"title": {"text": extra.pop("legend_title", "")}},
                     margin={"l": 70, "r": 30, "t": 60, "b": 60}, **extra)


# ---- predicted against measured (validate_gpu run folders) --------------------------------------

def validation_figures(path: Path, folder: Path) -> list[Figure]:
    go = _go()
    rows = _read_csv(path, VALIDATION_COLUMNS)
    if not rows:
        raise ReportError(f"{path}: no runs (expected one row per run)")
    for i, row in enumerate(rows):
        row["_measured"] = _number(path, i, row, "measured_ms")
        row["_predicted"] = _number(path, i, row, "predicted_ms")
        row["_error"] = _number(path, i, row, "error")
        if row["_measured"] <= 0 or row["_predicted"] <= 0:
            raise ReportError(f"{path}: row {i + 2}: measured_ms and predicted_ms must be > 0 "
                              f"(log axes), got {row['measured_ms']}, {row['predicted_ms']}")
        if str(row["in_fit"]) not in ("0", "1"):
            raise ReportError(f"{path}: row {i + 2}, column 'in_fit': expected 0 or 1, got "
                              f"'{row['in_fit']}'")
    source = str(path.relative_to(folder))
    groups = sorted({(r["kernel"], r["head_dim"]) for r in rows},
                    key=lambda g: (g[0], int(g[1]) if g[1].isdigit() else 0, g[1]))
    traces = []
    for n, (kernel, head_dim) in enumerate(groups):
        for fitted in (False, True):
            sel = [r for r in rows if (r["kernel"], r["head_dim"]) == (kernel, head_dim)
                   and (r["in_fit"] == "1") == fitted]
            if not sel:
                continue
            traces.append(go.Scatter(
                x=[r["_measured"] for r in sel], y=[r["_predicted"] for r in sel],
                mode="markers", name=f"{kernel} d{head_dim}, "
                                     + ("in the calibration fit" if fitted else "held out"),
                marker={"color": PALETTE[n % len(PALETTE)], "size": 9 if fitted else 7,
                        "symbol": "x" if fitted else SYMBOLS[(n // len(PALETTE)) % len(SYMBOLS)],
                        "opacity": 0.8},
                text=[f"{r['case']}<br>rule {r['rule']}<br>error {r['_error']:+.1%}"
                      for r in sel],
                hovertemplate="%{text}<br>measured %{x:.4f} ms<br>predicted %{y:.4f} ms"
                              "<extra></extra>"))
    values = [r[k] for r in rows for k in ("_measured", "_predicted")]
    lo, hi = min(values) / 1.2, max(values) * 1.2
    traces.append(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="predicted = measured",
                             line={"color": "black", "dash": "dash", "width": 1}))
    traces.append(go.Scatter(x=[lo, hi, hi, lo], y=[lo * (1 - ERROR_BAND), hi * (1 - ERROR_BAND),
                                                    hi * (1 + ERROR_BAND), lo * (1 + ERROR_BAND)],
                             mode="lines", fill="toself", fillcolor="rgba(0,0,0,0.08)",
                             line={"width": 0}, hoverinfo="skip",
                             name=f"±{ERROR_BAND:.0%} of measured"))
    held = [r for r in rows if r["in_fit"] == "0"]
    layout = _layout(go, f"Predicted against measured: {len(rows)} runs, {len(held)} held out",
                     "measured time (ms, log scale)", "tilesim predicted time (ms, log scale)",
                     legend_title="kernel, head dim, role", height=560)
    layout.xaxis.type = layout.yaxis.type = "log"
    first = Figure("Predicted against measured", "Each point is one measured run; points on "
                   "the dashed line are predicted exactly, the grey band is ±5 % of the measured "
                   "time. Crosses were used to fit the cost model, so only the other points test "
                   "it.", go.Figure(traces, layout), source)
    figures = [first]
    if held:
        for r in held:  # validation.csv says "-" for runs without a mask rule
            r["_rule"] = "(no rule)" if r["rule"] in ("", "-") else r["rule"]
        rules = sorted({r["_rule"] for r in held})
        box = []
        for n, (kernel, head_dim) in enumerate(groups):
            sel = [r for r in held if (r["kernel"], r["head_dim"]) == (kernel, head_dim)]
            if sel:
                box.append(go.Box(x=[r["_rule"] for r in sel], y=[100 * r["_error"] for r in sel],
                                  name=f"{kernel} d{head_dim}", boxpoints="all", jitter=0.4,
                                  pointpos=0, marker={"color": PALETTE[n % len(PALETTE)]},
                                  text=[r["case"] for r in sel]))
        layout = _layout(go, f"Held-out error by mask rule ({len(held)} runs)", "mask rule",
                         "error, % ((predicted - measured) / measured)",
                         legend_title="kernel, head dim", boxmode="group", height=460)
        layout.xaxis.categoryorder = "array"
        layout.xaxis.categoryarray = rules
        layout.shapes = [{"type": "rect", "xref": "paper", "x0": 0, "x1": 1, "yref": "y",
                          "y0": -100 * ERROR_BAND, "y1": 100 * ERROR_BAND, "line": {"width": 0},
                          "fillcolor": "rgba(0,128,0,0.08)", "layer": "below"}]
        figures.append(Figure("Held-out error by mask rule", "One box per kernel and rule over "
                              "the held-out runs (every run drawn as a point); the green band "
                              "is ±5 %.", go.Figure(box, layout), source))
    return figures


# ---- DSE sweep views (attnsim.dse run folders) ---------------------------------------------------

def _axis_label(column: str, sense: str | None = None) -> str:
    from .dse.plots import axis_label  # the PNG plots' labels, so both say the same
    return axis_label(column, sense)


def dse_figures(results: Path, folder: Path) -> list[Figure]:
    go = _go()
    spec_path = results.parent / "spec.resolved.json"
    try:
        spec = json.loads(spec_path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ReportError(f"{spec_path}: cannot read the sweep's resolved spec: {error}") from None
    plots = spec.get("plots") if isinstance(spec, dict) else None
    if not isinstance(plots, list):
        raise ReportError(f"{spec_path}: field 'plots': expected a list, got "
                          f"{type(plots).__name__}")
    table = [r for r in _read_csv(results, ["key", "status"]) if r["status"] == "ok"]
    parameters = list(spec.get("parameters") or {})
    source = str(results.relative_to(folder))
    figures = []
    for n, plot in enumerate(plots):
        kind = plot.get("kind")
        where = f"{spec_path}: plots[{n}]"
        if kind in ("heatmap", "scatter", "pareto"):
            needed = ["x", "y", "value"] if kind == "heatmap" else ["x", "y"]
            missing = [k for k in needed if k not in plot]
            if missing:
                raise ReportError(f"{where}: missing field(s) {', '.join(missing)}")
        if kind == "heatmap":
            figures.append(_heatmap(go, table, plot, source))
        elif kind == "scatter":
            figures.append(_scatter(go, table, plot, source, None))
        elif kind == "pareto":
            figures.append(_scatter(go, table, plot, source, parameters))
        elif kind == "predicted_vs_measured":
            from . import REPO_ROOT
            csv_path = REPO_ROOT / plot.get("validation_csv", "")
            if csv_path.is_file():  # named from the repository's root in the report
                figures += validation_figures(csv_path, REPO_ROOT)[:1]
        else:
            raise ReportError(f"{where}, field 'kind': expected heatmap, scatter, pareto or "
                              f"predicted_vs_measured, got '{kind}'")
    return figures


def _heatmap(go, table: list[dict], plot: dict, source: str) -> Figure:
    from plotly.subplots import make_subplots
    value, facet = plot["value"], plot.get("facet")
    rows = [r for r in table if _numeric(r.get(value)) is not None]
    facets = sorted({str(r.get(facet)) for r in rows}, key=_sort_key) if facet else [None]
    xs = sorted({str(r.get(plot["x"])) for r in rows}, key=_sort_key)
    ys = sorted({str(r.get(plot["y"])) for r in rows}, key=_sort_key)
    grids = {}
    for f in facets:
        grid, any_value = [], False
        for y in ys:
            line = []
            for x in xs:
                values = [float(r[value]) for r in rows
                          if str(r.get(plot["x"])) == x and str(r.get(plot["y"])) == y
                          and (f is None or str(r.get(facet)) == f)]
                line.append(sum(values) / len(values) if values else None)
                any_value = any_value or bool(values)
            grid.append(line)
        if any_value:  # no empty panels
            grids[f] = grid
    panels = list(grids) or [None]
    cols = max(1, math.ceil(math.sqrt(len(panels))))
    nrows = max(1, math.ceil(len(panels) / cols))
    fig = make_subplots(rows=nrows, cols=cols, subplot_titles=[
        f"{facet} = {f}" if f is not None else value for f in panels],
        horizontal_spacing=0.12, vertical_spacing=0.16)
    flat = [v for g in grids.values() for line in g for v in line if v is not None]
    lo, hi = (min(flat), max(flat)) if flat else (0.0, 1.0)
    for i, f in enumerate(panels):
        grid = grids.get(f, [[None] * len(xs) for _ in ys])
        fig.add_trace(go.Heatmap(
            x=xs, y=ys, z=grid, zmin=lo, zmax=hi, coloraxis="coloraxis",
            text=[["" if v is None else f"{v:.3g}" for v in line] for line in grid],
            hovertemplate=f"{plot['x']} %{{x}}<br>{plot['y']} %{{y}}<br>{value} %{{z:.4g}}"
                          "<extra>" + (f"{facet} = {f}" if f is not None else "") + "</extra>"),
            row=i // cols + 1, col=i % cols + 1)
        fig.update_xaxes(title_text=_axis_label(plot["x"]), type="category",
                         row=i // cols + 1, col=i % cols + 1)
        fig.update_yaxes(title_text=_axis_label(plot["y"]), type="category",
                         row=i // cols + 1, col=i % cols + 1)
    dropped = [f for f in facets if f not in grids]
    title = (f"{_axis_label(value)}: mean over the parameters not on an axis"
             + (f"; no values for {facet} = {', '.join(dropped)}" if dropped else ""))
    fig.update_layout(template="plotly_white", title={"text": title, "font": {"size": 14}},
                      coloraxis={"colorscale": "Viridis", "cmin": lo, "cmax": hi,
                                 "colorbar": {"title": {"text": _axis_label(value),
                                                        "side": "right"}}},
                      height=max(420, 330 * nrows + 90), margin={"t": 90})
    # The value of each cell is written on it, as in the PNG (plotly.js 2.6 heatmaps have no
    # texttemplate, so as annotations).
    for i, f in enumerate(panels):
        grid = grids.get(f, [])
        suffix = "" if i == 0 else str(i + 1)
        for iy, line in enumerate(grid):
            for ix, v in enumerate(line):
                if v is not None:
                    shade = (v - lo) / (hi - lo) if hi > lo else 0.5
                    # By index: plotly.js 2.6 draws no heatmap when an annotation gives a
                    # category by name (seen in Chromium: an empty layer, no error).
                    fig.add_annotation(x=ix, y=iy, xref=f"x{suffix}", yref=f"y{suffix}",
                                       text=f"{v:.3g}", showarrow=False,
                                       font={"size": 9, "color": "black" if shade > 0.6
                                             else "white"})
    return Figure(f"Heatmap of {value}", f"Mean of {value} per cell over the sweep's other "
                  "parameters; every panel shares one colour scale, so equal colours are equal "
                  "values.", fig, source)


def _scatter(go, table: list[dict], plot: dict, source: str,
             pareto_parameters: list[str] | None) -> Figure:
    x, y, color = plot["x"], plot["y"], plot.get("color")
    rows = [r for r in table if _numeric(r.get(x)) is not None and _numeric(r.get(y)) is not None]
    groups = sorted({str(r.get(color)) for r in rows}, key=_sort_key) if color else [None]
    names = [p for p in (pareto_parameters or []) if len({str(r.get(p)) for r in rows}) > 1]
    traces = []
    for n, g in enumerate(groups):
        sel = [r for r in rows if g is None or str(r.get(color)) == g]
        traces.append(go.Scatter(
            x=[float(r[x]) for r in sel], y=[float(r[y]) for r in sel], mode="markers",
            name=f"{color} = {g}" if g is not None else f"{len(sel)} points",
            marker={"color": PALETTE[n % len(PALETTE)], "opacity": 0.75,
                    "symbol": SYMBOLS[(n // len(PALETTE)) % len(SYMBOLS)]},
            text=[", ".join(f"{p.split('.')[-1]}={r.get(p)}" for p in
                            (names or pareto_parameters or [])) or r["key"] for r in sel],
            hovertemplate=f"%{{text}}<br>{x} %{{x:.4g}}<br>{y} %{{y:.4g}}<extra></extra>"))
    senses = (plot.get("x_sense", "min"), plot.get("y_sense", "min"))
    title = f"{y} against {x}: {len(rows)} points"
    caption = "Each point is one design of the sweep (hover for its parameters)."
    ranges = {}
    if pareto_parameters is not None and rows:
        from .dse.plots import FLAT_SPREAD, flat_axes, pareto_front
        xy = [(float(r[x]), float(r[y])) for r in rows]
        flat = flat_axes(xy)
        label = [", ".join(f"{p.split('.')[-1]}={r.get(p)}" for p in names) for r in rows]
        for axis, spread in flat.items():
            # A flat axis is drawn as one value (a range 10x its spread threshold), not zoomed
            # in until rounding noise looks like a trade-off (as the PNG does).
            values = [p[0 if axis == "x" else 1] for p in xy]
            mid = sum(values) / len(values)
            half = max(abs(mid) * 5 * FLAT_SPREAD, 1e-300)
            ranges[axis] = [mid - half, mid + half]
        if len(flat) == 1:
            other = "y" if "x" in flat else "x"
            k = 0 if other == "x" else 1
            pick = min if senses[k] == "min" else max
            best = pick(range(len(xy)), key=lambda i: xy[i][k])
            traces.append(go.Scatter(x=[xy[best][0]], y=[xy[best][1]], mode="markers+text",
                                     name=f"best {plot[other]}", text=[label[best]],
                                     textposition="top right",
                                     marker={"symbol": "circle-open", "size": 14,
                                             "color": "black"}, hoverinfo="skip"))
            flat_name = plot["x" if "x" in flat else "y"]
            title = (f"{flat_name} is flat (relative spread {list(flat.values())[0]:.1e} over "
                     f"{len(xy)} designs): no trade-off, {plot[other]} alone ranks them")
            caption += (f" {flat_name} varies by less than 0.1 % of its mean, so it is drawn "
                        "on a range of ±0.5 % around it and no front is drawn.")
        elif flat:
            title = f"{plot['x']} and {plot['y']} are both flat over {len(xy)} designs"
            caption += " Both objectives vary by less than 0.1 %: no front is drawn."
        else:
            front = pareto_front(xy, *senses)
            # Only what tells the front's designs apart on the points; what they share, once.
            differ = [p for p in names if len({str(rows[i].get(p)) for i in front}) > 1]
            shared = [p for p in names if p not in differ]
            short = [", ".join(f"{p.split('.')[-1]}={rows[i].get(p)}" for p in differ)
                     for i in front]
            traces.append(go.Scatter(x=[xy[i][0] for i in front], y=[xy[i][1] for i in front],
                                     mode="lines+markers+text", name="Pareto front",
                                     text=short, cliponaxis=False,
                                     textposition=["top right" if n % 2 == 0 else "bottom right"
                                                   for n in range(len(front))],
                                     textfont={"size": 9},
                                     line={"color": "black", "width": 1.5},
                                     marker={"symbol": "circle-open", "size": 12,
                                             "color": "black"}, hoverinfo="skip"))
            title = f"Pareto front: {len(front)} of {len(xy)} designs" + (
                " (all with " + ", ".join(f"{p.split('.')[-1]}={rows[front[0]].get(p)}"
                                          for p in shared) + ")" if shared and front else "")
            caption += (" The black line joins the designs no other design beats on both axes, "
                        "each labelled with the parameters that differ between them.")
    layout = _layout(go, title, _axis_label(x, senses[0] if pareto_parameters is not None
                                            else None),
                     _axis_label(y, senses[1] if pareto_parameters is not None else None),
                     legend_title=color or "", height=500)
    layout.xaxis.exponentformat = layout.yaxis.exponentformat = "power"
    for axis, bounds in ranges.items():
        getattr(layout, f"{axis}axis").range = bounds
    layout.showlegend = bool(color) or len(traces) > 1  # plotly hides a lone trace's legend
    return Figure(("Pareto front" if pareto_parameters is not None else "Scatter")
                  + f" of {y} against {x}", caption, go.Figure(traces, layout), source)


# ---- tilesim timeline ----------------------------------------------------------------------------

def timeline_figures(path: Path, folder: Path) -> list[Figure]:
    from plotly.subplots import make_subplots
    go = _go()
    rows = _read_csv(path, TIMELINE_COLUMNS)
    if not rows:
        raise ReportError(f"{path}: the timeline has no work items (expected one row per item)")
    figures = []
    for mask in dict.fromkeys(r["mask"] for r in rows):
        sel = [(i, r) for i, r in enumerate(rows) if r["mask"] == mask]
        start = [_number(path, i, r, "start_us") for i, r in sel]
        end = [_number(path, i, r, "end_us") for i, r in sel]
        slot = [int(_number(path, i, r, "slot")) for i, r in sel]
        head = [int(_number(path, i, r, "head")) for i, r in sel]
        batch = [int(_number(path, i, r, "batch")) for i, r in sel]
        bad = next((k for k in range(len(sel)) if end[k] < start[k]), None)
        if bad is not None:
            raise ReportError(f"{path}: row {sel[bad][0] + 2}: end_us {end[bad]} is before "
                              f"start_us {start[bad]} (expected end_us >= start_us)")
        slots, makespan = max(slot) + 1, max(end)
        heads = max(head) + 1
        busy = sum(e - s for s, e in zip(start, end))
        efficiency = busy / (slots * makespan) if makespan > 0 else 0.0
        fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.78, 0.22],
                            vertical_spacing=0.04)
        # One colour per head, from a continuous scale cut into `heads` steps: a colour bar
        # labelled with the head says which is which.
        fig.add_trace(go.Bar(
            base=start, x=[e - s for s, e in zip(start, end)], y=slot, orientation="h",
            width=0.9, name="work items", showlegend=False,
            marker={"color": head, "colorscale": "Turbo", "cmin": -0.5, "cmax": heads - 0.5,
                    "line": {"width": 0.3, "color": "white"},
                    "colorbar": {"title": {"text": "head" + (" (batch items share colours)"
                                                              if max(batch) > 0 else ""),
                                           "side": "right"}, "len": 0.75, "y": 0.62,
                                 "tickvals": list(range(0, heads, max(1, math.ceil(heads / 32))))}},
            customdata=[[r["batch"], r["head"], r["q_tile"], r["sm"], r["tiles_full"],
                         r["tiles_partial"], r["tiles_empty_visited"], e] for (_, r), e
                        in zip(sel, end)],
            hovertemplate="batch %{customdata[0]}, head %{customdata[1]}, q tile "
                          "%{customdata[2]}<br>SM %{customdata[3]}, slot %{y}<br>%{base:.2f} - "
                          "%{customdata[7]:.2f} us<br>tiles: %{customdata[4]} full, "
                          "%{customdata[5]} partial, %{customdata[6]} empty visited"
                          "<extra></extra>"), row=1, col=1)
        times, running = _busy_steps(start, end)
        fig.add_trace(go.Scatter(x=times, y=running, mode="lines", line={"shape": "hv",
                                                                          "color": "black",
                                                                          "width": 1},
                                 name="busy slots", hovertemplate="%{x:.2f} us: %{y} busy"
                                                                  "<extra></extra>"),
                      row=2, col=1)
        fig.add_trace(go.Scatter(x=[0, makespan], y=[slots, slots], mode="lines",
                                 line={"color": "grey", "dash": "dot", "width": 1},
                                 name=f"all {slots} slots", hoverinfo="skip"), row=2, col=1)
        fig.update_yaxes(title_text="SM slot", autorange="reversed", row=1, col=1)
        fig.update_yaxes(title_text="busy slots", range=[0, slots * 1.1], row=2, col=1)
        fig.update_xaxes(title_text="time (us)", range=[0, makespan * 1.01 or 1], row=2, col=1)
        fig.update_layout(template="plotly_white", bargap=0, showlegend=True,
                          legend={"orientation": "h", "y": -0.12},
                          title={"text": f"{_short(mask)}: {len(sel)} work items on {slots} slots, "
                                         f"makespan {makespan:.1f} us, wave efficiency "
                                         f"{efficiency:.1%}", "font": {"size": 14}},
                          height=max(520, min(1400, 14 * slots + 200)))
        figures.append(Figure(f"tilesim timeline: {_short(mask)}", "One bar per work item (CTA) on "
                              "the SM slot that ran it, coloured by head; below, how many "
                              "slots are busy. Drag to zoom, double-click to reset.", fig,
                              str(path.relative_to(folder))))
    return figures


def _short(mask: str) -> str:
    """A mask file's name without its folder (patterns stay whole)."""
    return mask if mask.startswith("pattern:") else Path(mask).name


# ---- tilesim results.json (tilesim bounds|predict --out DIR) ------------------------------------

BOUNDS = [("speedup_bound_flop", "FLOP bound"), ("speedup_bound_tiles", "tile bound"),
          ("speedup_bound_worst_q", "worst-query bound"),
          ("speedup_bound_sched", "schedule bound"), ("predicted_speedup", "predicted")]


def tilesim_figures(path: Path, folder: Path) -> list[Figure]:
    go = _go()
    try:
        report = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ReportError(f"{path}: cannot read: {error}") from None
    results = report.get("results")
    if not isinstance(results, list) or not results:
        raise ReportError(f"{path}: field 'results': expected a non-empty list")
    masks = [_short(str(r.get("mask", f"mask {i}"))) for i, r in enumerate(results)]
    traces = []
    for n, (key, label) in enumerate(BOUNDS):
        values = [r.get(key) for r in results]
        if all(v is None for v in values):  # bounds runs have no prediction
            continue
        for i, v in enumerate(values):
            if v is not None and _numeric(v) is None:
                raise ReportError(f"{path}: results[{i}].{key}: expected a number, got {v!r}")
        traces.append(go.Bar(x=masks, y=values, name=label,
                             marker={"color": PALETTE[n % len(PALETTE)]},
                             hovertemplate="%{x}<br>" + label + ": %{y:.3f}x<extra></extra>"))
    gpu = (report.get("gpu") or {}).get("name", "?")
    kernel = (report.get("kernel") or {}).get("name", "?")
    layout = _layout(go, f"tilesim {report.get('command', '')}: {len(results)} mask(s) on {gpu}, "
                     f"kernel {kernel}", "mask", "speedup over the dense run (x)",
                     legend_title="bound or prediction", barmode="group", height=480)
    layout.shapes = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 1, "y1": 1,
                      "line": {"color": "grey", "dash": "dot", "width": 1}}]
    return [Figure("tilesim speedup bounds" + (" and prediction" if any(
        r.get("predicted_speedup") is not None for r in results) else ""),
        "Per mask: the speedups over dense that the FLOPs, the visited tiles, the slowest "
        "query row and the schedule allow, and (predict) tilesim's predicted speedup. The "
        "dotted line is 1x (as fast as dense).", go.Figure(traces, layout),
        str(path.relative_to(folder)))]


def _busy_steps(start: list[float], end: list[float]) -> tuple[list[float], list[int]]:
    """Step function of running items: at equal times, ends before starts."""
    events = sorted([(e, -1) for e in end] + [(s, 1) for s in start])
    times, running, count = [], [], 0
    for t, delta in events:
        count += delta
        if times and times[-1] == t:
            running[-1] = count
        else:
            times.append(t)
            running.append(count)
    return times, running


# ---- results.json of topk-cosim, topk-stats and softmax-error (their --out DIR) -----------------

def _json_report(path: Path) -> dict:
    try:
        report = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ReportError(f"{path}: cannot read: {error}") from None
    if not isinstance(report, dict):
        raise ReportError(f"{path}: expected a JSON object, got {type(report).__name__}")
    return report


def _items(path: Path, report: dict, key: str, numbers: list[str]) -> list[dict]:
    """report[key] as a non-empty list of objects whose `numbers` fields are finite numbers."""
    items = report.get(key)
    if not isinstance(items, list) or not items:
        raise ReportError(f"{path}: field '{key}': expected a non-empty list of objects")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ReportError(f"{path}: field '{key}[{i}]': expected an object, got "
                              f"{type(item).__name__}")
        for name in numbers:
            value = item.get(name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                    not math.isfinite(value):
                raise ReportError(f"{path}: field '{key}[{i}].{name}': expected a finite number, "
                                  f"got {value!r}")
    return items


TOPK_COSIM_NUMBERS = ["vectors", "mismatches", "engine_cycles_mean", "engine_cycles_sd",
                      "engine_cycles_min", "engine_cycles_max", "model_cycles_mean",
                      "rtl_cycles_mean"]


def topk_cosim_figures(path: Path, folder: Path) -> list[Figure]:
    go = _go()
    report = _json_report(path)
    groups = _items(path, report, "groups", TOPK_COSIM_NUMBERS)
    labels = [f"n {g.get('n')}, k {g.get('k')}" for g in groups]
    hover = [f"{g['vectors']} vectors, {g['mismatches']} mismatch(es)<br>engine cycles "
             f"{g['engine_cycles_min']}..{g['engine_cycles_max']}" for g in groups]
    traces = [
        go.Bar(x=labels, y=[g["engine_cycles_mean"] for g in groups],
               error_y={"type": "data", "array": [g["engine_cycles_sd"] for g in groups]},
               name="RTL engine, gaps and stalls removed (mean ± sd)",
               marker={"color": [PALETTE[3] if g["mismatches"] else PALETTE[0] for g in groups]},
               customdata=hover,  # on hover only (bar text would be drawn on the bars)
               hovertemplate="%{x}<br>%{customdata}<br>mean %{y:.1f} cycles<extra></extra>"),
        go.Scatter(x=labels, y=[g["model_cycles_mean"] for g in groups], mode="markers",
                   name="models/ latency (mean)", marker={"color": "black", "symbol": "x",
                                                           "size": 9},
                   hovertemplate="%{x}<br>model mean %{y:.1f} cycles<extra></extra>"),
        go.Scatter(x=labels, y=[g["rtl_cycles_mean"] for g in groups], mode="markers",
                   name="RTL as measured, with gaps and stalls (mean)",
                   marker={"color": PALETTE[1], "symbol": "diamond", "size": 8},
                   hovertemplate="%{x}<br>measured mean %{y:.1f} cycles<extra></extra>")]
    mismatches = report.get("mismatches", sum(g["mismatches"] for g in groups))
    layout = _layout(go, f"topk-cosim: attn_topk {report.get('microarch', '?')} P="
                     f"{report.get('lanes', '?')} against models/, {report.get('vectors', '?')} "
                     f"vectors, {mismatches} mismatch(es)", "job size group (n, k)",
                     "cycles per job", legend_title="cycles", height=480)
    layout.xaxis.type = "category"
    return [Figure("topk-cosim: RTL against the model", "Per group of job sizes: the Verilated "
                   "engine's cycles without the random input gaps and output stalls (bars, red "
                   "where a job's indices mismatched), the functional model's latency (crosses), "
                   "and the cycles as measured with the back-pressure (diamonds).",
                   go.Figure(traces, layout), str(path.relative_to(folder)))]


TOPK_STATS_NUMBERS = ["n", "k", "passes_mean", "cycles_mean", "cycles_stddev",
                      "public_model_cycles_mean", "public_model_cycles_stddev",
                      "load_cycles_mean", "pass_cycles_mean", "output_cycles_mean"]


def topk_stats_figures(path: Path, folder: Path) -> list[Figure]:
    from plotly.subplots import make_subplots
    go = _go()
    report = _json_report(path)
    cases = _items(path, report, "cases", TOPK_STATS_NUMBERS)
    labels = [f"n {c['n']}, k {c['k']}" for c in cases]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12, subplot_titles=[
        "cycles per job (mean ± sd)", "where this engine's cycles go (means)"])
    fig.add_trace(go.Bar(x=labels, y=[c["cycles_mean"] for c in cases],
                         error_y={"type": "data", "array": [c["cycles_stddev"] for c in cases]},
                         name="this engine", marker={"color": PALETTE[0]},
                         hovertemplate="%{x}: %{y:.1f} cycles<extra>this engine</extra>"),
                  row=1, col=1)
    fig.add_trace(go.Bar(x=labels, y=[c["public_model_cycles_mean"] for c in cases],
                         error_y={"type": "data",
                                  "array": [c["public_model_cycles_stddev"] for c in cases]},
                         name="public latency model", marker={"color": "#999999"},
                         hovertemplate="%{x}: %{y:.1f} cycles<extra>public model</extra>"),
                  row=1, col=1)
    for n, (key, label) in enumerate([("load_cycles_mean", "load"),
                                      ("pass_cycles_mean", "passes"),
                                      ("output_cycles_mean", "output")]):
        fig.add_trace(go.Bar(x=labels, y=[c[key] for c in cases], name=label,
                             marker={"color": PALETTE[(n + 1) % len(PALETTE)]},
                             customdata=[c["passes_mean"] for c in cases],
                             hovertemplate="%{x}: %{y:.1f} cycles, %{customdata:.2f} passes"
                                           f"<extra>{label}</extra>"), row=1, col=2)
    for col in (1, 2):
        fig.update_xaxes(title_text="job size (n, k)", type="category", row=1, col=col)
        fig.update_yaxes(title_text="cycles", row=1, col=col)
    fig.update_layout(template="plotly_white", barmode="group", height=480,
                      legend={"title": {"text": "cycles of"}},
                      title={"text": f"topk-stats: {report.get('microarch', '?')} engine, P="
                                     f"{report.get('lanes', '?')}, {report.get('trials', '?')} "
                                     "random inputs per case", "font": {"size": 14}})
    return [Figure("topk-stats: cycles against the public model", "Left: mean cycles per job "
                   "(error bars: one standard deviation over the random inputs) of this engine "
                   "and of the public latency model. Right: this engine's load, passes and "
                   "output cycles, side by side per case.", fig, str(path.relative_to(folder)))]


def softmax_error_figures(path: Path, folder: Path) -> list[Figure]:
    from plotly.subplots import make_subplots
    go = _go()
    report = _json_report(path)
    exp = _items(path, report, "exp", ["lut_bits", "max_rel_err", "mean_rel_err"])
    soft = _items(path, report, "softmax", ["prob_bits", "sigma", "max_abs_err", "mean_abs_err"])
    stage = _items(path, report, "max_stage", ["mu", "sigma", "max_abs_err", "mean_abs_err"])
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.08, subplot_titles=[
        "exp unit: relative error", "softmax: absolute error", "max stage: absolute error"])
    for n, key in enumerate(["max_rel_err", "mean_rel_err"]):
        fig.add_trace(go.Scatter(x=[e["lut_bits"] for e in exp], y=[e[key] for e in exp],
                                 mode="lines+markers", name=f"exp {key.split('_')[0]}",
                                 line={"color": PALETTE[n]},
                                 hovertemplate="%{x} LUT bits: %{y:.3g}<extra></extra>"),
                      row=1, col=1)
    default = [e for e in exp if e.get("default") is True]
    if default:
        fig.add_trace(go.Scatter(x=[e["lut_bits"] for e in default],
                                 y=[e["max_rel_err"] for e in default], mode="markers",
                                 name="default LUT", marker={"symbol": "circle-open", "size": 14,
                                                             "color": "black"},
                                 hoverinfo="skip"), row=1, col=1)
    sigmas = sorted({e["sigma"] for e in soft})
    for n, sigma in enumerate(sigmas):
        sel = sorted((e for e in soft if e["sigma"] == sigma), key=lambda e: e["prob_bits"])
        fig.add_trace(go.Scatter(x=[e["prob_bits"] for e in sel], y=[e["max_abs_err"] for e in sel],
                                 mode="lines+markers", name=f"softmax max, σ = {sigma:g}",
                                 line={"color": PALETTE[(n + 2) % len(PALETTE)]},
                                 hovertemplate="%{x} probability bits: %{y:.3g}<extra>σ = "
                                               f"{sigma:g}</extra>"), row=1, col=2)
    variants = list(dict.fromkeys(str(e.get("softmax")) for e in stage))
    for n, variant in enumerate(variants):
        sel = [e for e in stage if str(e.get("softmax")) == variant]
        fig.add_trace(go.Bar(x=[f"μ {e['mu']:g}, σ {e['sigma']:g}" for e in sel],
                             y=[e["max_abs_err"] for e in sel], name=f"max stage: {variant}",
                             marker={"color": PALETTE[(n + 5) % len(PALETTE)]},
                             hovertemplate="%{x}: %{y:.3g}<extra>" + html.escape(variant)
                                           + "</extra>"), row=1, col=3)
    fig.update_xaxes(title_text="exp LUT bits", row=1, col=1)
    fig.update_xaxes(title_text="probability bits", row=1, col=2)
    fig.update_xaxes(title_text="score distribution", type="category", row=1, col=3)
    for col, label in [(1, "relative error (log)"), (2, "max absolute error (log)"),
                       (3, "max absolute error (log)")]:
        fig.update_yaxes(title_text=label, type="log", row=1, col=col)
    fig.update_layout(template="plotly_white", barmode="group", height=500,
                      legend={"orientation": "h", "y": -0.25},
                      title={"text": f"softmax-error: hardware softmax against float64, "
                                     f"{report.get('trials', '?')} trials of n = "
                                     f"{report.get('n', '?')}", "font": {"size": 14}})
    return [Figure("softmax-error: error of each stage", "Left: the exp unit's relative error by "
                   "lookup-table size (the circle is the default). Middle: the softmax's largest "
                   "absolute error by output width, per score spread. Right: with and without "
                   "the max-subtract stage, per score distribution.", fig,
                   str(path.relative_to(folder)))]


# ---- spatten-sim stats.json ----------------------------------------------------------------------

def spatten_figures(path: Path, folder: Path) -> list[Figure]:
    from plotly.subplots import make_subplots
    go = _go()
    try:
        from .plot_spatten import StatsError, read_stats
        stats = read_stats(path)
    except StatsError as error:
        raise ReportError(str(error)) from None
    names = sorted(stats["utilization"], key=stats["utilization"].get)
    fig = make_subplots(rows=1, cols=2, column_widths=[0.6, 0.4], horizontal_spacing=0.22,
                        subplot_titles=[f"module utilization over {stats['cycles']:,} cycles",
                                        "DRAM traffic against the dense baseline"])
    fig.add_trace(go.Bar(y=names, x=[100 * stats["utilization"][n] for n in names],
                         orientation="h", name="utilization", marker={"color": PALETTE[0]},
                         hovertemplate="%{y}: %{x:.1f} %<extra></extra>", showlegend=False),
                  row=1, col=1)
    for n, (kind, count) in enumerate(stats["by_kind"].items()):
        fig.add_trace(go.Bar(x=["SpAtten"], y=[count / 1e6], name=kind,
                             marker={"color": PALETTE[(n + 1) % len(PALETTE)]},
                             hovertemplate=kind + ": %{y:.3f} MB<extra></extra>"), row=1, col=2)
    fig.add_trace(go.Bar(x=["dense 16-bit"], y=[stats["dense_bytes"] / 1e6],
                         name="dense baseline", marker={"color": "#999999"},
                         hovertemplate="dense: %{y:.3f} MB<extra></extra>"), row=1, col=2)
    fig.update_xaxes(title_text="busy, % of the run's cycles", range=[0, 105], row=1, col=1)
    fig.update_yaxes(title_text="module", row=1, col=1)
    fig.update_yaxes(title_text="DRAM bytes (MB)", row=1, col=2)
    fig.update_layout(template="plotly_white", barmode="stack", height=460,
                      legend={"title": {"text": "DRAM traffic by kind"}},
                      title={"text": f"spatten-sim: {stats['reduction']['total']:.2f}x fewer "
                                     "DRAM bytes than dense", "font": {"size": 14}})
    return [Figure("spatten-sim utilization and DRAM traffic", "Left: share of the simulated "
                   "cycles each module was busy. Right: bytes moved by kind, stacked, beside "
                   "the dense 16-bit baseline.", fig, str(path.relative_to(folder)))]


# ---- the report ------------------------------------------------------------------------------------

def _is_spatten_stats(path: Path) -> bool:
    try:
        stats = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return False
    return isinstance(stats, dict) and "utilization" in stats and "dram" in stats


def _results_tool(path: Path) -> str | None:
    """The tool a results.json names ("tilesim" for bounds/predict runs only), or None."""
    try:
        report = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(report, dict):
        return None
    tool = report.get("tool")
    if tool == "tilesim":
        return tool if report.get("command") in ("bounds", "predict") else None
    return tool if tool in RESULTS_VIEWS else None


#: results.json views by the "tool" field the file names (tilesim's has its own kind above).
RESULTS_VIEWS = {"topk-cosim": topk_cosim_figures, "topk-stats": topk_stats_figures,
                 "softmax-error": softmax_error_figures}


def collect(folder: Path) -> Report:
    """Every figure the folder's files support, in a fixed order (validation, sweep, tilesim
    results, timelines, spatten-sim, other tools' results), files in sorted order."""
    if not folder.is_dir():
        raise ReportError(f"{folder}: not a folder (expected a run folder)")
    report = Report(folder)
    files = list(_files(folder))
    kinds: dict[str, list[Path]] = {"validation": [], "dse": [], "tilesim": [], "timeline": [],
                                    "spatten": [], "results": []}
    for f in files:
        if f.name == "validation.csv":
            kinds["validation"].append(f)
        elif f.name == "results.csv" and (f.parent / "spec.resolved.json").is_file():
            kinds["dse"].append(f)
        elif f.suffix == ".csv" and set(TIMELINE_COLUMNS) <= set(_header(f)):
            kinds["timeline"].append(f)
        elif f.name == "stats.json" and _is_spatten_stats(f):
            kinds["spatten"].append(f)
        elif f.name == "results.json" and (tool := _results_tool(f)) is not None:
            kinds["tilesim" if tool == "tilesim" else "results"].append(f)
    for f in kinds["validation"]:
        report.figures += validation_figures(f, folder)
    for f in kinds["dse"]:
        report.figures += dse_figures(f, folder)
    for f in kinds["tilesim"]:
        report.figures += tilesim_figures(f, folder)
    for f in kinds["timeline"]:
        report.figures += timeline_figures(f, folder)
    for f in kinds["spatten"]:
        report.figures += spatten_figures(f, folder)
    for f in kinds["results"]:
        report.figures += RESULTS_VIEWS[_results_tool(f)](f, folder)
    if not report.figures:
        raise ReportError(f"{folder}: nothing to report (expected validation.csv, a DSE "
                          "results.csv with spec.resolved.json, a results.json of tilesim, "
                          "topk-cosim, topk-stats or softmax-error, a tilesim timeline CSV, or a "
                          "spatten-sim stats.json)")
    return report


def render(report: Report, title: str) -> str:
    """The HTML text: plotly.js once, then one div and one Plotly.newPlot per figure. When
    every plot has drawn, <body> gets data-plots-rendered="N" (what the browser test checks)."""
    from plotly.offline import get_plotlyjs
    from plotly.utils import PlotlyJSONEncoder
    parts = []
    for n, fig in enumerate(report.figures):
        payload = json.dumps(fig.figure.to_plotly_json(), cls=PlotlyJSONEncoder,
                             separators=(",", ":")).replace("</", "<\\/")
        parts.append(
            f'<section><h2>{html.escape(fig.title)}</h2>\n<p class="caption">'
            f'{html.escape(fig.caption)} <span class="source">From '
            f'<code>{html.escape(fig.source)}</code>.</span></p>\n'
            f'<div class="attnsim-plot" id="plot-{n}"></div>\n'
            f'<script type="application/json" id="plot-{n}-data">{payload}</script>\n'
            '</section>')
    script = """
(function () {
  var divs = document.querySelectorAll("div.attnsim-plot");
  var drawn = [];
  divs.forEach(function (div) {
    var fig = JSON.parse(document.getElementById(div.id + "-data").textContent);
    drawn.push(Plotly.newPlot(div, fig.data, fig.layout,
                              {responsive: true, displaylogo: false, scrollZoom: true}));
  });
  Promise.all(drawn).then(function () {
    document.body.setAttribute("data-plots-rendered", String(drawn.length));
  });
})();
"""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>\n"
            "body{font-family:sans-serif;margin:1.5em auto;max-width:1200px;color:#222}"
            "h1{font-size:1.4em}h2{font-size:1.1em;margin-top:2em}"
            ".caption{color:#444;font-size:0.9em}.source{color:#777}\n</style>\n"
            f"<script>{get_plotlyjs()}</script>\n</head>\n"
            f'<body data-plots="{len(report.figures)}">\n<h1>{html.escape(title)}</h1>\n'
            f"<p>{len(report.figures)} interactive plot(s) of <code>"
            f"{html.escape(report.folder.name)}</code>: drag to zoom, double-click to reset, "
            "hover for values. Works offline (plotly.js is embedded).</p>\n"
            + "\n".join(parts) + f"\n<script>{script}</script>\n</body>\n</html>\n")


def write_report(folder: Path, out: Path | None = None, title: str | None = None) -> Path:
    """Writes `out` (default `<folder>/report.html`) atomically; returns its path."""
    return _write(folder, out, title)[0]


def _write(folder: Path, out: Path | None, title: str | None) -> tuple[Path, Report]:
    folder = Path(folder)
    report = collect(folder)
    out = Path(out) if out else folder / REPORT_NAME
    text = render(report, title or f"attnsim run report: {folder.name}")
    tmp = out.with_name(f"{out.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out, report


def try_write_report(folder: Path, tool: str) -> Path | None:
    """For the tools that end a run: writes the report, or says on stderr why not (a run's
    results stand without their report)."""
    try:
        return write_report(folder)
    except (ReportError, OSError) as error:
        print(f"{tool}: no HTML report: {error}", file=sys.stderr)
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m attnsim.html_report", description=__doc__.splitlines()[0],
        epilog="Exit status: 0 written, 2 bad input (nothing to report, malformed file).")
    parser.add_argument("folder", type=Path, help="the run folder")
    parser.add_argument("--out", type=Path, help="HTML file to write (default: "
                                                  "FOLDER/report.html)")
    parser.add_argument("--title", help="the page's title (default: the folder's name)")
    parser.add_argument("--format", choices=["json", "table", "csv"], default="table",
                        help="what stdout says about the report (default: table)")
    args = parser.parse_args(argv)
    try:
        report_path, report = _write(args.folder, args.out, args.title)
    except (ReportError, OSError) as error:
        print(f"html_report: error: {error}", file=sys.stderr)
        return 2
    rows = [{"plot": f"plot-{n}", "title": f.title, "source": f.source}
            for n, f in enumerate(report.figures)]
    size = report_path.stat().st_size
    if args.format == "json":
        print(json.dumps({"report": str(report_path), "bytes": size, "plots": rows}, indent=2))
    elif args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["plot", "title", "source"])
        writer.writerows([r["plot"], r["title"], r["source"]] for r in rows)
        print(f"written: {report_path} ({size} bytes)", file=sys.stderr)
    else:
        width = max(len(r["title"]) for r in rows)
        print(f"{'plot':8} {'title':{width}} source")
        for r in rows:
            print(f"{r['plot']:8} {r['title']:{width}} {r['source']}")
        print(f"written: {report_path} ({size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
