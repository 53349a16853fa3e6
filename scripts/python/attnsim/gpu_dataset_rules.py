"""The rules-2026-12 H200 dataset (issue #12): the masks people write with FlexAttention.

Token-level mask_mod rules with partial tiles (document packing, prefix-LM, sliding and causal
windows, dilated 1-D and 2-D/3-D neighborhoods, A-shape, causal) and the block-level families,
at batch 1-8, GQA groups 1/4/8, 8-48 heads, S 2048-65536 (a few unaligned), head dims 64 and 128.
Every case is run by both kernels (golden and FlexAttention) at both head dims with the same mask.

Roles, fixed before anything is measured:
  calibration       5 cases, the same for every (kernel, head dim): dense at the smallest shape,
                    dense at a large shape, causal mid-size, a block-level random mask, one short
                    (< 0.2 ms) sparse run;
  rule_calibration  exactly one case per rule name (the rule's per-element cost);
  held_out          everything else.
Document lengths are drawn here with numpy from the case's seed and written into the command
(`--lengths`), so the rule text is known before generation.
"""
from __future__ import annotations

import numpy as np

HEAD_DIMS = [64, 128]
# Dense-FLOP estimate of a run: H200 bf16 attention at about this rate.
EST_TFLOPS = 420.0
TOKEN_FAMILIES = {"causal", "causal_window", "band", "sliding_window", "gna", "a_shape",
                  "document", "prefix_lm"}
BLOCK_FAMILIES = {"dense", "block_topk", "random", "radial", "vertical_slash", "mixture",
                  "permuted_block_sparse"}


def doc_lengths(seq: int, rng: np.random.Generator, dist: str) -> list[int]:
    """Document lengths summing to `seq`: `lognormal` (mean seq/8, sigma 0.8: a few long
    documents) or `short` (uniform 200-1000, mean ~600: many short ones)."""
    lengths: list[int] = []
    while sum(lengths) < seq:
        if dist == "lognormal":
            mean, sigma = seq / 8, 0.8
            n = int(round(rng.lognormal(np.log(mean) - sigma ** 2 / 2, sigma)))
        elif dist == "short":
            n = int(rng.integers(200, 1001))
        else:
            raise ValueError(dist)
        lengths.append(max(16, n))
    lengths[-1] -= sum(lengths) - seq
    if lengths[-1] < 1:
        lengths.pop()
        lengths[-1] += seq - sum(lengths)
    return lengths


def document_lengths_text(seq: int, batch: int, seed: int, dist: str) -> str:
    """`a1xa2/b1xb2...`: one list per batch element (one list when batch is 1)."""
    rng = np.random.default_rng(seed)
    return "/".join("x".join(str(n) for n in doc_lengths(seq, rng, dist)) for _ in range(batch))


