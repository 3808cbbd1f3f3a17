"""Property-based tests of the margin engine (hypothesis).

Each test states a rule from the engine's docstrings, or a consequence of them, and checks it on
random markets and books (``tests/support/strategies.py``). Money comparisons use an absolute
tolerance of ``1e-9 x (1 + total notional)`` in the quote currency
(``tests/support/tolerances.py``); everything that should hold exactly
(sign conventions, untouched positions, read-only arrays, determinism) is compared exactly.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from widgets.engine import (
    Account,
    Book,
    Market,
    cascade,
    correlated_returns,
    liquidate,
    liquidation_probability,
    margin_report,
    price_impact,
)

from tests.support.strategies import (books, cross_account_parts, depth_for, fast,
                                      long_spot_books, markets, scene, short_perp_books, shocks)
from tests.support.tolerances import money_atol

IMPACTS = ("linear", "sqrt", "exponential")


# --------------------------------------------------------------------------------------------
# Liquidation: conservation and "no money created"
# --------------------------------------------------------------------------------------------
@fast(60)
@given(scene(), st.sampled_from((1.0, 0.5, 0.2)), st.floats(0.0, 1e6))
def test_liquidation_conserves_value(case, close_factor, fund):
    market, book, P = case
    res = liquidate(book, market, prices=P, close_factor=close_factor, insurance_fund=fund)
    atol = money_atol(book, P, fund=fund)
    before = margin_report(book, market, prices=P).equity       # independent of the result
    after = margin_report(res.book, market, prices=P).equity
    assert_allclose(res.equity_before, before, rtol=1e-9, atol=atol)
    assert_allclose(res.equity_after, after, rtol=1e-9, atol=atol)
    # Value moves between accounts and the fund; only the socialized loss leaves the system.
    assert_allclose(before.sum() + fund, after.sum() + res.insurance_fund - res.socialized_loss,
                    rtol=1e-9, atol=atol)
    assert (res.penalty >= 0).all() and (res.bad_debt >= 0).all()
    assert res.insurance_fund >= 0 and res.socialized_loss >= 0 and res.fund_payout >= 0
    assert_allclose(res.fund_payout + res.socialized_loss, res.bad_debt.sum(), rtol=1e-12,
                    atol=atol)
    assert_allclose(res.insurance_fund, fund + res.penalty.sum() - res.fund_payout, rtol=1e-12,
                    atol=atol)
    # The fund (topped up by this call's penalties) pays first; only the rest is socialized.
    assert_allclose(res.fund_payout, min(fund + res.penalty.sum(), res.bad_debt.sum()),
                    rtol=1e-12, atol=atol)
    if res.socialized_loss > atol:
        assert res.insurance_fund <= atol
    # No money created: an account changes only by its write-off minus its penalty.
    assert_allclose(after - before, res.bad_debt - res.penalty, rtol=1e-9, atol=atol)
    # Only liquidated accounts pay or are written off.
    assert (res.penalty[~res.liquidated] == 0).all() and (res.bad_debt[~res.liquidated] == 0).all()
    event(f"liquidated: {'some' if res.liquidated.any() else 'none'}; "
          f"socialized: {'yes' if res.socialized_loss > 0 else 'no'}")


def part_equities(book, P):
    """Equity of each account's pool (A,) and of each isolated bucket (A, n), NaN if none."""
    cross_q = np.where(book.isolated[:, None], 0.0, book.perps)
    pool = (book.holdings * P).sum(1) + book.cash + (cross_q * (P - book.entry_prices)).sum(1)
    bucket = book.isolated_margin + book.perps * (P - book.entry_prices)
    has = book.isolated[:, None] & (book.perps != 0)
    return pool, np.where(has, bucket, np.nan)


