"""The question registry: every self-check of the course, by id, and :func:`ask` to show one.

A lesson module (``q04.py``) registers its questions in the order the lesson asks them::

    question = register("04")

    @question
    def half_close(acct, market):
        after = lambda: margin_report(liquidate(acct, market, close_factor=0.5).book, market)
        return dict(question="...", answer=lambda: after().health_factor[0],
                    explanation=lambda: f"... = {after().health_factor[0]:.2f}.", expected=1.10)

The function takes the notebook's objects by name and returns :class:`widgets.SelfCheck`
arguments. ``answer`` (and a callable ``explanation``) are evaluated only when the learner
presses Check or opens the explanation, so they follow the objects if the learner changes them.
"""
from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from typing import Callable

from .catalog import LESSONS
from .progress import Progress


@dataclass(frozen=True)
class Question:
    lesson: str            # "04"
    id: str                # "half_close"
    number: int            # 1-based position in the lesson: shown as "Q<number>."
    build: Callable[..., dict]

    @property
    def needs(self) -> tuple[str, ...]:
        """The names of the notebook objects the question is computed from."""
        return tuple(inspect.signature(self.build).parameters)


QUESTIONS: dict[str, Question] = {}
#: Question ids asked in this session, in order (the lesson tests read it).
ASKED: list[str] = []
_PROGRESS: list[Progress] = []


def register(lesson: str):
    """A decorator that adds a question-building function to ``lesson``'s questions."""
    def question(build):
        qid = build.__name__
        if qid in QUESTIONS:
            raise ValueError(f"question id {qid!r} is used twice (lessons "
                             f"{QUESTIONS[qid].lesson} and {lesson})")
        number = 1 + sum(q.lesson == lesson for q in QUESTIONS.values())
        QUESTIONS[qid] = Question(lesson, qid, number, build)
        return build
    return question


def questions_of(lesson: str) -> list[Question]:
    """The questions of ``lesson`` ("04") in the order the lesson asks them."""
    return [q for q in QUESTIONS.values() if q.lesson == lesson]


def progress() -> Progress:
    """The session's progress record (read once from the file, see :mod:`course.progress`)."""
    if not _PROGRESS:
        _PROGRESS.append(Progress())
    return _PROGRESS[0]


def use_progress(record: Progress | None = None) -> None:
    """Start the session over with ``record`` (None: read the progress file again on next use),
    as a new kernel would: for tests, and for an instructor resetting a shared kernel."""
    _PROGRESS.clear()
    if record is not None:
        _PROGRESS.append(record)


def ask(qid: str, **objects):
    """Show the self-check ``qid``, computed from the notebook ``objects`` passed by name.

    Returns a :class:`widgets.SelfCheck` (displayed when it is a cell's last line). A right
    answer is recorded in the learner's progress file; the course map shows it.
    """
    from widgets import SelfCheck

    if qid not in QUESTIONS:
        raise KeyError(f"no question {qid!r}; known: {sorted(QUESTIONS)}")
    q = QUESTIONS[qid]
    missing = [n for n in q.needs if n not in objects]
    extra = sorted(set(objects) - set(q.needs))
    if missing or extra:
        raise TypeError(f"ask({qid!r}) needs the objects {list(q.needs)}; "
                        f"missing {missing}, unexpected {extra}")
    before = qid in progress().correct(q.lesson)
    note = "✓ You answered this right in an earlier session. Try it again." if before else ""
    check = SelfCheck(number=q.number, note=note, **q.build(**objects))
    check.question_id, check.lesson = qid, q.lesson
    ASKED.append(qid)

    def remember(change):
        if change["new"] is True:
            progress().record(q.lesson, qid)
    check.observe(remember, names="correct")
    return check


def _load_all() -> None:
    for item in LESSONS:
        importlib.import_module(f"{__package__}.q{item.number}")


_load_all()
