"""README's Quick start must match what CI actually runs."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _quick_start_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Quick start\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, "README.md has no '## Quick start' section"
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", match.group(1), re.M | re.S)
    commands = []
    for block in blocks:
        lines = [line for line in block.splitlines() if line.strip()]
        assert len(lines) == 1, f"Quick start block is not one line: {block!r}"
        commands.append(lines[0].strip())
    return commands


def test_quick_start_has_exactly_two_one_line_commands():
    commands = _quick_start_commands()
    assert len(commands) == 2, commands
    assert "jupyter lab" in commands[0]
    assert "pytest" in commands[1]


def test_readme_test_command_is_what_ci_runs():
    test_command = _quick_start_commands()[1]
    ci_lines = [
        line.strip()
        for line in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    ]
    assert test_command in ci_lines, (
        f"README test command {test_command!r} is not a line of .ci/run"
    )


def test_lesson_command_makes_its_venv_first_and_installs_the_apps():
    """Copying the first line into any shell must not install into whatever env is active, and
    must bring Voila for the dashboards the README then starts (a newcomer met both problems)."""
    steps = [s.strip() for s in _quick_start_commands()[0].split("&&")]
    assert steps[0].startswith("python -m venv "), steps
    assert steps[1].startswith(". ") and steps[1].endswith("/bin/activate"), steps
    install = next(s for s in steps if "pip install" in s)
    assert steps.index(install) > 1 and '".[apps]"' in install, steps
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    apps = re.search(r"^apps\s*=\s*\[(.*?)\]", pyproject, re.M | re.S)
    assert apps and "voila" in apps.group(1), "the 'apps' extra must install voila"
