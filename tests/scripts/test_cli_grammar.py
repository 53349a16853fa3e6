"""One CLI grammar (issue #14): every tool the build lists answers -h and --help with exit 0 and
its options (among them --format), prints defaults as written (0.1, not 0.10000000000000001), and
with --format json prints JSON on stdout (csv: a header and rows). Tools that need a CUDA device
(bsattn-bench, gpu-info) are checked for --help only when none is present. The same for every
`python3 -m attnsim.<tool>` entry point (found by scanning the package, so a new one is covered):
-h/--help, --format json|table|csv on those that report results (file writers are listed), and
JSON/CSV runs of the cheap ones."""
from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from pathlib import Path

import pytest

from dse_support import manifest_or_skip

REPO = Path(__file__).resolve().parents[2]
SMALL_CSV = REPO / "traces" / "spatten" / "small.csv"
TRACE_NPZ = REPO / "traces" / "attention" / "synthetic-sink-2x4x64x16.npz"
GPU_TOOLS = {"bsattn-bench", "gpu-info"}

# tool -> (help commands, a run with the format appended, the JSON's required key)
RUNS = {
    "tilesim": ([["--help"], ["-h"], ["bounds", "-h"], ["predict", "--help"], ["gen", "-h"],
                 ["calibrate", "-h"], ["sweep", "-h"], ["presets", "-h"]],
                ["predict", "pattern:causal,seq=2048,heads=2"], "results"),
    "spatten-sim": ([["--help"], ["-h"]], [str(TRACE_NPZ)], "cycles"),
    "spatten-trace": ([["--help"], ["-h"], ["validate", "-h"], ["derive", "--help"]],
                      ["validate", str(SMALL_CSV)], "files"),
    "topk-stats": ([["--help"], ["-h"]], ["--trials", "20", "--cases", "128:64,256:16"], "cases"),
    "softmax-error": ([["--help"], ["-h"]], ["--trials", "2", "--n", "64"], "softmax"),
    "topk-cosim": ([["--help"], ["-h"]], ["--vectors", "30", "--lanes", "16"], "groups"),
    "bsattn-bench": ([["--help"], ["-h"]], ["pattern:causal,seq=1024"], "runs"),
    "gpu-info": ([["--help"], ["-h"]], [], None),
}


def _tool(name):
    path = manifest_or_skip().tool(name)
    if path is None:
        pytest.skip(f"this build has no {name}")
    return str(path)


def _run(tool, args):
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=300,
                          env={"SYSTEMC_DISABLE_COPYRIGHT_MESSAGE": "1", "PATH": "/usr/bin:/bin"})


def _has_gpu() -> bool:
    path = manifest_or_skip().tool("gpu-info")
    return path is not None and _run(str(path), []).returncode == 0


def test_every_tool_is_covered():
    """A new tool must be added to RUNS (and so follow the grammar)."""
    assert set(manifest_or_skip().tools) <= set(RUNS), set(manifest_or_skip().tools) - set(RUNS)


@pytest.mark.parametrize("name", sorted(RUNS))
def test_help(name):
    tool = _tool(name)
    helps, _, _ = RUNS[name]
    for args in helps:
        done = _run(tool, args)
        assert done.returncode == 0, (args, done.stderr)
        assert done.stdout.strip(), (args, "help must go to stdout")
        # Defaults as written: no binary-expansion noise such as 0.10000000000000001.
        assert not re.search(r"\d\.\d*0000000\d", done.stdout), (args, done.stdout)
    top = _run(tool, helps[0]).stdout
    if name in ("tilesim", "spatten-trace"):  # subcommand tools: --format is on the runs
        top = _run(tool, helps[-1]).stdout if name == "spatten-trace" else _run(
            tool, ["predict", "-h"]).stdout
    assert "--format" in top, top


@pytest.mark.parametrize("name", sorted(RUNS))
def test_format_json_and_csv(name):
    tool = _tool(name)
    _, args, key = RUNS[name]
    if name in GPU_TOOLS and not _has_gpu():
        pytest.skip(f"{name} needs a CUDA device")
    done = _run(tool, [*args, "--format", "json"])
    assert done.returncode == 0, done.stderr
    if name == "gpu-info":  # JSON lines, one per device
        for line in done.stdout.splitlines():
            assert isinstance(json.loads(line), dict)
    else:
        data = json.loads(done.stdout)
        assert key in data, sorted(data)
    done = _run(tool, [*args, "--format", "csv"])
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO("\n".join(
        line for line in done.stdout.splitlines() if not line.startswith("#")))))
    assert len(rows) >= 2 and all(rows[0]), done.stdout[:500]
    widths = {len(row) for row in rows if row and row != rows[0]}
    assert widths <= {len(rows[0])} or name == "softmax-error", widths


