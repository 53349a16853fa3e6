"""attnsim.gpu in the source tree: every way of giving a mask gives the CLI's numbers, torch-like
tensors are read without torch, errors are InputErrors; and the deprecated pyattnsim alias."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from dse_support import manifest_or_skip

REPO = Path(__file__).resolve().parents[2]
PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="module")
def gpu():
    manifest = manifest_or_skip()
    if manifest.python_module("attnsim_native") is None or manifest.tool("tilesim") is None:
        pytest.skip("this build has no attnsim_native or tilesim")
    import attnsim.gpu
    return attnsim.gpu


@pytest.fixture(scope="module")
def tilesim():
    return str(manifest_or_skip().tool("tilesim"))


class FakeTensor:
    """What attnsim.gpu may use of a torch tensor on a GPU: detach(), cpu(), numpy()."""

    def __init__(self, array, device="cuda"):
        self.array, self.device = np.asarray(array), device

    def detach(self):
        return self

    def cpu(self):
        return FakeTensor(self.array, "cpu")

    def numpy(self):
        if self.device != "cpu":
            raise TypeError("can't convert cuda tensor to numpy")
        return self.array

    def __array__(self, dtype=None):  # np.asarray on a CUDA tensor must not be what is used
        raise TypeError("__array__ on a tensor")


def _sliding_arrays(nb=6, heads=3):
    """Partial blocks q-1 and q, no full blocks: (nb + nb - 1) partial blocks per head."""
    kv_num = np.zeros((1, heads, nb), np.int32)
    kv_idx = np.zeros((1, heads, nb, nb), np.int32)
    for q in range(nb):
        cols = [b for b in (q - 1, q) if b >= 0]
        kv_num[0, :, q] = len(cols)
        kv_idx[0, :, q, :len(cols)] = cols
    return kv_num, kv_idx


def _cli(tilesim, *args) -> dict:
    done = subprocess.run([tilesim, *map(str, args), "--format", "json"], capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout)


def test_torch_like_blockmask_dict_and_path_agree_with_cli(gpu, tilesim, tmp_path):
    kv_num, kv_idx = _sliding_arrays()
    path = tmp_path / "sliding.npz"
    np.savez(path, kv_num_blocks=kv_num, kv_indices=kv_idx, BLOCK_SIZE=np.array([128, 128]),
             seq_lengths=np.array([768, 768]))
    expected = _cli(tilesim, "predict", path)["results"][0]
    # Hand count: 11 partial 128x128 blocks per head, 3 heads, each 2 tiles of flexattention's
    # 128x64.
    assert expected["tiles_partial"] == 11 * 3 * 2 and expected["tiles_full"] == 0

    torch_like = SimpleNamespace(kv_num_blocks=FakeTensor(kv_num), kv_indices=FakeTensor(kv_idx),
                                 full_kv_num_blocks=None, full_kv_indices=None,
                                 BLOCK_SIZE=(128, 128), seq_lengths=(768, 768))
    as_dict = {"kv_num_blocks": kv_num, "kv_indices": kv_idx, "BLOCK_SIZE": 128,
               "seq_lengths": (768, 768)}
    for mask in (torch_like, as_dict, path, str(path)):
        got = gpu.predict(mask, name=str(path)).to_dict()
        assert got == expected, type(mask)


def test_overrides_gpu_dict_and_calibration_name(gpu, tilesim, tmp_path):
    mask = "pattern:causal,seq=4096,heads=8"
    # A calibration for another GPU is refused by name as by path.
    with pytest.raises(gpu.InputError):
        gpu.predict(mask, gpu="h100", tile_kv=128, calibration="h200_flexattention_d128")
    cli = _cli(tilesim, "predict", mask, "--gpu", "h100", "--tile-kv", "128")
    result = gpu.predict(mask, gpu="h100", tile_kv=128)
    assert result.report() == cli
    assert result.kernel["tile_kv"] == 128 and result.gpu["name"] == "h100"

    import yaml
    h100 = yaml.safe_load((REPO / "sim/gpu/presets/gpus/h100.yaml").read_text())
    h100["name"] = "my_h100"
    mine = gpu.predict(mask, gpu=h100, tile_kv=128)
    assert mine.predicted_ms == result.predicted_ms and mine.gpu["name"] == "my_h100"

    cal = _cli(tilesim, "predict", mask, "--calibration",
               REPO / "sim/gpu/calibrations/h200_flexattention_d128.json")["results"][0]
    assert gpu.predict(mask, calibration="h200_flexattention_d128").to_dict() == cal
    assert cal["predicted_ms"] != gpu.predict(mask).predicted_ms


def test_errors_are_input_errors_with_parts(gpu):
    with pytest.raises(gpu.InputError) as error:
        gpu.predict("pattern:causal,seq=4096", no_such_option=3)
    assert error.value.field == "no_such_option" and "tile_q" in error.value.expected
    with pytest.raises(ValueError) as error:
        gpu.bounds({"kv_num_blocks": np.zeros((1, 1, 4), np.int32)})
    assert "mask dict" in str(error.value) and "attnsim-" not in str(error.value)
    with pytest.raises(gpu.InputError) as error:
        gpu.bounds(SimpleNamespace(kv_num_blocks=1, kv_indices=2, BLOCK_SIZE=(1, 2, 3)))
    assert error.value.field == "BLOCK_SIZE"
    with pytest.raises(gpu.InputError):
        gpu.bounds(3.5)


def test_pyattnsim_alias_is_the_same_package():
    code = ("import warnings; warnings.simplefilter('error', DeprecationWarning)\n"
            "try:\n    import pyattnsim\nexcept DeprecationWarning as w:\n    print('warned', w)\n")
    env = {"PYTHONPATH": str(REPO / "scripts"), "PATH": "/usr/bin:/bin",
           "PYTHONDONTWRITEBYTECODE": "1"}  # nothing written into the source tree
    done = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, env=env)
    assert done.stdout.startswith("warned") and "attnsim" in done.stdout, done.stderr
    code = ("import pyattnsim.mask_rules, attnsim.mask_rules, pyattnsim.dse.spec, attnsim.dse.spec\n"
            "print(pyattnsim.mask_rules is attnsim.mask_rules, "
            "pyattnsim.dse.spec is attnsim.dse.spec)")
    done = subprocess.run([PYTHON, "-W", "ignore", "-c", code], capture_output=True, text=True,
                          env=env)
    assert done.stdout.split() == ["True", "True"], done.stderr
    # `python3 -m pyattnsim.X` (old docs, H200 session scripts) still runs attnsim.X.
    done = subprocess.run([PYTHON, "-m", "pyattnsim.dse", "--help"], capture_output=True,
                          text=True, env=env)
    assert done.returncode == 0 and "run" in done.stdout, done.stderr


def test_timeline_as_chrome_trace_matches_the_csv(gpu, tilesim, tmp_path):
    from attnsim.chrome_trace import main, read_timeline_csv
    mask = "pattern:causal,seq=4096,heads=2"
    csv_path, out = tmp_path / "t.csv", tmp_path / "trace.json"
    subprocess.run([tilesim, "predict", mask, "--trace", str(csv_path)], check=True,
                   capture_output=True)
    assert main([str(csv_path), "--out", str(out)]) == 0
    trace = json.loads(out.read_text())
    items = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    _, columns = read_timeline_csv(csv_path)
    # Hand count: causal, 4096 tokens in 128-row tiles, 2 heads: 32 q tiles per head.
    assert len(items) == len(columns["slot"]) == 64
    last = max(items, key=lambda e: e["ts"] + e["dur"])
    assert last["ts"] + last["dur"] == pytest.approx(max(columns["end_us"]), abs=1e-5)
    assert {e["args"]["name"] for e in trace["traceEvents"]
            if e["name"] == "process_name"} >= {"SM 0"}
    in_memory = gpu.predict(mask, timeline=True).timeline.to_chrome_trace()
    got = [e for e in in_memory["traceEvents"] if e["ph"] == "X"]
    assert [(e["pid"], e["tid"], e["name"]) for e in got] == \
        [(e["pid"], e["tid"], e["name"]) for e in items]


RUNS = {"gpu": "h200", "kernel": "flexattention", "runs": [
    {"mask": "pattern:dense,seq=8192,heads=32", "ms": 2.6},
    {"mask": "pattern:dense,seq=32768,heads=32", "ms": 40.5},
    {"mask": "pattern:causal,seq=8192,heads=32", "ms": 1.45},
    {"mask": "pattern:causal_window,seq=16384,heads=32,window=2048", "ms": 1.2}]}


def test_calibrate_equals_the_cli_and_feeds_predict(gpu, tilesim, tmp_path):
    runs, cal_file = tmp_path / "runs.json", tmp_path / "cal.json"
    runs.write_text(json.dumps(RUNS))
    done = subprocess.run([tilesim, "calibrate", "--measurements", str(runs), "--out",
                           str(cal_file), "--fit-runs", "3"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    cal = gpu.calibrate(RUNS, "h200", "flexattention", fit_runs=3)  # a dict, not a file
    assert cal.to_dict() == json.loads(cal_file.read_text())
    assert cal.summary == done.stdout
    assert [r["in_fit"] for r in cal.runs] == [True, True, True, False]
    # The fitted model predicts the run it was fitted on near its measurement (4 runs, 3 fitted).
    dense = gpu.predict("pattern:dense,seq=32768,heads=32", calibration=cal)
    assert dense.predicted_ms == pytest.approx(40.5, rel=0.05)
    cli = _cli(tilesim, "predict", "pattern:dense,seq=32768,heads=32", "--calibration", cal_file)
    assert dense.to_dict() == cli["results"][0]


def test_accel_run_equals_spatten_sim(tmp_path):
    manifest = manifest_or_skip()
    tool = manifest.tool("spatten-sim")
    if tool is None:
        pytest.skip("this build has no spatten-sim")
    import attnsim.accel
    trace = REPO / "traces" / "attention" / "synthetic-sink-2x4x64x16.npz"
    done = subprocess.run([str(tool), str(trace), "--out", str(tmp_path / "run")],
                          capture_output=True, text=True,
                          env={"SYSTEMC_DISABLE_COPYRIGHT_MESSAGE": "1", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    stats = json.loads((tmp_path / "run" / "stats.json").read_text())
    result = attnsim.accel.run(trace)
    assert result.to_dict() == stats
    assert result.cycles == 10078  # sim/accel/README.md's number for this trace
    assert result.resolved_config == json.loads((tmp_path / "run" / "config.yaml").read_text())
    # A config dict: the preset with fewer HBM channels is slower; a bad field is an InputError.
    slower = attnsim.accel.run(trace, {"inherits": "spatten", "hbm": {"channels": 1}})
    assert slower.cycles > result.cycles
    with pytest.raises(attnsim.accel.InputError) as error:
        attnsim.accel.run(trace, {"inherits": "spatten", "hbm": {"channels": 0}})
    assert "config dict" in str(error.value) and "attnsim-accel-" not in str(error.value)


def test_tilesim_trace_json_is_the_chrome_trace_of_its_csv(tilesim, tmp_path):
    from attnsim.chrome_trace import chrome_trace, read_timeline_csv
    mask = "pattern:causal_window,seq=4096,heads=3,window=1024"
    done = subprocess.run([tilesim, "predict", mask, "--trace", str(tmp_path / "t.json"),
                           "--format", "table"], capture_output=True, text=True)
    assert done.returncode == 0 and not done.stderr, done.stderr
    subprocess.run([tilesim, "predict", mask, "--trace", str(tmp_path / "t.csv")], check=True,
                   capture_output=True)
    from_cli = json.loads((tmp_path / "t.json").read_text())
    _, columns = read_timeline_csv(tmp_path / "t.csv")
    from_csv = chrome_trace(columns, mask)
    assert from_cli["otherData"] == from_csv["otherData"]
    assert len(from_cli["traceEvents"]) == len(from_csv["traceEvents"])
    for a, b in zip(from_cli["traceEvents"], from_csv["traceEvents"]):
        assert {k: v for k, v in a.items() if k not in ("ts", "dur")} == \
            {k: v for k, v in b.items() if k not in ("ts", "dur")}
        if a["ph"] == "X":  # the CSV rounds times to 1e-6 us
            assert a["ts"] == pytest.approx(b["ts"], abs=2e-6)
            assert a["dur"] == pytest.approx(b["dur"], abs=4e-6)
    # The old spelling still works, with a deprecation line.
    old = subprocess.run([tilesim, "predict", mask, "--timeline", str(tmp_path / "o.csv")],
                         capture_output=True, text=True)
    assert old.returncode == 0 and "deprecated" in old.stderr
    assert (tmp_path / "o.csv").read_text() == (tmp_path / "t.csv").read_text()


def test_every_json_field_is_an_attribute(gpu, tilesim):
    mask = "pattern:causal_window,seq=4096,heads=2,window=1024"
    cli = _cli(tilesim, "predict", mask)["results"][0]
    result = gpu.predict(mask)
    for key, value in cli.items():
        assert getattr(result, key) == value, key
    with pytest.raises(AttributeError):
        result.no_such_field
