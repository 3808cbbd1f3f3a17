"""Lesson notebooks are committed clean: no outputs and no widget state.

The one exception is a cell starting with ``# NBVAL_CHECK_OUTPUT``: nbval compares its fresh
output with the stored one, so it keeps its printed text (stream output only, never widgets or
images). ``tools/refresh_checked_outputs.py`` regenerates exactly those.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools import currency

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


MARKDOWN_FILES = NOTEBOOKS + sorted(LESSONS.glob("*.md"))


@pytest.mark.parametrize(
    "path", MARKDOWN_FILES, ids=[str(p.relative_to(REPO)) for p in MARKDOWN_FILES]
)
def test_no_dollar_sign_for_money(path):
    """Money is written with its unit after the amount ("1,375 USD"); ``$`` is for maths only.

    JupyterLab and Voilà hand ``$...$`` to MathJax and GitHub's preview to its own maths
    renderer, and no escaping of a currency ``$`` renders the same in all three (the course
    once showed "=3{,}536. With\\rho = 1$" and "pays $5,% \\times 95 = $4.75and"). So: no
    escaped ``\\$``, no lone ``$``, and no ``$...$`` pair whose content reads like prose (a
    currency dollar taken as a maths delimiter). ``tools/currency.py --fix`` rewrites escaped
    amounts; code spans and fences are not checked.
    """
    bad = [f"{label}: {problem}" for label, text in currency.markdown_of(path)
           for problem in currency.problems(text)]
    assert not bad, ("write money as '1,375 USD', keep $ for maths "
                     "(python tools/currency.py --fix rewrites escaped amounts):\n"
                     + "\n".join(bad[:10]))


def test_currency_check_catches_what_broke_before():
    """The check itself: the broken texts seen in JupyterLab are flagged, good ones are not."""
    broken = [
        r"With $\rho = 1$ the deviations add up to \\$6,000 and \\$3{,}536$.",
        r"A's sale at \\$95 pays \\$5\,\% \times 95 = \\$4.75$ and B's at \\$90.25",
        "10 ETH at $10,000 of ETH at an 80 % threshold and $6,000 of debt",
        "a fund of $25M",
    ]
    for text in broken:
        assert currency.problems(text), text
    good = [r"$s_p = \sqrt{1{,}500^2 + 2{,}000^2} \approx 2{,}500$ USD, and 1,375 USD",
            r"$$ C = (1-\lambda)\,C + \lambda\,\mathbf{1} $$ and `print(f'${x}')`",
            r"B survives while $0.8 \times \text{price} \ge 74$."]
    for text in good:
        assert currency.problems(text) == [], text
    assert currency.fix(r"health \\$19,000, fund \\$25M, −\\$700, \\$30,000 of USDC") == (
        "health 19,000 USD, fund 25M USD, −700 USD, 30,000 USDC")
