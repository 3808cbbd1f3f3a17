"""Solution scripts print their numbers, and the lessons' Solution blocks state the same numbers.

Every script in ``lessons/solutions/`` prints only answer lines, ``label = number unit``
(``ETH price below which the loan is liquidated = 2,812.50 USD``). The test runs each script
with this interpreter and reads every answer; the lesson of the same name has one collapsed
``<details><summary>Solution</summary>`` block, and its prose (code fences left out) must show
each printed number as displayed, rounded to the digits the prose gives ('7.69 M USD' is shown
as '7.7M USD', '12.4x' as '12×'). Conversely every **bold** number in that prose must be one
the script printed, so the headline answers cannot drift from the engine either.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.tolerances import shown_numbers, shows

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((REPO / "lessons" / "solutions").glob("[0-9][0-9]_*.py"))
ANSWER = re.compile(r"^(?P<label>\S.*) = (?P<value>-?\d[\d,]*(?:\.\d+)?(?:\s?M\b)?)(?P<unit>.*)$")
SOLUTION_BLOCK = re.compile(r"<details>\s*<summary>\s*Solution\s*</summary>(.*?)</details>",
                            re.S | re.I)
FENCE = re.compile(r"```.*?```", re.S)
BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)


def answers(stdout: str) -> list:
    """``[(line, value, half_unit)]`` of a script's output; every line must be an answer."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    loose = [line for line in lines if not ANSWER.match(line)]
    assert not loose, f"lines that are not 'label = number unit': {loose}"
    out = []
    for line in lines:
        (value, half), = shown_numbers(ANSWER.match(line)["value"])
        out.append((line, value, half))
    return out


def solution_prose(notebook: Path) -> str:
    """The markdown of the lesson's one Solution block, code fences removed."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    blocks = SOLUTION_BLOCK.findall(text)
    assert len(blocks) == 1, f"{notebook.name}: {len(blocks)} Solution blocks, expected one"
    return FENCE.sub(" ", blocks[0])


def not_shown(printed: list, prose: str) -> list:
    """The printed answers whose number the prose does not show (as rounded there)."""
    numbers = shown_numbers(prose)
    return [line for line, value, half in printed
            if not any(shows(value, half, n) for n in numbers)]


def bold_not_printed(printed: list, prose: str) -> list:
    """Numbers the prose puts in bold that no printed answer rounds to."""
    bold = [n for part in BOLD.findall(prose) for n in shown_numbers(part)]
    return [n for n in bold if not any(shows(value, half, n) for _, value, half in printed)]


def run(script: Path) -> str:
    done = subprocess.run([sys.executable, str(script)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_every_lesson_has_a_solution_script():
    lessons = sorted(p.stem for p in (REPO / "lessons").glob("[0-9][0-9]_*.ipynb"))
    assert [p.stem for p in SOLUTIONS] == lessons


@pytest.mark.parametrize("script", SOLUTIONS, ids=lambda p: p.stem[:2])
def test_solution_numbers_are_the_lessons(script):
    printed = answers(run(script))
    assert printed, f"{script.name} prints no answer"
    prose = solution_prose(REPO / "lessons" / f"{script.stem}.ipynb")
    missing = not_shown(printed, prose)
    assert not missing, (f"{script.name} prints numbers its lesson's Solution block does not "
                         f"show: {missing}")
    unbacked = bold_not_printed(printed, prose)
    assert not unbacked, (f"bold numbers in {script.stem}.ipynb's Solution block that "
                          f"{script.name} does not print: {unbacked}")


# --- the check itself can fail -----------------------------------------------------------------
PROSE = ("Both need **6,500 USD**; the fund needed is about 7.7M USD, the book keeps 82 % and "
         "the growth is about **12×**.")


def test_matching_reads_rounded_prose():
    printed = answers("cross = 6,500 USD\nfund needed = 7.69 M USD\nkept = 82.3 %\n"
                      "growth = 12.4x\n")
    assert [v for _, v, _ in printed] == [6500.0, 7.69e6, 82.3, 12.4]
    assert not_shown(printed, PROSE) == []
    assert bold_not_printed(printed, PROSE) == []


def test_matching_fails_on_a_changed_number():
    printed = answers("cross = 6,501 USD\nfund needed = 7.76 M USD\nkept = 82.3 %\n"
                      "growth = 12.6x\n")
    assert not_shown(printed, PROSE) == ["cross = 6,501 USD", "fund needed = 7.76 M USD",
                                         "growth = 12.6x"]
    assert bold_not_printed(printed, PROSE) == [(6500.0, 0.5), (12.0, 0.5)]
    # a number in a code fence does not count as shown
    assert not_shown(answers("x = 6,501 USD"), FENCE.sub(" ", "```\n6,501\n```")) != []


def test_every_line_must_be_an_answer():
    with pytest.raises(AssertionError, match="not 'label = number unit'"):
        answers("liquidated below $2,812.50\n")
