"""SelfCheck: the engine marks the answer at check time; feedback names the misconception."""
import html
import math

import ipywidgets as W
import pytest

from widgets import SelfCheck, ShockPanel
from widgets.engine import Account, Market, margin_report
from widgets.self_check import CheckList

# 1 ETH at $4,000 (weight 0.9) against $3,000 of USDC debt: HF = 3,600 / 3,000 = 1.2.
# After ETH -20 %: 3,200 x 0.9 / 3,000 = 0.96 -> liquidatable.
ACCT = Account([0.0, 1.0, 0.0, 0.0], cash=-3_000.0)
HAIRCUT = "You forgot the 0.9 asset weight (the haircut) on the ETH collateral."
MISREAD = "The health factor is above 1 here, and above 1 means safe, not liquidated."


def shown(widget) -> str:
    """Every HTML text the widget shows (through its public ``children``), unescaped."""
    own = html.unescape(widget.value) if isinstance(widget, W.HTML) else ""
    return own + "".join(shown(c) for c in getattr(widget, "children", ()))


def feedback_box(q) -> W.HTML:
    """The feedback area: the HTML child right under the buttons."""
    return q.children[4]


def _report(panel):
    return margin_report(ACCT, panel.market, prices=panel.shocked_prices)


def _liquidation_question(panel):
    return SelfCheck("Is the account liquidatable?",
                     answer=lambda: "Yes" if _report(panel).liquidatable else "No",
                     choices=["Yes", "No"], feedback={"Yes": MISREAD},
                     explanation=lambda: f"HF is {float(_report(panel).health_factor):.2f}.")


def _hf_question(panel, **kw):
    return SelfCheck("What is the health factor?",
                     answer=lambda: _report(panel).health_factor, **kw)


def test_choice_correct_then_wrong_feedback_names_misconception():
    panel = ShockPanel()
    q = _liquidation_question(panel)
    assert q.correct is None and q.attempts == 0 and q.feedback_text == ""
    assert not bool(_report(panel).liquidatable)           # engine: HF 1.2, safe
    q.controls["response"].value = "No"                      # the radio button drives response
    assert q.response == "No"
    q.controls["check"].click()
    assert q.correct is True and q.attempts == 1
    assert q.feedback_text.startswith("✓ Correct")
    q.controls["response"].value = "Yes"
    assert q.correct is None and q.feedback_text == ""       # a new answer is unchecked
    assert q.check() is False                                # first wrong check: a nudge only
    assert q.feedback_text.startswith("✗ Not yet:") and MISREAD not in q.feedback_text
    assert q.check() is False                                # second: names the misconception
    assert q.feedback_text == f"✗ Not quite: {MISREAD}"
    assert 'role="status"' in feedback_box(q).value
    assert "above 1 means safe" in shown(q)
    assert q.attempts == 3 and q.wrong_attempts == 2


def test_answer_recomputed_at_check_time_after_state_changes():
    panel = ShockPanel()
    q = _liquidation_question(panel)
    q.response = "No"
    assert q.check() is True
    panel.shock = {**panel.shock, "ETH": -0.2}               # learner crashes ETH by 20 %
    assert bool(_report(panel).liquidatable)                 # engine: HF 0.96
    assert q.check() is False                                # same response, new scenario
    q.response = "Yes"
    assert q.check() is True and q.attempts == 3


def test_numeric_tolerance_and_progressive_hints():
    panel = ShockPanel()
    hints = {"high": HAIRCUT, "low": "Too pessimistic: the debt has weight 1, not 1.1."}
    q = _hf_question(panel, hints=hints, tolerance=0.01, unit="x",
                     nudge="recompute the weighted collateral.")
    hf = float(_report(panel).health_factor)
    assert hf == pytest.approx(1.2)
    q.response = 4_000 / 3_000                               # haircut forgotten: too high
    assert q.check() is False and q.feedback_text == "✗ Not yet: recompute the weighted collateral."
    assert q.check() is False and q.feedback_text == f"✗ Too high: {HAIRCUT}"   # then direction
    q.response = hf * 0.985                                  # 1.5 % low: outside tolerance
    assert q.check() is False and q.feedback_text.startswith("✗ Too low: Too pessimistic")
    q.response = hf * 1.009                                  # inside 1 %
    assert q.check() is True and "1.2 x" in q.feedback_text
    panel.shock = {**panel.shock, "ETH": -0.2}
    q.response = 0.96
    assert q.check() is True and q.attempts == 5 and q.wrong_attempts == 3


