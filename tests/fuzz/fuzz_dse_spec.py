#!/usr/bin/python3
"""Mutation fuzzer of the DSE spec reader (`python3 -m attnsim.dse check SPEC`), issue #17.

Contract under test: a spec file is either accepted (exit 0) or refused as bad input (exit 2 with
one line `dse: <spec file>...` naming the field and what was expected). Anything else is a
finding: a traceback or another exception, exit 1 or 3, a run over the per-input time limit
(hang), a MemoryError under the address-space limit (a huge allocation), a message that does not
name the spec file, or the real CLI (a subprocess, run for every finding and every --cli-every-th
input) disagreeing with the in-process run.

Deterministic: input number N of a run with --seed S is the same on every machine (Python's
`random.Random(S)`, mutations of the sorted seed files, and a corpus that grows only by outcome);
the time limit decides only how far a run gets.

  fuzz_dse_spec.py --seconds 600 --work-dir DIR     # fuzz; findings go to DIR/artifacts/
  fuzz_dse_spec.py --replay FILE_OR_DIR...          # replay inputs (the default test run)

Mutations (1 to 4 stacked per input): of the parsed YAML (replace a value with an interesting
one, delete, add or rename a key, grow a list, graft a subtree of another seed), of lines
(delete, duplicate, swap, re-indent, cross over another seed) and of bytes (flip, insert, delete,
insert a YAML token: anchors, aliases, tags, flow brackets, NUL, invalid UTF-8), plus a few
generated shapes (recursive aliases, alias bombs, deep nesting). An input whose outcome (exit code
and message with numbers and quoted values stripped) was not seen before joins the corpus.
Hypothesis is not installed on the project's machines (Debian has no python3-hypothesis in the
image), hence this mutation loop.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import datetime
import hashlib
import io
import os
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SCRIPTS = REPO / "scripts" / "python"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import yaml  # noqa: E402

from attnsim.dse import __main__ as dse_cli  # noqa: E402  (numpy and friends load here)
from attnsim.dse import spec as dse_spec  # noqa: E402

PYTHON = "/usr/bin/python3"
EXAMPLES = SCRIPTS / "attnsim" / "dse" / "examples"
SEEDS = HERE / "seeds" / "dse_spec"
REGRESSIONS = HERE / "regressions" / "dse_spec"
CLI_MEMORY_BYTES = 4 << 30


class Hang(BaseException):
    """Raised by SIGALRM in the input under test (a BaseException: `except Exception` in the
    code under test cannot swallow it)."""


def _on_alarm(signum, frame):
    raise Hang()


# ---- the oracle

OK, BAD_INPUT = "ok", "bad-input"
CLEAN = (OK, BAD_INPUT)


def judge_message(rc: int, stderr: str, path: Path) -> str | None:
    """What is wrong with a refusal (None: a clean exit 2)."""
    lines = stderr.strip().splitlines()
    if len(lines) != 1:
        return f"exit 2 with {len(lines)} lines on stderr, expected one"
    line = lines[0]
    if not line.startswith(f"dse: {path}"):
        return "exit 2 without naming the spec file first"
    rest = line[len(f"dse: {path}"):]
    if not re.match(r"(:\d+){0,2}: ", rest):
        return "exit 2 without ': ' (or ':LINE: ') after the spec file"
    if not re.search(r": expected |: missing \(expected |not valid YAML|not readable", rest):
        return "exit 2 without a field and what was expected"
    return None


def run_in_process(path: Path, timeout_s: float) -> tuple[str, int | None, str, str]:
    """(outcome, exit code, stderr, detail) of `attnsim.dse check PATH` in this process."""
    out, err = io.StringIO(), io.StringIO()
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = dse_cli.main(["check", str(path)])
    except Hang:
        return "hang", None, err.getvalue(), f"over the {timeout_s} s limit"
    except MemoryError:
        signal.setitimer(signal.ITIMER_REAL, 0)
        return "memory", None, err.getvalue(), "MemoryError (a huge allocation)"
    except SystemExit as error:
        signal.setitimer(signal.ITIMER_REAL, 0)
        return "exit", None, err.getvalue(), f"SystemExit({error.code!r})"
    except BaseException:  # noqa: BLE001 (everything else is what we look for)
        signal.setitimer(signal.ITIMER_REAL, 0)
        return "exception", None, err.getvalue(), traceback.format_exc(limit=-6)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    stderr = err.getvalue()
    if rc == 0:
        return OK, rc, stderr, ""
    if rc == 2:
        problem = judge_message(rc, stderr, path)
        return (BAD_INPUT, rc, stderr, "") if problem is None else \
            ("message", rc, stderr, problem)
    return "exit", rc, stderr, f"exit {rc}"


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (CLI_MEMORY_BYTES, CLI_MEMORY_BYTES))


def run_cli(path: Path, timeout_s: float) -> tuple[str, int | None, str, str]:
    """The same check as a user runs it: `python3 -m attnsim.dse check PATH`, 4 GiB at most."""
    env = dict(os.environ, PYTHONPATH=str(SCRIPTS), MPLBACKEND="Agg")
    try:
        run = subprocess.run([PYTHON, "-m", "attnsim.dse", "check", str(path)], env=env,
                             capture_output=True, text=True, errors="replace",
                             timeout=timeout_s + 20, preexec_fn=_limit_memory, cwd=REPO)
    except subprocess.TimeoutExpired:
        return "hang", None, "", f"CLI over {timeout_s + 20} s"
    if run.returncode == 0:
        return OK, 0, run.stderr, ""
    if run.returncode == 2:
        problem = judge_message(2, run.stderr, path)
        return (BAD_INPUT, 2, run.stderr, "") if problem is None else \
            ("message", 2, run.stderr, problem)
    return "exit", run.returncode, run.stderr, f"CLI exit {run.returncode}: " + \
        run.stderr.strip()[-2000:]


def signature(outcome: str, rc, stderr: str, path: Path) -> str:
    """The outcome with the spec path, numbers and quoted values stripped: new ones grow the
    corpus."""
    text = stderr.replace(str(path), "SPEC")
    text = re.sub(r"got .*", "got X", text)
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "Q", text)
    text = re.sub(r"\d+", "N", text)
    return f"{outcome}|{rc}|{text.strip()[:200]}"


# ---- mutations

def _repo_files(pattern: str) -> list[str]:
    return sorted(str(p.relative_to(REPO)) for p in REPO.glob(pattern))


def _spatten_keys() -> list[str]:
    try:
        preset = yaml.safe_load((dse_spec.ACCEL_PRESET_DIR / "spatten.yaml").read_text())
    except (OSError, yaml.YAMLError):
        return []
    keys = []

    def walk(node, prefix):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{prefix}{k}.")
        else:
            keys.append(prefix[:-1])
    walk(preset, "")
    return keys


WORDS = sorted(dse_spec.TOP_KEYS) + [
    "values", "range", "steps", "log", "type", "set", "method", "samples", "kind", "name", "x",
    "y", "value", "color", "facet", "validation_csv", "int", "float", "grid", "random", "lhs",
    "min", "max", "bounds", "predict", "spatten", "tilesim", "h200", "h300", "a100", "fa2",
    "flexattention", "golden", "tile", "seq", "window", "inherits", "spatten-16bit",
    *dse_spec.PLOT_KINDS, *dse_spec.TILESIM_KERNEL_KEYS, *dse_spec.TILESIM_RESULT_COLUMNS,
    *dse_spec.SPATTEN_HEADLINE, *_spatten_keys()]
PATHS = (_repo_files("traces/spatten/*.csv") + _repo_files("traces/attention/*.npz")
         + _repo_files("sim/gpu/calibrations/*.json") + _repo_files("sim/gpu/presets/*/*.yaml")
         + _repo_files("sim/accel/presets/*.yaml") + _repo_files("tests/fuzz/seeds/mask/*")
         + ["golden/results/h200/2026-11-23-dataset/validation/validation.csv", "sim",
            "sim/accel/presets/", "/dev/null", "/dev/zero", "/proc/self/status", "/", "..",
            "no/such.csv", "x.yaml", "/tmp", "a" * 300 + ".yaml", "nul\0byte.csv",
            "sim/gpu/presets/kernels/../gpus/h200.yaml", "README.md", "pattern:"])
TEMPLATES = [
    "{}", "{0}", "{seq}", "{seq[0]}", "{seq.real}", "{seq!r}", "{seq:q}", "{seq:>99999}",
    "{seq:,}", "{{seq}}", "{", "}", "{seq", "pattern:{seq}", "pattern:causal,seq={seq}",
    "pattern:causal,seq=-1,heads=0", "pattern:causal,seq={seq},heads={seq}",
    "pattern:nonsense", "pattern:block_topk,seq={seq},density=2",
    "pattern:causal,seq=99999999999999999999,heads=8", "64x64", "0x0", "1x99999999999999999999",
    "128 x 64", "x", "-" * 40 + "1", "(" * 120 + "1" + ")" * 120, "1/0", "2**2**2**2**2",
    "__import__('os')", "cycles.real", "lambda: 1", "cycles if cycles else 1", "[cycles]",
    "log(-1)", "max()", "min(1, 2, 3, 4)", "cycles @ cycles", "\0", "\x85", "\u2028", "é",
    "a" * 300, "", " ", "~", "null", "yes", "0x10", "0o17", "1_000", ".inf", "-.nan",
]
NUMBERS = [0, 1, -1, 2, 3, 7, 64, 1000, 2 ** 16, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53 + 1,
           2 ** 63 - 1, 2 ** 63, 2 ** 64, 10 ** 9, 10 ** 12, 10 ** 30, -10 ** 30, 10 ** 400,
           -(10 ** 400), 0.5, -0.0, 1e-320, 1e-300, 1e308, 1.7976931348623157e308,
           float("inf"), float("-inf"), float("nan"), 0.1, 2.5, -3.5, 1e19]
ODD_VALUES = [True, False, None, [], {}, [1], [1, 2, 3], ["a"], [[1]], {"a": 1},
              {"values": [1]}, {"range": [1, 10], "steps": 3}, {"range": [0, 1]},
              datetime.date(2024, 1, 1), datetime.datetime(2024, 1, 1, 12, 0), b"\x00\xff",
              list(range(50)), [None], [float("nan")], {"kind": "pareto"}]
TOKENS = [": ", "- ", "&a ", "*a", "&b ", "*b", "!!binary ", "!!set ", "!!omap ", "!!timestamp ",
          "!!python/object:os.system ", "!!int ", "!!float ", "!!str ", "!!null ", "? ", "{",
          "}", "[", "]", ",", "\t", "---\n", "...\n", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n",
          "<<: *a\n", "'", '"', "\\", "\\x00", "\\u2028", "\xff\xfe", "\0", "#", "|\n", ">-\n",
          "\r", "\r\n", "\x85", "\ufeff", "\x1b", "~", ".nan", ".inf", "-.inf", "0x", "1e400",
          "99999999999999999999", "{seq}", "{", "%", "@", "`", "!", "&", "*"]
GENERATED = [
    "parameters: &a {x: *a}\n",
    "evaluator: tilesim\nmasks: &m {c: 'pattern:causal,seq=1024,heads=2'}\nparameters: &a [*a]\n",
    "evaluator: tilesim\nmasks: {c: 'pattern:causal,seq=1024,heads=2'}\nderived: &d {x: *d}\n",
    "evaluator: tilesim\nmasks: {c: 'pattern:causal,seq=1024,heads=2'}\nplots: &p [*p]\n",
    "evaluator: tilesim\nmasks: {c: 'pattern:causal,seq=1024,heads=2'}\n"
    "gpus: &g [h200, *g]\n",
    "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
    "name: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n",
    "name: " + "[" * 3000 + "]" * 3000 + "\n",
    "name: " + "{a: " * 400 + "1" + "}" * 400 + "\n",
    "evaluator: tilesim\nmasks: {c: 'pattern:causal,seq={s},heads=2'}\n"
    "parameters:\n" + "".join(f"  p{i}: {{values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}}\n"
                              for i in range(12)) + "  s: {values: [1024]}\n",
    "evaluator: tilesim\nmasks: {c: 'pattern:causal,seq={s},heads=2'}\n"
    "parameters: {s: {range: [1, 1000000000000], steps: 1000000000000}}\n",
    "evaluator: tilesim\nmasks: {c: 'pattern:causal,seq={s},heads=2'}\n"
    "sampling: {method: random, samples: 1000000000000}\nparameters: {s: {values: [1]}}\n",
]


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the mutator's own parsing only
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class Mutator:
    def __init__(self, rng: random.Random, corpus: list[bytes]):
        self.rng = rng
        self.corpus = corpus
        self._trees: dict[bytes, object] = {}  # parsed once per corpus entry

    # -- structured (YAML value) mutations

    def _nodes(self, tree, path=()):
        """(container, key) pairs of every value in the tree."""
        out = []
        if isinstance(tree, dict):
            for k in list(tree):
                out.append((tree, k))
                out += self._nodes(tree[k], path + (k,))
        elif isinstance(tree, list):
            for i in range(len(tree)):
                out.append((tree, i))
                out += self._nodes(tree[i], path + (i,))
        return out

    def _interesting(self):
        r = self.rng
        pick = r.randrange(6)
        if pick == 0:
            return r.choice(NUMBERS)
        if pick == 1:
            return r.choice(WORDS)
        if pick == 2:
            return r.choice(PATHS)
        if pick == 3:
            return r.choice(TEMPLATES)
        if pick == 4:
            return copy.deepcopy(r.choice(ODD_VALUES))
        other = self._tree(r.choice(self.corpus))
        nodes = self._nodes(other) if other is not None else []
        if nodes:
            container, key = r.choice(nodes)
            return copy.deepcopy(container[key])
        return r.choice(NUMBERS)

    @staticmethod
    def _parse(data: bytes):
        try:
            tree = yaml.load(data.decode("utf-8"), Loader=_LOADER)
            Mutator._nodes(None, tree)  # a recursive tree cannot be mutated structurally
            return tree
        except (Exception, RecursionError):  # noqa: BLE001
            return None

    def _tree(self, data: bytes):
        """A private copy of the parsed input (corpus entries are parsed once)."""
        if data not in self._trees:
            if len(self._trees) > 20_000:
                self._trees.clear()
            self._trees[data] = self._parse(data)
        return copy.deepcopy(self._trees[data])

    def structured(self, data: bytes) -> bytes | None:
        r = self.rng
        tree = self._tree(data)
        if not isinstance(tree, (dict, list)):
            return None
        nodes = self._nodes(tree)
        op = r.randrange(8)
        if op == 0 or not nodes:  # add a key at the top or in a random mapping
            maps = [tree] + [c[k] for c, k in nodes if isinstance(c[k], dict)]
            target = r.choice(maps)
            if isinstance(target, dict):
                target[r.choice(WORDS + [1, None, True, 2.5])] = self._interesting()
        else:
            container, key = r.choice(nodes)
            value = container[key]
            if op in (1, 2):
                container[key] = self._interesting()
            elif op == 3:
                del container[key]
            elif op == 4 and isinstance(container, dict):  # rename the key
                new = r.choice(WORDS + [str(key) + "x", str(key).upper(), 0, None, True])
                container[new] = container.pop(key)
            elif op == 5 and isinstance(value, (int, float)) and not isinstance(value, bool):
                container[key] = r.choice([value * r.choice([-1, 2, 10, 1000, 10 ** 9]),
                                           value + r.choice([-1, 1]), str(value), [value]])
            elif op == 6 and isinstance(value, list):  # grow or shrink a list
                if value and r.random() < 0.7:
                    value.extend(copy.deepcopy(value) * r.choice([1, 2, 10]))
                else:
                    value.clear()
            elif op == 7:  # wrap
                container[key] = r.choice([[value], {"values": [value]}, {str(key): value}])
            else:
                container[key] = self._interesting()
        try:
            text = yaml.dump(tree, Dumper=_DUMPER, default_flow_style=r.choice([None, False,
                                                                                True]),
                             sort_keys=False, allow_unicode=r.random() < 0.5, width=4096)
        except (yaml.YAMLError, ValueError, TypeError, RecursionError):
            return None
        return text.encode("utf-8", "surrogatepass")

    # -- line mutations

    def lines(self, data: bytes) -> bytes:
        r = self.rng
        lines = data.split(b"\n")
        op = r.randrange(6)
        i = r.randrange(len(lines))
        if op == 0 and len(lines) > 1:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[r.randrange(len(lines))])
        elif op == 2:
            j = r.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 3:
            lines[i] = b" " * r.choice([1, 2, 4]) + lines[i]
        elif op == 4:
            lines[i] = lines[i].lstrip()
        else:  # cross over: a line of another corpus entry
            other = r.choice(self.corpus).split(b"\n")
            lines.insert(i, r.choice(other))
        return b"\n".join(lines)

    # -- byte mutations

    def bytes_(self, data: bytes) -> bytes:
        r = self.rng
        buf = bytearray(data)
        op = r.randrange(6)
        pos = r.randrange(len(buf) + 1)
        if op == 0 and buf:
            i = min(pos, len(buf) - 1)
            buf[i] ^= 1 << r.randrange(8)
        elif op == 1:
            buf[pos:pos] = bytes([r.randrange(256)])
        elif op == 2 and buf:
            del buf[pos:pos + r.choice([1, 1, 2, 8, 32])]
        elif op == 3:
            buf[pos:pos] = r.choice(TOKENS).encode("utf-8", "surrogatepass") \
                if r.random() < 0.9 else b"\xff\xfe\x80"
        elif op == 4 and buf:
            start = r.randrange(len(buf))
            chunk = buf[start:start + r.choice([4, 16, 64])]
            buf[pos:pos] = chunk
        else:
            word = str(r.choice(WORDS + TEMPLATES + [str(n) for n in NUMBERS])).encode(
                "utf-8", "surrogatepass")
            buf[pos:pos] = word
        return bytes(buf)

    def mutate(self, data: bytes) -> bytes:
        r = self.rng
        if r.random() < 0.02:
            return r.choice(GENERATED).encode()
        for _ in range(r.choice([1, 1, 1, 2, 2, 3, 4])):
            kind = r.random()
            if kind < 0.5:
                new = self.structured(data)
                if new is not None:
                    data = new
                    continue
            if kind < 0.75:
                data = self.lines(data)
            else:
                data = self.bytes_(data)
        return data[:64 * 1024]


# ---- driver

class Run:
    def __init__(self, work: Path, timeout_s: float, cli_every: int,
                 log=lambda line: print(line, flush=True)):
        self.work = work
        self.timeout_s = timeout_s
        self.cli_every = cli_every
        self.log = log
        self.spec_dir = work / "input"
        self.spec_dir.mkdir(parents=True, exist_ok=True)
        self.artifacts = work / "artifacts"
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self.executed = 0
        self.cli_runs = 0
        self.outcomes: dict[str, int] = {}
        self.findings: list[tuple[str, str, Path]] = []

    def execute(self, data: bytes, name: str = "spec.yaml", *, cli: bool = False,
                save: bool = True) -> tuple[str, str]:
        """Runs one input; returns (outcome, signature). Findings are logged and saved."""
        path = self.spec_dir / name
        path.write_bytes(data)
        outcome, rc, stderr, detail = run_in_process(path, self.timeout_s)
        self.executed += 1
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if outcome in CLEAN and cli:
            self.cli_runs += 1
            cli_outcome, cli_rc, cli_stderr, cli_detail = run_cli(path, self.timeout_s)
            if cli_outcome not in CLEAN or cli_rc != rc:
                outcome, detail = "cli-" + cli_outcome, (
                    f"in-process exit {rc}, CLI: {cli_detail or cli_outcome} (exit {cli_rc})\n"
                    + cli_stderr[-2000:])
        if outcome not in CLEAN:
            if not outcome.startswith("cli-"):  # how a user meets it
                self.cli_runs += 1
                cli_detail = run_cli(path, self.timeout_s)
                detail += f"\nCLI: {cli_detail[0]} exit {cli_detail[1]}: " \
                          f"{cli_detail[2].strip()[-1500:]}"
            self.report(outcome, detail, data, stderr, save)
        return outcome, signature(outcome, rc, stderr, path)

    def report(self, outcome: str, detail: str, data: bytes, stderr: str, save: bool):
        digest = hashlib.sha1(data).hexdigest()[:12]
        artifact = self.artifacts / f"{outcome}-{digest}.yaml"
        if save:
            artifact.write_bytes(data)
            artifact.with_suffix(".txt").write_text(f"{outcome}\n{detail}\nstderr:\n{stderr}")
        self.findings.append((outcome, detail, artifact))
        first = detail.strip().splitlines()[-1] if detail.strip() else outcome
        self.log(f"FINDING #{len(self.findings)} after {self.executed} inputs: {outcome}: "
                 f"{first[:300]} -> {artifact}")


def seed_files() -> list[Path]:
    files = sorted(EXAMPLES.glob("*.yaml")) + sorted(p for p in SEEDS.glob("*") if p.is_file())
    files += sorted(p for p in REGRESSIONS.rglob("*") if p.is_file()) if REGRESSIONS.exists() \
        else []
    return files


def limit_address_space(extra_bytes: int) -> None:
    """MemoryError instead of swapping: this process's size now plus `extra_bytes`."""
    with open("/proc/self/status") as status:
        vm = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = vm + extra_bytes
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def fuzz(args) -> int:
    work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="fuzz-dse-"))
    run = Run(work, args.timeout, args.cli_every)
    rng = random.Random(args.seed)
    corpus = [p.read_bytes() for p in seed_files()]
    mutator = Mutator(rng, corpus)
    seen: set[str] = set()
    started = time.monotonic()
    for data in list(corpus):  # the seeds first: they must be clean
        seen.add(run.execute(data, cli=True)[1])
    next_report = started + 60
    while True:
        now = time.monotonic()
        if now - started >= args.seconds or (args.max_inputs and run.executed >= args.max_inputs):
            break
        if now >= next_report:
            print(f"[{now - started:6.0f} s] {run.executed} inputs, {len(corpus)} in corpus, "
                  f"{run.cli_runs} CLI runs, {len(run.findings)} findings", flush=True)
            next_report += 60
        data = mutator.mutate(rng.choice(corpus))
        outcome, sig = run.execute(data, cli=args.cli_every > 0 and
                                   run.executed % args.cli_every == 0)
        if outcome in CLEAN and sig not in seen and len(corpus) < args.max_corpus:
            seen.add(sig)
            corpus.append(data)
    elapsed = time.monotonic() - started
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(run.outcomes.items()))
    print(f"fuzz_dse_spec: seed {args.seed}: {run.executed} inputs in {elapsed:.0f} s "
          f"({run.executed / max(elapsed, 1e-9):.0f}/s), {run.cli_runs} CLI runs, corpus "
          f"{len(corpus)} ({outcomes}); {len(run.findings)} findings"
          + (f" in {run.artifacts}" if run.findings else ""))
    return 1 if run.findings else 0


