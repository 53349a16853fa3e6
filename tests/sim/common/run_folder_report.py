#!/usr/bin/python3
"""The C++ tools' run folders get their interactive report (sim/common/run_report.h): ctest
run_report.*. (Not named *_test.py: it is a ctest driver, not a pytest module.)

    run_folder_report.py --work-dir DIR --python PY CASE [--tool NAME=PATH ...]

CASE:
  tool NAME    NAME --out DIR writes DIR/report.html naming its results (the view drawn from its
               results.json or stats.json), stdout stays its --format json, nothing is warned;
               --no-report writes the same results and no report.html.
  no_python    ATTNSIM_PYTHON names an interpreter that does not exist: exit 0, the results
               complete, no report.html (nor a half-written one), one warning line on stderr
               that says how to get the report.
  no_plotly    the interpreter runs but plotly cannot be imported: the same, naming plotly.
  deterministic  two runs into one folder give the same report.html bytes, and they equal what
               `python3 -m attnsim.html_report DIR` writes by hand (one generator).

Exit 0 pass, 1 fail, 77 skip (the cases that need a report skip where plotly is missing:
scripts/setup.sh installs python3-plotly). Everything is written under --work-dir.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SKIP = 77
TRACE_NPZ = REPO / "traces" / "attention" / "synthetic-sink-2x4x64x16.npz"

# tool -> (arguments of a small run, the results file, the report's heading for them)
RUNS = {
    "tilesim": (["predict", "pattern:causal,seq=2048,heads=2"], "results.json",
                "tilesim speedup bounds and prediction"),
    "spatten-sim": ([str(TRACE_NPZ)], "stats.json", "spatten-sim utilization and DRAM traffic"),
    "topk-cosim": (["--vectors", "30", "--lanes", "16"], "results.json",
                   "topk-cosim: RTL against the model"),
    "topk-stats": (["--trials", "20", "--cases", "128:64,256:16"], "results.json",
                   "topk-stats: cycles against the public model"),
    "softmax-error": (["--trials", "2", "--n", "64"], "results.json",
                      "softmax-error: error of each stage"),
}


def environment(**extra: str) -> dict:
    """The caller's environment without its choice of interpreter or Python path."""
    env = {k: v for k, v in os.environ.items() if k not in ("ATTNSIM_PYTHON", "PYTHONPATH")}
    env["SYSTEMC_DISABLE_COPYRIGHT_MESSAGE"] = "1"
    env.update(extra)
    return env


def run(tool: str, args: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=300,
                          env=env or environment())


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("report.html.tmp-*"))


def check_tool(name: str, tool: str, work: Path) -> list[str]:
    args, results, heading = RUNS[name]
    failures = []
    folder = work / name
    def extra(where: Path) -> list[str]:  # tilesim's timeline inside the folder is drawn too
        return ["--trace", str(where / "timeline.csv")] if name == "tilesim" else []

    done = run(tool, [*args, "--out", str(folder), *extra(folder), "--format", "json"])
    if done.returncode != 0:
        return [f"{name} --out exited {done.returncode}: {done.stderr.strip()[-500:]}"]
    try:
        json.loads(done.stdout)
    except json.JSONDecodeError:
        failures.append(f"{name}: stdout is not --format json alone: {done.stdout[:300]!r}")
    if "warning" in done.stderr:
        failures.append(f"{name}: warned: {done.stderr.strip()}")
    page_path = folder / "report.html"
    if not page_path.is_file():
        return failures + [f"{name}: no {page_path}"]
    page = page_path.read_text()
    plots = re.search(r'<body data-plots="(\d+)"', page)
    if plots is None or int(plots.group(1)) < 1:
        failures.append(f"{name}: report.html has no plots ({plots and plots.group(0)})")
    if f"<h2>{heading}</h2>" not in page:
        failures.append(f"{name}: report.html lacks the view '{heading}'")
    if f"From <code>{results}</code>" not in page:
        failures.append(f"{name}: report.html does not name {results} as its source")
    if name == "tilesim" and "tilesim timeline" not in page:
        failures.append("tilesim: report.html lacks the timeline of --trace DIR/timeline.csv")
    if leftovers(folder):
        failures.append(f"{name}: temporary files left: {leftovers(folder)}")
    # --no-report: the same results, no report.
    bare = work / f"{name}-no-report"
    quiet = run(tool, [*args, "--out", str(bare), *extra(bare), "--no-report", "--format",
                       "json"])
    if quiet.returncode != 0:
        failures.append(f"{name} --no-report exited {quiet.returncode}: {quiet.stderr[-500:]}")
    elif (bare / "report.html").exists():
        failures.append(f"{name} --no-report wrote report.html")
    elif not (bare / results).is_file():
        failures.append(f"{name} --no-report: no {results}")
    elif (bare / results).read_bytes() != (folder / results).read_bytes():
        failures.append(f"{name} --no-report: {results} differs from the run with a report")
    helped = run(tool, ["predict", "--help"] if name == "tilesim" else ["--help"])
    if "--no-report" not in helped.stdout:
        failures.append(f"{name} --help does not list --no-report")
    return failures


