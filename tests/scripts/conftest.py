"""Makes scripts/python/ importable when pytest runs without scripts/attnsim's PYTHONPATH."""
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts" / "python"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))