def test_numeric_default_nudge_then_default_hint():
    panel = ShockPanel()
    q = _hf_question(panel, unit="x")
    q.response = 2.0
    assert q.check() is False
    assert q.feedback_text == "✗ Not yet: 2 x is too high. Check your working and try again."
    assert q.check() is False and q.feedback_text == "✗ Too high: 2 x is too high. Try again."
    q2 = _hf_question(panel)
    assert q2.response is None
    assert q2.check() is False                               # takes the shown 0 from the box
    assert q2.response == 0.0 and "too low" in q2.feedback_text


def test_answer_raising_margin_input_error_shows_message_not_traceback():
    m = Market.example()
    q = SelfCheck("HF?", answer=lambda: margin_report(Account([1.0]), m).health_factor)
    q.response = 1.0
    assert q.check() is None
    assert q.correct is None and q.attempts == 0
    assert "can't be checked" in q.feedback_text and "one column per market asset" in q.problem
    assert "Traceback" not in shown(q) and "one column" in shown(q)
    assert 'role="alert"' in feedback_box(q).value


def test_answer_not_among_choices_is_reported_as_a_question_bug():
    q = SelfCheck("Pick", answer=lambda: "C", choices=["A", "B"])
    q.response = "A"
    assert q.check() is None and "not one of the choices" in q.problem


def test_choice_check_without_answer_asks_for_one():
    q = _liquidation_question(ShockPanel())
    assert q.check() is None and q.attempts == 0
    assert q.feedback_text.startswith("Choose an answer first")


def test_bad_response_from_code_shows_message_and_keeps_last_good():
    q = _liquidation_question(ShockPanel())
    q.response = "No"
    q.response = "Maybe"
    assert q.response == "No" and q.controls["response"].value == "No" and "Maybe" in q.problem
    n = _hf_question(ShockPanel())
    n.response = 1.1
    for bad in (float("nan"), float("inf"), "abc", True, [1.2], {"a": 1}, object(),
                "1" * 250_000):
        n.response = bad
        assert n.response == 1.1 and n.controls["response"].value == 1.1 and n.problem
        assert len(n.problem) <= 300 and n.problem in shown(n)
    n.response = "1.25"                     # a number in quotes: refused with the reason
    assert n.response == 1.1 and "must be a number (without quotes), got '1.25'" in n.problem
    n.response = 1e300                      # huge but finite: a (wrong) answer to check
    assert n.response == 1e300 and n.problem == "" and n.check() is False
    n.response = None                       # back to no answer
    assert n.response is None and n.controls["response"].value == 1e300


def test_explanation_is_locked_until_a_right_answer():
    panel = ShockPanel()
    q = _liquidation_question(panel)
    toggle = q.controls["explanation"]
    assert toggle.disabled and not q.unlocked
    toggle.value = True                                      # forced open from code: refused
    assert toggle.value is False and q.explanation_shown == ""
    assert "HF is" not in shown(q)                           # nothing sent to the page either
    q.response = "Yes"
    q.check()
    assert toggle.disabled and "HF is" not in shown(q)       # a wrong answer keeps it locked
    q.response = "No"
    assert q.check() is True and q.unlocked and not toggle.disabled
    toggle.value = True
    assert "HF is 1.20" in shown(q) and q.explanation_shown == "HF is 1.20."
    assert toggle.description == "Hide explanation"
    panel.shock = {**panel.shock, "ETH": -0.2}
    q.response = "Yes"
    q.check()                                                # refreshes an open explanation
    assert "HF is 0.96" in shown(q) and q.explanation_shown == "HF is 0.96."
    toggle.value = False
    assert q.explanation_shown == "" and q.children[5].layout.display == "none"


