"""The flex-costs-2026-12 H200 probe (issue #12): what one masked tile costs FlexAttention, per
mask rule, measured directly instead of fitted from mixed masks.

A mask of the rules dataset holds a few partial tiles among many full ones, so a rule's cost per
element, fitted from one such run, absorbs every other error of the model (the 2026-12-02 fits
gave causal 45x the per-operation cost of a_shape). Here every mask (the `base` case, as users
build it) is also run in three derived forms that visit exactly the same blocks:

  all_partial        every visited block in the partial lists, with the base's rule as mask_mod:
                     every tile evaluates the rule;
  all_partial_allow  the same lists with the `allow` rule: the masked path without the rule's work;
  all_full           every visited block in the full lists: no mask_mod at all.

So (all_partial - all_full) / tiles is the cost of one masked tile of that rule, and
(all_partial_allow - all_full) / tiles the masked path's own share, on the same blocks, rows and
launch, with every visited tile masked (well conditioned). Sizes are chosen for about 3 ms of
dense-equivalent work at d128, so FlexAttention's day-to-day noise (about 2 %) stays a small
fraction of the difference. Lengths include unaligned ones (S = 10000: Triton's bounds-checked
variant) and neighborhood grids with extents that are not powers of two (96, 80, 24) at aligned
lengths, to separate the two effects the rules dataset confounded.

Derived masks are made from the generated base mask by `derive_variant` (numpy, deterministic),
run by `python3 -m attnsim.gpu_dataset --derive DIR` after `tilesim gen`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .gpu_dataset_rules import document_lengths_text, estimated_pairs, expected_rule
from .output_format import add_format_option, emit

HEAD_DIMS = [64, 128]
VARIANTS = ["all_partial", "all_partial_allow", "all_full"]
# The split probe's variants (split_probe_cases): the base's own lists under `allow`, and every
# row's visited blocks split so that its first one, or its first half, is in the partial list.
SPLIT_VARIANTS = ["lists_allow", "split_first", "split_half"]
EST_TFLOPS = 420.0
TARGET_MS_D128 = 3.0  # dense-equivalent work of the visited blocks, at d128

# (family, params, seq); params as in gpu_dataset_rules (document: dist and causal).
BASES = [
    ("dense", {}, 16384),
    ("dense", {}, 10000),
    ("random", {"density": 0.05}, 16384),
    ("random", {"density": 0.3}, 16384),
    ("causal", {}, 16384),
    ("causal", {}, 10000),
    ("causal_window", {"window": 1000}, 16384),
    ("band", {"left": 700, "right": 700}, 16384),
    ("band", {"left": 513, "right": 513}, 10000),
    ("prefix_lm", {"prefix": 3001}, 16384),
    ("a_shape", {"sinks": 128, "window": 2000}, 16384),
    ("sliding_window", {"window": 1025}, 16384),
    ("sliding_window", {"window": 1025, "dilation": 2}, 16384),
    ("sliding_window", {"window": 255, "dilation": 3, "stride": 5}, 16384),
    ("document", {"dist": "short", "causal": 1}, 16384),
    ("document", {"dist": "lognormal", "causal": 1}, 16384),
    ("document", {"dist": "short", "causal": 0}, 16384),
    ("document", {"dist": "short", "causal": 1}, 10000),
    ("gna", {"dims": "128x128", "window": 21}, 16384),
    ("gna", {"dims": "128x128", "window": 21, "dilation": 2}, 16384),
    ("gna", {"dims": "128x128", "window": 33, "stride": 4}, 16384),
    ("gna", {"dims": "96x96", "window": 21}, 9216),
    ("gna", {"dims": "80x128", "window": 21}, 10240),
    ("gna", {"dims": "100x100", "window": 25}, 10000),
    ("gna", {"dims": "16x32x32", "window": "7x11x11"}, 16384),
    ("gna", {"dims": "16x32x32", "window": "7x11x11", "dilation": "1x2x2"}, 16384),
    ("gna", {"dims": "24x24x16", "window": "7x7x7"}, 9216),
]


# One run per mask rule calibrates FlexAttention's rule costs (`tilesim calibrate --rule-runs`):
# the all_partial variant, every visited tile masked, so the run's time pins the rule's cost
# instead of the rest of the model's error (scripts/validate_gpu.py fits the shipped
# calibrations' rule costs from these; the rules dataset's own rule runs are then held out).
# Chosen before any fit: the first base of each rule, the plain (undilated, aligned) one.
RULE_CALIBRATION = [
    "dense-000-s16384-b1-h9--all_partial_allow",  # allow
    "causal-004-s16384-b1-h18--all_partial",
    "causal_window-006-s16384-b1-h96--all_partial",
    "band-007-s16384-b1-h91--all_partial",
    "prefix_lm-009-s16384-b1-h16--all_partial",
    "a_shape-010-s16384-b1-h63--all_partial",
    "sliding_window-011-s16384-b1-h96--all_partial",
    "document-014-s16384-b1-h96--all_partial",
    "gna-018-s16384-b1-h96--all_partial",
]


def heads_for(family: str, params: dict, seq: int, lengths: str | None) -> int:
    """Heads for about TARGET_MS_D128 of visited-block work (pairs plus a block of boundary per
    query: partial blocks cost whole tiles)."""
    if family == "random":
        pairs = seq * seq * params["density"]
    else:
        pairs = estimated_pairs(family, params, seq, lengths) + seq * 256.0
    per_head_ms = 4 * 128 * pairs / (EST_TFLOPS * 1e12) * 1e3
    return int(min(96, max(4, round(TARGET_MS_D128 / per_head_ms))))


# The neighborhood probe (neighborhood-probe-2026-12, chosen before it was measured): the masks
# whose FlexAttention d64 errors repeat with one sign on every visit (3-D grids with an extent of
# 64, a 3-D grid dilated 1x2x2: +12..+21 %; a window dilated by 4: -17 %), each next to a
# flex-costs base it can be compared with (first and last), run as the flex-costs probe runs its
# bases: is the per-element cost of their masked tiles what the op counts say?
NEIGHBORHOOD_PROBE_BASES = [
    ("gna", {"dims": "16x32x32", "window": "7x11x11"}, 16384),
    ("gna", {"dims": "32x32x64", "window": "9x9x13"}, 65536),
    ("gna", {"dims": "8x64x64", "window": "3x11x11"}, 32768),
    ("gna", {"dims": "12x32x32", "window": "3x9x9", "dilation": "1x2x2"}, 12288),
    ("sliding_window", {"window": 2049, "dilation": 4}, 16384),
    ("sliding_window", {"window": 1025, "dilation": 2}, 16384),
]


def cases(bases: list | None = None, first_index: int = 0) -> list[dict]:
    """The probe's cases: every base of `bases` (default BASES) and its variants; names and
    seeds count from `first_index`."""
    out = []
    for index, (family, params, seq) in enumerate(bases or BASES, start=first_index):
        seed = 7000 + index
        params = dict(params)
        gen_params, lengths = dict(params), None
        if family == "document":
            lengths = document_lengths_text(seq, 1, seed, params.pop("dist"))
            gen_params = {"lengths": lengths, "causal": params["causal"]}
        heads = heads_for(family, params, seq, lengths)
        name = f"{family}-{index:03d}-s{seq}-b1-h{heads}"
        mask = f"masks/{name}.npz"
        options = [x for k, v in gen_params.items() for x in (f"--{k}", str(v))]
        rule = expected_rule(family, params, lengths) or "allow"
        common = {"family": family, "seq": seq, "batch": 1, "heads": heads, "gqa": 1,
                  "kv_heads": heads, "head_dims": list(HEAD_DIMS), "seed": seed}
        out.append({"name": name, "role": "held_out", "variant": "base", **common, "rule": rule,
                    "block_source": "rule" if rule != "allow" else "file", "mask": mask,
                    "tilesim_args": ["gen", family, *options, "--seq", str(seq), "--heads",
                                     str(heads), "--seed", str(seed), "--format", "flex",
                                     "--out", mask]})
        for variant in VARIANTS:
            if rule == "allow" and variant == "all_partial":
                continue  # the same as all_partial_allow
            vname = f"{name}--{variant}"
            role = "rule_calibration" if vname in RULE_CALIBRATION else "held_out"
            out.append({"name": vname, "role": role, "variant": variant, **common,
                        "rule": rule if variant == "all_partial" else "allow",
                        "block_source": "file", "mask": f"masks/{vname}.npz",
                        "derive": {"from": mask, "variant": variant}})
    return out


def _merged_rows(z) -> tuple[np.ndarray, np.ndarray]:
    """Per (b, h, q block): every visited kv block (partial and full), sorted, padded with 0."""
    parts = [(z["kv_num_blocks"], z["kv_indices"])]
    if "full_kv_num_blocks" in z.files:
        parts.append((z["full_kv_num_blocks"], z["full_kv_indices"]))
    shape = parts[0][1].shape
    nk = shape[-1]
    visited = np.zeros(shape, bool)
    for num, idx in parts:
        valid = np.arange(idx.shape[-1]) < num[..., None]
        b, h, q, slot = np.nonzero(valid)
        visited[b, h, q, idx[b, h, q, slot]] = True
    num = visited.sum(-1).astype(np.int32)
    # Visited blocks first, in kv order (a stable argsort of "not visited").
    order = np.argsort(~visited, axis=-1, kind="stable").astype(np.int32)
    indices = np.where(np.arange(nk) < num[..., None], order, 0).astype(np.int32)
    return num, indices


def _cut_blocks(z, num: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Moves the visited blocks that a sequence end cuts out of (num, indices), in place, and
    returns them as partial lists: such a block is never full (create_block_mask pads it, and
    the kernel masks the positions past the end)."""
    bq, bk = (int(x) for x in z["BLOCK_SIZE"]) if "BLOCK_SIZE" in z.files else (128, 128)
    nq, nk = indices.shape[-2], indices.shape[-1]
    seq_q, seq_kv = (int(x) for x in z["seq_lengths"]) if "seq_lengths" in z.files else \
        (nq * bq, nk * bk)
    cut = np.zeros(indices.shape, bool)  # per (b, h, q block, slot)
    valid = np.arange(nk) < num[..., None]
    if seq_kv % bk:
        cut |= valid & (indices == nk - 1)
    if seq_q % bq:
        cut[..., nq - 1, :] |= valid[..., nq - 1, :]
    cut_num = cut.sum(-1).astype(np.int32)
    cut_idx = np.zeros_like(indices)
    keep_idx = np.zeros_like(indices)
    for pos in np.ndindex(num.shape):  # rows are short; only cut rows differ
        if cut_num[pos]:
            row = indices[pos][: num[pos]]
            row_cut = cut[pos][: num[pos]]
            cut_idx[pos][: cut_num[pos]] = row[row_cut]
            keep_idx[pos][: num[pos] - cut_num[pos]] = row[~row_cut]
        else:
            keep_idx[pos] = indices[pos]
    indices[...] = keep_idx
    num -= cut_num
    return cut_num, cut_idx


