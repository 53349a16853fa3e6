#!/usr/bin/python3
"""Co-simulation cost: spatten-sim with the behavioural top-k engines vs the Verilated RTL ones,
on the GPT-2-small pruned workload, measured in one run (best of --repeats each, one core).

    PYTHONPATH=scripts/python /usr/bin/python3 -m attnsim.topk_cosim_bench [--build-dir build/default]
        [--repeats 3] [--out bench.json]

Also checks that both give byte-identical stats.json (the co-simulation's promise) and exits 1 if
they do not.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from . import REPO_ROOT
from .output_format import add_format_option, emit, human
from .spatten_sim_bench import cpu_name, run_once

WORKLOAD = "traces/spatten/summary-gpt2-small-wikitext2-per8.csv"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=REPO_ROOT / "build" / "default")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path)
    add_format_option(parser)
    args = parser.parse_args(argv)
    say = human(args.format)
    tool = args.build_dir / "sim" / "accel" / "spatten-sim"
    if not tool.exists():
        print(f"topk_cosim_bench: {tool} not built", file=sys.stderr)
        return 2
    results = {}
    stats = {}
    with tempfile.TemporaryDirectory() as tmp:
        for engine in ("behavioural", "rtl"):
            out = Path(tmp) / engine
            runs = [run_once(tool, ["--topk-engine", engine, "--out", str(out), "--no-report",
                                    WORKLOAD],
                             fast=False) for _ in range(args.repeats)]
            results[engine] = {"cycles": runs[0][0], "simulate_s": min(r[1] for r in runs),
                               "process_s": min(r[2] for r in runs)}
            stats[engine] = (out / "stats.json").read_bytes()
    identical = stats["behavioural"] == stats["rtl"]
    ratio = results["rtl"]["simulate_s"] / results["behavioural"]["simulate_s"]
    print(f"machine: {cpu_name()}, one core, best of {args.repeats}; workload {WORKLOAD}",
          file=say)
    for engine, r in results.items():
        print(f"  top-k {engine:<12} {r['cycles']:>9} cycles  simulate {r['simulate_s']:.3f} s  "
              f"process {r['process_s']:.3f} s", file=say)
    print(f"RTL co-simulation is {ratio:.1f}x slower than the behavioural engines; "
          f"stats.json {'identical' if identical else 'DIFFERENT'}", file=say)
    report = {"machine": cpu_name(), "workload": WORKLOAD, "results": results,
              "slowdown": ratio, "stats_identical": identical}
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    emit(args.format, report, rows=[{"engine": e, **r} for e, r in results.items()])
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
