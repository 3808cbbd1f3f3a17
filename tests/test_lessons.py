"""Lessons keep their shape, and their self-checks still agree with the engine.

Each lesson ``lessons/NN_topic.ipynb`` has: a header with estimated time, prerequisites and 3-5
learning objectives; at least two self-checks, each a one-line ``ask("id", ...)`` cell whose
question (text, answer function, ``expected`` answer, feedback, hints, explanation) lives out of
sight in ``lessons/course/qNN.py``; an exercise with a collapsible solution (and the same solution
as a script in ``lessons/solutions/``, whose printed numbers ``test_solutions.py`` checks
against the block); a recap; references. The agreement test runs every
lesson's code (in one subprocess, IPython shell, no kernel) and asks every SelfCheck whether the
engine's answer still equals the one the text assumes, so an engine change that changes a
lesson's story fails here; it also evaluates every explanation and checks that a numeric
question's explanation quotes the engine's answer.
"""
from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.tolerances import shown_numbers

REPO = Path(__file__).resolve().parents[1]
LESSONS = sorted((REPO / "lessons").glob("[0-9][0-9]_*.ipynb"))
IDS = [p.stem for p in LESSONS]
ASK = re.compile(r"""\bask\(\s*["']([a-z0-9_]+)["']""")
# What only the question module may hold: a visible cell holding any of these gives answers away.
HIDDEN = re.compile(r"\b(SelfCheck|CheckList)\s*\(|\b(answer|expected|feedback|hints|nudge|"
                    r"explanation)\s*=(?!=)")


def _questions():
    sys.path.insert(0, str(REPO / "lessons"))
    try:
        from course import questions_of
    finally:
        sys.path.remove(str(REPO / "lessons"))
    return questions_of


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
    asked = ASK.findall(code)
    assert len(asked) >= 2, f"at least two self-checks (ask cells) expected, got {len(asked)}"
    registered = [q.id for q in _questions()(path.stem[:2])]
    assert asked == registered, (f"the lesson asks {asked}, its question module "
                                 f"course/q{path.stem[:2]}.py defines {registered} (same order)")
    assert "# NBVAL_CHECK_OUTPUT" in code, "at least one cell's numbers must be checked by nbval"
    solution = REPO / "lessons" / "solutions" / f"{path.stem}.py"
    assert solution.exists(), f"missing {solution.relative_to(REPO)}"


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_no_visible_cell_gives_an_answer_away(path):
    """Predict, then check: a code cell shows only ``ask("id", objects...)``, never the answer,
    the expected value, the feedback, the hints or the explanation (they live in course/qNN.py).
    """
    shown = [(i, m.group(0)) for i, src in enumerate(_code(path)) for m in HIDDEN.finditer(src)]
    assert not shown, f"code cells hold question internals (cell index among code cells): {shown}"
    for src in _code(path):
        if not ASK.search(src):
            continue
        asks = [k for k, line in enumerate(src.splitlines()) if ASK.search(line)]
        assert len(asks) == 1, f"one question per cell: {src}"
        first = src.splitlines()[asks[0]]
        assert first.startswith("ask("), f"the call must stand alone: {first}"
        tail = src.splitlines()[asks[0]:]
        assert all(line.startswith((" ", ")")) for line in tail[1:]), (
            f"the ask(...) call must be the cell's last statement, or it is not displayed: {src}")


def test_static_check_catches_an_answer_in_a_cell():
    """The pattern above must fire on what the old cells looked like (so the test can fail)."""
    old = 'SelfCheck("HF?", answer=lambda: 1.2, expected=1.2,\n hints={"high": "..."})'
    assert {m.group(1) or m.group(2) for m in HIDDEN.finditer(old)} == {
        "SelfCheck", "answer", "expected", "hints"}
    assert not HIDDEN.search('ask("half_close", acct=acct, market=market)')
    assert not HIDDEN.search("x == expected_value")


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_cells_stay_thin(path):
    """Logic a lesson needs belongs in the package: no long functions or classes in cells."""
    for src in _code(path):
        for block in re.findall(r"^(?:def|class) .*?(?=^\S|\Z)", src, re.M | re.S):
            assert block.count("\n") <= 6, f"a definition over a few lines in a cell:\n{block}"


_AGREEMENT = r"""
import gc, json, math, sys, warnings
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
            row = {"id": getattr(c, "question_id", None), "expected": c.expected,
                   "numeric": c.choices is None, "tol": c.tolerance[0],
                   "abs_tol": c.tolerance[1]}
            try:
                row["agrees"] = c.agrees_with_text()
                row["answer"] = c.answer_now()
                row["explanation"] = c.explanation_text()
            except Exception as exc:
                row["agrees"] = repr(exc)
            out.append(row)
        results[path] = {"checks": out}
print(json.dumps(results, default=str))
"""


