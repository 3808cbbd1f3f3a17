"""SelfCheck: predict-then-check questions whose answer the engine computes when you press Check."""
from __future__ import annotations

import html
import math

import ipywidgets as W
import traitlets as T

from . import _ui
from .engine import MarginInputError


def _number(x: float, unit: str = "") -> str:
    text = f"{x:,.4g}" if math.isfinite(x) else ("∞" if x > 0 else "-∞")
    return f"{text} {unit}".strip()


# Long choices wrap inside their own line and never overlap the next one; the radio button sits
# at the top-left of its label (ipywidgets writes it after the text: row-reverse). ipywidgets
# gives each radio label a fixed one-line height and the group a fixed width, which is what made
# long options draw over each other.
_CSS = """<style>
.cml-self-check .cml-choices { width: calc(100% - 4px); }
.cml-self-check .cml-choices .widget-radio-box { width: 100%; gap: 4px; }
.cml-self-check .cml-choices .widget-radio-box label {
  display: flex; flex-direction: row-reverse; justify-content: flex-end; align-items: flex-start;
  gap: 6px; height: auto; min-height: 0; line-height: 1.4; white-space: normal;
  overflow-wrap: anywhere; padding: 2px 0; cursor: pointer;
  font-size: var(--jp-ui-font-size1); color: var(--jp-ui-font-color1); }
.cml-self-check .cml-choices .widget-radio-box input { margin: 0.2em 0 0 0; flex: none; }
.cml-self-check .widget-html-content { line-height: 1.45; white-space: normal; }
.cml-self-check .widget-button, .cml-self-check .widget-toggle-button {
  overflow: visible; text-overflow: clip; }
</style>"""


