"""The course around the lessons: questions kept out of sight, progress, map and navigation.

Lessons run with ``lessons/`` as their working directory, so a notebook imports this package as
``course``::

    from course import ask
    ask("hf_after_fall", account=account, market=market)      # shows one SelfCheck

The question text, choices, answer function, expected answer, feedback, hints and explanation of
every self-check live in one module per lesson (``course/q00.py`` ... ``course/q08.py``); the
notebook cell shows only the call, so nothing gives the answer away before the learner guesses.
Answers are still computed by the engine when the learner presses Check, from the objects the
cell passes in.

Modules
-------
``catalog``   the one table of lessons (number, file, title, what you will be able to do)
``questions`` the question registry and :func:`ask`
``progress``  which checks were answered right, kept in a small local JSON file
``pages``     the course map (with progress) and the prev / next navigation lines
"""
from .catalog import LESSONS, Lesson, lesson
from .pages import course_map, navigation
from .progress import Progress
from .questions import QUESTIONS, ask, questions_of

__all__ = ["LESSONS", "Lesson", "lesson", "course_map", "navigation", "Progress", "QUESTIONS",
           "ask", "questions_of"]
