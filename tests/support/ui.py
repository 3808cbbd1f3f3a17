"""Helpers for reading a component as the learner sees it (shared by the widget tests)."""
from __future__ import annotations


def alert_text(widget) -> str:
    """The message the learner sees: the ``role="alert"`` box, found by walking the widget's
    public children ("" when there is none)."""
    stack = [widget]
    while stack:
        w = stack.pop()
        if 'role="alert"' in str(getattr(w, "value", "")):
            return w.value
        stack.extend(getattr(w, "children", ()) or ())
    return ""