# (family, params, seq, batch, heads, gqa); params are tilesim gen options without dashes.
# `doc` params: {"dist": lognormal|short, "causal": 0|1} -> --lengths drawn from the seed.
CALIBRATION = [
    ("dense", {}, 2048, 1, 16, 1),
    ("dense", {}, 16384, 1, 32, 1),
    ("causal", {}, 8192, 2, 24, 1),
    ("random", {"density": 0.2}, 16384, 1, 16, 1),
    ("block_topk", {"density": 0.1, "causal": 0}, 4096, 1, 8, 1),
]
RULE_CALIBRATION = [
    ("vertical_slash", {"verticals": 1000, "local": 512}, 8192, 1, 32, 1),          # allow
    ("causal", {}, 4096, 4, 12, 1),
    ("causal_window", {"window": 1000}, 16384, 1, 32, 4),
    ("band", {"left": 700, "right": 700}, 16384, 1, 32, 1),
    ("sliding_window", {"window": 1025, "dilation": 2}, 16384, 1, 32, 1),
    ("gna", {"dims": "128x128", "window": "21"}, 16384, 1, 16, 1),
    ("document", {"dist": "lognormal", "causal": 1}, 16384, 2, 16, 1),
    ("prefix_lm", {"prefix": 3001}, 8192, 2, 16, 1),
    ("a_shape", {"sinks": 128, "window": 2000}, 16384, 1, 32, 1),
]
HELD_OUT = [
    # document packing, causal: lognormal (mean S/8) and many short uniform documents
    ("document", {"dist": "lognormal", "causal": 1}, 4096, 8, 16, 4),
    ("document", {"dist": "lognormal", "causal": 1}, 8192, 4, 32, 8),
    ("document", {"dist": "lognormal", "causal": 1}, 10000, 2, 12, 1),
    ("document", {"dist": "lognormal", "causal": 1}, 32768, 1, 40, 8),
    ("document", {"dist": "lognormal", "causal": 1}, 65536, 1, 8, 1),
    ("document", {"dist": "short", "causal": 1}, 3000, 4, 24, 4),
    ("document", {"dist": "short", "causal": 1}, 4096, 8, 12, 1),
    ("document", {"dist": "short", "causal": 1}, 8192, 2, 48, 4),
    ("document", {"dist": "short", "causal": 1}, 16384, 4, 16, 8),
    ("document", {"dist": "short", "causal": 1}, 32768, 1, 32, 1),
    ("document", {"dist": "short", "causal": 1}, 65536, 1, 16, 4),
    # document packing, bidirectional (encoder packing)
    ("document", {"dist": "lognormal", "causal": 0}, 8192, 2, 24, 1),
    ("document", {"dist": "short", "causal": 0}, 16384, 1, 40, 8),
    ("document", {"dist": "lognormal", "causal": 0}, 32768, 1, 16, 4),
    # prefix-LM, prefixes off the 128 grid
    ("prefix_lm", {"prefix": 1000}, 4096, 4, 16, 1),
    ("prefix_lm", {"prefix": 2500}, 10000, 2, 24, 8),
    ("prefix_lm", {"prefix": 5555}, 16384, 1, 32, 4),
    ("prefix_lm", {"prefix": 777}, 32768, 1, 12, 1),
    ("prefix_lm", {"prefix": 12345}, 65536, 1, 8, 8),
    # token sliding window |q - kv| <= w, w off the 128 grid
    ("band", {"left": 127, "right": 127}, 4096, 8, 32, 4),
    ("band", {"left": 300, "right": 300}, 3000, 4, 16, 1),
    ("band", {"left": 1000, "right": 1000}, 32768, 2, 24, 8),
    ("band", {"left": 2049, "right": 2049}, 65536, 1, 40, 8),
    ("band", {"left": 513, "right": 513}, 10000, 1, 48, 4),
    ("band", {"left": 1500, "right": 200}, 16384, 2, 16, 1),
    # causal window q - W < kv <= q
    ("causal_window", {"window": 257}, 4096, 4, 24, 1),
    ("causal_window", {"window": 1000}, 8192, 8, 16, 8),
    ("causal_window", {"window": 3000}, 32768, 1, 48, 4),
    ("causal_window", {"window": 4095}, 65536, 1, 32, 8),
    ("causal_window", {"window": 700}, 10000, 2, 12, 1),
    # 1-D neighborhood, dilated
    ("sliding_window", {"window": 513, "dilation": 2}, 4096, 4, 16, 4),
    ("sliding_window", {"window": 1001, "dilation": 3}, 16384, 2, 24, 8),
    ("sliding_window", {"window": 2049, "dilation": 4}, 32768, 1, 32, 1),
    ("sliding_window", {"window": 777, "dilation": 2}, 10000, 1, 40, 8),
    ("sliding_window", {"window": 1537}, 65536, 1, 16, 4),
    ("sliding_window", {"window": 255, "dilation": 3, "stride": 5}, 8192, 2, 12, 1),
    # 2-D and 3-D neighborhood
    ("gna", {"dims": "64x64", "window": "15"}, 4096, 8, 16, 8),
    ("gna", {"dims": "64x128", "window": "31x17"}, 8192, 2, 24, 4),
    ("gna", {"dims": "128x128", "window": "33", "stride": "4"}, 16384, 1, 32, 1),
    ("gna", {"dims": "100x100", "window": "25"}, 10000, 2, 16, 1),
    ("gna", {"dims": "128x256", "window": "21x41", "dilation": "2"}, 32768, 1, 24, 8),
    ("gna", {"dims": "16x16x16", "window": "5x7x7"}, 4096, 4, 12, 1),
    ("gna", {"dims": "8x32x32", "window": "3x9x9", "dilation": "1x2x2"}, 8192, 2, 16, 4),
    ("gna", {"dims": "16x32x32", "window": "7x11x11", "stride": "1x2x2"}, 16384, 1, 40, 8),
    ("gna", {"dims": "32x32x64", "window": "9x9x13"}, 65536, 1, 8, 1),
    ("gna", {"dims": "16x32x64", "window": "5x13x13", "stride": "1x3x3", "dilation": "2x1x1"},
     32768, 1, 16, 4),
    # A-shape (sinks + causal window)
    ("a_shape", {"sinks": 4, "window": 1000}, 4096, 8, 24, 8),
    ("a_shape", {"sinks": 128, "window": 4000}, 32768, 1, 48, 4),
    ("a_shape", {"sinks": 64, "window": 2048}, 65536, 1, 16, 8),
    ("a_shape", {"sinks": 200, "window": 1500}, 10000, 2, 12, 1),
    # causal
    ("causal", {}, 2048, 8, 12, 1),
    ("causal", {}, 3000, 2, 16, 4),
    ("causal", {}, 10000, 1, 24, 8),
    ("causal", {}, 16384, 1, 40, 8),
    ("causal", {}, 32768, 1, 8, 1),
    # block-level families (blocks from the file; rule causal only where generated causal)
    ("dense", {}, 4096, 4, 24, 4),
    ("dense", {}, 8192, 1, 40, 8),
    ("dense", {}, 2048, 8, 48, 8),
    ("block_topk", {"density": 0.15, "causal": 1}, 8192, 2, 32, 4),
    ("block_topk", {"density": 0.05, "causal": 1}, 65536, 1, 8, 1),
    ("block_topk", {"density": 0.2, "causal": 0}, 16384, 1, 24, 8),
    ("block_topk", {"density": 0.1, "causal": 1}, 32768, 1, 16, 4),
    ("random", {"density": 0.1}, 8192, 4, 12, 1),
    ("random", {"density": 0.3, "causal": 1}, 16384, 1, 32, 8),
    ("random", {"density": 0.05}, 65536, 1, 8, 8),
    ("radial", {"frames": 32}, 8192, 2, 24, 1),
    ("radial", {"frames": 64}, 32768, 1, 16, 4),
    ("vertical_slash", {"verticals": 500, "local": 256}, 4096, 4, 32, 8),
    ("vertical_slash", {"verticals": 2000, "local": 1024}, 32768, 1, 24, 4),
    ("vertical_slash", {"verticals": 1000, "slashes": 2000, "local": 512}, 65536, 1, 8, 1),
    ("mixture", {"window": 1024, "density": 0.15}, 16384, 1, 40, 8),
    ("mixture", {"window": 512, "density": 0.1}, 8192, 4, 16, 4),
    ("permuted_block_sparse", {"segment": 2048, "k": 8}, 16384, 2, 16, 1),
    ("permuted_block_sparse", {"segment": 4096, "k": 16}, 32768, 1, 48, 8),
    ("permuted_block_sparse", {"segment": 1024, "k": 4}, 8192, 1, 24, 4),
]


