"""Shared pieces of every component: palette, labelled controls, figures, summaries, errors.

Components follow ipywidgets' own style (``widget_int.py``, ``widget_box.py``): a class that
subclasses a box, inputs as settable traits, outputs as ``read_only`` traits set with
``set_trait``, and ``observe`` for events. Charts are bqplot object-model figures built once; a
change updates mark data in place inside ``hold_sync()`` so each mark sends one message.
"""
from __future__ import annotations

import html
import json
from functools import cached_property

import ipywidgets as W
import numpy as np
import traitlets as T
from bqplot import Axis, Figure, LinearScale, OrdinalScale

from .engine import MarginInputError

# Okabe & Ito (2008) colour-blind-safe palette; meaning is never carried by colour alone (every
# mark also has a label, legend or text summary).
PALETTE = {
    "blue": "#0072B2", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "vermillion": "#D55E00", "purple": "#CC79A7", "grey": "#999999",
}
CROSS = PALETTE["blue"]
ISOLATED = PALETTE["orange"]
DANGER = PALETTE["vermillion"]
SAFE = PALETTE["green"]
NEUTRAL = PALETTE["grey"]

# Full width less the 2 px margin ipywidgets puts on each side of a widget; plain "100%" overflows
# its box by 4 px and gives every component a horizontal scrollbar.
FULL_WIDTH = "calc(100% - 4px)"

# Theme-aware text styles: JupyterLab CSS variables, so dark themes read as well as light ones.
_TEXT = "color: var(--jp-ui-font-color1); font-size: var(--jp-ui-font-size1);"
_MUTED = "color: var(--jp-ui-font-color2);"
_ERROR = ("color: var(--jp-error-color1); border-left: 3px solid var(--jp-error-color1); "
          "padding-left: 6px;")


def money(x: float, signed: bool = False) -> str:
    """``$12,000`` / ``-$3,500`` / ``+$20`` (``signed``); ``n/a`` for non-finite values."""
    if x is None or not np.isfinite(x):
        return "n/a"
    sign = "-" if x < 0 else ("+" if signed and x > 0 else "")
    return f"{sign}${abs(x):,.0f}"


def _not_finite(x) -> str | None:
    """``n/a`` for a missing value, ``∞`` / ``-∞`` for infinities, None for a number."""
    if x is None or np.isnan(x):
        return "n/a"
    if np.isinf(x):
        return "∞" if x > 0 else "-∞"
    return None


def pct(x: float, digits: int = 1) -> str:
    """``12.5%``; ``inf`` or ``n/a`` spelled out (no debt: a margin ratio of 0, HF of ∞)."""
    return _not_finite(x) or f"{x:.{digits}%}"


def ratio(x: float, digits: int = 2) -> str:
    """``1.07``; ``inf`` or ``n/a`` spelled out."""
    return _not_finite(x) or f"{x:.{digits}f}"


def slider(description: str, value: float, min: float, max: float, step: float,
           fmt: str = ".0%", continuous: bool = True, tooltip: str = "") -> W.FloatSlider:
    """A labelled, keyboard-operable slider (arrow keys step it; the label is its name)."""
    return W.FloatSlider(
        value=value, min=min, max=max, step=step, description=description,
        readout_format=fmt, continuous_update=continuous, tooltip=tooltip or description,
        style={"description_width": "initial"}, layout=W.Layout(width=FULL_WIDTH))


def shows(control, value) -> bool:
    """True when ``control`` already displays ``value`` as closely as its step allows.

    A slider snaps a value that is off its grid (30 on a log slider stepping 10**0.05) and sends
    the snapped value back; treating that echo as a new input would silently change the scenario
    (and every number in a lesson) the moment the widget is displayed.
    """
    try:
        shown, value, step = float(control.value), float(value), float(control.step)
    except (AttributeError, TypeError, ValueError):
        return False
    if isinstance(control, W.FloatLogSlider):
        if shown <= 0 or value <= 0:
            return False
        base = float(control.base)
        shown, value = np.log(shown) / np.log(base), np.log(value) / np.log(base)
    return abs(shown - value) <= step / 2 + 1e-12


def summary_box() -> W.HTML:
    """An HTML widget for a chart's live text summary (screen readers announce changes)."""
    return W.HTML(value="", layout=W.Layout(width=FULL_WIDTH))


def set_summary(box: W.HTML, text: str) -> None:
    box.value = (f'<div role="status" aria-live="polite" style="{_TEXT}">'
                 f"{html.escape(text)}</div>")


