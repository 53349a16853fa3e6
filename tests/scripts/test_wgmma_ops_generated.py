"""golden/hopper/wgmma_ops.inc is what golden/hopper/gen_wgmma_ops.py writes (generated source is
never edited by hand)."""
import subprocess
import sys
from pathlib import Path

HOPPER = Path(__file__).resolve().parents[2] / "golden" / "hopper"


def test_the_committed_wgmma_wrappers_are_what_the_generator_writes():
    written = subprocess.run([sys.executable, str(HOPPER / "gen_wgmma_ops.py")],
                             capture_output=True, text=True, check=True).stdout
    assert written == (HOPPER / "wgmma_ops.inc").read_text(), \
        "stale: golden/hopper/gen_wgmma_ops.py > golden/hopper/wgmma_ops.inc"