def check_missing(tool: str, work: Path, case: str) -> list[str]:
    """tilesim with no usable interpreter (no_python) or no plotly (no_plotly)."""
    args = ["predict", "pattern:causal,seq=2048,heads=2", "--format", "json"]
    reference = work / "reference"
    base = run(tool, [*args, "--out", str(reference), "--no-report"])
    if base.returncode != 0:
        return [f"tilesim --no-report exited {base.returncode}: {base.stderr[-500:]}"]
    if case == "no_python":
        env = environment(ATTNSIM_PYTHON=str(work / "absent" / "python3"))
        expect = "cannot run the Python interpreter"
    else:
        fake = work / "fake-site" / "plotly"
        fake.mkdir(parents=True)
        (fake / "__init__.py").write_text('raise ImportError("plotly is hidden by this test")\n')
        env = environment(PYTHONPATH=str(fake.parent))
        expect = "plotly"
    folder = work / "run"
    done = run(tool, [*args, "--out", str(folder)], env)
    failures = []
    if done.returncode != 0:
        failures.append(f"exit {done.returncode}, expected 0 (a run stands without its report)")
    try:
        json.loads(done.stdout)
    except json.JSONDecodeError:
        failures.append(f"stdout is not the --format json results: {done.stdout[:300]!r}")
    results = folder / "results.json"
    if not results.is_file() or results.read_bytes() != (reference / "results.json").read_bytes():
        failures.append("results.json is missing or differs from a run with --no-report")
    if (folder / "report.html").exists() or leftovers(folder):
        failures.append(f"a report was written: {sorted(p.name for p in folder.iterdir())}")
    lines = done.stderr.strip().splitlines()
    if len(lines) != 1:
        failures.append(f"expected one warning line on stderr, got {len(lines)}: {lines}")
    elif not (lines[0].startswith("tilesim: warning: no ") and expect in lines[0]
              and "attnsim.html_report" in lines[0] and "--no-report" in lines[0]):
        failures.append(f"the warning does not say '{expect}' and how to get the report: "
                        f"{lines[0]}")
    return failures


def check_deterministic(tool: str, python: str, work: Path) -> list[str]:
    args = ["predict", "pattern:causal_window,seq=4096,heads=2,window=512", "--format", "json"]
    folder = work / "run"
    pages = []
    for _ in range(2):
        done = run(tool, [*args, "--out", str(folder), "--trace", str(folder / "timeline.csv")])
        if done.returncode != 0 or not (folder / "report.html").is_file():
            return [f"tilesim exited {done.returncode} or wrote no report: {done.stderr[-500:]}"]
        pages.append((folder / "report.html").read_bytes())
    by_hand = work / "by-hand.html"
    made = subprocess.run([python, "-m", "attnsim.html_report", str(folder), "--out",
                           str(by_hand)], capture_output=True, text=True, timeout=300,
                          env=environment(PYTHONPATH=str(REPO / "scripts" / "python"),
                                          PYTHONDONTWRITEBYTECODE="1"))
    failures = []
    if pages[0] != pages[1]:
        failures.append("two runs into one folder gave different report.html bytes")
    if made.returncode != 0:
        failures.append(f"python3 -m attnsim.html_report exited {made.returncode}: {made.stderr}")
    elif by_hand.read_bytes() != pages[0]:
        failures.append("the tool's report.html differs from `python3 -m attnsim.html_report`'s")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=["tool", "no_python", "no_plotly", "deterministic"])
    parser.add_argument("name", nargs="?", help="with `tool`: which tool")
    parser.add_argument("--work-dir", type=Path, required=True)
    parser.add_argument("--python", required=True, help="the interpreter the build configured")
    parser.add_argument("--tool", action="append", default=[], metavar="NAME=PATH")
    args = parser.parse_args()
    tools = dict(item.split("=", 1) for item in args.tool)
    work = args.work_dir.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    has_plotly = subprocess.run([args.python, "-c", "import plotly"],
                                capture_output=True).returncode == 0
    if args.case in ("tool", "deterministic") and not has_plotly:
        print(f"SKIP: {args.python} has no plotly (scripts/setup.sh installs python3-plotly)")
        return SKIP
    if args.case == "tool":
        failures = check_tool(args.name, tools[args.name], work)
    elif args.case == "deterministic":
        failures = check_deterministic(tools["tilesim"], args.python, work)
    else:
        failures = check_missing(tools["tilesim"], work, args.case)
    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        return 1
    print(f"PASS: {args.case} {args.name or ''}".rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
