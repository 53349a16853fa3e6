"""spatten-sim --topk-engine rtl: the Verilated top-k engines inside the SystemC model give exactly
the behavioural model's statistics, write waveforms on request, and refuse what the RTL cannot run.
"""
import os
import subprocess
from pathlib import Path

import pytest

from waveforms import announced_mb, fst_header

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("ATTNSIM_BUILD_DIR", REPO / "build" / "default"))
BUILD = BUILD if BUILD.is_absolute() else REPO / BUILD
SIM = BUILD / "sim" / "accel" / "spatten-sim"
COSIM = BUILD / "rtl" / "tools" / "topk-cosim"  # exists only in builds with the RTL
WORKLOAD = REPO / "traces" / "spatten" / "summary-gpt2-small-wikitext2-per8.csv"
pytestmark = pytest.mark.skipif(not (SIM.exists() and COSIM.exists()),
                                reason="spatten-sim with the Verilated RTL is not built here")


def run(*args):
    env = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")
    return subprocess.run([str(SIM), *map(str, args)], capture_output=True, text=True, env=env,
                          timeout=600)


@pytest.mark.parametrize("config", ["spatten", "spatten-1-8", "spatten-paper"])
def test_rtl_engines_give_identical_stats_on_gpt2_small(tmp_path, config):
    behavioural, rtl = tmp_path / "behavioural", tmp_path / "rtl"
    a = run("--preset", config, "--out", behavioural, WORKLOAD)
    b = run("--preset", config, "--topk-engine", "rtl", "--out", rtl, WORKLOAD)
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    assert "Verilated RTL" in b.stderr
    assert (behavioural / "stats.json").read_bytes() == (rtl / "stats.json").read_bytes()
    assert (behavioural / "config.yaml").read_bytes() == (rtl / "config.yaml").read_bytes()


def test_waveforms_of_both_engines(tmp_path):
    vcd = tmp_path / "topk.vcd"
    r = run("--topk-engine", "rtl", "--trace", vcd, "--trace-cycles", "3000", WORKLOAD)
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["topk-importance.vcd", "topk.vcd"]  # no temporary files left
    for path in tmp_path.iterdir():
        text = path.read_text()
        assert "$enddefinitions" in text and "out_valid_o" in text
        assert "\n#5999\n" in text and "\n#6000\n" not in text
    # The expected size, said before the run, within 30 % of each file written.
    for path in tmp_path.iterdir():
        size_mb = path.stat().st_size / 1e6
        assert abs(announced_mb(r.stderr) - size_mb) <= 0.3 * size_mb, (r.stderr, size_mb)


def test_fst_waveforms_of_both_engines(tmp_path):
    fst = tmp_path / "topk.fst"
    r = run("--topk-engine", "rtl", "--trace", fst, "--trace-cycles", "3000", WORKLOAD)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["topk-importance.fst", "topk.fst"]
    for path in tmp_path.iterdir():
        header = fst_header(path)
        assert header["start_time"] == 0 and header["end_time"] == 5999  # 3000 cycles, 2 dumps
        size_mb = path.stat().st_size / 1e6
        assert abs(announced_mb(r.stderr) - size_mb) <= 0.3 * size_mb, (r.stderr, size_mb)


@pytest.mark.parametrize("extra, message", [
    (["--topk-engine", "verilog"], "behavioural or rtl"),
    (["--trace", "x.vcd"], "--topk-engine rtl"),
    (["--topk-trace", "x.vcd"], "--topk-engine rtl"),  # the old spelling, deprecated
    (["--topk-engine", "rtl", "--trace", "/nonexistent-dir/x.vcd"], "cannot open"),
    (["--topk-engine", "rtl", "--trace", "x.lxt"], "ending in .vcd or .fst"),
])
def test_bad_options_exit_2(tmp_path, extra, message):
    r = run(*extra, WORKLOAD)
    assert r.returncode == 2 and message in r.stderr, r.stderr


def test_a_config_without_an_rtl_build_is_refused(tmp_path):
    config = tmp_path / "seven-lanes.yaml"
    config.write_text("inherits: spatten\nname: seven-lanes\ntopk:\n  lanes: 7\n")
    r = run("--preset", config, "--topk-engine", "rtl", "--out", tmp_path / "run", WORKLOAD)
    assert r.returncode == 2 and "Verilated attn_topk build" in r.stderr, r.stderr
    assert not (tmp_path / "run").exists()
