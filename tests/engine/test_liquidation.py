"""liquidate: hand-computed full, partial, bad-debt and isolated cases; events; conservation."""
from __future__ import annotations

import numpy as np
import pytest

from widgets.engine import (
    Account,
    Book,
    LiquidationEvent,
    MarginInputError,
    Market,
    liquidate,
    margin_report,
)

# Known answers computed with the original rule and impact scale (see conftest.py).
pytestmark = pytest.mark.usefixtures("legacy_engine_defaults")


@pytest.fixture
def m():
    # penalties 5 % on BTC, 10 % on ETH
    return Market(["BTC", "ETH"], [100.0, 10.0], asset_weight=0.8, liability_weight=1.1,
                  maintenance_margin=[0.05, 0.10], initial_margin=[0.10, 0.20],
                  liquidation_penalty=[0.05, 0.10])


def snapshot(book):
    return {k: getattr(book, k).copy() for k in
            ("holdings", "perps", "entry_prices", "isolated_margin", "cash", "mode")}


def assert_conserved(res):
    lhs = res.equity_before.sum() + res.insurance_fund_before
    rhs = res.equity_after.sum() + res.insurance_fund - res.socialized_loss
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-6)


# -- cross pools: full liquidation ------------------------------------------------------------

def test_docstring_example():
    # 1 BTC (weight 0.9) against 95,000 quote debt at 100,000: 90,000 < 95,000 -> liquidated;
    # penalty 5 % * 100,000 = 5,000; cash = 100,000 - 95,000 - 5,000 = 0
    mk = Market(["BTC"], [100_000.0], asset_weight=0.9, liquidation_penalty=0.05)
    res = liquidate(Account([1.0], cash=-95_000.0).to_book(), mk)
    assert float(res.penalty[0]) == 5_000.0
    assert float(res.book.cash[0]) == 0.0
    assert res.insurance_fund == 5_000.0


def test_full_cross_spot(m):
    # 1 BTC + 2 ETH vs 100 quote debt: WC = 80 + 16 = 96 < 100 -> liquidatable
    b = Account([1.0, 2.0], cash=-100.0).to_book()
    assert margin_report(b, m).liquidatable.tolist() == [True]
    res = liquidate(b, m)
    # equity = 100 + 20 - 100 = 20; penalty = 5 % * 100 + 10 % * 20 = 5 + 2 = 7
    assert res.equity_before.tolist() == [20.0]
    assert res.penalty[0] == pytest.approx(7.0)
    assert res.notional_closed[0] == pytest.approx(120.0)
    assert res.book.holdings.tolist() == [[0.0, 0.0]]
    assert res.book.cash[0] == pytest.approx(20.0 - 7.0)
    assert res.equity_after[0] == pytest.approx(13.0)
    assert res.units_sold.tolist() == [1.0, 2.0]
    assert res.bad_debt[0] == 0.0
    assert res.insurance_fund == pytest.approx(7.0)
    assert (res.fund_payout, res.socialized_loss) == (0.0, 0.0)
    assert res.liquidated.tolist() == [True]
    assert res.pool_liquidated.tolist() == [True]
    assert res.pool_fraction.tolist() == [1.0]
    assert res.events == [LiquidationEvent(0, "pool", 1.0, 120.0, pytest.approx(7.0), 0.0)]
    assert_conserved(res)


def test_penalty_capped_at_equity(m):
    # cash -115: equity = 120 - 115 = 5 < penalty due 7 -> only 5 is paid, account keeps 0
    res = liquidate(Account([1.0, 2.0], cash=-115.0).to_book(), m)
    assert res.penalty[0] == pytest.approx(5.0)
    assert res.book.cash[0] == 0.0
    assert res.bad_debt[0] == 0.0
    assert res.insurance_fund == pytest.approx(5.0)
    assert_conserved(res)


