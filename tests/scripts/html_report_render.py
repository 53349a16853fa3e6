#!/usr/bin/python3
"""Renders attnsim.html_report's report.html in headless Chromium (ctest scripts.html_report_render).

A run folder is written here from hand-made inputs (4 validation runs, a 3-point sweep, a 3-item
timeline, a spatten-sim stats.json, the results.json of softmax-error, topk-cosim and topk-stats,
as the C++ tools write them with --out DIR), its report is rendered offline (every host name resolves to
nothing), and the test checks that every plot div holds an SVG plot, that the scatter of the
validation shows its 4 runs and the timeline its 3 bars, and that the page logged no error (an
injected probe records window errors, unhandled rejections and console.error). A negative control
(the same page without plotly.js) must fail both checks, so the checker itself can fail.

Exit 0 pass, 1 fail, 77 skip (no chromium: scripts/setup.sh installs it).

    tests/scripts/html_report_render.py --work-dir DIR [--screenshots DIR]
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

REPO = Path(__file__).resolve().parents[2]
SKIP = 77
PROBE = """<script>
window.__attnsimErrors = [];
window.addEventListener("error", function (e) { __attnsimErrors.push("error: " + e.message); });
window.addEventListener("unhandledrejection", function (e) {
  __attnsimErrors.push("unhandled rejection: " + e.reason); });
(function () { var original = console.error; console.error = function () {
  __attnsimErrors.push("console.error: " + Array.prototype.join.call(arguments, " "));
  return original.apply(console, arguments); }; })();
window.addEventListener("load", function () { setTimeout(function () {
  document.documentElement.setAttribute("data-console-errors",
                                        JSON.stringify(__attnsimErrors)); }, 500); });
