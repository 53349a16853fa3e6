"""The reproduction report: the committed copy in sim/accel/reproduction/ is exactly what the one
documented command writes, and bad input exits 2 with the reason."""
import json
import os
from pathlib import Path

import pytest

from attnsim import spatten_report

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("ATTNSIM_BUILD_DIR", REPO / "build" / "default"))
BUILD = BUILD if BUILD.is_absolute() else REPO / BUILD
COMMITTED = REPO / "sim" / "accel" / "reproduction"
built = pytest.mark.skipif(not (BUILD / "sim" / "accel" / "spatten-sim").exists(),
                           reason="spatten-sim not built (SystemC missing or disabled)")


@built
def test_the_committed_report_is_what_the_command_writes(tmp_path):
    assert spatten_report.main(["--out", str(tmp_path), "--build", str(BUILD)]) == 0
    for name in ("report.md", "report.json"):
        assert (tmp_path / name).read_text() == (COMMITTED / name).read_text(), (
            f"{name} differs: rerun `PYTHONPATH=scripts/python /usr/bin/python3 -m "
            "attnsim.spatten_report --out sim/accel/reproduction` and review the diff")
    # The plot is rewritten too (bytes depend on the matplotlib build, so only its form is checked).
    assert (tmp_path / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads((tmp_path / "report.json").read_text())
    rows = {r["metric"]: r for r in report["metrics"]["rows"]}
    assert set(rows) == set(spatten_report.METRICS)
    # Every metric outside the tolerance carries the paper's statement that explains it.
    for r in rows.values():
        assert r["within_tolerance"] or len(r["why"]) > 100, r["metric"]
    # The ratios are the runs' cycle ratios (computed here, not by the report).
    runs = report["runs"]
    assert rows["topk_engine_speedup"]["ours"] == pytest.approx(
        runs["paper_dense_16"]["cycles"] / runs["paper_pruned_16"]["cycles"])
    assert rows["progressive_quant_speedup"]["ours"] == pytest.approx(
        runs["paper_pruned_16"]["cycles"] / runs["paper_pruned_q"]["cycles"])
    pipelined = report["metrics"]["sensitivity_topk_pipelined"]
    assert pipelined["topk_engine_speedup"] == pytest.approx(
        runs["pipelined_dense_16"]["cycles"] / runs["pipelined_pruned_16"]["cycles"])
    # Overlapping top-k jobs (spatten-paper) changes timing only: the same bytes, no run slower.
    for kind in ("pruned_q", "pruned_16", "dense_16"):
        assert runs[f"pipelined_{kind}"]["dram_payload_bytes"] == runs[f"paper_{kind}"][
            "dram_payload_bytes"]
        assert runs[f"paper_{kind}"]["cycles"] <= runs[f"pipelined_{kind}"]["cycles"]
    # The module breakdown (stats.json `modules`) sums to the on-chip power and to the area, and
    # each of the paper's checkable statements about the parts is set against ours.
    for name in ("paper_pruned_q", "paper_bert"):
        modules = runs[name]["modules"].values()
        assert sum(m["power_w"] for m in modules) == pytest.approx(runs[name]["power_w"]["on_chip"])
        assert sum(m["area_mm2"] for m in modules) == pytest.approx(runs[name]["area_mm2"]["total"])
    checks = {c["statement"] for c in report["metrics"]["breakdown"]["checks"]}
    assert checks == {"largest_modules", "pv_below_qk", "topk_shares", "sram_sizes"}
    # Back to back, an overlapped engine takes no more cycles per job than a job's latency.
    latency = {(r["n"], r["k"]): r["cycles"] for r in report["topk_latency"]["pipelined"]}
    for r in report["topk_latency"]["overlapped"]:
        assert r["interval_cycles"] < latency[(r["n"], r["k"])]


def test_a_malformed_paper_file_exits_2_naming_the_field(tmp_path, capsys):
    bad = tmp_path / "paper.yaml"
    bad.write_text("tolerance: 0.15\nmetrics: {power_w: {value: 8.3}}\n")
    assert spatten_report.main(["--out", str(tmp_path / "out"), "--paper", str(bad)]) == 2
    assert "field" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_missing_build_exits_2(tmp_path, capsys):
    assert spatten_report.main(["--out", str(tmp_path / "out"), "--build",
                                str(tmp_path / "nowhere")]) == 2
    assert "not built" in capsys.readouterr().err
