"""The README's quick start stays two commands (issue #14 and the project's brief): one runs the
main job on bundled defaults, one builds and passes every test, and CI runs exactly the second."""
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_quick_start_is_two_commands_and_ci_runs_the_test_one():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    commands = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    assert [c for c in commands if c] == ["scripts/attnsim demo", "scripts/attnsim test"]
    ci = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()
          if line.strip() and not line.lstrip().startswith("#")]
    assert ci[-1] == "exec scripts/attnsim test"
