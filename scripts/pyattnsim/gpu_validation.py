"""Predicted against measured: calibrates tilesim on at most five runs per kernel and head dim,
predicts every other run of the GPU dataset, compares measured speedups with tilesim's schedule
bound, and writes a table, a summary and two plots.

The calibration runs are fixed by rule, before any prediction is looked at: dense at the smallest
and the largest shape (fixed costs and full tiles), causal at the middle shape (the diagonal's
partial tiles), random blocks (scattered full tiles) and vertical-slash (partial tiles dominate).
Every other run is held out.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import REPO_ROOT
from .gpu_dataset import generate
from .runinfo import git_revision, write_json_atomically

CALIBRATION_CASES = ["dense-s4096-h32", "dense-s32768-h8", "causal-s16384-h16",
                     "random-s8192-h32", "vertical_slash-s8192-h32"]
KERNELS = ["golden", "flexattention"]
# tilesim preset per (kernel, head dim) where the kernel compiles a different configuration.
PRESETS = {("flexattention", 64): "flexattention_d64"}
ERROR_TARGET_MEDIAN, ERROR_TARGET_MAX, BOUND_NOISE = 0.02, 0.05, 0.01


class ValidationError(Exception):
    """The dataset or the tools cannot produce a validation."""


@dataclass
class Row:
    case: str
    family: str
    kernel: str
    head_dim: int
    measured_ms: float
    predicted_ms: float
    in_fit: bool
    measured_speedup: float
    bound_sched: float

    @property
    def error(self) -> float:
        return (self.predicted_ms - self.measured_ms) / self.measured_ms

    @property
    def exceeds_bound(self) -> bool:
        return self.measured_speedup > self.bound_sched * (1 + BOUND_NOISE)


def run_tilesim(tilesim: Path, args: list[str], cwd: Path) -> dict:
    result = subprocess.run([str(tilesim), *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise ValidationError(f"tilesim {' '.join(args[:3])}...: {result.stderr.strip()}")
    return json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}


def validate_kernel(tilesim: Path, dataset: Path, kernel: str, head_dim: int,
                    families: dict[str, str]) -> list[Row]:
    measurements = json.loads((dataset / f"{kernel}.json").read_text())
    runs = [r for r in measurements["runs"] if r["head_dim"] == head_dim]
    by_case = {Path(r["mask"]).stem: r for r in runs}
    missing = [c for c in CALIBRATION_CASES if c not in by_case]
    if missing:
        raise ValidationError(f"{dataset / (kernel + '.json')}: no d{head_dim} runs of {missing}")
    ordered = [by_case[c] for c in CALIBRATION_CASES] + \
              [r for r in runs if Path(r["mask"]).stem not in CALIBRATION_CASES]
    with tempfile.TemporaryDirectory(dir=dataset) as scratch:
        # The reordered file sits in the dataset folder so its relative mask paths stay valid.
        fit_file = Path(scratch).parent / f".fit-{kernel}-d{head_dim}-{os.getpid()}.json"
        try:
            preset = PRESETS.get((kernel, head_dim), kernel)
            fit_file.write_text(json.dumps({**measurements, "kernel": preset, "runs": ordered}))
            calibration = Path(scratch) / "cal.json"
            run_tilesim(tilesim, ["calibrate", "--gpu", "h200", "--kernel", preset,
                                  "--head-dim", str(head_dim), "--measurements", str(fit_file),
                                  "--fit-runs", str(len(CALIBRATION_CASES)),
                                  "--out", str(calibration)], dataset)
            fitted = json.loads(calibration.read_text())
        finally:
            fit_file.unlink(missing_ok=True)
    bounds = run_tilesim(tilesim, ["bounds", *[r["mask"] for r in ordered], "--gpu", "h200",
                                   "--kernel", PRESETS.get((kernel, head_dim), kernel),
                                   "--head-dim", str(head_dim)], dataset)
    bound_of = {Path(b["mask"]).stem: b["speedup_bound_sched"] for b in bounds["results"]}
    dense_ms = {(r["info"]["seq_q"], r["info"]["heads"]): r["ms"] for r in runs
                if Path(r["mask"]).stem.startswith("dense-")}
    rows = []
    for fit in fitted["runs"]:
        case = Path(fit["mask"]).stem
        info = by_case[case]["info"]
        rows.append(Row(case, families.get(case, "?"), kernel, head_dim, fit["measured_ms"],
                        fit["predicted_ms"], fit["in_fit"],
                        dense_ms[(info["seq_q"], info["heads"])] / fit["measured_ms"],
                        bound_of[case]))
    return rows


def summarize(rows: list[Row]) -> list[dict]:
    out = []
    for kernel in KERNELS:
        for head_dim in sorted({r.head_dim for r in rows if r.kernel == kernel}):
            held = [abs(r.error) for r in rows
                    if r.kernel == kernel and r.head_dim == head_dim and not r.in_fit]
            over = [r.case for r in rows
                    if r.kernel == kernel and r.head_dim == head_dim and r.exceeds_bound]
            median, worst = statistics.median(held), max(held)
            out.append({"kernel": kernel, "head_dim": head_dim, "held_out_runs": len(held),
                        "median_abs_error": median, "max_abs_error": worst,
                        "runs_over_bound": over,
                        "meets_target": median <= ERROR_TARGET_MEDIAN
                        and worst <= ERROR_TARGET_MAX and not over})
    return out


def plot(rows: list[Row], out_dir: Path) -> list[str]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {("golden", 64): "#1f77b4", ("golden", 128): "#08306b",
              ("flexattention", 64): "#ff7f0e", ("flexattention", 128): "#a63603"}
    fig, ax = plt.subplots(figsize=(6.5, 6))
    for (kernel, head_dim), color in colors.items():
        sel = [r for r in rows if r.kernel == kernel and r.head_dim == head_dim]
        ax.scatter([r.measured_ms for r in sel if not r.in_fit],
                   [r.predicted_ms for r in sel if not r.in_fit], s=14, color=color,
                   label=f"{kernel} d{head_dim}")
        ax.scatter([r.measured_ms for r in sel if r.in_fit],
                   [r.predicted_ms for r in sel if r.in_fit], s=40, marker="x", color=color)
    lo = min(min(r.measured_ms, r.predicted_ms) for r in rows) * 0.8
    hi = max(max(r.measured_ms, r.predicted_ms) for r in rows) * 1.25
    ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
    ax.fill_between([lo, hi], [lo * 0.95, hi * 0.95], [lo * 1.05, hi * 1.05], color="0.85",
                    label="±5 %")
    ax.set(xscale="log", yscale="log", xlim=(lo, hi), ylim=(lo, hi), xlabel="measured ms (H200)",
           ylabel="tilesim predicted ms", title="tilesim vs H200 (x: calibration runs)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "predicted_vs_measured.png", dpi=130)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.5, 6))
    for (kernel, head_dim), color in colors.items():
        sel = [r for r in rows if r.kernel == kernel and r.head_dim == head_dim]
        ax.scatter([r.bound_sched for r in sel], [r.measured_speedup for r in sel], s=14,
                   color=color, label=f"{kernel} d{head_dim}")
    top = max(max(r.bound_sched, r.measured_speedup) for r in rows) * 1.1
    ax.plot([0.5, top], [0.5, top], "k-", lw=0.8, label="measured = bound")
    ax.set(xscale="log", yscale="log", xlabel="tilesim speedup_bound_sched",
           ylabel="measured speedup over the same kernel's dense run",
           title="Measured speedup against tilesim's schedule bound")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "speedup_vs_bound.png", dpi=130)
    plt.close(fig)
    return ["predicted_vs_measured.png", "speedup_vs_bound.png"]


def write_outputs(rows: list[Row], summary: list[dict], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f"validation.csv.tmp-{os.getpid()}"
    with open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case", "family", "kernel", "head_dim", "measured_ms", "predicted_ms",
                         "error", "in_fit", "measured_speedup", "speedup_bound_sched"])
        for r in sorted(rows, key=lambda r: (r.kernel, r.head_dim, r.case)):
            writer.writerow([r.case, r.family, r.kernel, r.head_dim, f"{r.measured_ms:.4f}",
                             f"{r.predicted_ms:.4f}", f"{r.error:+.4f}", int(r.in_fit),
                             f"{r.measured_speedup:.3f}", f"{r.bound_sched:.3f}"])
    os.replace(tmp, out_dir / "validation.csv")
    write_json_atomically(out_dir / "summary.json", {
        "calibration_cases": CALIBRATION_CASES, "targets": {
            "median_abs_error": ERROR_TARGET_MEDIAN, "max_abs_error": ERROR_TARGET_MAX,
            "bound_noise": BOUND_NOISE}, "results": summary, "git": git_revision()})
    lines = ["| kernel | d | held-out runs | median abs error | max abs error | over bound | "
             "meets target |", "|---|---|---|---|---|---|---|"]
    for s in summary:
        lines.append(f"| {s['kernel']} | {s['head_dim']} | {s['held_out_runs']} | "
                     f"{s['median_abs_error'] * 100:.1f} % | {s['max_abs_error'] * 100:.1f} % | "
                     f"{len(s['runs_over_bound'])} | {'yes' if s['meets_target'] else 'no'} |")
    worst = sorted((r for r in rows if not r.in_fit), key=lambda r: -abs(r.error))[:8]
    lines += ["", "Largest held-out errors:", "", "| case | kernel | d | measured ms | "
              "predicted ms | error |", "|---|---|---|---|---|---|"]
    lines += [f"| {r.case} | {r.kernel} | {r.head_dim} | {r.measured_ms:.3f} | "
              f"{r.predicted_ms:.3f} | {r.error * 100:+.1f} % |" for r in worst]
    (out_dir / "report.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path,
                        default=REPO_ROOT / "golden/results/h200/2026-11-23-dataset")
    parser.add_argument("--build-dir", type=Path, default=REPO_ROOT / "build" / "default")
    parser.add_argument("--out", type=Path, help="default: <dataset>/validation")
    args = parser.parse_args(argv)
    tilesim = (args.build_dir / "sim" / "gpu" / "tilesim").resolve()
    dataset = args.dataset.resolve()
    try:
        if not tilesim.is_file():
            raise ValidationError(f"{tilesim}: not built (run scripts/attnsim build)")
        cases = json.loads((dataset / "cases.json").read_text())["cases"]
        if not all((dataset / c["mask"]).is_file() for c in cases):
            print("regenerating the dataset's masks with tilesim gen...", file=sys.stderr)
            generate(tilesim, dataset)
        families = {c["name"]: c["family"] for c in cases}
        rows = []
        for kernel in KERNELS:
            head_dims = sorted({r["head_dim"] for r in
                                json.loads((dataset / f"{kernel}.json").read_text())["runs"]})
            for head_dim in head_dims:
                print(f"calibrating {kernel} d{head_dim} on {len(CALIBRATION_CASES)} runs",
                      file=sys.stderr)
                rows += validate_kernel(tilesim, dataset, kernel, head_dim, families)
    except (OSError, KeyError, json.JSONDecodeError, ValidationError, RuntimeError) as error:
        print(f"validate_gpu: error: {error}", file=sys.stderr)
        return 2
    summary = summarize(rows)
    out_dir = args.out or dataset / "validation"
    write_outputs(rows, summary, out_dir)
    plots = plot(rows, out_dir)
    print((out_dir / "report.md").read_text())
    print(f"written: {out_dir}/validation.csv, summary.json, report.md, {', '.join(plots)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