def expected_rule(family: str, params: dict, lengths: str | None) -> str | None:
    """The rule `tilesim gen` writes into the mask (canonical key order; None: no rule)."""
    def text(name, **kv):
        return ",".join([name] + [f"{k}={kv[k]}" for k in sorted(kv)])
    if family == "dense":
        return "allow"  # no partial blocks: the rule never runs
    if family == "causal":
        return "causal"
    if family in ("causal_window",):
        return text("causal_window", window=params["window"])
    if family == "band":
        return text("band", left=params["left"], right=params["right"])
    if family == "sliding_window":
        return text("sliding_window", window=params["window"],
                    **{k: params[k] for k in ("dilation", "stride") if k in params})
    if family == "gna":
        return text("gna", **{k: params[k] for k in ("dims", "window", "stride", "dilation")
                              if k in params})
    if family == "a_shape":
        return text("a_shape", sinks=params["sinks"], window=params["window"])
    if family == "prefix_lm":
        return text("prefix_lm", prefix=params["prefix"])
    if family == "document":
        return text("document", causal=params["causal"], lengths=lengths)
    if family in ("block_topk", "random") and int(params.get("causal", 0)) == 1:
        return "causal"
    return None


def estimated_pairs(family: str, params: dict, seq: int, lengths: str | None) -> float:
    """Allowed pairs of one (batch, head), roughly (tiles, not pairs, set the cost: an estimate)."""
    s = float(seq)
    if family == "dense":
        return s * s
    if family == "causal":
        return s * (s + 1) / 2
    if family == "causal_window":
        w = params["window"]
        return s * w - w * w / 2
    if family == "band":
        return s * (params["left"] + params["right"] + 1)
    if family == "sliding_window":
        return s * params["window"]
    if family == "gna":
        dims = [int(d) for d in str(params["dims"]).split("x")]
        window = [int(w) for w in str(params["window"]).split("x")]
        return s * float(np.prod(window if len(window) == len(dims) else window * len(dims)))
    if family == "a_shape":
        return s * (params["window"] + params["sinks"])
    if family == "prefix_lm":
        p = params["prefix"]
        return s * (s + 1) / 2 + p * (s - p) / 2
    if family == "document":
        first = [int(n) for n in lengths.split("/")[0].split("x")]
        return sum(n * n for n in first) / (2 if params["causal"] else 1)
    if family in ("block_topk", "random"):
        return s * s * params["density"] / (2 if params.get("causal") else 1)
    if family == "vertical_slash":
        return s * (params["verticals"] + params.get("slashes", 1000) + params["local"]) / 2
    if family == "mixture":
        return s * s * 0.3
    if family == "radial":
        return s * s * 0.15
    if family == "permuted_block_sparse":
        return s * params["k"] * 128 + s * params["segment"] / 2
    raise ValueError(family)


