"""Mask rule predicates (attnsim.mask_rules) against hand-computed cases and tilesim gen, and the
rules-2026-12 dataset's coverage, counts and roles."""
import collections
import subprocess

import numpy as np
import pytest

from attnsim import REPO_ROOT
from attnsim.gpu_dataset_rules import cases as rules_cases
from attnsim.mask_rules import (FULL, PARTIAL, Geometry, RuleError, allowed_matrix, block_classes,
                                  classes_from_lists, parse_rule, predicate, rules_equivalent)

TILESIM = REPO_ROOT / "build" / "default" / "sim" / "gpu" / "tilesim"


def keep(rule, seq, b=0, seq_kv=None, batch=1):
    return allowed_matrix(rule, Geometry(seq, seq_kv or seq, batch=batch), b).astype(int)


def test_rule_predicates_match_hand_computed_small_cases():
    assert keep("causal", 3).tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    assert keep("causal_window,window=2", 4).tolist() == [
        [1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]]
    assert keep("band,left=1,right=0", 3).tolist() == [[1, 0, 0], [1, 1, 0], [0, 1, 1]]
    assert keep("prefix_lm,prefix=2", 4).tolist() == [
        [1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]]
    assert keep("a_shape,sinks=1,window=1", 4).tolist() == [
        [1, 0, 0, 0], [1, 1, 0, 0], [1, 0, 1, 0], [1, 0, 0, 1]]
    assert keep("document,lengths=2x2,causal=0", 4).tolist() == [
        [1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1]]
    assert keep("document,lengths=1x2/2x1", 3, b=1, batch=2).tolist() == [
        [1, 0, 0], [1, 1, 0], [0, 0, 1]]
    # 1-D neighborhood: window 3 shifted inward at the ends; dilation 2 keeps the parity
    assert keep("sliding_window,window=3", 5).tolist()[0] == [1, 1, 1, 0, 0]
    assert keep("sliding_window,window=3", 5).tolist()[4] == [0, 0, 1, 1, 1]
    assert keep("sliding_window,window=2,dilation=2", 6).tolist()[3] == [0, 1, 0, 1, 0, 0]
    # 2-D 3x3 grid, window 1 in rows, 3 in columns: the query's own row
    assert keep("gna,dims=3x3,window=1x3", 9).tolist()[4] == [0, 0, 0, 1, 1, 1, 0, 0, 0]
    assert keep("allow", 2, seq_kv=3).tolist() == [[1, 1, 1], [1, 1, 1]]


def test_rule_text_errors_name_the_rule_and_the_key():
    for text, words in [("nonsense", "unknown rule 'nonsense'"),
                        ("band,left=3", "missing key 'right'"),
                        ("band,left=3,right=x", "key 'right': expected integers"),
                        ("causal,window=3", "causal takes no key 'window'"),
                        ("band,left=3,right", "not key=value")]:
        with pytest.raises(RuleError, match=words):
            parse_rule(text)
    with pytest.raises(RuleError, match="key 'lengths': batch 0 sums to 5"):
        predicate("document,lengths=2x3", Geometry(6, 6))
    with pytest.raises(RuleError, match="key 'dims'"):
        predicate("gna,dims=4x4,window=3", Geometry(20, 20))
    assert parse_rule("band,right=2,left=1").text() == "band,left=1,right=2"
    assert rules_equivalent("sliding_window,window=5", "sliding_window,dilation=1,window=5")


SMALL = [("causal", [], "causal"),
         ("causal_window", ["--window", "300"], "causal_window,window=300"),
         ("band", ["--left", "200", "--right", "77"], "band,left=200,right=77"),
         ("sliding_window", ["--window", "301", "--dilation", "3"],
          "sliding_window,dilation=3,window=301"),
         ("sliding_window", ["--window", "201", "--stride", "5", "--dilation", "2"],
          "sliding_window,dilation=2,stride=5,window=201"),
         ("gna", ["--dims", "24x40", "--window", "7x11", "--stride", "1x2"],
          "gna,dims=24x40,stride=1x2,window=7x11"),
         ("gna", ["--dims", "6x10x16", "--window", "3x5x5", "--dilation", "1x2x3"],
          "gna,dilation=1x2x3,dims=6x10x16,window=3x5x5"),
         ("a_shape", ["--sinks", "50", "--window", "260"], "a_shape,sinks=50,window=260"),
         ("prefix_lm", ["--prefix", "333"], "prefix_lm,prefix=333"),
         ("document", ["--lengths", "100x500x360/700x260", "--causal", "1"],
          "document,causal=1,lengths=100x500x360/700x260"),
         ("document", ["--lengths", "300x660", "--causal", "0"],
          "document,causal=0,lengths=300x660")]


@pytest.mark.parametrize("family,options,rule", SMALL, ids=[f"{s[0]}-{i}" for i, s in
                                                           enumerate(SMALL)])