def problem_box() -> W.HTML:
    return W.HTML(value="", layout=W.Layout(width=FULL_WIDTH))


def figure(title: str, x_scale, y_scale, marks, x_label: str = "", y_label: str = "",
           height: str = "280px", y_format: str = "", x_format: str = "") -> Figure:
    """A figure with fixed scales (so axes never jump) and no animation while dragging."""
    # label_offset keeps axis titles clear of the tick labels (they overlapped at bqplot's
    # default offset with money ticks like "$1.5M").
    axes = [Axis(scale=x_scale, label=x_label, tick_format=x_format or None,
                 label_offset="35px"),
            Axis(scale=y_scale, side="left", label=y_label, tick_format=y_format or None,
                 label_offset="58px")]
    return Figure(
        title=title, marks=marks, axes=axes, animation_duration=0,
        fig_margin={"top": 40, "bottom": 50, "left": 80, "right": 20},
        legend_location="top-right",
        layout=W.Layout(width=FULL_WIDTH, height=height, min_width="300px"))


def fixed_scale(lo: float, hi: float) -> LinearScale:
    return LinearScale(min=float(lo), max=float(hi))


def ordinal_scale(domain) -> OrdinalScale:
    return OrdinalScale(domain=list(domain))


class Component(W.VBox):
    """Base of every component: a problem message, a summary trait, state save/restore.

    Subclasses list their settable inputs in ``_state_traits`` (JSON-able values) and implement
    ``_render()``. ``problem`` holds the message currently shown to the learner ("" when all is
    well); ``summary`` holds the live text summary of the charts.
    """

    problem = T.Unicode("", read_only=True, help="Message shown for bad input; '' when fine.")
    summary = T.Unicode("", read_only=True, help="The live text summary of the charts.")
    _state_traits: tuple = ()

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.add_class("cml-component")

    # Created on first use, so a subclass can place them in its children before super().__init__.
    @cached_property
    def _problem_box(self) -> W.HTML:
        return problem_box()

    @cached_property
    def _summary_box(self) -> W.HTML:
        return summary_box()

    # -- errors become messages at the boundary -------------------------------------------
    def _show_problem(self, message: str) -> None:
        self.set_trait("problem", message)
        self._problem_box.value = (f'<div role="alert" style="{_ERROR}">'
                                   f"{html.escape(message)}</div>")

    def _clear_problem(self) -> None:
        if self.problem:
            self.set_trait("problem", "")
            self._problem_box.value = ""

    def _set_summary(self, text: str) -> None:
        self.set_trait("summary", text)
        set_summary(self._summary_box, text)

    def _guard(self, action, revert=None) -> bool:
        """Run ``action()``; on bad input show the message, call ``revert()``, keep the chart.

        Returns True when the action succeeded. Errors other than bad input still raise: they
        are bugs, and hiding them would hide wrong numbers.
        """
        try:
            action()
        except (MarginInputError, T.TraitError) as exc:
            if revert is not None:
                revert()
            self._show_problem(_readable(exc))
            return False
        self._clear_problem()
        return True

    # -- save / restore -------------------------------------------------------------------
    def get_state_dict(self) -> dict:
        """The component's inputs as plain JSON-able values."""
        return {name: _jsonable(getattr(self, name)) for name in self._state_traits}

    def set_state_dict(self, state: dict) -> bool:
        """Restore inputs saved by :meth:`get_state_dict`; bad values show a message instead.

        If any value is rejected, every input goes back to what it was: a bad file changes
        nothing but the message.
        """
        unknown = sorted(set(state) - set(self._state_traits))
        if unknown:
            self._show_problem(f"Unknown setting(s) in scenario: {', '.join(unknown)}.")
            return False
        before = self.get_state_dict()
        self._clear_problem()
        for name, value in state.items():
            try:
                setattr(self, name, value)
            except T.TraitError as exc:        # wrong type for the trait itself
                self._show_problem(_readable(exc))
            if self.problem:                   # an observer rejected the value
                message = self.problem
                for old_name, old_value in before.items():
                    setattr(self, old_name, old_value)
                self._show_problem(message)
                return False
        return True


def _readable(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, T.TraitError):
        text = text.split(". Expected")[0].split(" expected ")[0]
    return f"That input was not accepted: {text}. The last valid result is still shown."


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def dumps(state: dict) -> str:
    return json.dumps(state, sort_keys=True)