def replay(args) -> int:
    files = []
    for name in args.replay:
        p = Path(name)
        files += sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p]
    if not files:
        print("no inputs to replay", file=sys.stderr)
        return 1
    work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="fuzz-dse-"))
    run = Run(work, args.timeout, 0)
    for f in files:
        outcome, _ = run.execute(f.read_bytes(), name=f.name, cli=args.cli_every == 1,
                                 save=False)
        print(f"replay {f} ({outcome})")
    print(f"{len(files)} inputs replayed, {len(run.findings)} findings")
    return 1 if run.findings else 0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60, help="fuzz for this long (60)")
    parser.add_argument("--max-inputs", type=int, default=0, help="or stop after N inputs")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds one input may take in-process (10)")
    parser.add_argument("--memory-mb", type=int, default=4096,
                        help="address space beyond the start-up size (4096)")
    parser.add_argument("--cli-every", type=int, default=200,
                        help="also run the CLI as a subprocess on every Nth input (200; 0: "
                             "never); with --replay, 1 runs it on every input")
    parser.add_argument("--max-corpus", type=int, default=4000)
    parser.add_argument("--work-dir", help="inputs, artifacts/ (default: a new temp folder)")
    parser.add_argument("--replay", nargs="+", metavar="PATH",
                        help="replay files or folders instead of fuzzing")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGALRM, _on_alarm)
    limit_address_space(args.memory_mb << 20)
    return replay(args) if args.replay else fuzz(args)


if __name__ == "__main__":
    sys.exit(main())