def derive_variant(base: Path, out: Path, variant: str) -> None:
    """Writes `variant` (VARIANTS) of the flex-layout mask `base` to `out` (atomically)."""
    if variant not in VARIANTS + SPLIT_VARIANTS:
        raise ValueError(f"variant {variant!r}: expected one of "
                         f"{', '.join(VARIANTS + SPLIT_VARIANTS)}")
    with np.load(base) as z:
        num, indices = _merged_rows(z)
        empty_num, empty_idx = np.zeros_like(num), np.zeros_like(indices)
        if variant == "lists_allow":
            lists = tuple(z[k] if k in z.files else empty for k, empty in
                          (("kv_num_blocks", empty_num), ("kv_indices", empty_idx),
                           ("full_kv_num_blocks", empty_num), ("full_kv_indices", empty_idx)))
        elif variant in ("split_first", "split_half"):
            cut_num, cut_idx = _cut_blocks(z, num, indices)
            if cut_num.any():
                raise ValueError(f"{base}: {variant} needs lengths that are multiples of the "
                                 "block size (a cut block cannot be full)")
            head = np.minimum(num, 1) if variant == "split_first" else (num + 1) // 2
            slot = np.arange(indices.shape[-1])
            partial_idx = np.where(slot < head[..., None], indices, 0).astype(np.int32)
            # The rest of each row, moved to the front of its full list.
            shifted = np.take_along_axis(
                indices, np.minimum(slot + head[..., None], indices.shape[-1] - 1), axis=-1)
            full_idx = np.where(slot < (num - head)[..., None], shifted, 0).astype(np.int32)
            lists = (head.astype(np.int32), partial_idx, (num - head).astype(np.int32), full_idx)
        elif variant == "all_full":
            lists = (*_cut_blocks(z, num, indices), num, indices)
        else:
            lists = (num, indices, empty_num, empty_idx)
        arrays = dict(zip(("kv_num_blocks", "kv_indices", "full_kv_num_blocks",
                           "full_kv_indices"), lists))
        for key in ("BLOCK_SIZE", "seq_lengths"):
            if key in z.files:
                arrays[key] = z[key]
        rule = str(z["rule"][()]) if "rule" in z.files else "allow"
    arrays["rule"] = np.array(rule if variant == "all_partial" else "allow")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.stem}.tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(out)


