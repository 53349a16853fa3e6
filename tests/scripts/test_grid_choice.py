"""The sm90 kernel's grid choice (sim/gpu/schedulers/sm90_grid_choice.h, attnsim.grid_choice): the
shipped item costs are the fit on the 2026-12-03 visit 2 runs, and on the verify visit's runs
(another machine, other masks) the grid they pick is within a few percent of the faster one and at
least FlexAttention's speed at d64. tilesim's sm90_auto preset picks the grid every `--grid auto`
run of the 2026-12-03 auto visit ran on, and predicts it as that grid's preset. Needs the built
`tilesim` (masks are regenerated); skips without it."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
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
AUTO = RESULTS / "2026-12-03-auto"
CALIBRATIONS = REPO_ROOT / "sim" / "gpu" / "calibrations"

needs_tilesim = pytest.mark.skipif(not TILESIM.exists(), reason="tilesim is not built")


def with_masks(tmp_path: Path, source: Path, dataset: str) -> Path:
    root = tmp_path / source.name
    root.mkdir()
    for path in source.glob("*.json"):
        shutil.copy(path, root / path.name)
    gpu_dataset.generate(TILESIM, root, dataset)
    return root


shipped_costs = grid_choice.shipped_item_costs


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


@needs_tilesim
@pytest.mark.parametrize("part, runs", [("dataset", 104), ("rules", 186)])
def test_sm90_auto_picks_the_grid_of_every_auto_run(tmp_path, part, runs):
    """Every `bsattn-bench --kernel sm90 --grid auto` run of the auto visit (52 + 93 masks, d64
    and d128): tilesim's sm90_auto picks the grid its info.grid names, and predicts it as that
    grid's preset does (the shipped sm90 calibrations)."""
    folder = AUTO / part
    cases = json.loads((folder / "cases.json").read_text())["cases"]
    (tmp_path / "masks").mkdir()
    for case in cases:  # the masks the runs timed, from the folder's own cases
        subprocess.run([str(TILESIM), *case["tilesim_args"]], cwd=tmp_path, check=True,
                       capture_output=True)
    auto_runs = json.loads((folder / "sm90_auto.json").read_text())["runs"]
    assert len(auto_runs) == runs and {r["head_dim"] for r in auto_runs} == {64, 128}
    assert {r["mask"] for r in auto_runs} == {c["mask"] for c in cases}
    masks = [c["mask"] for c in cases]

    def predict(kernel: str, head_dim: int) -> dict[str, dict]:
        out = subprocess.run(
            [str(TILESIM), "predict", "--kernel", kernel, "--head-dim", str(head_dim),
             "--calibration", str(CALIBRATIONS / f"h200_sm90_d{head_dim}.json"), *masks],
            cwd=tmp_path, check=True, capture_output=True, text=True).stdout
        return {r["mask"]: r for r in json.loads(out)["results"]}

    chosen = {"flat": "sm90", "persistent": "sm90_persistent"}
    wrong = []
    for head_dim in (64, 128):
        auto = predict("sm90_auto", head_dim)
        fixed = {grid: predict(preset, head_dim) for grid, preset in chosen.items()}
        for run in (r for r in auto_runs if r["head_dim"] == head_dim):
            info, got = run["info"], auto[run["mask"]]
            # The mask tilesim read is the one that ran: shape and allowed pairs.
            assert (got["batch"], got["heads"], got["seq_q"], got["seq_kv"]) == \
                (info["batch"], info["heads"], info["seq_q"], info["seq_kv"]), run["mask"]
            pairs = got["density_tokens"] * got["batch"] * got["heads"] * got["seq_q"] * \
                got["seq_kv"]
            assert pairs == pytest.approx(info["allowed_pairs"], rel=1e-9), run["mask"]
            if got["grid"] != info["grid"]:
                wrong.append((run["mask"], head_dim, got["grid"], info["grid"]))
            assert got["predicted_ms"] == fixed[got["grid"]][run["mask"]]["predicted_ms"]
            assert "grid" not in fixed[got["grid"]][run["mask"]]
    assert wrong == []


def test_makespans_match_the_cpp_estimates_hand_examples():
    # tests/sim/gpu/sm90_grid_choice_test.cc's causal triangle: 1..8 tiles on 4 SMs.
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
