#!/usr/bin/python3
"""NumPy reference for tilesim: the same tile classification, schedules, cost and memory model,
written plainly (dense arrays, Python loops over work items), to check the C++ simulator.

    PYTHONPATH=scripts/python /usr/bin/python3 -m attnsim.tilesim_ref MASK.npz [--gpu h200]
        [--kernel flexattention] [--tile-q N] [--tile-kv N]

prints the same result fields as `tilesim predict` (JSON). Masks: the dense block layout
(full/partial) or FlexAttention's BlockMask layout, as .npz.
"""
from __future__ import annotations

import argparse
import heapq
import json
import math
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import yaml

from . import REPO_ROOT, mask_rules
from .native import data_dir
from .output_format import add_format_option, write_csv

# The source tree's presets, or the installed package's copy (attnsim/data/gpu/presets).
PRESETS = data_dir("gpu", "presets") or REPO_ROOT / "sim" / "gpu" / "presets"
EMPTY, PARTIAL, FULL = 0, 1, 2


@dataclass
class Gpu:
    name: str
    sm_count: int
    clock_mhz: float
    hbm_gb_per_s: float
    l2_mib: float
    peak_dense_bf16_tflops: float
    int32_ops_per_clock_per_sm: float = 64


@dataclass
class Kernel:
    name: str
    tile_q: int = 128
    tile_kv: int = 128
    visit_rule: str = "list"
    masking_rule: str = "per_tile"
    scheduler: str = "non_persistent"
    launch_order: str = "q,b,h"
    reverse_q: bool = False
    longest_first_q: bool = False  # each (batch, head)'s Q tiles by decreasing visited tiles
    calibrated_as: str = ""  # another preset whose calibrations this one takes (same CTA code)
    ctas_per_sm: int = 1
    head_dim: int = 128
    dtype: str = "bf16"
    q_heads_per_kv_head: int = 1
    unaligned_variant: bool = False
    mask_evaluation: str = "expression"  # or "precomputed"
    mma_efficiency: float = 0.5
    mask_op_efficiency: float = 0.25
    cta_overhead_us: float = 2.0
    launch_overhead_us: float = 10.0
    host_floor_us: float = 0.0
    unaligned_tile_cost_ratio: float = 0.0
    unaligned_mask_factor: float = 1.0
    # [{"multiple_of": 64, "weight": 0.35}, ...]: the share of the unaligned cost paid when both
    # lengths are multiples (the largest listed divisor applies; none: all of it)
    unaligned_weights: list = field(default_factory=list)
    # {"dims": [1-D, 2-D, 3-D], "dilated_dim", "non_pow2_dilation", "non_pow2_extent"}: the
    # neighborhood rules' op counts of this kernel (KernelSpec::NeighborhoodOps); {}: defaults
    neighborhood_ops: dict = field(default_factory=dict)
    # {"word_ops_per_dim", "interval_1d_ops"}: a precomputing kernel's neighborhood op counts
    # (KernelSpec::PrecomputedNeighborhood); {}: no staging cost, no interval test
    precomputed_neighborhood: dict = field(default_factory=dict)
    dense_tile_q: int | None = None
    dense_tile_kv: int | None = None
    dense_scheduler: str | None = None
    # [{"head_dim": 128, "ratio": 1.17}, ...]: maximum SM clock over the clock held under this
    # kernel's full load (KernelSpec::clock_headroom); an unlisted head dim: 1
    clock_headroom: list = field(default_factory=list)
    # rules whose PARTIAL tiles the kernel runs unmasked when the rule keeps every pair of the
    # tile's rows inside the sequence (KernelSpec::unmasked_covered_rules)
    unmasked_covered_rules: list = field(default_factory=list)
    # a work item's fixed cost on this grid over the cost model's cta_us (KernelSpec)
    item_overhead_ratio: float = 1.0
    # {"flat": preset, "persistent": preset}: the grid is picked per mask (sm90_auto)
    grid_choice: dict = field(default_factory=dict)

    def clock_headroom_ratio(self) -> float:
        return next((h["ratio"] for h in self.clock_headroom if h["head_dim"] == self.head_dim),
                    1.0)

    def dense_variant(self) -> "Kernel":
        return replace(self, tile_q=self.dense_tile_q or self.tile_q,
                       tile_kv=self.dense_tile_kv or self.tile_kv,
                       scheduler=self.dense_scheduler or self.scheduler)


@dataclass
class Cost:
    """Times in microseconds. A masked tile costs tile_full_us plus, per element, the rule's
    operation count times rule_op_us[rule name] (or mask_op_us for rules without their own)."""
    tile_full_us: float
    mask_op_us: float
    cta_us: float
    launch_us: float
    host_floor_us: float = 0.0
    unaligned_tile_us: float = 0.0
    rule_op_us: dict[str, float] = field(default_factory=dict)


