"""DSE specs: bad input fails before anything runs, naming the file and key; sampling is
deterministic for a seed and covers what it promises; derived expressions and Pareto fronts."""
import math
import re
import subprocess

import pytest
import yaml

from dse_support import GPT2, REPO, dse_command, env
from attnsim.dse.plots import pareto_front
from attnsim.dse.spec import (SpecError, evaluate_expression, expand_points, load_spec,
                                parse_spec, point_key)

TILESIM = {"evaluator": "tilesim", "masks": {"c": "pattern:causal,seq={seq},heads=2"},
           "parameters": {"seq": {"values": [1024, 2048]}}}


def spec_file(tmp_path, body: dict):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


@pytest.mark.parametrize("body, key, expected", [
    ({**TILESIM, "parameters": {"seq": {"values": [1024]}, "warp_size": {"values": [32]}}},
     "parameters.warp_size", "kernel override"),
    ({**TILESIM, "parameters": {"seq": {"range": [4096, 1024], "steps": 3}}},
     "parameters.seq.range", "non-empty range"),
    ({**TILESIM, "parameters": {"seq": {"values": []}}}, "parameters.seq.values", "non-empty"),
    ({**TILESIM, "seed": "one"}, "seed", "an integer"),
    ({**TILESIM, "colour": 1}, "colour", "one of"),
    ({**TILESIM, "sampling": {"method": "lhs"}}, "sampling.samples", "positive integer"),
    ({**TILESIM, "derived": {"x": "__import__('os')"}}, "derived.x", "calls of"),
    ({**TILESIM, "derived": {"x": "predicted_ms / nonsense"}}, "derived.x", "columns among"),
    ({"evaluator": "spatten", "workloads": [GPT2], "parameters": {"qk.multiplierz": {"values": [512]}}},
     "parameters.qk.multiplierz", "spatten-sim config key"),
    ({"evaluator": "spatten", "workloads": [GPT2], "parameters": {"hbm.channels": {"values": ["many"]}}},
     "parameters.hbm.channels", "type (int)"),
    ({"evaluator": "spatten", "workloads": ["no/such.csv"]}, "workloads[0]", "existing workload"),
])
def test_an_invalid_spec_names_the_file_and_key(tmp_path, body, key, expected):
    path = spec_file(tmp_path, body)
    with pytest.raises(SpecError) as error:
        load_spec(path)
    message = str(error.value)
    assert re.match(rf"{re.escape(str(path))}:\d+: {re.escape(key)}: expected", message), message
    assert expected in message, message


def test_the_cli_exits_2_and_writes_nothing_on_a_bad_spec(tmp_path):
    path = spec_file(tmp_path, {**TILESIM, "parameters": {"seq": {"values": []}}})
    out = tmp_path / "run"
    run = subprocess.run(dse_command("run", path, "--out", out, "--serial"), env=env(),
                         capture_output=True, text=True, cwd=REPO, timeout=60)
    assert run.returncode == 2
    assert re.search(rf"{re.escape(str(path))}:\d+: parameters.seq.values: expected a "
                     "non-empty list", run.stderr), run.stderr
    assert not out.exists()


# What the DSE spec fuzzer (tests/fuzz/fuzz_dse_spec.py, issue #17) found: each was a traceback
# (RecursionError, MemoryError, ValueError, TypeError, OverflowError), a hang, a multi-line
# message or a silently accepted sweep over inf/NaN. The inputs are in tests/fuzz/regressions/
# dse_spec/ (replayed by fuzz_replay.dse_spec).
HEAD = 'evaluator: tilesim\nmasks: {c: "pattern:causal,seq={seq},heads=2"}\n'
TILE_Q = 'evaluator: tilesim\nmasks: {c: "pattern:causal,seq=1024,heads=2,block=%s"}\n' \
         'parameters: {tile_q: {values: [%s]}}\n'
BOMB = HEAD.replace("{seq}", "1024") + "derived:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"  {chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n"
    for i in range(8))


