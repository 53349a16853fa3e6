"""topk-stats and softmax-error: they run, are deterministic, and reject bad arguments with exit 2."""
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("ATTNSIM_BUILD_DIR", REPO / "build" / "default"))
TOOLS = (BUILD if BUILD.is_absolute() else REPO / BUILD) / "sim" / "tools"
pytestmark = pytest.mark.skipif(not (TOOLS / "topk-stats").exists(),
                                reason=f"tools not built in {TOOLS} (set ATTNSIM_BUILD_DIR)")


def run(tool, *args):
    return subprocess.run([str(TOOLS / tool), *args], capture_output=True, text=True)


def test_topk_stats_prints_one_row_per_case_and_is_deterministic():
    a = run("topk-stats", "--trials", "50", "--cases", "64:8,100:100", "--seed", "4")
    b = run("topk-stats", "--trials", "50", "--cases", "64:8,100:100", "--seed", "4")
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout
    rows = [line.split() for line in a.stdout.splitlines() if not line.startswith(("#", " n"))]
    rows = [r for r in rows if r and r[0].isdigit()]
    assert [(r[0], r[1]) for r in rows] == [("64", "8"), ("100", "100")]


@pytest.mark.parametrize("args, message", [
    (["--cases", "10:20"], "n:k with 1 <= k <= n"),
    (["--cases", "abc"], "n:k with 1 <= k <= n"),
    (["--trials", "0"], "a positive integer"),
    (["--lanes", "0"], "topk.lanes"),
    (["--lanes", "x"], "lanes"),
])
def test_topk_stats_rejects_bad_arguments(args, message):
    r = run("topk-stats", *args)
    assert r.returncode == 2 and message in r.stderr, r.stderr


def test_softmax_error_runs_and_rejects_bad_arguments():
    r = run("softmax-error", "--trials", "2", "--n", "64")
    assert r.returncode == 0, r.stderr
    assert "<- default" in r.stdout and "prob bits" in r.stdout
    r = run("softmax-error", "--n", "0")
    assert r.returncode == 2 and "positive integers" in r.stderr
