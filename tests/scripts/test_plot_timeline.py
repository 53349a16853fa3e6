"""The timeline plot: busy-slot curve in closed form, PNG output, clear errors."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from attnsim import REPO_ROOT, plot_timeline

BUILD = Path(os.environ.get("ATTNSIM_BUILD_DIR", REPO_ROOT / "build" / "default"))
TILESIM = BUILD / "sim" / "gpu" / "tilesim"
HEADER = ",".join(plot_timeline.COLUMNS)


def test_busy_slots_counts_running_items():
    # Items [0,2), [0,1), [1,3): 2 busy until t=2 (one ends at 1 as another starts), then 1.
    times, running = plot_timeline.busy_slots(np.array([0.0, 0.0, 1.0]), np.array([2.0, 1.0, 3.0]))
    assert times.tolist() == [0.0, 0.0, 1.0, 1.0, 2.0, 3.0]
    assert running.tolist() == [1, 2, 1, 2, 1, 0]


def test_plot_writes_a_png(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text(HEADER + "\n" + "\n".join(
        f'"m",{s},{s},0,0,{i},{i * 1.0},{i * 1.0 + 2},3,1,0' for i, s in enumerate([0, 1, 0, 1])))
    out = tmp_path / "t.png"
    assert plot_timeline.main([str(csv), "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob("*.tmp-*"))


def test_bad_timelines_are_named(tmp_path, capsys):
    csv = tmp_path / "bad.csv"
    csv.write_text("a,b\n1,2\n")
    assert plot_timeline.main([str(csv), "--out", str(tmp_path / "x.png")]) == 2
    assert "bad.csv: not a tilesim timeline" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


@pytest.mark.skipif(not TILESIM.exists(), reason=f"tilesim is not built ({TILESIM} missing)")
def test_plot_of_a_real_timeline(tmp_path):
    csv, png = tmp_path / "timeline.csv", tmp_path / "timeline.png"
    subprocess.run([str(TILESIM), "predict", "pattern:causal,seq=8192,heads=8",
                    "--trace", str(csv)], check=True, capture_output=True)
    frame = plot_timeline.read_timeline(csv)
    assert len(frame) == 8 * 64
    assert plot_timeline.main([str(csv), "--out", str(png)]) == 0
    assert png.stat().st_size > 10_000
