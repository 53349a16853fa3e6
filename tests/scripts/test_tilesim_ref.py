"""The C++ tilesim and the NumPy reference agree field by field on the same masks.

Needs the built `tilesim` (ATTNSIM_BUILD_DIR, default build/default); skips without it."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from attnsim import REPO_ROOT, tilesim_ref

BUILD = Path(os.environ.get("ATTNSIM_BUILD_DIR", REPO_ROOT / "build" / "default"))
TILESIM = BUILD / "sim" / "gpu" / "tilesim"
pytestmark = pytest.mark.skipif(not TILESIM.exists(),
                                reason=f"tilesim is not built ({TILESIM} missing)")

INTEGER_FIELDS = ["batch", "heads", "seq_q", "seq_kv", "tiles_full", "tiles_partial",
                  "tiles_empty_visited", "tiles_dense", "work_items", "slots", "memory_bound"]
FLOAT_FIELDS = ["density_tokens", "density_tiles", "speedup_bound_flop", "speedup_bound_tiles",
                "speedup_bound_sched", "speedup_bound_worst_q", "predicted_ms",
                "predicted_dense_ms", "predicted_speedup", "makespan_us", "hbm_bytes", "hbm_us",
                "waves", "wave_efficiency", "tail_fraction"]

CASES = [
    # (gen arguments, kernel, extra predict arguments)
    ("causal --seq 4096 --heads 4", "flexattention", []),
    ("causal --seq 3000 --heads 3 --block 64", "fa2", []),
    ("a_shape --seq 8192 --heads 2 --sinks 128 --window 1024", "fa2", []),
    ("a_shape --seq 8192 --heads 2 --sinks 128 --window 1024", "fa3", []),
    ("sliding_window --seq 6000 --heads 2 --window 700 --dilation 2", "flexattention", []),
    ("gna --seq 4096 --dims 16x16x16 --window 8 --stride 4", "block_sparse_attn", []),
    ("block_topk --seq 8192 --heads 4 --density 0.2 --seed 3", "flexattention", ["--tile-kv", "256"]),
    ("random --seq 5000 --heads 3 --density 0.3 --causal true --seed 1", "minference", []),
    ("vertical_slash --seq 4096 --heads 2 --verticals 200 --slashes 100 --seed 2", "fa3",
     ["--tile-q", "176"]),
    ("mixture --seq 4096 --heads 8 --k 4", "flexattention", ["--gqa", "4"]),
    ("gna --seq 4096 --heads 2 --dims 64x64 --window 12 --dilation 3 --tile 8x8 --block 64",
     "natten", ["--tile-q", "64", "--tile-kv", "64"]),
    ("gna --seq 4096 --dims 16x16x16 --window 4 --stride 2 --dilation 4 --tile 4x4x8",
     "fa3", []),
    # Two CTAs per SM: the speed of light lets a lone CTA use its whole SM.
    ("causal --seq 8192 --heads 8", "golden", []),
    ("random --seq 6144 --heads 4 --density 0.2 --causal true --seed 4", "flexattention_d64", []),
    # Rule op counts: grid extents that are not powers of two, per-dimension dilation, the
    # document / prefix / band / window rules; unaligned lengths on the unaligned variant.
    ("gna --seq 3840 --heads 2 --dims 48x80 --window 15 --dilation 1x2", "flexattention", []),
    ("gna --seq 3840 --dims 12x16x20 --window 5 --dilation 2x1x1", "flexattention_d64", []),
    ("document --seq 5000 --heads 2 --lengths 1000x2500x1500 --causal 0", "flexattention", []),
    ("document --seq 4096 --heads 2 --lengths 1024x2048x1024", "flexattention_d64", []),
    ("prefix_lm --seq 4096 --heads 2 --prefix 1000", "golden", []),
    ("band --seq 4096 --heads 2 --left 300 --right 200", "fa2", []),
    ("causal_window --seq 5000 --heads 2 --window 700", "fa3", []),
    # Unaligned lengths that are multiples of 64 and of 32 (flexattention_d64's weights).
    ("causal --seq 8000 --heads 2", "flexattention_d64", []),
    ("band --seq 12000 --heads 2 --left 300 --right 200", "flexattention_d64", []),
    # A persistent grid whose order depends on the mask (each head's Q tiles longest first).
    ("block_topk --seq 8192 --heads 4 --density 0.2 --seed 3", "sm90_persistent", []),
    ("causal --seq 8192 --heads 6", "sm90_persistent", []),
    # The power limit: sm90's clock headroom raises its schedule bound.
    ("causal --seq 8192 --heads 6", "sm90", []),
    # An unaligned seq_q: the last Q tile's blocks are listed PARTIAL; kernels that run tiles
    # their rule covers unmasked (unmasked_covered_rules) count the covered ones FULL, on both
    # grids and on 64-key tiles (golden); rules they do not list (document) and kernels that do
    # not (flexattention) keep them PARTIAL, as do tiles that do not subdivide the blocks.
    ("causal --seq 3000 --heads 3 --batch 2", "sm90", []),
    ("causal --seq 10000 --heads 2", "sm90_persistent", []),
    ("prefix_lm --seq 5000 --heads 2 --prefix 1000", "golden", []),
    ("band --seq 3000 --heads 2 --left 300 --right 200", "sm90", []),
    ("document --seq 5000 --heads 2 --lengths 1000x2500x1500 --causal 0", "sm90", []),
    ("causal --seq 3000 --heads 3", "flexattention", []),
    ("causal --seq 3000 --heads 3 --block 64", "sm90", []),
    # The grid picked per mask (sm90_auto): flat on a causal triangle, persistent on short
    # uniform items, and the tile count where Q tiles are not the blocks.
    ("causal --seq 16384 --heads 8", "sm90_auto", []),
    ("band --seq 4096 --heads 32 --batch 2 --left 127 --right 0", "sm90_auto", []),
    ("block_topk --seq 8192 --heads 4 --density 0.2 --seed 3 --block 64", "sm90_auto", []),
]


def run(args: list[str]) -> str:
    return subprocess.run([str(TILESIM), *args], check=True, capture_output=True, text=True).stdout


@pytest.mark.parametrize("fmt", ["dense", "flex"])
@pytest.mark.parametrize("gen, kernel_name, extra", CASES)
def test_cpp_and_numpy_agree(tmp_path, gen, kernel_name, extra, fmt):
    mask = tmp_path / "mask.npz"
    run(["gen", *gen.split(), "--format", fmt, "--out", str(mask)])
    cpp = json.loads(run(["predict", str(mask), "--kernel", kernel_name, *extra]))["results"][0]

    gpu, kernel = tilesim_ref.load_gpu("h200"), tilesim_ref.load_kernel(kernel_name)
    for flag, field in (("--tile-q", "tile_q"), ("--tile-kv", "tile_kv"),
                        ("--gqa", "q_heads_per_kv_head")):
        if flag in extra:
            setattr(kernel, field, int(extra[extra.index(flag) + 1]))
    ref = tilesim_ref.simulate(tilesim_ref.load_mask(mask), gpu, kernel,
                               tilesim_ref.default_cost(gpu, kernel))
    assert cpp.get("grid") == ref.get("grid")  # sm90_auto's pick; absent for one-grid kernels
    for field in INTEGER_FIELDS:
        assert cpp[field] == ref[field], field
    for field in FLOAT_FIELDS:
        assert cpp[field] == pytest.approx(ref[field], rel=1e-9, abs=1e-12), field


@pytest.mark.parametrize("gen", [
    "causal --seq 4000 --heads 4",
    "gna --seq 3840 --heads 2 --dims 48x80 --window 15",
    "a_shape --seq 8192 --heads 2 --sinks 128 --window 1024",
])
def test_calibrated_rule_costs_agree(tmp_path, gen):
    """A calibration with per-rule op costs (rule_op_us): rules with one use it, others
    mask_op_us; the dense baseline (no rule) always mask_op_us."""
    mask = tmp_path / "mask.npz"
    run(["gen", *gen.split(), "--out", str(mask)])
    gpu, kernel = tilesim_ref.load_gpu("h200"), tilesim_ref.load_kernel("flexattention")
    cost = tilesim_ref.Cost(tile_full_us=1.9, mask_op_us=3.1e-5, cta_us=5.5, launch_us=6.0,
                            host_floor_us=95.0, unaligned_tile_us=0.21,
                            rule_op_us={"causal": 7.3e-5, "gna": 1.7e-5})
    calibration = tmp_path / "calibration.json"
    calibration.write_text(json.dumps({
        "tool": "tilesim", "gpu": gpu.name, "kernel": kernel.name,
        "kernel_config": {"tile_q": kernel.tile_q, "tile_kv": kernel.tile_kv,
                          "head_dim": kernel.head_dim, "dtype": kernel.dtype},
        "cost_model": {"tile_full_us": cost.tile_full_us, "mask_op_us": cost.mask_op_us,
                       "cta_us": cost.cta_us, "launch_us": cost.launch_us,
                       "host_floor_us": cost.host_floor_us,
                       "unaligned_tile_us": cost.unaligned_tile_us,
                       "rule_op_us": cost.rule_op_us}}))
    cpp = json.loads(run(["predict", str(mask), "--kernel", kernel.name, "--calibration",
                          str(calibration)]))["results"][0]
    ref = tilesim_ref.simulate(tilesim_ref.load_mask(mask), gpu, kernel, cost)
    for field in INTEGER_FIELDS:
        assert cpp[field] == ref[field], field
    for field in FLOAT_FIELDS:
        assert cpp[field] == pytest.approx(ref[field], rel=1e-9, abs=1e-12), field


def test_mask_rule_ops():
    """The per-element op counts of sim/gpu/cost_model.cc, spot-checked."""
    ops, rule = tilesim_ref.mask_rule_ops, tilesim_ref.Rule.parse
    a = pytest.approx
    # mask_rules.md's table: masked path 1.6; windows 0.8 / 4.2 / 9.8 by dimension, +4.2 per
    # dilated dimension, +1.6 per extent or dilation that is not a power of two.
    assert ops(None) == a(1.6 + 2) and ops(None, "precomputed") == 7
    assert ops(rule("causal")) == a(1.6) and ops(rule("causal"), "precomputed") == 5
    assert ops(rule("document,causal=0,lengths=4x4")) == a(1.6)
    assert ops(rule("document,lengths=4x4")) == a(1.6 + 1.9)
    assert ops(rule("custom")) == a(1.6 + 2)
    assert ops(rule("band,left=1,right=1")) == a(1.6 + 0.4)
    assert ops(rule("sliding_window,window=9")) == a(1.6 + 0.8)
    assert ops(rule("sliding_window,dilation=2,window=9")) == a(1.6 + 0.8 + 4.2)
    assert ops(rule("gna,dims=64x64,window=9")) == a(1.6 + 4.2)
    assert ops(rule("gna,dilation=1x3,dims=48x64,window=9")) == a(1.6 + 4.2 + 4.2 + 1.6 + 1.6)
    assert ops(rule("gna,dilation=2,dims=12x16x20,window=5")) == a(1.6 + 9.8 + 3 * 4.2 + 2 * 1.6)
    # A precomputing kernel: 5 for every rule; a neighborhood adds its key words' staging per
    # grid dimension (sm90.yaml: 1.2), an undilated 1-D one is an interval test where the kernel
    # has one (sm90: 3.0).
    sm90 = {"word_ops_per_dim": 1.2, "interval_1d_ops": 3.0}
    assert ops(rule("band,left=1,right=1"), "precomputed", None, sm90) == 5
    assert ops(rule("gna,dims=16x16x16,window=5"), "precomputed", None, sm90) == a(5 + 3 * 1.2)
    assert ops(rule("gna,dilation=1x2,dims=64x64,window=5"), "precomputed", None, sm90) == \
        a(5 + 2 * 1.2)
    assert ops(rule("sliding_window,dilation=2,window=9"), "precomputed", None, sm90) == \
        a(5 + 1.2)
    assert ops(rule("sliding_window,stride=3,window=9"), "precomputed", None, sm90) == 3.0
    assert ops(rule("sliding_window,window=9"), "precomputed", None,
               {"word_ops_per_dim": 1.1}) == a(5 + 1.1)
    assert ops(rule("gna,dims=16x16x16,window=5"), "precomputed") == 5


def test_reference_catches_a_wrong_schedule(tmp_path):
    """The comparison can fail: a different scheduler changes the makespan."""
    mask = tmp_path / "causal.npz"
    run(["gen", "causal", "--seq", "32768", "--heads", "2", "--out", str(mask)])
    gpu = tilesim_ref.load_gpu("h200")
    kernel = tilesim_ref.load_kernel("flexattention")
    m = tilesim_ref.load_mask(mask)
    grid = tilesim_ref.simulate(m, gpu, kernel, tilesim_ref.default_cost(gpu, kernel))
    kernel.scheduler = "dynamic_longest_first"
    lpt = tilesim_ref.simulate(m, gpu, kernel, tilesim_ref.default_cost(gpu, kernel))
    assert lpt["makespan_us"] < grid["makespan_us"]


def test_tile_classes_split_and_merge_blocks():
    classes = np.array([[[[FULL, PARTIAL], [EMPTY, FULL]]]], dtype=np.uint8)
    mask = tilesim_ref.Mask(classes, 256, 256, 128, 128)
    small = tilesim_ref.tile_classes(mask, 64, 64)
    assert small.shape == (1, 1, 4, 4)
    assert (small[0, 0, :2, :2] == FULL).all() and (small[0, 0, 2:, :2] == EMPTY).all()
    big = tilesim_ref.tile_classes(mask, 256, 256)
    assert big.tolist() == [[[[PARTIAL]]]]


EMPTY, PARTIAL, FULL = tilesim_ref.EMPTY, tilesim_ref.PARTIAL, tilesim_ref.FULL
