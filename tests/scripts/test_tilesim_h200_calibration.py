"""tilesim against the H200 measurements in golden/results/: the converted masks have exactly the
measured allowed pairs, and a cost model fitted on 5 runs predicts the other 7 of each kernel
configuration within the stated errors.

Needs the built `tilesim` (ATTNSIM_BUILD_DIR, default build/default); skips without it."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from pyattnsim import REPO_ROOT, tilesim_measurements

BUILD = Path(os.environ.get("ATTNSIM_BUILD_DIR", REPO_ROOT / "build" / "default"))
TILESIM = BUILD / "sim" / "gpu" / "tilesim"
SESSION = REPO_ROOT / "golden" / "results" / "h200" / "2026-11-23-builtin-patterns"
pytestmark = pytest.mark.skipif(not TILESIM.exists(),
                                reason=f"tilesim is not built ({TILESIM} missing)")

# Held-out RMS relative error bounds, a little above what the model reaches today (2026-11-23:
# golden 1.5 % / 0.8 %, FlexAttention 4.7 % / 9.5 %); a model change that loses accuracy fails here.
BOUNDS = [("golden", 128, 0.03), ("golden", 64, 0.03),
          ("flexattention", 128, 0.07), ("flexattention", 64, 0.12)]


def tilesim(*args: str) -> str:
    return subprocess.run([str(TILESIM), *args], check=True, capture_output=True, text=True).stdout


def test_converted_masks_have_the_measured_allowed_pairs():
    timings = json.loads((SESSION / "golden.json").read_text())
    for run in timings["runs"]:
        if run["seq_q"] > 8192:
            continue  # the small ones suffice; the generator is exact at every length
        result = json.loads(tilesim("bounds", tilesim_measurements.pattern_for(run)))["results"][0]
        pairs = result["density_tokens"] * run["seq_q"] * run["seq_kv"] * run["heads"]
        assert round(pairs) == run["allowed_pairs"] * run["heads"], run["mask"]


@pytest.mark.parametrize("kernel, head_dim, bound", BOUNDS)
def test_five_runs_predict_the_rest(tmp_path, kernel, head_dim, bound):
    runs, cal = tmp_path / "runs.json", tmp_path / "cal.json"
    timings = json.loads((SESSION / f"{kernel}.json").read_text())
    runs.write_text(json.dumps(tilesim_measurements.convert(timings, head_dim, "bf16", 5, "test")))
    tilesim("calibrate", "--kernel", kernel, "--head-dim", str(head_dim), "--measurements",
            str(runs), "--fit-runs", "5", "--out", str(cal))
    fit = json.loads(cal.read_text())["fit"]
    assert fit["fit_rms_relative_error"] < 0.05
    assert fit["holdout_rms_relative_error"] < bound


def test_unknown_masks_are_named():
    with pytest.raises(tilesim_measurements.MeasurementError, match="window:LEFT:RIGHT"):
        tilesim_measurements.pattern_for({"mask": "window:10", "seq_q": 1, "seq_kv": 1,
                                          "heads": 1})


def test_two_sided_windows_become_bands():
    run = {"mask": "window:200:50", "seq_q": 1000, "seq_kv": 1000, "heads": 1}
    result = json.loads(tilesim("bounds", tilesim_measurements.pattern_for(run)))["results"][0]
    expected = sum(min(q + 50, 999) - max(q - 200, 0) + 1 for q in range(1000))
    assert round(result["density_tokens"] * 1000 * 1000) == expected
