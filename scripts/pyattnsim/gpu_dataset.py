"""The GPU validation dataset: every tilesim pattern family at four shapes, written as mask files by
`tilesim gen` with fixed seeds, plus `cases.json` recording each case's exact command, so the masks
(which are not committed) can be regenerated bit for bit.

    /usr/bin/python3 -m pyattnsim.gpu_dataset --tilesim build/default/sim/gpu/tilesim --out DIR

Shapes cover sequence 4K-32K and 8-32 heads at batch 1; head dims (64, 128) are chosen at run time.
Masks are written in FlexAttention's BlockMask layout, so PyTorch reads them without conversion.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from .runinfo import write_json_atomically

# (sequence length, heads): 4K-32K tokens, 8-32 heads, roughly constant work per shape.
SHAPES = [(4096, 32), (8192, 32), (16384, 16), (32768, 8)]


def family_args(family: str, seq: int) -> list[str]:
    """tilesim gen arguments of one family at sequence length `seq`."""
    side = {4096: "64x64", 8192: "64x128", 16384: "128x128", 32768: "128x256"}[seq]
    frames = {4096: 16, 8192: 32, 16384: 32, 32768: 64}[seq]
    return {
        "dense": [],
        "causal": [],
        "sliding_window": ["--window", str(seq // 8)],
        "gna": ["--dims", side, "--window", "31"],
        "causal_window": ["--window", str(seq // 8)],
        "band": ["--left", str(seq // 16), "--right", str(seq // 64)],
        "a_shape": ["--sinks", "128", "--window", str(seq // 8)],
        "vertical_slash": ["--verticals", "1000", "--local", "512"],
        "block_topk": ["--density", "0.15"],
        "permuted_block_sparse": ["--segment", "2048", "--k", "8"],
        "radial": ["--frames", str(frames)],
        "random": ["--density", "0.2"],
        "mixture": ["--window", str(seq // 16), "--density", "0.15"],
    }[family]


FAMILIES = ["dense", "causal", "sliding_window", "gna", "causal_window", "band", "a_shape",
            "vertical_slash", "block_topk", "permuted_block_sparse", "radial", "random", "mixture"]


def cases() -> list[dict]:
    out = []
    for seq, heads in SHAPES:
        for family in FAMILIES:
            name = f"{family}-s{seq}-h{heads}"
            args = ["gen", family, *family_args(family, seq), "--seq", str(seq), "--heads",
                    str(heads), "--seed", "1", "--format", "flex", "--out", f"masks/{name}.npz"]
            out.append({"name": name, "family": family, "seq": seq, "heads": heads,
                        "mask": f"masks/{name}.npz", "tilesim_args": args})
    return out


def generate(tilesim: Path, out_dir: Path) -> list[dict]:
    (out_dir / "masks").mkdir(parents=True, exist_ok=True)
    all_cases = cases()
    for i, case in enumerate(all_cases, 1):
        result = subprocess.run([str(tilesim.resolve()), *case["tilesim_args"]], cwd=out_dir,
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"tilesim {' '.join(case['tilesim_args'])}: {result.stderr.strip()}")
        print(f"\r[{i}/{len(all_cases)}] {case['name']:<40}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    write_json_atomically(out_dir / "cases.json", {"cases": all_cases})
    return all_cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tilesim", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if not args.tilesim.is_file():
        print(f"gpu_dataset: error: --tilesim: {args.tilesim}: not found", file=sys.stderr)
        return 2
    try:
        generated = generate(args.tilesim, args.out)
    except RuntimeError as error:
        print(f"gpu_dataset: error: {error}", file=sys.stderr)
        return 1
    print(f"{len(generated)} masks in {args.out / 'masks'}; cases in {args.out / 'cases.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
