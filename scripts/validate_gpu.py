#!/usr/bin/python3
"""Entry point: tilesim's predictions against the H200 measurements (see attnsim.gpu_validation).

    scripts/validate_gpu.py [--dataset golden/results/h200/2026-11-23-dataset] [--out DIR]
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "python"))
from attnsim.gpu_validation import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