def test_bad_debt_covered_by_fund_then_socialized(m):
    # cash -130: equity = 120 - 130 = -10 -> no penalty, shortfall 10 written off, cash 0
    b = Account([1.0, 2.0], cash=-130.0).to_book()
    res = liquidate(b, m, insurance_fund=3.0)
    assert res.penalty[0] == 0.0
    assert res.bad_debt[0] == pytest.approx(10.0)
    assert res.book.cash[0] == 0.0 and res.book.holdings.tolist() == [[0.0, 0.0]]
    # fund 3 pays 3, the other 7 is socialized
    assert res.fund_payout == pytest.approx(3.0)
    assert res.socialized_loss == pytest.approx(7.0)
    assert res.insurance_fund == pytest.approx(0.0)
    assert res.total_bad_debt == pytest.approx(10.0)
    assert_conserved(res)
    # a fund of 20 covers it all: 20 - 10 = 10 left, nothing socialized
    res = liquidate(b, m, insurance_fund=20.0)
    assert (res.fund_payout, res.socialized_loss) == (pytest.approx(10.0), 0.0)
    assert res.insurance_fund == pytest.approx(10.0)
    assert res.insurance_fund_before == 20.0
    assert_conserved(res)


def test_full_cross_with_perps_and_spot_debt(m):
    # 1.5 BTC held, 3 ETH borrowed; ETH at 40: WC = 1.5 * 100 * 0.8 = 120 < WL = 3 * 40 * 1.1 = 132
    b = Account([1.5, -3.0], cash=0.0).to_book()
    res = liquidate(b, m, prices=[100.0, 40.0])
    # equity = 150 - 120 = 30; penalty = 5 % * 150 + 10 % * 120 = 7.5 + 12 = 19.5
    assert res.penalty[0] == pytest.approx(19.5)
    assert res.book.cash[0] == pytest.approx(30.0 - 19.5)
    # BTC sold, ETH bought back (negative units sold)
    assert res.units_sold.tolist() == [1.5, -3.0]
    assert res.notional_closed[0] == pytest.approx(270.0)
    assert_conserved(res)


def test_cross_perps_full(m):
    # long 2 BTC-perp @ 110, short 10 ETH-perp @ 9, cash 40:
    # uPnL = 2 * (100 - 110) - 10 * (10 - 9) = -30; MM = 2 * 100 * 5 % + 10 * 10 * 10 % = 20
    # available = 40 - 30 = 10 < 20 -> liquidatable; equity 10
    b = Account([0.0, 0.0], perps=[2.0, -10.0], entry_prices=[110.0, 9.0], cash=40.0).to_book()
    res = liquidate(b, m)
    # penalty due = 5 % * 200 + 10 % * 100 = 20, capped at equity 10
    assert res.penalty[0] == pytest.approx(10.0)
    assert res.book.perps.tolist() == [[0.0, 0.0]]
    assert res.book.entry_prices.tolist() == [[0.0, 0.0]]
    assert res.book.cash[0] == 0.0
    assert res.units_sold.tolist() == [2.0, -10.0]       # short closed by buying
    assert res.notional_closed[0] == pytest.approx(300.0)
    assert_conserved(res)


# -- partial liquidation ----------------------------------------------------------------------

def test_partial_spot(m):
    res = liquidate(Account([1.0, 2.0], cash=-100.0).to_book(), m, close_factor=0.5)
    # half of each position: 0.5 BTC (50) + 1 ETH (10) sold; penalty 2.5 + 1 = 3.5
    assert res.book.holdings.tolist() == [[0.5, 1.0]]
    assert res.pool_fraction.tolist() == [0.5]
    assert res.penalty[0] == pytest.approx(3.5)
    assert res.notional_closed[0] == pytest.approx(60.0)
    # cash = -100 + 60 - 3.5 = -43.5; equity = 50 + 10 - 43.5 = 16.5 = 20 - 3.5
    assert res.book.cash[0] == pytest.approx(-43.5)
    assert res.equity_after[0] == pytest.approx(16.5)
    assert res.units_sold.tolist() == [0.5, 1.0]
    assert res.events == [LiquidationEvent(0, "pool", 0.5, pytest.approx(60.0),
                                           pytest.approx(3.5), 0.0)]
    assert_conserved(res)


