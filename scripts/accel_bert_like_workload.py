#!/usr/bin/python3
"""Writes a BERT-like SpAtten workload CSV for spatten-sim (no BERT workload ships with SpAtten's
public repository): BERT-base shapes (12 layers x 12 heads, D = 64), one head-step per
(layer, head) over `--tokens` tokens, 12-bit Q/K/V, no progressive quantization, optional token
keep ratio per layer. Run it with `spatten-sim --queries-per-head-step <tokens>`: every query of a
head shares one K/V fetch.

    scripts/accel_bert_like_workload.py --tokens 384 --out sim/accel/examples/bert-like-base-384.csv
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

HEADER = ("iteration_id,layer_id,head_id,embedding_length_D,sentence_length_L,key_fetch_num,"
          "quant_key_bit,quant_query_bit,auto_requant_thres,if_requant,auto_requant_incre,"
          "value_fetch_num,quant_value_bit,if_accumulate_importance,"
          "if_rescale_previous_importance,if_topk,topk")


def rows(tokens: int, layers: int, heads: int, keep: list[float], bits: int) -> list[str]:
    out = []
    for layer in range(layers):
        alive = max(1, math.ceil(keep[layer] * tokens))
        next_alive = max(1, math.ceil(keep[layer + 1] * tokens)) if layer + 1 < layers else alive
        for head in range(heads):
            last = head == heads - 1 and next_alive < alive
            out.append(f"0,{layer},{head},64.0,{tokens},{alive},{bits},{bits},-1,False,-1,{alive},"
                       f"{bits},True,False,{last},{next_alive if last else -1}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=384)
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--heads", type=int, default=12)
    parser.add_argument("--bits", type=int, default=12)
    parser.add_argument("--token-keep", default="", help="per-layer ratios, comma-separated")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    keep = [float(x) for x in args.token_keep.split(",")] if args.token_keep else [1.0] * args.layers
    if len(keep) != args.layers:
        parser.error(f"--token-keep: expected {args.layers} ratios, got {len(keep)}")
    text = "\n".join([HEADER] + rows(args.tokens, args.layers, args.heads, keep, args.bits)) + "\n"
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(args.out)


if __name__ == "__main__":
    main()