@fast(50)
@given(scene(), st.sampled_from((1.0, 0.5)))
def test_penalty_capped_by_equity_and_bad_debt_is_the_shortfall(case, close_factor):
    """Per failing part: penalty <= max(equity, 0); bad debt == max(-equity, 0)."""
    market, book, P = case
    res = liquidate(book, market, prices=P, close_factor=close_factor)
    atol = money_atol(book, P)
    pool_eq, bucket_eq = part_equities(book, P)
    failing_b = res.bucket_liquidated
    pos = np.where(res.pool_liquidated, np.maximum(pool_eq, 0), 0) + np.where(
        failing_b, np.maximum(np.nan_to_num(bucket_eq), 0), 0).sum(1)
    neg = np.where(res.pool_liquidated, np.maximum(-pool_eq, 0), 0) + np.where(
        failing_b, np.maximum(-np.nan_to_num(bucket_eq), 0), 0).sum(1)
    assert (res.penalty <= pos + atol).all()
    assert_allclose(res.bad_debt, neg, rtol=1e-9, atol=atol)
    # Penalty as charged: rate x notional closed, unless capped by the part's equity.
    rate = res.penalty / np.where(res.notional_closed > 0, res.notional_closed, 1.0)
    assert (rate <= market.liquidation_penalty.max() + 1e-9).all()
    event(f"bad debt: {'some' if neg.sum() > 0 else 'none'}")


# --------------------------------------------------------------------------------------------
# Cascade accounting
# --------------------------------------------------------------------------------------------
@fast(40)
@given(st.data(), st.sampled_from(IMPACTS), st.sampled_from((1.0, 0.5)),
       st.sampled_from((0.0, 5e4)))
def test_cascade_value_changes_only_by_price_impact(data, impact, close_factor, fund):
    """V_r = total equity (at round r's prices) + fund - socialized so far.

    Liquidation at fixed prices conserves V (see the liquidation test); only the price move
    after each round changes it, by the mark-to-market value of what the book still holds:
    ``V_r - V_{r-1} == impact_by_round[r - 1]``.
    """
    market = data.draw(markets())
    book = data.draw(books(market, max_accounts=15))
    market = data.draw(depth_for(market, book))
    shock = data.draw(shocks(market.n_assets, -0.6, 0.6))
    full = cascade(book, market, shock, impact=impact, max_rounds=8, close_factor=close_factor,
                   insurance_fund=fund)
    atol = money_atol(book, *full.prices_by_round, fund=fund) * (1 + full.n_rounds)
    V = [margin_report(book, market, prices=full.prices_by_round[0]).equity.sum() + fund]
    social = np.concatenate([[0.0], np.cumsum(full.socialized_loss_by_round)])
    for r in range(1, full.n_rounds + 1):
        part = cascade(book, market, shock, impact=impact, max_rounds=r,
                       close_factor=close_factor, insurance_fund=fund)
        # The first r rounds of a cascade do not depend on how many more were allowed.
        assert_array_equal(part.prices_by_round, full.prices_by_round[:r + 1])
        assert_array_equal(part.insurance_fund_by_round, full.insurance_fund_by_round[:r + 1])
        eq = margin_report(part.book, market, prices=full.prices_by_round[r]).equity.sum()
        V.append(eq + full.insurance_fund_by_round[r] - social[r])
    assert_allclose(np.diff(V), full.impact_by_round, rtol=1e-9, atol=atol)
    event(f"rounds: {min(full.n_rounds, 3)}{'+' if full.n_rounds >= 3 else ''}")


# --------------------------------------------------------------------------------------------
# Immutability and determinism
# --------------------------------------------------------------------------------------------
BOOK_ARRAYS = ("holdings", "perps", "entry_prices", "isolated_margin", "cash", "mode")
MARKET_ARRAYS = ("prices", "asset_weight", "liability_weight", "maintenance_margin",
                 "initial_margin", "liquidation_penalty", "volatility", "depth", "correlation")


def snapshot(obj, names):
    return {k: np.array(getattr(obj, k), copy=True) for k in names}


def assert_read_only(obj, names):
    for k in names:
        arr = getattr(obj, k)
        assert not arr.flags.writeable, k
        with pytest.raises(ValueError):
            arr[(0,) * arr.ndim] = arr[(0,) * arr.ndim]


