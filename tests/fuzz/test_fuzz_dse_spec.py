"""The DSE spec fuzzer's oracle and mutator (tests/fuzz/fuzz_dse_spec.py): it flags what it must
(a traceback, a hang, an unclear refusal, a stray exit code), passes clean refusals, and a seed
gives the same inputs every time."""
import importlib.util
import random
import signal
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("fuzz_dse_spec", HERE / "fuzz_dse_spec.py")
fuzz = importlib.util.module_from_spec(_spec)
sys.modules["fuzz_dse_spec"] = fuzz
_spec.loader.exec_module(fuzz)

GOOD = b"""evaluator: tilesim
masks: {c: "pattern:causal,seq={seq},heads=2"}
parameters: {seq: {values: [1024, 2048]}}
"""


@pytest.fixture
def alarm():
    previous = signal.signal(signal.SIGALRM, fuzz._on_alarm)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


def outcome_of(tmp_path, data: bytes, timeout_s: float = 10.0) -> str:
    run = fuzz.Run(tmp_path / "work", timeout_s, 0, log=lambda *_: None)
    return run.execute(data, save=False)[0]


def test_a_good_spec_and_a_clean_refusal_pass(tmp_path, alarm):
    assert outcome_of(tmp_path, GOOD) == fuzz.OK
    assert outcome_of(tmp_path, GOOD.replace(b"[1024, 2048]", b"[]")) == fuzz.BAD_INPUT


@pytest.mark.parametrize("behaviour, expected", [
    ("raise", "exception"), ("hang", "hang"), ("two_lines", "message"),
    ("no_file", "message"), ("exit3", "exit"), ("memory", "memory"),
])
def test_the_oracle_flags_what_is_not_a_clean_outcome(tmp_path, alarm, monkeypatch, behaviour,
                                                      expected):
    def fake_main(argv):
        if behaviour == "raise":
            raise KeyError("x")
        if behaviour == "hang":
            while True:
                pass
        if behaviour == "memory":
            raise MemoryError()
        if behaviour == "two_lines":
            print(f"dse: {argv[1]}: x: expected y, got z\n  ^", file=sys.stderr)
            return 2
        if behaviour == "no_file":
            print("dse: x: expected y, got z", file=sys.stderr)
            return 2
        return 3
    monkeypatch.setattr(fuzz.dse_cli, "main", fake_main)
    monkeypatch.setattr(fuzz, "run_cli", lambda path, timeout_s: ("ok", 0, "", ""))
    assert outcome_of(tmp_path, GOOD, timeout_s=0.3) == expected


def test_a_seed_gives_the_same_inputs():
    corpus = [p.read_bytes() for p in fuzz.seed_files()]

    def inputs(seed):
        mutator = fuzz.Mutator(random.Random(seed), list(corpus))
        rng = mutator.rng
        return [mutator.mutate(rng.choice(corpus)) for _ in range(200)]
    first = inputs(5)
    assert first == inputs(5)
    assert first != inputs(6)
    assert len(set(first)) > 150  # they do differ from each other