def make_case(role: str, index: int, family: str, params: dict, seq: int, batch: int, heads: int,
              gqa: int, seed_base: int = 1200) -> dict:
    seed = seed_base + index
    params = dict(params)
    gen_params = dict(params)
    lengths = dist = None
    if family == "document":
        dist = params.pop("dist")
        lengths = document_lengths_text(seq, batch, seed, dist)
        gen_params = {"lengths": lengths, "causal": params["causal"]}
    name = f"{family}-{index:03d}-s{seq}-b{batch}-h{heads}-g{gqa}"
    mask = f"masks/{name}.npz"
    options = [x for k, v in gen_params.items() for x in (f"--{k}", str(v))]
    args = ["gen", family, *options, "--seq", str(seq), "--heads", str(heads), "--batch",
            str(batch), "--seed", str(seed), "--format", "flex", "--out", mask]
    pairs = estimated_pairs(family, params, seq, lengths)
    est = {str(d): 4 * d * pairs * batch * heads / (EST_TFLOPS * 1e12) * 1e3 for d in HEAD_DIMS}
    return {"name": name, "family": family, "role": role, "seq": seq, "batch": batch,
            "heads": heads, "gqa": gqa, "kv_heads": heads // gqa, "head_dims": list(HEAD_DIMS),
            "seed": seed, "rule": expected_rule(family, params, lengths),
            "block_source": "rule" if family in TOKEN_FAMILIES else "file",
            "mask": mask, "tilesim_args": args, "est_ms": est,
            **({"doc_dist": dist} if dist else {})}


# Added after the first H200 visit (2026-12-02) and appended, so the earlier case names stay.
# FlexAttention compiles a slower kernel variant when a sequence length is not a multiple of its
# tile (Triton's IS_DIVISIBLE); the unaligned runs of that visit showed it. An unaligned dense run
# now calibrates that cost; its aligned twin and two more unaligned shapes are held out.
# The first validation also showed that no calibration run had short rows that are not host-bound
# (dense-000 and block_topk-004 both sit on FlexAttention's ~0.1 ms host floor), so nothing
# pinned the per-CTA cost: random-076 (about 6 full blocks per row, no partial tiles, 0.3-0.6 ms)
# replaces dense-000 and random-003 in the calibration set. One run per base parameter: dense-001
# full tiles, random-076 per-CTA cost, causal-002 mask work, block_topk-004 host floor, dense-089
# unaligned variant. This revision came after looking at held-out errors: those errors are not
# blind, and the hidden validation sets are what tests it.
LATE = [
    ("calibration", ("dense", {}, 10000, 1, 16, 1)),
    ("held_out", ("dense", {}, 10240, 1, 16, 1)),
    ("held_out", ("causal", {}, 8000, 1, 32, 1)),
    ("held_out", ("dense", {}, 4000, 2, 24, 4)),
]
DEMOTED = {"random-003-s16384-b1-h16-g1", "dense-000-s2048-b1-h16-g1"}
PROMOTED = {"random-076-s8192-b4-h12-g1"}


def cases() -> list[dict]:
    out = []
    for role, table in (("calibration", CALIBRATION), ("rule_calibration", RULE_CALIBRATION),
                        ("held_out", HELD_OUT)):
        for entry in table:
            out.append(make_case(role, len(out), *entry))
    for role, entry in LATE:
        out.append(make_case(role, len(out), *entry))
    for case in out:
        if case["name"] in DEMOTED:
            case["role"] = "held_out"
        if case["name"] in PROMOTED:
            case["role"] = "calibration"
    return out


