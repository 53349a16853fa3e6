"""attnsim.html_report: the figures carry the run folder's numbers and labelled axes, the HTML is
offline and deterministic, bad input exits 2 naming the file, row and column. (Rendering in a
browser: ctest scripts.html_report_render, tests/scripts/html_report_render.py.)"""
from __future__ import annotations

import json
import re

import pytest

pytest.importorskip("plotly", reason="python3-plotly is not installed (scripts/setup.sh)")

from attnsim import html_report  # noqa: E402

VALIDATION = ("case,family,kernel,head_dim,measured_ms,predicted_ms,error,in_fit,"
              "measured_speedup,speedup_bound_sched,rule,role\n"
              "dense-a,dense,golden,128,2.0,2.1,+0.0500,1,,1.000,-,calibration\n"
              "causal-a,causal,golden,128,1.0,0.95,-0.0500,0,2.000,2.100,-,held_out\n"
              "band-a,band,flexattention,64,0.25,0.30,+0.2000,0,3.500,3.900,band,held_out\n")
TIMELINE = ("mask,slot,sm,batch,head,q_tile,start_us,end_us,tiles_full,tiles_partial,"
            "tiles_empty_visited\n"
            "m,0,0,0,0,0,0.0,10.0,4,0,0\n"
            "m,1,1,0,1,0,0.0,6.0,2,1,0\n"
            "m,1,1,0,1,1,6.0,9.0,1,1,0\n")


def _figure_json(page: str, n: int) -> dict:
    match = re.search(rf'id="plot-{n}-data">(.*?)</script>', page, re.S)
    assert match, f"plot-{n} missing"
    return json.loads(match.group(1))


def test_predicted_vs_measured_carries_the_csv_values(tmp_path):
    (tmp_path / "validation.csv").write_text(VALIDATION)
    out = html_report.write_report(tmp_path)
    page = out.read_text()
    assert out == tmp_path / "report.html"
    fig = _figure_json(page, 0)
    by_name = {t.get("name"): t for t in fig["data"]}
    held = by_name["golden d128, held out"]
    assert held["x"] == [1.0] and held["y"] == [0.95]
    fitted = by_name["golden d128, in the calibration fit"]
    assert fitted["x"] == [2.0] and fitted["y"] == [2.1] and fitted["marker"]["symbol"] == "x"
    assert by_name["flexattention d64, held out"]["x"] == [0.25]
    assert "predicted = measured" in by_name
    layout = fig["layout"]
    assert layout["xaxis"]["type"] == "log" and "measured" in layout["xaxis"]["title"]["text"]
    assert "predicted" in layout["yaxis"]["title"]["text"]
    assert "3 runs, 2 held out" in layout["title"]["text"]
    errors = _figure_json(page, 1)  # held-out error by rule, in percent
    ys = sorted(v for t in errors["data"] for v in t["y"])
    assert ys == pytest.approx([-5.0, 20.0])
    assert sorted(x for t in errors["data"] for x in t["x"]) == ["(no rule)", "band"]


def test_timeline_bars_span_start_to_end(tmp_path):
    (tmp_path / "trace.csv").write_text(TIMELINE)
    page = html_report.write_report(tmp_path).read_text()
    fig = _figure_json(page, 0)
    bars = fig["data"][0]
    assert bars["type"] == "bar" and bars["orientation"] == "h"
    assert bars["base"] == [0.0, 0.0, 6.0] and bars["x"] == [10.0, 6.0, 3.0]
    assert bars["y"] == [0, 1, 1]
    busy = fig["data"][1]
    # At 6 us one item ends as the next starts on its slot: still 2 busy.
    assert busy["x"] == [0.0, 6.0, 9.0, 10.0] and busy["y"] == [2, 2, 1, 0]
    # 19 us busy of 2 slots x 10 us.
    assert "makespan 10.0 us, wave efficiency 95.0%" in fig["layout"]["title"]["text"]
    assert fig["layout"]["xaxis2"]["title"]["text"] == "time (us)"


