"""The precomputing kernels' neighborhood op counts (sm90.yaml and golden.yaml,
cost.precomputed_neighborhood) are what the committed precomputed-costs probe measures
(golden/results/h200/2026-12-04-precomputed-costs: the flex-costs probe's masks timed with the
golden and sm90 kernels on the H200), recomputed here from its runs by attnsim.gpu_dataset_costs
on the CPU, and the mechanism they model holds in those runs.

Needs the built `tilesim` (ATTNSIM_BUILD_DIR, default build/default); skips without it."""
from __future__ import annotations

import json
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


def scratch_probe(tmp_path_factory, source: Path) -> Path:
    """A probe's measurements and cases in a scratch folder, its masks regenerated there."""
    root = tmp_path_factory.mktemp(source.name)
    for path in source.glob("*.json"):
        shutil.copy(path, root / path.name)
    gpu_dataset.generate(TILESIM, root, json.loads((source / "cases.json").read_text())["dataset"])
    return root


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    return scratch_probe(tmp_path_factory, PROBE)


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
            precomputed = tilesim_ref.load_kernel(kernel).precomputed_neighborhood
            by_rank = {}
            for r in rows:
                if r["head_dim"] == head_dim and \
                        gpu_dataset_costs.word_path(r["rule"], precomputed):
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
    sm90, golden = (tilesim_ref.load_kernel(k).precomputed_neighborhood for k in ("sm90", "golden"))

    assert rank("gna,dims=16x32x32,window=7x11x11") == 3
    assert rank("gna,dilation=2,dims=128x128,window=21") == 2
    assert rank("sliding_window,dilation=3,stride=5,window=255") == 1
    assert rank("causal") is None
    assert not words("sliding_window,window=1025", sm90)
    assert words("sliding_window,window=1025", golden)
    assert words("sliding_window,dilation=2,window=1025", sm90)
    assert words("gna,dims=4096,dilation=1x1,window=9", sm90) is False
    assert not words("document,causal=1,lengths=4x4", golden)


NEIGHBORHOOD_PROBE = PROBE.parent / "2026-12-04-neighborhood-probe"


@pytest.fixture(scope="module")
def neighborhood_probe(tmp_path_factory):
    return scratch_probe(tmp_path_factory, NEIGHBORHOOD_PROBE)


@pytest.mark.parametrize("kernel", ["sm90", "golden"])
def test_the_key_word_term_predicts_the_neighborhood_probe(costs, neighborhood_probe, kernel):
    """Held out: the second probe's grids and windows (3-D with extents of 64, dilated 1x2x2, a
    window dilated by 4; measured later the same day on another machine) cost what the first
    probe's base + per-dimension fit says, within 8 % (measured: 6.7 % at most), except sm90 at
    d128, which runs at its power cap: there its windows came out 14 and 20 % under the fit,
    and the one mask both probes ran (the window of 1025 dilated by 2) moved from 59 to 52 ps
    between the machines, so 25 % there."""
    fit = {f["head_dim"]: f for f in
           gpu_dataset_costs.precomputed_neighborhood_fit(costs[kernel], kernel)}
    rows = gpu_dataset_costs.element_costs(neighborhood_probe, TILESIM, kernel)
    assert len(rows) == 12
    for r in rows:
        f = fit[r["head_dim"]]
        expected = f["base_ps"] + f["per_dim_ps"] * gpu_dataset_costs.neighborhood_rank(r["rule"])
        tolerance = 0.25 if (kernel, r["head_dim"]) == ("sm90", 128) else 0.08
        assert r["rule_ps"] == pytest.approx(expected, rel=tolerance), (r["case"], r["head_dim"])


def test_committed_cases_are_what_the_code_writes():
    """Both probes' cases.json are what attnsim.gpu_dataset_costs writes for their datasets."""
    committed = json.loads((PROBE / "cases.json").read_text())
    assert committed == {"dataset": "flex-costs-2026-12", "cases": gpu_dataset_costs.cases()}
    committed = json.loads((NEIGHBORHOOD_PROBE / "cases.json").read_text())
    assert committed == {"dataset": "neighborhood-probe-2026-12",
                         "cases": gpu_dataset_costs.cases(
                             gpu_dataset_costs.NEIGHBORHOOD_PROBE_BASES, first_index=100)}


def test_the_neighborhood_probe_readme_table_is_its_measurements(neighborhood_probe):
    """Every row of the README's table: the mask's rule cost per element, rounded, for
    FlexAttention, sm90 and golden at d64 and d128, in that order."""
    readme = (NEIGHBORHOOD_PROBE / "README.md").read_text().replace("**", "")
    lines = [line for line in readme.splitlines() if line.startswith("| gna ")
             or line.startswith("| window ")]
    assert len(lines) == 6
    columns = {}
    for kernel in ("flexattention", "sm90", "golden"):
        for r in gpu_dataset_costs.element_costs(neighborhood_probe, TILESIM, kernel):
            columns.setdefault(r["case"], {})[(kernel, r["head_dim"])] = round(r["rule_ps"])
    order = [(k, d) for k in ("flexattention", "sm90", "golden") for d in (64, 128)]
    probe_cases = json.loads((NEIGHBORHOOD_PROBE / "cases.json").read_text())["cases"]
    bases = [c["name"] for c in probe_cases if c["variant"] == "base"]
    for line, case in zip(lines, bases):
        cells = [cell.strip() for cell in line.strip("|").split("|")][1:]
        assert cells == [str(columns[case][key]) for key in order], (case, line)