@pytest.fixture(scope="module")
def agreement(tmp_path_factory):
    env = {**os.environ, "CML_PROGRESS_FILE": str(tmp_path_factory.mktemp("p") / "p.json")}
    run = subprocess.run([sys.executable, "-c", _AGREEMENT, *map(str, LESSONS)],
                         cwd=REPO / "lessons", capture_output=True, text=True, timeout=900,
                         env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_selfcheck_answers_agree_with_engine(path, agreement):
    result = agreement[str(path)]
    assert "error" not in result, result.get("error")
    checks = result["checks"]
    assert len(checks) >= 2, f"expected >= 2 SelfCheck objects, found {len(checks)}"
    assert all(c["id"] for c in checks), "every SelfCheck of a lesson comes from ask()"
    wrong = [(c["id"], c["expected"], c["agrees"]) for c in checks if c["agrees"] is not True]
    assert not wrong, f"SelfCheck answers that no longer match the text: {wrong}"


def quoted_numbers(text: str) -> list:
    """Every number in ``text`` as a float ('6.53 M' -> 6,530,000; signs dropped), read by the
    suite's one prose-number reader, ``tests.support.tolerances.shown_numbers``."""
    return [value for value, _ in shown_numbers(text)]


def test_quoted_numbers_reads_amounts():
    assert quoted_numbers("= $9,000; 6.53 M DAI, 1.59 and -$15.00") == [9000.0, 6.53e6, 1.59, 15.0]


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_numeric_explanations_quote_the_engine_answer(path, agreement):
    """A numeric question's explanation is computed when shown, so it states the engine's
    answer (within the question's tolerance, as shown rounded); a text written for other
    numbers fails here."""
    result = agreement[str(path)]
    assert "error" not in result, result.get("error")
    for c in result["checks"]:
        assert isinstance(c.get("explanation"), str) and c["explanation"], c["id"]
        if not c["numeric"]:
            continue
        answer = abs(float(c["answer"]))
        tol = max(c["tol"], 0.01)                  # a shown number is rounded
        found = [x for x in quoted_numbers(c["explanation"])
                 if math.isclose(x, answer, rel_tol=tol, abs_tol=c["abs_tol"])]
        assert found, (f"{c['id']}: the explanation does not quote the engine's answer "
                       f"{answer:,.4g}: {c['explanation']}")


# --- No answer in the prose a learner sees before checking (issue 10) -------------------------
_DETAILS = re.compile(r"<details\b.*?</details>", re.S | re.I)
_SECTION = re.compile(r"^#{1,2}\s", re.M)


def _expected_answers(lesson: str) -> dict:
    """``{question id: expected}`` read from ``course/qNN.py`` without running a lesson: the
    ``expected=`` argument of each question function, evaluated in its module."""
    import ast
    import importlib
    questions_of = _questions()
    sys.path.insert(0, str(REPO / "lessons"))
    try:
        module = importlib.import_module(f"course.q{lesson}")
    finally:
        sys.path.remove(str(REPO / "lessons"))
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    ids = {q.id for q in questions_of(lesson)}
    out = {}
    for fn in tree.body:
        if isinstance(fn, ast.FunctionDef) and fn.name in ids:
            for node in ast.walk(fn):
                if isinstance(node, ast.keyword) and node.arg == "expected":
                    out[fn.name] = eval(compile(ast.Expression(node.value), module.__file__,
                                                "eval"), vars(module))
    return out


def answer_spellings(expected) -> set:
    """How prose would spell ``expected``: a choice's own text; a number with 0-2 decimals,
    thousands separated, and in millions ('6.5 M') when large. Spellings of fewer than two
    digits ('2') are too common to mean the answer and are left out."""
    if isinstance(expected, str):
        return {expected}
    x = abs(float(expected))
    out = {f"{x:,.{d}f}" for d in (0, 1, 2)} | {f"{x:.4g}"}
    if x >= 1e6:
        out |= {f"{x / 1e6:,.{d}f} M" for d in (0, 1, 2)}
    return {s for s in out if "e" not in s and sum(ch.isdigit() for ch in s) >= 2}


def revealed(text: str, expected) -> list:
    """The spellings of ``expected`` that ``text`` shows outside ``<details>`` blocks."""
    visible = _DETAILS.sub(" ", text)
    found = []
    for s in answer_spellings(expected):
        if isinstance(expected, str):
            pattern = rf"(?<![\w]){re.escape(s)}(?![\w])"
        else:
            pattern = rf"(?<![\d.,]){re.escape(s)}(?![\d]|[.,]\d)"
        if re.search(pattern, visible):
            found.append(s)
    return found


def _after_each_question(path: Path):
    """``(question id, visible markdown from its ask cell to the next # or ## heading)``."""
    cells = list(_cells(path))
    for i, (kind, src) in enumerate(cells):
        m = ASK.search(src) if kind == "code" else None
        if not m:
            continue
        prose = []
        for kind2, src2 in cells[i + 1:]:
            if kind2 != "markdown":
                continue
            head = _SECTION.search(src2)
            prose.append(src2[:head.start()] if head else src2)
            if head:
                break
        yield m.group(1), "\n".join(prose)


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_no_answer_in_the_prose_below_a_question(path):
    """Markdown renders without running anything, so the text under a question (down to the
    next section heading) must not state its answer, except inside a collapsed
    ``<details><summary>After you check: ...</summary>`` block."""
    expected = _expected_answers(path.stem[:2])
    leaks = []
    for qid, prose in _after_each_question(path):
        assert qid in expected, f"{qid}: no expected= in course/q{path.stem[:2]}.py"
        shown = revealed(prose, expected[qid])
        if shown:
            leaks.append((qid, expected[qid], shown))
    assert not leaks, f"answers stated below their question, outside <details>: {leaks}"


def test_answer_leak_check_can_fail():
    text = "**Check it in the lab:** Isolated loses 21,667 USD and keeps the SOL bucket."
    assert revealed(text, 21_666.67) == ["21,667"]
    assert revealed("The health factor reads 1.59, as in the first question.", 1.5882) == ["1.59"]
    assert not revealed("<details><summary>After you check</summary>reads 1.59</details>", 1.5882)
    assert not revealed("a fall of 11.59 % or 1.593", 1.5882)
    assert revealed("the pool is LIQUIDATABLE now", "LIQUIDATABLE")
    assert revealed("fund 6.5 M USD", 6_524_675.0) and not revealed("x 2 y", 2.0)
