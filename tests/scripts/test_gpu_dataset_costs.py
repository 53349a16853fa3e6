"""The flex-costs probe's derived masks (attnsim.gpu_dataset_costs): each variant visits exactly
the blocks of its base mask, with the classes and rule the variant promises, and tilesim reads it
back with those tile counts."""
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from attnsim import gpu_dataset_costs

BUILD = Path(os.environ.get("ATTNSIM_BUILD_DIR",
                            Path(__file__).resolve().parents[2] / "build/default")).resolve()
TILESIM = BUILD / "sim" / "gpu" / "tilesim"


def visited(path: Path) -> dict:
    """(b, h, q block) -> ({partial kv blocks}, {full kv blocks}) from the file's lists."""
    with np.load(path) as z:
        out = {}
        for pos in np.ndindex(z["kv_num_blocks"].shape):
            partial = set(z["kv_indices"][pos][: z["kv_num_blocks"][pos]].tolist())
            full = set(z["full_kv_indices"][pos][: z["full_kv_num_blocks"][pos]].tolist())
            out[pos] = (partial, full)
        return out


def gen(tmp_path: Path, name: str, *args: str) -> Path:
    if not TILESIM.is_file():
        pytest.fail(f"{TILESIM} not built")
    out = tmp_path / f"{name}.npz"
    subprocess.run([str(TILESIM), "gen", *args, "--heads", "2", "--format", "flex", "--out",
                    str(out)], check=True, capture_output=True)
    return out


@pytest.mark.parametrize("seq", [1024, 1000])
def test_variants_visit_the_base_blocks_with_the_promised_classes(tmp_path, seq):
    base = gen(tmp_path, "band", "band", "--left", "400", "--right", "300", "--seq", str(seq))
    base_blocks = visited(base)
    assert any(p for p, _ in base_blocks.values()) and any(f for _, f in base_blocks.values())
    nb = -(-seq // 128)
    for variant in gpu_dataset_costs.VARIANTS:
        out = tmp_path / f"band--{variant}.npz"
        gpu_dataset_costs.derive_variant(base, out, variant)
        blocks = visited(out)
        with np.load(out) as z:
            rule = str(z["rule"][()])
            assert [int(x) for x in z["seq_lengths"]] == [seq, seq]
        assert rule == ("band,left=400,right=300" if variant == "all_partial" else "allow")
        for pos, (partial, full) in blocks.items():
            base_partial, base_full = base_blocks[pos]
            assert partial | full == base_partial | base_full, (variant, pos)
            assert not partial & full
            if variant == "all_full":
                cut = {j for j in partial | full if j == nb - 1 or pos[2] == nb - 1} \
                    if seq % 128 else set()
                assert partial == cut, (pos, partial, cut)  # only blocks a sequence end cuts
            else:
                assert not full


def test_tilesim_counts_every_visited_tile_of_all_partial_as_masked(tmp_path):
    base = gen(tmp_path, "causal", "causal", "--seq", "1024")
    out = {}
    for variant in ("all_partial", "all_full"):
        path = tmp_path / f"causal--{variant}.npz"
        gpu_dataset_costs.derive_variant(base, path, variant)
        result = subprocess.run([str(TILESIM), "bounds", str(base), str(path), "--gpu", "h200",
                                 "--kernel", "flexattention", "--format", "json"], check=True,
                                capture_output=True, text=True)
        out[variant] = json.loads(result.stdout)["results"]
    base_r, partial_r = out["all_partial"]
    full_r = out["all_full"][1]
    # causal at 1024 tokens, 8 query blocks of 128 and kv tiles of 64: 36 blocks visited per
    # head, 8 of them diagonal (partial) = 72 tiles per head of which 16 partial; 2 heads.
    assert (base_r["tiles_partial"], base_r["tiles_full"]) == (32, 112)
    assert (partial_r["tiles_partial"], partial_r["tiles_full"]) == (144, 0)
    assert (full_r["tiles_partial"], full_r["tiles_full"]) == (0, 144)


def test_cases_pair_every_base_with_its_variants():
    cases = gpu_dataset_costs.cases()
    names = {c["name"] for c in cases}
    assert len(names) == len(cases)
    for case in cases:
        if case["variant"] == "base":
            assert case["tilesim_args"][-1] == case["mask"]
        else:
            assert case["derive"]["from"] in {c["mask"] for c in cases if c["variant"] == "base"}
            assert case["name"].split("--")[0] in names
    # unaligned lengths and non-power-of-two grids at aligned lengths are both present
    seqs = {c["seq"] for c in cases}
    assert 10000 in seqs and 9216 in seqs and 10240 in seqs
