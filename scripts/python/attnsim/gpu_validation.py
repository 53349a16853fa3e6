"""Predicted against measured: calibrates tilesim per kernel and head dim on a few runs fixed
before any prediction is looked at, predicts every other run of an H200 dataset, compares
measured speedups with tilesim's schedule bound, and writes a table, a summary, a report and two
plots; optionally the fitted cost models (the calibrations tilesim ships come from here).

Which runs calibrate:
- datasets whose cases carry a `role` (2026-12-02-rules): the `calibration` cases (at most five
  per kernel and head dim) fit the base cost model, then one `rule_calibration` case per mask rule
  fits that rule's cost (`tilesim calibrate --fit-runs N --rule-runs M`); `held_out` cases are
  only predicted;
- the 2026-11-23 dataset (no roles): dense at the smallest and the largest shape, causal at the
  middle one, random blocks and vertical-slash; its partial blocks were measured with the `allow`
  rule (a mask_mod that keeps every pair), which the runs are given here.

    scripts/validate_gpu.py [--dataset DIR] [--out DIR] [--calibrations DIR]
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from . import REPO_ROOT
from .gpu_dataset import generate
from .output_format import add_format_option, emit, human
from .runinfo import git_revision, write_json_atomically

DEFAULT_DATASET = REPO_ROOT / "golden/results/h200/2026-12-02-rules"
# Rule runs with every visited tile masked (attnsim.gpu_dataset_costs), measured for
# FlexAttention: its rule costs are fitted on them (well conditioned) rather than on the rules
# dataset's own rule runs (a few masked tiles among many full ones).
RULE_RUN_DATASET = REPO_ROOT / "golden/results/h200/2026-12-02-flex-costs"
LEGACY_CALIBRATION_CASES = ["dense-s4096-h32", "dense-s32768-h8", "causal-s16384-h16",
                            "random-s8192-h32", "vertical_slash-s8192-h32"]
KERNELS = ["golden", "flexattention", "sm90", "sm90_persistent", "sm90_auto"]
# tilesim preset per (kernel, head dim) where the kernel compiles a different configuration.
PRESETS = {("flexattention", 64): "flexattention_d64"}
# The targets: held-out median and max |error|; runs under SHORT_MS get SHORT_MAX.
ERROR_TARGET_MEDIAN, ERROR_TARGET_MAX, SHORT_MS, SHORT_MAX, BOUND_NOISE = \
    0.015, 0.05, 0.2, 0.10, 0.01
SIZE_CLASSES = [("< 0.2 ms", 0.0, 0.2), ("0.2-1 ms", 0.2, 1.0), ("1-10 ms", 1.0, 10.0),
                ("> 10 ms", 10.0, float("inf"))]


class ValidationError(Exception):
    """The dataset or the tools cannot produce a validation."""


@dataclass
class Row:
    case: str
    family: str
    rule: str  # the rule's name ("-" for none)
    kernel: str
    head_dim: int
    measured_ms: float
    predicted_ms: float
    role: str  # calibration, rule_calibration or held_out
    measured_speedup: float | None  # over the same kernel's dense run of the same shape
    bound_sched: float

    @property
    def in_fit(self) -> bool:
        return self.role != "held_out"

    @property
    def error(self) -> float:
        return (self.predicted_ms - self.measured_ms) / self.measured_ms

    @property
    def exceeds_bound(self) -> bool:
        return self.measured_speedup is not None and \
            self.measured_speedup > self.bound_sched * (1 + BOUND_NOISE)

    @property
    def size_class(self) -> str:
        return next(name for name, lo, hi in SIZE_CLASSES if lo <= self.measured_ms < hi)


def run_tilesim(tilesim: Path, args: list[str], cwd: Path) -> dict:
    result = subprocess.run([str(tilesim), *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise ValidationError(f"tilesim {' '.join(args[:3])}...: {result.stderr.strip()}")
    return json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}


def measurement_files(dataset: Path, kernel: str) -> list[Path]:
    """`KERNEL.json` and `KERNEL-dNN.json` (not other files that start with the kernel's name);
    a kernel named with `_` also as written with `-` (`sm90-persistent.json`, the 2026-12-03
    session's name for sm90_persistent's runs)."""
    names = dict.fromkeys([kernel, kernel.replace("_", "-")])
    return [path for name in names for path in
            sorted(dataset.glob(f"{name}.json")) + sorted(dataset.glob(f"{name}-d[0-9]*.json"))]


def measured_runs(dataset: Path, kernel: str, head_dim: int) -> tuple[dict, list[dict]]:
    """The measurements files of one kernel (`KERNEL.json`, `KERNEL-dNN.json`) and the runs of
    one head dim; mask paths stay relative to the dataset folder."""
    files = measurement_files(dataset, kernel)
    if not files:
        raise ValidationError(f"{dataset}: no {kernel}.json or {kernel}-dNN.json")
    header, runs = None, []
    for path in files:
        data = json.loads(path.read_text())
        header = header or {k: v for k, v in data.items() if k in ("gpu", "kernel")}
        runs += [r for r in data["runs"] if r["head_dim"] == head_dim]
    return header, runs


def head_dims_of(dataset: Path, kernel: str) -> list[int]:
    dims = set()
    for path in measurement_files(dataset, kernel):
        dims |= {r["head_dim"] for r in json.loads(path.read_text())["runs"]}
    return sorted(dims)


def has_roles(cases: dict) -> bool:
    """Whether a dataset's cases carry roles (2026-12-02 on) or use the legacy calibration list."""
    return any("role" in c for c in cases.values())


def order_for_fit(cases: dict, runs: list[dict], source: str) -> tuple[list[dict], int, int]:
    """Runs ordered calibration, rule calibration, held out; with the two counts."""
    by_case = {Path(r["mask"]).stem: r for r in runs}
    if has_roles(cases):
        base = [n for n, c in cases.items() if c.get("role") == "calibration"]
        rule = [n for n, c in cases.items() if c.get("role") == "rule_calibration"]
    else:
        base, rule = LEGACY_CALIBRATION_CASES, []
    missing = [c for c in base + rule if c not in by_case]
    if missing:
        raise ValidationError(f"{source}: no runs of the calibration cases {missing}")
    fitted = set(base + rule)
    ordered = [by_case[c] for c in base + rule] + \
        [r for r in runs if Path(r["mask"]).stem not in fitted]
    return ordered, len(base), len(rule)


def rule_runs_elsewhere(rule_dataset: Path, dataset: Path, kernel: str,
                        head_dim: int) -> list[dict]:
    """The `rule_calibration` runs of another dataset (the flex-costs probe) for one kernel
    configuration, their mask paths relative to `dataset`; [] where it has none."""
    if not any(measurement_files(rule_dataset, kernel)):
        return []
    rule_cases = json.loads((rule_dataset / "cases.json").read_text())["cases"]
    names = [c["name"] for c in rule_cases if c.get("role") == "rule_calibration"]
    _, runs = measured_runs(rule_dataset, kernel, head_dim)
    by_case = {Path(r["mask"]).stem: r for r in runs}
    missing = [n for n in names if n not in by_case]
    if missing:
        raise ValidationError(f"{rule_dataset}: no {kernel} d{head_dim} runs of the rule "
                              f"calibration cases {missing}")
    return [{**by_case[n], "mask": os.path.relpath(rule_dataset / by_case[n]["mask"], dataset)}
            for n in names]


def base_runs_elsewhere(base_dataset: Path, dataset: Path, kernel: str,
                        head_dim: int) -> list[dict]:
    """Every run of another dataset (the cta probe) for one kernel configuration, its mask paths
    relative to `dataset`; [] where it has none."""
    if not any(measurement_files(base_dataset, kernel)) or \
            head_dim not in head_dims_of(base_dataset, kernel):
        return []
    _, runs = measured_runs(base_dataset, kernel, head_dim)
    return [{**r, "mask": os.path.relpath(base_dataset / r["mask"], dataset)} for r in runs]


def run_shape(run: dict) -> tuple:
    """(batch, heads, seq_q, gqa) of a measured run: what a sparse run and its dense twin share."""
    info = run["info"]
    return (info.get("batch", 1), info["heads"], info["seq_q"], run.get("gqa", 1))


def dense_runs_elsewhere(dense_dataset: Path | None, kernel: str, head_dim: int) -> dict:
    """Shape -> ms of the dense runs of another dataset (the dense twins of the blind sets)."""
    if dense_dataset is None or not any(measurement_files(dense_dataset, kernel)) or \
            head_dim not in head_dims_of(dense_dataset, kernel):
        return {}
    _, runs = measured_runs(dense_dataset, kernel, head_dim)
    cases = {c["name"]: c for c in json.loads((dense_dataset / "cases.json").read_text())["cases"]}
    return {run_shape(r): r["ms"] for r in runs
            if cases.get(Path(r["mask"]).stem, {}).get("family") == "dense"}


def validate_kernel(tilesim: Path, dataset: Path, kernel: str, head_dim: int, cases: dict,
                    calibration_out: Path | None = None,
                    rule_dataset: Path | None = None,
                    base_dataset: Path | None = None,
                    dense_dataset: Path | None = None,
                    rule_costs: dict | None = None) -> list[Row]:
    """Rows for every run of one kernel configuration; the fitted cost model is copied to
    `calibration_out` when given (tilesim's own bytes). With `rule_dataset` (which has runs of
    this kernel), the rule costs are fitted on its `rule_calibration` runs and this dataset's
    own rule runs are held out too. `rule_costs` (rule -> (cost, its fit entry), from
    `session_rule_costs`) replaces those rules' fitted costs; every run is then predicted with the
    result, and this dataset's rule runs of those rules are held out."""
    header, runs = measured_runs(dataset, kernel, head_dim)
    ordered, n_base, n_rule = order_for_fit(cases, runs, f"{dataset}: {kernel} d{head_dim}")
    if not has_roles(cases):  # measured with a mask_mod that keeps every pair of the listed blocks
        ordered = [{**r, "rule": "allow"} for r in ordered]
    n_foreign = 0
    if rule_dataset is not None and rule_dataset.resolve() != dataset.resolve():
        foreign = rule_runs_elsewhere(rule_dataset, dataset, kernel, head_dim)
        if foreign:
            own_rule = ordered[n_base:n_base + n_rule]
            ordered = ordered[:n_base] + foreign + ordered[n_base + n_rule:] + own_rule
            n_rule = n_foreign = len(foreign)
    # Another dataset's runs (the cta probe) join the base fit; they are not rows of this one.
    foreign_base = base_runs_elsewhere(base_dataset, dataset, kernel, head_dim) \
        if base_dataset is not None and base_dataset.resolve() != dataset.resolve() else []
    ordered = ordered[:n_base] + foreign_base + ordered[n_base:]
    n_fit = n_base + len(foreign_base)
    preset = PRESETS.get((kernel, head_dim), kernel)
    with tempfile.TemporaryDirectory(dir=dataset) as scratch:
        # The fit file sits in the dataset folder so its relative mask paths stay valid.
        fit_file = Path(scratch).parent / f".fit-{kernel}-d{head_dim}-{os.getpid()}.json"
        try:
            fit_file.write_text(json.dumps({**header, "kernel": preset, "runs": ordered}))
            calibration = Path(scratch) / "cal.json"
            run_tilesim(tilesim, ["calibrate", "--gpu", "h200", "--kernel", preset,
                                  "--head-dim", str(head_dim), "--measurements", str(fit_file),
                                  "--fit-runs", str(n_fit), "--rule-runs", str(n_rule),
                                  "--out", str(calibration)], dataset)
            fitted = json.loads(calibration.read_text())
            if rule_costs:
                for rule, (cost, entry) in rule_costs.items():
                    fitted["cost_model"]["rule_op_us"][rule] = cost
                    fitted["fit"]["rule_op_us"][rule] = entry
                calibration.write_text(json.dumps(fitted, indent=2) + "\n")
                replaced = predict_rows(tilesim, dataset, kernel, head_dim, cases, calibration,
                                        dense_dataset)
                # The file's run list says what the replaced costs predict, and that those
                # rules' runs here no longer fit anything.
                by_case = {row.case: row for row in replaced}
                rule_of = {Path(r["mask"]).stem: (r.get("rule") or "").split(",")[0]
                           for r in ordered}
                for run in fitted["runs"]:
                    row = by_case.get(Path(run["mask"]).stem)
                    if row is None:
                        continue  # another dataset's base run: no rule cost replaced there
                    run["predicted_ms"] = row.predicted_ms
                    run["relative_error"] = row.error
                    if rule_of[row.case] in rule_costs:
                        run["in_fit"] = False
                calibration.write_text(json.dumps(fitted, indent=2) + "\n")
            if calibration_out is not None:
                calibration_out.parent.mkdir(parents=True, exist_ok=True)
                tmp = calibration_out.with_name(f"{calibration_out.name}.tmp-{os.getpid()}")
                tmp.write_bytes(calibration.read_bytes())
                os.replace(tmp, calibration_out)
        finally:
            fit_file.unlink(missing_ok=True)
    if rule_costs:
        base_names = {Path(r["mask"]).stem for r in ordered[:n_base]}
        rule_names = {Path(r["mask"]).stem for r in ordered[n_fit:n_fit + n_rule]
                      if (r.get("rule") or "").split(",")[0] not in rule_costs}
        return [replace(row, role="calibration" if row.case in base_names else
                        "rule_calibration" if row.case in rule_names else "held_out")
                for row in replaced]
    # The other datasets' runs calibrate only: they are not rows of this dataset.
    fitted_runs = fitted["runs"]
    ordered = ordered[:n_base] + ordered[n_fit:]
    fitted_runs = fitted_runs[:n_base] + fitted_runs[n_fit:]
    if n_foreign:
        ordered = ordered[:n_base] + ordered[n_base + n_foreign:]
        fitted_runs = fitted_runs[:n_base] + fitted_runs[n_base + n_foreign:]
        n_rule = 0
    bounds = run_tilesim(tilesim, ["bounds", *[r["mask"] for r in ordered], "--gpu", "h200",
                                   "--kernel", preset, "--head-dim", str(head_dim)], dataset)
    bound_of = {Path(b["mask"]).stem: b["speedup_bound_sched"] for b in bounds["results"]}
    by_case = {Path(r["mask"]).stem: r for r in ordered}

    def shape(case_name: str) -> tuple:
        return run_shape(by_case[case_name])

    dense_ms = dense_runs_elsewhere(dense_dataset, kernel, head_dim)
    dense_ms.update({shape(n): by_case[n]["ms"] for n in by_case
                     if cases.get(n, {}).get("family", n.split("-")[0]) == "dense"})
    roles = ["calibration"] * n_base + ["rule_calibration"] * n_rule
    rows = []
    for i, fit in enumerate(fitted_runs):
        case = Path(fit["mask"]).stem
        rule = ordered[i].get("rule") or "-"
        dense = dense_ms.get(shape(case))
        rows.append(Row(case, cases.get(case, {}).get("family", case.split("-")[0]),
                        rule.split(",")[0], kernel, head_dim, fit["measured_ms"],
                        fit["predicted_ms"], roles[i] if i < len(roles) else "held_out",
                        dense / fit["measured_ms"] if dense else None, bound_of[case]))
    return rows


def ensure_masks(tilesim: Path, folder: Path, label: str, roles: set[str] | None = None,
                 default_dataset: str | None = None) -> None:
    """Generates `folder`'s masks (those of the cases with `roles`) with tilesim gen when any is
    missing; `label` says whose in the progress line. The cases.json names its dataset
    (`default_dataset` where it may not: the 2026-11-23 dataset's)."""
    doc = json.loads((folder / "cases.json").read_text())
    wanted = [c for c in doc["cases"] if roles is None or c.get("role") in roles]
    if all((folder / c["mask"]).is_file() for c in wanted):
        return
    print(f"regenerating {label} with tilesim gen...", file=sys.stderr)
    name = (doc.get("dataset") or default_dataset) if default_dataset else doc["dataset"]
    generate(tilesim, folder, name, roles=roles)


def parse_rule_cost_spec(spec: str) -> tuple[str, list[str], Path]:
    """`KERNEL:RULE[,RULE...]:DIR` of --rule-costs-from, checked before anything is read."""
    parts = spec.split(":", 2)
    if len(parts) != 3 or parts[0] not in KERNELS or not parts[1]:
        raise ValidationError(f"--rule-costs-from: expected KERNEL:RULE[,RULE...]:DIR with a "
                              f"kernel from {', '.join(KERNELS)}, got '{spec}'")
    session = Path(parts[2])
    if not (session / "cases.json").is_file() or not measurement_files(session, parts[0]):
        raise ValidationError(f"--rule-costs-from: {session}: expected a dataset folder with "
                              f"cases.json and {parts[0]}'s runs")
    return parts[0], parts[1].split(","), session.resolve()


def session_rule_costs(tilesim: Path, session: Path, kernel: str, head_dim: int,
                       rules: list[str], dataset: Path) -> dict:
    """Rule -> (cost, fit entry) as calibrated on `session` alone: its own calibration runs and
    one rule run per rule (the hidden sets' protocol), so that the session machine's speed is in
    its base costs, not in the rule costs taken from it. The entry names the run relative to
    `dataset` and the session it came from."""
    ensure_masks(tilesim, session, f"the masks of {session}")
    cases = {c["name"]: c for c in json.loads((session / "cases.json").read_text())["cases"]}
    with tempfile.TemporaryDirectory() as scratch:
        calibration = Path(scratch) / "cal.json"
        validate_kernel(tilesim, session, kernel, head_dim, cases, calibration)
        fit = json.loads(calibration.read_text())
    out = {}
    for rule in rules:
        entry = fit["fit"]["rule_op_us"].get(rule)
        if entry is None:
            raise ValidationError(f"--rule-costs-from: {session}: no {kernel} d{head_dim} rule "
                                  f"run of '{rule}' (its cases.json role rule_calibration)")
        out[rule] = (fit["cost_model"]["rule_op_us"][rule],
                     {**entry, "run": os.path.relpath(session / entry["run"], dataset),
                      "fitted_with": "that session's own calibration and rule runs"})
    return out


def predict_with_shipped(tilesim: Path, dataset: Path, kernel: str, head_dim: int, cases: dict,
                         calibrations: Path, dense_dataset: Path | None = None) -> list[Row]:
    """Rows for every run of one kernel configuration predicted by a shipped calibration, with no
    fitting at all: every run is held out."""
    preset = PRESETS.get((kernel, head_dim), kernel)
    # A preset may take another kernel's calibrations (its `calibrated_as`: the same CTA code on
    # another grid, as sm90_persistent takes sm90's).
    from .tilesim_ref import load_kernel
    calibrated = load_kernel(preset).calibrated_as or kernel
    calibration = (calibrations / f"h200_{calibrated}_d{head_dim}.json").resolve()
    if not calibration.is_file():
        raise ValidationError(f"{calibration}: no shipped calibration for {kernel} d{head_dim}")
    return predict_rows(tilesim, dataset, kernel, head_dim, cases, calibration, dense_dataset)


def predict_rows(tilesim: Path, dataset: Path, kernel: str, head_dim: int, cases: dict,
                 calibration: Path, dense_dataset: Path | None = None) -> list[Row]:
    """Rows for every run of one kernel configuration predicted by one calibration file, all
    marked held out."""
    _, runs = measured_runs(dataset, kernel, head_dim)
    dense_ms = dense_runs_elsewhere(dense_dataset, kernel, head_dim)
    dense_ms.update({run_shape(r): r["ms"] for r in runs
                     if cases.get(Path(r["mask"]).stem, {}).get("family") == "dense"})
    preset = PRESETS.get((kernel, head_dim), kernel)
    rows = []
    for gqa in sorted({r.get("gqa", 1) for r in runs}):
        group = [r for r in runs if r.get("gqa", 1) == gqa]
        # One call per (GQA group, rule) keeps the runs' own rules (a run's rule overrides the
        # mask file's, as in calibration).
        for rule in sorted({r.get("rule") or "" for r in group}):
            batch = [r for r in group if (r.get("rule") or "") == rule]
            args = ["predict", *[r["mask"] for r in batch], "--gpu", "h200", "--kernel", preset,
                    "--head-dim", str(head_dim), "--gqa", str(gqa), "--calibration",
                    str(calibration)] + (["--rule", rule] if rule else [])
            results = run_tilesim(tilesim, args, dataset)["results"]
            for run, res in zip(batch, results):
                case = Path(run["mask"]).stem
                rows.append(Row(case, cases.get(case, {}).get("family", case.split("-")[0]),
                                (rule or "-").split(",")[0], kernel, head_dim, run["ms"],
                                res["predicted_ms"], "held_out",
                                dense_ms[run_shape(run)] / run["ms"]
                                if run_shape(run) in dense_ms else None,
                                res["speedup_bound_sched"]))
    return sorted(rows, key=lambda r: r.case)


def error_stats(rows: list[Row]) -> dict:
    errors = [abs(r.error) for r in rows]
    return {"runs": len(rows), "median_abs_error": statistics.median(errors) if errors else None,
            "max_abs_error": max(errors) if errors else None}


def meets_target(rows: list[Row]) -> bool:
    long_runs = [abs(r.error) for r in rows if r.measured_ms >= SHORT_MS]
    short_runs = [abs(r.error) for r in rows if r.measured_ms < SHORT_MS]
    return bool(rows) and statistics.median(abs(r.error) for r in rows) <= ERROR_TARGET_MEDIAN \
        and all(e <= ERROR_TARGET_MAX for e in long_runs) \
        and all(e <= SHORT_MAX for e in short_runs)


def summarize(rows: list[Row]) -> list[dict]:
    out = []
    for kernel in KERNELS:
        for head_dim in sorted({r.head_dim for r in rows if r.kernel == kernel}):
            mine = [r for r in rows if r.kernel == kernel and r.head_dim == head_dim]
            held = [r for r in mine if not r.in_fit]
            over = [r.case for r in mine if r.exceeds_bound]
            out.append({"kernel": kernel, "head_dim": head_dim, "held_out_runs": len(held),
                        **{k: v for k, v in error_stats(held).items() if k != "runs"},
                        "by_rule": {rule: error_stats([r for r in held if r.rule == rule])
                                    for rule in sorted({r.rule for r in held})},
                        "by_size": {name: error_stats([r for r in held if r.size_class == name])
                                    for name, _, _ in SIZE_CLASSES},
                        "speedups_checked": sum(r.measured_speedup is not None for r in mine),
                        "runs_over_bound": over,
                        "meets_target": meets_target(held) and not over})
    return out


def plot(rows: list[Row], out_dir: Path) -> list[str]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {("golden", 64): "#1f77b4", ("golden", 128): "#08306b",
              ("flexattention", 64): "#ff7f0e", ("flexattention", 128): "#a63603",
              ("sm90", 64): "#2ca02c", ("sm90", 128): "#00441b",
              ("sm90_persistent", 64): "#9467bd", ("sm90_persistent", 128): "#3f007d",
              ("sm90_auto", 64): "#e377c2", ("sm90_auto", 128): "#7a0177"}
    missing = {(r.kernel, r.head_dim) for r in rows} - set(colors)
    if missing:  # every run is drawn: a configuration without a colour would vanish silently
        raise ValueError(f"plot: no colour for {sorted(missing)}")
    # Only the configurations the dataset measured get a legend entry.
    colors = {key: c for key, c in colors.items() if any((r.kernel, r.head_dim) == key
                                                         for r in rows)}
    fig, axes = plt.subplots(1, 2, figsize=(15, 6))
    ax = axes[0]
    for (kernel, head_dim), color in colors.items():
        sel = [r for r in rows if r.kernel == kernel and r.head_dim == head_dim]
        held = [r for r in sel if not r.in_fit]
        ax.scatter([r.measured_ms for r in held], [r.predicted_ms for r in held], s=14,
                   color=color, label=f"{kernel} d{head_dim} (held out)")
        fit = [r for r in sel if r.in_fit]
        ax.scatter([r.measured_ms for r in fit], [r.predicted_ms for r in fit], s=40, marker="x",
                   color=color)
    lo = min(min(r.measured_ms, r.predicted_ms) for r in rows) * 0.8
    hi = max(max(r.measured_ms, r.predicted_ms) for r in rows) * 1.25
    ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
    ax.fill_between([lo, hi], [lo * 0.95, hi * 0.95], [lo * 1.05, hi * 1.05], color="0.85",
                    label="±5 %", zorder=0)
    ax.set(xscale="log", yscale="log", xlim=(lo, hi), ylim=(lo, hi), xlabel="measured ms (H200)",
           ylabel="tilesim predicted ms",
           title="tilesim vs H200" + (" (x: calibration runs)" if any(r.in_fit for r in rows)
                                      else " (shipped calibrations, nothing refit)"))
    ax.legend(fontsize=8)
    # The error itself, by rule: the left panel's log scale hides a few per cent.
    ax = axes[1]
    rules = sorted({r.rule for r in rows})
    for (kernel, head_dim), color in colors.items():
        sel = [r for r in rows if r.kernel == kernel and r.head_dim == head_dim and not r.in_fit]
        offset = {("golden", 64): -0.3, ("golden", 128): -0.1, ("flexattention", 64): 0.1,
                  ("flexattention", 128): 0.3, ("sm90", 64): -0.2,
                  ("sm90", 128): 0.2, ("sm90_persistent", 64): 0.0,
                  ("sm90_persistent", 128): 0.4, ("sm90_auto", 64): -0.4,
                  ("sm90_auto", 128): 0.45}[(kernel, head_dim)]
        ax.scatter([rules.index(r.rule) + offset for r in sel], [100 * r.error for r in sel],
                   s=12, color=color, label=f"{kernel} d{head_dim}")
    ax.axhspan(-5, 5, color="0.9", zorder=0)
    ax.axhline(0, color="k", lw=0.8, zorder=1)
    ax.set_xticks(range(len(rules)), rules, rotation=35, ha="right")
    ax.set(ylabel="held-out error, % (predicted - measured) / measured",
           title="Held-out error by mask rule (band: ±5 %)")
    # Outside the axes: inside, it hid the largest errors of whichever rules sat under it.
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    fig.savefig(out_dir / "predicted_vs_measured.png", dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.5, 6))
    checked = [r for r in rows if r.measured_speedup is not None]
    for (kernel, head_dim), color in colors.items():
        sel = [r for r in checked if r.kernel == kernel and r.head_dim == head_dim]
        ax.scatter([r.bound_sched for r in sel], [r.measured_speedup for r in sel], s=14,
                   color=color, label=f"{kernel} d{head_dim}")
    if checked:
        top = max(max(r.bound_sched, r.measured_speedup) for r in checked) * 1.1
        ax.plot([0.5, top], [0.5, top], "k-", lw=0.8, label="measured = bound")
        ax.set(xscale="log", yscale="log")
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no run has a dense run of its own shape", ha="center",
                transform=ax.transAxes)
    ax.set(xlabel="tilesim speedup_bound_sched",
           ylabel="measured speedup over the same kernel's dense run",
           title=f"Measured speedup against the schedule bound\n({len(checked)} runs that have "
                 f"a dense run of their shape)")
    fig.tight_layout()
    fig.savefig(out_dir / "speedup_vs_bound.png", dpi=120)
    plt.close(fig)
    return ["predicted_vs_measured.png", "speedup_vs_bound.png"]


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def write_outputs(rows: list[Row], summary: list[dict], out_dir: Path, dataset: Path,
                  command: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f"validation.csv.tmp-{os.getpid()}"
    with open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case", "family", "kernel", "head_dim", "measured_ms", "predicted_ms",
                         "error", "in_fit", "measured_speedup", "speedup_bound_sched", "rule",
                         "role"])
        for r in sorted(rows, key=lambda r: (r.kernel, r.head_dim, r.case)):
            writer.writerow([r.case, r.family, r.kernel, r.head_dim, f"{r.measured_ms:.4f}",
                             f"{r.predicted_ms:.4f}", f"{r.error:+.4f}", int(r.in_fit),
                             "" if r.measured_speedup is None else f"{r.measured_speedup:.3f}",
                             f"{r.bound_sched:.3f}", r.rule, r.role])
    os.replace(tmp, out_dir / "validation.csv")
    write_json_atomically(out_dir / "summary.json", {
        "dataset": str(dataset.relative_to(REPO_ROOT)) if dataset.is_relative_to(REPO_ROOT)
        else str(dataset),
        "targets": {"median_abs_error": ERROR_TARGET_MEDIAN, "max_abs_error": ERROR_TARGET_MAX,
                    "max_abs_error_under_0.2_ms": SHORT_MAX, "bound_noise": BOUND_NOISE},
        "results": summary, "git": git_revision(), "command": command})
    lines = [f"Written by `{command}`.", "",
             "| kernel | d | held-out runs | median abs error | max abs error | speedups checked "
             "| over bound | meets target |", "|---|---|---|---|---|---|---|---|"]
    for s in summary:
        lines.append(f"| {s['kernel']} | {s['head_dim']} | {s['held_out_runs']} | "
                     f"{percent(s['median_abs_error'])} | {percent(s['max_abs_error'])} | "
                     f"{s['speedups_checked']} | {len(s['runs_over_bound'])} | "
                     f"{'yes' if s['meets_target'] else 'no'} |")
    for title, key, names in (("mask rule", "by_rule", None), ("size class", "by_size",
                                                               [n for n, _, _ in SIZE_CLASSES])):
        configs = [(s["kernel"], s["head_dim"]) for s in summary]
        keys = names or sorted({k for s in summary for k in s[key]})
        lines += ["", f"Held-out median / max abs error by {title}:", "",
                  f"| {title} | " + " | ".join(f"{k} d{d}" for k, d in configs) + " |",
                  "|---|" + "---|" * len(configs)]
        for name in keys:
            cells = []
            for s in summary:
                st = s[key].get(name)
                cells.append("-" if not st or not st["runs"] else
                             f"{percent(st['median_abs_error'])} / "
                             f"{percent(st['max_abs_error'])} ({st['runs']})")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    worst = sorted((r for r in rows if not r.in_fit), key=lambda r: -abs(r.error))[:10]
    lines += ["", "Largest held-out errors:", "", "| case | rule | kernel | d | measured ms | "
              "predicted ms | error |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r.case} | {r.rule} | {r.kernel} | {r.head_dim} | {r.measured_ms:.3f} | "
              f"{r.predicted_ms:.3f} | {r.error * 100:+.1f} % |" for r in worst]
    (out_dir / "report.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--build-dir", type=Path, default=REPO_ROOT / "build" / "default")
    parser.add_argument("--out", type=Path,
                        help="default: <build-dir>/runs/validation-<dataset folder name>")
    parser.add_argument("--calibrations", type=Path,
                        help="also write the fitted cost models here, one per kernel and head dim "
                             "(sim/gpu/calibrations to update the shipped ones)")
    parser.add_argument("--rule-runs-from", type=Path, metavar="DIR", default=RULE_RUN_DATASET,
                        help="fit the rule costs of every kernel it measured on this dataset's "
                             "rule_calibration runs (default: the flex-costs probe, every "
                             "visited tile masked; 'none': each dataset's own rule runs)")
    parser.add_argument("--rule-costs-from", action="append", default=[],
                        metavar="KERNEL:RULE[,RULE...]:DIR",
                        help="take these rules' costs for KERNEL from a calibration of DIR on its "
                             "own calibration and rule runs (a session of the kernel as it is "
                             "now, when the rules' code changed after the dataset's runs); the "
                             "dataset's own runs of those rules are then held out (repeatable)")
    parser.add_argument("--base-runs-from", type=Path, metavar="DIR",
                        help="add every run of this dataset (e.g. the cta probe, "
                             "golden/results/h200/2026-12-03-cta-probe) to the base fit of the "
                             "kernels it measured; its runs are not reported")
    parser.add_argument("--dense-from", type=Path, metavar="DIR",
                        help="dense runs of the same shapes measured in another dataset (e.g. "
                             "golden/results/h200/2026-12-03-dense-twins): measured speedups "
                             "to check against the schedule bound")
    parser.add_argument("--roles", type=Path, metavar="FILE",
                        help="JSON {\"calibration\": [case, ...], \"rule_calibration\": [case, "
                             "...]}: these cases fit, every other case is held out (the hidden "
                             "sets' protocol tried on a set measured as held out, e.g. "
                             "golden/results/h200/2026-12-03-blind7/protocol-roles.json)")
    parser.add_argument("--kernels", metavar="K1,K2",
                        help=f"only these kernels' runs (default: every one measured: "
                             f"{', '.join(KERNELS)})")
    parser.add_argument("--shipped", type=Path, metavar="DIR",
                        help="fit nothing: predict every run with the calibrations in DIR "
                             "(h200_<kernel>_d<head dim>.json, e.g. sim/gpu/calibrations)")
    add_format_option(parser)
    args = parser.parse_args(argv)
    tilesim = (args.build_dir / "sim" / "gpu" / "tilesim").resolve()
    dataset = args.dataset.resolve()
    try:
        # Checked before anything is read or generated: a bad list changes nothing.
        kernels = KERNELS
        if args.kernels:
            kernels = args.kernels.split(",")
            unknown = [k for k in kernels if k not in KERNELS]
            if unknown:
                raise ValidationError(f"--kernels: expected names from {', '.join(KERNELS)}, "
                                      f"got {', '.join(unknown)}")
        if not tilesim.is_file():
            raise ValidationError(f"{tilesim}: not built (run scripts/attnsim build)")
        cost_sessions = [parse_rule_cost_spec(spec) for spec in args.rule_costs_from]
        if cost_sessions and args.shipped:
            raise ValidationError("--rule-costs-from: fits nothing with --shipped")
        all_cases = json.loads((dataset / "cases.json").read_text())["cases"]
        cases = {c["name"]: c for c in all_cases}
        # Checked before any mask is generated: a bad roles file changes nothing.
        if args.roles:
            roles = json.loads(args.roles.read_text())
            unknown = [n for names in roles.values() for n in names if n not in cases]
            if set(roles) - {"calibration", "rule_calibration"} or unknown:
                raise ValidationError(f"{args.roles}: expected calibration and rule_calibration "
                                      f"lists of the dataset's cases, got keys {sorted(roles)}"
                                      f"{f' and unknown cases {unknown}' if unknown else ''}")
            for name, case in cases.items():
                case["role"] = next((role for role, names in roles.items() if name in names),
                                    "held_out")
        ensure_masks(tilesim, dataset, "the dataset's masks", default_dataset="2026-11-23")
        rule_dataset = None
        if str(args.rule_runs_from) != "none" and not args.shipped and has_roles(cases):
            rule_dataset = args.rule_runs_from.resolve()
            ensure_masks(tilesim, rule_dataset, f"the rule runs' masks of {rule_dataset}",
                         roles={"rule_calibration"})
        if args.base_runs_from and not args.shipped:
            ensure_masks(tilesim, args.base_runs_from.resolve(),
                         f"the masks of {args.base_runs_from}")
        dense_from = args.dense_from.resolve() if args.dense_from else None
        rows = []
        for kernel in kernels:
            for head_dim in head_dims_of(dataset, kernel):
                if args.shipped:
                    print(f"predicting {kernel} d{head_dim} with {args.shipped}", file=sys.stderr)
                    rows += predict_with_shipped(tilesim, dataset, kernel, head_dim, cases,
                                                 args.shipped, dense_from)
                    continue
                rule_costs = {}
                for cost_kernel, rules, session in cost_sessions:
                    if cost_kernel == kernel:
                        print(f"calibrating {kernel} d{head_dim} on {session} for its "
                              f"{', '.join(rules)} costs", file=sys.stderr)
                        rule_costs.update(session_rule_costs(tilesim, session, kernel, head_dim,
                                                             rules, dataset))
                print(f"calibrating {kernel} d{head_dim}", file=sys.stderr)
                rows += validate_kernel(
                    tilesim, dataset, kernel, head_dim, cases,
                    args.calibrations / f"h200_{kernel}_d{head_dim}.json"
                    if args.calibrations else None, rule_dataset,
                    args.base_runs_from.resolve() if args.base_runs_from else None, dense_from,
                    rule_costs)
    except (OSError, KeyError, json.JSONDecodeError, ValidationError, RuntimeError) as error:
        print(f"validate_gpu: error: {error}", file=sys.stderr)
        return 2
    summary = summarize(rows)
    out_dir = args.out or args.build_dir / "runs" / f"validation-{dataset.name}"
    # What wrote this report, as typed (golden/regenerate_validation.sh holds the committed ones').
    command = shlex.join(["scripts/validate_gpu.py",
                          *(sys.argv[1:] if argv is None else argv)])
    write_outputs(rows, summary, out_dir, dataset, command)
    plots = plot(rows, out_dir)
    from .html_report import try_write_report
    if try_write_report(out_dir, "validate_gpu") is not None:
        plots.append("report.html")
    print((out_dir / "report.md").read_text(), file=human(args.format))
    print(f"written: {out_dir}/validation.csv, summary.json, report.md, {', '.join(plots)}",
          file=human(args.format))
    emit(args.format, json.loads((out_dir / "summary.json").read_text()), rows=summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
