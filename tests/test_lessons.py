"""Lessons keep their shape, and their self-checks still agree with the engine.

Each lesson ``lessons/NN_topic.ipynb`` has: a header with estimated time, prerequisites and 3-5
learning objectives; at least two ``SelfCheck`` questions, each stating the ``expected`` answer
its text assumes; an exercise with a collapsible solution (and the same solution as a script in
``lessons/solutions/``); a recap; references. The agreement test runs every lesson's code (in one
subprocess, IPython shell, no kernel) and asks every SelfCheck whether the engine's answer still
equals the one the text assumes, so an engine change that changes a lesson's story fails here.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LESSONS = sorted((REPO / "lessons").glob("[0-9][0-9]_*.ipynb"))
IDS = [p.stem for p in LESSONS]


def _cells(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        src = cell["source"]
        yield cell["cell_type"], "".join(src) if isinstance(src, list) else src


def _markdown(path: Path) -> str:
    return "\n".join(src for kind, src in _cells(path) if kind == "markdown")


def _code(path: Path) -> list:
    return [src for kind, src in _cells(path) if kind == "code"]


def test_lessons_exist():
    assert [p.stem[:2] for p in LESSONS][:1] == ["00"], "lesson 00 must exist"


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_header_has_time_prerequisites_and_objectives(path):
    kind, first = next(_cells(path))
    assert kind == "markdown"
    assert re.match(r"#\s*\d+\s*·", first), "first line must be '# N · Title'"
    assert re.search(r"estimated time", first, re.I), "header must give the estimated time"
    assert re.search(r"prerequisites", first, re.I), "header must list prerequisites"
    objectives = first.split("Learning objectives", 1)
    assert len(objectives) == 2, "header must have a 'Learning objectives' section"
    bullets = re.findall(r"^\s*[-*]\s+\S", objectives[1], re.M)
    assert 3 <= len(bullets) <= 5, f"3-5 learning objectives expected, got {len(bullets)}"
    assert "glossary.md" in _markdown(path), "lesson must link the glossary"


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_sections_selfchecks_exercise_recap_references(path):
    text = _markdown(path)
    for heading in ("Exercise", "Recap", "References"):
        assert re.search(rf"^##\s+{heading}", text, re.M), f"missing '## {heading}' section"
    assert "<details>" in text and "Solution" in text, "exercise needs a collapsible solution"
    code = "\n".join(_code(path))
    checks = re.findall(r"SelfCheck\(", code)
    assert len(checks) >= 2, f"at least two SelfCheck questions expected, got {len(checks)}"
    assert code.count("expected=") >= len(checks), "every SelfCheck must state expected="
    assert "# NBVAL_CHECK_OUTPUT" in code, "at least one cell's numbers must be checked by nbval"
    solution = REPO / "lessons" / "solutions" / f"{path.stem}.py"
    assert solution.exists(), f"missing {solution.relative_to(REPO)}"


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_cells_stay_thin(path):
    """Logic a lesson needs belongs in the package: no long functions or classes in cells."""
    for src in _code(path):
        for block in re.findall(r"^(?:def|class) .*?(?=^\S|\Z)", src, re.M | re.S):
            assert block.count("\n") <= 6, f"a definition over a few lines in a cell:\n{block}"


@pytest.mark.parametrize("path", sorted((REPO / "lessons" / "solutions").glob("*.py")),
                         ids=lambda p: p.stem)
def test_solution_scripts_run(path):
    run = subprocess.run([sys.executable, str(path)], cwd=REPO, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip(), "a solution script prints its answer"


_AGREEMENT = r"""
import gc, json, sys, warnings
warnings.simplefilter("ignore")
from IPython.core.interactiveshell import InteractiveShell
from widgets.self_check import SelfCheck
results = {}
for path in sys.argv[1:]:
    nb = json.load(open(path, encoding="utf-8"))
    shell = InteractiveShell.instance()
    shell.reset(new_session=True)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            res = shell.run_cell(src, silent=True)
            if not res.success:
                results[path] = {"error": repr(res.error_in_exec or res.error_before_exec)}
                break
    else:
        checks = [o for o in gc.get_objects() if isinstance(o, SelfCheck)
                  and getattr(o, "_cml_seen", False) is False]
        out = []
        for c in checks:
            c._cml_seen = True
            try:
                out.append([c.expected, c.agrees_with_text()])
            except Exception as exc:
                out.append([c.expected, repr(exc)])
        results[path] = {"checks": out}
print(json.dumps(results, default=str))
"""


@pytest.fixture(scope="module")
def agreement():
    run = subprocess.run([sys.executable, "-c", _AGREEMENT, *map(str, LESSONS)],
                         cwd=REPO / "lessons", capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_selfcheck_answers_agree_with_engine(path, agreement):
    result = agreement[str(path)]
    assert "error" not in result, result.get("error")
    checks = result["checks"]
    assert len(checks) >= 2, f"expected >= 2 SelfCheck objects, found {len(checks)}"
    wrong = [c for c in checks if c[1] is not True]
    assert not wrong, f"SelfCheck answers that no longer match the text: {wrong}"