</script>"""

VALIDATION = """case,family,kernel,head_dim,measured_ms,predicted_ms,error,in_fit,measured_speedup,speedup_bound_sched,rule,role
dense-a,dense,golden,128,2.0,2.1,+0.0500,1,,1.000,-,calibration
causal-a,causal,golden,128,1.0,0.95,-0.0500,0,2.000,2.100,-,held_out
window-a,causal_window,golden,128,0.5,0.52,+0.0400,0,4.000,4.400,-,held_out
band-a,band,flexattention,64,0.25,0.30,+0.2000,0,3.500,3.900,band,held_out
"""
TIMELINE = """mask,slot,sm,batch,head,q_tile,start_us,end_us,tiles_full,tiles_partial,tiles_empty_visited
m,0,0,0,0,0,0.0,10.0,4,0,0
m,1,1,0,1,0,0.0,6.0,2,1,0
m,1,1,0,1,1,6.0,9.0,1,1,0
"""
RESULTS = """key,status,error,tile,seq,mask,predicted_speedup,speedup_bound_sched,density_tiles
k1,ok,,64x64,4096,causal,1.8,1.9,0.52
k2,ok,,128x128,4096,causal,1.6,1.7,0.55
k3,ok,,64x64,8192,causal,1.9,2.0,0.51
"""
SPEC = {"name": "fixture", "parameters": {"tile": {}, "seq": {}},
        "plots": [{"kind": "heatmap", "x": "tile", "y": "seq", "value": "speedup_bound_sched",
                   "facet": "mask"},
                  {"kind": "scatter", "x": "density_tiles", "y": "predicted_speedup",
                   "color": "mask"},
                  {"kind": "pareto", "x": "density_tiles", "y": "predicted_speedup",
                   "x_sense": "min", "y_sense": "max"}]}
STATS = {"cycles": 1000,
         "utilization": {"fetch": {"utilization": 0.25}, "topk": {"utilization": 0.75}},
         "dram": {"bytes_by_kind": {"key": {"transferred_bytes": 4000},
                                    "value": {"transferred_bytes": 2000}},
                  "dense_baseline_bytes": 12000,
                  "reduction": {"total": 2.0, "token_pruning": 1.5, "local_v_pruning": 1.1,
                                "head_pruning": 1.0, "quantization": 1.2}}}
# The C++ tools' results.json (the fields their --out DIR writes), two rows each.
TOOL_RESULTS = {
    "softmax-error": {"tool": "softmax-error", "trials": 2, "n": 64, "seed": 1,
                      "exp": [{"lut_bits": 4, "max_rel_err": 2e-4, "mean_rel_err": 1e-4,
                               "default": False},
                              {"lut_bits": 5, "max_rel_err": 6e-5, "mean_rel_err": 4e-5,
                               "default": True}],
                      "softmax": [{"prob_bits": 8, "sigma": 1.0, "max_abs_err": 2e-3,
                                   "mean_abs_err": 7e-4, "max_rel_err_p_ge_1e-2": 0.17},
                                  {"prob_bits": 12, "sigma": 1.0, "max_abs_err": 1e-4,
                                   "mean_abs_err": 6e-5, "max_rel_err_p_ge_1e-2": 0.012}],
                      "max_stage": [{"softmax": "max-subtract", "mu": 0.0, "sigma": 1.0,
                                     "max_abs_err": 1e-4, "mean_abs_err": 6e-5,
                                     "max_rel_err_p_ge_1e-2": 0.012},
                                    {"softmax": "no max, 24-bit exp", "mu": 8.0, "sigma": 2.0,
                                     "max_abs_err": 0.49, "mean_abs_err": 1e-3,
                                     "max_rel_err_p_ge_1e-2": 0.99}]},
    "topk-cosim": {"tool": "topk-cosim", "microarch": "sequential", "lanes": 16,
                   "build_max_n": 4096, "vectors": 30, "seed": 1, "gap_prob": 0.1,
                   "stall_prob": 0.2, "threads": 1, "mismatches": 0,
                   "groups": [{"n": "1-16", "k": "1-16", "vectors": 20, "mismatches": 0,
                               "engine_cycles_mean": 18.1, "engine_cycles_sd": 9.2,
                               "engine_cycles_min": 13, "engine_cycles_max": 41,
                               "model_cycles_mean": 18.1, "rtl_cycles_mean": 18.4},
                              {"n": "17-64", "k": "1-16", "vectors": 10, "mismatches": 0,
                               "engine_cycles_mean": 28.6, "engine_cycles_sd": 10.4,
                               "engine_cycles_min": 15, "engine_cycles_max": 52,
                               "model_cycles_mean": 28.6, "rtl_cycles_mean": 29.0}]},
    "topk-stats": {"tool": "topk-stats", "lanes": 16, "microarch": "sequential", "trials": 20,
                   "seed": 1,
                   "cases": [{"n": 128, "k": 64, "passes_mean": 8.5, "cycles_mean": 100.7,
                              "cycles_stddev": 24.4, "public_model_cycles_mean": 55.1,
                              "public_model_cycles_stddev": 16.3, "load_cycles_mean": 8.0,
                              "pass_cycles_mean": 80.7, "output_cycles_mean": 12.0,
                              "interval_cycles_mean": 100.7},
                             {"n": 512, "k": 64, "passes_mean": 10.4, "cycles_mean": 221.3,
                              "cycles_stddev": 43.7, "public_model_cycles_mean": 122.2,
                              "public_model_cycles_stddev": 36.1, "load_cycles_mean": 32.0,
                              "pass_cycles_mean": 153.4, "output_cycles_mean": 35.9,
                              "interval_cycles_mean": 221.3}]},
}
# The fixture's plots: validation 2, sweep 3, timeline 1, spatten-sim 1, then the tools'
# results.json in folder order: softmax-error, topk-cosim, topk-stats.
EXPECTED_PLOTS = 10
# (plot, markers plotly draws, what they are): the runs of predicted-vs-measured, the bars of
# the timeline, topk-cosim's 2 groups as a bar and two model/measured markers each.
MARKERS = [(0, 4, "the fixture's 4 runs"), (5, 3, "the fixture's 3 work items"),
           (8, 6, "2 topk-cosim groups x (bar, model, measured)")]


def write_fixture(folder: Path) -> None:
    (folder / "validation").mkdir(parents=True)
    (folder / "validation" / "validation.csv").write_text(VALIDATION)
    (folder / "dse").mkdir()
    (folder / "dse" / "results.csv").write_text(RESULTS)
    (folder / "dse" / "spec.resolved.json").write_text(json.dumps(SPEC))
    (folder / "tilesim").mkdir()
    (folder / "tilesim" / "timeline.csv").write_text(TIMELINE)
    (folder / "spatten").mkdir()
    (folder / "spatten" / "stats.json").write_text(json.dumps(STATS))
    for tool, results in TOOL_RESULTS.items():
        (folder / tool).mkdir()
        (folder / tool / "results.json").write_text(json.dumps(results))


def chromium_binary() -> str | None:
    return os.environ.get("ATTNSIM_CHROMIUM") or shutil.which("chromium") or \
        shutil.which("chromium-browser")


def render(chromium: str, page: Path, screenshot: Path | None = None) -> tuple[str, str]:
    """(DOM after load, Chromium's log); offline: every host resolves to nothing."""
    common = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
              "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=15000",
              f"--user-data-dir={page.parent / 'chromium-profile'}"]
    done = subprocess.run([*common, "--enable-logging=stderr", "--v=0", "--dump-dom",
                           page.as_uri()], capture_output=True, text=True, timeout=180)
    if screenshot is not None:
        subprocess.run([*common, "--hide-scrollbars", "--window-size=1280,4200",
                        f"--screenshot={screenshot}", page.as_uri()], capture_output=True,
                       timeout=180)
    return done.stdout, done.stderr


