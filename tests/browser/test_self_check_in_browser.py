"""SelfCheck in real JupyterLab: nothing is given away before a guess, long choices are readable
and clickable, button labels are whole (issue 10, points 1, 2 and 6).

One generated notebook in the temporary copy of ``lessons/`` asks lesson 07's FTX question (the
longest choices of the course) through ``course.ask``, as the lessons do.
"""
from __future__ import annotations

import json

import _lab
import pytest

pytestmark = pytest.mark.browser

NOTEBOOK = "98_self_check_demo.ipynb"
CELL = """\
import os, tempfile
os.environ["CML_PROGRESS_FILE"] = os.path.join(tempfile.mkdtemp(), "progress.json")
import numpy as np
from widgets.engine import Account, Market
from course import ask
mango = Market(["MNGO", "USDC"], [0.0382, 1.0], asset_weight=[0.6, 1.0],
               liability_weight=[1.4, 1.0], maintenance_margin=[0.10, 0.0],
               initial_margin=[0.20, 0.0], volatility=[0.10, 0.001])
wallet_b = Account([0.0, 0.0], perps=[483e6, 0.0], entry_prices=[0.0382, 0.0], cash=5e6)
ftx = mango.replace(initial_margin=[min(0.00025 * np.sqrt(483e6), 1.0), 0.0])
ask("ftx_rule", wallet_b=wallet_b, ftx=ftx)"""
WRONG = "Open the position, but borrow nothing against the profit"
EXPLANATION = "Initial health at entry"

# Geometry of the first SelfCheck: option labels, buttons, what its text shows.
MEASURE = """() => {
  const root = document.querySelector('.cml-self-check');
  const box = root.getBoundingClientRect();
  const labels = Array.from(root.querySelectorAll('.cml-choices .widget-radio-box label')).map((l) => {
    const r = l.getBoundingClientRect();
    return {text: l.textContent.trim(), top: r.top, bottom: r.bottom, left: r.left,
            right: r.right, height: r.height,
            checked: !!(l.querySelector('input') && l.querySelector('input').checked),
            radio: l.querySelector('input').getBoundingClientRect().left - r.left,
            line: parseFloat(getComputedStyle(l).lineHeight) || 18};
  });
  const buttons = Array.from(root.querySelectorAll('button')).filter(
      (b) => b.offsetParent !== null).map((b) => ({text: b.textContent.trim(),
      cut: b.scrollWidth > b.clientWidth + 1, disabled: b.disabled}));
  return {right: box.right, labels, buttons, text: root.innerText};
}"""


def _write(root) -> None:
    cell = {"cell_type": "code", "execution_count": None, "id": "selfcheck", "metadata": {},
            "outputs": [], "source": CELL}
    nb = {"cells": [cell], "nbformat": 4, "nbformat_minor": 5,
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                      "language": "python"}}}
    (root / NOTEBOOK).write_text(json.dumps(nb), encoding="utf-8")


def _overlaps(labels) -> list:
    return [(a["text"][:30], b["text"][:30]) for i, a in enumerate(labels)
            for b in labels[i + 1:]
            if a["bottom"] > b["top"] + 0.5 and b["bottom"] > a["top"] + 0.5]


def test_self_check_waits_for_a_guess_and_choices_wrap(lab, lessons_copy):
    _write(lessons_copy)
    page = lab.page
    lab.open(NOTEBOOK)
    lab.set_theme(_lab.LIGHT)
    lab.run_all()
    assert lab.errors() == [], "errors after Run All"
    page.wait_for_selector(".cml-self-check .cml-choices .widget-radio-box label")

    # 1. before any guess: no explanation, no answer, the explanation button is locked
    m = page.evaluate(MEASURE)
    assert EXPLANATION not in m["text"] and "The answer" not in m["text"]
    buttons = {b["text"]: b for b in m["buttons"]}
    assert buttons["Show explanation"]["disabled"], "explanation must be locked before a guess"
    assert not any(b["cut"] for b in m["buttons"]), f"cut button labels: {m['buttons']}"
    assert "I give up, show me" not in buttons

    # 2. one option per line, none overlapping, none running out of the widget
    assert len(m["labels"]) == 3
    assert _overlaps(m["labels"]) == [], f"option labels overlap: {_overlaps(m['labels'])}"
    assert all(lab_["right"] <= m["right"] + 1 for lab_ in m["labels"])
    assert [lab_["top"] for lab_ in m["labels"]] == sorted(lab_["top"] for lab_ in m["labels"])
    assert all(lab_["radio"] < 4 for lab_ in m["labels"]), "radio button first, at the left"

    # ... and on a narrow window the long options wrap onto more lines instead
    page.set_viewport_size({"width": 560, "height": 1000})
    _lab.settle(page)
    narrow = page.evaluate(MEASURE)
    assert _overlaps(narrow["labels"]) == [], f"overlap when wrapped: {narrow['labels']}"
    assert max(x["height"] / x["line"] for x in narrow["labels"]) > 1.5, "long options must wrap"
    assert all(x["right"] <= narrow["right"] + 1 for x in narrow["labels"])
    assert not any(b["cut"] for b in narrow["buttons"]), narrow["buttons"]
    _lab.screenshot(page, "self_check-narrow")
    page.set_viewport_size(_lab.VIEWPORT)
    _lab.settle(page)

    # 3. a click on the option's text selects it (nothing intercepts it)
    page.locator(".cml-self-check .cml-choices .widget-radio-box label", has_text=WRONG).click()
    page.wait_for_function(
        """(t) => Array.from(document.querySelectorAll('.cml-choices .widget-radio-box label')).some(
            (l) => l.textContent.includes(t) && l.querySelector('input').checked)""", arg=WRONG)

    # 4. progressive help: a nudge, then the misconception, then "I give up, show me"
    check = page.locator(".cml-self-check button", has_text="Check")
    check.click()
    page.wait_for_selector(".cml-self-check [role=status]:has-text('Not yet')")
    assert EXPLANATION not in page.evaluate(MEASURE)["text"]
    check.click()
    page.wait_for_selector(".cml-self-check [role=status]:has-text('Not quite')")
    give_up = page.locator(".cml-self-check button", has_text="I give up, show me")
    give_up.wait_for(state="visible")
    give_up.click()
    page.wait_for_selector(".cml-self-check [role=status]:has-text('The answer:')")
    page.wait_for_function(f"() => document.querySelector('.cml-self-check').innerText"
                           f".includes({EXPLANATION!r})")
    after = page.evaluate(MEASURE)
    assert not any(b["cut"] for b in after["buttons"]), after["buttons"]
    assert "Hide explanation" in {b["text"] for b in after["buttons"]}
    _lab.screenshot(page, "self_check-after-give-up")
    assert lab.errors() == []
