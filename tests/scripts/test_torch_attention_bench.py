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
