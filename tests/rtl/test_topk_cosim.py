"""topk-cosim: runs clean, is deterministic, writes waveforms, rejects bad arguments with exit 2."""
import json
import os
import subprocess
from pathlib import Path

import pytest

from waveforms import announced_mb, fst_header

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("ATTNSIM_BUILD_DIR", REPO / "build" / "default"))
TOOL = (BUILD if BUILD.is_absolute() else REPO / BUILD) / "rtl" / "tools" / "topk-cosim"
pytestmark = pytest.mark.skipif(not TOOL.exists(),
                                reason=f"{TOOL} not built (Verilator missing or disabled)")


def run(*args):
    return subprocess.run([str(TOOL), *args], capture_output=True, text=True, timeout=300)


def test_random_jobs_match_and_the_json_is_deterministic(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    ra = run("--vectors", "300", "--seed", "9", "--lanes", "5", "--json", str(a))
    rb = run("--vectors", "300", "--seed", "9", "--lanes", "5", "--json", str(b))
    assert ra.returncode == 0, ra.stdout + ra.stderr
    assert "mismatches: 0 of 300 vectors" in ra.stdout
    assert a.read_bytes() == b.read_bytes()
    result = json.loads(a.read_text())
    assert result["mismatches"] == 0 and result["lanes"] == 5
    assert sum(g["vectors"] for g in result["groups"]) == 300
    # Without back-pressure the engine's cycles are the model's, group by group.
    assert all(g["engine_cycles_mean"] == g["model_cycles_mean"] for g in result["groups"])


def test_the_pipelined_engine_matches_and_is_faster(tmp_path):
    seq, pipe = tmp_path / "s.json", tmp_path / "p.json"
    common = ("--vectors", "200", "--seed", "4", "--n", "300", "--k", "40", "--gap-prob", "0",
              "--stall-prob", "0", "--scores", "uniform")
    rs = run(*common, "--json", str(seq))
    rp = run(*common, "--microarch", "pipelined", "--json", str(pipe))
    assert rs.returncode == 0 and rp.returncode == 0, rs.stderr + rp.stderr
    assert "pipelined" in rp.stdout and "mismatches: 0 of 200 vectors" in rp.stdout
    s, p = json.loads(seq.read_text()), json.loads(pipe.read_text())
    assert p["microarch"] == "pipelined" and s["microarch"] == "sequential"
    # n = 300 at P = 16: the fused load saves 19 rows and every later pass 2 cycles.
    assert p["groups"][0]["engine_cycles_mean"] < s["groups"][0]["engine_cycles_mean"] - 19


def test_the_overlapped_engine_matches_job_after_job_under_backpressure(tmp_path):
    out = tmp_path / "o.json"
    r = run("--vectors", "300", "--seed", "6", "--lanes", "5", "--microarch", "overlapped",
            "--json", str(out))
    assert r.returncode == 0, r.stderr
    assert "overlapped" in r.stdout and "mismatches: 0 of 300 vectors" in r.stdout
    result = json.loads(out.read_text())
    assert result["microarch"] == "overlapped" and result["mismatches"] == 0
    # Net of gaps, stalls and waiting for the previous job's output, a job takes its latency.
    assert all(g["engine_cycles_mean"] == g["model_cycles_mean"] for g in result["groups"])


def test_fixed_sizes_give_one_row_per_n_k(tmp_path):
    out = tmp_path / "r.json"
    r = run("--vectors", "40", "--n", "128,512", "--k", "64", "--gap-prob", "0",
            "--stall-prob", "0", "--json", str(out))
    assert r.returncode == 0, r.stderr
    groups = json.loads(out.read_text())["groups"]
    assert [(g["n"], g["k"], g["vectors"]) for g in groups] == [("128", "64", 20), ("512", "64", 20)]
    # Without gaps and stalls the measured cycles are the engine's own.
    assert all(g["rtl_cycles_mean"] == g["engine_cycles_mean"] for g in groups)


def test_trace_writes_a_vcd_and_nothing_else(tmp_path):
    vcd = tmp_path / "topk.vcd"
    r = run("--vectors", "20", "--n", "40", "--trace", str(vcd), "--trace-cycles", "500")
    assert r.returncode == 0, r.stderr
    text = vcd.read_text()
    assert "$enddefinitions" in text and "in_valid_i" in text and "out_last_o" in text
    assert "\n#999\n" in text and "\n#1000\n" not in text  # 500 of ~1,000 cycles, 2 dumps each
    assert sorted(p.name for p in tmp_path.iterdir()) == ["topk.vcd"]


def test_trace_fst_writes_a_valid_fst_and_says_its_size_first(tmp_path):
    fst = tmp_path / "topk.fst"
    r = run("--vectors", "200", "--trace", str(fst), "--trace-cycles", "1500")
    assert r.returncode == 0, r.stderr
    header = fst_header(fst)
    # Two dumps per cycle (clock low, clock high) from time 0: 1500 cycles end at time 2999.
    assert header["start_time"] == 0 and header["end_time"] == 2999
    assert header["vars"] > 20 and header["scopes"] >= 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["topk.fst"]
    # The estimate (said before the run) is within 30 % of what was written.
    size_mb = fst.stat().st_size / 1e6
    assert abs(announced_mb(r.stderr) - size_mb) <= 0.3 * size_mb, (r.stderr, size_mb)


def test_fst_is_far_smaller_than_vcd_of_the_same_cycles(tmp_path):
    vcd, fst = tmp_path / "t.vcd", tmp_path / "t.fst"
    common = ("--vectors", "100", "--lanes", "5", "--trace-cycles", "800", "--format", "json")
    rv = run(*common, "--trace", str(vcd))
    rf = run(*common, "--trace", str(fst))
    assert rv.returncode == 0 and rf.returncode == 0, rv.stderr + rf.stderr
    # The same RTL in both builds: the same cycles and results.
    assert json.loads(rv.stdout) == json.loads(rf.stdout)
    assert fst_header(fst)["end_time"] == 1599 and "\n#1599\n" in vcd.read_text()
    assert fst.stat().st_size * 5 < vcd.stat().st_size
    size_mb = vcd.stat().st_size / 1e6
    assert abs(announced_mb(rv.stderr) - size_mb) <= 0.3 * size_mb, (rv.stderr, size_mb)


@pytest.mark.parametrize("args, message", [
    (["--lanes", "7"], "Verilated attn_topk build"),
    (["--n", "0"], "positive integers"),
    (["--n", "5000"], "Verilated attn_topk build"),
    (["--gap-prob", "1.5"], "in [0, 1)"),
    (["--scores", "bogus"], "heavy-ties"),
    (["--microarch", "fast"], "sequential, pipelined or overlapped"),
    (["--vectors", "0"], "a positive integer"),
    (["--trace", "/nonexistent-dir/x.vcd", "--vectors", "1"], "cannot open"),
    (["--trace", "x.wave", "--vectors", "1"], "ending in .vcd or .fst"),
    (["--trace", "x.fst", "--trace-cycles", "0"], "--trace-cycles"),
])
def test_bad_arguments_exit_2_with_a_message(args, message):
    r = run(*args)
    assert r.returncode == 2 and message in r.stderr, (r.returncode, r.stderr)


def test_cases_are_n_k_pairs_as_in_topk_stats(tmp_path):
    r = run("--vectors", "40", "--lanes", "16", "--cases", "128:64,40:3", "--format", "json")
    assert r.returncode == 0, r.stderr
    groups = {(g["n"], g["k"]): g["vectors"] for g in json.loads(r.stdout)["groups"]}
    assert groups == {("128", "64"): 20, ("40", "3"): 20}  # pairs, in turn: no cross product
    r = run("--vectors", "4", "--cases", "8:2", "--n", "8")
    assert r.returncode == 2 and "either --cases or --n/--k" in r.stderr
    r = run("--vectors", "4", "--cases", "8:9")
    assert r.returncode == 2 and "n:k with 1 <= k <= n" in r.stderr
