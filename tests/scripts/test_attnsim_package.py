"""The installed package (issue #14, done-when): `cmake --install` and `pip install .` each give an
importable attnsim outside the source tree, whose attnsim.gpu.predict on a BlockMask-like object
made of NumPy arrays equals the tilesim CLI's JSON for the same mask written as an .npz.

Nothing is written into the source tree: installs, venvs, masks and copies live in tmp_path.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from dse_support import build_dir, manifest_or_skip

REPO = Path(__file__).resolve().parents[2]
PYTHON = "/usr/bin/python3"
SEQ, BLOCK, HEADS = 1024, 128, 2
NB = SEQ // BLOCK

# The BlockMask the child process builds: head 0 causal (block q: full blocks 0..q-1, partial q),
# head 1 a window of 3 blocks (full q-1, partial q-2 and q), int32 as torch stores them.
MASK_SOURCE = f"""
import numpy as np
from types import SimpleNamespace
NB, HEADS = {NB}, {HEADS}
kv_num = np.zeros((1, HEADS, NB), np.int32); kv_idx = np.zeros((1, HEADS, NB, NB), np.int32)
full_num = np.zeros((1, HEADS, NB), np.int32); full_idx = np.zeros((1, HEADS, NB, NB), np.int32)
for q in range(NB):
    rows = {{0: (list(range(q)), [q]),
            1: ([q - 1] if q >= 1 else [], [b for b in (q - 2, q) if b >= 0])}}
    for h, (full, partial) in rows.items():
        full_num[0, h, q] = len(full); full_idx[0, h, q, :len(full)] = full
        kv_num[0, h, q] = len(partial); kv_idx[0, h, q, :len(partial)] = partial
block_mask = SimpleNamespace(kv_num_blocks=kv_num, kv_indices=kv_idx,
                             full_kv_num_blocks=full_num, full_kv_indices=full_idx,
                             BLOCK_SIZE=({BLOCK}, {BLOCK}), seq_lengths=({SEQ}, {SEQ}))
"""
# Hand counts of the mask above: causal has NB*(NB-1)/2 full and NB partial blocks; the window
# has NB-1 full and 2*NB-2 partial blocks.
FULL_TILES_BLOCKS = NB * (NB - 1) // 2 + (NB - 1)
PARTIAL_TILES_BLOCKS = NB + 2 * NB - 2


def _tool_or_skip(manifest, name):
    path = manifest.tool(name)
    if path is None:
        pytest.skip(f"this build has no {name}")
    return path


def _native_or_skip(manifest):
    if manifest.python_module("attnsim_native") is None:
        pytest.skip("this build has no attnsim_native")


def _clean_env() -> dict:
    """No PYTHONPATH into the source tree, no build dir: the installed copy must stand alone."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "ATTNSIM_BUILD_DIR", "PYTHONSAFEPATH")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _source_status() -> str:
    return subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--ignored",
                           "--untracked-files=all", "scripts", "sim", "tests", "pyproject.toml"],
                          capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def cmake_install(tmp_path_factory):
    manifest = manifest_or_skip()
    _native_or_skip(manifest)
    prefix = tmp_path_factory.mktemp("cmake-install") / "prefix"
    # The component the package is in (a whole install also needs every tool built).
    subprocess.run(["cmake", "--install", str(build_dir()), "--prefix", str(prefix),
                    "--component", "python"], check=True, capture_output=True)
    (site,) = [p.parent for p in prefix.glob("lib/python*/*-packages/attnsim")]
    env = dict(_clean_env(), PYTHONPATH=str(site))
    return PYTHON, env, site


