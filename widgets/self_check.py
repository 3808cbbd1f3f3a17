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

    Nothing a learner does raises: a response of the wrong kind is refused with a message, and an
    ``answer`` (or ``explanation``) that fails when called, whatever the error, is reported in
    the widget ("This question could not compute its answer: ZeroDivisionError ...").

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
    response : str or float, optional
        An initial response (the constructor policy of :class:`widgets._ui.Component`: a refused
        value leaves None and says why). The other arguments configure the question and raise
        ``TypeError`` / ``ValueError`` when they are wrong.

    Attributes
    ----------
    response : str, float or None
        Input: the learner's answer, shown on the control (radio buttons or a number box). A
        choice question takes one of ``choices``; a numeric one a finite number (not a string).
    correct : bool or None
        Output: result of the last check; None before a check and after the response changes.
    attempts : int
        Output: checks of an answer so far.
    feedback_text : str
        Output: the feedback shown after the last check (or why there was nothing to check).
    wrong_attempts : int
        Output: checks that were wrong (drives the hint level).
    unlocked : bool
        Output: True once the explanation may be shown: answered right at least once, or given up.
    gave_up : bool
        Output: the learner pressed "I give up, show me".
    explanation_shown : str
        Output: the explanation on screen now; "" while it is locked or hidden.
    problem : str
        Output: why the last response or check could not be used ("" when fine); shown in the
        feedback area.

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

    An answer that fails says so instead of raising:

    >>> broken = SelfCheck("Ratio?", answer=lambda: 1 / 0)
    >>> broken.response = 2.0
    >>> broken.check() is None, broken.problem[:61]
    (True, 'This question could not compute its answer: ZeroDivisionError')
    """

    response = T.Any(None, allow_none=True,
                     help="The learner's answer: a choice label or a finite number.")
    correct = T.Bool(None, allow_none=True, read_only=True,
                     help="Result of the last check; None before a check.")
    attempts = T.Int(0, read_only=True, help="Checks of an answer so far.")
    feedback_text = T.Unicode("", read_only=True, help="The feedback shown after the last check.")
    wrong_attempts = T.Int(0, read_only=True, help="Checks that were wrong.")
    unlocked = T.Bool(False, read_only=True,
                      help="True once the explanation may be shown (right, or given up).")
    gave_up = T.Bool(False, read_only=True, help="The learner pressed 'I give up, show me'.")
    explanation_shown = T.Unicode("", read_only=True,
                                  help="The explanation on screen now; '' when locked or hidden.")
    _state_traits = ("response",)
    #: wrong checks after which "I give up, show me" is offered
    GIVE_UP_AFTER = 2

    def __init__(self, question: str, answer, choices=None, feedback=None, tolerance=0.01,
                 explanation="", unit="", hints=None, abs_tolerance=0.0, number=None,
                 expected=None, nudge=None, note="", **kwargs):
        given = {"response": kwargs.pop("response")} if "response" in kwargs else {}
        if not callable(answer):
            raise TypeError("answer must be a zero-argument callable returning the answer")
        self._answer = answer
        self.expected = expected
        self._choices = None if choices is None else tuple(str(c) for c in choices)
        self._feedback = dict(feedback or {})
        self._hints = dict(hints or {})
        self._tol, self._abs_tol = _tolerance("tolerance", tolerance), _tolerance(
            "abs_tolerance", abs_tolerance)
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
        check = W.Button(description="Check", icon="check", button_style="primary",
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
        css = W.HTML(_CSS, layout=W.Layout(display="none"))   # a <style> applies while hidden
        super().__init__(children=[css, self._question, self._input,
                                   W.HBox([check, self._toggle, self._give_up],
                                          layout=W.Layout(flex_flow="row wrap")),
                                   self._feedback_box, self._explain_box], **kwargs)
        self.add_class("cml-self-check")
        # ``response`` may be None, which a number box cannot show: the box is synced in
        # _sync_extra (not _bind), and moving it sets the response.
        self._input.observe(self._from_input, names="value")
        check.on_click(lambda _: self.check())
        self._give_up.on_click(lambda _: self.give_up())
        self._toggle.observe(self._on_toggle, names="value")
        self._expose(controls={"response": self._input, "check": check,
                               "explanation": self._toggle, "give_up": self._give_up})
        self.observe(self._on_input, names="response")
        self._apply_inputs(given)

    # -- public ---------------------------------------------------------------------------
    @property
    def choices(self):
        """The options of a choice question (a tuple), or None for a numeric question."""
        return self._choices

    @property
    def tolerance(self) -> tuple:
        """``(relative, absolute)`` tolerance of a numeric answer."""
        return self._tol, self._abs_tol

    def check(self):
        """Mark the current response against ``answer()`` evaluated now; returns the result.

        Returns True / False, or None when there is nothing to check (no response yet, or the
        answer cannot be computed for the current scenario).
        """
        if self.response is None and self._choices is None:
            self.response = float(self._input.value)     # the learner kept the shown number
            if self.response is None:                    # the box held something refused
                return None
        if self.response is None:
            self._say("Choose an answer first, then press Check.", None)
            return None
        expected = self._answer_now("This question can't be checked for the current scenario: "
                                    "{}. Put the scenario back to valid inputs and press Check "
                                    "again.")
        if expected is None:
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
        expected = self._answer_now("The answer can't be computed for the current scenario: {}.")
        if expected is None:
            return
        shown = expected if self._choices else _number(expected, self._unit)
        self.set_trait("gave_up", True)
        self._say(f"The answer: {shown}.", None)
        self._unlock()
        self._toggle.value = True

    @property
    def question_text(self) -> str:
        """The question as shown, HTML included (its number, any "answered earlier" note)."""
        return self._question.value

    def answer_now(self):
        """The engine's answer for the current scenario (a float, or the right choice): what
        :meth:`check` marks against. Raises what ``answer()`` raises."""
        return self._expected()

    def explanation_text(self) -> str:
        """The explanation as it would be shown now (evaluated if it is a callable)."""
        return self._explanation() if callable(self._explanation) else self._explanation

    def agrees_with_text(self) -> bool:
        """True when ``answer()`` now equals the ``expected`` answer the lesson text assumes."""
        if self.expected is None:
            raise ValueError("this SelfCheck has no expected answer to compare with")
        value = self._expected()
        if self._choices is not None:
            return value == str(self.expected)
        return math.isclose(value, float(self.expected), rel_tol=self._tol,
                            abs_tol=self._abs_tol)

    # -- the response ---------------------------------------------------------------------
    @T.validate("response")
    def _valid_response(self, proposal):
        """None, one of the choices, or (numeric question) a finite real number."""
        value = proposal["value"]
        if value is None:
            return None
        if self._choices is not None:
            if isinstance(value, str) and value in self._choices:
                return value
            raise T.TraitError(f"response must be one of {list(self._choices)}, got "
                               f"{_ui.short_repr(value)}")
        if not _ui.is_real(value):
            raise T.TraitError(f"response must be a number (without quotes), got "
                               f"{_ui.short_repr(value)}")
        number = float(value)
        if not math.isfinite(number):
            raise T.TraitError(f"response must be a finite number, got {number}")
        return number

    def _from_input(self, change) -> None:
        """The learner moved the control: set the response (a cleared box is no answer)."""
        if not self._silenced and change["new"] != self.response:
            self.response = change["new"]

    def _sync_extra(self) -> None:
        if self.response is not None or self._choices is not None:
            self._input.value = self.response

    def _show(self) -> None:
        """A new response is unchecked: clear the verdict and the feedback."""
        self.set_trait("correct", None)
        self.set_trait("feedback_text", "")
        self._feedback_box.value = ""

    def _show_problem(self, message: str) -> None:      # one message area: the feedback box
        self._say(message, None, problem=True)

    def _clear_problem(self) -> None:
        if self.problem:
            self.set_trait("problem", "")

    # -- marking --------------------------------------------------------------------------
    def _answer_now(self, scenario_message: str):
        """``answer()`` now, or None after saying why it could not be computed.

        A :class:`MarginInputError` is the scenario's bad input (``scenario_message``); any
        other error is a fault of the question itself, named with its type.
        """
        try:
            return self._expected()
        except MarginInputError as exc:
            text = scenario_message.format(_ui.clip(str(exc).rstrip("."), 160))
        except Exception as exc:                          # noqa: BLE001 - shown, not raised
            text = (f"This question could not compute its answer: {type(exc).__name__}: "
                    f"{_ui.clip(str(exc), 120)}. Tell your instructor; the rest of the lesson "
                    "still works.")
        self._say(_ui.clip(text, _ui.MAX_MESSAGE), None, problem=True)
        return None

    def _expected(self):
        value = self._answer()
        if self._choices is not None:
            if str(value) not in self._choices:
                raise ValueError(f"the answer {_ui.short_repr(value)} is not one of the "
                                 f"choices {list(self._choices)}")        # a bug in the question
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
        role = 'role="alert"' if problem else 'role="status" aria-live="polite"'
        self._feedback_box.value = (
            f'<div {role} style="{_ui._TEXT} border-left: 4px solid '
            f'{colour}; padding-left: 6px;">{html.escape(text)}</div>')
        return correct

    # -- the explanation ------------------------------------------------------------------
    def _unlock(self) -> None:
        self.set_trait("unlocked", True)
        self._toggle.disabled = False
        self._toggle.tooltip = "Show or hide the explanation"
        self._give_up.layout.display = "none"

    def _on_toggle(self, change) -> None:
        if change["new"] and not self.unlocked:       # locked: answer (or give up) first
            self._toggle.value = False
            return
        self._toggle.description = "Hide explanation" if change["new"] else "Show explanation"
        if not change["new"]:
            self._explain_box.layout.display = "none"
            self.set_trait("explanation_shown", "")
            return
        try:
            text = self.explanation_text()
        except MarginInputError as exc:
            text = f"The explanation needs valid inputs: {_ui.clip(str(exc), 200)}."
        except Exception as exc:                          # noqa: BLE001 - shown, not raised
            text = (f"The explanation could not be computed: {type(exc).__name__}: "
                    f"{_ui.clip(str(exc), 120)}.")
        text = str(text or "No explanation for this one.")
        self._explain_box.value = f'<div style="{_ui._MUTED}">{html.escape(text)}</div>'
        self._explain_box.layout.display = ""
        self.set_trait("explanation_shown", text)


def _tolerance(name: str, value) -> float:
    """A tolerance: a finite number >= 0 (a question's configuration: wrong ones raise)."""
    if not _ui.is_real(value) or not 0 <= float(value) < math.inf:
        raise ValueError(f"{name} must be a finite number >= 0, got {_ui.short_repr(value)}")
    return float(value)


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