def derive_all(out_dir: Path, all_cases: list[dict]) -> int:
    """Derives every case's mask that has a `derive` entry; returns how many."""
    count = 0
    for case in all_cases:
        if "derive" in case:
            derive_variant(out_dir / case["derive"]["from"], out_dir / case["mask"],
                           case["derive"]["variant"])
            count += 1
    return count


# --- analysis: the per-element costs mask_rules.md's "Cost" table quotes -------------------------

SM_COUNT = 132  # H200


# The kernels the probe's table covers: (kernel, head dim) -> (measurements file, tilesim preset,
# tile_q x tile_kv). bsattn-bench writes both head dims of a kernel into one file.
PROBE_KERNELS = {
    ("flexattention", 64): ("flexattention-d64.json", "flexattention_d64", 128 * 128),
    ("flexattention", 128): ("flexattention-d128.json", "flexattention", 128 * 64),
    ("sm90", 64): ("sm90.json", "sm90", 128 * 128),
    ("sm90", 128): ("sm90.json", "sm90", 128 * 128),
    ("golden", 64): ("golden.json", "golden", 128 * 64),
    ("golden", 128): ("golden.json", "golden", 128 * 64),
}


def element_costs(dataset: Path, tilesim: Path, kernel: str = "flexattention") -> list[dict]:
    """Per base mask and head dim: the masked path's and the rule's cost per element (ps of SM
    time: time difference x SMs / visited elements), from `kernel`'s measured variants and
    tilesim's tile counts of the all_full variant (every visited tile)."""
    import json
    import subprocess

    cases = json.loads((dataset / "cases.json").read_text())["cases"]
    out = []
    for head_dim in HEAD_DIMS:
        file, preset, tile_area = PROBE_KERNELS[(kernel, head_dim)]
        path = dataset / file
        if not path.is_file():
            continue
        ms = {Path(r["mask"]).stem: r["ms"] for r in json.loads(path.read_text())["runs"]
              if r.get("head_dim", head_dim) == head_dim}
        bases = [c for c in cases if c["variant"] == "base"
                 and all(f"{c['name']}--{v}" in ms for v in ("all_full", "all_partial_allow"))]
        if not bases:
            continue
        full_masks = [f"masks/{c['name']}--all_full.npz" for c in bases]
        result = subprocess.run([str(tilesim), "bounds", *full_masks, "--gpu", "h200", "--kernel",
                                 preset, "--head-dim", str(head_dim), "--format", "json"],
                                cwd=dataset, check=True, capture_output=True, text=True)
        tiles = {Path(r["mask"]).stem.removesuffix("--all_full"):
                 r["tiles_full"] + r["tiles_partial"] for r in json.loads(result.stdout)["results"]}
        for c in bases:
            n = c["name"]
            elements = tiles[n] * tile_area
            per_element = SM_COUNT * 1e9 / elements  # ps of SM time per element per ms
            full, allow = ms[f"{n}--all_full"], ms[f"{n}--all_partial_allow"]
            partial = ms.get(f"{n}--all_partial")
            out.append({"case": n, "rule": c["rule"], "seq": c["seq"], "head_dim": head_dim,
                        "aligned": c["seq"] % 128 == 0,
                        "path_ps": (allow - full) * per_element,
                        "rule_ps": None if partial is None else (partial - allow) * per_element,
                        "full_tile_us": full * 1e3 * SM_COUNT / tiles[n]})
    return out


