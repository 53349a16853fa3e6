"""The sm90 kernel's grid choice (golden/hopper/grid_choice.h, attnsim.grid_choice): the shipped
item costs are the fit on the 2026-12-03 visit 2 runs, and on the verify visit's runs (another
machine, other masks) the grid they pick is within a few percent of the faster one and at least
FlexAttention's speed at d64. Needs the built `tilesim` (masks are regenerated); skips without it."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from attnsim import REPO_ROOT, grid_choice, gpu_dataset
from attnsim.errors import InputError

BUILD = Path(os.environ.get("ATTNSIM_BUILD_DIR", REPO_ROOT / "build" / "default")).resolve()
TILESIM = BUILD / "sim" / "gpu" / "tilesim"
RESULTS = REPO_ROOT / "golden" / "results" / "h200"
VISIT2 = RESULTS / "2026-12-03-sm90-dataset" / "visit2"
VERIFY = RESULTS / "2026-12-03-verify"

needs_tilesim = pytest.mark.skipif(not TILESIM.exists(), reason="tilesim is not built")


def with_masks(tmp_path: Path, source: Path, dataset: str) -> Path:
    root = tmp_path / source.name
    root.mkdir()
    for path in source.glob("*.json"):
        shutil.copy(path, root / path.name)
    gpu_dataset.generate(TILESIM, root, dataset)
    return root


def shipped_costs() -> dict[int, tuple[float, float]]:
    """h200_grid_item_costs as golden/hopper/grid_choice.cc writes it."""
    text = (REPO_ROOT / "golden" / "hopper" / "grid_choice.cc").read_text()
    d64 = re.search(r"if \(head_dim == 64\) return \{([\d.]+), ([\d.]+)\};", text)
    other = re.search(r"\n  return \{([\d.]+), ([\d.]+)\};\n\}", text)
    return {64: (float(d64[1]), float(d64[2])), 128: (float(other[1]), float(other[2]))}


@needs_tilesim
def test_shipped_item_costs_are_the_fit_on_visit2(tmp_path):
    assert grid_choice.fit(with_masks(tmp_path, VISIT2, "2026-11-23")) == shipped_costs()


@needs_tilesim
@pytest.mark.parametrize("part, dataset, max_loss", [
    # measured: the chosen grid's time over the faster one's at most 1.010 / 1.045 (dataset) and
    # 1.013 / 1.058 (rules), d64 / d128
    ("dataset", "2026-11-23", {64: 1.015, 128: 1.05}),
    ("rules", "rules-2026-12", {64: 1.015, 128: 1.065})])
def test_picks_on_the_verify_visit(tmp_path, part, dataset, max_loss):
    rows = grid_choice.evaluate(with_masks(tmp_path, VERIFY / part, dataset), shipped_costs())
    assert {r["head_dim"] for r in rows} == {64, 128}
    for r in rows:
        assert r["max_loss"] < max_loss[r["head_dim"]], r
        # Both grids are picked: each is the faster one on part of the masks.
        assert 0 < r["persistent_picks"] < r["masks"], r
    d64 = next(r for r in rows if r["head_dim"] == 64)
    assert d64["at_least_flexattention"] == d64["masks"], d64  # FlexAttention d64 ran there


def test_makespans_match_the_cpp_estimates_hand_examples():
    # tests/golden/grid_choice_test.cc's causal triangle: 1..8 tiles on 4 SMs.
    tiles = np.arange(1, 9, dtype=np.int64).reshape(1, 1, 8)
    assert grid_choice.flat_makespan(tiles, 2.0, sm_count=4) == 16.0
    assert grid_choice.persistent_makespan(tiles, 1.0, sm_count=4) == 14.0
    skewed = np.array([[[10, 1, 1, 1, 1, 1, 1, 1]]])
    assert grid_choice.flat_makespan(skewed, 0.0, sm_count=2) == 10.0
    assert grid_choice.persistent_makespan(skewed, 0.0, sm_count=2) == 13.0


def test_a_folder_without_its_masks_is_an_input_error(tmp_path, capsys):
    folder = tmp_path / "v"
    folder.mkdir()
    for name in ("cases.json", "sm90.json", "sm90_persistent.json"):
        shutil.copy(VERIFY / "rules" / name, folder / name)
    with pytest.raises(InputError, match="no such mask"):
        grid_choice.measured_pairs(folder)
    assert grid_choice.main(["--fit", str(folder)]) == 2
    assert "generate the folder's masks first" in capsys.readouterr().out