def test_html_is_offline_and_deterministic(tmp_path):
    (tmp_path / "validation.csv").write_text(VALIDATION)
    first = html_report.write_report(tmp_path, tmp_path / "a.html").read_bytes()
    second = html_report.write_report(tmp_path, tmp_path / "b.html").read_bytes()
    assert first == second
    text = first.decode()
    assert "plotly.js v" in text  # embedded, not fetched
    assert not re.search(r"<script[^>]+src=", text)
    assert 'data-plots="2"' in text


@pytest.mark.parametrize("body, expected", [
    ("case,kernel\nx,golden\n", "missing column(s) head_dim"),
    (VALIDATION.replace("0.95", "fast"), "row 3, column 'predicted_ms': expected a number, "
                                         "got 'fast'"),
    (VALIDATION.replace("0.95", "0"), "row 3: measured_ms and predicted_ms must be > 0"),
])
def test_bad_validation_csv_exits_2_naming_file_row_and_column(tmp_path, capsys, body,
                                                                expected):
    (tmp_path / "validation.csv").write_text(body)
    assert html_report.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "validation.csv" in err and expected in err, err
    assert not (tmp_path / "report.html").exists()


def test_timeline_ending_before_it_starts_is_an_error(tmp_path, capsys):
    (tmp_path / "t.csv").write_text(TIMELINE.replace("6.0,9.0", "6.0,5.0"))
    assert html_report.main([str(tmp_path)]) == 2
    assert "t.csv: row 4: end_us 5.0 is before start_us 6.0" in capsys.readouterr().err