def problems_of(dom: str, log: str, expected_plots: int) -> list[str]:
    problems = []
    match = re.search(r'data-console-errors="([^"]*)"', dom)
    if match is None:
        problems.append("the probe never reported (the page did not finish loading)")
    else:
        errors = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
        problems += [f"page error: {e}" for e in errors]
    # Chromium's own console lines do not carry the level; uncaught errors say "Uncaught".
    problems += [f"console: {line.strip()}" for line in log.splitlines()
                 if ":CONSOLE" in line and "Uncaught" in line]
    rendered = re.search(r'data-plots-rendered="(\d+)"', dom)
    if rendered is None or int(rendered.group(1)) != expected_plots:
        problems.append(f"data-plots-rendered is {rendered.group(1) if rendered else 'absent'}, "
                        f"expected {expected_plots}")
    divs = re.split(r'<div class="attnsim-plot[^"]*" id="plot-', dom)[1:]
    if len(divs) != expected_plots:
        problems.append(f"{len(divs)} plot divs, expected {expected_plots}")
    for n, div in enumerate(divs):
        body = div.split("</section>", 1)[0]
        if 'class="main-svg"' not in body:
            problems.append(f"plot-{n}: empty (no SVG drawn)")
    # plot-2 is the sweep's heatmap: plotly draws its cells as one image.
    if len(divs) > 2 and not re.search(r'class="hm"><image', divs[2]):
        problems.append("plot-2: the heatmap has no cells drawn")
    for n, count, what in MARKERS:
        if n < len(divs):
            drawn = divs[n].split("</section>", 1)[0].count('class="point"')
            if drawn != count:
                problems.append(f"plot-{n}: {drawn} markers drawn, expected {what}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, required=True)
    parser.add_argument("--screenshots", type=Path, help="also write PNGs of the pages here")
    args = parser.parse_args()
    chromium = chromium_binary()
    if chromium is None:
        print("SKIP: chromium not found (scripts/setup.sh installs it; or set ATTNSIM_CHROMIUM)")
        return SKIP
    work = args.work_dir.resolve()
    shutil.rmtree(work, ignore_errors=True)
    folder = work / "run"
    write_fixture(folder)
    env = {**os.environ, "PYTHONPATH": str(REPO / "scripts" / "python"),
           "PYTHONDONTWRITEBYTECODE": "1"}
    made = subprocess.run([sys.executable, "-m", "attnsim.html_report", str(folder),
                           "--format", "json"], capture_output=True, text=True, env=env)
    if made.returncode != 0:
        print(f"FAIL: html_report exited {made.returncode}: {made.stderr}")
        return 1
    listed = json.loads(made.stdout)
    page = (folder / "report.html").read_text()
    failures = []
    if len(listed["plots"]) != EXPECTED_PLOTS:
        failures.append(f"html_report listed {len(listed['plots'])} plots, expected "
                        f"{EXPECTED_PLOTS}")
    if re.search(r"<script[^>]+src=|<link[^>]+href=\"?https?:", page):
        failures.append("the page loads a script or stylesheet from elsewhere (must be offline)")
    probed = work / "probed.html"
    probed.write_text(page.replace("<head>", "<head>\n" + PROBE, 1))
    dom, log = render(chromium, probed, args.screenshots / "report.png"
                      if args.screenshots else None)
    failures += problems_of(dom, log, EXPECTED_PLOTS)
    # Negative control: without plotly.js the checker must see errors and empty plots.
    broken = work / "broken.html"
    broken.write_text(re.sub(r"<script>/\*\*\n\* plotly\.js.*?</script>", "<script></script>",
                             probed.read_text(), count=1, flags=re.S))
    control = problems_of(*render(chromium, broken), EXPECTED_PLOTS)
    if not any("page error" in p or "console" in p for p in control) or \
            not any("empty" in p for p in control):
        failures.append(f"negative control not caught (the checker cannot fail): {control}")
    size = (folder / "report.html").stat().st_size
    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        return 1
    print(f"PASS: {EXPECTED_PLOTS} plots rendered in {Path(chromium).name}, no console errors, "
          f"report {size} bytes; negative control caught ({len(control)} problems)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