def test_partial_perps_keep_entry_price(m):
    b = Account([0.0, 0.0], perps=[2.0, -10.0], entry_prices=[110.0, 9.0], cash=40.0).to_book()
    res = liquidate(b, m, close_factor=0.5)
    # closed 1 BTC and 5 ETH: gross 100 + 50 = 150; penalty 5 + 5 = 10 (= equity, so not capped)
    assert res.book.perps.tolist() == [[1.0, -5.0]]
    assert res.book.entry_prices.tolist() == [[110.0, 9.0]]
    assert res.penalty[0] == pytest.approx(10.0)
    # realized = 1 * (100 - 110) - 5 * (10 - 9) = -15; cash = 40 - 15 - 10 = 15
    assert res.book.cash[0] == pytest.approx(15.0)
    assert res.equity_after[0] == pytest.approx(0.0, abs=1e-12)
    assert_conserved(res)


def test_partial_with_non_positive_equity_closes_everything(m):
    res = liquidate(Account([1.0, 2.0], cash=-130.0).to_book(), m, close_factor=0.5)
    assert res.pool_fraction.tolist() == [1.0]
    assert res.book.holdings.tolist() == [[0.0, 0.0]]
    assert res.bad_debt[0] == pytest.approx(10.0)
    assert_conserved(res)


# -- isolated buckets -------------------------------------------------------------------------

@pytest.fixture
def mi():
    # ETH: maintenance 10 %, penalty 2 % (penalty < maintenance, so a failing bucket keeps money)
    return Market(["BTC", "ETH"], [100.0, 10.0], asset_weight=0.8,
                  maintenance_margin=[0.05, 0.10], initial_margin=[0.10, 0.20],
                  liquidation_penalty=[0.05, 0.02])


def iso_book():
    iso = Account([1.0, 0.0], perps=[1.0, 10.0], entry_prices=[100.0, 10.0], mode="isolated",
                  isolated_margin=[20.0, 10.0], cash=50.0)
    safe = Account([1.0, 0.0], cash=10.0)
    return Book.from_accounts([iso, safe])


def test_isolated_bucket_only_failing_bucket_touched(mi):
    b = iso_book()
    before = snapshot(b)
    # ETH at 9.6: ETH bucket equity = 10 + 10 * (9.6 - 10) = 6, MM = 10 * 9.6 * 10 % = 9.6
    # -> health -3.6; BTC bucket 20 - 5 = 15 and the pool 80 + 50 = 130 are fine
    res = liquidate(b, mi, prices=[100.0, 9.6])
    assert res.liquidated.tolist() == [True, False]
    assert res.pool_liquidated.tolist() == [False, False]
    assert res.bucket_liquidated.tolist() == [[False, True], [False, False]]
    nb = res.book
    # penalty = 2 % * 96 = 1.92; leftover 6 - 1.92 = 4.08 stays in the ETH bucket
    assert res.penalty[0] == pytest.approx(1.92)
    assert nb.isolated_margin[0].tolist() == [20.0, pytest.approx(4.08)]
    assert nb.perps[0].tolist() == [1.0, 0.0]
    assert nb.entry_prices[0].tolist() == [100.0, 0.0]
    # holdings, cash, the other bucket and the other account are untouched
    np.testing.assert_array_equal(nb.holdings, before["holdings"])
    np.testing.assert_array_equal(nb.cash, before["cash"])
    assert nb.mode.tolist() == ["isolated", "cross"]
    assert res.units_sold.tolist() == [0.0, 10.0]
    assert res.events == [LiquidationEvent(0, "ETH", 1.0, pytest.approx(96.0),
                                           pytest.approx(1.92), 0.0)]
    # the leftover margin still counts as equity: 6 - 1.92 lost only the penalty
    assert res.equity_before[0] - res.equity_after[0] == pytest.approx(1.92)
    assert not margin_report(nb, mi, prices=[100.0, 9.6]).liquidatable.any()
    assert_conserved(res)


