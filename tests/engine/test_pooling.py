"""Cross vs isolated for the same positions: isolated_twin, capital_required, compare_pooling.

Known answers use the example market (BTC 100,000 / ETH 4,000 / SOL 200; initial margin 2.5 % /
4 % / 5 %; maintenance 1.25 % / 2 % / 2.5 %; penalty 5 %) with the arithmetic in the test.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from widgets.engine import (Account, Book, MarginInputError, Market, capital_required,
                            compare_pooling, isolated_twin, liquidate, margin_report,
                            proportional_split)

from tests.support.strategies import cross_account_parts, fast, markets, shocks

SETTINGS = fast(60)
CRISIS = [79_000.0, 2_880.0, 130.0, 0.98]          # BTC -21 %, ETH -28 %, SOL -35 %, USDC -2 %


@pytest.fixture
def m():
    return Market.example()


@pytest.fixture
def lesson(m):
    """The PoolingLab default: long 2 BTC, long 50 ETH, short 500 SOL, 30,000 of cash."""
    return Account.from_positions(m, perps={"BTC": 2, "ETH": 50, "SOL": -500}, cash=30_000)


# -- proportional_split and isolated_twin -------------------------------------------------------

def test_proportional_split_by_initial_margin(m, lesson):
    # IM: BTC 2 x 100,000 x 2.5 % = 5,000; ETH 50 x 4,000 x 4 % = 8,000; SOL 500 x 200 x 5 %
    # = 5,000; total 18,000
    s = proportional_split(lesson, m)
    assert list(s) == ["BTC", "ETH", "SOL"]
    assert s["BTC"] == pytest.approx(5 / 18) and s["ETH"] == pytest.approx(8 / 18)
    assert sum(s.values()) == pytest.approx(1.0)
    assert proportional_split(Account.from_positions(m, cash=5.0), m) == {}


def test_isolated_twin_posts_shares_and_keeps_the_rest_in_the_pool(m, lesson):
    t = isolated_twin(lesson, m, {"BTC": 0.1, "ETH": 0.2, "SOL": 0.3})
    assert t.mode == "isolated"
    # 30,000 x 0.1 / 0.2 / 0.3 = 3,000 / 6,000 / 9,000; the pool keeps 12,000
    assert t.isolated_margin.tolist() == pytest.approx([3_000.0, 6_000.0, 9_000.0, 0.0])
    assert t.cash == pytest.approx(12_000.0)
    for f in ("holdings", "perps", "entry_prices"):
        assert getattr(t, f).tolist() == getattr(lesson, f).tolist()
    assert lesson.mode == "cross" and lesson.cash == 30_000.0          # input untouched
    # default split: all cash posted, proportional to initial margin
    d = isolated_twin(lesson, m)
    assert d.isolated_margin[:3].tolist() == pytest.approx([30_000 * 5 / 18, 30_000 * 8 / 18,
                                                            30_000 * 5 / 18])
    assert d.cash == pytest.approx(0.0, abs=1e-9)
    # an array split works too; a share for USDC (no perp) stays in the pool
    a = isolated_twin(lesson, m, [0.5, 0.0, 0.0, 0.5])
    assert a.isolated_margin.tolist() == [15_000.0, 0.0, 0.0, 0.0] and a.cash == 15_000.0


@pytest.mark.parametrize("split, match", [
    ({"DOGE": 0.1}, r"split keys must be one of .*'DOGE'"),
    ({"BTC": float("nan")}, r"split\[BTC\] must be finite, got nan"),
    ({"BTC": -0.1}, r"split\[BTC\] must be in \[0.0, inf\), got -0.1"),
    ({"BTC": 0.6, "ETH": 0.5}, r"split must sum to at most 1, got 1.1"),
    ([0.5, 0.5], r"split must have shape \(4,\)"),
])
def test_isolated_twin_rejects_bad_split(m, lesson, split, match):
    with pytest.raises(MarginInputError, match=match):
        isolated_twin(lesson, m, split)


def test_isolated_twin_rejects_isolated_input_and_debt(m, lesson):
    with pytest.raises(MarginInputError, match="cross mode, got 'isolated'"):
        isolated_twin(isolated_twin(lesson, m), m)
    with pytest.raises(MarginInputError, match=r"cash must be >= 0.*-100.0"):
        isolated_twin(lesson.replace(cash=-100.0), m, {"BTC": 0.5})
    # nothing posted from a debt is fine: the twin is the same pool without perps
    assert isolated_twin(lesson.replace(cash=-100.0), m, {}).cash == -100.0
    with pytest.raises(MarginInputError, match="must be an Account"):
        isolated_twin("acct", m)


# -- capital_required ----------------------------------------------------------------------------

def test_capital_equal_at_entry_without_holdings(m, lesson):
    # every perp at its entry price: nothing to net, both need the IM sum 18,000
    assert capital_required(lesson, m) == pytest.approx(18_000.0)
    assert capital_required(lesson, m, mode="isolated") == pytest.approx(18_000.0)
    assert capital_required(isolated_twin(lesson, m), m) == pytest.approx(18_000.0)


def test_capital_gains_net_in_cross_only(m):
    # docstring case: BTC +10,000 (IM 2,750), ETH -10,000 (IM 3,600)
    a = Account.from_positions(m, perps={"BTC": 1, "ETH": 25})
    now = [110_000.0, 3_600.0, 200.0, 1.0]
    assert capital_required(a, m, now) == pytest.approx(2_750 + 3_600 - 10_000 + 10_000)
    assert capital_required(a, m, now, mode="isolated") == pytest.approx(0 + 3_600 + 10_000)


def test_capital_at_crisis_prices(m, lesson):
    # IM at crisis: BTC 2 x 79,000 x 2.5 % = 3,950; ETH 50 x 2,880 x 4 % = 5,760;
    # SOL 500 x 130 x 5 % = 3,250. uPnL: BTC -42,000, ETH -56,000, SOL +35,000.
    # cross: 12,960 + 63,000 = 75,960; isolated: 45,950 + 61,760 + max(0, 3,250 - 35,000) = 107,710
    assert capital_required(lesson, m, CRISIS) == pytest.approx(75_960.0)
    assert capital_required(lesson, m, CRISIS, mode="isolated") == pytest.approx(107_710.0)


def test_capital_with_spot_holdings(m):
    # 1 BTC spot counts 90,000 (weight 0.9) in the pool. Cross: the spot backs the 2,500 IM of a
    # 1 BTC perp, need 0. Isolated: the spot stays in the pool, the bucket still needs 2,500.
    a = Account.from_positions(m, holdings={"BTC": 1}, perps={"BTC": 1})
    assert capital_required(a, m) == 0.0
    assert capital_required(a, m, mode="isolated") == pytest.approx(2_500.0)
    # 1 ETH borrowed counts 4,800 for opening (init liability weight 1.2, Mango; maintenance
    # counts 4,400 at 1.1): the pool must cover it in either mode
    b = Account.from_positions(m, holdings={"ETH": -1}, perps={"SOL": 100})
    assert capital_required(b, m) == pytest.approx(4_800 + 1_000)
    assert capital_required(b, m, mode="isolated") == pytest.approx(4_800 + 1_000)


def test_capital_required_is_the_edge_of_the_initial_check(m, lesson):
    need = capital_required(lesson, m, CRISIS)
    ok = margin_report(lesson.replace(cash=need), m, CRISIS)
    short = margin_report(lesson.replace(cash=need - 1.0), m, CRISIS)
    assert ok.initial_health == pytest.approx(0.0, abs=1e-6)
    assert short.initial_health == pytest.approx(-1.0)


def test_capital_required_vectorized_and_bad_input(m, lesson):
    other = Account.from_positions(m, perps={"ETH": -10}, cash=1.0)
    twin = isolated_twin(lesson, m)
    book = Book.from_accounts([lesson, other, twin])
    got = capital_required(book, m, CRISIS)
    want = [capital_required(a, m, CRISIS) for a in (lesson, other, twin)]
    np.testing.assert_allclose(got, want)
    assert got[2] == pytest.approx(107_710.0)              # each row priced in its own mode
    with pytest.raises(MarginInputError, match="mode must be"):
        capital_required(lesson, m, mode="portfolio")
    with pytest.raises(MarginInputError, match=r"prices must have shape \(4,\)"):
        capital_required(lesson, m, [CRISIS, CRISIS])
    with pytest.raises(MarginInputError, match="Account or a Book"):
        capital_required({"BTC": 1}, m)


# -- compare_pooling ------------------------------------------------------------------------------

def test_sol_rally_fails_the_isolated_sol_bucket_only(m, lesson):
    # SOL +15 % -> 230. SOL bucket: 8,333.33 - 500 x 30 = -6,666.67 < MM -> fails, loses its
    # 8,333.33. Cross: 30,000 - 15,000 - MM (2,500 + 4,000 + 2,875) = 5,625 >= 0 -> survives.
    c = compare_pooling(lesson, m, prices=[100_000.0, 4_000.0, 230.0, 1.0])
    assert c.liquidatable.tolist() == [False, True]
    assert c.failed_buckets == ("SOL",)
    assert c.pool_health[0] == pytest.approx(5_625.0)
    assert c.loss.tolist() == pytest.approx([0.0, 30_000 * 5 / 18])
    assert np.isnan(c.bucket_health[3])                     # no USDC perp, no bucket


def test_crisis_takes_the_whole_cross_pool_and_two_isolated_buckets(m, lesson):
    # Cross equity 30,000 - 63,000 < 0: the pool is closed, all 30,000 lost (33,000 bad debt).
    # Isolated: BTC (8,333 - 42,000) and ETH (13,333 - 56,000) buckets fail, losing 21,666.67;
    # the SOL bucket (8,333 + 35,000 - MM 1,625 > 0) survives with its gain.
    c = compare_pooling(lesson, m, prices=CRISIS)
    assert c.liquidatable.tolist() == [True, True]
    assert c.failed_buckets == ("BTC", "ETH")
    assert c.loss.tolist() == pytest.approx([30_000.0, 30_000 * 13 / 18])
    assert c.equity_start.tolist() == pytest.approx([30_000.0, 30_000.0])
    assert c.equity_after.tolist() == pytest.approx([0.0, 30_000 * 5 / 18 + 35_000], abs=1e-6)
    assert c.liquidation.bad_debt.tolist() == pytest.approx(
        [33_000.0, (42_000 - 30_000 * 5 / 18) + (56_000 - 30_000 * 8 / 18)])
    assert c.capital_required.tolist() == pytest.approx([75_960.0, 107_710.0])


def test_compare_matches_direct_engine_calls(m, lesson):
    split = {"BTC": 0.2, "ETH": 0.3, "SOL": 0.4}
    c = compare_pooling(lesson, m, prices=CRISIS, split=split)
    book = Book.from_accounts([lesson, isolated_twin(lesson, m, split)])
    rep, liq = margin_report(book, m, CRISIS), liquidate(book, m, CRISIS)
    np.testing.assert_array_equal(c.liquidatable, rep.liquidatable)
    np.testing.assert_allclose(c.pool_health, rep.pool_health)
    np.testing.assert_allclose(c.equity_after, liq.equity_after)
    np.testing.assert_array_equal(c.book.isolated_margin, book.isolated_margin)
    # failing BTC and ETH buckets lose their 6,000 + 9,000; the SOL bucket (12,000 + 35,000)
    # and the 3,000 left in the isolated pool survive
    assert c.failed_buckets == ("BTC", "ETH")
    assert c.loss[1] == pytest.approx(15_000.0)
    assert c.equity_after[1] == pytest.approx(3_000 + 12_000 + 35_000)


def test_no_move_nothing_fails(m, lesson):
    c = compare_pooling(lesson, m)
    assert c.liquidatable.tolist() == [False, False] and c.failed_buckets == ()
    assert c.loss.tolist() == [0.0, 0.0]


# -- properties on random portfolios -------------------------------------------------------------

@st.composite
def market_account_split(draw):
    market = draw(markets())
    h, q, ep, cash, margin = draw(cross_account_parts(market))
    acct = Account(h, perps=q, entry_prices=ep, cash=cash)
    split = margin / cash if cash > 0 else np.zeros(market.n_assets)
    prices = market.prices * (1 + np.array(draw(shocks(market.n_assets))))
    return market, acct, split, prices


@SETTINGS
@given(market_account_split())
def test_cross_never_needs_more_capital_than_isolated(mas):
    market, acct, _, prices = mas
    cross = capital_required(acct, market, prices)
    iso = capital_required(acct, market, prices, mode="isolated")
    assert cross >= 0.0
    assert cross <= iso + 1e-9 * (1 + iso)


@SETTINGS
@given(market_account_split())
def test_pooling_fails_less_often(mas):
    # cross health == isolated pool health + sum of bucket healths, so a failing cross pool
    # means at least one failing isolated part
    market, acct, split, prices = mas
    c = compare_pooling(acct, market, prices, split)
    parts = c.pool_health[1] + np.nansum(c.bucket_health)
    assert c.pool_health[0] == pytest.approx(parts, rel=1e-9, abs=1e-6)
    if c.pool_health[0] < -1e-6 * (1 + abs(parts)):
        assert c.liquidatable[1]