@pytest.mark.parametrize("name", sorted(RUNS))
def test_run_folders_come_with_their_report(name):
    """A tool whose --out is a run folder also writes report.html there and offers --no-report
    (sim/common/run_report.h; ctest run_report.* checks the files themselves)."""
    tool = _tool(name)
    helps = [h for h in RUNS[name][0] if h[0] not in ("-h", "--help")] or [["--help"]]
    for args in helps:
        text = " ".join(_run(tool, args).stdout.split())  # help lines are wrapped
        if "run folder" in text:
            assert "report.html" in text and "--no-report" in text, (args, text)


def test_bad_format_is_an_input_error():
    done = _run(_tool("tilesim"), ["bounds", "pattern:causal,seq=1024", "--format", "yaml"])
    assert done.returncode == 2 and "json, table or csv" in done.stderr


def test_tilesim_table_names_each_column_once_and_masks_whole(tmp_path):
    tool = _tool("tilesim")
    long_name = "pattern:causal_window,seq=4096,heads=2,window=1024"
    done = _run(tool, ["predict", long_name, "--format", "table"])
    assert done.returncode == 0, done.stderr
    header, row = done.stdout.splitlines()[:2]
    columns = header.split()
    assert len(columns) == len(set(columns)), columns
    assert row.startswith(long_name + " ")  # not cut from the left
    assert len(row.split()) == len(columns)


def test_tilesim_out_dir_is_a_run_folder_and_out_file_is_deprecated(tmp_path):
    tool = _tool("tilesim")
    mask = "pattern:causal,seq=2048,heads=2"
    run = _run(tool, ["predict", mask, "--out", str(tmp_path / "run"), "--format", "table"])
    assert run.returncode == 0 and not run.stderr, run.stderr
    report = json.loads((tmp_path / "run" / "results.json").read_text())
    assert report["results"][0]["mask"] == mask and report["gpu"]["name"] == "h200"
    assert report["cost_model"]["source"]  # the resolved inputs are in the run folder
    assert run.stdout.splitlines()[0].split()[0] == "mask"  # stdout keeps --format table
    old = _run(tool, ["predict", mask, "--out", str(tmp_path / "old.json")])
    assert old.returncode == 0 and old.stdout == "" and "deprecated" in old.stderr
    assert json.loads((tmp_path / "old.json").read_text()) == report


@pytest.mark.parametrize("name", ["topk-stats", "softmax-error", "topk-cosim", "tilesim"])
def test_out_dir_is_a_run_folder_with_the_json_results(name, tmp_path):
    tool = _tool(name)
    _, args, _ = RUNS[name]
    shown = _run(tool, [*args, "--format", "json"])
    run = _run(tool, [*args, "--out", str(tmp_path / "run"), "--format", "csv"])
    assert shown.returncode == 0 and run.returncode == 0, shown.stderr + run.stderr
    assert json.loads((tmp_path / "run" / "results.json").read_text()) == json.loads(shown.stdout)
    header = [line for line in run.stdout.splitlines() if not line.startswith("#")][0]
    assert header.count(",") > 0  # stdout still follows --format


# ---- python3 -m attnsim.<tool> entry points ---------------------------------------------------

PACKAGE = REPO / "scripts" / "python"
PYTHON = "/usr/bin/python3"
#: Entry points that write a file and report nothing else (one line naming what they wrote): -h
#: only. Every other entry point reports results and takes --format json|table|csv.
FILE_WRITERS = {"attnsim.chrome_trace", "attnsim.plot_spatten", "attnsim.plot_timeline",
                "attnsim.synthetic_trace", "attnsim.gpu_dataset", "attnsim.flex_sass",
                "attnsim.spatten_gpu", "attnsim.source_tree"}
#: Help invocations per entry point (subcommand tools: the subcommands' help carries --format).
PY_HELPS = {"attnsim.dse": [["-h"], ["run", "-h"], ["check", "--help"]]}


def _entry_points() -> list[str]:
    """Every module of the package with a `__main__` block (and attnsim.dse, a package)."""
    names = []
    for path in sorted((PACKAGE / "attnsim").rglob("*.py")):
        if 'if __name__ == "__main__":' not in path.read_text():
            continue
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__main__":
            parts.pop()
        names.append(".".join(parts))
    return names


