"""attnsim's Python package: run folders, the demo, test summaries, and (as they land) the NumPy
references, validation and design-space-exploration scripts. Runs on Debian's /usr/bin/python3."""
from pathlib import Path

__version__ = "0.1.0"

#: The repository root (scripts/python/attnsim/ is three levels below it).
REPO_ROOT = Path(__file__).resolve().parents[3]
