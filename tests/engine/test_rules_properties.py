"""Properties of the venue liquidation conventions (issue 12), on random markets and books.

A *consistent* venue passes :func:`penalty_consistency` (perp penalty <= maintenance margin,
spot ``weight x (1 + penalty) <= 1``); the strategies' markets are made consistent by lowering
each penalty to the largest consistent value.
"""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from widgets.engine import (LiquidationRules, Market, cascade, liquidate, margin_report,
                            penalty_consistency)

from tests.support.strategies import books, depth_for, fast, markets, shocks
from tests.support.tolerances import RULES_ATOL_REL, money_atol

RULES = {"restore": LiquidationRules("restore"), "mango": LiquidationRules.mango(),
         "aave": LiquidationRules.aave(), "full": LiquidationRules.full(),
         "fraction": LiquidationRules.fraction(0.5),
         "legacy": LiquidationRules("full", penalty_basis="notional")}


def consistent(market: Market) -> Market:
    w = np.asarray(market.asset_weight)
    with np.errstate(divide="ignore"):
        spot_cap = np.where(w > 0, 1.0 / np.maximum(w, 1e-300) - 1.0, np.inf)
    pen = np.minimum(np.minimum(market.liquidation_penalty, market.maintenance_margin),
                     spot_cap * (1 - 1e-12))
    out = market.replace(liquidation_penalty=pen, allow_inconsistent_penalty=False)
    assert penalty_consistency(out) is None
    return out


def tol(book, P, fund=0.0):
    return money_atol(book, P, fund=fund, rel=RULES_ATOL_REL)


@st.composite
def consistent_scene(draw):
    market = consistent(draw(markets()))
    book = draw(books(market))
    P = market.prices * (1.0 + np.array(draw(shocks(market.n_assets))))
    return market, book, P


@fast(150)
@given(consistent_scene(), st.sampled_from(("restore", "mango", "aave", "full")))
def test_consistent_venue_never_lowers_health(case, name):
    market, book, P = case
    res = liquidate(book, market, P, rules=RULES[name])
    before = np.atleast_1d(margin_report(book, market, P).health)
    after = np.atleast_1d(margin_report(res.book, market, P).health)
    hit = res.liquidated
    assert (after[hit] >= before[hit] - tol(book, P)).all()


@fast(150)
@given(consistent_scene(), st.sampled_from(("restore", "mango", "full")))
def test_never_left_liquidatable_unless_fully_closed(case, name):
    market, book, P = case
    res = liquidate(book, market, P, rules=RULES[name])
    rep = margin_report(res.book, market, P)
    still = np.atleast_1d(rep.health) < -tol(book, P)
    assert not (still & res.liquidated & ~res.fully_closed).any()


@fast(150)
@given(st.data(), st.sampled_from(tuple(RULES)), st.floats(0.0, 1e6))
def test_conservation_with_every_flow(data, name, fund):
    market = data.draw(markets())
    book = data.draw(books(market))
    P = market.prices * (1.0 + np.array(data.draw(shocks(market.n_assets))))
    res = liquidate(book, market, P, insurance_fund=fund, rules=RULES[name])
    lhs = res.equity_before.sum() + fund
    rhs = (res.equity_after.sum() + res.insurance_fund + res.liquidator_bonus.sum()
           - res.socialized_loss)
    assert abs(lhs - rhs) <= tol(book, P, fund)
    assert np.allclose(res.protocol_fee + res.liquidator_bonus, res.penalty)
    assert abs(res.bad_debt.sum() - res.fund_payout - res.socialized_loss) <= tol(book, P, fund)
    # ADL: one amount per account, zero for liquidated ones, summing to the socialized loss
    assert (res.socialized_by_account >= 0).all()
    assert (res.socialized_by_account[res.liquidated] == 0).all()
    assert abs(res.socialized_by_account.sum() + res.socialized_unassigned
               - res.socialized_loss) <= tol(book, P, fund)
    assert (res.adl_rank[res.liquidated] == 0).all()


@fast(60)
@given(st.data(), st.sampled_from(("restore", "aave", "full", "fraction")),
       st.sampled_from(("linear", "sqrt", "exponential")))
def test_cascade_adl_sums_and_inputs_never_mutated(data, name, impact):
    market = data.draw(markets())
    book = data.draw(books(market, max_accounts=15))
    market = data.draw(depth_for(market, book))
    snap = {k: np.array(getattr(book, k), copy=True) for k in
            ("holdings", "perps", "entry_prices", "isolated_margin", "cash")}
    prices = market.prices.copy()
    shock = data.draw(shocks(market.n_assets, lo=-0.6, hi=0.3))
    res = cascade(book, market, shock, impact=impact, rules=RULES[name], max_rounds=30)
    for k, v in snap.items():
        assert np.array_equal(getattr(book, k), v)
    assert np.array_equal(market.prices, prices)
    social = res.socialized_loss
    assert abs(res.socialized_by_account.sum() + res.socialized_unassigned - social) <= (
        1e-8 * (1 + res.bad_debt))
    assert (res.socialized_by_account[res.liquidated] == 0).all()
    assert np.allclose(res.protocol_fee_by_round + res.liquidator_bonus_by_round,
                       res.penalty_by_round)