@fast(20)
@given(st.data(), st.sampled_from(IMPACTS))
def test_inputs_are_never_mutated_and_arrays_are_read_only(data, impact):
    market, book, P = data.draw(scene(max_accounts=10))
    market = data.draw(depth_for(market, book))
    before_b, before_m = snapshot(book, BOOK_ARRAYS), snapshot(market, MARKET_ARRAYS)
    P_copy = P.copy()
    shock = P / market.prices - 1.0
    shock_copy = shock.copy()
    units = np.linspace(-1.0, 1.0, market.n_assets)
    units_copy = units.copy()

    margin_report(book, market, prices=P)
    margin_report(book, market, prices=np.stack([P, market.prices]))
    res = liquidate(book, market, prices=P, close_factor=0.5, insurance_fund=10.0)
    cas = cascade(book, market, shock, impact=impact, max_rounds=5, close_factor=0.5)
    price_impact(market, P, units, impact)
    liquidation_probability(book, market, n_scenarios=20, seed=1)
    correlated_returns(market, 10, seed=1)

    for k, v in before_b.items():
        assert_array_equal(getattr(book, k), v, err_msg=k)
    for k, v in before_m.items():
        assert_array_equal(getattr(market, k), v, err_msg=k)
    assert_array_equal(P, P_copy)
    assert_array_equal(shock, shock_copy)
    assert_array_equal(units, units_copy)
    for b in (book, res.book, cas.book):
        assert_read_only(b, BOOK_ARRAYS)
    assert_read_only(market, MARKET_ARRAYS)
    acct = book.account(0)
    assert_read_only(acct, ("holdings", "perps", "entry_prices", "isolated_margin"))


@fast(10)
@given(markets(), st.integers(0, 2**32 - 1), st.integers(1, 200))
def test_same_seed_same_results(market, seed, n_accounts):
    b1, b2 = Book.random(market, n_accounts, seed=seed), Book.random(market, n_accounts, seed=seed)
    for k in BOOK_ARRAYS:
        assert_array_equal(getattr(b1, k), getattr(b2, k), err_msg=k)
    assert_array_equal(correlated_returns(market, 50, 2.0, seed=seed),
                       correlated_returns(market, 50, 2.0, seed=seed))
    assert_array_equal(liquidation_probability(b1, market, 200, seed=seed),
                       liquidation_probability(b2, market, 200, seed=seed))
    shock = -0.3 * np.ones(market.n_assets)
    c1 = cascade(b1, market, shock, impact="sqrt", close_factor=0.5)
    c2 = cascade(b1, market, shock, impact="sqrt", close_factor=0.5)
    for k in ("prices_by_round", "liquidated_by_round", "newly_liquidated_by_round",
              "units_sold_by_round", "notional_sold_by_round", "penalty_by_round",
              "bad_debt_by_round", "socialized_loss_by_round", "impact_by_round",
              "insurance_fund_by_round", "first_round"):
        assert_array_equal(getattr(c1, k), getattr(c2, k), err_msg=k)
    for k in BOOK_ARRAYS:
        assert_array_equal(getattr(c1.book, k), getattr(c2.book, k), err_msg=k)
    assert c1.converged == c2.converged


def test_different_seeds_differ():
    """The seed matters (a constant "random" book would pass the determinism test)."""
    m = Market.example()
    assert not np.array_equal(Book.random(m, 50, seed=1).holdings,
                              Book.random(m, 50, seed=2).holdings)
    assert not np.array_equal(correlated_returns(m, 5, seed=1), correlated_returns(m, 5, seed=2))


# --------------------------------------------------------------------------------------------
# The three conventions agree
# --------------------------------------------------------------------------------------------
@fast(80)
@given(scene())
def test_three_conventions_agree_on_every_account(case):
    market, book, P = case
    for prices in (P, np.stack([P, market.prices])):
        r = margin_report(book, market, prices=prices)
        liq = r.liquidatable
        assert_array_equal(liq, r.health < 0)
        assert_array_equal(liq, r.health_factor < 1)
        assert_array_equal(liq, r.margin_ratio > 1)
        assert not np.isnan(r.health_factor).any() and not np.isnan(r.margin_ratio).any()
    event(f"liquidatable: {'some' if liq.any() else 'none'}")


