"""Numbers that lessons 06 and 08 quote in markdown (not printed by a checked cell), recomputed.

Each check reads the lesson's markdown, asserts the quoted text is there (so a prose edit without
a number check fails) and recomputes the number with the engine (so an engine change that moves
it fails).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from widgets.engine import Book, Market, cascade, crisis_shock, fund_coverage

LESSONS = Path(__file__).resolve().parents[1] / "lessons"


def markdown(name: str) -> str:
    nb = json.loads((LESSONS / name).read_text())
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def m(x: float, decimals: int = 1) -> str:
    return f"{x / 1e6:.{decimals}f} M USD"


@pytest.fixture(scope="module")
def lab06():
    """Lesson 06's InsuranceFundLab cascade: overheated book, 30x depth, -10 % BTC/ETH/SOL."""
    market = Market.example()
    book = Book.random(market, 10_000, seed=0, preset="overheated")
    return cascade(book, market.replace(depth=market.depth * 30),
                   {"BTC": -0.10, "ETH": -0.10, "SOL": -0.10})


def test_lesson_06_fund_section(lab06):
    text = markdown("06_mutualization_of_risk.ipynb")
    bad, first = lab06.bad_debt, lab06.bad_debt_by_round[0]
    penalties = float(lab06.penalty_by_round.sum())
    in_time = float(fund_coverage(lab06, 0.0).covered[0])      # what penalties alone cover
    assert f"{m(first)} of the {m(bad)} appears in round 1" in text
    assert f"bad debt: {m(penalties)} in total" in text
    assert lab06.bad_debt_by_round[3] > 0 and not lab06.bad_debt_by_round[4:].any()
    assert "After round 4 no new bad" in text
    assert f"The penalties alone cover {m(in_time, 2)}, about {100 * in_time / bad:.0f} %" in text
    # the exercise's solution
    exact = float(fund_coverage(lab06, 0.0).socialized[0])
    funds = np.arange(0.0, 40e6 + 1, 0.25e6)
    grid = funds[fund_coverage(lab06, funds).socialized == 0].min()
    assert f"The grid gives **{grid:,.0f} USD**; the exact answer is **{exact:,.0f} USD**" in text
    assert f"It is {m(bad - exact, 2)} less than\nthe {m(bad, 2)} of bad debt" in text
    assert f"the other\n{m(penalties - in_time, 2)} of penalties arrives after" in text


def test_lesson_08_crisis_and_exercise():
    text = markdown("08_risk_desk_capstone.ipynb")
    venue = Market.example()
    venue = venue.replace(depth=venue.depth * 30)
    crisis = crisis_shock(venue)
    base = Book.random(venue, 10_000, seed=0)
    today = cascade(base, venue, crisis)
    hot = cascade(Book.random(Market.example(), 10_000, seed=0, preset="overheated"), venue, crisis)
    assert "about one account in seven is liquidated" in text
    assert 6.5 < 10_000 / today.n_liquidated < 7.5
    assert "almost entirely in the first round" in text
    assert today.bad_debt_by_round[0] > 0.99 * today.bad_debt
    assert "leaves about eight times the bad debt" in text
    assert 7.5 < hot.bad_debt / today.bad_debt < 8.5
    # the exercise: smallest k with fund needed <= 8 M USD, and the k before it
    assert "at most **8M USD**" in text
    notional = (np.abs(base.perps) @ venue.prices).sum()
    needed, kept = {}, {}
    for k in (2.25, 2.5):
        policy = venue.replace(initial_margin=venue.initial_margin * k)
        adapted = Book.random(policy, 10_000, seed=0)
        needed[k] = cascade(adapted, policy, crisis).socialized_loss
        kept[k] = (np.abs(adapted.perps) @ policy.prices).sum() / notional
        if k == 2.5:
            lev = np.round(1 / policy.initial_margin[:3]).astype(int)
    assert needed[2.25] > 8e6 >= needed[2.5]
    assert (f"**Answer:** `k = 2.5` — max leverage {lev[0]}× BTC, {lev[1]}× ETH, {lev[2]}× SOL; "
            f"the crisis needs a fund of\nabout {needed[2.5] / 1e6:.1f}M USD, and the book keeps "
            f"{100 * kept[2.5]:.0f} % of today's perp notional") in text
    assert f"At `k = 2.25` the fund needed is about {needed[2.25] / 1e6:.1f}M USD." in text