@pytest.mark.parametrize("text, key, expected", [
    (HEAD + "parameters: &a {seq: *a}\n", "parameters.seq", "does not contain itself"),
    (BOMB, "derived.", "at most 100000 values with YAML aliases expanded"),
    (HEAD + "sampling: {method: random, samples: 1000000000000}\n"
     "parameters: {seq: {values: [1024]}}\n", "sampling.samples", "at most 200000"),
    (HEAD + "parameters: {seq: {range: [1, 1000000000000], steps: 1000000000000}}\n",
     "parameters.seq.steps", "at most 200000"),
    (HEAD + "parameters:\n  seq: {values: [1024, 2048]}\n" + "".join(
        f"  t{i}: {{values: [1, 2, 3], set: tile_q}}\n" for i in range(20)),
     "parameters", "a sweep of at most 200000 points"),
    (HEAD + "sampling: {method: random, samples: 2}\nparameters: {seq: {range: [0, .inf]}}\n",
     "parameters.seq.range", "finite numbers"),
    (HEAD + "parameters: {seq: {range: [-1.0e+308, 1.0e+308], steps: 3}}\n",
     "parameters.seq.range", "finite numbers"),
    (HEAD + "seed: -1\nsampling: {method: lhs, samples: 2}\nparameters: {seq: {values: [1]}}\n",
     "seed", "a non-negative integer"),
    (TILE_Q % ("{tile_q[0]}", 64), "masks.c", "template fields that name a parameter"),
    (TILE_Q % ("{tile_q", 64), "masks.c", "balanced braces"),
    (TILE_Q % ("{tile_q:>999999999}", 64), "masks.c", "a format such as .2f"),
    (TILE_Q % ("{tile_q!r}", 64), "masks.c", "a format such as .2f"),
    ('evaluator: spatten\nworkloads: ["traces/spatten/small\\0.csv"]\n', "workloads[0]",
     "an existing workload file"),
    (HEAD.replace("{seq}", "1") + 'derived: {x: "1 +\\0 2"}\n', "derived.x",
     "an arithmetic expression"),
    (HEAD.replace("{seq}", "1") + 'derived: {x: "' + "-" * 20000 + '1"}\n', "derived.x",
     "at most 1000 characters"),
    (HEAD.replace("{seq}", "1") + 'derived: {x: "\'a\' * 1000000000"}\n', "derived.x",
     "arithmetic"),
    (HEAD.replace("{seq}", "1") + "plots: [{kind: scatter, x: hbm_bytes, y: predicted_ms, name: "
     "2024-01-01}]\n", "plots[0].name", "a name for the plot file"),
    (HEAD.replace("{seq}", "1") + "plots: [{kind: predicted_vs_measured, validation_csv: 5}]\n",
     "plots[0].validation_csv", "an existing validation CSV"),
    (HEAD.replace("{seq}", "1") + "plots: [{kind: predicted_vs_measured}, "
     "{kind: predicted_vs_measured}]\n", "plots[1]", "a name of its own"),
    ("name: ../../x\n" + HEAD.replace("{seq}", "1"), "name", "a name for the run folder"),
], ids=["recursive-alias", "alias-bomb", "samples-1e12", "steps-1e12", "grid-product-3e9",
        "range-infinite", "range-width-overflows", "seed-negative", "template-index",
        "template-unbalanced-brace", "template-huge-width", "template-conversion",
        "workload-nul-byte", "derived-nul-byte", "derived-deep-unary", "derived-string-constant",
        "plot-name-date", "validation-csv-not-a-string", "plots-with-one-name",
        "name-leaves-the-runs-folder"])
def test_what_the_fuzzer_found_is_exit_2_naming_the_file_and_key(tmp_path, text, key, expected):
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as error:
        load_spec(path)
    message = str(error.value)
    assert re.match(rf"{re.escape(str(path))}:\d+: {re.escape(key)}", message), message
    assert ": expected " in message and expected in message, message
    assert len(message.splitlines()) == 1 and len(message) < 1000, message


