"""The course map (with the learner's progress) and the prev / next line of every lesson.

Both are generated from :data:`course.catalog.LESSONS`, so adding or renaming a lesson changes
the map, the links and the closing page together (``tools/course_pages.py`` rewrites the
navigation cells; ``tests/test_course.py`` checks they match).
"""
from __future__ import annotations

from .catalog import CLOSING, LESSONS, lesson
from .progress import Progress
from . import questions as _q

#: First line of a navigation cell (an HTML comment: invisible once rendered).
NAV_MARK = "<!-- course-nav -->"
#: Where the map lives (a heading anchor in lesson 00, as JupyterLab names it).
MAP_LINK = "00_start_here.ipynb#Map-of-the-course"


def navigation(stem: str) -> str:
    """The markdown of a lesson's navigation cell: previous · course map · next.

    >>> print(navigation("08_risk_desk_capstone"))
    <!-- course-nav -->
    ← [07 · Case studies](07_case_studies.ipynb) · [Course map](00_start_here.ipynb#Map-of-the-course) · [Where next →](where_next.ipynb)
    """
    order = [*LESSONS, CLOSING]
    i = [x.stem for x in order].index(lesson(stem).stem)
    parts = []
    if i > 0:
        prev = order[i - 1]
        parts.append(f"← [{prev.label}]({prev.file})")
    parts.append(f"[Course map]({MAP_LINK})")
    if i + 1 < len(order):
        nxt = order[i + 1]
        text = nxt.title if nxt is CLOSING else nxt.label
        parts.append(f"[{text} →]({nxt.file})")
    return f"{NAV_MARK}\n" + " · ".join(parts)


def progress_line(number: str, record: Progress) -> str:
    """"2 of 4 right: Q1 ✓ Q2 ✓ Q3 ○ Q4 ○" for one lesson."""
    qs = _q.questions_of(number)
    right = record.correct(number)
    marks = " ".join(f"Q{q.number} {'✓' if q.id in right else '○'}" for q in qs)
    n = sum(q.id in right for q in qs)
    return f"{n} of {len(qs)} right: {marks}"


def course_map_markdown(record: Progress | None = None, here: str | None = None) -> str:
    """The course map as a markdown table: lesson (linked), goal, checks answered right."""
    if record is None:                       # this session's record, plus other open lessons'
        record = _q.progress()
        record.refresh()
    rows = ["| lesson | what you will be able to do | your checks |", "| --- | --- | --- |"]
    for item in LESSONS:
        name = (f"**{item.label}** (you are here)" if item.stem == here
                else f"[{item.label}]({item.file})")
        rows.append(f"| {name} | {item.goal} | {progress_line(item.number, record)} |")
    total = sum(len(_q.questions_of(x.number)) for x in LESSONS)
    done = sum(len(record.correct(x.number) & {q.id for q in _q.questions_of(x.number)})
               for x in LESSONS)
    then = "" if here == CLOSING.stem else f" Then: [{CLOSING.title}]({CLOSING.file})."
    tail = [f"\n**{done} of {total}** checks answered right so far "
            f"(✓ right at least once, ○ not yet).{then}"]
    tail.append(f"Progress is kept on this computer in `{record.path}`; nothing is sent anywhere.")
    if record.message:
        tail.append(f"\n*{record.message}*")
    return "\n".join(rows + tail)


def course_map(here: str | None = None):
    """Display the course map with this learner's progress (run the cell again to refresh)."""
    from IPython.display import Markdown

    return Markdown(course_map_markdown(here=here))