@dataclass
class Rule:
    """A token rule, `NAME,key=value,...` (sim/gpu/mask_rules.md)."""
    name: str
    params: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def parse(text: str) -> "Rule":
        name, *items = text.split(",")
        return Rule(name, dict(item.split("=", 1) for item in items))


@dataclass
class Mask:
    """Block classes [B, H, NQ, NK] (0 empty, 1 partial, 2 full) and the geometry."""
    classes: np.ndarray
    seq_q: int
    seq_kv: int
    block_q: int
    block_kv: int
    allowed_pairs: np.ndarray | None = None
    tile_grid: tuple[int, ...] | None = None  # tiles per dimension of a tile-order layout
    rule: Rule | None = None  # the token rule of the partial blocks, if the file names one
    rule_text: str | None = None  # its text, for attnsim.mask_rules


def q_cut_rule_full(mask: Mask) -> np.ndarray | None:
    """Bool [B, NK] (BlockLayout::q_cut_rule_full): where seq_q cuts the last q block row, the
    blocks of that row whose pairs inside the sequences the rule keeps entirely; None without a
    cut or a classified rule."""
    if mask.seq_q % mask.block_q == 0 or mask.rule is None or \
            mask.rule.name in ("allow", "custom"):
        return None
    b, h, nq, nk = mask.classes.shape
    geometry = mask_rules.Geometry(mask.seq_q, mask.seq_kv, b, h, mask.block_q)
    keep_of = mask_rules.predicate(mask.rule_text, geometry)
    q = np.arange((nq - 1) * mask.block_q, mask.seq_q)[:, None]
    kv = np.arange(mask.seq_kv)[None, :]
    out = np.zeros((b, nk), bool)
    for bi in range(b):
        keep = np.broadcast_to(keep_of(np.full_like(q, bi), np.zeros_like(q), q, kv),
                               (q.shape[0], mask.seq_kv))
        padded = np.zeros((q.shape[0], nk * mask.block_kv), bool)
        padded[:, :mask.seq_kv] = keep
        inside = np.zeros(nk * mask.block_kv, bool)
        inside[:mask.seq_kv] = True
        out[bi] = (padded | ~inside).reshape(q.shape[0], nk, mask.block_kv).all(axis=(0, 2))
    return out


def load_gpu(name: str) -> Gpu:
    data = yaml.safe_load((PRESETS / "gpus" / f"{name}.yaml").read_text())
    data.pop("description", None)
    data.setdefault("name", name)
    return Gpu(**data)


def load_kernel(name: str) -> Kernel:
    data = yaml.safe_load((PRESETS / "kernels" / f"{name}.yaml").read_text())
    kernel = load_kernel(data.pop("inherits")) if "inherits" in data else Kernel(name=name)
    kernel.name = name
    data.pop("description", None)
    for key, value in data.pop("cost", {}).items():
        setattr(kernel, key, value)
    for key, value in data.pop("dense", {}).items():
        setattr(kernel, f"dense_{key}", value)
    for key, value in data.items():
        setattr(kernel, key, value)
    return kernel


def dtype_bytes(dtype: str) -> int:
    return {"bf16": 2, "fp16": 2, "fp8": 1, "fp32": 4}[dtype]


def default_cost(gpu: Gpu, kernel: Kernel) -> Cost:
    """Uncalibrated defaults: the SM's tensor and INT32 rates shared by its resident CTAs."""
    sm_flops_per_us = gpu.peak_dense_bf16_tflops * 1e6 * (2.0 / dtype_bytes(kernel.dtype)) \
        / gpu.sm_count
    tile_flops = 4.0 * kernel.tile_q * kernel.tile_kv * kernel.head_dim
    full = kernel.ctas_per_sm * tile_flops / (sm_flops_per_us * kernel.mma_efficiency)
    mask_op = kernel.ctas_per_sm / (gpu.int32_ops_per_clock_per_sm * gpu.clock_mhz
                                    * kernel.mask_op_efficiency)
    return Cost(tile_full_us=full, mask_op_us=mask_op, cta_us=kernel.cta_overhead_us,
                launch_us=kernel.launch_overhead_us, host_floor_us=kernel.host_floor_us,
                unaligned_tile_us=full * kernel.unaligned_tile_cost_ratio)


# Measured op counts per element (mask_rules.md, "Cost"; the flex-costs probe).
MASKED_PATH_OPS = 1.6  # the -inf select, the sequence-end test and allow's compare
UNKNOWN_RULE_OPS = 2  # a rule tilesim cannot see (no rule, `custom`)
PRECOMPUTED_OPS = 5  # a kernel that precomputes per-row/per-column values, any rule
PRECOMPUTED_NO_RULE_OPS = 7
RULE_OPS = {"allow": 0, "causal": 0, "prefix_lm": 0, "band": 0.4, "causal_window": 1.0,
            "a_shape": 0.8}
