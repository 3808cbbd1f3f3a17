"""Lesson notebooks are committed clean: no outputs, no widget state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LESSONS = REPO / "lessons"

NOTEBOOKS = sorted(
    p for p in LESSONS.glob("**/*.ipynb") if ".ipynb_checkpoints" not in p.parts
)


def test_there_are_lesson_notebooks():
    assert NOTEBOOKS, f"no notebooks found under {LESSONS}"


@pytest.mark.parametrize(
    "path", NOTEBOOKS, ids=[str(p.relative_to(REPO)) for p in NOTEBOOKS]
)
def test_notebook_is_clean(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    problems = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("outputs"):
            problems.append(f"cell {i} has outputs")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {i} has execution_count={cell['execution_count']}")
    if "widgets" in nb.get("metadata", {}):
        problems.append("notebook metadata has a 'widgets' key (saved widget state)")
    assert not problems, (
        f"{path.relative_to(REPO)} is not clean: {problems}; "
        "clear outputs (e.g. jupyter nbconvert --clear-output --inplace) "
        "and do not save widget state"
    )
