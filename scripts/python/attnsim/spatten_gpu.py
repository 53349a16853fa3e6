"""SpAtten's GPT-2 attention on a GPU: the attention the SpAtten workload CSV describes (one query
per generated token, the CSV's sentence length per iteration, its layers, heads and head dim),
timed with PyTorch, so the reproduction report can set spatten-sim against a modern GPU and not
only against the paper's TITAN Xp (issue 16, "beyond the paper").

    PYTHONPATH=scripts/python python3 -m attnsim.spatten_gpu --workload CSV --out JSON \
        [--layers N --heads H] [--dtype fp16|bf16] [--reps R]

On a CUDA machine with torch. Each (iteration, layer) is one attention call: q [1, H, 1, D] against
that layer's K/V cache [1, H, L, D], dense (a GPU gains nothing from SpAtten's pruned tokens without
a gather). Timed three ways, each over the whole generation (every iteration x every layer, back to
back, one synchronisation at the end):
- `sdpa` eager: torch.nn.functional.scaled_dot_product_attention called as a decode loop calls it;
- `sdpa` graph: the same calls captured in one CUDA graph (no host launch cost: the GPU's time);
- `flex` eager: torch.compile(flex_attention), dynamic shapes, the same loop.
Only attention runs, so every layer's K/V cache (3 MB per GPT-2-small layer) stays in the H200's
L2 between calls; in a real decode the MLP weights would evict it. `--layers/--heads` run other
model shapes (GPT-2-medium: 24 x 16) over the same lengths.
"""
from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from pathlib import Path

from .errors import InputError

# A GPU idle before a run starts at a low clock and needs some milliseconds of work to boost.
WARMUP_MIN_MS = 100.0


def workload_shape(path: Path) -> dict:
    """Iterations' sentence lengths, layers, heads and head dim of a SpAtten workload CSV (the
    public simulator's format; its trailing config line has empty fields and is skipped)."""
    lengths: dict[int, int] = {}
    layers, heads, dims = set(), set(), set()
    try:
        with open(path, newline="") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                if not row.get("layer_id"):
                    continue  # the config path line
                try:
                    it, length = int(row["iteration_id"]), int(row["sentence_length_L"])
                    layers.add(int(row["layer_id"]))
                    heads.add(int(row["head_id"]))
                    dims.add(int(float(row["embedding_length_D"])))
                except (KeyError, TypeError, ValueError) as error:
                    raise InputError(f"{path}:{line}: expected integer iteration_id, layer_id, "
                                     f"head_id, sentence_length_L, embedding_length_D ({error})")
                if lengths.setdefault(it, length) != length:
                    raise InputError(f"{path}:{line}: sentence_length_L {length} differs from "
                                     f"{lengths[it]} earlier in iteration {it}")
    except OSError as error:
        raise InputError(f"{path}: {error.strerror}")
    if not lengths or len(dims) != 1:
        raise InputError(f"{path}: expected head-step rows with one embedding_length_D")
    return {"lengths": [lengths[i] for i in sorted(lengths)], "layers": len(layers),
            "heads": len(heads), "head_dim": dims.pop()}


def executed_ops(shape: dict) -> int:
    """Operations of the dense attention (2 per multiply-accumulate, Q x K and prob x V), the
    measure of spatten-sim's `executed` throughput."""
    per_key = shape["layers"] * shape["heads"] * shape["head_dim"] * 2 * 2
    return per_key * sum(shape["lengths"])


def _median_ms(torch, run, reps: int) -> tuple[float, list[float]]:
    started = time.perf_counter()
    while (time.perf_counter() - started) * 1e3 < WARMUP_MIN_MS:
        run()
        torch.cuda.synchronize()
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    samples = []
    for _ in range(reps):
        start.record()
        run()
        stop.record()
        stop.synchronize()
        samples.append(start.elapsed_time(stop))
    return statistics.median(samples), samples


def measure(shape: dict, dtype_name: str, reps: int) -> list[dict]:
    import torch
    import torch.nn.functional as F

    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}[dtype_name]
    gen = torch.Generator(device="cuda").manual_seed(0)
    h, d, longest = shape["heads"], shape["head_dim"], max(shape["lengths"])
    # One cache per layer, allocated at the longest length; iteration i uses its first L_i keys.
    caches = [(torch.randn(1, h, longest, d, device="cuda", dtype=dtype, generator=gen),
               torch.randn(1, h, longest, d, device="cuda", dtype=dtype, generator=gen))
              for _ in range(shape["layers"])]
    q = torch.randn(1, h, 1, d, device="cuda", dtype=dtype, generator=gen)
    out = torch.empty_like(q)

    def loop(attention):
        def run():
            for length in shape["lengths"]:
                for k, v in caches:
                    out.copy_(attention(q, k[:, :, :length], v[:, :, :length]))
        return run

    runs = []

    def record(backend, mode, run):
        try:
            ms, samples = _median_ms(torch, run, reps)
            runs.append({"backend": backend, "mode": mode, "ms_total": ms,
                         "ms_per_token": ms / len(shape["lengths"]), "samples_ms": samples})
        except Exception as error:  # noqa: BLE001 - recorded: one backend's failure is a result
            runs.append({"backend": backend, "mode": mode, "error": f"{type(error).__name__}: "
                                                                   f"{error}"[:500]})
        print(f"  {backend} {mode}: {runs[-1].get('ms_per_token', runs[-1].get('error'))}",
              file=sys.stderr, flush=True)

    sdpa = loop(F.scaled_dot_product_attention)
    record("sdpa", "eager", sdpa)

    def graphed():
        sdpa()  # warm the kernels' selection before capture
        torch.cuda.synchronize()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            sdpa()
        return graph.replay
    try:
        replay = graphed()
    except Exception as error:  # noqa: BLE001
        runs.append({"backend": "sdpa", "mode": "graph", "error": str(error)[:500]})
    else:
        record("sdpa", "graph", replay)

    from torch.nn.attention.flex_attention import flex_attention
    flex = torch.compile(flex_attention, dynamic=True)
    record("flex", "eager", loop(flex))
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", type=Path, required=True, help="SpAtten workload CSV")
    parser.add_argument("--out", type=Path, required=True, help="results JSON")
    parser.add_argument("--layers", type=int, help="default: the CSV's")
    parser.add_argument("--heads", type=int, help="default: the CSV's")
    parser.add_argument("--dtype", choices=("fp16", "bf16"), default="fp16")
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args(argv)
    try:
        shape = workload_shape(args.workload)
    except InputError as error:
        print(f"spatten_gpu: error: {error}", file=sys.stderr)
        return 2
    shape["layers"] = args.layers or shape["layers"]
    shape["heads"] = args.heads or shape["heads"]
    import torch
    if not torch.cuda.is_available():
        print("spatten_gpu: error: no CUDA device", file=sys.stderr)
        return 1
    runs = measure(shape, args.dtype, args.reps)
    props = torch.cuda.get_device_properties(0)
    result = {"workload": args.workload.name, "shape": shape, "dtype": args.dtype,
              "executed_ops": executed_ops(shape),
              "device": {"name": props.name, "sm_count": props.multi_processor_count,
                         "torch": torch.__version__, "cuda": torch.version.cuda},
              "runs": runs}
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
