"""Lesson notebooks are committed clean: no outputs and no widget state.

The one exception is a cell starting with ``# NBVAL_CHECK_OUTPUT``: nbval compares its fresh
output with the stored one, so it keeps its printed text (stream output only, never widgets or
images). ``tools/refresh_checked_outputs.py`` regenerates exactly those.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LESSONS = REPO / "lessons"
MARK = "# NBVAL_CHECK_OUTPUT"

NOTEBOOKS = sorted(
    p for p in LESSONS.glob("**/*.ipynb") if ".ipynb_checkpoints" not in p.parts
)


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def test_there_are_lesson_notebooks():
    assert NOTEBOOKS, f"no notebooks found under {LESSONS}"


@pytest.mark.parametrize(
    "path", NOTEBOOKS, ids=[str(p.relative_to(REPO)) for p in NOTEBOOKS]
)
def test_notebook_is_clean(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    problems = []
    for i, cell in enumerate(nb.get("cells", [])):
        checked = _source(cell).startswith(MARK)
        outputs = cell.get("outputs") or []
        if checked:
            if any(o.get("output_type") != "stream" for o in outputs):
                problems.append(f"checked cell {i} stores a non-text output")
            if not outputs:
                problems.append(f"checked cell {i} has no stored output to compare against")
        else:
            if outputs:
                problems.append(f"cell {i} has outputs")
            if cell.get("execution_count") is not None:
                problems.append(f"cell {i} has execution_count={cell['execution_count']}")
    if "widgets" in nb.get("metadata", {}):
        problems.append("notebook metadata has a 'widgets' key (saved widget state)")
    assert not problems, (
        f"{path.relative_to(REPO)} is not clean: {problems}; clear outputs and widget state, "
        "then run tools/refresh_checked_outputs.py to store the checked cells' text"
    )


_CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)
_BARE_CURRENCY = re.compile(r"(?<!\\\\)\$(?=[\d…])")


@pytest.mark.parametrize(
    "path", NOTEBOOKS, ids=[str(p.relative_to(REPO)) for p in NOTEBOOKS]
)
def test_currency_dollars_are_escaped(path):
    """JupyterLab typesets text between two ``$`` as maths: "$5,000 ... $3,000" turns garbled.

    Currency must be written ``\\\\$5,000`` in the source (tools/escape_dollars.py does it).
    """
    nb = json.loads(path.read_text(encoding="utf-8"))
    bad = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "markdown":
            continue
        plain = "".join(p for k, p in enumerate(_CODE.split(_source(cell))) if k % 2 == 0)
        bad += [f"cell {i}: ...{plain[max(m.start() - 20, 0):m.start() + 10]}..."
                for m in _BARE_CURRENCY.finditer(plain)]
    assert not bad, f"unescaped currency $ (run tools/escape_dollars.py): {bad[:5]}"
