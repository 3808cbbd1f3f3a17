"""Differential tests of the liquidation conventions (issue 12) against the scalar reference.

Same method as ``test_differential.py``: random markets and books, the vectorized engine vs the
plain-Python reference (``tests/support/reference.py``), with decisions within rounding of a
boundary (liquidatable or not, partial or full) excused only when the reference says it was that
close.
"""
from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, event, given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from widgets.engine import LiquidationRules, cascade, liquidate

from tests.support.reference import reference_cascade, reference_liquidate
from tests.support.strategies import books, depth_for, fast, markets, shocks
from tests.support.tolerances import RULES_ATOL_REL, RULES_RTOL, money_atol

RULES = [LiquidationRules("restore"), LiquidationRules.mango(), LiquidationRules.aave(),
         LiquidationRules.full(), LiquidationRules.fraction(0.5),
         LiquidationRules("full", penalty_basis="notional")]
RTOL = RULES_RTOL


def tolerance(book, P, fund=0.0):
    return money_atol(book, P, fund=fund, rel=RULES_ATOL_REL)


@fast(150, HealthCheck.filter_too_much)
@given(st.data(), st.sampled_from(range(len(RULES))), st.sampled_from((0.0, 1e4)))
def test_liquidate_conventions_match_reference(data, k, fund):
    lr = RULES[k]
    market = data.draw(markets())
    book = data.draw(books(market))
    P = market.prices * (1.0 + np.array(data.draw(shocks(market.n_assets))))
    atol = tolerance(book, P, fund)
    res = liquidate(book, market, P, insurance_fund=fund, rules=lr)
    ref = reference_liquidate(book, market, P, fund=fund, lr=lr)
    if ref["closest_to_boundary"] <= atol:
        event("rejected: a decision within rounding of a boundary")
        assume(False)
    assert_array_equal(res.liquidated, ref["liquidated"])
    b = res.book
    assert_allclose(b.holdings * P, np.array(ref["holdings"]) * P, rtol=RTOL, atol=atol)
    assert_allclose(b.perps * P, np.array(ref["perps"]) * P, rtol=RTOL, atol=atol)
    assert_allclose(b.cash, ref["cash"], rtol=RTOL, atol=atol)
    assert_allclose(b.isolated_margin, ref["isolated_margin"], rtol=RTOL, atol=atol)
    for name in ("penalty", "bad_debt", "notional_closed", "protocol_fee", "liquidator_bonus",
                 "equity_after"):
        assert_allclose(getattr(res, name), ref[name], rtol=RTOL, atol=atol, err_msg=name)
    assert_array_equal(res.fully_closed, ref["fully_closed"])
    assert_allclose(res.units_sold * P, np.array(ref["units_sold"]) * P, rtol=RTOL, atol=atol)
    for name in ("insurance_fund", "fund_payout", "socialized_loss"):
        assert abs(getattr(res, name) - ref[name]) <= atol, name
    event(f"{lr.convention}: {'some' if res.liquidated.any() else 'none'} liquidated")


@fast(30, HealthCheck.filter_too_much)
@given(st.data(), st.sampled_from(range(len(RULES))),
       st.sampled_from(("linear", "sqrt", "exponential")))
def test_cascade_conventions_match_reference(data, k, impact):
    lr = RULES[k]
    market = data.draw(markets())
    book = data.draw(books(market, max_accounts=12))
    market = data.draw(depth_for(market, book))
    shock = data.draw(shocks(market.n_assets, -0.6, 0.6))
    res = cascade(book, market, shock, impact=impact, max_rounds=10, rules=lr)
    ref = reference_cascade(book, market, shock, impact=impact, max_rounds=10, lr=lr)
    P = np.max(np.vstack([res.prices_by_round.max(0), market.prices]), axis=0)
    atol = tolerance(book, P)
    if min(ref["closest_to_boundary_by_round"]) <= atol:
        event("rejected: a decision within rounding of a boundary")
        assume(False)
    assert res.n_rounds == len(ref["liquidated_by_round"])
    assert_allclose(res.prices_by_round, ref["prices_by_round"], rtol=1e-6)
    assert_allclose(res.bad_debt_by_round, ref["bad_debt_by_round"], rtol=1e-6, atol=atol)
    assert_allclose(res.penalty_by_round, ref["penalty_by_round"], rtol=1e-6, atol=atol)
    assert_allclose(res.socialized_loss_by_round, ref["socialized_loss_by_round"], rtol=1e-6,
                    atol=atol)
    assert_array_equal(res.first_round, ref["first_round"])
