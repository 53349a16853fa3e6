"""validate_gpu's pipeline on a small synthetic dataset: 'measurements' are tilesim's own
predictions under a known cost model, so calibrating on the five base runs and one run per rule
must predict the held-out ones almost exactly, and a run made 30 % slower must show up as the
largest error."""
import importlib.util
import json
import os
import subprocess
from pathlib import Path

import pytest

from attnsim import gpu_validation

BUILD = Path(os.environ.get("ATTNSIM_BUILD_DIR",
                            Path(__file__).resolve().parents[2] / "build/default")).resolve()
TILESIM = BUILD / "sim" / "gpu" / "tilesim"

# Small shapes; the first five calibrate the base model, sliding_window-s1024-h4 its rule, the
# rest are held out.
ROLES = {"sliding_window-s1024-h4": "rule_calibration"}
CASES = {
    "dense-s4096-h32": ["dense", "--seq", "1024", "--heads", "4"],
    "dense-s32768-h8": ["dense", "--seq", "2048", "--heads", "4"],
    "causal-s16384-h16": ["causal", "--seq", "2048", "--heads", "4"],
    "random-s8192-h32": ["random", "--density", "0.3", "--seq", "1024", "--heads", "4"],
    "vertical_slash-s8192-h32": ["vertical_slash", "--verticals", "50", "--seq", "1024",
                                 "--heads", "4"],
    "sliding_window-s1024-h4": ["sliding_window", "--window", "128", "--seq", "1024", "--heads",
                                "4"],
    "causal-s1024-h4": ["causal", "--seq", "1024", "--heads", "4"],
    "sliding_window-s2048-h4": ["sliding_window", "--window", "256", "--seq", "2048", "--heads", "4"],
    "a_shape-s2048-h4": ["a_shape", "--sinks", "64", "--window", "256", "--seq", "2048", "--heads", "4"],
}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    if not TILESIM.is_file():
        pytest.skip(f"{TILESIM} not built")
    root = tmp_path_factory.mktemp("dataset")
    (root / "masks").mkdir()
    cases = []
    for name, args in CASES.items():
        subprocess.run([str(TILESIM), "gen", *args, "--seed", "1", "--format", "flex", "--out",
                        f"masks/{name}.npz"], cwd=root, check=True, capture_output=True)
        role = ROLES.get(name, "calibration" if len(cases) < 5 else "held_out")
        cases.append({"name": name, "family": name.split("-")[0], "mask": f"masks/{name}.npz",
                      "role": role})
    (root / "cases.json").write_text(json.dumps({"cases": cases}))
    predicted = json.loads(subprocess.run(
        [str(TILESIM), "predict", *[c["mask"] for c in cases], "--gpu", "h200", "--kernel",
         "golden", "--head-dim", "128"], cwd=root, check=True, capture_output=True,
        text=True).stdout)["results"]
    runs = []
    for case, result in zip(cases, predicted):
        ms = result["predicted_ms"] * (1.3 if case["name"] == "a_shape-s2048-h4" else 1.0)
        runs.append({"mask": case["mask"], "ms": ms, "head_dim": 128, "dtype": "bf16",
                     **({"rule": result["mask_rule"]} if result["mask_rule"] else {}),
                     "info": {"seq_q": result["seq_q"], "heads": result["heads"]}})
    for kernel in gpu_validation.KERNELS:
        (root / f"{kernel}.json").write_text(json.dumps({"gpu": "h200", "kernel": kernel,
                                                         "runs": runs}))
    return root


def test_held_out_runs_are_predicted_and_the_outlier_is_found(dataset):
    cases = {c["name"]: c for c in json.loads((dataset / "cases.json").read_text())["cases"]}
    rows = gpu_validation.validate_kernel(TILESIM, dataset, "golden", 128, cases)
    assert sum(r.in_fit for r in rows) == 6 and len(rows) == len(CASES)
    assert [r.role for r in rows][:6] == ["calibration"] * 5 + ["rule_calibration"]
    held = {r.case: r for r in rows if not r.in_fit}
    assert abs(held["causal-s1024-h4"].error) < 0.02
    assert abs(held["sliding_window-s2048-h4"].error) < 0.02
    worst = max(held.values(), key=lambda r: abs(r.error))
    assert worst.case == "a_shape-s2048-h4" and worst.error < -0.15  # measured 30 % slower
    dense = [r for r in rows if r.family == "dense"]
    assert all(abs(r.measured_speedup - 1.0) < 1e-9 for r in dense)


def test_main_writes_the_report_and_flags_the_missed_target(dataset, tmp_path):
    # --rule-runs-from none: the default (the flex-costs probe in the source tree) would have
    # validate_gpu regenerate that probe's masks there; a test writes only under tmp.
    assert gpu_validation.main(["--dataset", str(dataset), "--build-dir", str(BUILD),
                                "--out", str(tmp_path), "--rule-runs-from", "none"]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert all(not s["meets_target"] for s in summary["results"])  # the 30 % outlier
    # The report names the command that wrote it (golden/regenerate_validation.sh replays them).
    command = (f"scripts/validate_gpu.py --dataset {dataset} --build-dir {BUILD} --out {tmp_path} "
               "--rule-runs-from none")
    assert summary["command"] == command
    assert (tmp_path / "report.md").read_text().startswith(f"Written by `{command}`.")
    for name in ("validation.csv", "report.md", "predicted_vs_measured.png",
                 "speedup_vs_bound.png"):
        assert (tmp_path / name).stat().st_size > 0
    # The interactive report of the same run folder (plotly; attnsim.html_report).
    if importlib.util.find_spec("plotly") is not None:
        page = (tmp_path / "report.html").read_text()
        assert 'data-plots="2"' in page and "Predicted against measured" in page


def test_a_dataset_without_calibration_runs_is_a_clear_error(dataset, tmp_path, capsys):
    broken = json.loads((dataset / "golden.json").read_text())
    broken["runs"] = broken["runs"][1:]  # drop dense-s4096-h32
    (tmp_path / "masks").symlink_to(dataset / "masks")
    (tmp_path / "cases.json").write_text((dataset / "cases.json").read_text())
    for kernel in gpu_validation.KERNELS:
        (tmp_path / f"{kernel}.json").write_text(json.dumps(broken))
    assert gpu_validation.main(["--dataset", str(tmp_path), "--build-dir", str(BUILD),
                                "--out", str(tmp_path / "out"), "--rule-runs-from", "none"]) == 2
    assert "dense-s4096-h32" in capsys.readouterr().err
