"""Shared helpers of the DSE tests: the build under test, small specs, child-process cleanup."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts" / "python"
PYTHON = "/usr/bin/python3"
GPT2 = "traces/spatten/summary-gpt2-small-wikitext2-per8.csv"


def build_dir() -> Path:
    return Path(os.environ.get("ATTNSIM_BUILD_DIR", REPO / "build" / "default"))


def manifest_or_skip():
    from attnsim.build_manifest import ManifestError, load_manifest
    try:
        return load_manifest(build_dir())
    except ManifestError as error:
        pytest.skip(str(error))


def env() -> dict:
    return dict(os.environ, PYTHONPATH=str(SCRIPTS), MPLBACKEND="Agg",
                SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1", ATTNSIM_BUILD_DIR=str(build_dir()))


def dse_command(*args) -> list[str]:
    return [PYTHON, "-m", "attnsim.dse", *map(str, args)]


def spatten_spec(path: Path, lanes: list[int], channels: list[int], extra: str = "") -> Path:
    path.write_text(f"""name: {path.stem}
evaluator: spatten
fast: true
workloads: [{GPT2}]
parameters:
  topk.lanes: {{values: {lanes}}}
  hbm.channels: {{values: {channels}}}
{extra}""")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kill_group(process: subprocess.Popen) -> None:
    """Kills a child started with start_new_session=True and everything it started."""
    # Even after the leader exited, its group may hold orphans (Dask workers, spatten-sim).
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def store_rows(path: Path) -> list[tuple]:
    import sqlite3
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return db.execute("SELECT key, status FROM points").fetchall()
    except sqlite3.OperationalError:  # the table is not there yet
        return []
    finally:
        db.close()