# The neighborhood rules' default op counts (KernelSpec::NeighborhoodOps; a kernel preset's
# cost.neighborhood_ops replaces any of them).
NEIGHBORHOOD_DEFAULTS = {"dims": [0.8, 4.2, 9.8], "dilated_dim": 4.2, "non_pow2_dilation": 1.6,
                         "non_pow2_extent": 1.6}


def _atoll(text: str) -> int:
    """C's atoll: leading blanks, a sign, digits; 0 without digits."""
    text = text.lstrip(" \t\n\v\f\r")
    sign = 1
    if text[:1] in ("+", "-"):
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    digits = ""
    for c in text:
        if not c.isdigit():
            break
        digits += c
    return sign * int(digits) if digits else 0


def _per_dim(rule: Rule, key: str, dims: int, fallback: int) -> list[int]:
    values = [_atoll(v) for v in rule.params[key].split("x")] if key in rule.params else []
    if not values:
        values = [fallback]
    if len(values) == 1:
        values = values * dims
    return values


def _not_power_of_two(x: int) -> bool:
    return not (x > 0 and x & (x - 1) == 0)


def _neighborhood_ops(rule: Rule, table: dict) -> float:
    t = {**NEIGHBORHOOD_DEFAULTS, **table}
    dims = _per_dim(rule, "dims", 1, 0)
    n = len(dims)
    dilation = _per_dim(rule, "dilation", n, 1)
    ops = t["dims"][min(n, 3) - 1]
    for d in range(min(n, len(dilation))):
        if dilation[d] > 1:
            ops += t["dilated_dim"] + (t["non_pow2_dilation"]
                                       if _not_power_of_two(dilation[d]) else 0)
    if rule.name == "gna":
        ops += t["non_pow2_extent"] * sum(1 for e in dims if _not_power_of_two(e))
    return ops


def neighborhood_shape(rule: Rule) -> tuple[int, bool]:
    """(grid dimensions, whether any is dilated) of a neighborhood rule (sliding_window: 1-D)."""
    return (len(_per_dim(rule, "dims", 1, 0)),
            any(d > 1 for d in _per_dim(rule, "dilation", 1, 1)))


def interval_test(rule: Rule, table: dict) -> bool:
    """Whether a precomputing kernel with neighborhood op counts `table`
    (Kernel.precomputed_neighborhood) tests `rule` as one interval per row instead of staging key
    words: an undilated 1-D neighborhood, on a kernel that has such a test (sm90)."""
    return "interval_1d_ops" in table and neighborhood_shape(rule) == (1, False)


def _precomputed_neighborhood_ops(rule: Rule, table: dict) -> float:
    if interval_test(rule, table):
        return table["interval_1d_ops"]
    return PRECOMPUTED_OPS + neighborhood_shape(rule)[0] * table.get("word_ops_per_dim", 0.0)


def mask_rule_ops(rule: Rule | None, evaluation: str = "expression",
                  neighborhood: dict | None = None, precomputed: dict | None = None) -> float:
    """Per-element operations of a masked tile under `rule` (sim/gpu/cost_model.cc);
    `neighborhood`: the kernel's neighborhood op counts (Kernel.neighborhood_ops); `precomputed`:
    a precomputing kernel's (Kernel.precomputed_neighborhood)."""
    if evaluation == "precomputed":
        if rule is None:
            return PRECOMPUTED_NO_RULE_OPS
        if rule.name in ("sliding_window", "gna"):
            return _precomputed_neighborhood_ops(rule, precomputed or {})
        return PRECOMPUTED_OPS
    if rule is None:
        return MASKED_PATH_OPS + UNKNOWN_RULE_OPS
    ops = RULE_OPS.get(rule.name, UNKNOWN_RULE_OPS)
    if rule.name == "document":
        ops = 0 if rule.params.get("causal") == "0" else 1.9
    if rule.name in ("sliding_window", "gna"):
        ops = _neighborhood_ops(rule, neighborhood or {})
    return MASKED_PATH_OPS + ops


def unaligned_weight(kernel: Kernel, seq_q: int, seq_kv: int) -> float:
    """The share of the unaligned variant's cost a launch pays (0 on aligned lengths)."""
    if not (kernel.unaligned_variant and (seq_q % kernel.tile_q or seq_kv % kernel.tile_kv)):
        return 0.0
    fits = [w for w in kernel.unaligned_weights
            if seq_q % w["multiple_of"] == 0 and seq_kv % w["multiple_of"] == 0]
    return max(fits, key=lambda w: w["multiple_of"])["weight"] if fits else 1.0


