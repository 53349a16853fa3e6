"""NATTEN's published kernel times calibrate tilesim and predict the held-out ones.

Per GPU, the NATTEN preset is fitted (`tilesim calibrate`) on four of the docs' measured kernel
times (1-D neighborhood and blocked, FLUX and HunyuanVideo GNA) and predicts the other three
(1-D strided, FLUX and HunyuanVideo NA), all from sim/gpu/validation/gna_published.json. Needs
the built `tilesim` (ATTNSIM_BUILD_DIR, default build/default); skips without it."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from attnsim import REPO_ROOT
from attnsim.gna_published import DATA, pattern

BUILD = Path(os.environ.get("ATTNSIM_BUILD_DIR", REPO_ROOT / "build" / "default"))
TILESIM = BUILD / "sim" / "gpu" / "tilesim"
pytestmark = pytest.mark.skipif(not TILESIM.exists(),
                                reason=f"tilesim is not built ({TILESIM} missing)")

FIT = ["1d-32k-w2k-s2k", "1d-32k-w2k", "2d-flux-gna", "3d-hunyuan-gna"]
HELD_OUT = ["1d-32k-w2k-s256", "2d-flux-na", "3d-hunyuan-na"]


@pytest.mark.parametrize("gpu,kernel", [("h100", "natten_hopper"), ("b200", "natten_blackwell")])
def test_four_published_runs_predict_the_other_three(tmp_path, gpu, kernel):
    rows = {r["id"]: r for r in json.loads(DATA.read_text())["rows"]}
    runs = [{"mask": pattern(rows[f"{name}-{gpu}"]), "ms": rows[f"{name}-{gpu}"]["kernel_us"] / 1e3,
             "head_dim": 128, "dtype": "bf16"} for name in FIT + HELD_OUT]
    measurements = tmp_path / "runs.json"
    measurements.write_text(json.dumps({"gpu": gpu, "kernel": kernel, "runs": runs}))
    out = tmp_path / "cal.json"
    subprocess.run([str(TILESIM), "calibrate", "--gpu", gpu, "--kernel", kernel, "--measurements",
                    str(measurements), "--fit-runs", str(len(FIT)), "--out", str(out)],
                   check=True, capture_output=True, text=True)
    fit = json.loads(out.read_text())["fit"]
    assert fit["fit_rms_relative_error"] <= 0.05
    # Held out: the three kernel times none of the fitted numbers saw, within 10 %.
    assert fit["holdout_max_relative_error"] <= 0.10