def test_isolated_bucket_partial(mi):
    res = liquidate(iso_book(), mi, prices=[100.0, 9.6], close_factor=0.5)
    # 5 ETH closed: gross 48, penalty 0.96; margin = 10 + 5 * (9.6 - 10) - 0.96 = 7.04
    assert res.book.perps[0].tolist() == [1.0, 5.0]
    assert res.book.entry_prices[0].tolist() == [100.0, 10.0]
    assert res.book.isolated_margin[0, 1] == pytest.approx(7.04)
    assert res.events[0].close_fraction == 0.5
    assert res.events[0].notional_closed == pytest.approx(48.0)
    assert_conserved(res)


def test_isolated_bucket_bad_debt(mi):
    # ETH at 8.5: bucket equity = 10 + 10 * (8.5 - 10) = -5 -> closed, 5 written off, margin 0;
    # the account's pool cash (50) is NOT used to cover it
    res = liquidate(iso_book(), mi, prices=[100.0, 8.5], insurance_fund=2.0)
    assert res.bad_debt.tolist() == [pytest.approx(5.0), 0.0]
    assert res.penalty[0] == 0.0
    assert res.book.isolated_margin[0].tolist() == [20.0, 0.0]
    assert res.book.cash[0] == 50.0
    assert res.fund_payout == pytest.approx(2.0)
    assert res.socialized_loss == pytest.approx(3.0)
    assert res.events == [LiquidationEvent(0, "ETH", 1.0, pytest.approx(85.0), 0.0,
                                           pytest.approx(5.0))]
    assert_conserved(res)


def test_isolated_pool_failure_leaves_buckets(mi):
    # isolated account whose pool fails (1 BTC vs 90 debt: 80 < 90) but whose buckets are fine
    a = Account([1.0, 0.0], perps=[0.0, 10.0], entry_prices=[0.0, 10.0], mode="isolated",
                isolated_margin=[0.0, 10.0], cash=-90.0)
    res = liquidate(a, mi)
    assert res.pool_liquidated.tolist() == [True]
    assert not res.bucket_liquidated.any()
    # pool: equity 100 - 90 = 10, penalty 5 % * 100 = 5, cash 5
    assert res.book.holdings.tolist() == [[0.0, 0.0]]
    assert res.book.cash[0] == pytest.approx(5.0)
    assert res.book.perps.tolist() == [[0.0, 10.0]]
    assert res.book.isolated_margin.tolist() == [[0.0, 10.0]]
    assert res.units_sold.tolist() == [1.0, 0.0]
    assert_conserved(res)


# -- book-level behaviour ---------------------------------------------------------------------

def test_events_in_account_order(m, mi):
    b = Book.from_accounts([
        Account([1.0, 0.0], cash=10.0),                         # safe
        Account([1.0, 2.0], cash=-100.0),                       # pool fails
        Account([0.0, 0.0], perps=[1.0, 10.0], entry_prices=[100.0, 10.0], mode="isolated",
                isolated_margin=[1.0, 1.0]),                   # both buckets fail
    ])
    # BTC bucket: 1 + 0 - 100 * 5 % = -4; ETH bucket: 1 - 10 * 10 * 10 % = 0 -> not failing
    res = liquidate(b, m, prices=[100.0, 9.9])
    parts = [(e.account, e.part) for e in res.events]
    assert parts == [(1, "pool"), (2, "BTC"), (2, "ETH")]
    assert res.liquidated.tolist() == [False, True, True]
    assert all(isinstance(e, LiquidationEvent) for e in res.events)
    assert_conserved(res)