NEIGHBORHOOD_RULES = ("sliding_window", "gna")


def neighborhood_rank(rule: str) -> int | None:
    """A neighborhood rule's grid dimensions (sliding_window: 1); None for other rules."""
    from .tilesim_ref import Rule, neighborhood_shape

    parsed = Rule.parse(rule)
    return neighborhood_shape(parsed)[0] if parsed.name in NEIGHBORHOOD_RULES else None


def word_path(rule: str, precomputed: dict) -> bool:
    """Whether a kernel with the preset's `precomputed` (cost.precomputed_neighborhood) stages
    key words for `rule`: a neighborhood, unless the kernel tests it as an interval (sm90's
    kNeighborhood1d, tilesim_ref.interval_test)."""
    from .tilesim_ref import Rule, interval_test

    parsed = Rule.parse(rule)
    return parsed.name in NEIGHBORHOOD_RULES and not interval_test(parsed, precomputed)


def precomputed_neighborhood_fit(rows: list[dict], kernel: str) -> list[dict]:
    """Per head dim: the rule cost per element of the key-word path as base + per_dim x rank
    (least squares over the probe's neighborhoods), and per_dim in the units of the fixed test
    (PRECOMPUTED_OPS x per_dim / base): the preset's cost.precomputed_neighborhood.word_ops_per_dim
    is their mean over the head dims."""
    from .tilesim_ref import PRECOMPUTED_OPS, load_kernel

    precomputed = load_kernel(kernel).precomputed_neighborhood
    out = []
    for head_dim in HEAD_DIMS:
        points = [(neighborhood_rank(r["rule"]), r["rule_ps"]) for r in rows
                  if r["head_dim"] == head_dim and r["rule_ps"] is not None
                  and word_path(r["rule"], precomputed)]
        if len({rank for rank, _ in points}) < 2:
            continue
        a = np.array([[1.0, rank] for rank, _ in points])
        (base, per_dim), *_ = np.linalg.lstsq(a, np.array([ps for _, ps in points]), rcond=None)
        out.append({"kernel": kernel, "head_dim": head_dim, "runs": len(points),
                    "base_ps": float(base), "per_dim_ps": float(per_dim),
                    "word_ops_per_dim": float(PRECOMPUTED_OPS * per_dim / base)})
    return out


