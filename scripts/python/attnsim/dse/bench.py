#!/usr/bin/python3
"""Sweep speed, measured in one run: points per second of tilesim in-process (attnsim_native)
against the tilesim CLI (a process per point), and of 1 against 2 local Dask workers.

    PYTHONPATH=scripts/python /usr/bin/python3 -m attnsim.dse.bench [--build-dir build/default]

A benchmark, not a test: numbers vary with the machine's load; ratios from one run are what to
compare.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

from .. import REPO_ROOT
from ..output_format import add_format_option, emit, human
from . import evaluators
from .evaluators import Context, evaluate_batch, evaluate_point
from .runner import batch_points
from .spec import point_key

GPT2 = "traces/spatten/summary-gpt2-small-wikitext2-per8.csv"


def tilesim_points(seq: int) -> list[dict]:
    # Four lengths up to `seq`: 16 masks, few enough for every worker's mask cache.
    masks = [mask for s in (seq // 8, seq // 4, seq // 2, seq) for mask in (
             f"pattern:causal,seq={s},heads=8",
             f"pattern:causal_window,seq={s},heads=8,window=1024",
             f"pattern:block_topk,seq={s},heads=8,density=0.1,seed=1",
             f"pattern:a_shape,seq={s},heads=8")]
    tiles = [(64, 64), (128, 64), (128, 128)]
    schedulers = ["non_persistent", "static_persistent", "dynamic_longest_first"]
    return [{"evaluator": "tilesim", "mask_argument": m, "gpu": "h200",
             "kernel": "flexattention", "overrides": {"tile_q": q, "tile_kv": kv, "scheduler": s},
             "mode": "predict", "calibration": ""}
            for m, (q, kv), s in itertools.product(masks, tiles, schedulers)]


def spatten_points() -> list[dict]:
    return [{"evaluator": "spatten", "base_config": "spatten", "fast": True, "workload": GPT2,
             "config": {"topk.lanes": lanes, "hbm.channels": channels}}
            for lanes, channels in itertools.product([8, 16, 32], [4, 8, 16, 32])]


def serial_rate(points: list[dict], context: Context, cold_masks: bool = False) -> float:
    start = time.perf_counter()
    for point in points:
        if cold_masks:
            evaluators._cached_mask.cache_clear()
        record = evaluate_point(point_key(point), point, context)
        if record["status"] != "ok":
            raise SystemExit(f"bench: a point failed: {record['error']}")
    return len(points) / (time.perf_counter() - start)


def dask_rate(points: list[dict], context: Context, workers: int) -> float:
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=40) as cluster, Client(cluster) as client:
        # Warm each worker (imports, the native module) so start-up is not counted as sweep time.
        client.run(lambda: evaluators.native_module(context.build_dir))
        start = time.perf_counter()
        # Tasks as a sweep makes them (runner.batch_points: tilesim points in batches).
        batches = batch_points([(point_key(p), p) for p in points], workers)
        futures = [client.submit(evaluate_batch, batch, context, pure=False) for batch in batches]
        records = [r for batch in client.gather(futures) for r in batch]
        elapsed = time.perf_counter() - start
    if any(r["status"] != "ok" for r in records):
        raise SystemExit("bench: a point failed under Dask")
    return len(points) / elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", type=Path, default=Path(os.environ.get(
        "ATTNSIM_BUILD_DIR", REPO_ROOT / "build" / "default")))
    parser.add_argument("--seq", type=int, default=8192, help="tilesim masks' sequence length")
    parser.add_argument("--out", type=Path, help="also write the numbers as JSON")
    add_format_option(parser)
    args = parser.parse_args(argv)
    say = human(args.format)
    scripts_dir = str(Path(__file__).resolve().parents[2])  # the folder holding attnsim/
    os.environ["PYTHONPATH"] = scripts_dir + os.pathsep + os.environ.get("PYTHONPATH", "")
    native = Context(str(args.build_dir))
    cli = Context(str(args.build_dir), tilesim_via_cli=True)
    tile_points, accel_points = tilesim_points(args.seq), spatten_points()
    evaluators.native_module(native.build_dir)

    rows = []

    def report(name: str, rate: float, points: int):
        rows.append({"case": name, "points": points, "points_per_s": rate})
        print(f"{name:<52} {points:>4} points {rate:>10.1f} points/s", file=say, flush=True)

    print(f"cores: {os.cpu_count()}; tilesim masks: 8 heads x {args.seq // 8}..{args.seq} tokens",
          file=say, flush=True)
    report("tilesim in-process, masks cached (1 process)",
           serial_rate(tile_points, native), len(tile_points))
    report("tilesim in-process, mask generated per point",
           serial_rate(tile_points, native, cold_masks=True), len(tile_points))
    report("tilesim CLI, a process per point", serial_rate(tile_points, cli), len(tile_points))
    report("tilesim in-process, Dask 1 worker", dask_rate(tile_points, native, 1),
           len(tile_points))
    report("tilesim in-process, Dask 2 workers", dask_rate(tile_points, native, 2),
           len(tile_points))
    report("spatten-sim CLI (GPT-2, fast), Dask 1 worker", dask_rate(accel_points, native, 1),
           len(accel_points))
    report("spatten-sim CLI (GPT-2, fast), Dask 2 workers", dask_rate(accel_points, native, 2),
           len(accel_points))
    rate = {r["case"]: r["points_per_s"] for r in rows}
    ratios = {
        "in-process (cached) / CLI": rate["tilesim in-process, masks cached (1 process)"]
        / rate["tilesim CLI, a process per point"],
        "in-process (mask per point) / CLI": rate["tilesim in-process, mask generated per point"]
        / rate["tilesim CLI, a process per point"],
        "tilesim 2 workers / 1": rate["tilesim in-process, Dask 2 workers"]
        / rate["tilesim in-process, Dask 1 worker"],
        "spatten-sim 2 workers / 1": rate["spatten-sim CLI (GPT-2, fast), Dask 2 workers"]
        / rate["spatten-sim CLI (GPT-2, fast), Dask 1 worker"],
    }
    for name, value in ratios.items():
        print(f"ratio {name:<46} {value:>10.2f}x", file=say)
    if args.out:
        args.out.write_text(json.dumps({"rows": rows, "ratios": ratios}, indent=2) + "\n")
    emit(args.format, {"rows": rows, "ratios": ratios}, rows=rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