# --------------------------------------------------------------------------------------------
# Cross vs isolated
# --------------------------------------------------------------------------------------------
@fast(150)
@given(st.data())
def test_pooling_fails_less_often(data):
    """Same positions, same total collateral: if the cross account fails, some part of the
    isolated one fails too, for every split of the cash into buckets.

    Sum of the isolated parts' healths = cross health - margin parked in buckets without a perp
    <= cross health; so cross health < 0 forces a negative part.
    """
    market = data.draw(markets())
    h, q, ep, cash, m = data.draw(cross_account_parts(market))
    P = market.prices * (1.0 + np.array(data.draw(shocks(market.n_assets))))
    cross = Account(h, q, ep, "cross", cash=cash)
    iso = Account(h, q, ep, "isolated", isolated_margin=m, cash=cash - m.sum())
    rc = margin_report(cross, market, prices=P)
    ri = margin_report(iso, market, prices=P)
    atol = money_atol(cross.to_book(), P)
    assert_allclose(ri.equity, rc.equity, rtol=1e-9, atol=atol)   # same total collateral
    if rc.health < -atol:
        assert ri.liquidatable
        parts = [ri.pool_health] + [x for x in ri.bucket_health if not np.isnan(x)]
        assert min(parts) < 0
        assert sum(parts) <= rc.health + atol
    event(f"cross liquidatable: {rc.health < -atol}; isolated liquidatable: {ri.liquidatable}")


def test_isolated_can_fail_while_cross_is_safe():
    """The converse does not hold: a hedge works only inside one pool.

    Long 10 X and short 10 Y (perps, both at 100), X and Y fall 20 % together, maintenance
    5 %. Cross, cash 1,000: PnL -200 + 200 = 0, requirement 0.05 x (800 + 800) = 80, health
    920. Isolated, 100 posted per bucket (800 left in the pool): the long bucket has
    100 - 200 - 40 = -140 and fails, though the account's positions and money are the same.
    """
    m = Market(["X", "Y"], [100.0, 100.0], maintenance_margin=0.05, initial_margin=0.1)
    P = np.array([80.0, 80.0])
    kw = dict(holdings=[0.0, 0.0], perps=[10.0, -10.0], entry_prices=[100.0, 100.0])
    cross = margin_report(Account(**kw, mode="cross", cash=1_000.0), m, prices=P)
    iso = margin_report(Account(**kw, mode="isolated", isolated_margin=[100.0, 100.0],
                                cash=800.0), m, prices=P)
    assert cross.health == pytest.approx(920.0) and not cross.liquidatable
    assert iso.liquidatable
    assert iso.bucket_health.tolist() == pytest.approx([-140.0, 260.0])
    assert iso.pool_health == pytest.approx(800.0)
    assert cross.equity == pytest.approx(iso.equity)