# sm90's undilated 1-D neighborhood (kNeighborhood1d) tests one interval per row, no key words.
# Its probe run, sliding_window-011 (window 1025) with every visited tile PARTIAL, masks only 2 of
# each 64-row consumer half's 9 visited 128-key tiles: the kernel runs the 7 inside its rows'
# common interval unmasked (tilesim counts all 9 as masked, from the lists), and those 7 also skip
# the masked path the `allow` variant pays. Its twin with dilation 2 (sliding_window-012, the same
# window and length) takes the word path on every tile.
INTERVAL_RUNS = ("sliding_window-011-s16384-b1-h96", "sliding_window-012-s16384-b1-h96")
INTERVAL_MASKED_SHARE = 2 / 9


def interval_1d_ops(rows: list[dict], word_ops_per_dim: float) -> float:
    """sm90's cost.precomputed_neighborhood.interval_1d_ops: the interval test's cost per masked
    element over the dilated twin's (each with the masked path), mean over the head dims, in the
    twin's units (PRECOMPUTED_OPS + word_ops_per_dim: one dimension of key words)."""
    from .tilesim_ref import PRECOMPUTED_OPS

    by = {(r["case"], r["head_dim"]): r for r in rows}
    ratios = []
    for head_dim in HEAD_DIMS:
        interval, words = (by[(name, head_dim)] for name in INTERVAL_RUNS)
        per_masked = (interval["rule_ps"] + interval["path_ps"]) / INTERVAL_MASKED_SHARE
        ratios.append(per_masked / (words["rule_ps"] + words["path_ps"]))
    return (PRECOMPUTED_OPS + word_ops_per_dim) * float(np.mean(ratios))


