"""DSE input and environment errors: unknown presets fail at the spec, an unreachable scheduler
fails fast with one line and no run folder, and temporaries of killed runs are cleaned up."""
import os
import re
import subprocess
import time

import pytest
import yaml

from dse_support import REPO, dse_command, env, free_port
from pyattnsim.dse.runner import remove_stale_temporaries
from pyattnsim.dse.spec import SpecError, load_spec

TILESIM = {"evaluator": "tilesim", "masks": {"c": "pattern:causal,seq=1024,heads=2"}}


def spec_file(tmp_path, body: dict):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


@pytest.mark.parametrize("body, key, expected", [
    ({**TILESIM, "gpus": ["h200", "h300"]}, "gpus[1]", "a gpu preset (a100, b200, h100, h200)"),
    ({**TILESIM, "kernels": ["fa9"]}, "kernels[0]", "a kernel preset (block_sparse_attn"),
    ({**TILESIM, "kernels": ["no/such/kernel.yaml"]}, "kernels[0]", "an existing kernel YAML"),
])
def test_unknown_gpu_and_kernel_presets_fail_at_the_spec(tmp_path, body, key, expected):
    path = spec_file(tmp_path, body)
    with pytest.raises(SpecError) as error:
        load_spec(path)
    message = str(error.value)
    assert re.match(rf"{re.escape(str(path))}:\d+: {re.escape(key)}: expected "
                    rf"{re.escape(expected)}", message), message


def test_errors_name_the_spec_line_and_duplicate_keys_are_refused(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("evaluator: tilesim\n"
                    "masks: {c: 'pattern:causal,seq=1024,heads=2'}\n"
                    "gpus:\n"
                    "  - h200\n"
                    "  - h300\n")
    with pytest.raises(SpecError) as error:
        load_spec(path)
    assert str(error.value).startswith(f"{path}:5: gpus[1]: expected a gpu preset"), error.value
    path.write_text("evaluator: tilesim\n"
                    "masks: {c: 'pattern:causal,seq=1024,heads=2'}\n"
                    "mode: bounds\n"
                    "mode: predict\n")
    with pytest.raises(SpecError) as error:
        load_spec(path)
    assert str(error.value) == (f"{path}:4: mode: expected each key once in a mapping, got a "
                                "second 'mode' (the first is on line 3)")


def test_an_unreachable_scheduler_is_one_line_exit_2_and_no_run_folder(tmp_path):
    path = spec_file(tmp_path, TILESIM)
    out = tmp_path / "run"
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    start = time.monotonic()
    run = subprocess.run(dse_command("run", path, "--out", out, "--scheduler", address),
                         env=env(), capture_output=True, text=True, cwd=REPO, timeout=60)
    assert run.returncode == 2, run.stderr
    assert run.stderr == f"dse: --scheduler {address}: cannot connect: Connection refused\n"
    assert not out.exists()
    assert time.monotonic() - start < 20
    run = subprocess.run(dse_command("run", path, "--out", out, "--scheduler", "h:x"),
                         env=env(), capture_output=True, text=True, cwd=REPO, timeout=60)
    assert run.returncode == 2 and "--scheduler: expected tcp://host:port" in run.stderr
    assert not out.exists()


def test_an_out_folder_that_cannot_be_made_is_exit_2_naming_it(tmp_path):
    path = spec_file(tmp_path, TILESIM)
    run = subprocess.run(dse_command("run", path, "--out", "/dev/null/run", "--serial"),
                         env=env(), capture_output=True, text=True, cwd=REPO, timeout=60)
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("dse: /dev/null/run"), run.stderr
    assert "Traceback" not in run.stderr


def test_temporaries_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = [tmp_path / f"results.csv.tmp-{gone.pid}",
             tmp_path / "plots" / f"p.tmp-{gone.pid}.png"]
    live = tmp_path / f"summary.json.tmp-{os.getpid()}"
    (tmp_path / "plots").mkdir()
    for path in (*stale, live, tmp_path / "results.csv"):
        path.write_text("x")
    assert sorted(remove_stale_temporaries(tmp_path)) == sorted(stale)
    assert not any(p.exists() for p in stale)
    assert live.exists() and (tmp_path / "results.csv").exists()