def test_empty_folder_has_nothing_to_report(tmp_path, capsys):
    assert html_report.main([str(tmp_path)]) == 2
    assert "nothing to report" in capsys.readouterr().err
    assert html_report.main([str(tmp_path / "absent")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_cli_formats(tmp_path, capsys):
    (tmp_path / "validation.csv").write_text(VALIDATION)
    assert html_report.main([str(tmp_path), "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [p["title"] for p in listed["plots"]] == ["Predicted against measured",
                                                     "Held-out error by mask rule"]
    assert listed["bytes"] == (tmp_path / "report.html").stat().st_size
    assert html_report.main([str(tmp_path), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "plot,title,source" and len(lines) == 3


def test_dse_heatmap_means_over_other_parameters(tmp_path):
    run = tmp_path / "dse"
    run.mkdir()
    (run / "results.csv").write_text(
        "key,status,error,tile,seq,scheduler,speedup_bound_sched\n"
        "a,ok,,64x64,4096,s1,1.0\n"
        "b,ok,,64x64,4096,s2,2.0\n"
        "c,ok,,128x128,4096,s1,4.0\n"
        "d,failed,boom,128x128,8192,s1,\n")
    (run / "spec.resolved.json").write_text(json.dumps({
        "parameters": {"tile": {}, "seq": {}, "scheduler": {}},
        "plots": [{"kind": "heatmap", "x": "tile", "y": "seq", "value": "speedup_bound_sched"}]}))
    fig = _figure_json(html_report.write_report(tmp_path).read_text(), 0)
    heat = fig["data"][0]
    assert heat["x"] == ["64x64", "128x128"] and heat["y"] == ["4096"]
    assert heat["z"] == [[1.5, 4.0]]  # mean of s1 and s2; the failed point is left out
    assert "speedup_bound_sched" in fig["layout"]["coloraxis"]["colorbar"]["title"]["text"]


def test_dse_spec_with_unknown_plot_kind_is_named(tmp_path, capsys):
    (tmp_path / "results.csv").write_text("key,status\na,ok\n")
    (tmp_path / "spec.resolved.json").write_text(json.dumps({"plots": [{"kind": "pie"}]}))
    assert html_report.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "spec.resolved.json: plots[0], field 'kind'" in err and "got 'pie'" in err


def test_flat_objective_is_drawn_flat_without_a_front(tmp_path):
    # energy varies by 1e-6 relative: drawn on +-0.5 % of its mean, the best cycles marked.
    (tmp_path / "results.csv").write_text(
        "key,status,error,lanes,cycles,energy_j\n"
        "a,ok,,8,300,1.000000\n"
        "b,ok,,16,200,1.000001\n"
        "c,ok,,32,250,1.000002\n")
    (tmp_path / "spec.resolved.json").write_text(json.dumps({
        "parameters": {"lanes": {}},
        "plots": [{"kind": "pareto", "x": "energy_j", "y": "cycles"}]}))
    fig = _figure_json(html_report.write_report(tmp_path).read_text(), 0)
    names = [t.get("name") for t in fig["data"]]
    assert "Pareto front" not in names and "best cycles" in names
    best = fig["data"][names.index("best cycles")]
    assert best["y"] == [200.0] and best["text"] == ["lanes=16"]
    low, high = fig["layout"]["xaxis"]["range"]
    assert low == pytest.approx(1.000001 * 0.995) and high == pytest.approx(1.000001 * 1.005)
    assert "energy_j is flat" in fig["layout"]["title"]["text"]


def test_pareto_front_points_and_labels(tmp_path):
    (tmp_path / "results.csv").write_text(
        "key,status,error,lanes,channels,cycles,area_mm2\n"
        "a,ok,,8,4,300,1.0\n"
        "b,ok,,16,4,200,2.0\n"
        "c,ok,,32,4,250,3.0\n"   # dominated by b
        "d,ok,,64,4,100,4.0\n")
    (tmp_path / "spec.resolved.json").write_text(json.dumps({
        "parameters": {"lanes": {}, "channels": {}},
        "plots": [{"kind": "pareto", "x": "area_mm2", "y": "cycles"}]}))
    fig = _figure_json(html_report.write_report(tmp_path).read_text(), 0)
    front = next(t for t in fig["data"] if t.get("name") == "Pareto front")
    assert front["x"] == [1.0, 2.0, 4.0] and front["y"] == [300.0, 200.0, 100.0]
    assert front["text"] == ["lanes=8", "lanes=16", "lanes=64"]
    assert fig["layout"]["title"]["text"] == "Pareto front: 3 of 4 designs"


def test_tilesim_results_show_bounds_and_prediction(tmp_path):
    (tmp_path / "results.json").write_text(json.dumps({
        "tool": "tilesim", "command": "predict", "gpu": {"name": "h200"},
        "kernel": {"name": "fa2"},
        "results": [{"mask": "/data/masks/causal.npz", "speedup_bound_flop": 2.0,
                     "speedup_bound_tiles": 1.9, "speedup_bound_worst_q": 1.0,
                     "speedup_bound_sched": 1.0, "predicted_speedup": 0.98}]}))
    (tmp_path / "gen").mkdir()  # not a bounds/predict report: no view
    (tmp_path / "gen" / "results.json").write_text(json.dumps({"tool": "tilesim",
                                                              "command": "gen"}))
    page = html_report.write_report(tmp_path).read_text()
    assert 'data-plots="1"' in page
    fig = _figure_json(page, 0)
    assert [(t["name"], t["y"]) for t in fig["data"]] == [
        ("FLOP bound", [2.0]), ("tile bound", [1.9]), ("worst-query bound", [1.0]),
        ("schedule bound", [1.0]), ("predicted", [0.98])]
    assert fig["data"][0]["x"] == ["causal.npz"]  # the file's name, not its folder
    assert fig["layout"]["yaxis"]["title"]["text"] == "speedup over the dense run (x)"
    assert "on h200, kernel fa2" in fig["layout"]["title"]["text"]


# The results.json the C++ tools write with --out DIR (the fields the views read).
COSIM = {"tool": "topk-cosim", "microarch": "sequential", "lanes": 16, "vectors": 30,
         "mismatches": 1,
         "groups": [{"n": "1-16", "k": "1-16", "vectors": 20, "mismatches": 0,
                     "engine_cycles_mean": 18.5, "engine_cycles_sd": 9.0,
                     "engine_cycles_min": 13, "engine_cycles_max": 41,
                     "model_cycles_mean": 18.5, "rtl_cycles_mean": 19.0},
                    {"n": "17-64", "k": "1-16", "vectors": 10, "mismatches": 1,
                     "engine_cycles_mean": 28.0, "engine_cycles_sd": 10.0,
                     "engine_cycles_min": 15, "engine_cycles_max": 52,
                     "model_cycles_mean": 27.0, "rtl_cycles_mean": 29.5}]}
STATS = {"tool": "topk-stats", "lanes": 16, "microarch": "sequential", "trials": 20,
         "cases": [{"n": 128, "k": 64, "passes_mean": 8.5, "cycles_mean": 100.5,
                    "cycles_stddev": 24.0, "public_model_cycles_mean": 55.0,
                    "public_model_cycles_stddev": 16.0, "load_cycles_mean": 8.0,
                    "pass_cycles_mean": 80.5, "output_cycles_mean": 12.0}]}
SOFTMAX = {"tool": "softmax-error", "trials": 2, "n": 64,
           "exp": [{"lut_bits": 5, "max_rel_err": 6e-5, "mean_rel_err": 4e-5, "default": True}],
           "softmax": [{"prob_bits": 8, "sigma": 1.0, "max_abs_err": 2e-3, "mean_abs_err": 7e-4}],
           "max_stage": [{"softmax": "max-subtract", "mu": 0.0, "sigma": 1.0,
                          "max_abs_err": 1e-4, "mean_abs_err": 6e-5}]}


def test_cpp_tool_results_are_drawn_with_their_numbers(tmp_path):
    for name, results in (("cosim", COSIM), ("stats", STATS), ("softmax", SOFTMAX)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(results))
    page = html_report.write_report(tmp_path).read_text()
    assert 'data-plots="3"' in page
    cosim, softmax, stats = (_figure_json(page, n) for n in range(3))  # folder order
    bars = cosim["data"][0]
    assert bars["x"] == ["n 1-16, k 1-16", "n 17-64, k 1-16"] and bars["y"] == [18.5, 28.0]
    assert bars["error_y"]["array"] == [9.0, 10.0]
    assert bars["marker"]["color"][1] != bars["marker"]["color"][0]  # the mismatching group
    assert [t["y"] for t in cosim["data"][1:]] == [[18.5, 27.0], [19.0, 29.5]]
    assert "1 mismatch(es)" in cosim["layout"]["title"]["text"]
    assert [t["y"] for t in stats["data"][:2]] == [[100.5], [55.0]]
    assert stats["data"][0]["error_y"]["array"] == [24.0]
    assert softmax["data"][0]["y"] == [6e-5] and softmax["layout"]["yaxis"]["type"] == "log"
    assert "From <code>cosim/results.json</code>" in page


@pytest.mark.parametrize("results, field", [
    ({**COSIM, "groups": []}, "field 'groups': expected a non-empty list"),
    ({**COSIM, "groups": [{**COSIM["groups"][0], "rtl_cycles_mean": "n/a"}]},
     "field 'groups[0].rtl_cycles_mean': expected a finite number, got 'n/a'"),
    ({**STATS, "cases": [{**STATS["cases"][0], "cycles_mean": None}]},
     "field 'cases[0].cycles_mean': expected a finite number, got None"),
    ({**SOFTMAX, "max_stage": "x"}, "field 'max_stage': expected a non-empty list"),
])
def test_bad_tool_results_exit_2_naming_file_and_field(tmp_path, capsys, results, field):
    (tmp_path / "results.json").write_text(json.dumps(results))
    assert html_report.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "results.json" in err and field in err, err
    assert not (tmp_path / "report.html").exists()