@pytest.mark.parametrize("text, expected", [
    (HEAD + "name: 2024-13-45\n", "month must be in 1..12"),
    (HEAD + "parameters: {seq: {values: [" + "9" * 5000 + "]}}\n", "4300 digits"),
    (HEAD + "name: !!timestamp not-a-date\n", "an explicit tag such as !!int or !!timestamp"),
    (HEAD + 'name: !!int ""\n', "an explicit tag such as !!int or !!timestamp"),
    (HEAD + "parameters:\n  seq: {values: [1024]\n  tile: 3\n", "flow mapping"),
], ids=["timestamp-out-of-range", "int-5000-digits", "timestamp-tag-on-text", "int-tag-on-empty-text",
       "syntax-error"])
def test_yaml_the_loader_cannot_build_is_one_line_naming_the_file(tmp_path, text, expected):
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as error:
        load_spec(path)
    message = str(error.value)
    assert re.match(rf"{re.escape(str(path))}(:\d+:\d+)?: not valid YAML: ", message), message
    assert expected in message and len(message.splitlines()) == 1, message


def test_a_template_format_the_values_cannot_take_names_the_mask(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(TILE_Q % ("{tile_q:.2f}", "a, b"))
    with pytest.raises(SpecError, match=rf"^{re.escape(str(path))}: masks.c: expected a "
                       "template whose formats fit the parameter values"):
        load_spec(path)


def test_a_key_holding_a_newline_is_escaped_in_the_one_line_message(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(HEAD.replace("{seq}", "1") + '"a\\nb": 1\n')
    with pytest.raises(SpecError) as error:
        load_spec(path)
    assert str(error.value).startswith(f"{path}:3: a\\nb: expected one of"), str(error.value)
    assert error.value.field == "a\\nb" and isinstance(error.value, ValueError)


def test_derived_expressions_in_floats_do_not_compute_for_hours():
    row = {"cycles": 802491}
    assert math.isnan(evaluate_expression("cycles ** cycles ** 2", row))
    assert math.isnan(evaluate_expression("10 ** 10 ** 10", row))
    assert evaluate_expression("2 ** 10 + cycles", row) == 1024 + 802491


def test_grid_is_the_full_product_and_keys_are_unique(tmp_path):
    spec = parse_spec({**TILESIM, "kernels": ["fa2", "flexattention"],
                       "parameters": {"seq": {"values": [1024, 2048, 4096]},
                                      "tile": {"values": ["64x64", "128x64"]}}},
                      tmp_path / "s.yaml")
    points = expand_points(spec)
    assert len(points) == 3 * 2 * 2
    assert len({point_key(p) for p in points}) == 12
    one = next(p for p in points if p["params"] == {"seq": 2048, "tile": "128x64"}
               and p["kernel"] == "fa2")
    assert one["mask_argument"] == "pattern:causal,seq=2048,heads=2"
    assert one["overrides"] == {"tile_q": 128, "tile_kv": 64}


def test_a_range_grid_has_its_steps(tmp_path):
    spec = parse_spec({**TILESIM, "parameters": {"seq": {"range": [1024, 8192], "steps": 4,
                                                         "log": True}}}, tmp_path / "s.yaml")
    assert [p["params"]["seq"] for p in expand_points(spec)] == [1024, 2048, 4096, 8192]


def _lhs(tmp_path, seed):
    return parse_spec({**TILESIM, "seed": seed, "sampling": {"method": "lhs", "samples": 10},
                       "parameters": {"seq": {"range": [0, 1000], "type": "float"},
                                      "window": {"range": [0, 10], "type": "float"}},
                       "masks": {"w": "pattern:causal_window,seq=4096,window={window}"
                                      ",heads={seq}"}},
                      tmp_path / "s.yaml")


def test_latin_hypercube_is_seeded_and_fills_every_stratum(tmp_path):
    first = [p["params"] for p in expand_points(_lhs(tmp_path, 7))]
    again = [p["params"] for p in expand_points(_lhs(tmp_path, 7))]
    other = [p["params"] for p in expand_points(_lhs(tmp_path, 8))]
    assert first == again and first != other
    # One sample in each tenth of each range: what makes it a Latin hypercube.
    assert sorted(int(p["seq"] // 100) for p in first) == list(range(10))
    assert sorted(int(p["window"]) for p in first) == list(range(10))


def test_random_sampling_draws_from_the_choices_with_a_seed(tmp_path):
    body = {**TILESIM, "seed": 3, "sampling": {"method": "random", "samples": 40},
            "parameters": {"seq": {"values": [1024, 2048]},
                           "scheduler": {"values": ["non_persistent", "static_persistent"]}}}
    a = expand_points(parse_spec(body, tmp_path / "s.yaml"))
    b = expand_points(parse_spec(body, tmp_path / "s.yaml"))
    assert a == b
    # 40 draws over 4 combinations: duplicates are kept once, and all 4 turn up.
    assert len(a) == 4


def test_derived_expressions():
    row = {"cycles": 200.0, "hbm.channels": 8, "energy_j": 2.0}
    assert evaluate_expression("1000 / cycles", row) == 5.0
    assert evaluate_expression("energy_j * hbm_channels + max(1, 3)", row) == 19.0
    assert math.isnan(evaluate_expression("1 / (cycles - 200)", row))


def test_pareto_front_keeps_the_non_dominated_points():
    points = [(1, 9), (2, 5), (3, 6), (4, 2), (5, 2), (2, 8), (6, 1)]
    assert pareto_front(points) == [0, 1, 3, 6]
    assert pareto_front(points, "min", "max") == [0]  # (1, 9) beats every other point
    assert pareto_front(points, "max", "max") == [6, 4, 2, 5, 0]


def test_tilesim_points_are_batched_and_spatten_points_are_not():
    from attnsim.dse.runner import TILESIM_BATCH, batch_points, batch_task_key
    tiles = [(f"k{i}", {"evaluator": "tilesim"}) for i in range(1000)]
    batches = batch_points(tiles, workers=2)
    assert [key for batch in batches for key, _ in batch] == [key for key, _ in tiles]
    assert max(len(b) for b in batches) == TILESIM_BATCH
    assert len({batch_task_key(b) for b in batches}) == len(batches)
    few = batch_points(tiles[:20], workers=2)  # every worker still gets several tasks
    assert len(few) >= 8 and sum(len(b) for b in few) == 20
    accel = [(f"s{i}", {"evaluator": "spatten"}) for i in range(5)]
    assert batch_points(accel, workers=2) == [[item] for item in accel]
    assert batch_points([], workers=2) == []


def test_a_flat_objective_is_not_a_front():
    from attnsim.dse.plots import FLAT_SPREAD, flat_axes, relative_spread
    # The case: energy varies by 9.7e-6 relative while cycles vary by 50 %.
    energy = [3.364e-3 * (1 + 9.7e-6 * i / 53) for i in range(54)]
    cycles = [8e5 + 4e5 * ((i * 7) % 54) / 53 for i in range(54)]
    assert relative_spread(energy) == pytest.approx(9.7e-6, rel=0.02)
    assert list(flat_axes(list(zip(energy, cycles)))) == ["x"]
    assert flat_axes([(1.0, 1.0), (2.0, 1.0 + 0.5 * FLAT_SPREAD)]) == {
        "y": pytest.approx(0.5 * FLAT_SPREAD, rel=1e-3)}
    assert flat_axes([(1.0, 1.0), (1.5, 2.0)]) == {}
    assert relative_spread([5.0, 5.0]) == 0 and relative_spread([-1.0, 1.0]) == float("inf")


def test_pareto_plots_need_objectives(tmp_path):
    plot = {"kind": "pareto", "x": "density_tiles", "y": "predicted_speedup"}
    body = {**TILESIM, "objectives": {"predicted_speedup": "max"}, "plots": [plot]}
    with pytest.raises(SpecError, match=r"plots\[0\]\.x: expected an objective"):
        load_spec(spec_file(tmp_path, body))
    body["objectives"]["density_tiles"] = "min"
    assert load_spec(spec_file(tmp_path, body)).plots[0]["x_sense"] == "min"