@pytest.fixture(scope="module")
def pip_install(tmp_path_factory):
    manifest = manifest_or_skip()
    _native_or_skip(manifest)
    work = tmp_path_factory.mktemp("pip-install")
    # pip builds in the source folder (egg-info, build/): build a copy of what the wheel needs.
    src = work / "src"
    shutil.copytree(REPO / "scripts" / "python" / "attnsim", src / "scripts/python/attnsim",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for part in ("sim/gpu/presets", "sim/gpu/calibrations"):
        shutil.copytree(REPO / part, src / part)
    (src / "sim/bindings").mkdir(parents=True)
    shutil.copy(REPO / "sim/bindings/README.md", src / "sim/bindings/README.md")
    shutil.copy(REPO / "pyproject.toml", src / "pyproject.toml")
    venv = work / "venv"
    subprocess.run([PYTHON, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    done = subprocess.run([python, "-m", "pip", "install", "--no-build-isolation", "--no-deps",
                           "--no-index", "-q", str(src)], cwd=work, capture_output=True,
                          text=True, env=dict(_clean_env(), ATTNSIM_BUILD_DIR=str(build_dir())))
    if done.returncode != 0 and "No module named pip" in done.stderr:
        pytest.skip("this python has no pip (python3-pip)")
    assert done.returncode == 0, done.stdout + done.stderr
    (site,) = [p.parent for p in venv.glob("lib/python*/site-packages/attnsim")]
    return python, _clean_env(), site


CHILD = MASK_SOURCE + """
import json, sys
from pathlib import Path
import attnsim, attnsim.gpu, attnsim.native
repo, npz = Path(sys.argv[1]), sys.argv[2]
for module in (attnsim, attnsim.native.module()):
    assert not Path(module.__file__).resolve().is_relative_to(repo), module.__file__
r = attnsim.gpu.predict(block_mask, gpu="h200", kernel="flexattention", name=npz, timeline=True)
b = attnsim.gpu.bounds(block_mask, name=npz)
print(json.dumps({"predict": r.report(), "bounds": b.to_dict(),
                  "attrs": [r.tiles_full, r.tiles_partial, r.predicted_ms],
                  "timeline": r.timeline.to_dict(),
                  "native": attnsim.native.module().__file__, "package": attnsim.__file__}))
"""


def _write_npz_like_the_readme(path: Path):
    """The mask as a kernel author exports it for the CLI (sim/gpu/README.md, format (b))."""
    namespace: dict = {}
    exec(MASK_SOURCE, namespace)
    bm = namespace["block_mask"]
    np.savez(path, kv_num_blocks=bm.kv_num_blocks, kv_indices=bm.kv_indices,
             full_kv_num_blocks=bm.full_kv_num_blocks, full_kv_indices=bm.full_kv_indices,
             BLOCK_SIZE=np.array(bm.BLOCK_SIZE), seq_lengths=np.array(bm.seq_lengths))


@pytest.mark.parametrize("installer", ["cmake_install", "pip_install"])
def test_installed_predict_equals_cli(installer, request, tmp_path):
    before = _source_status()
    python, env, site = request.getfixturevalue(installer)
    tilesim = _tool_or_skip(manifest_or_skip(), "tilesim")
    npz = tmp_path / "mask.npz"
    _write_npz_like_the_readme(npz)

    done = subprocess.run([python, "-c", CHILD, str(REPO), str(npz)], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert Path(got["package"]).resolve().is_relative_to(site.resolve())
    assert Path(got["native"]).resolve().is_relative_to(site.resolve())

    timeline_csv = tmp_path / "timeline.csv"
    cli = json.loads(subprocess.run(
        [str(tilesim), "predict", str(npz), "--gpu", "h200", "--kernel", "flexattention",
         "--format", "json", "--trace", str(timeline_csv)],
        check=True, capture_output=True, text=True).stdout)
    assert got["predict"] == cli
    cli_bounds = json.loads(subprocess.run(
        [str(tilesim), "bounds", str(npz), "--format", "json"], check=True, capture_output=True,
        text=True).stdout)
    assert got["bounds"] == cli_bounds["results"][0]
    assert "predicted_ms" not in got["bounds"]

    # The attributes are the JSON's fields, and the counts are the hand counts of the mask (the
    # flexattention kernel's 128x64 tiles split each 128x128 block in two).
    assert got["attrs"] == [cli["results"][0]["tiles_full"], cli["results"][0]["tiles_partial"],
                            cli["results"][0]["predicted_ms"]]
    assert got["attrs"][0] == 2 * FULL_TILES_BLOCKS
    assert got["attrs"][1] == 2 * PARTIAL_TILES_BLOCKS

    rows = np.genfromtxt(timeline_csv, delimiter=",", names=True, dtype=None, encoding="utf-8")
    timeline = got["timeline"]
    assert len(timeline["slot"]) == len(rows) == cli["results"][0]["work_items"]
    for column in ("slot", "sm", "head", "q_tile", "tiles_full", "tiles_partial"):
        assert timeline[column] == rows[column].tolist(), column
    np.testing.assert_allclose(timeline["end_us"], rows["end_us"], atol=1e-6)
    assert _source_status() == before


def test_installed_errors_name_the_argument(cmake_install, tmp_path):
    python, env, _ = cmake_install
    child = MASK_SOURCE + """
import json
import attnsim.gpu
from attnsim.errors import InputError
out = {}
try:
    attnsim.gpu.predict(block_mask, gpu="no_such_gpu")
except InputError as e:
    out["gpu"] = [str(e), e.file, isinstance(e, ValueError)]
block_mask.kv_indices = block_mask.kv_indices[..., :3]
try:
    attnsim.gpu.bounds(block_mask)
except InputError as e:
    out["shape"] = [str(e), e.file, e.field, e.expected]
print(json.dumps(out))
"""
    done = subprocess.run([python, "-c", child], cwd=tmp_path, env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    message, file, is_value_error = out["gpu"]
    assert "--gpu" not in message and file == "gpu argument" and is_value_error
    assert "no_such_gpu" in message and "h200" in message  # the known presets are listed
    message, file, field, expected = out["shape"]
    assert file == "SimpleNamespace" and "attnsim-" not in message  # not the scratch file
    assert field and expected, message


def test_installed_tool_reports_with_the_installed_package(tmp_path):
    """`cmake --install` puts the tools and the package side by side: an installed tool's --out
    DIR gets report.html drawn by the installed copy of attnsim.html_report (found next to the
    executable, before the source tree the build came from)."""
    pytest.importorskip("plotly")
    manifest = manifest_or_skip()
    _tool_or_skip(manifest, "tilesim")
    before = _source_status()
    prefix = tmp_path / "prefix"
    done = subprocess.run(["cmake", "--install", str(build_dir()), "--prefix", str(prefix)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (module,) = prefix.glob("lib/python*/*-packages/attnsim/html_report.py")
    # Marks the installed copy, so the page says which copy drew it.
    text = module.read_text()
    assert text.count('"attnsim run report: ') == 1
    module.write_text(text.replace('"attnsim run report: ', '"attnsim run report (installed): '))
    run = subprocess.run([str(prefix / "bin" / "tilesim"), "predict",
                          "pattern:causal,seq=2048,heads=2", "--out", str(tmp_path / "run")],
                         cwd=tmp_path, env=_clean_env(), capture_output=True, text=True)
    assert run.returncode == 0 and not run.stderr, run.stderr
    page = (tmp_path / "run" / "report.html").read_text()
    assert "attnsim run report (installed): run" in page
    assert "tilesim speedup bounds and prediction" in page
    assert _source_status() == before
