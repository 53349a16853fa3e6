"""DSE input and environment errors: unknown presets fail at the spec, an unreachable scheduler
fails fast with one line and no run folder, and temporaries of killed runs are cleaned up."""
import copy
import os
import re
import subprocess
import time

import numpy as np
import pytest
import yaml

from dse_support import REPO, dse_command, env, free_port
from attnsim.dse.runner import remove_stale_temporaries
from attnsim.dse.spec import SpecError, load_spec

TILESIM = {"evaluator": "tilesim", "masks": {"c": "pattern:causal,seq=1024,heads=2"}}


def spec_file(tmp_path, body: dict):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


@pytest.mark.parametrize("body, key, expected", [
    ({**TILESIM, "gpus": ["h200", "h300"]}, "gpus[1]", "a gpu preset (a100, b200, h100, h200)"),
    ({**TILESIM, "kernels": ["fa9"]}, "kernels[0]", "a kernel preset (block_sparse_attn"),
    ({**TILESIM, "kernels": ["no/such/kernel.yaml"]}, "kernels[0]", "an existing kernel YAML"),
    ({**TILESIM, "gpus": ["g" * 300 + ".yaml"]}, "gpus[0]", "an existing gpu YAML"),
    ({"evaluator": "spatten", "workloads": ["w" * 300 + ".csv"]}, "workloads[0]",
     "an existing workload"),
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


ODD_VALUES = [None, 0, -1, 2**63, 1e308, float("nan"), "", "x", [], [1, "a"], {}, {"a": 1},
              True, "pattern:", "{seq}", "../../etc/passwd", "h" * 300]


def _mutations(node, rng, count):
    """Copies of a spec tree with one value replaced, one key dropped or one key added."""
    paths = []

    def walk(value, path):
        paths.append(path)
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, path + [k])
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, path + [i])
    walk(node, [])
    for _ in range(count):
        tree = copy.deepcopy(node)
        path = paths[rng.integers(len(paths))]
        parent, leaf = None, tree
        for step in path:
            parent, leaf = leaf, leaf[step]
        action = rng.integers(3)
        if action == 0 and parent is not None:
            parent[path[-1]] = ODD_VALUES[rng.integers(len(ODD_VALUES))]
        elif action == 1 and isinstance(leaf, dict) and leaf:
            del leaf[list(leaf)[rng.integers(len(leaf))]]
        elif isinstance(leaf, dict):
            leaf["extra" if rng.integers(2) else 7] = ODD_VALUES[rng.integers(len(ODD_VALUES))]
        yield tree


@pytest.mark.parametrize("example", ["gpu_heatmap.yaml", "spatten_pareto.yaml"])
def test_mutated_specs_are_spec_errors_never_other_exceptions(tmp_path, example):
    """A mutation fuzz of the spec reader: seeded, 40 specs per example by default (about a
    second); ATTNSIM_DSE_FUZZ_SPECS=2000 runs longer."""
    source = REPO / "scripts" / "python" / "attnsim" / "dse" / "examples" / example
    base = yaml.safe_load(source.read_text())
    rng = np.random.default_rng(17)
    outcomes = {"ok": 0, "error": 0}
    count = int(os.environ.get("ATTNSIM_DSE_FUZZ_SPECS", "40"))
    for i, tree in enumerate(_mutations(base, rng, count)):
        path = tmp_path / f"m{i}.yaml"
        path.write_text(yaml.safe_dump(tree))
        try:
            load_spec(path)
            outcomes["ok"] += 1
        except SpecError as error:
            assert str(error).startswith(str(path)), error
            outcomes["error"] += 1
    assert outcomes["error"] > 0 and outcomes["ok"] > 0, outcomes
