"""The PyTorch bench reads tilesim's mask files in both layouts and rejects bad input before
touching torch (the timing itself needs a GPU and runs on the H200)."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "torch_attention_bench.py"
spec = importlib.util.spec_from_file_location("torch_attention_bench", SCRIPT)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_dense_block_layout_becomes_the_same_lists_as_the_flex_layout(tmp_path):
    full = np.array([[[1, 0, 0], [1, 1, 0], [0, 1, 1]]], dtype=bool)      # [H, NQ, NK]
    partial = np.array([[[0, 1, 0], [0, 0, 1], [1, 0, 0]]], dtype=bool)
    np.savez(tmp_path / "dense.npz", full=full, partial=partial)
    lists = bench.block_lists(tmp_path / "dense.npz")
    assert lists["lists"]["full_kv_num_blocks"].tolist() == [[[1, 2, 2]]]
    assert lists["lists"]["kv_num_blocks"].tolist() == [[[1, 1, 1]]]
    # each row lists its blocks in increasing order, then padding
    assert lists["lists"]["full_kv_indices"][0, 0, 1, :2].tolist() == [0, 1]
    assert lists["lists"]["full_kv_indices"][0, 0, 2, :2].tolist() == [1, 2]
    assert lists["lists"]["kv_indices"][0, 0, 0, 0] == 1
    assert (lists["seq_q"], lists["seq_kv"], lists["heads"]) == (384, 384, 1)


def test_flex_layout_keeps_sequence_lengths_and_allowed_pairs(tmp_path):
    np.savez(tmp_path / "flex.npz", kv_num_blocks=np.ones((1, 2, 4), np.int32),
             kv_indices=np.zeros((1, 2, 4, 4), np.int32), BLOCK_SIZE=np.array([128, 128]),
             seq_lengths=np.array([500, 500]), allowed_pairs=np.array([[7, 8]]))
    lists = bench.block_lists(tmp_path / "flex.npz")
    assert (lists["seq_q"], lists["allowed_pairs"]) == (500, 15)
    assert lists["lists"]["full_kv_num_blocks"].sum() == 0  # absent full lists mean none


def test_bad_masks_and_patterns_are_rejected_with_the_file_named(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(bench.BenchInputError, match="junk.npz"):
        bench.block_lists(tmp_path / "junk.npz")
    np.savez(tmp_path / "other.npz", scores=np.zeros(3))
    with pytest.raises(bench.BenchInputError, match="found \\['scores'\\]"):
        bench.block_lists(tmp_path / "other.npz")
    with pytest.raises(bench.BenchInputError, match="SDPA runs"):
        bench.parse_inline("pattern:radial,seq=128")
    assert bench.main(["--kernel", "sdpa", "pattern:window,seq=8"]) == 2


def test_torch_bench_reads_the_rule_and_rejects_bad_rules_and_gqa(tmp_path):
    args = dict(kv_num_blocks=np.ones((1, 4, 2), np.int32),
                kv_indices=np.zeros((1, 4, 2, 2), np.int32), BLOCK_SIZE=np.array([128, 128]),
                seq_lengths=np.array([200, 200]))
    np.savez(tmp_path / "band.npz", **args, rule=np.array("band,right=5,left=5"))
    np.savez(tmp_path / "plain.npz", **args)
    np.savez(tmp_path / "bad.npz", **args, rule=np.array("band,left=5"))
    p = bench.resolve_rule(bench.block_lists(tmp_path / "band.npz"), "band.npz", gqa=2)
    assert (p["rule_text"], p["kv_heads"]) == ("band,left=5,right=5", 2)
    p = bench.resolve_rule(bench.block_lists(tmp_path / "plain.npz"), "plain.npz")
    assert p["rule_text"] == "allow"
    p = bench.resolve_rule(bench.block_lists(tmp_path / "plain.npz"), "plain.npz",
                           override="causal")
    assert p["rule_text"] == "causal"
    with pytest.raises(bench.BenchInputError, match="bad.npz: field 'rule': .*missing key 'right'"):
        bench.resolve_rule(bench.block_lists(tmp_path / "bad.npz"), "bad.npz")
    with pytest.raises(bench.BenchInputError, match="field 'gqa': 3 does not divide heads 4"):
        bench.resolve_rule(bench.block_lists(tmp_path / "plain.npz"), "plain.npz", gqa=3)
    assert bench.main([str(tmp_path / "bad.npz")]) == 2
    assert bench.main([str(tmp_path / "plain.npz"), "--rule", "document,lengths=7"]) == 2
    assert bench.main([str(tmp_path / "plain.npz"), "--head-dim", "96"]) == 2
    (tmp_path / "cases.json").write_text('{"cases": [{"name": "x"}]}')
    assert bench.main(["--cases", str(tmp_path / "cases.json")]) == 2


def test_torch_bench_block_mask_comparison_counts_every_differing_row():
    def lists(partial, full):
        return {"kv_num_blocks": np.array([[[len(r) for r in partial]]], np.int32),
                "kv_indices": np.array([[[r + [0] * (2 - len(r)) for r in partial]]], np.int32),
                "full_kv_num_blocks": np.array([[[len(r) for r in full]]], np.int32),
                "full_kv_indices": np.array([[[r + [0] * (2 - len(r)) for r in full]]],
                                            np.int32)}
    tilesim = lists([[0], [0, 1]], [[], []])
    assert bench.compare_block_masks(tilesim, tilesim, 200, 200, 128) == \
        {"block_mask_matches_tilesim": True, "block_mask_mismatch_rows": 0}
    # A clipped block called FULL where create_block_mask (which pads) says PARTIAL: a mismatch.
    clipped_full = lists([[0], [1]], [[], [0]])
    found = bench.compare_block_masks(clipped_full, tilesim, 200, 200, 128)
    assert found == {"block_mask_matches_tilesim": False, "block_mask_mismatch_rows": 1}
