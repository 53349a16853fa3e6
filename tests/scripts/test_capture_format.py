"""What capture_attention.py writes (compressed .npz, float32) is what the C++ reader accepts;
needs no torch."""
import importlib.util
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("capture_attention",
                                              REPO / "scripts" / "capture_attention.py")
capture_attention = importlib.util.module_from_spec(spec)
spec.loader.exec_module(capture_attention)
BUILD = Path(os.environ.get("ATTNSIM_BUILD_DIR", REPO / "build" / "default"))
TOOL = (BUILD if BUILD.is_absolute() else REPO / BUILD) / "sim" / "tools" / "spatten-trace"


def test_importing_the_script_does_not_need_torch():
    assert capture_attention.FORMAT_VERSION == 1


@pytest.mark.skipif(not TOOL.exists(), reason=f"spatten-trace not built at {TOOL}")
def test_saved_trace_is_read_by_the_cpp_reader(tmp_path):
    rng = np.random.default_rng(3)
    trace = {"format_version": np.int64(1),
             **{p: rng.normal(size=(2, 3, 12, 8)).astype(np.float32) for p in "qkv"},
             "causal": np.bool_(True), "prompt_tokens": np.int64(9)}
    capture_attention.save_trace(tmp_path / "t.npz", trace)
    assert not list(tmp_path.glob("*.tmp-*"))
    r = subprocess.run([str(TOOL), "validate", str(tmp_path / "t.npz")], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    assert "2 layers x 3 heads x 12 tokens x 8 dims, causal, prompt 9" in r.stdout
    r = subprocess.run([str(TOOL), "derive", "--trace", str(tmp_path / "t.npz"), "--out",
                        str(tmp_path / "w.csv")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    # 4 iterations (prompt 9 + 3 generated) x 2 layers x 3 heads, plus header and config line
    assert len((tmp_path / "w.csv").read_text().splitlines()) == 1 + 4 * 2 * 3 + 1


def test_bundled_sample_trace_is_what_its_generator_makes():
    from attnsim import synthetic_trace
    sample = np.load(REPO / "traces" / "attention" / "synthetic-sink-2x4x64x16.npz")
    q, k, v = synthetic_trace.structured_qkv("sink", 2, 4, 64, 16, seed=1)
    expected = synthetic_trace.trace_arrays(q, k, v, True, 56, np.float32)
    assert sorted(sample.files) == sorted(expected)
    for name, array in expected.items():
        assert np.array_equal(sample[name], array), (
            f"{name} differs: regenerate with the command in traces/README.md")
