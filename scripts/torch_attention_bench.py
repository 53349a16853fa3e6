#!/usr/bin/python3
"""Times PyTorch attention kernels on the GPU and writes tilesim's measurements format, like
bsattn-bench: FlexAttention (torch.compile'd flex_attention) on mask files, and SDPA (context only)
on dense or causal inline patterns. Needs torch >= 2.5 with CUDA (the H200 machine has torch 2.11).

    torch_attention_bench.py --kernel flexattention masks/*.npz --head-dim 64,128 --out flex.json
    torch_attention_bench.py --kernel sdpa pattern:dense,seq=16384,heads=32 --out sdpa.json

Mask files are tilesim's: FlexAttention's BlockMask layout (kv_num_blocks, kv_indices,
full_kv_num_blocks, full_kv_indices, BLOCK_SIZE, seq_lengths, optional allowed_pairs) or the dense
block layout (full, partial). PARTIAL blocks apply a mask_mod that compares positions but keeps every
key (bsattn-bench's --rule allow): the masked path's cost is paid while any pattern, whatever its
token-level rule, can be measured. Exit status 2 on bad input or without torch/CUDA.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

import numpy as np


class BenchInputError(ValueError):
    """A mask or argument that cannot be measured."""


def block_lists(path: Path) -> dict:
    """BlockMask lists (numpy int32) and geometry of a tilesim mask file."""
    try:
        z = np.load(path)
    except (OSError, ValueError) as error:
        raise BenchInputError(f"{path}: not a readable .npz: {error}") from None
    files = set(z.files)
    if {"kv_num_blocks", "kv_indices"} <= files:
        lists = {k: z[k].astype(np.int32) for k in ("kv_num_blocks", "kv_indices")}
        for k in ("full_kv_num_blocks", "full_kv_indices"):
            lists[k] = z[k].astype(np.int32) if k in files else np.zeros_like(
                lists[k.removeprefix("full_")])
        block = tuple(int(x) for x in z["BLOCK_SIZE"]) if "BLOCK_SIZE" in files else (128, 128)
    elif "full" in files or "partial" in files:
        full = z["full"].astype(bool) if "full" in files else None
        partial = z["partial"].astype(bool) if "partial" in files else np.zeros_like(full)
        full = np.zeros_like(partial) if full is None else full
        if full.ndim == 3:
            full, partial = full[None], partial[None]
        nk = full.shape[-1]

        def to_lists(dense):
            num = dense.sum(-1).astype(np.int32)
            order = np.argsort(~dense, axis=-1, kind="stable").astype(np.int32)
            return num, np.where(np.arange(nk) < num[..., None], order, 0).astype(np.int32)

        lists = dict(zip(("kv_num_blocks", "kv_indices"), to_lists(partial)))
        lists.update(zip(("full_kv_num_blocks", "full_kv_indices"), to_lists(full)))
        block = (int(z["block_q"]) if "block_q" in files else 128,
                 int(z["block_kv"]) if "block_kv" in files else 128)
    else:
        raise BenchInputError(f"{path}: expected BlockMask arrays (kv_num_blocks, kv_indices) or "
                              f"a dense block layout (full, partial); found {sorted(files)}")
    batch, heads, nq = lists["kv_num_blocks"].shape
    if "seq_lengths" in files:
        seq_q, seq_kv = (int(x) for x in z["seq_lengths"])
    else:
        seq_q, seq_kv = nq * block[0], lists["kv_indices"].shape[-1] * block[1]
    pairs = int(z["allowed_pairs"].sum()) if "allowed_pairs" in files else None
    return {"lists": lists, "block": block, "batch": batch, "heads": heads, "seq_q": seq_q,
            "seq_kv": seq_kv, "allowed_pairs": pairs}


def parse_inline(pattern: str) -> dict:
    """pattern:dense|causal,seq=S,heads=H[,batch=B] (the subset of tilesim's syntax SDPA runs)."""
    name, *params = pattern.removeprefix("pattern:").split(",")
    values = dict(p.split("=", 1) for p in params if "=" in p)
    if name not in ("dense", "causal") or "seq" not in values:
        raise BenchInputError(f"{pattern}: SDPA runs pattern:dense or pattern:causal with seq=")
    seq, heads, batch = int(values["seq"]), int(values.get("heads", 1)), int(values.get("batch", 1))
    pairs = seq * seq if name == "dense" else seq * (seq + 1) // 2
    return {"causal": name == "causal", "batch": batch, "heads": heads, "seq_q": seq,
            "seq_kv": seq, "allowed_pairs": pairs * batch * heads}


# Each timed sample covers back-to-back calls worth at least this much GPU time, so host dispatch
# gaps (Python, torch.compile guards) stay out of sub-millisecond measurements.
SAMPLE_TARGET_MS = 2.0


def time_ms(torch, call, warmup: int, reps: int) -> tuple[list[float], int]:
    """Per-call times of `reps` samples, and the calls per sample."""
    for _ in range(warmup):
        call()
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    call()
    stop.record()
    stop.synchronize()
    calls = max(1, min(200, int(SAMPLE_TARGET_MS / max(start.elapsed_time(stop), 1e-3)) + 1))
    times = []
    for _ in range(reps):
        start.record()
        for _ in range(calls):
            call()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop) / calls)
    return times, calls


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("masks", nargs="+", help="mask files (flexattention) or inline patterns")
    parser.add_argument("--kernel", choices=["flexattention", "sdpa"], default="flexattention")
    parser.add_argument("--head-dim", default="128", help="comma-separated: 64, 128")
    parser.add_argument("--dtype", choices=["bf16", "fp16"], default="bf16")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    try:
        problems = [parse_inline(m) if args.kernel == "sdpa" else block_lists(Path(m))
                    for m in args.masks]
    except BenchInputError as error:
        print(f"torch_attention_bench: error: {error}", file=sys.stderr)
        return 2
    try:
        import torch
        from torch.nn.attention.flex_attention import BlockMask, flex_attention
    except ImportError as error:
        print(f"torch_attention_bench: error: needs torch with flex_attention: {error}",
              file=sys.stderr)
        return 2
    if not torch.cuda.is_available():
        print("torch_attention_bench: error: no CUDA device", file=sys.stderr)
        return 2
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float16
    flex = torch.compile(flex_attention, dynamic=False)
    out_dir = (args.out.parent if args.out else Path.cwd()).resolve()
    runs = []
    for head_dim in (int(d) for d in args.head_dim.split(",")):
        for mask, p in zip(args.masks, problems):
            gen = torch.Generator(device="cuda").manual_seed(head_dim * 1000003 + p["seq_q"])
            q, k, v = (torch.rand((p["batch"], p["heads"], p["seq_q"] if i == 0 else p["seq_kv"],
                                   head_dim), device="cuda", dtype=dtype, generator=gen) * 2 - 1
                       for i in range(3))
            if args.kernel == "flexattention":
                limit = p["seq_kv"] + p["seq_q"]

                def keep_all(b, h, q_idx, kv_idx, limit=limit):
                    return kv_idx - q_idx < limit  # a real comparison, true for every pair

                tensors = {k2: torch.from_numpy(a).cuda() for k2, a in p["lists"].items()}
                block_mask = BlockMask.from_kv_blocks(
                    tensors["kv_num_blocks"], tensors["kv_indices"],
                    tensors["full_kv_num_blocks"], tensors["full_kv_indices"],
                    BLOCK_SIZE=p["block"], mask_mod=keep_all,
                    seq_lengths=(p["seq_q"], p["seq_kv"]))
                call = lambda: flex(q, k, v, block_mask=block_mask)  # noqa: E731
                label = os.path.relpath(Path(mask).resolve(), out_dir)
            else:
                call = lambda c=p["causal"]: torch.nn.functional.scaled_dot_product_attention(  # noqa: E731
                    q, k, v, is_causal=c)
                label = mask
            times, calls = time_ms(torch, call, args.warmup, args.reps)
            ms = statistics.median(times)
            pairs = p["allowed_pairs"]
            tflops = 4 * head_dim * pairs / ms / 1e9 if pairs else None
            runs.append({"mask": label, "ms": ms, "head_dim": head_dim, "dtype": args.dtype,
                         "info": {"batch": p["batch"], "heads": p["heads"], "seq_q": p["seq_q"],
                                  "seq_kv": p["seq_kv"], "allowed_pairs": pairs,
                                  "tflops": tflops, "ms_min": min(times), "ms_max": max(times),
                                  "reps": args.reps, "calls_per_sample": calls,
                                  "ms_all": times}})
            print(f"{args.kernel:<14} {label:<44} d{head_dim:<4} {ms:10.3f} ms"
                  + (f" {tflops:8.1f} TFLOP/s" if tflops else ""), flush=True)
    props = torch.cuda.get_device_properties(0)
    result = {"gpu": props.name.removeprefix("NVIDIA ").lower().replace(" ", "-"),
              "kernel": args.kernel,
              "device": {"name": props.name, "sm_count": props.multi_processor_count,
                         "torch": torch.__version__, "cuda": torch.version.cuda},
              "runs": runs}
    if args.out:
        tmp = args.out.with_name(f"{args.out.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps(result, indent=2) + "\n")
        os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