# A blind set, defined and measured after every model and calibration choice of 2026-12-02 was
# fixed (the shipped calibrations predict it without refitting): other parameters, shapes and
# seeds than the rules dataset, head counts (20, 28) it does not have. Indices start at 200 so
# no name repeats one of the rules dataset's.
BLIND = [
    ("document", {"dist": "lognormal", "causal": 1}, 24576, 2, 20, 4),
    ("document", {"dist": "short", "causal": 1}, 6144, 4, 28, 1),
    ("document", {"dist": "short", "causal": 1}, 6000, 2, 16, 1),
    ("prefix_lm", {"prefix": 5000}, 24576, 1, 20, 4),
    ("prefix_lm", {"prefix": 1234}, 12288, 2, 28, 1),
    ("band", {"left": 333, "right": 333}, 12288, 2, 20, 4),
    ("band", {"left": 900, "right": 100}, 12000, 1, 28, 1),
    ("causal_window", {"window": 1500}, 20480, 1, 28, 4),
    ("causal_window", {"window": 600}, 6144, 4, 20, 1),
    ("sliding_window", {"window": 701}, 24576, 1, 20, 4),
    ("sliding_window", {"window": 301, "dilation": 2}, 12288, 2, 16, 1),
    ("gna", {"dims": "64x256", "window": 13}, 16384, 2, 20, 4),
    ("gna", {"dims": "8x64x64", "window": "3x11x11"}, 32768, 1, 20, 1),
    ("gna", {"dims": "96x96", "window": 19}, 9216, 2, 16, 1),
    ("a_shape", {"sinks": 32, "window": 3000}, 24576, 1, 28, 4),
    ("causal", {}, 6144, 4, 16, 1),
    ("causal", {}, 20480, 1, 28, 4),
    ("block_topk", {"density": 0.2, "causal": 1}, 16384, 1, 20, 4),
    ("random", {"density": 0.08}, 32768, 1, 16, 1),
    ("vertical_slash", {"verticals": 800, "local": 384}, 16384, 1, 20, 1),
    ("radial", {"frames": 48}, 12288, 1, 28, 4),
    ("dense", {}, 6144, 2, 28, 1),
    ("mixture", {"window": 768, "density": 0.12}, 12288, 2, 20, 4),
    ("permuted_block_sparse", {"segment": 2048, "k": 6}, 24576, 1, 28, 4),
]


def held_out_cases(table: list, first_index: int, seed_base: int) -> list[dict]:
    """Every entry of a blind table as a held-out case, indices from `first_index`."""
    return [make_case("held_out", first_index + i, *entry, seed_base=seed_base)
            for i, entry in enumerate(table)]


def blind_cases() -> list[dict]:
    return held_out_cases(BLIND, 200, 5000)


# A second blind set, defined after the flex-costs probe changed the model (measured mask op
# counts, unaligned_mask_factor, FlexAttention rule costs fitted on the probe): other
# parameters, shapes, head counts and seeds again, six unaligned lengths. FlexAttention only (the
# golden kernel's model did not change). Indices start at 300.
BLIND2 = [
    ("document", {"dist": "short", "causal": 1}, 12288, 2, 24, 4),
    ("document", {"dist": "lognormal", "causal": 1}, 32768, 1, 12, 1),
    ("document", {"dist": "short", "causal": 0}, 8192, 4, 16, 4),
    ("prefix_lm", {"prefix": 2222}, 16384, 2, 12, 1),
    ("prefix_lm", {"prefix": 4000}, 7000, 2, 24, 8),
    ("band", {"left": 256, "right": 256}, 20480, 1, 24, 4),
    ("band", {"left": 1200, "right": 300}, 9000, 2, 16, 1),
    ("causal_window", {"window": 2048}, 12288, 2, 20, 4),
    ("causal_window", {"window": 800}, 15000, 1, 32, 8),
    ("sliding_window", {"window": 513}, 16384, 2, 12, 1),
    ("sliding_window", {"window": 401, "dilation": 2}, 20480, 1, 16, 4),
    ("gna", {"dims": "128x96", "window": 17}, 12288, 1, 24, 4),
    ("gna", {"dims": "16x16x32", "window": "5x7x9"}, 8192, 2, 16, 1),
    ("gna", {"dims": "64x64", "window": 13, "dilation": 2}, 4096, 4, 24, 8),
    ("a_shape", {"sinks": 64, "window": 1024}, 12288, 2, 12, 1),
    ("a_shape", {"sinks": 16, "window": 3000}, 9000, 1, 40, 8),
    ("causal", {}, 12288, 2, 12, 1),
    ("causal", {}, 5000, 4, 16, 4),
    ("block_topk", {"density": 0.15, "causal": 1}, 24576, 1, 16, 4),
    ("random", {"density": 0.12}, 12288, 2, 20, 1),
    ("vertical_slash", {"verticals": 500, "local": 256}, 24576, 1, 12, 4),
    ("radial", {"frames": 32}, 16384, 1, 20, 4),
    ("dense", {}, 12288, 1, 24, 4),
    ("mixture", {"window": 512, "density": 0.1}, 16384, 1, 24, 8),
]


