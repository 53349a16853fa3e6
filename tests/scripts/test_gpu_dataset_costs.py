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


def rows_in_order(path: Path) -> dict:
    """(b, h, q block) -> (partial list, full list) in the file's order."""
    with np.load(path) as z:
        return {pos: (z["kv_indices"][pos][: z["kv_num_blocks"][pos]].tolist(),
                      z["full_kv_indices"][pos][: z["full_kv_num_blocks"][pos]].tolist())
                for pos in np.ndindex(z["kv_num_blocks"].shape)}


def test_split_probe_variants(tmp_path):
    """lists_allow keeps the base's lists and drops its rule; split_first and split_half put each
    row's first visited block, or its first half (rounded up), in the partial list and the rest,
    in kv order, in the full list."""
    base = gen(tmp_path, "band", "band", "--left", "400", "--right", "300", "--seq", "1024")
    base_rows = rows_in_order(base)
    out = tmp_path / "band--lists_allow.npz"
    gpu_dataset_costs.derive_variant(base, out, "lists_allow")
    assert rows_in_order(out) == base_rows
    with np.load(out) as z:
        assert str(z["rule"][()]) == "allow"
    for variant in ("split_first", "split_half"):
        out = tmp_path / f"band--{variant}.npz"
        gpu_dataset_costs.derive_variant(base, out, variant)
        with np.load(out) as z:
            assert str(z["rule"][()]) == "allow"
        for pos, (partial, full) in rows_in_order(out).items():
            row = sorted(base_rows[pos][0] + base_rows[pos][1])
            head = min(len(row), 1) if variant == "split_first" else (len(row) + 1) // 2
            assert (partial, full) == (row[:head], row[head:]), (variant, pos)
    # A band of 1024 tokens with these edges has rows of 5 to 7 blocks: both lists are used.
    assert any(len(f) > 1 for _, f in rows_in_order(out).values())


def test_split_variants_refuse_a_length_that_cuts_a_block(tmp_path):
    base = gen(tmp_path, "band", "band", "--left", "400", "--right", "300", "--seq", "1000")
    with pytest.raises(ValueError, match="multiples of the block size"):
        gpu_dataset_costs.derive_variant(base, tmp_path / "x.npz", "split_first")
    assert not (tmp_path / "x.npz").exists()


def test_split_probe_cases_reuse_the_flex_costs_masks():
    """The split probe's five bases are the flex-costs probe's cases (same names, seeds and gen
    commands), so the two sessions time the same masks."""
    costs = {c["name"]: c for c in gpu_dataset_costs.cases()}
    probe = gpu_dataset_costs.split_probe_cases()
    bases = [c for c in probe if c.get("variant") == "base"]
    assert len(bases) == len(gpu_dataset_costs.SPLIT_PROBE_BASES)
    for case in bases:
        assert case["tilesim_args"] == costs[case["name"]]["tilesim_args"]
    assert len({c["name"] for c in probe}) == len(probe) == 37


SPLIT_PROBE = Path(__file__).resolve().parents[2] / "golden/results/h200/2026-12-03-split-probe"


def test_split_probe_committed_cases_and_table(tmp_path):
    """The committed cases.json is what split_probe_cases() writes, and the README's excess column
    comes out of the committed measurements (masks regenerated in a scratch copy)."""
    committed = json.loads((SPLIT_PROBE / "cases.json").read_text())
    assert committed == {"dataset": "split-probe-2026-12",
                         "cases": gpu_dataset_costs.split_probe_cases()}
    from attnsim import gpu_dataset
    for name in ("cases.json", "flexattention-d64.json", "flexattention-d128.json"):
        (tmp_path / name).write_text((SPLIT_PROBE / name).read_text())
    if not TILESIM.is_file():
        pytest.fail(f"{TILESIM} not built")
    gpu_dataset.generate(TILESIM, tmp_path, "split-probe-2026-12")
    rows = {(r["base"], r["variant"], r["head_dim"]): r
            for r in gpu_dataset_costs.split_table(tmp_path)}
    assert len(rows) == 22
    readme = (SPLIT_PROBE / "README.md").read_text()
    for (base, variant, d), r in rows.items():
        assert f"| {base} | {variant} | {d} | {r['partial_share']:.2f} |" in readme
        assert f"| {100 * r['excess']:+.1f} % |" in readme
    # document-014's own split at d64 is the probe's finding
    assert rows[("document-014-s16384-b1-h96", "lists_allow", 64)]["excess"] > 0.15
