"""The demo behind `scripts/attnsim demo`: runs every part of attnsim that exists on its bundled
defaults, prints a short table and writes a run folder. It never claims a part that is not built:
missing parts are listed with the issue that will bring them."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import REPO_ROOT
from .build_manifest import BuildManifest, ManifestError, load_manifest
from .output_format import add_format_option, emit, human
from .runinfo import git_revision, new_run_folder, write_json_atomically

READY, NOT_BUILT, NOT_YET, FAILED = "ran", "not built", "not implemented yet", "FAILED"


@dataclass
class StepResult:
    status: str
    detail: str
    files: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DemoStep:
    """One part of attnsim: `run` returns what happened; it is only called when `tool` is built."""
    title: str
    tool: str
    issue: int
    run: Callable[[BuildManifest, Path], StepResult] | None = None


def run_tool(manifest: BuildManifest, tool: str, args: list[str], log: Path) -> str:
    """Runs a built tool, keeps its stdout and stderr in `log`; raises on a non-zero exit."""
    result = subprocess.run([str(manifest.tool(tool)), *args], capture_output=True, text=True)
    log.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise subprocess.SubprocessError(f"{tool} exited {result.returncode}: "
                                         f"{result.stderr.strip()[:200]}")
    return result.stdout


# The GPU demo: bundled pattern families at one realistic shape, predicted for FlexAttention on an
# H200 (the kernel and GPU measured in golden/results/h200/).
TILESIM_MASKS = [
    ("causal", ["causal"]),
    ("sliding_window_2048", ["sliding_window", "--window", "2048"]),
    ("a_shape", ["a_shape", "--sinks", "128", "--window", "1024"]),
    ("random_25pct", ["random", "--density", "0.25"]),
]


#: The tools' own report.html is left out of the demo's sub-runs: the demo's report.html, drawn
#: last over the whole run folder, shows every part in one page (plotly.js, 8 MB, embedded once).
NO_REPORT = "--no-report"


def run_tilesim(manifest: BuildManifest, run_dir: Path) -> StepResult:
    masks = run_dir / "tilesim"
    masks.mkdir()
    paths = []
    for name, args in TILESIM_MASKS:
        path = masks / f"{name}.npz"
        run_tool(manifest, "tilesim", ["gen", *args, "--seq", "16384", "--heads", "32",
                                        "--seed", "1", "--out", str(path)],
                 masks / f"gen-{name}.log")
        paths.append(str(path))
    predictions = masks / "predict"  # a run folder: predict/results.json
    timeline = masks / "timeline.csv"
    run_tool(manifest, "tilesim", ["predict", *paths, "--gpu", "h200", "--kernel",
                                   "flexattention", "--out", str(predictions), NO_REPORT,
                                   "--trace", str(timeline)], masks / "predict.log")
    rows = json.loads((predictions / "results.json").read_text())
    rows = rows if isinstance(rows, list) else rows.get("results", [rows])
    from . import plot_timeline  # matplotlib is only needed once a part plots
    frame = plot_timeline.read_timeline(timeline)
    first = frame["mask"].iloc[0]
    plot_timeline.plot(frame[frame["mask"] == first], masks / "timeline-causal.png",
                       title=f"tilesim: FlexAttention on H200, {Path(first).name}")
    table = ", ".join(f"{Path(r['mask']).stem} {r['predicted_speedup']:.2f}x "
                      f"(bound {r['speedup_bound_sched']:.2f}x)" for r in rows)
    return StepResult(READY, f"S=16K H=32 on h200/flexattention: {table}",
                      ["tilesim/predict/results.json", "tilesim/timeline.csv",
                       "tilesim/timeline-causal.png"])


def run_spatten_functional(manifest: BuildManifest, run_dir: Path) -> StepResult:
    out = run_dir / "spatten"
    out.mkdir()
    pruned = REPO_ROOT / "traces" / "spatten" / "summary-gpt2-small-wikitext2-per8.csv"
    dense = REPO_ROOT / "traces" / "spatten" / "summary-gpt2-small-wikitext2-per8-step1+dedic.csv"
    validation = run_tool(manifest, "spatten-trace", ["validate", str(pruned), str(dense)],
                          out / "validate.log")
    topk = run_tool(manifest, "topk-stats", ["--trials", "2000"], out / "topk-stats.txt")
    softmax = run_tool(manifest, "softmax-error", [], out / "softmax-error.txt")
    reduction = validation.splitlines()[0].rsplit("(", 1)[-1].rstrip(")")
    topk_row = next((line.split("|")[1].strip() for line in topk.splitlines()
                     if line.split()[:2] == ["1024", "512"]), "?")
    exp_err = next((line.split()[1] for line in softmax.splitlines() if "<- default" in line),
                   "?")
    return StepResult(READY, f"GPT-2-small trace: K+V bytes {reduction} below dense; top-k "
                             f"n=1024 k=512: {topk_row} cycles; exp max rel err {exp_err}",
                      ["spatten/validate.log", "spatten/topk-stats.txt",
                       "spatten/softmax-error.txt"])


def run_spatten_sim(manifest: BuildManifest, run_dir: Path) -> StepResult:
    out = run_dir / "spatten-sim"
    out.mkdir()
    pruned = REPO_ROOT / "traces" / "spatten" / "summary-gpt2-small-wikitext2-per8.csv"
    table = run_tool(manifest, "spatten-sim", ["--format", "table", "--out", str(out / "per8"),
                                               NO_REPORT, str(pruned)], out / "per8.log")
    (out / "per8.txt").write_text(table)
    stats = json.loads((out / "per8" / "stats.json").read_text())
    from . import plot_spatten  # matplotlib is only needed once a part plots
    plot_spatten.plot(plot_spatten.read_stats(out / "per8" / "stats.json"), out / "per8.png",
                      title="spatten-sim: GPT-2-small pruned workload (SpAtten preset)")
    return StepResult(READY, f"GPT-2-small pruned workload on SpAtten: {stats['cycles']} cycles "
                             f"({stats['seconds'] * 1e3:.2f} ms), DRAM "
                             f"{stats['dram']['reduction']['total']:.1f}x below dense, "
                             f"{stats['ops']['dense_equivalent_ops_per_s'] / 1e12:.2f} "
                             "dense-equivalent TOPS",
                      ["spatten-sim/per8.txt", "spatten-sim/per8/stats.json",
                       "spatten-sim/per8/config.yaml", "spatten-sim/per8.png"])


def run_topk_cosim(manifest: BuildManifest, run_dir: Path) -> StepResult:
    out = run_dir / "topk-cosim"
    out.mkdir()
    text = run_tool(manifest, "topk-cosim", ["--vectors", "2000", "--out", str(out / "p16"),
                                             NO_REPORT,
                                             "--trace", str(out / "first-jobs.vcd"),
                                             "--trace-cycles", "2000"], out / "p16.log")
    (out / "p16.txt").write_text(text)
    result = json.loads((out / "p16" / "results.json").read_text())
    # Co-simulation: spatten-sim with the RTL engines must reproduce its own behavioural stats.
    pruned = REPO_ROOT / "traces" / "spatten" / "summary-gpt2-small-wikitext2-per8.csv"
    run_tool(manifest, "spatten-sim", ["--topk-engine", "rtl", "--out", str(out / "cosim-per8"),
                                       NO_REPORT, str(pruned)], out / "cosim-per8.log")
    behavioural = run_dir / "spatten-sim" / "per8" / "stats.json"
    cosim = out / "cosim-per8" / "stats.json"
    if behavioural.exists():
        same = "identical" if behavioural.read_bytes() == cosim.read_bytes() else "DIFFERENT"
    else:
        same = "not compared (spatten-sim step did not run)"
    status = READY if result["mismatches"] == 0 and same != "DIFFERENT" else FAILED
    return StepResult(status, f"attn_topk P=16 vs models/: {result['mismatches']} mismatches in "
                              f"{result['vectors']} random jobs with back-pressure; spatten-sim "
                              f"with the RTL engines on GPT-2-small: stats {same}",
                      ["topk-cosim/p16.txt", "topk-cosim/p16/results.json",
                       "topk-cosim/first-jobs.vcd", "topk-cosim/cosim-per8/stats.json"])


def run_dse(manifest: BuildManifest, run_dir: Path) -> StepResult:
    from .dse.runner import run_sweep  # Dask and matplotlib load only when this part runs
    from .dse.spec import load_spec
    if manifest.python_module("attnsim_native") is None:
        return StepResult(NOT_BUILT, "the attnsim_native Python module is not in this build")
    spec = load_spec(Path(__file__).resolve().parent / "dse" / "examples" / "gpu_heatmap.yaml")
    # In-process and serial: the demo's point is the result, not the scale-out.
    summary = run_sweep(spec, run_dir / "dse-gpu-heatmap", manifest.build_dir, serial=True,
                        quiet=True)
    plots = [str(Path(p).relative_to(run_dir)) for p in summary["plots"]]
    status = READY if summary["failed"] == 0 else FAILED
    return StepResult(status, f"GPU sweep (tile x scheduler x family x seq on h200): "
                              f"{summary['ok']} of {summary['points']} points, "
                              f"{len(plots)} plots (examples in scripts/python/attnsim/dse/examples/)",
                      ["dse-gpu-heatmap/results.csv"] + plots)


def run_bsattn_bench(manifest: BuildManifest, run_dir: Path) -> StepResult:
    result = subprocess.run([str(manifest.tool("bsattn-bench")), "pattern:causal,seq=4096,heads=8",
                             "--reps", "5", "--out", str(run_dir / "bsattn-bench.json")],
                            capture_output=True, text=True)
    (run_dir / "bsattn-bench.log").write_text(result.stdout + result.stderr)
    if result.returncode == 1:
        return StepResult(READY, "built; no GPU here (H200 measurements: golden/results/h200/)",
                          ["bsattn-bench.log"])
    if result.returncode != 0:
        return StepResult(FAILED, result.stderr.strip()[:200], ["bsattn-bench.log"])
    return StepResult(READY, "measured on this GPU", ["bsattn-bench.json", "bsattn-bench.log"])


def run_gpu_info(manifest: BuildManifest, run_dir: Path) -> StepResult:
    result = subprocess.run([str(manifest.tool("gpu-info"))], capture_output=True, text=True)
    (run_dir / "gpu-info.txt").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        reason = result.stderr.strip().removeprefix("gpu-info: ")
        return StepResult(READY, f"no GPU on this machine ({reason})", ["gpu-info.txt"])
    return StepResult(READY, f"{len(result.stdout.splitlines())} GPU(s) found", ["gpu-info.txt"])


# In the order a reader meets them in README.md. A step without `run` is a part that does not exist
# yet; it gains a runner when its issue lands.
STEPS = [
    DemoStep("GPU tile-occupancy simulator (tilesim)", "tilesim", 3, run_tilesim),
    DemoStep("SpAtten functional models and traces", "spatten-trace", 4, run_spatten_functional),
    DemoStep("SpAtten accelerator model (spatten-sim)", "spatten-sim", 6, run_spatten_sim),
    DemoStep("RTL top-k engine (topk-cosim)", "topk-cosim", 7, run_topk_cosim),
    DemoStep("Design-space exploration (attnsim.dse)", "tilesim", 8, run_dse),
    DemoStep("Golden CUDA kernel (bsattn-bench)", "bsattn-bench", 5, run_bsattn_bench),
    DemoStep("CUDA device query (gpu-info)", "gpu-info", 2, run_gpu_info),
]


def run_step(step: DemoStep, manifest: BuildManifest, run_dir: Path) -> StepResult:
    if step.run is None:
        return StepResult(NOT_YET, f"issue #{step.issue}")
    if manifest.tool(step.tool) is None:
        why = "CUDA not found or disabled" if step.tool in ("gpu-info", "bsattn-bench") else \
            "not in this build (scripts/attnsim build)"
        return StepResult(NOT_BUILT, why)
    try:
        return step.run(manifest, run_dir)
    except (OSError, subprocess.SubprocessError, ValueError, KeyError) as error:
        return StepResult(FAILED, str(error))


def format_table(rows: list[tuple[str, str, str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    rule = "-" * (widths[0] + widths[1] + 4 + min(widths[2], 40))
    lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}".rstrip() for a, b, c in rows]
    return "\n".join(lines[:1] + [rule] + lines[1:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="attnsim demo", description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=REPO_ROOT / "build" / "default")
    parser.add_argument("--out", type=Path, default=None,
                        help="parent folder of the run folder (default: <build-dir>/runs)")
    add_format_option(parser)
    args = parser.parse_args(argv)
    say = human(args.format)
    try:
        manifest = load_manifest(args.build_dir)
    except ManifestError as error:
        print(f"attnsim demo: error: {error}", file=sys.stderr)
        return 2
    run_dir = new_run_folder(args.out or args.build_dir / "runs", "demo")
    results = [(step, run_step(step, manifest, run_dir)) for step in STEPS]

    revision = git_revision()
    print(f"attnsim {manifest.version} demo  ({manifest.build_type} build in {manifest.build_dir}, "
          f"git {revision[:12]})\n", file=say)
    rows = [("part", "status", "detail")] + [(s.title, r.status, r.detail) for s, r in results]
    print(format_table(rows), file=say)
    files = [f for _, r in results for f in r.files]
    plots = [f for f in files if f.endswith(".png")]
    summary = {
        "git": revision, "build_dir": str(manifest.build_dir), "version": manifest.version,
        "parts": [{"part": s.title, "tool": s.tool, "issue": s.issue, "status": r.status,
                   "detail": r.detail, "files": r.files} for s, r in results]}
    write_json_atomically(run_dir / "summary.json", summary)
    from .html_report import try_write_report
    report = try_write_report(run_dir, "attnsim demo")
    missing = [s for s, r in results if r.status == NOT_YET]
    print(f"\nRun folder: {run_dir}  (summary.json, {len(files)} result file(s), "
          f"{len(plots)} plot(s)" + (f", {report.name}" if report else "") + ")", file=say)
    if missing:
        print(f"{len(missing)} part(s) are not implemented yet; the table names their issues. "
              "This demo runs whatever exists.", file=say)
    emit(args.format, {**summary, "run_folder": str(run_dir)}, rows=summary["parts"])
    return 1 if any(r.status == FAILED for _, r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