def blind2_cases() -> list[dict]:
    return held_out_cases(BLIND2, 300, 9000)


# Unaligned lengths (defined 2026-12-02, after the second blind set): FlexAttention compiles a
# bounds-checked variant when a length is not a multiple of its tile, and the d64 runs of the
# datasets above came out between 27 % slower and 14 % faster than the model's one penalty. Dense
# and causal masks over a sweep of lengths around 8K, 10K and 12K (multiples of 128, of 64 and of
# neither), 16 heads, so that the penalty can be read per length and per head dim. Indices from 400.
UNALIGNED = [
    *(("dense", {}, seq, 1, 16, 1)
      for seq in (8000, 8064, 8128, 8192, 9984, 10000, 10048, 10112, 10240, 12000, 12032, 12160)),
    *(("causal", {}, seq, 1, 16, 1) for seq in (8000, 8192, 10000, 10240)),
    # Added after the first run of the above showed the multiple-of-64 saving: every power of
    # two from 1 to 32 once, around 8K, and two more multiples of 8 (the held-out runs at
    # S = 3000, 5000, 7000, 9000 and 15000 are multiples of 8).
    *(("dense", {}, seq, 1, 16, 1)
      for seq in (8001, 8002, 8004, 8008, 8016, 8032, 9992, 12008)),
    *(("causal", {}, seq, 1, 16, 1) for seq in (8008, 12008)),
]


def unaligned_cases() -> list[dict]:
    return held_out_cases(UNALIGNED, 400, 11000)


# A third blind set, defined after the unaligned sweep changed the model (unaligned_weights),
# before any of it was measured: other parameters, shapes and seeds again, and lengths that are
# multiples of 64 (8000, 12224), 32 (6112, 14048), 16 (10000, 9008) or 8 (7000, 11000) among them.
# FlexAttention only. Indices from 500.
BLIND3 = [
    ("document", {"dist": "short", "causal": 1}, 8000, 2, 20, 4),
    ("document", {"dist": "lognormal", "causal": 1}, 24576, 1, 16, 1),
    ("prefix_lm", {"prefix": 1500}, 12224, 1, 24, 8),
    ("prefix_lm", {"prefix": 5000}, 14048, 1, 12, 1),
    ("band", {"left": 600, "right": 600}, 6112, 4, 16, 4),
    ("band", {"left": 2000, "right": 100}, 16384, 1, 28, 4),
    ("causal_window", {"window": 1500}, 10000, 2, 16, 8),
    ("causal_window", {"window": 3000}, 24576, 1, 20, 4),
    ("sliding_window", {"window": 777}, 11000, 1, 24, 4),
    ("sliding_window", {"window": 301, "dilation": 2}, 12288, 2, 12, 1),
    ("gna", {"dims": "96x128", "window": 19}, 12288, 1, 20, 4),
    ("gna", {"dims": "16x24x32", "window": "5x9x9"}, 12288, 1, 16, 1),
    ("gna", {"dims": "48x48", "window": 11, "dilation": 3}, 2304, 8, 16, 4),
    ("a_shape", {"sinks": 32, "window": 1536}, 9008, 2, 20, 4),
    ("a_shape", {"sinks": 128, "window": 4096}, 32768, 1, 12, 1),
    ("causal", {}, 7000, 2, 24, 8),
    ("causal", {}, 16384, 1, 40, 8),
    ("block_topk", {"density": 0.2, "causal": 1}, 12224, 1, 20, 4),
    ("random", {"density": 0.08}, 16384, 2, 12, 1),
    ("vertical_slash", {"verticals": 300, "local": 512}, 16384, 1, 28, 4),
    ("radial", {"frames": 16}, 8192, 2, 16, 4),
    ("dense", {}, 8000, 1, 20, 4),
    ("mixture", {"window": 1024, "density": 0.15}, 12288, 1, 20, 4),
    ("dense", {}, 6112, 2, 12, 1),
]


def blind3_cases() -> list[dict]:
    return held_out_cases(BLIND3, 500, 13000)


