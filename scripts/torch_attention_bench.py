#!/usr/bin/python3
"""Times PyTorch attention kernels on the GPU in bsattn-bench's measurements format: FlexAttention
(torch.compile'd flex_attention with a BlockMask built from the same pattern) and, for context,
SDPA. Needs torch >= 2.5 with CUDA (the H200 machine has torch 2.11); exits 2 without it.

    torch_attention_bench.py --kernel flexattention --patterns dense,causal --seq 4096,8192 \
        --heads 32 --head-dim 128 --out flex.json
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys


def parse_pattern(spec: str) -> tuple[int, int]:
    """(left, right) window of a pattern name; dense and causal are windows too."""
    if spec == "dense":
        return (1 << 40, 1 << 40)
    if spec == "causal":
        return (1 << 40, 0)
    if spec.startswith("window:"):
        left, _, right = spec[7:].partition(":")
        if left.isdigit() and right.isdigit():
            return (int(left), int(right))
    raise ValueError(f"--patterns: expected dense, causal or window:LEFT:RIGHT, got '{spec}'")


def allowed_pairs(seq: int, left: int, right: int) -> int:
    total = 0
    for q in range(seq):
        lo, hi = max(0, q - left), min(seq - 1, q + right)
        total += max(0, hi - lo + 1)
    return total


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernel", choices=["flexattention", "sdpa"], default="flexattention")
    parser.add_argument("--patterns", default="dense,causal")
    parser.add_argument("--seq", default="4096")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--heads", type=int, default=32)
    parser.add_argument("--head-dim", default="128")
    parser.add_argument("--dtype", choices=["bf16", "fp16"], default="bf16")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    try:
        patterns = {p: parse_pattern(p) for p in args.patterns.split(",")}
    except ValueError as error:
        print(f"torch_attention_bench: error: {error}", file=sys.stderr)
        return 2
    try:
        import torch
        from torch.nn.attention.flex_attention import create_block_mask, flex_attention
    except ImportError as error:
        print(f"torch_attention_bench: error: needs torch with flex_attention: {error}",
              file=sys.stderr)
        return 2
    if not torch.cuda.is_available():
        print("torch_attention_bench: error: no CUDA device", file=sys.stderr)
        return 2
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float16
    flex = torch.compile(flex_attention, dynamic=False)
    runs = []
    for head_dim in (int(d) for d in args.head_dim.split(",")):
        for seq in (int(s) for s in args.seq.split(",")):
            for name, (left, right) in patterns.items():
                gen = torch.Generator(device="cuda").manual_seed(seq * 131 + head_dim)
                shape = (args.batch, args.heads, seq, head_dim)
                q, k, v = (torch.rand(shape, device="cuda", dtype=dtype, generator=gen) * 2 - 1
                           for _ in range(3))
                if args.kernel == "flexattention":
                    def mask_mod(b, h, q_idx, kv_idx, left=left, right=right):
                        return (kv_idx >= q_idx - left) & (kv_idx <= q_idx + right)
                    block_mask = create_block_mask(mask_mod, None, None, seq, seq, device="cuda")
                    call = lambda: flex(q, k, v, block_mask=block_mask)  # noqa: E731
                else:
                    if name not in ("dense", "causal"):
                        continue  # SDPA has no windows; it is context only
                    call = lambda c=(name == "causal"): torch.nn.functional.\
                        scaled_dot_product_attention(q, k, v, is_causal=c)  # noqa: E731
                for _ in range(args.warmup):
                    call()
                times = []
                for _ in range(args.reps):
                    start, stop = torch.cuda.Event(True), torch.cuda.Event(True)
                    start.record()
                    call()
                    stop.record()
                    stop.synchronize()
                    times.append(start.elapsed_time(stop))
                ms = statistics.median(times)
                pairs = allowed_pairs(seq, left, right) if seq <= 65536 else float("nan")
                flops = 4 * head_dim * pairs * args.batch * args.heads
                runs.append({"mask": name, "ms": ms, "head_dim": head_dim, "dtype": args.dtype,
                             "batch": args.batch, "heads": args.heads, "kv_heads": args.heads,
                             "seq_q": seq, "seq_kv": seq, "allowed_pairs": pairs,
                             "tflops": flops / ms / 1e9, "ms_min": min(times),
                             "ms_max": max(times), "reps": args.reps, "ms_all": times})
                print(f"{args.kernel:<14} {name:<16} {seq:>6} {head_dim:>4} {ms:10.3f} ms "
                      f"{flops / ms / 1e9:8.1f} TFLOP/s", flush=True)
    props = torch.cuda.get_device_properties(0)
    result = {"gpu": props.name.removeprefix("NVIDIA ").lower().replace(" ", "-"),
              "kernel": args.kernel,
              "device": {"name": props.name, "sm_count": props.multi_processor_count,
                         "torch": torch.__version__, "cuda": torch.version.cuda},
              "runs": runs}
    if args.out:
        tmp = f"{args.out}.tmp-{os.getpid()}"
        with open(tmp, "w") as handle:
            json.dump(result, handle, indent=2)
            handle.write("\n")
        os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
