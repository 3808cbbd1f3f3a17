"""cascade and price_impact: the docstring case by hand, impact models, monotonicity, log."""
from __future__ import annotations

import math

import numpy as np
import pytest

from widgets.engine import (
    Account,
    Book,
    MarginInputError,
    Market,
    cascade,
    margin_report,
    price_impact,
)

# Known answers computed with the original rule and impact scale (see conftest.py).
pytestmark = pytest.mark.usefixtures("legacy_engine_defaults")


def three_accounts(depth=2_000.0):
    # each account: 1 unit of X (weight 0.8) against quote debt 77 / 74 / 60
    m = Market(["X"], [100.0], asset_weight=0.8, liquidation_penalty=0.05, depth=depth)
    b = Book.from_accounts([Account([1.0], cash=-d) for d in (77.0, 74.0, 60.0)])
    return m, b


def long_book(n=300, seed=0, n_assets=2):
    """Long spot collateral against quote debt only (no perps, no asset debt)."""
    rng = np.random.default_rng(seed)
    prices = np.array([100.0, 20.0, 5.0][:n_assets])
    m = Market(["A", "B", "C"][:n_assets], prices, asset_weight=0.8,
               liquidation_penalty=0.05, depth=5e4, volatility=0.05)
    h = rng.uniform(0.0, 10.0, size=(n, n_assets))
    # debt between 50 % and 99 % of weighted collateral: everyone starts healthy
    wc = (h * prices * 0.8).sum(1)
    cash = -wc * rng.uniform(0.5, 0.99, n)
    return m, Book(holdings=h, cash=cash)


# -- the docstring example, by hand -----------------------------------------------------------

def test_docstring_three_accounts():
    m, b = three_accounts()
    res = cascade(b, m, shock=-0.05)
    # shock: 100 -> 95. A: 0.8 * 95 = 76 < 77 fails; B (74) and C (60) are fine.
    # A sells 1 unit: x = 1 * 100 / 2,000 = 5 % -> P = 95 * (1 - 0.05) = 90.25
    # B: 0.8 * 90.25 = 72.2 < 74 fails, sells 1: cumulative x = 10 % -> P = 95 * 0.9 = 85.5
    # C: 0.8 * 85.5 = 68.4 > 60: safe. Stop.
    assert res.n_liquidated == 2
    np.testing.assert_allclose(res.prices_by_round[:, 0], [95.0, 90.25, 85.5])
    assert res.n_rounds == 2
    assert res.first_round.tolist() == [1, 2, 0]
    assert res.liquidated.tolist() == [True, True, False]
    assert res.liquidated_by_round.tolist() == [1, 1]
    assert res.newly_liquidated_by_round.tolist() == [1, 1]
    assert res.units_sold_by_round.tolist() == [[1.0], [1.0]]
    # sold at the round's price, before its impact: 95 then 90.25
    np.testing.assert_allclose(res.notional_sold_by_round[:, 0], [95.0, 90.25])
    # penalties 5 % * 95 = 4.75 and 5 % * 90.25 = 4.5125 go to the fund
    np.testing.assert_allclose(res.penalty_by_round, [4.75, 4.5125])
    np.testing.assert_allclose(res.insurance_fund_by_round, [0.0, 4.75, 9.2625])
    assert res.bad_debt == 0.0 and res.socialized_loss == 0.0
    # book left behind: A keeps 95 - 77 - 4.75 = 13.25, B 90.25 - 74 - 4.5125 = 11.7375
    assert res.book.holdings[:, 0].tolist() == [0.0, 0.0, 1.0]
    np.testing.assert_allclose(res.book.cash, [13.25, 11.7375, -60.0])
    # mark-to-market change of what is still held: 2 units * (90.25 - 95), 1 * (85.5 - 90.25)
    np.testing.assert_allclose(res.impact_by_round, [-9.5, -4.75])
    assert res.price_change[0] == pytest.approx(85.5 / 100 - 1)
    assert res.final_prices[0] == pytest.approx(85.5)
    assert res.converged is True
    # The input book is untouched
    assert b.holdings[:, 0].tolist() == [1.0, 1.0, 1.0]
    assert b.cash.tolist() == [-77.0, -74.0, -60.0]


def test_deeper_market_liquidates_fewer():
    # depth 10,000: A's sale moves the price 1 %: 95 * 0.99 = 94.05; B: 0.8 * 94.05 = 75.24 > 74
    m, b = three_accounts(depth=10_000.0)
    res = cascade(b, m, shock=-0.05)
    assert res.n_liquidated == 1
    np.testing.assert_allclose(res.prices_by_round[:, 0], [95.0, 94.05])


