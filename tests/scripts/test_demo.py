"""The demo runs what exists and never claims a part that is not built."""
import json
import stat
from pathlib import Path

import pytest

from attnsim import demo


def write_manifest(build: Path, tools: dict[str, Path]) -> None:
    build.mkdir(parents=True, exist_ok=True)
    (build / "attnsim-build.json").write_text(json.dumps({
        "version": "0.1.0", "build_type": "Release", "systemc": True, "verilator": True,
        "cuda": bool(tools), "tools": {k: str(v) for k, v in tools.items()}}))


def fake_tool(path: Path, stdout: str, code: int) -> Path:
    path.write_text(f"#!/bin/sh\necho '{stdout}'\nexit {code}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_parts_without_a_runner_are_reported_as_not_implemented(tmp_path, capsys, monkeypatch):
    # Every part has a runner today; a future one without a runner must say so, not fail.
    monkeypatch.setattr(demo, "STEPS", demo.STEPS + [demo.DemoStep("Future part", "future", 99)])
    write_manifest(tmp_path / "b", {})
    assert demo.main(["--build-dir", str(tmp_path / "b"), "--out", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    assert "Future part" in out and "not implemented yet  issue #99" in out
    summary_files = list((tmp_path / "runs").glob("demo-*/summary.json"))
    assert len(summary_files) == 1
    parts = {p["tool"]: p for p in json.loads(summary_files[0].read_text())["parts"]}
    assert parts["future"]["status"] == demo.NOT_YET
    assert parts["topk-cosim"]["status"] == demo.NOT_BUILT  # has a runner, not in this build
    assert parts["spatten-sim"]["status"] == demo.NOT_BUILT
    assert parts["tilesim"]["status"] == demo.NOT_BUILT
    assert parts["gpu-info"]["status"] == demo.NOT_BUILT  # no CUDA in this manifest


def test_a_built_tool_is_run_and_its_output_kept(tmp_path, capsys):
    tool = fake_tool(tmp_path / "gpu-info", '{"name": "NVIDIA H200"}', 0)
    write_manifest(tmp_path / "b", {"gpu-info": tool})
    assert demo.main(["--build-dir", str(tmp_path / "b"), "--out", str(tmp_path / "r")]) == 0
    assert "1 GPU(s) found" in capsys.readouterr().out
    (run_dir,) = (tmp_path / "r").glob("demo-*")
    assert "H200" in (run_dir / "gpu-info.txt").read_text()


def test_a_failing_tool_marks_its_part_failed_and_the_demo_exits_1(tmp_path, capsys):
    tool = fake_tool(tmp_path / "tilesim", "boom", 3)
    write_manifest(tmp_path / "b", {"tilesim": tool})
    assert demo.main(["--build-dir", str(tmp_path / "b"), "--out", str(tmp_path / "r")]) == 1
    assert "FAILED" in capsys.readouterr().out


def test_missing_manifest_is_a_clear_error(tmp_path, capsys):
    assert demo.main(["--build-dir", str(tmp_path / "nowhere")]) == 2
    assert "attnsim-build.json: not found" in capsys.readouterr().err


def test_manifest_with_missing_field_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "attnsim-build.json").write_text('{"version": "1"}')
    assert demo.main(["--build-dir", str(tmp_path)]) == 2
    assert "field 'build_type'" in capsys.readouterr().err