def split_table(dataset: Path) -> list[dict]:
    """The split probe's answer per base and head dim: each structure variant against the
    interpolation of all_full and all_partial_allow by the share of visited blocks it puts in the
    partial lists (excess > 0: the split costs more than its tiles)."""
    import json

    cases = {c["name"]: c for c in json.loads((dataset / "cases.json").read_text())["cases"]}
    out = []
    for head_dim in HEAD_DIMS:
        path = dataset / f"flexattention-d{head_dim}.json"
        if not path.is_file():
            continue
        ms = {Path(r["mask"]).stem: r["ms"] for r in json.loads(path.read_text())["runs"]}
        for name, case in cases.items():
            if "--" in name or f"{name}--all_partial_allow" not in ms or name not in ms:
                continue
            full_key = f"{name}--all_full" if f"{name}--all_full" in ms else name
            full, allow = ms[full_key], ms[f"{name}--all_partial_allow"]
            for variant in ("lists_allow", "split_first", "split_half"):
                key = f"{name}--{variant}"
                if key not in ms:
                    continue
                with np.load(dataset / cases[key]["mask"]) as z:
                    partial = int(z["kv_num_blocks"].sum())
                    share = partial / (partial + int(z["full_kv_num_blocks"].sum()))
                expected = full + share * (allow - full)
                out.append({"base": name, "variant": variant, "head_dim": head_dim,
                            "partial_share": share, "all_full_ms": full,
                            "all_partial_allow_ms": allow, "measured_ms": ms[key],
                            "interpolated_ms": expected, "excess": ms[key] / expected - 1,
                            "base_ms": ms[name] if full_key != name else None,
                            "all_partial_ms": ms.get(f"{name}--all_partial")})
    return out