# A fourth blind set, defined after the cta probe (golden/results/h200/2026-12-03-cta-probe) moved
# the per-work-item cost and before any of it was measured: more short rows at batch 4-8 (where
# that cost weighs most), other parameters, shapes and seeds again. FlexAttention only. Indices
# from 600.
BLIND4 = [
    ("document", {"dist": "short", "causal": 1}, 4096, 8, 16, 4),
    ("document", {"dist": "lognormal", "causal": 0}, 16384, 2, 24, 8),
    ("prefix_lm", {"prefix": 700}, 6144, 4, 20, 4),
    ("band", {"left": 300, "right": 300}, 4096, 8, 24, 8),
    ("band", {"left": 1200, "right": 0}, 12288, 2, 16, 1),
    ("causal_window", {"window": 500}, 8192, 4, 12, 1),
    ("causal_window", {"window": 2048}, 32768, 1, 24, 8),
    ("sliding_window", {"window": 513}, 6144, 4, 16, 4),
    ("sliding_window", {"window": 641, "dilation": 2}, 16384, 1, 20, 4),
    ("gna", {"dims": "64x96", "window": 13}, 6144, 4, 12, 1),
    ("gna", {"dims": "8x32x48", "window": "3x7x7"}, 12288, 2, 12, 4),
    ("gna", {"dims": "128x128", "window": 17, "stride": 2}, 16384, 1, 24, 8),
    ("a_shape", {"sinks": 64, "window": 512}, 4096, 8, 16, 4),
    ("a_shape", {"sinks": 16, "window": 3000}, 20480, 1, 20, 4),
    ("causal", {}, 3072, 8, 16, 4),
    ("causal", {}, 12288, 2, 28, 4),
    ("block_topk", {"density": 0.1, "causal": 1}, 8192, 4, 16, 4),
    ("random", {"density": 0.15}, 4096, 8, 24, 8),
    ("vertical_slash", {"verticals": 500, "local": 256}, 8192, 2, 20, 4),
    ("radial", {"frames": 8}, 4096, 4, 32, 8),
    ("dense", {}, 3072, 8, 12, 1),
    ("mixture", {"window": 512, "density": 0.1}, 8192, 4, 16, 4),
    ("dense", {}, 12288, 1, 40, 8),
    ("causal", {}, 2048, 8, 48, 8),
]


def blind4_cases() -> list[dict]:
    return held_out_cases(BLIND4, 600, 14000)


# A fifth blind set, defined after the d128 preset's neighborhood op counts came from the kernel's
# SASS (golden/results/h200/2026-12-03-flex-sass) and before any of it was measured. FlexAttention
# only. Indices from 700.
BLIND5 = [
    ("document", {"dist": "lognormal", "causal": 1}, 8192, 4, 16, 4),
    ("document", {"dist": "short", "causal": 0}, 12288, 1, 28, 4),
    ("prefix_lm", {"prefix": 2222}, 16384, 1, 20, 4),
    ("band", {"left": 800, "right": 50}, 8192, 2, 24, 8),
    ("causal_window", {"window": 777}, 6144, 4, 16, 4),
    ("causal_window", {"window": 4096}, 16384, 2, 12, 1),
    ("sliding_window", {"window": 1537}, 12288, 2, 16, 4),
    ("sliding_window", {"window": 513, "dilation": 4}, 8192, 2, 24, 8),
    ("sliding_window", {"window": 255, "dilation": 3}, 6144, 4, 12, 1),
    ("gna", {"dims": "128x96", "window": 25}, 12288, 1, 24, 8),
    ("gna", {"dims": "64x64", "window": 9, "dilation": 2}, 4096, 8, 16, 4),
    ("gna", {"dims": "16x16x32", "window": "5x7x7"}, 8192, 2, 20, 4),
    ("gna", {"dims": "12x32x32", "window": "3x9x9", "dilation": "1x2x2"}, 12288, 1, 16, 1),
    ("gna", {"dims": "32x64x64", "window": "7x13x13"}, 131072, 1, 4, 1),
    ("a_shape", {"sinks": 256, "window": 1024}, 12288, 2, 16, 4),
    ("causal", {}, 5000, 4, 24, 8),
    ("causal", {}, 32768, 1, 16, 4),
    ("block_topk", {"density": 0.25, "causal": 0}, 6144, 4, 20, 4),
    ("random", {"density": 0.04}, 32768, 1, 24, 8),
    ("vertical_slash", {"verticals": 800, "local": 1024}, 16384, 1, 16, 4),
    ("radial", {"frames": 32}, 16384, 1, 24, 8),
    ("dense", {}, 2048, 8, 32, 8),
    ("mixture", {"window": 2048, "density": 0.2}, 16384, 1, 12, 1),
    ("dense", {}, 9000, 1, 24, 4),
]


def blind5_cases() -> list[dict]:
    return held_out_cases(BLIND5, 700, 15000)