def _py(module, args, cwd=None):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PACKAGE), "MPLBACKEND": "Agg",
           "PYTHONDONTWRITEBYTECODE": "1", "SYSTEMC_DISABLE_COPYRIGHT_MESSAGE": "1"}
    return subprocess.run([PYTHON, "-m", module, *map(str, args)], capture_output=True,
                          text=True, timeout=300, cwd=cwd, env=env)


def test_entry_points_are_found():
    names = _entry_points()
    # A sample written out by hand: the scan must see modules, nested ones and packages.
    assert {"attnsim.html_report", "attnsim.tilesim_ref", "attnsim.dse", "attnsim.dse.bench",
            "attnsim.test_report", "attnsim.chrome_trace"} <= set(names), names


@pytest.mark.parametrize("module", _entry_points())
def test_python_entry_point_help_and_format(module):
    for args in PY_HELPS.get(module, [["-h"], ["--help"]]):
        done = _py(module, args)
        assert done.returncode == 0, (args, done.stderr)
        assert done.stdout.strip().startswith("usage:"), (args, done.stdout[:200])
        # The top-level help of a subcommand tool lists the subcommands, not their options.
        if module not in FILE_WRITERS and not (module in PY_HELPS and args == ["-h"]):
            assert "--format {json,table,csv}" in done.stdout, (module, args, done.stdout)
    if module not in FILE_WRITERS:
        bad = _py(module, [*PY_HELPS.get(module, [[]])[-1][:-1], "--format", "yaml"])
        assert bad.returncode == 2 and "invalid choice: 'yaml'" in bad.stderr, bad.stderr


def _json_and_csv(module, args, key, rows_at_least=1, cwd=None):
    shown = _py(module, [*args, "--format", "json"], cwd=cwd)
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)  # stdout is JSON alone
    assert key in data, sorted(data)
    table = _py(module, [*args, "--format", "csv"], cwd=cwd)
    assert table.returncode == 0, table.stderr
    rows = list(csv.reader(io.StringIO(table.stdout)))
    assert len(rows) >= 1 + rows_at_least and all(rows[0]), table.stdout[:500]
    assert {len(r) for r in rows} == {len(rows[0])}, table.stdout[:500]
    return data, rows


def test_tilesim_ref_formats(tmp_path):
    tilesim = _tool("tilesim")
    mask = tmp_path / "causal.npz"
    assert subprocess.run([tilesim, "gen", "causal", "--seq", "2048", "--heads", "2", "--out",
                           str(mask)], capture_output=True).returncode == 0
    data, rows = _json_and_csv("attnsim.tilesim_ref", [mask], "results")
    # FlexAttention's 128 x 64 tiles on 2048 causal tokens: q tile i sees kv tiles 0..2i+1, the
    # last two cut by the diagonal (partial), so 2i full: 2 x (0 + ... + 15) = 240 full and 32
    # partial per head; 2 heads.
    result = data["results"][0]
    assert (result["tiles_full"], result["tiles_partial"]) == (2 * 240, 2 * 32)
    header = rows[0]
    assert rows[1][header.index("tiles_full")] == "480"
    text = _py("attnsim.tilesim_ref", [mask, "--format", "table"])
    assert text.returncode == 0 and text.stdout.split()[0] == "mask"


def test_test_report_formats(tmp_path):
    xml = tmp_path / "ctest.xml"
    xml.write_text('<testsuite><testcase name="a"/><testcase name="b"><skipped/></testcase>'
                   '<testcase name="c"/></testsuite>')
    data, rows = _json_and_csv("attnsim.test_report", [f"ctest={xml}"], "suites")
    assert data["ok"] is True
    assert (data["suites"][0]["passed"], data["suites"][0]["skipped"]) == (2, 1)
    assert rows[0][:4] == ["name", "passed", "failed", "skipped"] and rows[1][:4] == [
        "ctest", "2", "0", "1"]


def test_dse_check_formats():
    spec = REPO / "scripts" / "python" / "attnsim" / "dse" / "examples" / "gpu_heatmap.yaml"
    data, rows = _json_and_csv("attnsim.dse", ["check", spec], "points")
    assert data["points"] == 4 * 3 * 4 * 4  # tile x scheduler x mask family x seq (the spec)


def test_html_report_formats(tmp_path):
    pytest.importorskip("plotly")
    (tmp_path / "validation.csv").write_text(
        "case,kernel,head_dim,measured_ms,predicted_ms,error,in_fit,rule\n"
        "a,golden,128,1.0,1.1,+0.1,0,-\n")
    data, rows = _json_and_csv("attnsim.html_report", [tmp_path], "plots", rows_at_least=2)
    assert rows[0] == ["plot", "title", "source"] and data["bytes"] > 1_000_000
