"""Differential tests: the vectorized engine equals the scalar reference.

The reference is ``tests/support/reference.py``. Random books come from hypothesis
(``tests/support/strategies.py``) and from ``Book.random`` on the example market at shocked
prices. Every money field is compared with ``rtol = 1e-9`` and an absolute tolerance of
``1e-9 x (1 + total notional)`` (quote currency; ``tests/support/tolerances.py``).

A liquidation decision is a step function of health (and, for partial liquidation, of equity):
two correct float implementations may disagree when a pool sits within rounding noise of the
boundary. Such an example is discarded (``reject``) -- only after checking that the reference
really was within tolerance of a boundary at the first diverging decision; any other
disagreement fails.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import event, given, reject
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from widgets.engine import Book, Market, cascade, liquidate, margin_report

from tests.support.reference import (Rules, reference_cascade, reference_liquidate,
                                     reference_report)
from tests.support.strategies import books, depth_for, fast, markets, scene, shocks
from tests.support.tolerances import MONEY_RTOL, money_atol

RTOL = MONEY_RTOL

IMPACTS = ("linear", "sqrt", "exponential")
SETTINGS = fast(60)

REPORT_FIELDS = ("equity", "weighted_collateral", "weighted_liabilities", "perp_pnl",
                 "maintenance_requirement", "initial_requirement", "pool_health",
                 "initial_health", "health")


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------
def nan_if_none(rows):
    return np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)


def shocked(market, shock):
    return market.prices * (1.0 + np.asarray(shock, dtype=float))


def ratio_mask(ref, atol):
    """Accounts whose health factor and margin ratio are well conditioned.

    Requirements are sums of non-negative terms, so they are exactly zero in both
    implementations or not at all; ``available`` can cancel, and a ratio with a near-zero
    numerator or denominator amplifies rounding without bound.
    """
    ok = []
    for a in range(len(ref["health"])):
        parts = [(ref["weighted_collateral"][a] + ref["perp_pnl"][a],
                  ref["weighted_liabilities"][a] + ref["maintenance_requirement"][a])]
        parts += [(e, r) for e, r in zip(ref["bucket_equity"][a], ref["bucket_requirement"][a])
                  if e is not None]
        ok.append(all(abs(av) > atol and (req == 0 or req > atol) for av, req in parts))
    return np.array(ok, dtype=bool)


def check_report(book, market, prices):
    """Compare every margin-report field with the reference at one price vector."""
    prices = market.prices if prices is None else prices
    atol = money_atol(book, prices)
    rep = margin_report(book, market, prices=prices)
    ref = reference_report(book, market, prices)
    for name in REPORT_FIELDS:
        assert_allclose(getattr(rep, name), ref[name], rtol=RTOL, atol=atol, err_msg=name)
    for name in ("bucket_health", "bucket_equity", "bucket_requirement"):
        assert_allclose(getattr(rep, name), nan_if_none(ref[name]), rtol=RTOL, atol=atol,
                        err_msg=name)
    clear = np.abs(np.array(ref["health"])) > atol
    assert_array_equal(rep.liquidatable[clear], np.array(ref["liquidatable"])[clear])
    # Rounding in a sum of ~10 terms is ~1e-15 x notional; ratios are compared where both
    # sides exceed 1e-6 x notional, so their relative error stays below ~1e-9.
    ok = ratio_mask(ref, 1000 * atol)
    for name in ("health_factor", "margin_ratio"):
        assert_allclose(getattr(rep, name)[ok], np.array(ref[name])[ok], rtol=1e-8,
                        err_msg=name)
    return rep, ref


def check_liquidate(book, market, prices, close_factor, fund):
    """Compare one liquidation call with the reference."""
    P = np.asarray(prices, dtype=float)
    atol = money_atol(book, P, fund=fund)
    res = liquidate(book, market, prices=P, close_factor=close_factor, insurance_fund=fund)
    ref = reference_liquidate(book, market, P, close_factor, fund)
    same_parts = (np.array_equal(res.pool_liquidated, ref["pool_liquidated"])
                  and np.array_equal(res.bucket_liquidated, ref["bucket_liquidated"]))
    if not same_parts:
        event("rejected: liquidation decision within rounding of the boundary")
        assert ref["closest_to_boundary"] <= atol, (
            "liquidation decisions differ away from any boundary: "
            f"engine pools {np.flatnonzero(res.pool_liquidated)}, reference pools "
            f"{np.flatnonzero(ref['pool_liquidated'])}")
        reject()
    try:
        _compare_liquidation(res, ref, P, atol)
    except AssertionError:
        # Partial vs full close switches at equity 0: excused only within rounding of it.
        if close_factor < 1 and ref["closest_to_boundary"] <= atol:
            event("rejected: partial/full close within rounding of the boundary")
            reject()
        raise
    return res, ref


def _compare_liquidation(res, ref, P, atol):
    b = res.book
    assert_array_equal(res.liquidated, ref["liquidated"])
    assert_allclose(b.holdings * P, np.array(ref["holdings"]) * P, rtol=RTOL, atol=atol,
                    err_msg="holdings (valued)")
    assert_allclose(b.perps * P, np.array(ref["perps"]) * P, rtol=RTOL, atol=atol,
                    err_msg="perps (valued)")
    assert_allclose(b.entry_prices, ref["entry_prices"], rtol=RTOL, err_msg="entry_prices")
    assert_allclose(b.isolated_margin, ref["isolated_margin"], rtol=RTOL, atol=atol,
                    err_msg="isolated_margin")
    assert_allclose(b.cash, ref["cash"], rtol=RTOL, atol=atol, err_msg="cash")
    assert_array_equal(b.mode, res.book.mode)
    for name, key in (("penalty", "penalty"), ("bad_debt", "bad_debt"),
                      ("notional_closed", "notional_closed"), ("equity_before", "equity_before"),
                      ("equity_after", "equity_after")):
        assert_allclose(getattr(res, name), ref[key], rtol=RTOL, atol=atol, err_msg=name)
    assert_allclose(res.units_sold * P, np.array(ref["units_sold"]) * P, rtol=RTOL, atol=atol,
                    err_msg="units_sold (valued)")
    for name in ("insurance_fund_before", "insurance_fund", "fund_payout", "socialized_loss"):
        assert_allclose(getattr(res, name), ref[name], rtol=RTOL, atol=atol, err_msg=name)


def check_cascade(book, market, shock, impact, max_rounds=30, close_factor=1.0, fund=0.0):
    """Compare a cascade with the reference, round by round."""
    res = cascade(book, market, shock, impact=impact, max_rounds=max_rounds,
                  close_factor=close_factor, insurance_fund=fund)
    ref = reference_cascade(book, market, shock, impact=impact, max_rounds=max_rounds,
                            close_factor=close_factor, fund=fund)
    rows = np.vstack([res.prices_by_round, np.array(ref["prices_by_round"])])
    atol = money_atol(book, *rows) * max(1, res.n_rounds) + 1e-9 * fund
    n_eng, n_ref = res.n_rounds, len(ref["liquidated_by_round"])
    k = 0  # first round where the two differ
    while k < min(n_eng, n_ref) and _same_round(res, ref, k, atol):
        k += 1
    if k < min(n_eng, n_ref) or n_eng != n_ref:
        # Rounds before k agree, so both decided round k at the same prices (to rounding).
        closest = ref["closest_to_boundary_by_round"][k]
        if closest <= atol:
            event("rejected: cascade decision within rounding of the boundary")
            reject()
        if k < min(n_eng, n_ref):
            _assert_round(res, ref, k, atol)      # raises with a readable message
        raise AssertionError(f"round count differs: engine {n_eng}, reference {n_ref}")
    assert_allclose(res.prices_by_round, ref["prices_by_round"], rtol=RTOL, err_msg="prices")
    assert_array_equal(res.first_round, ref["first_round"])
    assert res.converged == ref["converged"]
    P = res.final_prices
    b = res.book
    assert_allclose(b.holdings * P, np.array(ref["holdings"]) * P, rtol=RTOL, atol=atol)
    assert_allclose(b.perps * P, np.array(ref["perps"]) * P, rtol=RTOL, atol=atol)
    assert_allclose(b.isolated_margin, ref["isolated_margin"], rtol=RTOL, atol=atol)
    assert_allclose(b.cash, ref["cash"], rtol=RTOL, atol=atol)
    assert_allclose(b.entry_prices, ref["entry_prices"], rtol=RTOL)
    return res, ref


def _same_round(res, ref, r, atol) -> bool:
    try:
        _assert_round(res, ref, r, atol)
    except AssertionError:
        return False
    return True


def _assert_round(res, ref, r, atol):
    P = res.prices_by_round[r]
    assert_allclose(P, ref["prices_by_round"][r], rtol=RTOL, err_msg=f"prices, round {r}")
    assert res.liquidated_by_round[r] == ref["liquidated_by_round"][r], f"liquidated, round {r}"
    assert res.newly_liquidated_by_round[r] == ref["newly_liquidated_by_round"][r]
    assert_allclose(res.units_sold_by_round[r] * P, np.array(ref["units_sold_by_round"][r]) * P,
                    rtol=RTOL, atol=atol, err_msg=f"units sold, round {r}")
    assert_allclose(res.notional_sold_by_round[r], np.array(ref["units_sold_by_round"][r]) * P,
                    rtol=RTOL, atol=atol, err_msg=f"notional sold, round {r}")
    for name in ("penalty_by_round", "bad_debt_by_round", "socialized_loss_by_round",
                 "impact_by_round"):
        assert_allclose(getattr(res, name)[r], ref[name][r], rtol=RTOL, atol=atol,
                        err_msg=f"{name}, round {r}")
    assert_allclose(res.insurance_fund_by_round[r + 1], ref["insurance_fund_by_round"][r + 1],
                    rtol=RTOL, atol=atol, err_msg=f"fund, round {r}")
    assert_allclose(res.prices_by_round[r + 1], ref["prices_by_round"][r + 1], rtol=RTOL,
                    err_msg=f"prices after round {r}")


# --------------------------------------------------------------------------------------------
# Hypothesis: random markets and books
# --------------------------------------------------------------------------------------------
@SETTINGS
@given(scene())
def test_margin_report_matches_reference(case):
    market, book, prices = case
    check_report(book, market, prices)
    check_report(book, market, None)


@fast(25)
@given(scene(max_accounts=8), st.lists(shocks(5), min_size=1, max_size=4))
def test_margin_report_scenarios_match_reference(case, rows):
    """Scenario prices (S, n): every row is the one-price report of that row."""
    market, book, _ = case
    S = np.array([shocked(market, r[:market.n_assets]) for r in rows])
    rep = margin_report(book, market, prices=S)
    for s in range(S.shape[0]):
        ref = reference_report(book, market, S[s])
        atol = money_atol(book, S[s])
        for name in REPORT_FIELDS:
            assert_allclose(getattr(rep, name)[s], ref[name], rtol=RTOL, atol=atol, err_msg=name)
        assert_allclose(rep.bucket_health[s], nan_if_none(ref["bucket_health"]), rtol=RTOL,
                        atol=atol)


@fast(25)
@given(scene(max_accounts=5))
def test_single_account_report_matches_reference(case):
    market, book, prices = case
    ref = reference_report(book, market, prices)
    for a in range(book.n_accounts):
        rep = margin_report(book.account(a), market, prices=prices)
        atol = money_atol(book, prices)
        for name in REPORT_FIELDS:
            assert_allclose(getattr(rep, name), ref[name][a], rtol=RTOL, atol=atol, err_msg=name)
        assert isinstance(rep.health, float)


@SETTINGS
@given(scene(), st.sampled_from((1.0, 0.5)), st.floats(0.0, 1e6))
def test_liquidate_matches_reference(case, close_factor, fund):
    market, book, prices = case
    res, _ = check_liquidate(book, market, prices, close_factor, fund)
    event(f"accounts liquidated: {'some' if res.liquidated.any() else 'none'}")
    event(f"bad debt: {'some' if res.bad_debt.sum() > 0 else 'none'}")


@fast(40)
@given(st.data(), st.sampled_from(IMPACTS), st.sampled_from((1.0, 0.5)),
       st.sampled_from((0.0, 1e4)))
def test_cascade_matches_reference(data, impact, close_factor, fund):
    # Depth scaled to the book: liquidations move prices and cascades run several rounds.
    market = data.draw(markets())
    book = data.draw(books(market, max_accounts=20))
    market = data.draw(depth_for(market, book))
    shock = data.draw(shocks(market.n_assets, -0.6, 0.6))
    res, _ = check_cascade(book, market, shock, impact, max_rounds=12,
                           close_factor=close_factor, fund=fund)
    event(f"rounds: {min(res.n_rounds, 3)}{'+' if res.n_rounds >= 3 else ''}")


# --------------------------------------------------------------------------------------------
# Book.random on the example market, shocked
# --------------------------------------------------------------------------------------------
EXAMPLE = Market.example()
SHOCKS = {
    "crash": {"BTC": -0.15, "ETH": -0.2, "SOL": -0.3},
    "squeeze": {"BTC": 0.2, "ETH": 0.25, "SOL": 0.35},
    "mixed": {"BTC": -0.1, "ETH": 0.15, "SOL": -0.25},
}


def _shock_vector(name):
    return np.array([SHOCKS[name].get(a, 0.0) for a in EXAMPLE.assets])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("shock", sorted(SHOCKS))
def test_random_book_report_and_liquidation(seed, shock):
    book = Book.random(EXAMPLE, 500, seed=seed)
    P = shocked(EXAMPLE, _shock_vector(shock))
    rep, _ = check_report(book, EXAMPLE, P)
    assert rep.liquidatable.any()            # the comparison covers liquidations
    for cf in (1.0, 0.5):
        res, _ = check_liquidate(book, EXAMPLE, P, cf, fund=2e4)
        assert res.liquidated.any()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("impact", IMPACTS)
@pytest.mark.parametrize("shock", ["crash", "squeeze"])
def test_random_book_cascade(seed, impact, shock):
    # A tenth of the example depth: deep enough not to hit the price floor, shallow enough to
    # cascade over several rounds.
    market = EXAMPLE.replace(depth=EXAMPLE.depth / 10)
    book = Book.random(market, 500, seed=seed)
    for cf in (1.0, 0.5):
        res, _ = check_cascade(book, market, _shock_vector(shock), impact, close_factor=cf,
                               fund=1e4)
        assert res.n_liquidated > 0


def test_partial_bucket_liquidation_paid_from_open_profit():
    """Regression: a penalty paid from the open half's profit left a negative posted margin.

    Isolated long 10 X opened at 98, X at 100 (+20 open profit), 10 posted, maintenance 5 %:
    bucket equity 30 < requirement 50. Closing half pays a 5 % penalty on 500 (25) out of a
    margin of 10 + 10 realized: -5. The engine used to raise ``MarginInputError`` building the
    new book; now the open half's profit (+10) is settled into the margin (5 left, the open
    half re-marked at 100), as in the reference.
    """
    from widgets.engine import Account
    m = Market(["X"], [100.0], maintenance_margin=0.05, initial_margin=0.1,
               liquidation_penalty=0.05)
    book = Account([0.0], perps=[10.0], entry_prices=[98.0], mode="isolated",
                   isolated_margin=[10.0]).to_book()
    res, ref = check_liquidate(book, m, m.prices, close_factor=0.5, fund=0.0)
    assert res.book.isolated_margin.tolist() == [[5.0]]
    assert res.book.perps.tolist() == [[5.0]] and res.book.entry_prices.tolist() == [[100.0]]
    assert float(res.penalty[0]) == 25.0 and float(res.equity_after[0]) == 5.0


# --------------------------------------------------------------------------------------------
# Brackets and init weights (issue 11): the same comparisons on tiered markets
# --------------------------------------------------------------------------------------------
#: markets with bracket tables and init weights
TIERED = {"tiered": True, "init_weights": True}


@SETTINGS
@given(scene(market_kwargs=TIERED))
def test_tiered_margin_report_matches_reference(case):
    market, book, prices = case
    rep, ref = check_report(book, market, prices)
    check_report(book, market, None)
    # breakdown: every perp's maintenance (cross or isolated) at its own bracket.
    P = np.asarray(prices, dtype=float)
    rules = Rules(market)
    want = [[rules.maintenance(i, abs(q) * P[i]) for i, q in enumerate(row)]
            for row in book.perps.tolist()]
    assert_allclose(rep.breakdown["maintenance"], want, rtol=RTOL,
                    atol=money_atol(book, prices))


@fast(25)
@given(scene(market_kwargs=TIERED, max_accounts=8), st.lists(shocks(5), min_size=1, max_size=4))
def test_tiered_scenarios_match_reference(case, rows):
    """Scenario prices (S, n) on a tiered market: a position may sit in a different bracket in
    every row."""
    market, book, _ = case
    S = np.array([shocked(market, r[:market.n_assets]) for r in rows])
    rep = margin_report(book, market, prices=S)
    for s in range(S.shape[0]):
        ref = reference_report(book, market, S[s])
        atol = money_atol(book, S[s])
        for name in REPORT_FIELDS:
            assert_allclose(getattr(rep, name)[s], ref[name], rtol=RTOL, atol=atol, err_msg=name)
        assert_allclose(rep.bucket_requirement[s], nan_if_none(ref["bucket_requirement"]),
                        rtol=RTOL, atol=atol)


def test_single_rate_market_reports_unchanged_by_bracket_machinery():
    """A one-bracket table equal to the single rate gives bit-identical reports."""
    m = Market.example()
    book = Book.random(m, 2_000, seed=3)
    plain = margin_report(book, m)
    tables = {a: {"floor": [0.0], "maintenance": [float(m.maintenance_margin[i])],
                  "initial": [float(m.initial_margin[i])]} for i, a in enumerate(m.assets)}
    same = margin_report(book, m.replace(brackets=tables))
    for name in REPORT_FIELDS:
        assert_array_equal(getattr(same, name), getattr(plain, name), err_msg=name)


@fast(30)
@given(scene(market_kwargs=TIERED, max_accounts=12), st.lists(shocks(5), min_size=1, max_size=3))
def test_bracket_correction_same_with_and_without_the_size_index(case, rows):
    """margin_report finds positions above a floor by bisection in a per-book size index; the
    liquidation path (a stack with no book) scans every cell. Both give the same sums."""
    from widgets.engine._pool import cross_perps_by_size, pool_sums
    market, book, _ = case
    S = np.array([shocked(market, r[:market.n_assets]) for r in rows])
    indexed = pool_sums(book._stack, market, S, cross_perps_by_size(book))
    scanned = pool_sums(book._stack, market, S)
    assert_array_equal(indexed, scanned)
