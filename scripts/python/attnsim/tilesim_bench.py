#!/usr/bin/python3
"""Times tilesim end to end and in memory, in one run, against NumPy on the same files (issues
#3 and #13), and prints every number the issues' targets are stated in.

    PYTHONPATH=scripts/python /usr/bin/python3 -m attnsim.tilesim_bench [--build-dir build/default]
        [--seq 32768] [--heads 32] [--repeats 5] [--jobs 0] [--million-heads 64]
        [--skip-million] [--out bench.json]

Four parts:
  end-to-end   six 32-head x 32K-token masks in FlexAttention's BlockMask layout (about 30 % of
               the blocks listed, half full, half partial, int32 indices sorted per row, written
               by numpy.savez: stored members) in one `tilesim bounds` call, per mask, against
               numpy.load of the same files touching every array (target: <= 2x);
  bare process `tilesim presets` (target: <= 10 ms) and /bin/true for the machine's floor;
  simulate     the mask already in memory: C++ from tilesim_benchmark (Google Benchmark,
               in-process), NumPy from tilesim_ref.simulate (target: >= 50x);
  1M tokens    `tilesim bounds` and `predict` on inline 1M-token x 64-head patterns (generated
               in list form inside the process), wall time and peak RSS of each process against
               the size of the mask's list layout (5 bytes per listed block and 8 per row;
               targets: <= 1 s per mask, RSS <= 2x the layout).
Each time is the best of --repeats runs (Google Benchmark: the best of --repeats repetitions,
each the mean over many iterations). The numbers vary with the machine's load: run it on a quiet
machine (it prints the load average it started with).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import REPO_ROOT, tilesim_ref
from .output_format import add_format_option, emit, human
from .runinfo import write_json_atomically

MASKS = [
    ("causal", []),
    ("block_topk", ["--density", "0.1", "--seed", "1"]),
    ("a_shape", ["--sinks", "128", "--window", "2048"]),
]

# 1M-token patterns (inline): name, pattern parameters, heads (None: --million-heads).
# vertical_slash with its defaults (1000 columns, 1000 diagonals) lists about a thousand blocks
# per row at 1M tokens, 5 x 10^8 blocks for 64 heads: smaller counts here.
MILLION = [
    ("a_shape", "sinks=128,window=4096", None),
    ("causal_window", "window=8192", None),
    ("sliding_window", "window=4095", None),
    ("vertical_slash", "verticals=64,slashes=64,sinks=64,local=64", None),
    ("block_topk", "k=16,causal=1", None),
]


def best_of(repeats: int, action) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


# Runs argv[2:] and writes its wall and CPU seconds and peak RSS (KiB) to the descriptor argv[1]. A child's ru_maxrss
# includes the memory of the process it was forked from (Linux records the old address space's
# high-water mark at exec), so the command is started from this small interpreter, not from the
# benchmark's own process, which holds the NumPy reference model's arrays (100+ MB).
LAUNCHER = """import os, sys, time
start = time.perf_counter()
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
os.write(int(sys.argv[1]), f"{wall} {usage.ru_utime + usage.ru_stime} {usage.ru_maxrss}".encode())
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(command: list[str]) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds (user + system), peak RSS in bytes (of that command alone) and
    stdout of one command. On a loaded machine the wall time includes waiting for a core."""
    read_end, write_end = os.pipe()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen([sys.executable, "-c", LAUNCHER, str(write_end), *command],
                                   stdout=out, stderr=subprocess.PIPE, pass_fds=(write_end,))
        os.close(write_end)
        err = process.stderr.read().decode()
        process.wait()
        with os.fdopen(read_end) as measured:
            elapsed, cpu, rss_kib = measured.read().split() or ["0", "0", "0"]
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}): {err}")
        out.seek(0)
        return float(elapsed), float(cpu), int(rss_kib) * 1024, out.read().decode()


def write_flex_mask(path: Path, seed: int, heads: int, seq: int, block: int = 128,
                    density: float = 0.3) -> None:
    """A BlockMask as FlexAttention's create_block_mask stores it: int32 counts and sorted
    indices per row (unused slots after them), full and partial blocks in separate lists."""
    rng = np.random.default_rng(seed)
    n = seq // block
    selected = rng.random((1, heads, n, n)) < density
    full = selected & (rng.random((1, heads, n, n)) < 0.5)

    def lists(flags):
        counts = flags.sum(-1).astype(np.int32)
        indices = np.argsort(~flags, axis=-1, kind="stable").astype(np.int32)
        return counts, indices

    kv_num, kv_idx = lists(selected & ~full)
    full_num, full_idx = lists(full)
    np.savez(path, kv_num_blocks=kv_num, kv_indices=kv_idx, full_kv_num_blocks=full_num,
             full_kv_indices=full_idx, BLOCK_SIZE=np.array([block, block], np.int32),
             seq_lengths=np.array([seq, seq], np.int64))


def numpy_load(paths: list[Path]) -> None:
    for path in paths:
        with np.load(path) as npz:
            for name in npz.files:
                npz[name].sum()  # touch every element


def cpp_simulate_ms(benchmark: Path, masks: list[Path], kernel: str,
                    repeats: int) -> dict[str, float]:
    """In-process seconds per `simulate` of a mask read beforehand: the best of `repeats`
    Google Benchmark repetitions (each the mean of many iterations), as NumPy's side is the best
    of `repeats` runs."""
    out = subprocess.run([str(benchmark), "--benchmark_format=json", "--benchmark_filter=^simulate/",
                          f"--benchmark_repetitions={repeats}", f"--kernel={kernel}",
                          *map(str, masks)], check=True, capture_output=True, text=True).stdout
    times: dict[str, float] = {}
    for entry in json.loads(out)["benchmarks"]:
        if entry.get("run_type", "iteration") != "iteration":
            continue  # aggregates (mean, median, stddev)
        assert entry["time_unit"] == "ms", entry
        name = entry["run_name"].removeprefix("simulate/")
        times[name] = min(times.get(name, float("inf")), entry["real_time"] / 1e3)
    return times


def end_to_end(tilesim: Path, tmp: Path, args) -> dict:
    paths = [tmp / f"flex{i}.npz" for i in range(6)]
    for i, path in enumerate(paths):
        write_flex_mask(path, i, args.heads, args.seq)
    size = paths[0].stat().st_size
    out = tmp / "bounds"  # run folder: bounds/results.json
    command = [str(tilesim), "bounds", *map(str, paths), "--gpu", "h200", "--kernel",
               "flexattention", "--out", str(out), "--no-report"]  # times tilesim alone
    rows = {}
    for jobs in ("1", str(args.jobs)) if args.jobs != 1 else ("1",):
        label = f"jobs {jobs}" + (" (all cores)" if jobs == "0" else "")
        tilesim_s = best_of(args.repeats, lambda: subprocess.run(
            command + ["--jobs", jobs], check=True, capture_output=True)) / len(paths)
        numpy_s = best_of(args.repeats, lambda: numpy_load(paths)) / len(paths)
        rows[label] = {"tilesim_s_per_mask": tilesim_s, "numpy_load_s_per_mask": numpy_s,
                       "ratio": tilesim_s / numpy_s}
    print(f"\nend to end: 6 BlockMask files of {args.heads} heads x {args.seq} tokens, "
          f"{size / 1e6:.1f} MB each (numpy.savez, int32), one `tilesim bounds` call")
    print(f"{'':<20} {'tilesim/mask':>13} {'np.load/mask':>13} {'ratio':>7}   (target <= 2x)")
    for label, row in rows.items():
        print(f"{label:<20} {row['tilesim_s_per_mask'] * 1e3:>10.1f} ms "
              f"{row['numpy_load_s_per_mask'] * 1e3:>10.1f} ms {row['ratio']:>6.2f}x")
    return {"file_bytes": size, "masks": len(paths), "by_jobs": rows}


def bare_process(tilesim: Path, repeats: int) -> dict:
    def run(command):
        return best_of(max(repeats, 20), lambda: subprocess.run(command, check=True,
                                                                 stdout=subprocess.DEVNULL))
    presets = run([str(tilesim), "presets"])
    floor = run(["/bin/true"])
    print(f"\nbare process: tilesim presets {presets * 1e3:.1f} ms (target <= 10 ms); "
          f"/bin/true {floor * 1e3:.1f} ms")
    return {"presets_s": presets, "true_s": floor}


def simulate_in_memory(tilesim: Path, benchmark: Path, tmp: Path, args) -> list[dict]:
    gpu = tilesim_ref.load_gpu("h200")
    kernel = tilesim_ref.load_kernel(args.kernel)
    cost = tilesim_ref.default_cost(gpu, kernel)
    masks = []
    for family, params in MASKS:
        mask = tmp / f"{family}.npz"
        subprocess.run([str(tilesim), "gen", family, "--seq", str(args.seq), "--heads",
                        str(args.heads), *params, "--out", str(mask)], check=True)
        masks.append(mask)
    cpp_sim = cpp_simulate_ms(benchmark, masks, args.kernel, args.repeats)
    rows = []
    print(f"\nsimulate in memory: {args.heads} heads, {args.seq} tokens, kernel {args.kernel}")
    print(f"{'mask':<12} {'C++':>9} {'NumPy':>10} {'ratio':>7}   (target >= 50x)")
    for (family, _), mask in zip(MASKS, masks):
        loaded = tilesim_ref.load_mask(mask)
        ref_sim = best_of(args.repeats, lambda: tilesim_ref.simulate(loaded, gpu, kernel, cost))
        row = {"mask": family, "cpp_simulate_s": cpp_sim[str(mask)], "numpy_simulate_s": ref_sim}
        row["ratio"] = ref_sim / row["cpp_simulate_s"]
        rows.append(row)
        print(f"{family:<12} {row['cpp_simulate_s'] * 1e3:>6.2f} ms {ref_sim * 1e3:>7.1f} ms "
              f"{row['ratio']:>6.1f}x")
    return rows


def million(tilesim: Path, args) -> list[dict]:
    seq = 1 << 20
    rows = []
    print(f"\n1M tokens: {seq} tokens x {args.million_heads} heads (unless marked), inline "
          f"patterns, kernel flexattention, one job; wall / CPU seconds of the best of "
          f"{args.repeats} runs")
    print(f"{'pattern':<16} {'blocks':>11} {'layout':>9} {'bounds wall/cpu':>17} "
          f"{'predict wall/cpu':>17} {'peak RSS':>9} {'RSS/layout':>10}   (targets <= 1 s, <= 2x)")
    for family, params, heads in MILLION:
        heads = heads or args.million_heads
        mask = f"pattern:{family},seq={seq},heads={heads},{params}"
        row = {"pattern": mask}
        for command in ("bounds", "predict"):
            # The best of --repeats runs, as the other parts (one run swung 30 % on a VM whose
            # first-touch page faults vary); the peak RSS is the largest of them.
            runs = [run_measured([str(tilesim), command, mask, "--jobs", "1"])
                    for _ in range(args.repeats)]
            elapsed, cpu, _, out = min(runs, key=lambda run: run[0])
            rss = max(run[2] for run in runs)
            result = json.loads(out)["results"][0]
            row[f"{command}_s"] = elapsed
            row[f"{command}_cpu_s"] = cpu
            row[f"{command}_peak_rss_bytes"] = rss
        # FlexAttention's 128 x 64 tiles halve the 128 x 128 blocks: blocks = tiles / 2.
        blocks = (result["tiles_full"] + result["tiles_partial"]) // 2
        rows_total = result["batch"] * result["heads"] * (seq // 128)
        row["listed_blocks"] = blocks
        row["layout_bytes"] = 5 * blocks + 8 * (rows_total + 1)
        peak = max(row["bounds_peak_rss_bytes"], row["predict_peak_rss_bytes"])
        row["rss_over_layout"] = peak / row["layout_bytes"]
        rows.append(row)
        label = family if heads == args.million_heads else f"{family} ({heads}h)"
        print(f"{label:<16} {blocks:>11} {row['layout_bytes'] / 1e6:>6.0f} MB "
              f"{row['bounds_s']:>7.2f}/{row['bounds_cpu_s']:<5.2f} s "
              f"{row['predict_s']:>7.2f}/{row['predict_cpu_s']:<5.2f} s {peak / 1e6:>6.0f} MB "
              f"{row['rss_over_layout']:>9.2f}x")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=REPO_ROOT / "build" / "default")
    parser.add_argument("--seq", type=int, default=32768)
    parser.add_argument("--heads", type=int, default=32)
    parser.add_argument("--kernel", default="flexattention")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=0,
                        help="second job count for the end-to-end part (0: all cores)")
    parser.add_argument("--million-heads", type=int, default=64)
    parser.add_argument("--skip-million", action="store_true")
    parser.add_argument("--out", type=Path, help="also write the timings as JSON")
    add_format_option(parser)
    args = parser.parse_args(argv)
    tilesim = args.build_dir / "sim" / "gpu" / "tilesim"
    benchmark = args.build_dir / "sim" / "gpu" / "tilesim_benchmark"
    for tool in (tilesim, benchmark):
        if not tool.exists():
            print(f"tilesim_bench: error: {tool} not built", file=sys.stderr)
            return 2
    report = {}
    # The parts print their tables as they go: to stderr when stdout carries json or csv.
    with contextlib.redirect_stdout(human(args.format)):
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
        with tempfile.TemporaryDirectory() as tmp:
            report["end_to_end"] = end_to_end(tilesim, Path(tmp), args)
            report["bare_process"] = bare_process(tilesim, args.repeats)
            report["simulate"] = simulate_in_memory(tilesim, benchmark, Path(tmp), args)
        if not args.skip_million:
            report["million"] = million(tilesim, args)
    if args.out:
        write_json_atomically(args.out, report)
    emit(args.format, report, rows=[{"part": part, "value": value}
                                    for part, value in report.items()])
    return 0


if __name__ == "__main__":
    sys.exit(main())
