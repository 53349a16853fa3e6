#!/usr/bin/python3
"""Times torch's SDPA on one dense problem with each backend forced (and the default dispatch), so a
report can say which backend the 'SDPA' number is. Same method as bsattn-bench: back-to-back calls
worth >= 2 ms per sample, median of 20, after >= 100 ms of warm-up.
    sdpa_backends.py --seq 16384 --heads 32 --head-dim 128 --out FILE.json"""
import argparse
import json
import statistics

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.nn.functional import scaled_dot_product_attention as sdpa


def time_ms(fn):
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    fn()
    torch.cuda.synchronize()
    start.record(); fn(); end.record(); torch.cuda.synchronize()
    one = max(start.elapsed_time(end), 1e-3)
    for _ in range(max(1, int(100 / one))):
        fn()
    reps = max(1, int(-(-2.0 // one)))
    samples = []
    for _ in range(20):
        start.record()
        for _ in range(reps):
            fn()
        end.record()
        torch.cuda.synchronize()
        samples.append(start.elapsed_time(end) / reps)
    return statistics.median(samples)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seq", type=int, default=16384)
    ap.add_argument("--heads", type=int, default=32)
    ap.add_argument("--head-dim", type=int, default=128)
    ap.add_argument("--out")
    a = ap.parse_args()
    g = torch.Generator(device="cuda").manual_seed(7)
    q, k, v = (torch.randn(1, a.heads, a.seq, a.head_dim, device="cuda", dtype=torch.bfloat16,
                           generator=g) for _ in range(3))
    flops = 4.0 * a.seq * a.seq * a.head_dim * a.heads
    rows = []
    for name, backend in [("default", None), ("cudnn", SDPBackend.CUDNN_ATTENTION),
                          ("flash", SDPBackend.FLASH_ATTENTION),
                          ("efficient", SDPBackend.EFFICIENT_ATTENTION)]:
        try:
            if backend is None:
                ms = time_ms(lambda: sdpa(q, k, v))
            else:
                with sdpa_kernel([backend]):
                    ms = time_ms(lambda: sdpa(q, k, v))
            rows.append({"backend": name, "ms": ms, "tflops": flops / ms / 1e9})
        except RuntimeError as e:  # a backend that refuses this problem
            rows.append({"backend": name, "error": str(e)[:200]})
        print(rows[-1], flush=True)
    info = {"torch": torch.__version__, "device": torch.cuda.get_device_name(),
            "seq": a.seq, "heads": a.heads, "head_dim": a.head_dim, "dtype": "bf16", "runs": rows}
    if a.out:
        with open(a.out, "w") as f:
            json.dump(info, f, indent=1)


if __name__ == "__main__":
    main()