@pytest.mark.parametrize("impact", ["linear", "sqrt", "exponential"])
@pytest.mark.parametrize("seed", [0, 1])
def test_depth_monotone_on_long_books(impact, seed):
    m, b = long_book(seed=seed)
    counts = []
    for depth in (2e3, 1e4, 5e4, 2.5e5, 1e7):
        res = cascade(b, m.replace(depth=depth), shock=-0.12, impact=impact)
        counts.append(res.n_liquidated)
    assert counts == sorted(counts, reverse=True)
    assert counts[0] > counts[-1]


@pytest.mark.parametrize("impact", ["linear", "sqrt", "exponential"])
def test_prices_never_rise_when_only_selling(impact):
    m, b = long_book(seed=3, n_assets=3)
    res = cascade(b, m.replace(depth=2e4), shock=[-0.1, -0.15, -0.05], impact=impact)
    assert res.n_rounds >= 2
    assert (np.diff(res.prices_by_round, axis=0) <= 0).all()
    assert (res.units_sold_by_round >= 0).all()
    assert (res.impact_by_round <= 0).all()


def test_short_squeeze_pushes_prices_up():
    # shorts of 1 X @ 100 with cash 15 / 20 / 40; MM 5 %. Shock +10 % -> 110:
    # first: 15 - 10 - 110 * 5 % = -0.5 fails; buys 1 back: x = -1 * 100 / 2,000 -> P = 110 * 1.05
    # second at 115.5: 20 - 15.5 - 5.775 = -1.275 fails -> P = 110 * 1.10 = 121
    # third at 121: 40 - 21 - 6.05 = 12.95 safe
    m = Market(["X"], [100.0], maintenance_margin=0.05, liquidation_penalty=0.05, depth=2_000.0)
    b = Book.from_accounts([Account([0.0], perps=[-1.0], entry_prices=[100.0], cash=c)
                            for c in (15.0, 20.0, 40.0)])
    res = cascade(b, m, shock=0.10)
    np.testing.assert_allclose(res.prices_by_round[:, 0], [110.0, 115.5, 121.0])
    assert (np.diff(res.prices_by_round[:, 0]) > 0).all()
    assert res.units_sold_by_round[:, 0].tolist() == [-1.0, -1.0]
    assert res.n_liquidated == 2 and res.converged


# -- price impact models ----------------------------------------------------------------------

@pytest.fixture
def m_eth():
    return Market(["ETH"], [2_000.0], depth=1e6, volatility=0.04)


def test_price_impact_by_hand(m_eth):
    shocked = np.array([2_000.0])
    # selling 5 ETH = 10,000 = 1 % of depth: x = 5 * 2,000 / 1e6 = 0.01
    assert price_impact(m_eth, shocked, np.array([5.0]), "linear")[0] == pytest.approx(1_980.0)
    assert price_impact(m_eth, shocked, np.array([5.0]))[0] == pytest.approx(1_980.0)
    # exponential: 2,000 * exp(-0.01) = 1,980.0997
    assert price_impact(m_eth, shocked, np.array([5.0]), "exponential")[0] == pytest.approx(
        2_000 * math.exp(-0.01))
    # sqrt: 2,000 * (1 - 0.04 * sqrt(0.01)) = 2,000 * 0.996 = 1,992
    assert price_impact(m_eth, shocked, np.array([5.0]), "sqrt")[0] == pytest.approx(1_992.0)
    # buying moves the price up by the same rules
    assert price_impact(m_eth, shocked, np.array([-5.0]), "linear")[0] == pytest.approx(2_020.0)
    assert price_impact(m_eth, shocked, np.array([-5.0]), "sqrt")[0] == pytest.approx(2_008.0)
    assert price_impact(m_eth, shocked, np.array([-5.0]), "exponential")[0] == pytest.approx(
        2_000 * math.exp(0.01))
    # nothing sold: no move
    for model in ("linear", "sqrt", "exponential"):
        assert price_impact(m_eth, shocked, np.array([0.0]), model)[0] == 2_000.0


def test_price_impact_uses_reference_prices_for_size(m_eth):
    # after a 50 % shock to 1,000, 5 units are still valued at the reference 2,000: x = 1 %
    assert price_impact(m_eth, np.array([1_000.0]), np.array([5.0]))[0] == pytest.approx(990.0)


def test_price_impact_floor(m_eth):
    shocked = np.array([1_500.0])
    # linear: selling 2x depth gives 1 - 2 < 0 -> floored at 1 % of the shocked price = 15
    assert price_impact(m_eth, shocked, np.array([1_000.0]))[0] == pytest.approx(15.0)
    # sqrt with volatility 100 %: x = 4 -> 1 - 1 * 2 = -1 -> floor 15
    m = m_eth.replace(volatility=1.0)
    assert price_impact(m, shocked, np.array([2_000.0]), "sqrt")[0] == pytest.approx(15.0)
    # exponential: x = 3 -> 1,500 * exp(-3) = 74.68, above the floor
    assert price_impact(m_eth, shocked, np.array([1_500.0]), "exponential")[0] == pytest.approx(
        1_500 * math.exp(-3))
    # ... but x = 20 would be 1,500 * exp(-20): every model is floored at 1 % = 15
    assert price_impact(m_eth, shocked, np.array([10_000.0]), "exponential")[0] == pytest.approx(15.0)


