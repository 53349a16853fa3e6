"""Each convention check must fail on a tree that breaks its convention."""
import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location("dist_check", Path(__file__).with_name("check.py"))
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)

REPO = Path(__file__).resolve().parents[2]


def make_repo(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    shutil.copy(REPO / ".clang-format", root / ".clang-format")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    return root


def run(name: str, root: Path) -> int:
    return check.main([name, "--root", str(root)])


def test_layout_rejects_unknown_top_level_entries(tmp_path):
    assert run("layout", make_repo(tmp_path, {"README.md": "", "docs/x.md": ""})) == 1
    assert run("layout", make_repo(tmp_path / "ok", {"README.md": "", "sim/x.h": ""})) == 0


@pytest.mark.skipif(shutil.which("clang-format") is None, reason="clang-format not installed")
def test_format_rejects_unformatted_code(tmp_path):
    assert run("format", make_repo(tmp_path, {"models/a.cc": "int  f( ){return 1;}\n"})) == 1
    assert run("format", make_repo(tmp_path / "ok", {"models/a.cc": "int f() { return 1; }\n"})) == 0


@pytest.mark.parametrize("path,include", [
    ("models/topk.cc", '#include "sim/common/cli.h"'),
    ("sim/gpu/schedule.cc", "#include <systemc>"),
    ("sim/gpu/schedule.cc", "#include <cuda_runtime.h>"),
    ("sim/common/stats.cc", '#include "sim/accel/clock.h"'),
    ("scripts/x.cc", '#include "verilated.h"'),
])
def test_layering_rejects_forbidden_includes(tmp_path, path, include):
    assert run("layering", make_repo(tmp_path, {path: include + "\n"})) == 1


def test_layering_allows_systemc_in_accel_and_tests(tmp_path):
    root = make_repo(tmp_path, {"sim/accel/m.cc": "#include <systemc>\n",
                                "tests/sim/accel/m_test.cc": "#include <systemc>\n"})
    assert run("layering", root) == 0


def test_python_compile_rejects_syntax_errors_also_in_extensionless_scripts(tmp_path):
    assert run("python_compile", make_repo(tmp_path, {"scripts/a.py": "def f(:\n"})) == 1
    bad_script = {"scripts/tool": "#!/usr/bin/python3\nprint('x'\n"}
    assert run("python_compile", make_repo(tmp_path / "s", bad_script)) == 1
    assert run("python_compile", make_repo(tmp_path / "ok", {"scripts/a.py": "x = 1\n"})) == 0


@pytest.mark.parametrize("path", ["build/default/CMakeCache.txt", "models/topk.o",
                                  "scripts/__pycache__/a.cpython-311.pyc", "rtl/obj_dir/V.cpp",
                                  "tests/wave.vcd"])
def test_no_build_outputs_rejects_build_products(tmp_path, path):
    assert run("no_build_outputs", make_repo(tmp_path, {path: "x"})) == 1


def test_verilator_lint_skips_without_rtl_and_fails_on_warnings(tmp_path):
    assert run("verilator_lint", make_repo(tmp_path, {"README.md": ""})) == check.SKIP
    if shutil.which("verilator") is None:
        pytest.skip("verilator not installed")
    unused = ("module attn_bad (input logic a_i, output logic b_o);\n"
              "  logic spare;\n  assign b_o = a_i;\nendmodule\n")
    root = make_repo(tmp_path / "r", {"rtl/bad/attn_bad.sv": unused,
                                      "rtl/bad/attn_bad.f": "rtl/bad/attn_bad.sv\n"})
    assert run("verilator_lint", root) == 1


def test_the_repository_itself_is_clean():
    for name in ("layout", "layering", "python_compile", "no_build_outputs"):
        assert run(name, REPO) == 0, name
