"""Run folders: every run writes its inputs, provenance and results into one new folder."""
from __future__ import annotations

import datetime as _dt
import json
import os
import subprocess
from pathlib import Path

from . import REPO_ROOT


def git_revision(root: Path = REPO_ROOT) -> str:
    """`<hash>` or `<hash>-dirty`; "unknown" outside a git checkout."""
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], check=True,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                                "--untracked-files=no"], check=True, capture_output=True,
                               text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}-dirty" if dirty else head


def new_run_folder(parent: Path, kind: str, now: _dt.datetime | None = None) -> Path:
    """Creates `<parent>/<kind>-YYYYmmdd-HHMMSS[-N]`, never reusing an existing folder."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    stem = f"{kind}-{now.strftime('%Y%m%d-%H%M%S')}"
    parent.mkdir(parents=True, exist_ok=True)
    for n in range(1000):
        folder = parent / (stem if n == 0 else f"{stem}-{n}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise RuntimeError(f"{parent}: could not create a new run folder for {stem}")


def write_json_atomically(path: Path, value) -> None:
    """Writes JSON (sorted keys, 2-space indent) via a temporary file, so readers never see half."""
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
