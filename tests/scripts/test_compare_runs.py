"""golden/hopper/compare_runs.py: masks at >= the reference's speed, median and worst ratios per
head dim, per-family medians; a file without runs is a clear error (exit 2 with its name)."""
import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "golden" / "hopper" / "compare_runs.py"


def write(path: Path, runs: list[tuple[str, int, float]]) -> Path:
    path.write_text(json.dumps({"runs": [{"mask": m, "head_dim": d, "ms": ms}
                                         for m, d, ms in runs]}))
    return path


def test_counts_ratios_and_families(tmp_path):
    ref = write(tmp_path / "flexattention.json",
                [("masks/causal-s4096-h32.npz", 64, 1.0), ("masks/gna-s4096-h32.npz", 64, 1.0),
                 ("masks/document-014-s8192-b1.npz", 64, 2.0)])
    kernel = write(tmp_path / "sm90.json",
                   [("masks/causal-s4096-h32.npz", 64, 0.5), ("masks/gna-s4096-h32.npz", 64, 2.0),
                    ("masks/document-014-s8192-b1.npz", 64, 2.0)])
    done = subprocess.run([sys.executable, str(SCRIPT), "--ref", str(ref), str(kernel)],
                          capture_output=True, text=True, check=True)
    assert "| sm90 | 64 | 3 | 2 | 1.000 | 0.500 (gna-s4096-h32) |" in done.stdout
    assert "| causal | 2.00 |" in done.stdout
    assert "| document | 1.00 |" in done.stdout


def test_a_file_without_runs_names_itself(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    done = subprocess.run([sys.executable, str(SCRIPT), "--ref", str(bad), str(bad)],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "bad.json" in done.stderr and "runs" in done.stderr


def test_reference_split_over_files_per_head_dim(tmp_path):
    """--ref given twice (FlexAttention's one file per head dim): both head dims compare."""
    ref64 = write(tmp_path / "flexattention-d64.json", [("masks/causal-s4096-h32.npz", 64, 1.0)])
    ref128 = write(tmp_path / "flexattention-d128.json",
                   [("masks/causal-s4096-h32.npz", 128, 3.0)])
    kernel = write(tmp_path / "sm90.json", [("masks/causal-s4096-h32.npz", 64, 2.0),
                                            ("masks/causal-s4096-h32.npz", 128, 1.0)])
    done = subprocess.run([sys.executable, str(SCRIPT), "--ref", str(ref64), "--ref", str(ref128),
                           str(kernel)], capture_output=True, text=True, check=True)
    assert "| sm90 | 64 | 1 | 0 | 0.500 | 0.500 (causal-s4096-h32) |" in done.stdout
    assert "| sm90 | 128 | 1 | 1 | 3.000 | 3.000 (causal-s4096-h32) |" in done.stdout