def test_give_up_is_offered_after_two_wrong_checks_and_shows_the_answer():
    q = _liquidation_question(ShockPanel())
    give_up = q.controls["give_up"]
    assert give_up.layout.display == "none"
    q.give_up()                                              # too early: refused, still locked
    assert not q.unlocked and not q.gave_up and "more time" in q.feedback_text
    q.response = "Yes"
    q.check()
    assert give_up.layout.display == "none"                  # one wrong check is not enough
    q.check()
    assert give_up.layout.display == ""                      # two: "I give up, show me"
    assert give_up.description == "I give up, show me"
    give_up.click()
    assert q.gave_up and q.unlocked and q.correct is None
    assert q.feedback_text == "The answer: No."
    assert q.controls["explanation"].value is True and "HF is 1.20" in q.explanation_shown
    assert give_up.layout.display == "none"


def test_numeric_give_up_names_the_number_with_its_unit():
    q = _hf_question(ShockPanel(), unit="x")
    q.response = 3.0
    q.check(), q.check()
    q.give_up()
    assert q.feedback_text == "The answer: 1.2 x."


def test_controls_are_laid_out_to_be_read_and_clicked():
    q = _liquidation_question(ShockPanel())
    c = q.controls
    assert set(c) == {"response", "check", "explanation", "give_up"}
    for button in (c["check"], c["explanation"], c["give_up"]):   # labels are never cut
        assert button.layout.width == "auto" and button.layout.min_width == "max-content"
    assert c["explanation"].description == "Show explanation"
    assert "cml-choices" in c["response"].get_state()["_dom_classes"]
    assert c["response"].description == ""
    css = q.children[0].value
    for rule in ("height: auto", "white-space: normal", "cursor: pointer"):
        assert rule in css                                   # one option per line, wrapping
    assert q.children[0].layout.display == "none" and "<style>" in css


def test_bad_configuration_is_refused_at_construction():
    with pytest.raises(ValueError, match="unknown choice"):
        SelfCheck("?", answer=lambda: "A", choices=["A", "B"], feedback={"C": "..."})
    with pytest.raises(ValueError, match="hints"):
        SelfCheck("?", answer=lambda: 1.0, hints={"up": "..."})
    with pytest.raises(TypeError):
        SelfCheck("?", answer=1.0)


def test_infinite_answer_and_state_round_trip():
    q = SelfCheck("HF with no debt?", answer=lambda: math.inf)
    q.response = 1e9
    assert q.check() is False and "too low" in q.feedback_text.lower()
    assert q.check() is False and q.feedback_text.startswith("✗ Too low")
    assert q.get_state_dict() == {"response": 1e9}
    other = SelfCheck("HF with no debt?", answer=lambda: math.inf)
    assert other.set_state_dict(q.get_state_dict()) and other.controls["response"].value == 1e9


def test_checklist_numbers_questions_shares_defaults_and_scores():
    panel = ShockPanel()
    quiz = CheckList(dict(question="HF?", answer=lambda: _report(panel).health_factor),
                     _liquidation_question(panel), title="Check yourself", unit="x")
    assert "Q1." in shown(quiz.checks[0])
    assert quiz.checks[0].controls["response"].description == "Your answer (x)"
    assert quiz.n_correct == 0 and "0 of 2 correct." in shown(quiz)
    quiz.checks[0].response = 1.2
    quiz.checks[0].check()
    quiz.checks[1].response = "Yes"
    quiz.checks[1].check()
    assert quiz.n_correct == 1 and quiz.score == "1 of 2 correct."
    quiz.checks[0].response = 1.3                            # unchecked again
    assert quiz.n_correct == 0