def test_price_impact_cap_on_huge_buying(m_eth):
    # Buying 1,000x depth: linear 1 + 1,000, exp(1,000) would overflow; capped at 100x = 150,000.
    shocked = np.array([1_500.0])
    m = m_eth.replace(volatility=1.0)
    for model in ("linear", "exponential"):
        assert price_impact(m, shocked, np.array([-500_000.0]), model)[0] == pytest.approx(150_000.0)
    # sqrt grows slowly: x = 1,000 -> 1 + sqrt(1,000) = 32.6x, below the cap; 10^6 x depth caps.
    p = price_impact(m, shocked, np.array([-500_000.0]), "sqrt")[0]
    assert p == pytest.approx(1_500 * (1 + math.sqrt(1_000)))
    assert price_impact(m, shocked, np.array([-5e8]), "sqrt")[0] == pytest.approx(150_000.0)


def test_cascade_respects_floor():
    m, b = long_book(seed=4)
    res = cascade(b, m.replace(depth=50.0), shock=-0.3)
    shocked = m.prices * 0.7
    assert (res.prices_by_round >= 0.01 * shocked - 1e-12).all()
    np.testing.assert_allclose(res.final_prices, 0.01 * shocked)


@pytest.mark.parametrize("impact", ["linear", "sqrt", "exponential"])
def test_prices_depend_only_on_cumulative_flow(impact):
    m, b = long_book(seed=5)
    m = m.replace(depth=2e4)
    res = cascade(b, m, shock=-0.1, impact=impact)
    shocked = res.prices_by_round[0]
    np.testing.assert_allclose(shocked, m.prices * 0.9)
    cum = np.cumsum(res.units_sold_by_round, axis=0)
    for r in range(res.n_rounds):
        np.testing.assert_allclose(res.prices_by_round[r + 1],
                                   price_impact(m, shocked, cum[r], impact), rtol=1e-12)


def test_other_models_in_the_three_account_case():
    m, b = three_accounts()
    # exponential: 95 * exp(-0.05) = 90.367; B: 72.29 < 74 fails; 95 * exp(-0.1) = 85.96
    res = cascade(b, m, shock=-0.05, impact="exponential")
    np.testing.assert_allclose(res.prices_by_round[:, 0],
                               [95.0, 95 * math.exp(-0.05), 95 * math.exp(-0.1)])
    # sqrt (volatility 4 %): 95 * (1 - 0.04 * sqrt(0.05)) = 94.15; B: 75.32 > 74 safe
    res = cascade(b, m, shock=-0.05, impact="sqrt")
    np.testing.assert_allclose(res.prices_by_round[:, 0], [95.0, 95 * (1 - 0.04 * 0.05 ** 0.5)])
    assert res.n_liquidated == 1


# -- control flow, determinism, log -----------------------------------------------------------

def test_deterministic():
    mk = Market.example()
    b = Book.random(mk, 2_000, seed=8)
    r1 = cascade(b, mk, shock=-0.15, impact="sqrt")
    r2 = cascade(b, mk, shock=-0.15, impact="sqrt")
    np.testing.assert_array_equal(r1.prices_by_round, r2.prices_by_round)
    np.testing.assert_array_equal(r1.first_round, r2.first_round)
    np.testing.assert_array_equal(r1.book.cash, r2.book.cash)
    assert r1.log() == r2.log()


def test_max_rounds_and_converged_flag():
    m, b = three_accounts()
    res = cascade(b, m, shock=-0.05, max_rounds=1)
    # stopped after round 1 with B failing at 90.25
    assert res.n_rounds == 1
    assert res.prices_by_round.shape == (2, 1)
    assert res.converged is False
    assert res.log()[-1] == "Stopped: round limit reached with accounts still failing."
    assert margin_report(res.book, m, prices=res.final_prices).liquidatable.any()
    # two rounds are enough: the loop ends on its limit but nothing is left failing
    res = cascade(b, m, shock=-0.05, max_rounds=2)
    assert res.n_rounds == 2 and res.converged is True