def tile_times(cost: Cost, kernel: Kernel, seq_q: int, seq_kv: int,
               rule: Rule | None) -> tuple[float, float]:
    """(full, masked) tile times of `kernel` on these lengths under `rule`."""
    op_us = cost.rule_op_us[rule.name] if rule is not None and rule.name in cost.rule_op_us \
        else cost.mask_op_us
    mask_work = float(kernel.tile_q) * float(kernel.tile_kv) * (
        mask_rule_ops(rule, kernel.mask_evaluation, kernel.neighborhood_ops,
                      kernel.precomputed_neighborhood) * op_us)
    unaligned = kernel.unaligned_variant and bool(seq_q % kernel.tile_q or seq_kv % kernel.tile_kv)
    weight = unaligned_weight(kernel, seq_q, seq_kv)
    extra = cost.unaligned_tile_us * weight
    if unaligned:  # the bounds-checked variant: `allow` is absorbed, other rules scaled
        allow = rule is not None and rule.name == "allow" and \
            kernel.mask_evaluation == "expression"
        mask_work *= 0.0 if allow else 1.0 + (kernel.unaligned_mask_factor - 1.0) * weight
    return cost.tile_full_us + extra, cost.tile_full_us + extra + mask_work


def launch_time_us(cost: Cost, makespan_us: float) -> float:
    return max(cost.host_floor_us, cost.launch_us + makespan_us)


def load_mask(path: Path) -> Mask:
    with np.load(path) as npz:
        arrays = {name: npz[name] for name in npz.files}
    mask = load_blocks(arrays)
    if "rule" in arrays:
        mask.rule_text = str(arrays["rule"])
        mask.rule = Rule.parse(mask.rule_text)
    if "token_dims" in arrays:
        if "q_tile_dims" in arrays or "tile_dilation" in arrays or any(
                int(t) % int(s) for t, s in zip(arrays["token_dims"], arrays["tile_dims"])):
            raise ValueError(f"{path}: NATTEN's padded Q/KV tiling (q_tile_dims, tile_dilation, "
                             "padding) is modelled by the C++ tilesim only")
        mask.tile_grid = tuple(int(t // s) for t, s in zip(arrays["token_dims"],
                                                           arrays["tile_dims"]))
    return mask


