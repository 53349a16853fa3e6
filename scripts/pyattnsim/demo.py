"""The demo behind `scripts/attnsim demo`: runs every part of attnsim that exists on its bundled
defaults, prints a short table and writes a run folder. It never claims a part that is not built:
missing parts are listed with the issue that will bring them."""
from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import REPO_ROOT
from .build_manifest import BuildManifest, ManifestError, load_manifest
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
    DemoStep("GPU tile-occupancy simulator (tilesim)", "tilesim", 3),
    DemoStep("SpAtten functional models and traces", "spatten-trace", 4),
    DemoStep("SpAtten accelerator model (spatten-sim)", "spatten-sim", 6),
    DemoStep("RTL top-k engine (topk-cosim)", "topk-cosim", 7),
    DemoStep("Golden CUDA kernels (bsattn-bench)", "bsattn-bench", 5),
    DemoStep("CUDA device query (gpu-info)", "gpu-info", 2, run_gpu_info),
]


def run_step(step: DemoStep, manifest: BuildManifest, run_dir: Path) -> StepResult:
    if step.run is None:
        return StepResult(NOT_YET, f"issue #{step.issue}")
    if manifest.tool(step.tool) is None:
        why = "CUDA not found or disabled" if step.tool in ("gpu-info", "bsattn-bench") else \
            "its toolchain was not found or it is disabled"
        return StepResult(NOT_BUILT, why)
    try:
        return step.run(manifest, run_dir)
    except (OSError, subprocess.SubprocessError) as error:
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
    args = parser.parse_args(argv)
    try:
        manifest = load_manifest(args.build_dir)
    except ManifestError as error:
        print(f"attnsim demo: error: {error}", file=sys.stderr)
        return 2
    run_dir = new_run_folder(args.out or args.build_dir / "runs", "demo")
    results = [(step, run_step(step, manifest, run_dir)) for step in STEPS]

    revision = git_revision()
    print(f"attnsim {manifest.version} demo  ({manifest.build_type} build in {manifest.build_dir}, "
          f"git {revision[:12]})\n")
    rows = [("part", "status", "detail")] + [(s.title, r.status, r.detail) for s, r in results]
    print(format_table(rows))
    files = [f for _, r in results for f in r.files]
    plots = [f for f in files if f.endswith(".png")]
    write_json_atomically(run_dir / "summary.json", {
        "git": revision, "build_dir": str(manifest.build_dir), "version": manifest.version,
        "parts": [{"part": s.title, "tool": s.tool, "issue": s.issue, "status": r.status,
                   "detail": r.detail, "files": r.files} for s, r in results]})
    missing = [s for s, r in results if r.status == NOT_YET]
    print(f"\nRun folder: {run_dir}  (summary.json, {len(files)} result file(s), "
          f"{len(plots)} plot(s))")
    if missing:
        print(f"{len(missing)} part(s) are not implemented yet; the table names their issues. "
              "This demo runs whatever exists.")
    return 1 if any(r.status == FAILED for _, r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