def test_nothing_to_liquidate(m):
    b = Book.from_accounts([Account([1.0, 0.0], cash=10.0), Account([0.0, 1.0])])
    res = liquidate(b, m, insurance_fund=5.0)
    assert not res.liquidated.any()
    assert res.events == []
    assert res.insurance_fund == 5.0
    np.testing.assert_array_equal(res.book.holdings, b.holdings)
    np.testing.assert_array_equal(res.book.cash, b.cash)
    np.testing.assert_array_equal(res.equity_after, res.equity_before)


@pytest.mark.parametrize("seed, shock, cf, fund", [
    (0, -0.25, 1.0, 0.0), (1, -0.35, 0.5, 1e4), (2, 0.3, 1.0, 1e3), (3, -0.5, 0.25, 0.0),
])
def test_conservation_and_no_mutation_on_random_books(seed, shock, cf, fund):
    mk = Market.example()
    b = Book.random(mk, 2_000, seed=seed)
    before = snapshot(b)
    P = mk.shocked(shock).prices
    res = liquidate(b, mk, prices=P, close_factor=cf, insurance_fund=fund)
    assert res.liquidated.sum() > 0
    assert_conserved(res)
    for k, v in before.items():
        np.testing.assert_array_equal(getattr(b, k), v, err_msg=k)
    # what left accounts (penalty) went to the fund; bad debt came out of it or was socialized
    assert res.insurance_fund == pytest.approx(
        fund + res.total_penalty - res.fund_payout, abs=1e-6)
    assert res.fund_payout + res.socialized_loss == pytest.approx(res.total_bad_debt, abs=1e-6)
    assert (res.penalty >= 0).all() and (res.bad_debt >= 0).all()
    # untouched accounts are byte-for-byte the same
    keep = ~res.liquidated
    np.testing.assert_array_equal(res.book.holdings[keep], b.holdings[keep])
    np.testing.assert_array_equal(res.book.perps[keep], b.perps[keep])
    np.testing.assert_array_equal(res.book.cash[keep], b.cash[keep])
    np.testing.assert_array_equal(res.equity_after[keep], res.equity_before[keep])
    if cf == 1.0:
        # a full liquidation leaves nothing liquidatable at the same prices
        assert not margin_report(res.book, mk, prices=P).liquidatable.any()
        # and no account ends below zero
        assert (res.equity_after >= -1e-9).all()


def test_result_book_is_read_only(m):
    res = liquidate(Account([1.0, 2.0], cash=-100.0), m)
    assert res.book.holdings.flags.writeable is False
    with pytest.raises(ValueError):
        res.book.cash[0] = 1e9


# -- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("kw, pattern", [
    (dict(close_factor=0.0), r"close_factor.*got 0\.0"),
    (dict(close_factor=1.5), r"close_factor.*got 1\.5"),
    (dict(close_factor=float("nan")), r"close_factor.*nan"),
    (dict(close_factor=[0.5, 0.5]), r"close_factor.*single number.*\(2,\)"),
    (dict(insurance_fund=-1.0), r"insurance_fund.*got -1\.0"),
    (dict(insurance_fund=float("inf")), r"insurance_fund.*inf"),
    (dict(prices=[[100.0, 10.0]]), r"prices.*\(2,\).*\(1, 2\)"),
    (dict(prices=[100.0, -10.0]), r"prices\[ETH\].*-10\.0"),
])
def test_bad_liquidate_inputs(m, kw, pattern):
    b = Account([1.0, 2.0], cash=-100.0).to_book()
    with pytest.raises(MarginInputError, match=pattern) as info:
        liquidate(b, m, **kw)
    assert isinstance(info.value, ValueError)


def test_bad_book_type(m):
    with pytest.raises(MarginInputError, match=r"book.*list"):
        liquidate([[1.0, 2.0]], m)
    with pytest.raises(MarginInputError, match=r"book.*got 3 columns"):
        liquidate(Account([1.0, 2.0, 3.0]), m)
