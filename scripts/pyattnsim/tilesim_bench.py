#!/usr/bin/python3
"""Times the C++ tilesim against the NumPy reference on the same masks, in one run, and prints
the speed ratios (issue #3 target: C++ at least 20x faster on a 32-head, 32K-token mask).

    PYTHONPATH=scripts /usr/bin/python3 -m pyattnsim.tilesim_bench [--build-dir build/default]
        [--seq 32768] [--heads 32] [--repeats 5] [--out bench.json]

Both sides do the same work per mask: classify tiles, schedule the sparse and the dense launch,
bounds, cost and memory model. Two ratios are printed:
  simulate     the mask already in memory: C++ from tilesim_benchmark (Google Benchmark,
               in-process), NumPy from tilesim_ref.simulate;
  end-to-end   reading the .npz too: the whole `tilesim predict` process (start-up included)
               against tilesim_ref.load_mask + simulate.
Each time is the best of --repeats runs (Google Benchmark: its mean over many iterations).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import REPO_ROOT, tilesim_ref
from .runinfo import write_json_atomically

MASKS = [
    ("causal", []),
    ("block_topk", ["--density", "0.1", "--seed", "1"]),
    ("a_shape", ["--sinks", "128", "--window", "2048"]),
]


def best_of(repeats: int, action) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def cpp_simulate_ms(benchmark: Path, masks: list[Path], kernel: str) -> dict[str, float]:
    """Mean in-process time per mask of `simulate` on a mask read beforehand."""
    out = subprocess.run([str(benchmark), "--benchmark_format=json", "--benchmark_filter=^simulate/",
                          f"--kernel={kernel}", *map(str, masks)], check=True,
                         capture_output=True, text=True).stdout
    times = {}
    for entry in json.loads(out)["benchmarks"]:
        assert entry["time_unit"] == "ms", entry
        times[entry["name"].removeprefix("simulate/")] = entry["real_time"] / 1e3
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=REPO_ROOT / "build" / "default")
    parser.add_argument("--seq", type=int, default=32768)
    parser.add_argument("--heads", type=int, default=32)
    parser.add_argument("--kernel", default="flexattention")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, help="also write the timings as JSON")
    args = parser.parse_args(argv)
    tilesim = args.build_dir / "sim" / "gpu" / "tilesim"
    benchmark = args.build_dir / "sim" / "gpu" / "tilesim_benchmark"
    for tool in (tilesim, benchmark):
        if not tool.exists():
            print(f"tilesim_bench: error: {tool} not built", file=sys.stderr)
            return 2

    gpu = tilesim_ref.load_gpu("h200")
    kernel = tilesim_ref.load_kernel(args.kernel)
    cost = tilesim_ref.default_cost(gpu, kernel)
    rows = []
    print(f"{args.heads} heads, {args.seq} tokens, kernel {args.kernel}, GPU h200; seconds")
    print(f"{'mask':<12} {'C++ sim':>9} {'NumPy sim':>10} {'ratio':>7}   "
          f"{'C++ e2e':>9} {'NumPy e2e':>10} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        masks = []
        for family, params in MASKS:
            mask = Path(tmp) / f"{family}.npz"
            subprocess.run([str(tilesim), "gen", family, "--seq", str(args.seq), "--heads",
                            str(args.heads), *params, "--out", str(mask)], check=True)
            masks.append(mask)
        cpp_sim = cpp_simulate_ms(benchmark, masks, args.kernel)
        for (family, _), mask in zip(MASKS, masks):
            loaded = tilesim_ref.load_mask(mask)
            ref_sim = best_of(args.repeats, lambda: tilesim_ref.simulate(loaded, gpu, kernel, cost))
            ref_e2e = best_of(args.repeats, lambda: tilesim_ref.simulate(
                tilesim_ref.load_mask(mask), gpu, kernel, cost))
            cpp_e2e = best_of(args.repeats, lambda: subprocess.run(
                [str(tilesim), "predict", str(mask), "--kernel", args.kernel], check=True,
                capture_output=True))
            row = {"mask": family, "seq": args.seq, "heads": args.heads, "kernel": args.kernel,
                   "cpp_simulate_s": cpp_sim[str(mask)], "numpy_simulate_s": ref_sim,
                   "cpp_end_to_end_s": cpp_e2e, "numpy_end_to_end_s": ref_e2e}
            row["simulate_ratio"] = ref_sim / row["cpp_simulate_s"]
            row["end_to_end_ratio"] = ref_e2e / cpp_e2e
            rows.append(row)
            print(f"{family:<12} {row['cpp_simulate_s']:>9.4f} {ref_sim:>10.4f} "
                  f"{row['simulate_ratio']:>6.1f}x   {cpp_e2e:>9.4f} {ref_e2e:>10.4f} "
                  f"{row['end_to_end_ratio']:>6.1f}x")
    worst_sim = min(r["simulate_ratio"] for r in rows)
    worst_e2e = min(r["end_to_end_ratio"] for r in rows)
    print(f"C++ / NumPy speed ratio, worst mask: simulate {worst_sim:.1f}x, "
          f"end-to-end {worst_e2e:.1f}x (target >= 20x)")
    if args.out:
        write_json_atomically(args.out, {"runs": rows, "worst_simulate_ratio": worst_sim,
                                         "worst_end_to_end_ratio": worst_e2e})
    return 0


if __name__ == "__main__":
    sys.exit(main())