class SelfCheck(_ui.Component):
    """A predict-then-check question (multiple choice or numeric) marked by the engine.

    The correct answer is computed by calling ``answer()`` *when the learner presses Check*, so a
    question stays right after the learner changes the scenario it is about. Help comes in steps:
    the first wrong check gets a nudge (``nudge``, or a generic one); later wrong checks get the
    sentence from ``feedback`` that names the chosen option's misconception, or for a number its
    direction ("too high") and the matching hint. The explanation stays locked until the learner
    has answered right, or has pressed "I give up, show me" (offered after two wrong checks), so
    the answer is never on screen before a guess.

    Parameters
    ----------
    question : str
        The question, shown above the controls (plain text).
    answer : callable, no arguments
        Returns the correct choice label (choice questions) or number (numeric questions),
        typically read from a component's outputs or an engine call.
    choices : sequence of str, optional
        The options of a multiple-choice question; omit for a numeric question.
    feedback : dict {choice: str}, optional
        For each wrong choice, a sentence naming the misconception behind it.
    tolerance : float, default 0.01
        Relative tolerance of a numeric answer (0.01: within 1 %).
    abs_tolerance : float, default 0
        Absolute tolerance, for answers that can be 0.
    hints : dict {"high": str, "low": str}, optional
        Directional feedback for a numeric answer that is too high / too low.
    explanation : str or callable, default ""
        Shown by the "Show explanation" toggle once unlocked (a right answer, or giving up); a
        callable is evaluated when shown, so it can quote the current numbers.
    note : str, optional
        A muted line under the question that gives nothing away (e.g. "answered right in an
        earlier session").
    nudge : str, optional
        What the first wrong check says (a nudge that gives nothing away); the misconception
        feedback / directional hint comes from the second wrong check on.
    unit : str, default ""
        Unit of a numeric answer, shown in the label and the feedback ("USD", "x").
    number : int, optional
        Shown as "Q<number>." before the question (CheckList numbers its questions).
    expected : str or float, optional
        The answer the lesson's text assumes for its default scenario. Never shown; the lesson
        tests check that the engine's ``answer()`` still agrees, so an engine change that
        changes the story is caught (see :meth:`agrees_with_text`).

    Traits
    ------
    response : Unicode or Float or None (input) — the learner's answer; linked to the control.
    correct : Bool or None (output, read-only) — result of the last check; None before a check
        and after the response changes.
    attempts : Int (output, read-only) — checks of an answer so far.
    feedback_text : Unicode (output, read-only) — the feedback shown after the last check.
    wrong_attempts : Int (output, read-only) — checks that were wrong (drives the hint level).
    unlocked : Bool (output, read-only) — True once the explanation may be shown: answered right
        at least once, or given up.
    gave_up : Bool (output, read-only) — the learner pressed "I give up, show me".

    Examples
    --------
    Aave's case: 5 ETH at $2,000 with an 80 % liquidation threshold against $6,000 of debt.

    >>> from widgets.engine import Market, Account, margin_report
    >>> m = Market(["ETH"], [2_000.0], asset_weight=0.8)
    >>> acct = Account([5.0], cash=-6_000.0)
    >>> q = SelfCheck("What is the health factor?",
    ...               answer=lambda: margin_report(acct, m).health_factor,
    ...               hints={"high": "did you apply the 80 % liquidation threshold?",
    ...                      "low": "the threshold multiplies the collateral, not the debt."})
    >>> q.response = 10_000 / 6_000          # forgot the threshold
    >>> q.check(), q.feedback_text, q.unlocked
    (False, '✗ Not yet: 1.667 is too high. Check your working and try again.', False)
    >>> q.check(), q.feedback_text               # second wrong check: the directional hint
    (False, '✗ Too high: did you apply the 80 % liquidation threshold?')
    >>> q.response = 1.33
    >>> q.check(), q.attempts, q.unlocked
    (True, 3, True)
    """

    response = T.Union([T.Unicode(), T.Float()], allow_none=True, default_value=None,
                       help="The learner's answer (choice label or number).")
    correct = T.Bool(None, allow_none=True, read_only=True)
    attempts = T.Int(0, read_only=True)
    feedback_text = T.Unicode("", read_only=True)
    wrong_attempts = T.Int(0, read_only=True)
    unlocked = T.Bool(False, read_only=True)
    gave_up = T.Bool(False, read_only=True)
    _state_traits = ("response",)
    #: wrong checks after which "I give up, show me" is offered
    GIVE_UP_AFTER = 2

    def __init__(self, question: str, answer, choices=None, feedback=None, tolerance=0.01,
                 explanation="", unit="", hints=None, abs_tolerance=0.0, number=None,
                 expected=None, nudge=None, note="", **kwargs):
        if not callable(answer):
            raise TypeError("answer must be a zero-argument callable returning the answer")
        self._answer = answer
        self.expected = expected
        self._choices = None if choices is None else tuple(str(c) for c in choices)
        self._feedback = dict(feedback or {})
        self._hints = dict(hints or {})
        self._tol, self._abs_tol = float(tolerance), float(abs_tolerance)
        self._explanation, self._unit = explanation, unit
        self._nudge = nudge
        stray = set(self._feedback) - set(self._choices or self._feedback)
        if stray:
            raise ValueError(f"feedback for unknown choice(s): {sorted(stray)}")
        if set(self._hints) - {"high", "low"}:
            raise ValueError("hints keys must be 'high' and/or 'low'")
        prefix = f"<b>Q{number}.</b> " if number is not None else ""
        remark = (f'<div class="cml-note" style="{_ui._MUTED}">{html.escape(note)}</div>'
                  if note else "")
        self._question = W.HTML(f'<div style="{_ui._TEXT}">{prefix}{html.escape(question)}</div>'
                                f"{remark}", layout=W.Layout(width=_ui.FULL_WIDTH))
        label = "Your answer" + (f" ({unit})" if unit else "")
        style = {"description_width": "initial"}
        if self._choices is None:
            self._input = W.FloatText(value=0.0, description=label, style=style)
        else:
            # A real radio group: every option is a <label> around its <input>, so a click on
            # the text selects it; the stylesheet below lets long labels wrap, one per line.
            self._input = W.RadioButtons(options=self._choices, value=None,
                                         layout=W.Layout(width=_ui.FULL_WIDTH))
            self._input.add_class("cml-choices")
        wide = W.Layout(width="auto", min_width="max-content")     # labels never cut
        self._check = W.Button(description="Check", icon="check", button_style="primary",
                               tooltip="Check your answer against the engine", layout=wide)
        self._toggle = W.ToggleButton(description="Show explanation", icon="lightbulb-o",
                                      disabled=True, layout=W.Layout(width="auto",
                                                                     min_width="max-content"),
                                      tooltip="Answer first: the explanation opens after a "
                                              "right answer (or after giving up)")
        self._give_up = W.Button(description="I give up, show me", icon="eye",
                                 tooltip="Show the answer and the explanation",
                                 layout=W.Layout(width="auto", min_width="max-content",
                                                 display="none"))
        self._feedback_box = W.HTML("", layout=W.Layout(width=_ui.FULL_WIDTH))
        self._explain_box = W.HTML("", layout=W.Layout(width=_ui.FULL_WIDTH, display="none"))
        self._good = None
        self._syncing = False
        self._input.observe(self._on_input, names="value")
        self._check.on_click(lambda _: self.check())
        self._give_up.on_click(lambda _: self.give_up())
        self._toggle.observe(self._on_toggle, names="value")
        css = W.HTML(_CSS, layout=W.Layout(display="none"))   # a <style> applies while hidden
        super().__init__(children=[css, self._question, self._input,
                                   W.HBox([self._check, self._toggle, self._give_up],
                                          layout=W.Layout(flex_flow="row wrap")),
                                   self._feedback_box, self._explain_box], **kwargs)
        self.add_class("cml-self-check")
        self.observe(self._on_response, names="response")

    # -- public ---------------------------------------------------------------------------
    def check(self):
        """Mark the current response against ``answer()`` evaluated now; returns the result.

        Returns True / False, or None when there is nothing to check (no response yet, or the
        answer cannot be computed for the current scenario).
        """
        if self.response is None and self._choices is None:
            self.response = float(self._input.value)     # the learner kept the shown number
        if self.response is None:
            self._say("Choose an answer first, then press Check.", None)
            return None
        try:
            expected = self._expected()
        except MarginInputError as exc:
            self._say(f"This question can't be checked for the current scenario: {exc}. "
                      "Put the scenario back to valid inputs and press Check again.", None,
                      problem=True)
            return None
        self.set_trait("attempts", self.attempts + 1)
        ok = self._mark_choice(expected) if self._choices else self._mark_number(expected)
        if ok:
            self._unlock()
        else:
            self.set_trait("wrong_attempts", self.wrong_attempts + 1)
            if self.wrong_attempts >= self.GIVE_UP_AFTER and not self.unlocked:
                self._give_up.layout.display = ""
        if self._toggle.value:
            self._on_toggle({"new": True})
        return ok

    def give_up(self) -> None:
        """Show the engine's answer and open the explanation (offered after two wrong checks)."""
        if self.wrong_attempts < self.GIVE_UP_AFTER and not self.unlocked:
            self._say(f"Try {self.GIVE_UP_AFTER - self.wrong_attempts} more time(s) first: "
                      "a wrong guess teaches more than a shown answer.", None)
            return
        try:
            expected = self._expected()
        except MarginInputError as exc:
            self._say(f"The answer can't be computed for the current scenario: {exc}.", None,
                      problem=True)
            return
        shown = expected if self._choices else _number(expected, self._unit)
        self.set_trait("gave_up", True)
        self._say(f"The answer: {shown}.", None)
        self._unlock()
        self._toggle.value = True

    def explanation_text(self) -> str:
        """The explanation as it would be shown now (evaluated if it is a callable)."""
        return self._explanation() if callable(self._explanation) else self._explanation

    def _unlock(self) -> None:
        self.set_trait("unlocked", True)
        self._toggle.disabled = False
        self._toggle.tooltip = "Show or hide the explanation"
        self._give_up.layout.display = "none"

    def agrees_with_text(self) -> bool:
        """True when ``answer()`` now equals the ``expected`` answer the lesson text assumes."""
        if self.expected is None:
            raise ValueError("this SelfCheck has no expected answer to compare with")
        value = self._expected()
        if self._choices is not None:
            return value == str(self.expected)
        return math.isclose(value, float(self.expected), rel_tol=self._tol,
                            abs_tol=self._abs_tol)

    # -- marking --------------------------------------------------------------------------
    def _expected(self):
        value = self._answer()
        if self._choices is not None:
            if str(value) not in self._choices:
                raise MarginInputError(f"the computed answer {value!r} is not one of the "
                                       f"choices {list(self._choices)} (a bug in the question)")
            return str(value)
        value = float(value)
        if math.isnan(value):
            raise MarginInputError("the engine's answer is not a number (nan)")
        return value

    def _first_try(self) -> bool:            # the nudge level: no wrong check before this one
        return self.wrong_attempts == 0

    def _mark_choice(self, expected: str) -> bool:
        picked = self.response
        if picked == expected:
            return self._say(f"✓ Correct: {picked}.", True)
        if self._first_try():
            return self._say("✗ Not yet: " + (self._nudge or "that is not the answer for this "
                             "scenario. Re-read the question, then try once more."), False)
        why = self._feedback.get(picked, f"“{picked}” is not the answer for this scenario. "
                                         "Look at the numbers again and try once more.")
        return self._say(f"✗ Not quite: {why}", False)

    def _mark_number(self, expected: float) -> bool:
        r, unit = float(self.response), self._unit
        if math.isinf(expected) or math.isinf(r):
            ok = r == expected
        else:
            ok = math.isclose(r, expected, rel_tol=self._tol, abs_tol=self._abs_tol)
        if ok:
            return self._say(f"✓ Correct: {_number(r, unit)} is within {self._tol * 100:g} % of "
                             f"the engine's {_number(expected, unit)}.", True)
        side = "high" if r > expected else "low"
        if self._first_try():
            return self._say("✗ Not yet: " + (self._nudge or f"{_number(r, unit)} is too {side}. "
                             "Check your working and try again."), False)
        hint = self._hints.get(side, f"{_number(r, unit)} is too {side}. Try again.")
        return self._say(f"✗ Too {side}: {hint}", False)

    def _say(self, text: str, correct, problem: bool = False):
        self.set_trait("correct", correct)
        self.set_trait("feedback_text", text)
        self.set_trait("problem", text if problem else "")
        colour = {True: _ui.SAFE, False: _ui.DANGER, None: _ui.NEUTRAL}[correct]
        self._feedback_box.value = (
            f'<div role="status" aria-live="polite" style="{_ui._TEXT} border-left: 4px solid '
            f'{colour}; padding-left: 6px;">{html.escape(text)}</div>')
        return correct

    def _show_problem(self, message: str) -> None:      # one message area: the feedback box
        self._say(message, None, problem=True)

    # -- syncing --------------------------------------------------------------------------
    def _on_input(self, change) -> None:
        if not self._syncing:
            self.response = change["new"]

    def _on_response(self, change) -> None:
        new = change["new"]
        if self._syncing:
            return

        def apply():
            value = new
            if new is not None and self._choices is not None and str(new) not in self._choices:
                raise MarginInputError(f"response must be one of {list(self._choices)}, "
                                       f"got {new!r}")
            if new is not None and self._choices is None:
                try:
                    value = float(new)
                except ValueError:
                    raise MarginInputError(f"response must be a number, got {new!r}") from None
                if not math.isfinite(value):
                    raise MarginInputError(f"response must be a finite number, got {new!r}")
            self._good = value

        def revert():
            self._sync(self._good)

        if self._guard(apply, revert):
            self._sync(self._good)
            self.set_trait("correct", None)
            self.set_trait("feedback_text", "")
            self._feedback_box.value = ""

    def _sync(self, value) -> None:
        self._syncing = True
        try:
            self.response = value
            if value is not None or self._choices is not None:
                self._input.value = value
        finally:
            self._syncing = False

    def _on_toggle(self, change) -> None:
        if change["new"] and not self.unlocked:       # locked: answer (or give up) first
            self._toggle.value = False
            return
        self._toggle.description = "Hide explanation" if change["new"] else "Show explanation"
        if not change["new"]:
            self._explain_box.layout.display = "none"
            return
        try:
            text = self.explanation_text()
        except MarginInputError as exc:
            text = f"The explanation needs valid inputs: {exc}."
        self._explain_box.value = (f'<div style="{_ui._MUTED}">'
                                   f"{html.escape(text or 'No explanation for this one.')}</div>")
        self._explain_box.layout.display = ""


