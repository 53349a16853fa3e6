"""attnsim's Python package (sim/bindings/README.md): tilesim in-process with typed results
(attnsim.gpu), spatten-sim runs (attnsim.accel), the demo, test summaries, the NumPy references,
GPU validation and design-space exploration (attnsim.dse). Needs NumPy only to import; runs on
Debian's /usr/bin/python3. Installed with `cmake --install` or `pip install .`, or used from a
checkout with PYTHONPATH=scripts/python."""
from pathlib import Path

__version__ = "0.1.0"

#: The repository root (scripts/python/attnsim/ is three levels below it). Only meaningful in a
#: checkout: an installed copy finds its data through attnsim.native instead.
REPO_ROOT = Path(__file__).resolve().parents[3]