def load_blocks(arrays: dict[str, np.ndarray]) -> Mask:
    allowed = arrays.get("allowed_pairs")
    if "kv_num_blocks" in arrays:
        counts, indices = arrays["kv_num_blocks"], arrays["kv_indices"]
        b, h, nq, max_kv = indices.shape
        block_q, block_kv = (int(x) for x in arrays.get("BLOCK_SIZE", (128, 128)))
        seq_q, seq_kv = (int(x) for x in arrays.get("seq_lengths", (nq * block_q, max_kv * block_kv)))
        nk = -(-seq_kv // block_kv)
        classes = np.zeros((b, h, nq, nk), dtype=np.uint8)
        lists = [(counts, indices, PARTIAL)]
        if "full_kv_num_blocks" in arrays:
            lists.append((arrays["full_kv_num_blocks"], arrays["full_kv_indices"], FULL))
        for num, idx, cls in lists:
            for bi, hi, qi in np.ndindex(b, h, nq):
                classes[bi, hi, qi, idx[bi, hi, qi, :num[bi, hi, qi]]] = cls
        return Mask(classes, seq_q, seq_kv, block_q, block_kv, allowed)
    full = arrays.get("full")
    partial = arrays.get("partial")
    shape = (full if full is not None else partial).shape
    classes = np.zeros(shape, dtype=np.uint8)
    if partial is not None:
        classes[partial.astype(bool)] = PARTIAL
    if full is not None:
        classes[full.astype(bool)] = FULL
    if classes.ndim == 3:
        classes = classes[None]
    block_q = int(arrays.get("block_q", 128))
    block_kv = int(arrays.get("block_kv", 128))
    seq_q = int(arrays.get("seq_q", classes.shape[2] * block_q))
    seq_kv = int(arrays.get("seq_kv", classes.shape[3] * block_kv))
    return Mask(classes, seq_q, seq_kv, block_q, block_kv, allowed)


def tile_classes(mask: Mask, tile_q: int, tile_kv: int,
                 covered: np.ndarray | None = None) -> np.ndarray:
    """Kernel tile classes [B, H, q_tiles, kv_tiles] on a fine grid that both tilings divide.
    `covered` (q_cut_rule_full, for a kernel that runs such tiles unmasked): the last q block
    row's tiles inside blocks it marks are FULL, unless the kv sequence end cuts them (tiles that
    subdivide the blocks only)."""
    def fine_axis(seq, block, tile):
        cell = math.gcd(block, tile)
        cells = -(-seq // cell)
        tiles = -(-seq // tile)
        block_of_cell = np.arange(cells) * cell // block
        return cell, cells, tiles, tile // cell, block_of_cell

    _, cq, nqt, per_q, block_of_q = fine_axis(mask.seq_q, mask.block_q, tile_q)
    _, ck, nkt, per_k, block_of_k = fine_axis(mask.seq_kv, mask.block_kv, tile_kv)
    fine = mask.classes[:, :, block_of_q][:, :, :, block_of_k]
    b, h = fine.shape[:2]
    # Pad to whole tiles: padding is neither full nor non-empty.
    padded = np.zeros((b, h, nqt * per_q, nkt * per_k), dtype=np.uint8)
    padded[:, :, :cq, :ck] = fine
    tiles = padded.reshape(b, h, nqt, per_q, nkt, per_k)
    nonempty = (tiles > 0).any(axis=(3, 5))
    full = (tiles == FULL).all(axis=(3, 5))
    # Tiles cut by a sequence end are never full.
    if mask.seq_q % tile_q:
        full[:, :, -1, :] = False
    if covered is not None and mask.block_q % tile_q == 0 and mask.block_kv % tile_kv == 0:
        first = (mask.classes.shape[2] - 1) * mask.block_q // tile_q  # last block row
        block_of_tile = np.arange(nkt) * tile_kv // mask.block_kv
        full[:, :, first:, :] = covered[:, None, None, block_of_tile]
    if mask.seq_kv % tile_kv:
        full[:, :, :, -1] = False
    out = np.where(nonempty, PARTIAL, EMPTY).astype(np.uint8)
    out[full & nonempty] = FULL
    return out


def visited(classes: np.ndarray, rule: str, tile_grid=None) -> np.ndarray:
    """Bool [B, H, q_tiles, kv_tiles]: tiles each work item computes. With a tile grid (tile-order
    layout, kernel tiles = mask tiles) ranges are taken per dimension of the grid."""
    nonempty = classes > 0
    if rule == "list":
        return nonempty
    if tile_grid is not None:
        out = np.zeros_like(nonempty)
        coords = np.array(np.unravel_index(np.arange(classes.shape[-1]), tile_grid))  # [D, NK]
        for index in np.ndindex(*classes.shape[:-1]):
            row = nonempty[index]
            if not row.any():
                continue
            lo = coords[:, row].min(axis=1, keepdims=True)
            hi = coords[:, row].max(axis=1, keepdims=True)
            out[index] = ((coords >= lo) & (coords <= hi)).all(axis=0)
        return out
    kv = np.arange(classes.shape[-1])
    any_row = nonempty.any(axis=-1, keepdims=True)
    first = np.where(any_row, nonempty.argmax(axis=-1)[..., None], 0)
    last = np.where(any_row, classes.shape[-1] - 1 - nonempty[..., ::-1].argmax(axis=-1)[..., None], -1)
    return (kv >= first) & (kv <= last)


def launch_sequence(b: int, h: int, q_tiles: int, kernel: Kernel, visited=None) -> list[int]:
    """Item indices in launch order; longest_first_q sorts each head's q_tiles items (q varies
    fastest) by decreasing visited[item], ties in grid order (Python's sort is stable)."""
    dims = kernel.launch_order.split(",")
    extent = {"q": q_tiles, "b": b, "h": h}
    order = []
    for c2 in range(extent[dims[2]]):
        for c1 in range(extent[dims[1]]):
            for c0 in range(extent[dims[0]]):
                coord = {dims[0]: c0, dims[1]: c1, dims[2]: c2}
                q = q_tiles - 1 - coord["q"] if kernel.reverse_q else coord["q"]
                order.append((coord["b"] * h + coord["h"]) * q_tiles + q)
    if kernel.longest_first_q and visited is not None:
        order = [i for start in range(0, len(order), q_tiles)
                 for i in sorted(order[start:start + q_tiles], key=lambda i: -int(visited[i]))]
    return order


def schedule(work: list[float], slots: int, policy: str):
    """(slot, start, end) per item (launch order) and each slot's finish time."""
    placements = [None] * len(work)
    finish = [0.0] * slots
    if policy == "static_persistent":
        for i, w in enumerate(work):
            s = i % slots
            placements[i] = (s, finish[s], finish[s] + w)
            finish[s] += w
        return placements, finish
    order = list(range(len(work)))
    if policy == "dynamic_longest_first":
        order.sort(key=lambda i: -work[i])  # stable: ties keep launch order
    heap = [(0.0, s) for s in range(slots)]
    for i in order:
        start, s = heapq.heappop(heap)
        placements[i] = (s, start, start + work[i])
        finish[s] = start + work[i]
        heapq.heappush(heap, (start + work[i], s))
    return placements, finish


def any_order_makespan_lower_bound(work: list[float], sms: int, per_sm: int) -> float:
    """No assignment of the CTAs to SMs (per_sm units per unit time each) finishes sooner: the total
    over all SMs, and for every k the k + 1 smallest of the k * sms + 1 longest items on one SM."""
    if not work:
        return 0.0
    total = 0.0
    for w in work:  # launch order, as the C++ adds
        total += w
    longest = sorted(work, reverse=True)
    prefix = [0.0]
    for w in longest:  # prefix sums, as the C++ adds them
        prefix.append(prefix[-1] + w)
    bound = total / (float(sms) * per_sm)
    k = 0
    while k * sms < len(longest):
        one_sm = prefix[k * sms + 1] - prefix[k * sms - k]
        bound = max(bound, one_sm / per_sm)
        k += 1
    return bound


def sparse_speed_of_light(work: list[float], sms: int, per_sm: int, policy: str) -> float:
    """Timing-driven dispatch: the any-order lower bound; static_persistent: its assignment."""
    if policy != "static_persistent":
        return any_order_makespan_lower_bound(work, sms, per_sm)
    if per_sm > 1:
        return shared_sm_makespan(work, sms, per_sm, policy)
    finish = [0.0] * sms
    for i, w in enumerate(work):
        finish[i % sms] += w
    return max(finish)


def shared_sm_makespan(work: list[float], sms: int, per_sm: int, policy: str) -> float:
    """Speed of light with CTAs sharing an SM: k residents each progress at per_sm / k."""
    slots = sms * per_sm
    if policy == "static_persistent":
        queues = [list(range(w, len(work), slots)) for w in range(slots)]
    else:
        order = list(range(len(work)))
        if policy == "dynamic_longest_first":
            order.sort(key=lambda i: -work[i])
        queues = [order]
    heads = [0] * len(queues)
    remaining = [None] * slots  # None: idle
    resident = [0] * sms

    def refill(slot):
        q = 0 if len(queues) == 1 else slot
        if heads[q] < len(queues[q]):
            remaining[slot] = work[queues[q][heads[q]]]
            heads[q] += 1
            resident[slot % sms] += 1

    for slot in range(slots):
        refill(slot)
    now = 0.0
    while any(r is not None for r in remaining):
        rates = [per_sm / resident[s % sms] if remaining[s] is not None else 0.0
                 for s in range(slots)]
        step = min(remaining[s] / rates[s] for s in range(slots) if remaining[s] is not None)
        now += step
        done = []
        for s in range(slots):
            if remaining[s] is None:
                continue
            remaining[s] -= step * rates[s]
            if remaining[s] <= 1e-12 * max(1.0, step * rates[s]):
                done.append(s)
        for s in done:
            remaining[s] = None
            resident[s % sms] -= 1
        for s in done:
            refill(s)
    return now


def item_work(full, masked, cost: Cost, tiles: tuple[float, float], rule: str,
              problem_masked: bool, item_overhead_ratio: float = 1.0):
    full_us, masked_us = tiles
    item_us = cost.cta_us * item_overhead_ratio  # KernelSpec::item_us
    if rule == "always_mask" or (rule == "global_fast_path" and problem_masked):
        return item_us + (full + masked) * masked_us
    return item_us + full * full_us + masked * masked_us


def memory_us(placements, seq, visits, heads, q_tiles, slots, kernel: Kernel, gpu: Gpu, seq_q, b):
    """Lockstep waves: each (batch, kv head, kv tile) read once per wave of `slots` items."""
    items_by_start = sorted(range(len(placements)), key=lambda pos: placements[pos][1])
    element = dtype_bytes(kernel.dtype)
    kv_tile_bytes = 2.0 * kernel.tile_kv * kernel.head_dim * element
    fetches = 0
    for w in range(0, len(items_by_start), slots):
        seen = {}
        for pos in items_by_start[w:w + slots]:
            item = seq[pos]
            bh = item // q_tiles
            key = (bh // heads, (bh % heads) // kernel.q_heads_per_kv_head)
            row = visits(item)
            seen[key] = row if key not in seen else (seen[key] | row)
        fetches += sum(int(v.sum()) for v in seen.values())
    qo_bytes = 2.0 * b * heads * seq_q * kernel.head_dim * element
    total = fetches * kv_tile_bytes + qo_bytes
    return total, total / (gpu.hbm_gb_per_s * 1e3)


def choose_grid(mask: Mask, kernel: Kernel, sm_count: int) -> str:
    """sim/gpu/schedulers/sm90_grid_choice.cc's pick: each item's visited key tiles (the bench's
    count: a row's listed blocks times key tiles per block where Q tiles are the blocks) plus a
    fixed cost per item and grid; the flat grid's greedy makespan in its launch order against the
    persistent grid's round robin in its (longest-first) order; "flat" on a tie."""
    from .grid_choice import flat_makespan, shipped_item_costs
    flat_kernel = load_kernel(kernel.grid_choice["flat"])
    persistent_kernel = load_kernel(kernel.grid_choice["persistent"])
    b, h = mask.classes.shape[:2]
    q_tiles = -(-mask.seq_q // kernel.tile_q)
    if mask.block_q == kernel.tile_q and mask.block_kv % kernel.tile_kv == 0:
        per_item = (mask.classes > 0).sum(axis=-1) * (mask.block_kv // kernel.tile_kv)
    else:
        per_item = (tile_classes(mask, kernel.tile_q, kernel.tile_kv) > 0).sum(axis=-1)
    tiles = [int(t) for t in per_item.reshape(-1)]
    flat_cost, persistent_cost = shipped_item_costs()[64 if kernel.head_dim == 64 else 128]
    flat_order = launch_sequence(b, h, q_tiles, flat_kernel)
    flat = flat_makespan(np.array([tiles[i] for i in flat_order]), flat_cost, sm_count)
    order = launch_sequence(b, h, q_tiles, persistent_kernel, tiles)
    ctas = min(len(order), sm_count)
    load = [0.0] * ctas
    for position, item in enumerate(order):
        load[position % ctas] += tiles[item] + persistent_cost
    return "persistent" if load and max(load) < flat else "flat"


def simulate(mask: Mask, gpu: Gpu, kernel: Kernel, cost: Cost) -> dict:
    if kernel.grid_choice:  # the launch as the picked grid's preset runs it (KernelSpec::on_grid)
        grid = choose_grid(mask, kernel, gpu.sm_count)
        preset = load_kernel(kernel.grid_choice[grid])
        on_grid = replace(kernel, scheduler=preset.scheduler, launch_order=preset.launch_order,
                          reverse_q=preset.reverse_q, longest_first_q=preset.longest_first_q,
                          dense_scheduler=preset.dense_scheduler,
                          item_overhead_ratio=preset.item_overhead_ratio, grid_choice={})
        return simulate(mask, gpu, on_grid, cost) | {"grid": grid}
    b, h = mask.classes.shape[:2]
    slots = gpu.sm_count * kernel.ctas_per_sm
    covered = q_cut_rule_full(mask) if mask.rule is not None and \
        mask.rule.name in kernel.unmasked_covered_rules else None
    classes = tile_classes(mask, kernel.tile_q, kernel.tile_kv, covered)
    q_tiles, kv_tiles = classes.shape[2:]
    per_dim = mask.tile_grid is not None and (kernel.tile_q, kernel.tile_kv) == (
        mask.block_q, mask.block_kv)
    seen = visited(classes, kernel.visit_rule, mask.tile_grid if per_dim else None)
    full = ((classes == FULL) & seen).sum(axis=-1).reshape(-1)
    partial = ((classes == PARTIAL) & seen).sum(axis=-1).reshape(-1)
    empty = ((classes == EMPTY) & seen).sum(axis=-1).reshape(-1)
    tiles_dense = b * h * q_tiles * kv_tiles
    all_pairs = float(b * h * mask.seq_q * mask.seq_kv)
    if mask.allowed_pairs is not None:
        allowed = float(mask.allowed_pairs.sum())
    else:
        rows = np.minimum(mask.seq_q, (np.arange(mask.classes.shape[2]) + 1) * mask.block_q) \
            - np.arange(mask.classes.shape[2]) * mask.block_q
        cols = np.minimum(mask.seq_kv, (np.arange(mask.classes.shape[3]) + 1) * mask.block_kv) \
            - np.arange(mask.classes.shape[3]) * mask.block_kv
        allowed = float(((mask.classes > 0) * rows[:, None] * cols[None, :]).sum())
    visited_total = int(full.sum() + partial.sum() + empty.sum())
    r = {"batch": b, "heads": h, "seq_q": mask.seq_q, "seq_kv": mask.seq_kv,
         "tiles_full": int(full.sum()), "tiles_partial": int(partial.sum()),
         "tiles_empty_visited": int(empty.sum()), "tiles_dense": tiles_dense,
         "density_tokens": allowed / all_pairs,
         "density_tiles": float(full.sum() + partial.sum()) / tiles_dense,
         "speedup_bound_flop": all_pairs / allowed if allowed else 0.0,
         "speedup_bound_tiles": tiles_dense / visited_total if visited_total else 0.0}
    # NATTENSim's bound: dense KV tiles / the most KV tiles one Q tile visits (per head, overall).
    per_item = (full + partial + empty).reshape(b, h, q_tiles)
    most = per_item.max(axis=(0, 2)) if per_item.size else np.zeros(h, dtype=int)
    per_head = [kv_tiles / int(m) if m else 0.0 for m in most]
    r["speedup_bound_worst_q"] = kv_tiles / int(most.max()) if most.size and most.max() else 0.0
    r["speedup_bound_worst_q_per_head"] = per_head

    dense = kernel.dense_variant()
    dq, dk = -(-mask.seq_q // dense.tile_q), -(-mask.seq_kv // dense.tile_kv)
    dense_full = np.full(b * h * dq, dk - (1 if mask.seq_kv % dense.tile_kv else 0))
    if mask.seq_q % dense.tile_q:
        dense_full[dq - 1::dq] = 0
    dense_masked = dk - dense_full

    def run(full_v, masked_v, kern, n_q, cost_or_none, rule=None):
        seq = launch_sequence(b, h, n_q, kern, full_v + masked_v)
        if cost_or_none is None:
            area = kern.tile_q * kern.tile_kv
            work = [float(area * (full_v[i] + masked_v[i])) for i in seq]
        else:
            problem_masked = bool(masked_v.sum() > 0)
            tiles = tile_times(cost_or_none, kern, mask.seq_q, mask.seq_kv, rule)
            work = [item_work(full_v[i], masked_v[i], cost_or_none, tiles, kern.masking_rule,
                              problem_masked, kern.item_overhead_ratio) for i in seq]
        placements, finish = schedule(work, slots, kern.scheduler)
        return seq, work, placements, finish

    masked = partial + empty
    _, sparse_work, _, _ = run(full, masked, kernel, q_tiles, None)
    sparse_sol = sparse_speed_of_light(sparse_work, gpu.sm_count, kernel.ctas_per_sm,
                                       kernel.scheduler)
    _, _, _, dense_finish = run(dense_full, dense_masked, dense, dq, None)
    r["speedup_bound_sched"] = max(dense_finish) / sparse_sol * kernel.clock_headroom_ratio() \
        if sparse_sol else 0.0

    seq, work, placements, finish = run(full, masked, kernel, q_tiles, cost, mask.rule)
    makespan = max(finish)
    flat_seen = seen.reshape(-1, kv_tiles)
    hbm_bytes, hbm_us = memory_us(placements, seq, lambda i: flat_seen[i], h, q_tiles, slots,
                                  kernel, gpu, mask.seq_q, b)
    r["predicted_ms"] = launch_time_us(cost, max(makespan, hbm_us)) / 1e3
    # The dense baseline runs no rule: tiles cut by a sequence end are masked generically.
    dseq, _, dplacements, dfinish = run(dense_full, dense_masked, dense, dq, cost, None)
    all_kv = np.ones(dk, dtype=bool)
    _, dense_hbm_us = memory_us(dplacements, dseq, lambda i: all_kv, h, dq, slots, dense, gpu,
                                mask.seq_q, b)
    r["predicted_dense_ms"] = launch_time_us(cost, max(max(dfinish), dense_hbm_us)) / 1e3
    r["predicted_speedup"] = r["predicted_dense_ms"] / r["predicted_ms"]
    r["makespan_us"] = makespan
    r["hbm_bytes"] = hbm_bytes
    r["hbm_us"] = hbm_us
    r["memory_bound"] = bool(hbm_us > makespan)
    r["work_items"] = len(work)
    r["slots"] = slots
    r["waves"] = len(work) / slots
    r["wave_efficiency"] = sum(work) / (slots * makespan) if makespan else 0.0
    r["tail_fraction"] = (makespan - min(finish)) / makespan if makespan else 0.0
    return r


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("masks", nargs="+", type=Path)
    parser.add_argument("--gpu", default="h200")
    parser.add_argument("--kernel", default="flexattention")
    parser.add_argument("--tile-q", type=int)
    parser.add_argument("--tile-kv", type=int)
    add_format_option(parser, default="json")
    args = parser.parse_args(argv)
    gpu, kernel = load_gpu(args.gpu), load_kernel(args.kernel)
    if args.tile_q:
        kernel.tile_q = args.tile_q
    if args.tile_kv:
        kernel.tile_kv = args.tile_kv
    cost = default_cost(gpu, kernel)
    results = [dict(mask=str(m), **simulate(load_mask(m), gpu, kernel, cost)) for m in args.masks]
    if args.format == "json":
        json.dump({"results": results}, sys.stdout, indent=2)
        print()
    else:
        rows = [{k: v for k, v in r.items() if not isinstance(v, (dict, list))} for r in results]
        if args.format == "csv":
            write_csv(rows)
        else:
            columns = list(rows[0]) if rows else []
            widths = {c: max(len(c), *(len(f"{r[c]:.6g}" if isinstance(r[c], float) else str(r[c]))
                                       for r in rows)) for c in columns}
            print(" ".join(c.rjust(widths[c]) for c in columns))
            for r in rows:
                print(" ".join((f"{r[c]:.6g}" if isinstance(r[c], float) else str(r[c]))
                               .rjust(widths[c]) for c in columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
