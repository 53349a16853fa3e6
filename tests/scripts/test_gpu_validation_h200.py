"""tilesim against the committed H200 datasets, on the CPU: regenerates each dataset's masks from
its cases.json into a scratch copy, calibrates each kernel configuration on its fixed calibration
runs and checks the held-out errors stay within bounds a little above what the model reaches today,
that no measured speedup beats tilesim's schedule bound, and that the calibrations tilesim ships
are exactly what `scripts/validate_gpu.py --calibrations` writes from the rules dataset.

Needs the built `tilesim` (ATTNSIM_BUILD_DIR, default build/default); skips without it."""
from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import shutil
import statistics
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from attnsim import REPO_ROOT, gpu_dataset, gpu_validation, tilesim_ref

BUILD = Path(os.environ.get("ATTNSIM_BUILD_DIR", REPO_ROOT / "build" / "default")).resolve()
TILESIM = BUILD / "sim" / "gpu" / "tilesim"
RESULTS = REPO_ROOT / "golden" / "results" / "h200"
LEGACY = RESULTS / "2026-11-23-dataset"
RULES = RESULTS / "2026-12-02-rules"
BLIND = RESULTS / "2026-12-02-blind"
COSTS = RESULTS / "2026-12-02-flex-costs"
BLIND2 = RESULTS / "2026-12-02-blind2"
UNALIGNED = RESULTS / "2026-12-02-unaligned"
BLIND3 = RESULTS / "2026-12-02-blind3"
VISIT2 = RESULTS / "2026-12-02-rules-d64-visit2"
CTA_PROBE = RESULTS / "2026-12-03-cta-probe"
BLIND4 = RESULTS / "2026-12-03-blind4"
BLIND5 = RESULTS / "2026-12-03-blind5"
BLIND6 = RESULTS / "2026-12-03-blind6"
BLIND7 = RESULTS / "2026-12-03-blind7"
# The sm90 kernel with packed documents on the interval path, every grid and FlexAttention on one
# machine: the shipped sm90 document costs are calibrated on its rules runs.
DOC_RUNS = RESULTS / "2026-12-04-doc-runs-retime"
SHIPPED = REPO_ROOT / "sim" / "gpu" / "calibrations"
pytestmark = pytest.mark.skipif(not TILESIM.exists(), reason=f"{TILESIM} is not built")

# SHA-256 over the arrays (name, dtype, shape, bytes; sorted by file and array name) of the 52 masks
# measured on 2026-11-23, the `rule` array left out: tilesim gen has written a rule into every
# token-level mask since 2026-12-02, and nothing else changed (checked then against the masks of
# the tilesim that was measured, 2282991, whose files hash to be1f676b...). A generator change
# that alters any measured mask fails here instead of silently invalidating the measurements.
LEGACY_ARRAYS_SHA256 = "b7194474871ea904704d7f64dafe9c395f4b76f8791663b820b58d3571f799af"

# (kernel, head dim): largest accepted held-out median and max absolute relative error, a little
# above today's (2026-12-02; sim/gpu/README.md and the datasets' validation/report.md).
LEGACY_BOUNDS = {("golden", 64): (0.03, 0.11), ("golden", 128): (0.02, 0.14),
                 ("flexattention", 64): (0.045, 0.36), ("flexattention", 128): (0.02, 0.12)}
# FlexAttention's rule costs are fitted on the flex-costs probe's rule runs, so its own rule runs
# are held out too (88 runs).
RULES_BOUNDS = {("golden", 64): (0.02, 0.09), ("golden", 128): (0.02, 0.10),
                ("flexattention", 64): (0.06, 0.23), ("flexattention", 128): (0.04, 0.23),
                # the sm_90a kernel (sm90.json: 2026-12-03-sm90-dataset/visit2/sm90-rules.json)
                # unaligned causal tails run unmasked (unmasked_covered_rules): max 20.4 -> 11.4 %;
                # d64 1.1 / 7.0 -> 1.5 / 8.2 % with the document costs of today's kernel
                # (2026-12-04-doc-runs-retime): these runs' documents ran the older id test
                ("sm90", 64): (0.02, 0.12), ("sm90", 128): (0.04, 0.19)}
# The blind set, predicted by the shipped calibrations without refitting.
BLIND_BOUNDS = {("golden", 64): (0.02, 0.11), ("golden", 128): (0.02, 0.07),
                ("flexattention", 64): (0.04, 0.15), ("flexattention", 128): (0.035, 0.14)}
# The second blind set (FlexAttention only), defined and measured after this model was fixed.
BLIND2_BOUNDS = {("flexattention", 64): (0.05, 0.21), ("flexattention", 128): (0.045, 0.13)}
# The third blind set (FlexAttention), defined, and predicted (predicted-before-measurement.json),
# after the unaligned weights were fixed.
BLIND3_BOUNDS = {("flexattention", 64): (0.04, 0.14), ("flexattention", 128): (0.05, 0.20)}
# (d128's max was 0.17 until the SASS op counts of 2026-12-03 moved gna 48x48 dilation 3 from -15
# to -19 %; they brought the rules dataset's d128 max from 22.5 to 16.6 %.)
# The fourth blind set (defined before measurement, 2026-12-03; the d64 model was chosen after
# it was seen, see golden/README.md) and the fifth (defined and predicted before measurement,
# with the model that ships).
BLIND4_BOUNDS = {("flexattention", 64): (0.045, 0.12), ("flexattention", 128): (0.04, 0.11)}
BLIND5_BOUNDS = {("flexattention", 64): (0.045, 0.23), ("flexattention", 128): (0.05, 0.08)}
# The sixth (defined and predicted before measurement with the any-order schedule bound, each
# shape's dense run in the same session): measured 2.8 / 7.8 % and 2.6 / 6.7 %.
BLIND6_BOUNDS = {("flexattention", 64): (0.035, 0.09), ("flexattention", 128): (0.035, 0.08)}
# The seventh (FlexAttention and the sm90 kernel, defined and predicted before measurement, the
# dense runs in the same session): measured 3.1 / 17.7, 2.3 / 7.7 (FlexAttention d64, d128) and
# 1.3 / 9.6, 1.6 / 12.5 % (sm90 d64, d128).
BLIND7_BOUNDS = {("flexattention", 64): (0.035, 0.19), ("flexattention", 128): (0.03, 0.085),
                 ("sm90", 64): (0.02, 0.105), ("sm90", 128): (0.02, 0.135)}