@fast(60)
@given(scene(), st.sampled_from((1.0, 0.5)))
def test_liquidation_touches_only_what_is_at_stake(case, close_factor):
    """Isolated: only a failing bucket changes. Cross: a failing pool loses every position
    (all of it at close factor 1); a healthy account is not touched at all."""
    market, book, P = case
    rep = margin_report(book, market, prices=P)
    res = liquidate(book, market, prices=P, close_factor=close_factor)
    new = res.book
    pool_fail = rep.pool_health < 0
    bucket_fail = np.nan_to_num(rep.bucket_health, nan=0.0) < 0
    assert_array_equal(res.pool_liquidated, pool_fail)
    assert_array_equal(res.bucket_liquidated, bucket_fail)
    iso = book.isolated
    for a in range(book.n_accounts):
        keep = ~bucket_fail[a]                 # every bucket that did not fail (and cross perps)
        if iso[a] or not pool_fail[a]:
            # Healthy and untouched: perps outside a failing cross pool and failing buckets.
            assert_array_equal(new.perps[a][keep], book.perps[a][keep])
            assert_array_equal(new.entry_prices[a][keep], book.entry_prices[a][keep])
            assert_array_equal(new.isolated_margin[a][keep], book.isolated_margin[a][keep])
        if not pool_fail[a]:
            # Nothing outside the failing buckets moves: holdings and cash stay.
            assert_array_equal(new.holdings[a], book.holdings[a])
            assert new.cash[a] == book.cash[a]
        else:
            # The whole pool is at stake: every holding (and every cross perp) is cut by the
            # same fraction -- all of it at close factor 1 or when the pool is underwater.
            f = res.pool_fraction[a]
            assert f == 1.0 or f == close_factor
            assert_allclose(new.holdings[a], book.holdings[a] * (1 - f), rtol=1e-12, atol=0)
            if not iso[a]:
                assert_allclose(new.perps[a], book.perps[a] * (1 - f), rtol=1e-12, atol=0)
            if f == 1.0:
                assert (new.holdings[a] == 0).all() and new.cash[a] >= 0
                if not iso[a]:
                    assert (new.perps[a] == 0).all()
        if close_factor == 1.0:
            assert (new.perps[a][bucket_fail[a]] == 0).all()
    event(f"isolated pool healthy with failing bucket: "
          f"{bool((iso & ~pool_fail & bucket_fail.any(1)).any())}")


@fast(50)
@given(scene())
def test_full_liquidation_leaves_nothing_liquidatable(case):
    market, book, P = case
    res = liquidate(book, market, prices=P, close_factor=1.0)
    after = margin_report(res.book, market, prices=P)
    assert not after.liquidatable.any()
    assert (after.health[res.liquidated] >= 0).all()
    event(f"liquidated: {'some' if res.liquidated.any() else 'none'}")


# --------------------------------------------------------------------------------------------
# Cascade direction and depth
# --------------------------------------------------------------------------------------------
@fast(60)
@given(st.data(), st.sampled_from(IMPACTS), st.floats(1.5, 100.0))
def test_selling_only_books_prices_never_rise_and_depth_helps(data, impact, k):
    market = data.draw(markets())
    book = data.draw(long_spot_books(market))
    market = data.draw(depth_for(market, book, 0.2, 3.0))
    shock = data.draw(shocks(market.n_assets, -0.3, 0.0))
    shallow = cascade(book, market, shock, impact=impact, max_rounds=20)
    assert (shallow.units_sold_by_round >= 0).all()
    assert (np.diff(shallow.prices_by_round, axis=0) <= 0).all()
    deep = cascade(book, market.replace(depth=market.depth * k), shock, impact=impact,
                   max_rounds=20)
    assert (np.diff(deep.prices_by_round, axis=0) <= 0).all()
    assert deep.n_liquidated <= shallow.n_liquidated
    # Not only the count: whoever fails in the deep market fails in the shallow one, no later.
    assert (shallow.first_round[deep.liquidated] > 0).all()
    assert (shallow.first_round[deep.liquidated] <= deep.first_round[deep.liquidated]).all()
    event(f"shallow liquidated more: {shallow.n_liquidated > deep.n_liquidated}; "
          f"rounds: {min(shallow.n_rounds, 3)}")


@fast(30)
@given(st.data(), st.sampled_from(IMPACTS))
def test_liquidating_shorts_buys_and_lifts_prices(data, impact):
    market = data.draw(markets(min_depth=1e6, max_depth=1e8, min_volatility=0.01))
    book = data.draw(short_perp_books(market, max_accounts=10))
    shock = data.draw(shocks(market.n_assets, 0.5, 1.0))
    res = cascade(book, market, shock, impact=impact, max_rounds=10)
    assert res.n_liquidated > 0
    bought = res.units_sold_by_round[0] < 0
    assert bought.any()
    assert (res.units_sold_by_round <= 0).all()
    assert (res.prices_by_round[1][bought] > res.prices_by_round[0][bought]).all()
    assert (np.diff(res.prices_by_round, axis=0) >= 0).all()
