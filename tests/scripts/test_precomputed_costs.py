"""The precomputing kernels' neighborhood op counts (sm90.yaml and golden.yaml,
cost.precomputed_neighborhood) are what the committed precomputed-costs probe measures
(golden/results/h200/2026-12-04-precomputed-costs: the flex-costs probe's masks timed with the
golden and sm90 kernels on the H200), recomputed here from its runs by attnsim.gpu_dataset_costs
on the CPU, and the mechanism they model holds in those runs.

Needs the built `tilesim` (ATTNSIM_BUILD_DIR, default build/default); skips without it."""
from __future__ import annotations

import os
import shutil
import statistics
from pathlib import Path

import pytest

from attnsim import REPO_ROOT, gpu_dataset, gpu_dataset_costs, tilesim_ref

BUILD = Path(os.environ.get("ATTNSIM_BUILD_DIR", REPO_ROOT / "build" / "default")).resolve()
TILESIM = BUILD / "sim" / "gpu" / "tilesim"
PROBE = REPO_ROOT / "golden" / "results" / "h200" / "2026-12-04-precomputed-costs"
pytestmark = pytest.mark.skipif(not TILESIM.exists(), reason=f"{TILESIM} is not built")


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    """The probe's measurements and cases in a scratch folder, its masks regenerated there."""
    root = tmp_path_factory.mktemp("precomputed-costs")
    for path in PROBE.glob("*.json"):
        shutil.copy(path, root / path.name)
    gpu_dataset.generate(TILESIM, root, "flex-costs-2026-12")
    return root


@pytest.fixture(scope="module")
def costs(probe):
    return {k: gpu_dataset_costs.element_costs(probe, TILESIM, k) for k in ("sm90", "golden")}


@pytest.mark.parametrize("kernel", ["sm90", "golden"])
def test_word_ops_per_dim_is_what_the_probe_measures(costs, kernel):
    fit = gpu_dataset_costs.precomputed_neighborhood_fit(costs[kernel], kernel)
    assert [f["head_dim"] for f in fit] == [64, 128]
    assert all(f["runs"] >= 11 for f in fit)
    measured = round(statistics.mean(f["word_ops_per_dim"] for f in fit), 1)
    preset = tilesim_ref.load_kernel(kernel).precomputed_neighborhood
    assert preset["word_ops_per_dim"] == pytest.approx(measured, abs=1e-9)
    # The mechanism: each grid dimension adds a cost well above the runs' scatter (a few ps).
    assert all(f["per_dim_ps"] > 10 for f in fit)


def test_each_dimension_costs_more_at_every_head_dim(costs):
    """The probe's 3-D neighborhoods cost the kernel more per element than its 2-D ones on
    average, and those more than its dilated 1-D windows, at both head dims, for both kernels;
    every 2-D one more than every 1-D one (sm90's d128 2-D and 3-D runs overlap: 65-83 and
    77-102 ps)."""
    for kernel, rows in costs.items():
        for head_dim in (64, 128):
            by_rank = {}
            for r in rows:
                if r["head_dim"] == head_dim and gpu_dataset_costs.word_path(r["rule"], kernel):
                    by_rank.setdefault(gpu_dataset_costs.neighborhood_rank(r["rule"]), []).append(
                        r["rule_ps"])
            assert sorted(by_rank) == [1, 2, 3], (kernel, head_dim)
            means = [statistics.mean(by_rank[rank]) for rank in (1, 2, 3)]
            assert means[0] + 5 < means[1] and means[1] + 5 < means[2], (kernel, head_dim, means)
            assert max(by_rank[1]) < min(by_rank[2]), (kernel, head_dim, by_rank)


def test_sm90_interval_ops_is_what_the_probe_measures(costs):
    preset = tilesim_ref.load_kernel("sm90").precomputed_neighborhood
    measured = gpu_dataset_costs.interval_1d_ops(costs["sm90"], preset["word_ops_per_dim"])
    assert preset["interval_1d_ops"] == pytest.approx(round(measured, 1), abs=1e-9)
    # Cheaper than the word path of the same window (5 + 1.2 ops), which the golden kernel takes
    # for every window: its undilated window costs what its dilated one does, within 15 %.
    assert measured < 5 + preset["word_ops_per_dim"]
    golden = {(r["case"], r["head_dim"]): r["rule_ps"] for r in costs["golden"]}
    undilated, dilated = gpu_dataset_costs.INTERVAL_RUNS
    for head_dim in (64, 128):
        assert golden[(undilated, head_dim)] == pytest.approx(golden[(dilated, head_dim)], rel=0.15)


def test_word_path_and_rank_read_the_rule_text():
    rank, words = gpu_dataset_costs.neighborhood_rank, gpu_dataset_costs.word_path
    assert rank("gna,dims=16x32x32,window=7x11x11") == 3
    assert rank("gna,dilation=2,dims=128x128,window=21") == 2
    assert rank("sliding_window,dilation=3,stride=5,window=255") == 1
    assert rank("causal") is None
    assert not words("sliding_window,window=1025", "sm90")
    assert words("sliding_window,window=1025", "golden")
    assert words("sliding_window,dilation=2,window=1025", "sm90")
    assert words("gna,dims=4096,dilation=1x1,window=9", "sm90") is False
    assert not words("document,causal=1,lengths=4x4", "golden")
