"""Synthetic attention traces (traces/README.md, format version 1) with known structure: random,
sink tokens, local decay, a few dominant columns, near-uniform ("flat") attention. Used by the
tests and to make the small sample in traces/attention/.

    PYTHONPATH=scripts/python /usr/bin/python3 -m attnsim.synthetic_trace --kind sink --out t.npz
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

KINDS = ("random", "sink", "local", "dominant", "flat")
DOMINANT_TOKENS = (5, 17, 31)


def _positional(tokens: int, dim: int, scale: float) -> np.ndarray:
    pos = np.arange(tokens)[:, None]
    freq = 1.0 / (10.0 ** (np.arange(dim // 2) / (dim // 2)))
    return scale * np.concatenate([np.sin(pos * freq), np.cos(pos * freq)], axis=1)


def structured_qkv(kind: str, layers: int = 3, heads: int = 4, tokens: int = 40, dim: int = 16,
                   seed: int = 0):
    """Q, K, V [layers, heads, tokens, dim] (float64) whose attention has the named structure."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    rng = np.random.default_rng(seed)
    shape = (layers, heads, tokens, dim)
    q, k, v = rng.normal(size=shape), rng.normal(size=shape), rng.normal(size=shape)
    # A direction every query shares, so chosen keys can be made to attract all of them.
    shared = rng.normal(size=(layers, heads, 1, dim))
    shared *= 3.0 / np.linalg.norm(shared, axis=-1, keepdims=True)
    if kind == "sink":  # every query attends to token 0
        q = 0.3 * q + shared
        k[:, :, 0:1, :] = 3.0 * shared
    elif kind == "local":  # scores decay with the distance between query and key
        pe = _positional(tokens, dim, 2.0)
        q, k = 0.3 * q + pe, 0.3 * k + pe
    elif kind == "dominant":  # a few columns take most of the mass
        q = 0.3 * q + shared
        for j in DOMINANT_TOKENS:
            if j < tokens:
                k[:, :, j:j + 1, :] = 2.0 * shared + 0.1 * rng.normal(size=(layers, heads, 1, dim))
    elif kind == "flat":  # near-uniform attention: forces re-quantization
        q *= 0.05
    return q, k, v


def trace_arrays(q, k, v, causal: bool = True, prompt_tokens: int | None = None,
                 dtype=np.float64) -> dict:
    """The arrays of a version-1 trace."""
    tokens = q.shape[2]
    return {"format_version": np.int64(1), "q": q.astype(dtype), "k": k.astype(dtype),
            "v": v.astype(dtype), "causal": np.bool_(causal),
            "prompt_tokens": np.int64(tokens if prompt_tokens is None else prompt_tokens)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=KINDS, default="random")
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=40)
    parser.add_argument("--dim", type=int, default=16)
    parser.add_argument("--prompt-tokens", type=int, help="default: tokens - 8")
    parser.add_argument("--bidirectional", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if min(args.layers, args.heads, args.tokens, args.dim) < 1:
        parser.error("--layers, --heads, --tokens and --dim must be positive")
    prompt = args.prompt_tokens if args.prompt_tokens else max(1, args.tokens - 8)
    if not 1 <= prompt <= args.tokens:
        parser.error(f"--prompt-tokens must be in [1, {args.tokens}]")
    q, k, v = structured_qkv(args.kind, args.layers, args.heads, args.tokens, args.dim, args.seed)
    arrays = trace_arrays(q, k, v, not args.bidirectional, prompt, np.float32)
    tmp = args.out.with_name(f"{args.out.name}.tmp-{os.getpid()}.npz")
    try:
        np.savez_compressed(tmp, **arrays)
        os.replace(tmp, args.out)
    finally:
        if tmp.exists():
            tmp.unlink()
    print(f"{args.out}: {args.kind}, {args.layers} layers x {args.heads} heads x {args.tokens} "
          f"tokens x {args.dim} dims, seed {args.seed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
