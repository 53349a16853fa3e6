#!/usr/bin/python3
"""Speed of spatten-sim: simulated cycles per host second on the GPT-2-small workloads, in the
fast (plain HBM) and detailed (banked HBM) configurations, pinned to one core.

    PYTHONPATH=scripts/python /usr/bin/python3 -m attnsim.spatten_sim_bench [--build-dir build/default]
        [--repeats 5] [--out bench.json]

Two times per case, each the best of --repeats runs: `simulate`, what spatten-sim reports on
stderr (elaboration, synthetic indices and sc_start: the model itself), and `process`, the whole
command (start-up, CSV parsing, stats.json). The issue's target: the 4,608-head-step workload in
about a second or less on one core; issue 16's: a 12,000-head-step GPT-2-medium-sized pruned
workload under a second (`gpt2-medium`: the small pair's rows mapped onto 24 layers x 16 heads x
32 iterations, written to a temporary file; under `spatten` and `spatten-paper`).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import REPO_ROOT
from .output_format import add_format_option, emit, human

CASES = [
    ("gpt2-per8", ["--preset", "spatten", "traces/spatten/summary-gpt2-small-wikitext2-per8.csv"]),
    ("gpt2-dense", ["--preset", "spatten-16bit",
                    "traces/spatten/summary-gpt2-small-wikitext2-per8-step1+dedic.csv"]),
    ("bert-like", ["--preset", "spatten", "--queries-per-head-step", "384",
                   "sim/accel/examples/bert-like-base-384.csv"]),
    ("gpt2-medium", ["--preset", "spatten", "{MEDIUM}"]),
    ("gpt2-medium-paper", ["--preset", "spatten-paper", "{MEDIUM}"]),
]
SMALL = REPO_ROOT / "traces/spatten/summary-gpt2-small-wikitext2-per8.csv"


def write_medium_like(path: Path) -> int:
    """GPT-2-medium's shape (24 layers x 16 heads, 32 iterations) filled with the small pair's rows:
    layer l takes small layer l // 2, head h small head h % 12; the token top-k (which holds the
    issue) stays once per small layer, on the last head of every second layer. Returns the rows."""
    lines = SMALL.read_text().splitlines()
    header, rows, tail = lines[0], [r.split(",") for r in lines[1:-1]], lines[-1]
    by_key = {(int(r[0]), int(r[1]), int(r[2])): r for r in rows}
    out = [header]
    for it in range(32):
        for layer in range(24):
            for head in range(16):
                r = list(by_key[(it, layer // 2, head % 12)])
                r[1], r[2] = str(layer), str(head)
                last = by_key[(it, layer // 2, 11)]
                topk = head == 15 and layer % 2 == 1
                r[15], r[16] = (last[15], last[16]) if topk else ("False", "-1")
                out.append(",".join(r))
    out.append(tail)
    path.write_text("\n".join(out) + "\n")
    return len(out) - 2
LINE = re.compile(r"spatten-sim: (\d+) cycles simulated in ([0-9.e+-]+) s")


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def run_once(tool: Path, args: list[str], fast: bool) -> tuple[int, float, float]:
    cmd = [str(tool), *args] + (["--fast"] if fast else [])
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "0"] + cmd
    env = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    match = LINE.search(done.stderr)
    if not match:
        raise RuntimeError(f"no timing line in spatten-sim's output: {done.stderr!r}")
    return int(match.group(1)), float(match.group(2)), wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=REPO_ROOT / "build" / "default")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path)
    add_format_option(parser)
    args = parser.parse_args(argv)
    say = human(args.format)
    tool = args.build_dir / "sim" / "accel" / "spatten-sim"
    if not tool.exists():
        print(f"spatten_sim_bench: {tool} not built", file=sys.stderr)
        return 2
    rows = []
    print(f"machine: {cpu_name()}, one core (taskset -c 0), best of {args.repeats}", file=say)
    print(f"{'case':<12} {'mode':<9} {'cycles':>10} {'simulate s':>11} {'process s':>10} "
          f"{'M cycles/s':>11}", file=say)
    medium_dir = tempfile.TemporaryDirectory()
    medium = Path(medium_dir.name) / "gpt2-medium-like.csv"
    write_medium_like(medium)
    for name, case_args in CASES:
        case_args = [str(medium) if a == "{MEDIUM}" else a for a in case_args]
        for fast in (True, False):
            runs = [run_once(tool, case_args, fast) for _ in range(args.repeats)]
            cycles = runs[0][0]
            sim_s = min(r[1] for r in runs)
            wall_s = min(r[2] for r in runs)
            mode = "fast" if fast else "detailed"
            rows.append({"case": name, "mode": mode, "cycles": cycles, "simulate_s": sim_s,
                         "process_s": wall_s, "cycles_per_s": cycles / sim_s})
            print(f"{name:<12} {mode:<9} {cycles:>10} {sim_s:>11.3f} {wall_s:>10.3f} "
                  f"{cycles / sim_s / 1e6:>11.2f}", file=say, flush=True)
    if args.out:
        args.out.write_text(json.dumps({"machine": cpu_name(), "rows": rows}, indent=2) + "\n")
    emit(args.format, {"machine": cpu_name(), "rows": rows}, rows=rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
