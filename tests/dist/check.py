#!/usr/bin/python3
"""Convention checks run by ctest (label `dist`): each exits 0 clean, 1 on a violation, 77 when it
does not apply yet (ctest then reports it Skipped, never Passed).

    check.py {layout,format,layering,python_compile,no_build_outputs,verilator_lint} [--root DIR]

Files are the ones git tracks (or, outside a git checkout, every file not under a build folder),
so a check sees what a clean clone would contain.
"""
from __future__ import annotations

import argparse
import fnmatch
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

SKIP = 77

# The fixed top level. CMakePresets.json sits beside CMakeLists.txt because CMake reads presets only
# from the source root; dotfiles (.ci/, .clang-format, .gitignore, ...) are allowed by the design.
TOP_LEVEL = {"sim", "rtl", "models", "golden", "traces", "tests", "scripts",
             "CMakeLists.txt", "CMakePresets.json", "pyproject.toml", "README.md"}

CXX_SUFFIXES = (".h", ".hpp", ".cc", ".cpp", ".cu", ".cuh")

# Build products and scratch files that must never be committed (globs on the repo-relative path).
BUILD_OUTPUT_GLOBS = [
    "build/*", "build-*/*", "cmake-build-*/*", "*/CMakeFiles/*", "CMakeFiles/*", "CMakeCache.txt",
    "*/CMakeCache.txt", "*.o", "*.obj", "*.a", "*.so", "*.so.*", "*.pyc", "*/__pycache__/*",
    "__pycache__/*", "*/obj_dir/*", "obj_dir/*", "*.vcd", "*.fst", ".ninja_*", "*/.ninja_*",
    "compile_commands.json", "Testing/*", "*/Testing/*", ".pytest_cache/*", "*.tmp-*",
]
MAX_TRACKED_BYTES = 5 * 1024 * 1024

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.MULTILINE)
SYSTEMC = re.compile(r"^(systemc|systemc\.h|sysc/|tlm|tlm\.h|tlm_utils/)")
CUDA = re.compile(r"^(cuda|cuda_runtime|cuda_runtime_api|cuda_bf16|cuda_fp16|cub/|cuda/|mma\.h|cute/|cutlass/)")
VERILATED = re.compile(r"^(verilated|V[A-Za-z0-9_]+\.h$)")


def tracked_files(root: Path) -> list[str]:
    """Repo-relative paths of the files a clean clone would contain."""
    if (root / ".git").exists() and shutil.which("git"):
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached",
                              "--others", "--exclude-standard"],
                             check=True, capture_output=True).stdout
        return sorted(p for p in out.decode().split("\0") if p and (root / p).is_file())
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = [d for d in dirnames if d != ".git" and not d.startswith("build")]
        files += [os.path.normpath(os.path.join(rel_dir, f)) for f in filenames]
    return sorted(files)


def check_layout(root: Path) -> list[str]:
    tops = {f.split("/", 1)[0] for f in tracked_files(root)}
    return [f"top level: '{t}' is not part of the fixed layout "
            f"({', '.join(sorted(TOP_LEVEL))}, dotfiles)"
            for t in sorted(tops) if t not in TOP_LEVEL and not t.startswith(".")]


def check_format(root: Path) -> list[str]:
    sources = [f for f in tracked_files(root) if f.endswith(CXX_SUFFIXES)]
    if not sources:
        return []
    clang_format = shutil.which("clang-format")
    if not clang_format:
        return ["clang-format not found (scripts/setup.sh installs it)"]
    problems = []
    for i in range(0, len(sources), 64):
        chunk = sources[i:i + 64]
        result = subprocess.run([clang_format, "--dry-run", "--Werror", "--style=file", *chunk],
                                cwd=root, capture_output=True, text=True)
        if result.returncode != 0:
            bad = sorted({line.split(":", 1)[0] for line in result.stderr.splitlines()
                          if ": error:" in line})
            problems += [f"{f}: not clang-formatted (run clang-format -i {f})" for f in bad]
            if not bad:
                problems.append(result.stderr.strip())
    return problems