def test_rule_block_classes_match_tilesim_gen(tmp_path, family, options, rule):
    if not TILESIM.is_file():
        pytest.skip(f"tilesim not built ({TILESIM})")
    seq, batch = 960, 2
    out = tmp_path / "m.npz"
    result = subprocess.run([str(TILESIM), "gen", family, *options, "--seq", str(seq),
                             "--heads", "1", "--batch", str(batch), "--format", "flex",
                             "--out", str(out)], capture_output=True, text=True)
    if result.returncode != 0:
        if "unknown" in result.stderr.lower() or family in ("document", "prefix_lm"):
            pytest.skip(f"this tilesim lacks {family}: {result.stderr.strip()[:120]}")
        pytest.fail(result.stderr)
    z = np.load(out)
    classes, pairs = block_classes(rule, Geometry(seq, seq, batch=batch))
    nk = classes.shape[-1]
    got = classes_from_lists({k: z[k] for k in ("kv_num_blocks", "kv_indices",
                                                "full_kv_num_blocks", "full_kv_indices")}, nk)
    assert (got[:, 0] == classes).all(), f"{rule}: block classes differ from tilesim gen"
    if "allowed_pairs" in z.files:
        assert int(z["allowed_pairs"].sum()) == int(pairs.sum())
    if "rule" in z.files:
        assert rules_equivalent(str(z["rule"][()]), rule)


def test_rule_block_classes_count_clipped_edge_blocks_as_partial():
    # create_block_mask pads the mask with False to whole blocks: a clipped block is partial.
    classes, pairs = block_classes("allow", Geometry(200, 200))
    assert classes[0, 0, 0] == FULL
    assert (classes[0, 1, :] == PARTIAL).all() and (classes[0, :, 1] == PARTIAL).all()
    assert pairs.sum() == 200 * 200


def test_dataset_rules_2026_12_meets_its_coverage_counts_and_roles():
    cases = rules_cases()
    names = [c["name"] for c in cases]
    assert len(set(names)) == len(names)
    runs_per_kernel = sum(len(c["head_dims"]) for c in cases)
    assert runs_per_kernel >= 160
    for dim in (64, 128):
        calibration = [c for c in cases if c["role"] == "calibration" and dim in c["head_dims"]]
        assert 1 <= len(calibration) <= 5
    cal = {c["family"]: c for c in cases if c["role"] == "calibration"}
    assert {"dense", "causal"} <= set(cal) and ({"random", "block_topk"} & set(cal))
    assert any(c["est_ms"]["128"] < 0.2 and c["family"] != "dense"
               for c in cases if c["role"] == "calibration")
    rule_names = collections.Counter(
        parse_rule(c["rule"] or "allow").name for c in cases if c["role"] == "rule_calibration")
    used = {parse_rule(c["rule"] or "allow").name for c in cases}
    assert set(rule_names) == used and set(rule_names.values()) == {1}
    assert {"allow", "causal", "causal_window", "band", "sliding_window", "gna", "document",
            "prefix_lm", "a_shape"} <= used
    families = {c["family"] for c in cases}
    assert {"block_topk", "random", "radial", "vertical_slash", "mixture",
            "permuted_block_sparse", "dense"} <= families
    assert {c["batch"] for c in cases} >= {1, 2, 4, 8}
    assert {c["gqa"] for c in cases} >= {1, 4, 8}
    assert {c["heads"] for c in cases} >= {8, 12, 16, 24, 32, 40, 48}
    assert min(c["seq"] for c in cases) == 2048 and max(c["seq"] for c in cases) == 65536
    assert any(c["seq"] % 128 for c in cases if c["block_source"] == "rule")
    # Block-level masks at whole blocks, except the dense runs that show FlexAttention's
    # unaligned-length kernel variant (gpu_dataset_rules.LATE).
    assert all(c["seq"] % 128 == 0 for c in cases
               if c["block_source"] == "file" and c["family"] != "dense")
    assert any(c["seq"] % 128 for c in cases if c["role"] == "calibration")
    assert all(c["heads"] % c["gqa"] == 0 for c in cases)
    docs = [c for c in cases if c["family"] == "document"]
    assert {c["doc_dist"] for c in docs} >= {"lognormal", "short"}
    assert any("causal=0" in c["rule"] for c in docs)
    bands = [parse_rule(c["rule"]) for c in cases if c["family"] == "band"]
    assert any(r.int("left") == r.int("right") and r.int("left") % 128 for r in bands)
    assert any(parse_rule(c["rule"]).int("window") % 128 for c in cases
               if c["family"] == "causal_window")
    assert any(parse_rule(c["rule"]).int("prefix") % 128 for c in cases
               if c["family"] == "prefix_lm")
    dilations = {int(parse_rule(c["rule"]).params.get("dilation", 1)) for c in cases
                 if c["family"] == "sliding_window"}
    assert dilations & {2, 3, 4}
    gnas = [parse_rule(c["rule"]) for c in cases if c["family"] == "gna"]
    assert {len(r.ints("dims")) for r in gnas} == {2, 3}
    assert any("stride" in r.params for r in gnas) and any("dilation" in r.params for r in gnas)
    for dim in ("64", "128"):
        assert sum(c["est_ms"][dim] for c in cases) < 40_000 / 2
    # every rule the dataset expects is valid at its case's geometry
    for c in cases:
        if c["rule"]:
            predicate(c["rule"], Geometry(c["seq"], c["seq"], batch=c["batch"]))
        assert f"masks/{c['name']}.npz" == c["mask"] and str(c["seed"]) in c["tilesim_args"]


def test_dataset_rules_is_deterministic_and_the_old_dataset_unchanged():
    from attnsim import gpu_dataset
    assert rules_cases() == rules_cases()
    old = gpu_dataset.dataset_cases("2026-11-23")
    committed = REPO_ROOT / "golden" / "results" / "h200" / "2026-11-23-dataset" / "cases.json"
    import json
    assert json.loads(committed.read_text())["cases"] == old