# The unaligned-length sweep (FlexAttention; its d64 weights by multiple were read from it).
UNALIGNED_BOUNDS = {("flexattention", 64): (0.03, 0.13), ("flexattention", 128): (0.05, 0.12)}
# The rules dataset's FlexAttention d64 runs measured again in another session, calibrated on
# that visit's own 5 base runs (the protocol of the hidden sets).
VISIT2_BOUNDS = {("flexattention", 64): (0.05, 0.27)}


def assert_is_the_committed_report(out: Path, source: Path, report: str = "validation") -> None:
    """The committed REPORT/validation.csv is what the same command writes today (the reports
    are rewritten by golden/regenerate_validation.sh; fixed decimals, so the text is compared)."""
    committed = (source / report / "validation.csv").read_text()
    assert (out / "validation.csv").read_text() == committed, \
        f"{source}/{report} is stale: run golden/regenerate_validation.sh"


def scratch_copy(root: Path, source: Path) -> Path:
    for path in source.glob("*.json"):
        shutil.copy(path, root / path.name)
    return root


def validated_summary(tmp_path: Path, source: Path, dataset: str, bounds: dict, runs: int,
                      args: tuple = ("--shipped", str(SHIPPED)), report: str = "validation",
                      committed: bool = True) -> tuple[dict, Path]:
    """`source` validated in a scratch copy (its masks regenerated) with validate_gpu's `args`
    (default: predicted by the shipped calibrations): with `committed`, the committed `report`
    is what that writes; every configuration of `bounds` and only those, each with `runs`
    held-out runs and errors under its (median, max) bounds. Returns summary.json and the
    report folder."""
    root = tmp_path / source.name
    root.mkdir()
    scratch_copy(root, source)
    gpu_dataset.generate(TILESIM, root, dataset)
    out = tmp_path / "report"
    assert gpu_validation.main(["--dataset", str(root), "--build-dir", str(BUILD), "--out",
                                str(out), *args]) == 0
    if committed:
        assert_is_the_committed_report(out, source, report)
    summary = json.loads((out / "summary.json").read_text())
    assert {(s["kernel"], s["head_dim"]) for s in summary["results"]} == set(bounds)
    for result in summary["results"]:
        median_bound, max_bound = bounds[(result["kernel"], result["head_dim"])]
        assert result["held_out_runs"] == runs
        assert result["median_abs_error"] < median_bound, result
        assert result["max_abs_error"] < max_bound, result
    return summary, out


@pytest.fixture(scope="module")
def legacy(tmp_path_factory):
    root = scratch_copy(tmp_path_factory.mktemp("legacy"), LEGACY)
    gpu_dataset.generate(TILESIM, root)
    return root


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    # The two datasets side by side as in the tree, so the rule runs' relative mask paths
    # (../2026-12-02-flex-costs/masks/...) are the ones the shipped calibrations record.
    parent = tmp_path_factory.mktemp("h200")
    root = parent / RULES.name
    root.mkdir()
    scratch_copy(root, RULES)
    gpu_dataset.generate(TILESIM, root, "rules-2026-12")
    costs = parent / COSTS.name
    costs.mkdir()
    scratch_copy(costs, COSTS)
    probe = parent / CTA_PROBE.name
    probe.mkdir()
    scratch_copy(probe, CTA_PROBE)
    gpu_dataset.generate(TILESIM, probe, "cta-probe-2026-12")
    # The session the sm90 document costs come from (validate_gpu generates its masks).
    doc_runs = parent / DOC_RUNS.name / "rules"
    doc_runs.mkdir(parents=True)
    scratch_copy(doc_runs, DOC_RUNS / "rules")
    return root