def layering_rule(path: str):
    """(forbidden include pattern, why) pairs for a source file at `path`."""
    rules = []
    in_tests = path.startswith("tests/")
    if path.startswith("models/"):
        rules.append((re.compile(r"^(sim|golden|rtl)/"), "models/ depends on nothing of ours"))
    if path.startswith("sim/common/"):
        rules.append((re.compile(r"^(sim/gpu|sim/accel|golden|rtl)/"),
                      "sim/common/ is shared by every simulator"))
    if path.startswith("sim/gpu/"):
        rules.append((re.compile(r"^(sim/accel|golden|rtl)/"), "sim/gpu/ is pure C++17"))
    if not in_tests and not path.startswith("sim/accel/"):
        rules.append((SYSTEMC, "only sim/accel/ includes SystemC"))
    if not in_tests and not path.startswith("golden/"):
        rules.append((CUDA, "only golden/ is CUDA"))
    if not in_tests and not path.startswith(("rtl/", "sim/accel/")):
        rules.append((VERILATED, "only rtl/ and the co-simulation adapter in sim/accel/ "
                                 "use Verilated models"))
    return rules


def check_layering(root: Path) -> list[str]:
    problems = []
    for f in tracked_files(root):
        if not f.endswith(CXX_SUFFIXES):
            continue
        text = (root / f).read_text(errors="replace")
        for header in INCLUDE_RE.findall(text):
            for pattern, why in layering_rule(f):
                if pattern.search(header):
                    problems.append(f"{f}: includes <{header}>, but {why}")
    return problems


def python_sources(root: Path) -> list[str]:
    """Tracked .py files plus extension-less scripts whose shebang names python."""
    out = []
    for f in tracked_files(root):
        if f.endswith(".py"):
            out.append(f)
        elif not Path(f).suffix:
            with open(root / f, "rb") as handle:
                first_line = handle.readline()
            if first_line.startswith(b"#!") and b"python" in first_line:
                out.append(f)
    return out


def check_python_compile(root: Path) -> list[str]:
    problems = []
    for f in python_sources(root):
        try:
            compile((root / f).read_bytes(), f, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as error:
            problems.append(f"{f}: does not byte-compile: {error}")
    return problems


def check_no_build_outputs(root: Path) -> list[str]:
    problems = []
    for f in tracked_files(root):
        if any(fnmatch.fnmatch(f, glob) for glob in BUILD_OUTPUT_GLOBS):
            problems.append(f"{f}: build output or scratch file is tracked (add it to .gitignore)")
        elif (root / f).stat().st_size > MAX_TRACKED_BYTES:
            problems.append(f"{f}: {(root / f).stat().st_size} bytes; files over "
                            f"{MAX_TRACKED_BYTES} bytes are not committed (regenerate them)")
    return problems


def rtl_tops(root: Path) -> list[str]:
    """One file list per RTL top: rtl/<block>/<top>.f, paths inside relative to the repo root."""
    return [f for f in tracked_files(root) if f.startswith("rtl/") and f.endswith(".f")]


def check_verilator_lint(root: Path):
    tops = rtl_tops(root)
    if not tops:
        return None  # no RTL yet
    verilator = shutil.which("verilator")
    if not verilator:
        return ["verilator not found (scripts/setup.sh installs it)"]
    waivers = sorted(str(root / f) for f in tracked_files(root)
                     if f.startswith("rtl/lint/") and f.endswith(".vlt"))
    problems = []
    for filelist in tops:
        top = Path(filelist).stem
        result = subprocess.run([verilator, "--lint-only", "-Wall", "--assert", "--top-module", top,
                                 *waivers, "-f", filelist], cwd=root, capture_output=True,
                                text=True)
        if result.returncode != 0 or "%Warning" in result.stderr:
            problems.append(f"{filelist}: verilator --lint-only -Wall is not clean:\n"
                            + result.stderr.strip())
    return problems


CHECKS = {
    "layout": check_layout,
    "format": check_format,
    "layering": check_layering,
    "python_compile": check_python_compile,
    "no_build_outputs": check_no_build_outputs,
    "verilator_lint": check_verilator_lint,
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("check", choices=sorted(CHECKS))
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2])
    args = parser.parse_args(argv)
    problems = CHECKS[args.check](args.root.resolve())
    if problems is None:
        print(f"{args.check}: not applicable yet (nothing to check)")
        return SKIP
    for problem in problems:
        print(problem)
    print(f"{args.check}: {'ok' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