# The dense baseline of every blind4 and blind5 shape (sequence length, batch, heads, GQA group),
# so their measured speedups can be checked against tilesim's schedule bound. Indices from 800.
DENSE_TWINS = sorted({("dense", (), seq, batch, heads, gqa)
                      for _, _, seq, batch, heads, gqa in BLIND4 + BLIND5},
                     key=lambda c: (c[2], c[3], c[4], c[5]))


def dense_twin_cases() -> list[dict]:
    return held_out_cases([(f, dict(p), *rest) for f, p, *rest in DENSE_TWINS], 800, 16000)


def masks_and_dense_runs(shapes: list[tuple], masks: list[list[tuple]]) -> list[tuple]:
    """A blind table from shapes (sequence length, batch, heads, GQA group) and the masks of each
    shape: every mask on its shape, then every shape's dense run (blind6 and blind7)."""
    return [(family, params, *shape) for shape, pair in zip(shapes, masks)
            for family, params in pair] + [("dense", {}, *shape) for shape in shapes]


# A sixth blind set (FlexAttention), defined and predicted before measurement after the schedule
# bound's sparse side became the any-order lower bound (2026-12-03): eight shapes (sequence
# length, batch, heads, GQA group), two masks of other rules and parameters on each, and each
# shape's dense run in the same session, so that all 16 measured speedups are checked against
# the bound with no other session involved. Indices from 900.
BLIND6_SHAPES = [(10240, 2, 20, 4), (16384, 1, 40, 8), (6144, 4, 24, 8), (24576, 1, 12, 1),
                 (8192, 4, 12, 4), (12288, 2, 28, 4), (4096, 8, 16, 1), (32768, 1, 20, 4)]
BLIND6_MASKS = [
    [("document", {"dist": "lognormal", "causal": 1}), ("gna", {"dims": "128x80", "window": 21})],
    [("prefix_lm", {"prefix": 3001}), ("radial", {"frames": 16})],
    [("causal_window", {"window": 1500}), ("block_topk", {"density": 0.3, "causal": 0})],
    [("gna", {"dims": "16x32x48", "window": "5x9x11"}),
     ("sliding_window", {"window": 2049, "dilation": 2})],
    [("band", {"left": 1000, "right": 100}), ("random", {"density": 0.06})],
    [("a_shape", {"sinks": 64, "window": 2048}), ("document", {"dist": "short", "causal": 0})],
    [("causal", {}), ("sliding_window", {"window": 700})],
    [("vertical_slash", {"verticals": 1000, "local": 2048}),
     ("mixture", {"window": 4096, "density": 0.15})],
]
BLIND6 = masks_and_dense_runs(BLIND6_SHAPES, BLIND6_MASKS)


def blind6_cases() -> list[dict]:
    return held_out_cases(BLIND6, 900, 17000)


# A seventh blind set, FlexAttention and the sm90 kernel (issue #18), defined and predicted with
# the shipped calibrations (FlexAttention's, and the sm90 ones first shipped the same day) before
# it was measured (2026-12-03): eight other shapes, two masks of other parameters on each, every
# shape's dense run. Indices from 1000.
BLIND7_SHAPES = [(12288, 1, 48, 8), (20480, 1, 16, 2), (8192, 2, 40, 8), (28672, 1, 24, 4),
                 (6144, 4, 20, 4), (16384, 2, 12, 1), (3072, 8, 32, 8), (40960, 1, 16, 4)]
BLIND7_MASKS = [
    [("document", {"dist": "lognormal", "causal": 0}), ("gna", {"dims": "96x128", "window": 15})],
    [("prefix_lm", {"prefix": 5000}), ("sliding_window", {"window": 1500})],
    [("causal_window", {"window": 3000}), ("block_topk", {"density": 0.15, "causal": 1})],
    [("gna", {"dims": "28x32x32", "window": "5x9x9"}), ("radial", {"frames": 28})],
    [("band", {"left": 300, "right": 600}), ("random", {"density": 0.1})],
    [("a_shape", {"sinks": 32, "window": 1000}), ("document", {"dist": "short", "causal": 1})],
    [("causal", {}), ("gna", {"dims": "64x48", "window": 11, "dilation": 2})],
    [("vertical_slash", {"verticals": 500, "local": 512}),
     ("sliding_window", {"window": 4097, "dilation": 3})],
]
BLIND7 = masks_and_dense_runs(BLIND7_SHAPES, BLIND7_MASKS)


def blind7_cases() -> list[dict]:
    return held_out_cases(BLIND7, 1000, 18000)