def test_one_check_sends_one_feedback_update(comm_log):
    q = _liquidation_question(ShockPanel())
    q.response = "No"
    comm_log.clear()
    q.controls["check"].click()
    assert len(comm_log.updates_for(feedback_box(q))) == 1
    assert comm_log.updates_for(q.controls["response"]) == []


def test_note_is_shown_under_the_question_and_escaped():
    q = SelfCheck("2 + 2?", answer=lambda: 4, note="answered <right> before")
    question = q.children[1].value
    assert "answered &lt;right&gt; before" in question and "cml-note" in question
    assert "cml-note" not in SelfCheck("2 + 2?", answer=lambda: 4).children[1].value


@pytest.mark.parametrize("answer, kind", [
    (lambda: 1 / 0, "ZeroDivisionError"),
    (lambda: {}["missing"], "KeyError"),
    (lambda: "not a number", "ValueError"),
    (lambda: None, "TypeError"),
])
def test_an_answer_that_fails_is_reported_in_the_widget(answer, kind):
    q = SelfCheck("Ratio?", answer=answer, explanation="It is 2.")
    q.response = 2.0
    assert q.check() is None                                 # nothing escapes
    assert q.problem.startswith(f"This question could not compute its answer: {kind}")
    assert q.correct is None and q.attempts == 0 and len(q.problem) <= 300
    assert q.problem in shown(q) and 'role="alert"' in feedback_box(q).value
    q.response = 3.0                                         # still usable
    assert q.response == 3.0 and q.problem == "" and q.check() is None
    choice = SelfCheck("Pick", answer=answer, choices=["A", "B"])
    choice.response = "A"
    assert choice.check() is None
    assert choice.problem.startswith("This question could not compute its answer")


def test_give_up_with_an_answer_that_starts_failing_says_so():
    state = {"broken": False}

    def answer():
        if state["broken"]:
            raise ZeroDivisionError("division by zero")
        return 2.0
    q = SelfCheck("Ratio?", answer=answer)
    q.response = 5.0
    q.check(), q.check()
    assert q.wrong_attempts == 2
    state["broken"] = True
    assert q.give_up() is None and not q.gave_up and not q.unlocked
    assert q.problem.startswith("This question could not compute its answer: ZeroDivisionError")


def test_an_answer_error_with_a_huge_message_is_cut_short():
    def answer():
        raise RuntimeError("x" * 100_000)
    q = SelfCheck("?", answer=answer)
    q.response = 1.0
    assert q.check() is None and len(q.problem) <= 300 and "RuntimeError" in q.problem


def test_an_explanation_that_fails_is_reported_in_the_widget():
    q = SelfCheck("2 + 2?", answer=lambda: 4, explanation=lambda: 1 / 0)
    q.response = 4
    assert q.check() is True
    q.controls["explanation"].value = True
    assert "could not be computed: ZeroDivisionError" in q.explanation_shown
    assert "ZeroDivisionError" in shown(q)


def test_constructor_response_follows_the_policy_and_configuration_raises():
    q = SelfCheck("How much?", answer=lambda: 1.0, response=float("nan"))
    assert q.response is None and "finite number" in q.problem
    q = SelfCheck("How much?", answer=lambda: 1.0, response=2.5)
    assert q.response == 2.5 and q.controls["response"].value == 2.5 and q.problem == ""
    q = SelfCheck("Pick", answer=lambda: "A", choices=["A", "B"], response="C")
    assert q.response is None and "must be one of ['A', 'B']" in q.problem
    for bad in (float("nan"), -0.1, "1 %", None):
        with pytest.raises(ValueError, match="tolerance must be a finite number >= 0"):
            SelfCheck("?", answer=lambda: 1.0, tolerance=bad)
    assert SelfCheck("?", answer=lambda: 1.0, tolerance=0.05, abs_tolerance=1).tolerance \
        == (0.05, 1.0)
    assert SelfCheck("Pick", answer=lambda: "A", choices=["A", "B"]).choices == ("A", "B")