class CheckList(W.VBox):
    """Several SelfChecks built consistently: numbered, shared defaults, a live score.

    ``CheckList(dict(question=..., answer=...), ..., title="Check yourself", unit="x")``: each
    dict holds SelfCheck arguments; keyword arguments of CheckList are defaults for all of them.
    ``n_correct`` (read-only) counts questions whose last check was right.

    Examples
    --------
    >>> quiz = CheckList(dict(question="2 + 2?", answer=lambda: 4),
    ...                  dict(question="Pick B", answer=lambda: "B", choices=["A", "B"]))
    >>> quiz.checks[0].response = 4
    >>> _ = quiz.checks[0].check()
    >>> quiz.n_correct, quiz.score
    (1, '1 of 2 correct.')
    """

    n_correct = T.Int(0, read_only=True)

    def __init__(self, *specs, title: str = "", **defaults):
        self.checks = [s if isinstance(s, SelfCheck) else
                       SelfCheck(**{**defaults, "number": i, **s})
                       for i, s in enumerate(specs, start=1)]
        self._score = W.HTML("")
        head = ([W.HTML(f'<div style="{_ui._TEXT}"><b>{html.escape(title)}</b></div>')]
                if title else [])
        super().__init__(children=[*head, *self.checks, self._score])
        for c in self.checks:
            c.observe(self._update, names="correct")
        self._update()

    @property
    def score(self) -> str:
        return f"{self.n_correct} of {len(self.checks)} correct."

    def _update(self, change=None) -> None:
        self.set_trait("n_correct", sum(c.correct is True for c in self.checks))
        _ui.set_summary(self._score, self.score)