def masks_missing(dataset: Path, all_cases: list[dict], name: str) -> bool:
    """Whether any of the cases' masks is missing from `dataset`; if so, says how to make them."""
    import sys

    missing = [c["mask"] for c in all_cases if not (dataset / c["mask"]).is_file()]
    if missing:
        print(f"gpu_dataset_costs: error: {dataset}: {len(missing)} masks missing (generate them: "
              f"python3 -m attnsim.gpu_dataset --dataset {name} --tilesim ... --out {dataset})",
              file=sys.stderr)
    return bool(missing)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="per-element mask costs of the flex-costs probe")
    parser.add_argument("--dataset", type=Path, required=True,
                        help="the probe's folder (cases.json, flexattention-d*.json, masks/)")
    parser.add_argument("--tilesim", type=Path, help="tilesim (the flex-costs table)")
    parser.add_argument("--kernel", choices=sorted({k for k, _ in PROBE_KERNELS}),
                        default="flexattention",
                        help="whose measurements the flex-costs table reads (default: %(default)s)")
    parser.add_argument("--split-probe", action="store_true",
                        help="the split probe's table instead (measurements and masks only)")
    add_format_option(parser)
    args = parser.parse_args(argv)
    if args.split_probe:
        return print_split_table(args.dataset, args.format)
    if args.tilesim is None:
        parser.error("--tilesim is required for the flex-costs table")
    import json

    # The probe's own cases (flex-costs-2026-12, neighborhood-probe-2026-12, ...).
    probe = json.loads((args.dataset / "cases.json").read_text())
    if masks_missing(args.dataset, probe["cases"], probe.get("dataset", "flex-costs-2026-12")):
        return 2
    rows = element_costs(args.dataset, args.tilesim.resolve(), args.kernel)
    fit = precomputed_neighborhood_fit(rows, args.kernel) if args.kernel != "flexattention" else []
    if args.format != "table":
        emit(args.format, rows + fit)
        return 0
    print("| case | rule | d | aligned | masked path, ps/element | rule, ps/element | full tile, SM-us |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        rule = "-" if r["rule_ps"] is None else f"{r['rule_ps']:.0f}"
        print(f"| {r['case']} | {r['rule'][:40]} | {r['head_dim']} | {'yes' if r['aligned'] else 'no'}"
              f" | {r['path_ps']:.0f} | {rule} | {r['full_tile_us']:.2f} |")
    if fit:
        print("\nKey-word path (neighborhoods): rule ps/element = base + per dimension x rank\n")
        print("| d | runs | base, ps | per dimension, ps | word_ops_per_dim |")
        print("|---|---|---|---|---|")
        for f in fit:
            print(f"| {f['head_dim']} | {f['runs']} | {f['base_ps']:.1f} | {f['per_dim_ps']:.1f} | "
                  f"{f['word_ops_per_dim']:.2f} |")
        word_ops = round(float(np.mean([f["word_ops_per_dim"] for f in fit])), 1)
        print(f"\nword_ops_per_dim (mean over head dims, one decimal): {word_ops}")
        if args.kernel == "sm90":
            print(f"interval_1d_ops (kNeighborhood1d, {INTERVAL_RUNS[0]} against "
                  f"{INTERVAL_RUNS[1]}): {interval_1d_ops(rows, word_ops):.1f}")
    return 0


def print_split_table(dataset: Path, fmt: str) -> int:
    if masks_missing(dataset, split_probe_cases(), "split-probe-2026-12"):
        return 2
    rows = split_table(dataset)
    if fmt != "table":
        emit(fmt, rows)
        return 0
    print("| base | variant | d | partial share | all_full ms | all_partial_allow ms | measured ms"
          " | interpolated ms | excess |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['base']} | {r['variant']} | {r['head_dim']} | {r['partial_share']:.2f} | "
              f"{r['all_full_ms']:.3f} | {r['all_partial_allow_ms']:.3f} | {r['measured_ms']:.3f}"
              f" | {r['interpolated_ms']:.3f} | {100 * r['excess']:+.1f} % |")
    return 0




# The cta-probe-2026-12 H200 probe (issue #12): the cost of one work item (a FlexAttention program,
# one query block of one head) apart from the cost of its tiles. Block-diagonal masks (1-D blocked
# attention: `gna --window W --stride W`, W = k x 128) give every query block exactly k full
# 128x128 tiles; batch x heads is chosen so the total of tiles stays fixed while the number of
# work items falls with k, so time against k separates the two costs. No tile is partial, so the
# mask's rule never runs (its cases say `allow`; the files carry their gna rule). Three lengths
# show the per-item cost does not depend on the sequence length.
CTA_PROBE = [  # (seq, tiles per query block k, batch, heads)
    (8192, 1, 8, 256), (8192, 2, 8, 128), (8192, 4, 4, 128), (8192, 8, 4, 64),
    (8192, 16, 2, 64), (8192, 64, 1, 32),
    (2048, 1, 8, 1024), (2048, 2, 8, 512), (2048, 4, 8, 256), (2048, 16, 8, 64),
    (16384, 1, 2, 256), (16384, 4, 2, 64), (16384, 64, 1, 16)]


def cta_probe_cases() -> list[dict]:
    out = []
    for index, (seq, k, batch, heads) in enumerate(CTA_PROBE):
        seed = 1500 + index
        name = f"blockdiag-{index:03d}-s{seq}-k{k}-b{batch}-h{heads}"
        mask = f"masks/{name}.npz"
        pattern = ["dense"] if k * 128 >= seq else \
            ["gna", "--dims", str(seq), "--window", str(k * 128), "--stride", str(k * 128)]
        out.append({"name": name, "mask": mask, "family": "blockdiag", "rule": "allow",
                    "role": "held_out", "batch": batch, "heads": heads, "kv_heads": heads,
                    "gqa": 1, "seq": seq, "tiles_per_row": min(k, seq // 128),
                    "head_dims": list(HEAD_DIMS), "block_source": "file", "seed": seed,
                    "tilesim_args": ["gen", *pattern, "--seq", str(seq), "--heads", str(heads),
                                     "--batch", str(batch), "--seed", str(seed), "--format",
                                     "flex", "--out", mask]})
    return out


# The split-probe-2026-12 H200 probe (issue #12): does a work item whose visited blocks sit in both
# lists (FlexAttention runs its partial loop, then its full loop: two software pipelines) cost
# more than the sum of its tiles? The flex-costs probe's d64 runs say something does: document,
# band and causal-window masks ran 5-14 % over the interpolation of their all_full and
# all_partial variants (document-014 above its own all_partial), the same masks at d128 did not.
# Two kinds of case separate structure from rule work, all measured in one session:
#   - five flex-costs bases (same names, seeds and masks) as the user writes them, plus their
#     lists under `allow` (lists_allow: the same split, no rule work), all_full,
#     all_partial_allow and all_partial;
#   - block-diagonal masks (k full tiles per query block, as the cta probe) with every row's
#     first block, or first half, moved to the partial list under `allow` (split_first,
#     split_half), against all_full and all_partial_allow.
SPLIT_PROBE_BASES = [6, 7, 11, 14, 16]  # indices into BASES
SPLIT_PROBE_BLOCKDIAG = [(16384, 2, 4, 96), (16384, 4, 2, 96), (16384, 8, 1, 96)]  # seq, k, b, h


def split_probe_cases() -> list[dict]:
    base_cases = {c["name"]: c for c in cases()}
    out = []
    for index in SPLIT_PROBE_BASES:
        base = next(c for c in base_cases.values()
                    if c["variant"] == "base" and c["name"].split("-")[-4] == f"{index:03d}")
        out.append({**base, "role": "held_out"})
        for variant in ["lists_allow", "all_full", "all_partial_allow", "all_partial"]:
            name = f"{base['name']}--{variant}"
            out.append({**{k: v for k, v in base.items() if k != "tilesim_args"},
                        "name": name, "role": "held_out", "variant": variant,
                        "rule": base["rule"] if variant == "all_partial" else "allow",
                        "block_source": "file", "mask": f"masks/{name}.npz",
                        "derive": {"from": base["mask"], "variant": variant}})
    for index, (seq, k, batch, heads) in enumerate(SPLIT_PROBE_BLOCKDIAG):
        seed = 1600 + index
        name = f"blockdiag-{index:03d}-s{seq}-k{k}-b{batch}-h{heads}"
        mask = f"masks/{name}.npz"
        common = {"family": "blockdiag", "role": "held_out", "batch": batch, "heads": heads,
                  "kv_heads": heads, "gqa": 1, "seq": seq, "tiles_per_row": k,
                  "head_dims": list(HEAD_DIMS), "seed": seed, "rule": "allow",
                  "block_source": "file"}
        out.append({**common, "name": name, "mask": mask, "variant": "all_full",
                    "tilesim_args": ["gen", "gna", "--dims", str(seq), "--window", str(k * 128),
                                     "--stride", str(k * 128), "--seq", str(seq), "--heads",
                                     str(heads), "--batch", str(batch), "--seed", str(seed),
                                     "--format", "flex", "--out", mask]})
        for variant in ["all_partial_allow", "split_first", "split_half"]:
            vname = f"{name}--{variant}"
            out.append({**common, "name": vname, "mask": f"masks/{vname}.npz",
                        "variant": variant, "derive": {"from": mask, "variant": variant}})
    return out


if __name__ == "__main__":
    raise SystemExit(main())