def test_max_rounds_bounds_a_long_chain():
    # 40 accounts with debts spaced so that each sale fails the next one
    m = Market(["X"], [100.0], asset_weight=0.8, liquidation_penalty=0.0, depth=4_000.0)
    debts = 76.5 - 0.8 * 95 * 0.025 * np.arange(40)
    b = Book(holdings=np.ones((40, 1)), cash=-debts)
    full = cascade(b, m, shock=-0.05)
    assert full.n_rounds > 5
    capped = cascade(b, m, shock=-0.05, max_rounds=5)
    assert capped.n_rounds == 5
    assert capped.prices_by_round.shape == (6, 1)
    assert capped.liquidated_by_round.shape == (5,)
    assert capped.insurance_fund_by_round.shape == (6,)
    assert not capped.converged
    np.testing.assert_array_equal(capped.prices_by_round, full.prices_by_round[:6])


def test_nothing_fails():
    m, b = three_accounts()
    res = cascade(b, m, shock=0.0)
    assert res.n_rounds == 0 and res.converged and res.n_liquidated == 0
    assert res.prices_by_round.shape == (1, 1)
    assert res.units_sold_by_round.shape == (0, 1)
    assert res.log() == ["Shock: none", "Stopped: no account left to liquidate."]


def test_log_is_readable():
    m, b = three_accounts()
    lines = cascade(b, m, shock=-0.05).log()
    assert len(lines) == 2 + 2
    assert lines[0] == "Shock: X -5.0%"
    assert lines[1].startswith("Round 1: 1 account liquidated (1 new); net flow: X sold $95;")
    assert "prices X -5.00%" in lines[1]
    assert "fund $5" in lines[1] and "bad debt $0" in lines[1]
    assert lines[2].startswith("Round 2: 1 account liquidated (1 new); net flow: X sold $90;")
    assert lines[-1] == "Stopped: no account left to liquidate."
    assert all(isinstance(s, str) for s in lines)


def test_fund_accounting_across_rounds():
    mk = Market.example()
    b = Book.random(mk, 3_000, seed=2)
    res = cascade(b, mk, shock=-0.3, insurance_fund=1_000.0, close_factor=0.5)
    assert res.n_rounds >= 1
    payout = res.bad_debt_by_round - res.socialized_loss_by_round
    np.testing.assert_allclose(np.diff(res.insurance_fund_by_round),
                               res.penalty_by_round - payout, atol=1e-6)
    assert res.insurance_fund_by_round[0] == 1_000.0
    assert (res.insurance_fund_by_round >= -1e-9).all()
    assert (res.socialized_loss_by_round <= res.bad_debt_by_round + 1e-9).all()
    assert res.newly_liquidated_by_round.sum() == res.n_liquidated


def test_shock_as_mapping():
    mk = Market.example()
    b = Book.random(mk, 500, seed=1)
    res = cascade(b, mk, shock={"ETH": -0.2})
    shocked = res.prices_by_round[0]
    np.testing.assert_allclose(shocked, mk.prices * [1.0, 0.8, 1.0, 1.0])


# -- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("kw, pattern", [
    (dict(impact="quadratic"), r"impact.*'quadratic'"),
    (dict(max_rounds=0), r"max_rounds.*got 0"),
    (dict(max_rounds=10**6), r"max_rounds.*got 1000000"),
    (dict(max_rounds=2.5), r"max_rounds.*2\.5"),
    (dict(shock=-1.5), r"shock\[X\].*-1\.5"),
    (dict(shock=float("nan")), r"shock\[X\].*nan"),
    (dict(shock={"Y": -0.1}), r"shock.*'Y'"),
    (dict(close_factor=0.0), r"close_factor.*0\.0"),
    (dict(close_factor=1.5), r"close_factor.*1\.5"),
    (dict(insurance_fund=-1.0), r"insurance_fund.*-1\.0"),
])
def test_bad_cascade_inputs(kw, pattern):
    m, b = three_accounts()
    args = dict(shock=-0.05)
    args.update(kw)
    with pytest.raises(MarginInputError, match=pattern) as info:
        cascade(b, m, **args)
    assert isinstance(info.value, ValueError)


def test_bad_cascade_book():
    m, b = three_accounts()
    with pytest.raises(MarginInputError, match=r"book must be an Account or a Book, got str"):
        cascade("book", m, shock=-0.05)
    # An Account is a one-row book: 0.8 x 95 = 76 < 77, liquidated in round 1.
    one = cascade(Account([1.0], cash=-77.0), m, shock=-0.05)
    assert one.n_liquidated == 1 and one.first_round.tolist() == [1]
    with pytest.raises(MarginInputError, match=r"book.*got 2 columns"):
        cascade(Book(holdings=np.ones((1, 2))), m, shock=-0.05)


def test_bad_impact_model_in_price_impact(m_eth):
    with pytest.raises(MarginInputError, match=r"impact.*'quadratic'"):
        price_impact(m_eth, np.array([2_000.0]), np.array([1.0]), "quadratic")
