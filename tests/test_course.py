"""The course around the lessons: question registry and ask(), progress file, map, navigation,
closing page (``lessons/course``, ``tools/course_pages.py``, ``lessons/where_next.ipynb``)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LESSONS_DIR = REPO / "lessons"
sys.path.insert(0, str(LESSONS_DIR))

from course import LESSONS, Progress, ask, navigation, questions_of  # noqa: E402
from course import questions as registry  # noqa: E402
from course.catalog import CLOSING  # noqa: E402
from course.pages import NAV_MARK, course_map_markdown  # noqa: E402
from widgets.engine import Account, Market, margin_report  # noqa: E402

LINK = re.compile(r"\]\(([^)#\s]+)(#[^)]*)?\)")


def _nb(stem: str) -> dict:
    return json.loads((LESSONS_DIR / f"{stem}.ipynb").read_text(encoding="utf-8"))


def _src(cell) -> str:
    s = cell["source"]
    return "".join(s) if isinstance(s, list) else s


@pytest.fixture()
def progress_file(tmp_path, monkeypatch):
    """A fresh progress record in a temporary file (the learner's own file is never touched)."""
    path = tmp_path / "progress.json"
    monkeypatch.setenv("CML_PROGRESS_FILE", str(path))
    registry.use_progress()
    yield path
    registry.use_progress()                 # the next test starts from its own file again


def _lesson00():
    market = Market.example()
    account = Account.from_positions(market, holdings={"ETH": 10}, cash=-17_000)
    return account, market


# -- the question registry and ask() ------------------------------------------------------
def test_every_lesson_has_at_least_two_questions_numbered_in_order():
    for item in LESSONS:
        qs = questions_of(item.number)
        assert len(qs) >= 2, item.stem
        assert [q.number for q in qs] == list(range(1, len(qs) + 1))
    assert len(registry.QUESTIONS) == sum(len(questions_of(x.number)) for x in LESSONS)


def test_a_question_id_can_be_registered_only_once():
    def hf_after_fall():                                     # lesson 00 already has this id
        return {}
    with pytest.raises(ValueError, match="used twice"):
        registry.register("01")(hf_after_fall)
    assert registry.QUESTIONS["hf_after_fall"].lesson == "00"


def test_ask_shows_the_question_not_the_answer_and_marks_with_the_engine(progress_file):
    account, market = _lesson00()
    q = ask("hf_after_fall", account=account, market=market)
    assert "Q1." in q.question_text and "health factor" in q.question_text
    assert q.explanation_shown == "" and q.controls["explanation"].disabled      # nothing shown before a guess
    assert q.expected == pytest.approx(1.5882)
    q.response = 1.5882
    assert q.check() is True
    assert str(round(float(margin_report(
        account, market, prices=market.shocked({"ETH": -0.25}).prices).health_factor), 2)) \
        in q.explanation_text()


def test_ask_names_missing_or_unexpected_objects():
    account, market = _lesson00()
    with pytest.raises(TypeError, match=r"missing \['market'\]"):
        ask("hf_after_fall", account=account)
    with pytest.raises(TypeError, match=r"unexpected \['extra'\]"):
        ask("hf_after_fall", account=account, market=market, extra=1)
    with pytest.raises(KeyError, match="no question 'nope'"):
        ask("nope")


def test_answer_follows_the_objects_the_cell_passed(progress_file):
    account, market = _lesson00()
    q = ask("hf_after_fall", account=account, market=market.replace(asset_weight=[0.8] * 3 + [1]))
    q.response = 1.5882                                      # the default scenario's answer
    assert q.check() is False                                # the engine uses the new weights
    assert not progress_file.exists()


# -- progress -------------------------------------------------------------------------------
def test_right_answer_is_kept_across_sessions(progress_file):
    account, market = _lesson00()
    q = ask("hf_after_fall", account=account, market=market)
    q.response = 3.0
    q.check()
    assert not progress_file.exists()                        # wrong answers are not recorded
    q.response = 1.5882
    q.check()
    saved = json.loads(progress_file.read_text())
    assert saved == {"version": 1, "correct": {"00": ["hf_after_fall"]}}
    assert Progress().correct("00") == {"hf_after_fall"}     # a new session, same env file
    registry.use_progress()                                  # ... which reads the file again
    again = ask("hf_after_fall", account=account, market=market)
    assert "answered this right in an earlier session" in again.question_text
    assert "answered this right" not in ask("margin_ratio_reading", crash=margin_report(
        account, market, prices=market.shocked({"ETH": -0.55}).prices)).question_text
    text = course_map_markdown(Progress())
    assert "1 of 2 right: Q1 ✓ Q2 ○" in text and "**1 of " in text
    assert str(progress_file) in text


def test_two_open_lessons_do_not_overwrite_each_other(progress_file):
    first, second = Progress(), Progress()                   # two kernels, one file
    first.record("00", "hf_after_fall")
    second.record("04", "restore_repay")
    assert Progress().correct("00") == {"hf_after_fall"}
    assert Progress().correct("04") == {"restore_repay"}
    registry.use_progress(first)                            # lesson 00's kernel shows the map
    assert "1 of 4 right: Q1 ✓" in course_map_markdown()    # with 04's answer, read from file


def test_broken_progress_file_is_ignored_with_a_message(progress_file):
    progress_file.write_text('{"correct": ["not", "a", "dict"]}')
    p = Progress()
    assert p.correct("00") == set() and "could not be read" in p.message
    text = course_map_markdown(p)
    assert "could not be read" in text and "Traceback" not in text
    assert p.record("00", "hf_after_fall")                   # the next right answer starts afresh
    assert json.loads(progress_file.read_text())["correct"] == {"00": ["hf_after_fall"]}
    assert (progress_file.parent / "progress.json.broken").exists()   # the old one is kept


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe\x00", b"[1, 2]"])
def test_any_unreadable_content_gives_a_message(progress_file, content):
    progress_file.write_bytes(content)
    p = Progress()
    assert p.correct("04") == set() and p.message


def test_unwritable_progress_path_keeps_the_session_going(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    p = Progress(blocker / "progress.json")                  # a path under a file: cannot write
    assert p.record("00", "q") is False and "could not be saved" in p.message
    assert p.correct("00") == {"q"}                          # still counted for this session


def test_progress_path_defaults_to_home_and_env_overrides(monkeypatch, tmp_path):
    monkeypatch.delenv("CML_PROGRESS_FILE", raising=False)
    assert Progress().path == Path.home() / ".cross_margin_lab" / "progress.json"
    monkeypatch.setenv("CML_PROGRESS_FILE", str(tmp_path / "p.json"))
    assert Progress().path == tmp_path / "p.json"


# -- map, navigation, closing page -----------------------------------------------------------
def test_course_map_lists_every_lesson_from_the_one_table(progress_file):
    text = course_map_markdown(Progress(), here="03_correlation_effects")
    for item in LESSONS:
        assert item.goal in text
        assert (f"[{item.label}]({item.file})" in text) != (item.stem == "03_correlation_effects")
    assert "**03 · Correlation** (you are here)" in text
    assert "0 of 4 right" in text and f"]({CLOSING.file})" in text
    assert f"]({CLOSING.file})" not in course_map_markdown(Progress(), here=CLOSING.stem)


def test_catalog_titles_match_the_lesson_headers():
    files = sorted(p.stem for p in LESSONS_DIR.glob("[0-9][0-9]_*.ipynb"))
    assert files == [x.stem for x in LESSONS]
    for item in LESSONS:
        first = _src(_nb(item.stem)["cells"][0]).splitlines()[0]
        assert first.startswith(f"# {int(item.number)} · {item.title}"), (first, item.title)


def test_navigation_links_previous_map_and_next():
    assert navigation("00_start_here") == (
        f"{NAV_MARK}\n[Course map](00_start_here.ipynb#Map-of-the-course) · "
        "[01 · Margin pooling →](01_margin_pooling.ipynb)")
    assert "[Where next →](where_next.ipynb)" in navigation("08_risk_desk_capstone")
    last = navigation("where_next")
    assert "← [08 · Risk desk capstone](08_risk_desk_capstone.ipynb)" in last and "→" not in last


@pytest.mark.parametrize("stem", [x.stem for x in (*LESSONS, CLOSING)])
def test_every_page_has_prev_next_at_top_and_bottom(stem):
    cells = _nb(stem)["cells"]
    nav = [i for i, c in enumerate(cells) if _src(c).startswith(NAV_MARK)]
    assert nav == [1, len(cells) - 1], f"navigation cells at {nav}"
    for i in nav:
        assert _src(cells[i]) == navigation(stem)
        for target, _ in LINK.findall(_src(cells[i])):
            assert (LESSONS_DIR / target).exists(), target


def test_lesson_00_shows_the_map_with_progress():
    cells = _nb("00_start_here")["cells"]
    at = next(i for i, c in enumerate(cells) if _src(c).startswith("## Map of the course"))
    assert cells[at + 1]["cell_type"] == "code"
    assert _src(cells[at + 1]) == 'course_map(here="00_start_here")'


def test_closing_page_states_every_objective_and_where_to_go():
    sys.path.insert(0, str(REPO / "tools"))
    try:
        import course_pages
    finally:
        sys.path.remove(str(REPO / "tools"))
    text = "\n".join(_src(c) for c in _nb("where_next")["cells"])
    flat = " ".join(text.split())
    for item in LESSONS:
        objectives = course_pages.objectives(item.stem)
        assert 3 <= len(objectives) <= 5, item.stem
        for objective in objectives:
            assert " ".join(objective.split()) in flat, (item.stem, objective)
        assert f"]({item.file})" in text
    for heading in ("## What you learned", "## Where to go next", "### Papers",
                    "### The venues' own rules", "### The apps"):
        assert heading in text
    for target, _ in LINK.findall(text):
        if not target.startswith(("http", "<")):
            assert (LESSONS_DIR / target).exists(), target
    assert 'course_map(here="where_next")' in text


def test_generated_pages_are_up_to_date():
    """Lesson titles, goals or objectives changed? Run ``python tools/course_pages.py``."""
    run = subprocess.run([sys.executable, str(REPO / "tools" / "course_pages.py"), "--check"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def test_no_question_calls_debt_over_collateral_a_margin_ratio():
    """Binance's margin ratio is maintenance margin / margin balance (futures); debt / collateral
    of a loan is an LTV. No question text may define the margin ratio as debt / collateral."""
    import re
    from pathlib import Path
    bad = re.compile(r"margin ratio[^.]{0,40}?\b(inverse|is)\b[^.]{0,10}?debt\s*[/÷]\s*collateral",
                     re.I | re.S)
    for path in sorted((Path(__file__).resolve().parents[1] / "lessons" / "course").glob("q*.py")):
        text = re.sub(r'"\s*\n\s*"', "", path.read_text(encoding="utf-8"))   # join "..." "..."
        assert not bad.search(text), f"{path.name}: {bad.search(text).group(0)!r}"