def mask_arrays_digest(masks: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(masks.glob("*.npz")):
        with np.load(path) as z:
            for name in sorted(set(z.files) - {"rule"}):
                a = z[name]
                digest.update(f"{path.name}:{name}:{a.dtype.str}:{a.shape}".encode())
                digest.update(np.ascontiguousarray(a).tobytes())
    return digest.hexdigest()


def test_the_legacy_report_is_the_committed_one(legacy, tmp_path):
    assert gpu_validation.main(["--dataset", str(legacy), "--build-dir", str(BUILD), "--out",
                                str(tmp_path)]) == 0
    assert_is_the_committed_report(tmp_path, LEGACY)


def test_the_flex_costs_report_is_the_committed_one(tmp_path):
    root = tmp_path / COSTS.name
    root.mkdir()
    scratch_copy(root, COSTS)
    gpu_dataset.generate(TILESIM, root, "flex-costs-2026-12")
    assert gpu_validation.main(["--dataset", str(root), "--build-dir", str(BUILD), "--out",
                                str(tmp_path / "report"), "--shipped", str(SHIPPED)]) == 0
    assert_is_the_committed_report(tmp_path / "report", COSTS)


def test_regenerated_legacy_masks_are_the_measured_ones(legacy):
    assert len(list((legacy / "masks").glob("*.npz"))) == 52
    assert mask_arrays_digest(legacy / "masks") == LEGACY_ARRAYS_SHA256


def check_rows(rows, kernel, head_dim, bounds):
    held = [abs(r.error) for r in rows if not r.in_fit]
    median_bound, max_bound = bounds[(kernel, head_dim)]
    assert statistics.median(held) < median_bound
    assert max(held) < max_bound


@pytest.mark.parametrize("kernel, head_dim", sorted(LEGACY_BOUNDS))
def test_legacy_held_out_errors_stay_within_bounds(legacy, kernel, head_dim):
    cases = {c["name"]: c for c in json.loads((legacy / "cases.json").read_text())["cases"]}
    rows = gpu_validation.validate_kernel(TILESIM, legacy, kernel, head_dim, cases)
    assert sum(not r.in_fit for r in rows) >= len(rows) - 5
    check_rows(rows, kernel, head_dim, LEGACY_BOUNDS)
    # Its 48 sparse runs per configuration have their dense twins in the same session: no
    # measured speedup beats speedup_bound_sched (7 did by up to 2.3 % while the bound's sparse
    # side was the launch-order schedule; 2026-12-03: the shortest any dispatch order reaches).
    sparse = [r for r in rows if r.measured_speedup is not None and r.family != "dense"]
    assert len(sparse) == 48
    assert [r.case for r in sparse if r.exceeds_bound] == []
    assert max(r.measured_speedup / r.bound_sched for r in sparse) < 1.0


@pytest.fixture(scope="module")
def rules_validation(rules, tmp_path_factory):
    out = tmp_path_factory.mktemp("rules-validation")
    assert gpu_validation.main(["--dataset", str(rules), "--build-dir", str(BUILD), "--out",
                                str(out / "report"), "--calibrations", str(out / "cals"),
                                "--rule-runs-from", str(rules.parent / COSTS.name),
                                "--base-runs-from", str(rules.parent / CTA_PROBE.name),
                                "--rule-costs-from",
                                f"sm90:document:{rules.parent / DOC_RUNS.name}/rules"]) == 0
    return out


def test_shipped_calibrations_are_what_validate_gpu_writes(rules_validation):
    written = sorted((rules_validation / "cals").glob("*.json"))
    assert [p.name for p in written] == sorted(p.name for p in SHIPPED.glob("*.json"))

    def numbers(value, prefix=""):  # every number in a JSON document, by its path
        if isinstance(value, dict):
            return {k: v for key, item in value.items()
                    for k, v in numbers(item, f"{prefix}.{key}").items()}
        if isinstance(value, list):
            return {k: v for i, item in enumerate(value)
                    for k, v in numbers(item, f"{prefix}[{i}]").items()}
        return {prefix: value} if isinstance(value, (int, float)) else {}

    for path in written:
        fresh = numbers(json.loads(path.read_text()))
        shipped = numbers(json.loads((SHIPPED / path.name).read_text()))
        assert fresh.keys() == shipped.keys(), path.name
        for key, value in fresh.items():
            assert math.isclose(value, shipped[key], rel_tol=1e-9, abs_tol=1e-15), \
                f"{path.name}: {key}: shipped {shipped[key]}, validate_gpu.py writes {value} " \
                f"(regenerate: golden/README.md, 'scripts/validate_gpu.py ... --calibrations')"


def test_the_rules_report_is_the_committed_one(rules_validation):
    assert_is_the_committed_report(rules_validation / "report", RULES)


@pytest.mark.parametrize("kernel, head_dim", sorted(RULES_BOUNDS))
def test_rules_held_out_errors_stay_within_bounds(rules_validation, kernel, head_dim):
    summary = json.loads((rules_validation / "report" / "summary.json").read_text())
    result = next(s for s in summary["results"]
                  if s["kernel"] == kernel and s["head_dim"] == head_dim)
    median_bound, max_bound = RULES_BOUNDS[(kernel, head_dim)]
    assert result["held_out_runs"] >= 75
    assert result["median_abs_error"] < median_bound
    assert result["max_abs_error"] < max_bound
    # Every rule of mask_rules.md that the dataset measures is among the held-out ones.
    assert {"document", "prefix_lm", "band", "causal_window", "sliding_window", "gna",
            "a_shape", "causal", "allow"} <= set(result["by_rule"])


def test_no_measured_speedup_beats_the_schedule_bound(rules_validation):
    summary = json.loads((rules_validation / "report" / "summary.json").read_text())
    for result in summary["results"]:
        assert result["speedups_checked"] >= 10
        assert result["runs_over_bound"] == [], result


@pytest.mark.parametrize("source, dataset, bounds, runs", [
    (BLIND, "blind-2026-12", BLIND_BOUNDS, 24), (BLIND2, "blind2-2026-12", BLIND2_BOUNDS, 24),
    (BLIND3, "blind3-2026-12", BLIND3_BOUNDS, 24),
    (UNALIGNED, "unaligned-2026-12", UNALIGNED_BOUNDS, 26),
    (BLIND4, "blind4-2026-12", BLIND4_BOUNDS, 24), (BLIND5, "blind5-2026-12", BLIND5_BOUNDS, 24),
    (BLIND6, "blind6-2026-12", BLIND6_BOUNDS, 24), (BLIND7, "blind7-2026-12", BLIND7_BOUNDS, 24)])
def test_shipped_calibrations_predict_the_blind_sets(tmp_path, source, dataset, bounds, runs):
    # blind4's and blind5's committed reports are written with --dense-from (checked below).
    _, out = validated_summary(tmp_path, source, dataset, bounds, runs,
                               committed=source not in (BLIND4, BLIND5))
    if source in (BLIND6, BLIND7):
        # Each shape's dense run was measured in the same session as its two sparse masks: none
        # of the sparse speedups reaches speedup_bound_sched (measured: at most 0.969 of it on
        # blind6, 0.994 on blind7, sm90 d128).
        with open(out / "validation.csv") as f:
            ratios = [float(r["measured_speedup"]) / float(r["speedup_bound_sched"])
                      for r in csv.DictReader(f) if r["family"] != "dense"]
        assert len(ratios) == (32 if source == BLIND6 else 64) and max(ratios) < 1.0


RETIME = RESULTS / "2026-12-03-retime"
# The 2026-12-03 re-timing (one session): the 52-mask dataset (sm90 and FlexAttention, both held
# out: the shipped calibrations were fit on the rules dataset) measured 4.6 / 44.8, 2.9 / 7.5
# (FlexAttention d64, d128), 0.8 / 9.2, 2.3 / 13.0 % (sm90); the rules dataset again (the
# calibrations' own masks on another day and, for sm90, a later kernel) 3.6 / 17.6, 3.0 / 63.4,
# 1.1 / 12.2, 3.7 / 13.5 % (sm90 d64 1.2 / 19.9 % before the unaligned causal tails ran
# unmasked, KernelSpec::unmasked_covered_rules). The maxima of 44.8 and 63.4 % are 0.06-0.07 ms runs under the
# calibrated host floor of about 0.1 ms (golden/results/h200/2026-12-03-retime/README.md).
RETIME_BOUNDS = {
    "dataset": ("2026-11-23", 52, {("flexattention", 64): (0.05, 0.46),
                                   ("flexattention", 128): (0.035, 0.08),
                                   ("sm90", 64): (0.012, 0.095), ("sm90", 128): (0.028, 0.135)}),
    "rules": ("rules-2026-12", 93, {("flexattention", 64): (0.04, 0.18),
                                    ("flexattention", 128): (0.035, 0.64),
                                    ("sm90", 64): (0.015, 0.13), ("sm90", 128): (0.042, 0.14)})}


@pytest.mark.parametrize("part", sorted(RETIME_BOUNDS))
def test_shipped_calibrations_on_the_retimed_sets(tmp_path, part):
    """The committed reports of 2026-12-03-retime/{dataset,rules} are what the shipped
    calibrations predict today; errors no worse than measured; no measured speedup over the
    schedule bound (1 % noise)."""
    dataset, runs, bounds = RETIME_BOUNDS[part]
    summary, _ = validated_summary(tmp_path, RETIME / part, dataset, bounds, runs)
    for result in summary["results"]:
        assert result["runs_over_bound"] == [], result


VERIFY = RESULTS / "2026-12-03-verify"
# Main's sm90 kernel (flat and persistent grids, d64 and d128) and FlexAttention d64 timed on
# another H200, predicted by the shipped calibrations: measured (median / max) FlexAttention
# 7.3 / 27.0 % (dataset) and 4.2 / 18.2 % (rules; this machine's FlexAttention ran 2 % slower than
# the retime's), sm90 1.1 / 13.8, 2.2 / 14.0 % and 1.8 / 12.3, 3.7 / 14.1 %, sm90_persistent
# 1.6 / 8.4, 5.1 / 17.9 % and 1.6 / 14.6, 3.7 / 16.4 % (d64, d128; with the flat grid's per-item
# cost, before item_overhead_ratio, 3.4 / 17.2, 4.7 / 13.6 % and 4.0 / 22.5, 5.2 / 14.4 %; rules d64
# were 2.0 / 20.4 and 4.2 / 41.1 % before unaligned causal tails ran unmasked).
VERIFY_BOUNDS = {
    "dataset": ("2026-11-23", 52, {("flexattention", 64): (0.075, 0.28),
                                   ("sm90", 64): (0.012, 0.14), ("sm90", 128): (0.023, 0.145),
                                   ("sm90_persistent", 64): (0.017, 0.09),
                                   # 5.3 % since interval_1d_ops (2026-12-04): d128 windows -3 %
                                   ("sm90_persistent", 128): (0.055, 0.185)}),
    "rules": ("rules-2026-12", 93, {("flexattention", 64): (0.043, 0.185),
                                    # d64 maxima 12.3 and 14.6 % (documents) until the sm90
                                    # document costs came from 2026-12-04-doc-runs-retime
                                    ("sm90", 64): (0.019, 0.06), ("sm90", 128): (0.038, 0.145),
                                    ("sm90_persistent", 64): (0.017, 0.065),
                                    ("sm90_persistent", 128): (0.038, 0.17)})}


@pytest.mark.parametrize("part", sorted(VERIFY_BOUNDS))
def test_shipped_calibrations_on_the_verify_visit(tmp_path, part):
    """The committed reports of 2026-12-03-verify/{dataset,rules} are what the shipped
    calibrations predict today, errors no worse than measured, and no measured speedup over the
    schedule bound (1 % noise), the sm90 grids' tail-heavy runs included."""
    dataset, runs, bounds = VERIFY_BOUNDS[part]
    summary, _ = validated_summary(
        tmp_path, VERIFY / part, dataset, bounds, runs,
        args=("--kernels", "flexattention,sm90,sm90_persistent", "--shipped", str(SHIPPED)))
    for result in summary["results"]:
        assert result["runs_over_bound"] == [], result



AUTO = RESULTS / "2026-12-03-auto"
# The same sm90 kernel on a third H200 (the --grid auto visit: both fixed grids and FlexAttention
# d64 and d128 on one machine), predicted by the shipped calibrations: measured (median / max)
# FlexAttention 3.9 / 45.7, 2.4 / 9.9 % (dataset, d64 and d128; the 45.7 % is a 0.069 ms run) and
# 4.9 / 19.4, 3.6 / 15.4 % (rules); sm90 1.1 / 14.3, 2.7 / 12.4 % and 1.8 / 12.3, 2.8 / 14.0 %;
# sm90_persistent 1.3 / 9.0, 4.9 / 13.8 % and 1.7 / 13.9, 3.1 / 14.8 % (3.0 / 17.8, 4.4 / 12.7 %
# and 3.6 / 21.2, 4.9 / 13.5 % with the flat grid's per-item cost); the --grid auto runs by
# sm90_auto (the grid the bench picked, as tilesim picks it) 1.0 / 8.9, 3.3 / 14.2 % and
# 2.0 / 13.8, 3.4 / 16.2 % (1.7 / 17.8, 2.6 / 12.6 % and 3.6 / 21.2, 3.4 / 12.8 % before). Rules d64
# were 2.0 / 20.0 % (sm90) and 3.8 / 40.2 % (persistent) with unaligned causal tails masked.
AUTO_BOUNDS = {
    "dataset": ("2026-11-23", 52, {("flexattention", 64): (0.04, 0.46),
                                   ("flexattention", 128): (0.025, 0.10),
                                   # sm90 d128: 3.0 % since interval_1d_ops (2026-12-04)
                                   ("sm90", 64): (0.012, 0.145), ("sm90", 128): (0.031, 0.125),
                                   ("sm90_persistent", 64): (0.014, 0.095),
                                   ("sm90_persistent", 128): (0.05, 0.14),
                                   ("sm90_auto", 64): (0.011, 0.095),
                                   # 3.4 % since interval_1d_ops (2026-12-04): d128 windows -3 %
                                   ("sm90_auto", 128): (0.036, 0.145)}),
    "rules": ("rules-2026-12", 93, {("flexattention", 64): (0.05, 0.195),
                                    ("flexattention", 128): (0.037, 0.155),
                                    # d64 maxima 12.3, 13.9 and 13.8 % (documents) until the
                                    # sm90 document costs came from 2026-12-04-doc-runs-retime
                                    ("sm90", 64): (0.018, 0.06), ("sm90", 128): (0.029, 0.145),
                                    ("sm90_persistent", 64): (0.018, 0.07),
                                    ("sm90_persistent", 128): (0.032, 0.15),
                                    ("sm90_auto", 64): (0.017, 0.06),
                                    ("sm90_auto", 128): (0.034, 0.165)})}



RETIME4 = RESULTS / "2026-12-04-retime"
# Main's kernel (a80cbe9) on a fourth H200, every grid and FlexAttention d64 and d128 on one
# machine, timed after the precomputed-costs probe set the neighborhood terms and predicted by the
# shipped calibrations (median / max): FlexAttention 2.5 / 36.6, 3.3 / 10.2 % (dataset, d64 and
# d128; its short runs sit at 0.07-0.16 ms against a 0.10 ms floor) and 4.0 / 33.0,
# 3.4 / 17.5 % (rules); sm90 1.1 / 5.2, 2.2 / 9.0 % and 1.9 / 12.1, 2.6 / 12.4 %; sm90_persistent
# 1.2 / 7.3, 4.4 / 13.6 % and 1.5 / 15.4, 2.7 / 17.2 %; sm90_auto 0.9 / 7.9, 3.4 / 12.3 % and
# 1.6 / 14.7, 3.0 / 16.0 %. The rules set's sm90 d64 maxima were documents (+9 % median: the
# shipped document cost predated the kernel's d64 document pass); with the document costs of
# 2026-12-04-doc-runs-retime, sm90 1.9 / 5.2, sm90_persistent 1.5 / 6.8, sm90_auto 1.6 / 6.2 %.
RETIME4_BOUNDS = {
    "dataset": ("2026-11-23", 52, {("flexattention", 64): (0.03, 0.37),
                                   ("flexattention", 128): (0.035, 0.105),
                                   ("sm90", 64): (0.012, 0.055), ("sm90", 128): (0.024, 0.095),
                                   ("sm90_persistent", 64): (0.013, 0.075),
                                   ("sm90_persistent", 128): (0.046, 0.14),
                                   ("sm90_auto", 64): (0.01, 0.082),
                                   ("sm90_auto", 128): (0.036, 0.127)}),
    "rules": ("rules-2026-12", 93, {("flexattention", 64): (0.042, 0.335),
                                    ("flexattention", 128): (0.036, 0.18),
                                    # d64 maxima 12.1, 15.4 and 14.7 % (documents) until the
                                    # sm90 document costs came from 2026-12-04-doc-runs-retime
                                    ("sm90", 64): (0.021, 0.06), ("sm90", 128): (0.028, 0.128),
                                    ("sm90_persistent", 64): (0.017, 0.075),
                                    ("sm90_persistent", 128): (0.029, 0.175),
                                    ("sm90_auto", 64): (0.018, 0.07),
                                    ("sm90_auto", 128): (0.032, 0.163)})}

RETIME5 = DOC_RUNS
# The kernel with packed documents on the interval path (kDocumentRuns) on a fifth H200, every grid
# and FlexAttention d64 and d128 on one machine, predicted by the shipped calibrations (whose sm90
# document costs come from this visit's rules runs; its base costs from 2026-12-02-rules):
# FlexAttention 3.5 / 42.2, 2.6 / 10.3 % (dataset, d64 and d128) and 4.4 / 23.1, 2.8 / 54.8 %
# (rules; the 54.8 is block_topk-004, 0.065 ms under the 0.10 ms host floor); sm90 1.2 / 4.5,
# 2.1 / 13.3 % and 1.8 / 8.5, 3.5 / 14.5 %; sm90_persistent 1.3 / 7.7, 4.5 / 12.4 % and
# 1.7 / 12.7, 3.7 / 14.9 %; sm90_auto 1.0 / 8.2, 3.2 / 11.9 % and 1.9 / 11.8, 3.0 / 16.3 %.
RETIME5_BOUNDS = {
    "dataset": ("2026-11-23", 52, {("flexattention", 64): (0.04, 0.43),
                                   ("flexattention", 128): (0.03, 0.11),
                                   ("sm90", 64): (0.014, 0.05), ("sm90", 128): (0.025, 0.14),
                                   ("sm90_persistent", 64): (0.015, 0.08),
                                   ("sm90_persistent", 128): (0.048, 0.13),
                                   ("sm90_auto", 64): (0.012, 0.085),
                                   ("sm90_auto", 128): (0.035, 0.125)}),
    "rules": ("rules-2026-12", 93, {("flexattention", 64): (0.047, 0.24),
                                    ("flexattention", 128): (0.031, 0.56),
                                    ("sm90", 64): (0.02, 0.09), ("sm90", 128): (0.038, 0.15),
                                    ("sm90_persistent", 64): (0.019, 0.13),
                                    ("sm90_persistent", 128): (0.04, 0.155),
                                    ("sm90_auto", 64): (0.021, 0.12),
                                    ("sm90_auto", 128): (0.033, 0.17)})}


# Visits that timed every sm90 grid and FlexAttention at both head dims on one machine.
ALL_GRID_VISITS = {AUTO: AUTO_BOUNDS, RETIME4: RETIME4_BOUNDS, RETIME5: RETIME5_BOUNDS}


@pytest.mark.parametrize("visit, part",
                         [(v, p) for v, bounds in ALL_GRID_VISITS.items() for p in sorted(bounds)],
                         ids=lambda x: x.name if isinstance(x, Path) else x)
def test_shipped_calibrations_on_the_all_grid_visits(tmp_path, visit, part):
    """The committed reports of 2026-12-03-auto, 2026-12-04-retime and 2026-12-04-doc-runs-retime
    ({dataset,rules}) are what
    the shipped calibrations predict today (FlexAttention at both head dims, both sm90 grids and
    --grid auto's runs), errors no worse than measured, and no measured speedup over the schedule
    bound (1 % noise)."""
    dataset, runs, bounds = ALL_GRID_VISITS[visit][part]
    summary, _ = validated_summary(
        tmp_path, visit / part, dataset, bounds, runs,
        args=("--kernels", "flexattention,sm90,sm90_persistent,sm90_auto", "--shipped",
              str(SHIPPED)))
    for result in summary["results"]:
        assert result["runs_over_bound"] == [], result


SM90_VISIT2 = RESULTS / "2026-12-03-sm90-dataset" / "visit2"
# The sm90 kernel's flat and persistent grids on the 52-mask dataset, held out, in the session
# whose rules runs fit the shipped sm90 calibrations: measured 0.7 / 6.0 and 2.4 / 13.2 % (flat,
# d64 and d128), 1.0 / 9.8 and 3.0 / 15.3 % (persistent: the flat grid's calibrations with the
# persistent preset's item_overhead_ratio, fitted on these runs; 2.1 / 11.1 and 4.2 / 16.3 % with
# the flat grid's per-item cost).
# Since the precomputed-costs probe (2026-12-04) its undilated windows are predicted for today's
# kernel, whose interval test (a95f213) these runs predate: 0.8 / 13.4, 2.4 / 13.2 % and
# 1.0 / 16.5, 3.9 / 18.0 %, the maxima the 4K-token window at 0.10-0.13 ms.
SM90_VISIT2_BOUNDS = {("sm90", 64): (0.01, 0.14), ("sm90", 128): (0.028, 0.14),
                      ("sm90_persistent", 64): (0.011, 0.17),
                      ("sm90_persistent", 128): (0.041, 0.185)}


def test_sm90_grids_with_the_flat_calibrations(tmp_path):
    """The persistent preset (sm90_persistent: static round robin over each head's Q tiles
    longest first) predicts the persistent grid's runs with the flat grid's shipped calibrations:
    the committed report, errors no worse than measured, and no run over the bound. Without the
    kernel's clock headroom (the power limit) two flat and seven tail-heavy persistent d128 runs
    exceeded it by 2-10 %; that headroom is checked against the H200 probe in
    test_active_sm_probe.py."""
    summary, _ = validated_summary(
        tmp_path, SM90_VISIT2, "2026-11-23", SM90_VISIT2_BOUNDS, 52,
        args=("--kernels", "sm90,sm90_persistent", "--shipped", str(SHIPPED)))
    for result in summary["results"]:
        assert result["runs_over_bound"] == [], result


def test_persistent_item_overhead_ratio_is_the_best_of_its_neighbours(tmp_path):
    """sm90_persistent's item_overhead_ratio is the fit its preset says: on the persistent grid's
    runs of 2026-12-03-sm90-dataset/visit2 with sm90's shipped calibrations, the mean of the two
    head dims' median |error| is no more than 0.05 points above that of the ratios 0.05 either
    side (since 2026-12-04 these runs tie 0.70, 2.43 %, and 0.75, 2.47 %: sm90_persistent.yaml).
    A ratio r is emulated by scaling the calibrations' cta_us by r / the preset's (the item cost
    is their product)."""
    ratio = tilesim_ref.load_kernel("sm90_persistent").item_overhead_ratio
    assert ratio == 0.75  # the value the preset's comment documents
    lower, upper = round(ratio - 0.05, 2), round(ratio + 0.05, 2)
    root = tmp_path / SM90_VISIT2.name
    root.mkdir()
    scratch_copy(root, SM90_VISIT2)
    gpu_dataset.generate(TILESIM, root, "2026-11-23")
    score = {}
    for r in (lower, ratio, upper):
        cals = tmp_path / f"cals-{r}"
        cals.mkdir()
        for path in SHIPPED.glob("*.json"):
            doc = json.loads(path.read_text())
            if path.name.startswith("h200_sm90_"):
                doc["cost_model"]["cta_us"] *= r / ratio
            (cals / path.name).write_text(json.dumps(doc))
        out = tmp_path / f"out-{r}"
        assert gpu_validation.main(["--dataset", str(root), "--build-dir", str(BUILD), "--out",
                                    str(out), "--kernels", "sm90_persistent", "--shipped",
                                    str(cals)]) == 0
        summary = json.loads((out / "summary.json").read_text())
        assert {s["head_dim"] for s in summary["results"]} == {64, 128}
        score[r] = statistics.mean(s["median_abs_error"] for s in summary["results"])
    assert score[ratio] < min(score[lower], score[upper]) + 0.0005, score
    assert score[ratio] < max(score[lower], score[upper]), score  # not on a slope


def test_validate_gpu_kernels_option_rejects_unknown_names(tmp_path, capsys):
    assert gpu_validation.main(["--dataset", str(SM90_VISIT2), "--build-dir", str(BUILD),
                                "--out", str(tmp_path / "x"), "--kernels", "sm90,sm91",
                                "--shipped", str(SHIPPED)]) == 2
    assert "--kernels: expected names from" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("spec, why", [
    ("sm91:document:{doc}", "expected KERNEL:RULE[,RULE...]:DIR with a kernel from"),
    ("sm90::{doc}", "expected KERNEL:RULE[,RULE...]:DIR with a kernel from"),
    ("sm90:document", "expected KERNEL:RULE[,RULE...]:DIR with a kernel from"),
    ("golden:document:{doc}", "expected a dataset folder with cases.json and golden's runs"),
    ("sm90:document:{missing}", "expected a dataset folder with cases.json and sm90's runs"),
])
def test_validate_gpu_rule_costs_from_rejects_bad_specs(tmp_path, capsys, spec, why):
    """A bad --rule-costs-from is exit 2, named, before anything is read or written."""
    spec = spec.format(doc=DOC_RUNS / "rules", missing=tmp_path / "nowhere")
    assert gpu_validation.main(["--dataset", str(RULES), "--build-dir", str(BUILD), "--out",
                                str(tmp_path / "x"), "--rule-costs-from", spec]) == 2
    err = capsys.readouterr().err
    assert "--rule-costs-from" in err and why in err, err
    assert not (tmp_path / "x").exists()


def test_validate_gpu_rule_costs_from_rejects_a_rule_without_a_rule_run(rules, tmp_path, capsys):
    """A rule the session has no rule run of is exit 2, naming the session, kernel and rule."""
    # --rule-runs-from none: the default (the flex-costs probe in the source tree) would have its
    # masks generated there.
    assert gpu_validation.main(["--dataset", str(rules), "--build-dir", str(BUILD), "--out",
                                str(tmp_path / "x"), "--kernels", "sm90", "--rule-runs-from",
                                "none", "--rule-costs-from",
                                f"sm90:document,ring:{rules.parent / DOC_RUNS.name}/rules"]) == 2
    err = capsys.readouterr().err
    assert "no sm90 d64 rule run of 'ring'" in err, err
    assert not (tmp_path / "x").exists()


def test_the_shipped_sm90_document_costs_name_their_session():
    """The shipped sm90 calibrations' document cost is the one fitted on the session of today's
    document path (2026-12-04-doc-runs-retime), and the file says so; the other rules' runs are
    the rules dataset's own."""
    for head_dim in (64, 128):
        fit = json.loads((SHIPPED / f"h200_sm90_d{head_dim}.json").read_text())["fit"]
        entry = fit["rule_op_us"]["document"]
        assert entry["run"].startswith(f"../{DOC_RUNS.name}/rules/masks/document-"), entry
        assert entry["fitted_with"] == "that session's own calibration and rule runs"
        others = [e["run"] for rule, e in fit["rule_op_us"].items() if rule != "document"]
        assert all(run.startswith("masks/") for run in others), others


def test_the_hidden_sets_protocol_on_blind7(tmp_path):
    """blind7 calibrated as the hidden sets are (protocol-roles.json: 5 base runs, 8 rule runs,
    11 held out): the committed report, FlexAttention d128 within the refit target (measured
    1.2 / 2.2 %), and every kernel's errors no worse than measured (2026-12-03). sm90 d64's
    max is sliding_window-1003 (-10.1 %): blind7 timed a kernel without the interval test for
    undilated windows (a95f213) that sm90.yaml's interval_1d_ops models (7.6 % before)."""
    bounds = {("flexattention", 64): (0.03, 0.175), ("flexattention", 128): (0.015, 0.05),
              ("sm90", 64): (0.015, 0.105), ("sm90", 128): (0.04, 0.14)}
    validated_summary(tmp_path, BLIND7, "blind7-2026-12", bounds, 11,
                      args=("--roles", str(BLIND7 / "protocol-roles.json"),
                            "--rule-runs-from", "none"), report="validation-protocol")


def test_the_hidden_sets_protocol_on_the_retimed_rules(tmp_path):
    """The rules dataset timed again (2026-12-03) and refit as the hidden sets are, on its own
    5 base runs and 9 rule runs (cases.json roles), 79 held out: the committed report, errors no
    worse than measured (FlexAttention 3.3 / 26.4 and 4.0 / 32.5 %, sm90 1.2 / 11.7 and
    3.9 / 17.9 %: the refit target is not met; golden/results/h200/2026-12-03-retime/README.md)."""
    bounds = {("flexattention", 64): (0.035, 0.27), ("flexattention", 128): (0.042, 0.33),
              ("sm90", 64): (0.013, 0.12), ("sm90", 128): (0.041, 0.19)}
    validated_summary(tmp_path, RETIME / "rules", "rules-2026-12", bounds, 79,
                      args=("--rule-runs-from", "none"), report="validation-protocol")


def test_the_hidden_sets_protocol_on_the_kernel_as_it_ships(tmp_path):
    """2026-12-04-doc-runs-retime's rules runs (the sm90 kernel with packed documents as
    intervals) refit as the hidden sets are, 79 held out: the committed report, errors no worse
    than measured (FlexAttention 5.8 / 40.2 and 3.5 / 24.1 %: its own rule runs hold few masked
    tiles, and a 2-D gna run prices 3-D grids; sm90 1.1 / 8.5 and 4.2 / 15.1 %; sm90_auto
    1.9 / 9.1 and 4.0 / 16.8 %). The targets are not met; at d128 not even the same runs repeat
    within them (test_run_repeatability.py)."""
    bounds = {("flexattention", 64): (0.06, 0.41), ("flexattention", 128): (0.037, 0.25),
              ("sm90", 64): (0.012, 0.09), ("sm90", 128): (0.044, 0.16),
              ("sm90_auto", 64): (0.021, 0.095), ("sm90_auto", 128): (0.042, 0.175)}
    validated_summary(tmp_path, DOC_RUNS / "rules", "rules-2026-12", bounds, 79,
                      args=("--kernels", "flexattention,sm90,sm90_auto", "--rule-runs-from",
                            "none"), report="validation-protocol")


def test_roles_naming_an_unknown_case_exit_2(tmp_path, capsys):
    root = tmp_path / "blind7"
    root.mkdir()
    scratch_copy(root, BLIND7)
    roles = tmp_path / "roles.json"
    roles.write_text(json.dumps({"calibration": ["no-such-case"], "rule_calibration": []}))
    assert gpu_validation.main(["--dataset", str(root), "--build-dir", str(BUILD), "--out",
                                str(tmp_path / "out"), "--roles", str(roles)]) == 2
    err = capsys.readouterr().err
    assert str(roles) in err and "no-such-case" in err
    # Refused before anything is generated or written.
    assert not (tmp_path / "out").exists() and not (root / "masks").exists()


def test_a_second_visit_calibrated_on_its_own_base_runs(rules, tmp_path):
    """The same 93 masks as the rules dataset (its regenerated masks, linked), timed again."""
    root = rules.parent / VISIT2.name
    root.mkdir(exist_ok=True)
    scratch_copy(root, VISIT2)
    assert json.loads((root / "cases.json").read_text()) == \
        json.loads((rules / "cases.json").read_text())
    if not (root / "masks").exists():
        (root / "masks").symlink_to(rules / "masks")
    out = tmp_path / "report"
    assert gpu_validation.main(["--dataset", str(root), "--build-dir", str(BUILD), "--out",
                                str(out), "--rule-runs-from",
                                str(rules.parent / COSTS.name)]) == 0
    assert_is_the_committed_report(out, VISIT2)
    summary = json.loads((out / "summary.json").read_text())
    assert {(s["kernel"], s["head_dim"]) for s in summary["results"]} == set(VISIT2_BOUNDS)
    for result in summary["results"]:
        median_bound, max_bound = VISIT2_BOUNDS[(result["kernel"], result["head_dim"])]
        assert result["held_out_runs"] == 88
        assert result["median_abs_error"] < median_bound, result
        assert result["max_abs_error"] < max_bound, result


@pytest.mark.parametrize("source, dataset", [(BLIND5, "blind5-2026-12"),
                                             (BLIND6, "blind6-2026-12"),
                                             (BLIND7, "blind7-2026-12")])
def test_predictions_recorded_before_measurement_are_the_shipped_models(tmp_path, source,
                                                                         dataset):
    """predicted-before-measurement.json (written before the set was measured) is what the shipped
    model still predicts, call for call: the set's errors are those of a model fixed before the
    set was seen. A model change fails this on purpose: the set is then no longer blind to the
    model, and this test moves to the next blind set (with a note) while the bounds tests stay.
    (blind3's test went when the cta probe changed the shipped calibrations, blind4's when the
    d128 neighborhood op counts came from the SASS, both 2026-12-03.) blind6 also recorded the
    schedule bound of every run; blind7 predicted the sm90 kernel too (its shipped calibrations)."""
    root = tmp_path / source.name
    root.mkdir()
    scratch_copy(root, source)
    cases = {c["name"]: c for c in gpu_dataset.generate(TILESIM, root, dataset)}
    recorded = json.loads((source / "predicted-before-measurement.json").read_text())
    predictions = recorded["predictions"]
    assert len(predictions) == (96 if source == BLIND7 else 48)
    # blind7's sm90 predictions went when the precomputed-costs probe gave the sm90 kernel's
    # neighborhoods their key-word and interval terms (2026-12-04); its FlexAttention ones stay.
    predictions = [p for p in predictions if p.get("kernel", "flexattention") != "sm90"]
    assert len(predictions) == 48
    for p in predictions:
        case, d = cases[p["case"]], p["head_dim"]
        family = p.get("kernel", "flexattention")
        kernel = "sm90" if family == "sm90" else "flexattention_d64" if d == 64 else "flexattention"
        args = [str(TILESIM), "predict", case["mask"], "--gpu", "h200", "--kernel", kernel,
                "--head-dim", str(d), "--gqa", str(case["gqa"]), "--calibration",
                str(SHIPPED / f"h200_{family}_d{d}.json"), "--rule", case.get("rule") or "allow"]
        out = subprocess.run(args, cwd=root, capture_output=True, text=True, check=True).stdout
        today = json.loads(out)["results"][0]
        if "speedup_bound_sched" in p:
            # Since blind7 was recorded the bound allows for the power limit: the sm90 kernel's
            # clock headroom multiplies it (FlexAttention has none); the times are unchanged.
            headroom = replace(tilesim_ref.load_kernel(kernel), head_dim=d).clock_headroom_ratio()
            assert math.isclose(today["speedup_bound_sched"], p["speedup_bound_sched"] * headroom,
                                rel_tol=1e-9), (p["case"], d)
        today = today["predicted_ms"]
        # 1e-6: a re-fit that reaches the same calibration along another floating-point path
        # moves a prediction by ~1e-8 (the rule fits' unit became the prior mask cost on
        # 2026-12-03: 1.5e-8 at most, blind7 sm90 d64); a model change moves it by far more.
        assert math.isclose(today, p["predicted_ms"], rel_tol=1e-6), (p["case"], d)


DENSE_TWINS = RESULTS / "2026-12-03-dense-twins"


@pytest.mark.parametrize("source, dataset", [(BLIND4, "blind4-2026-12"),
                                             (BLIND5, "blind5-2026-12")])
def test_blind_sets_speedups_against_their_dense_twins(tmp_path, source, dataset):
    """Every blind4/blind5 run's measured speedup over the dense run of its shape (measured in
    another session, dense-twins) against speedup_bound_sched. Two runs exceeded the bound by 3.8
    and 2.5 % (blind5: mixture-722 d64, prefix_lm-702 d128) while its sparse side was the
    launch-order schedule: both reached the tile bound, the hardware's dispatch balancing better
    than launch order does with constant tile times. Since 2026-12-03 the sparse side is the
    shortest any dispatch order reaches (speed_of_light.h): no run is over it."""
    root, twins = tmp_path / "blind", tmp_path / "twins"
    root.mkdir()
    twins.mkdir()
    scratch_copy(root, source)
    scratch_copy(twins, DENSE_TWINS)
    gpu_dataset.generate(TILESIM, root, dataset)
    gpu_dataset.generate(TILESIM, twins, "dense-twins-2026-12")
    out = tmp_path / "report"
    assert gpu_validation.main(["--dataset", str(root), "--build-dir", str(BUILD), "--out",
                                str(out), "--shipped", str(SHIPPED), "--dense-from",
                                str(twins)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert_is_the_committed_report(out, source)
    for result in summary["results"]:
        assert result["speedups_checked"] == 24, result
        assert result["runs_over_bound"] == [], result
    with open(out / "validation.csv") as f:
        ratios = [float(r["measured_speedup"]) / float(r["speedup_bound_sched"])
                  for r in csv.DictReader(f) if r["measured_speedup"] and r["family"] != "dense"]
    assert len(ratios) == 44  # 2 of the 24 masks are dense
    assert max(ratios) < 1.0  # measured: 0.977 at most

