"""A book's simulated P&L (widgets.engine.distribution): known answers worked by hand."""
from __future__ import annotations

import numpy as np
import pytest

from widgets.engine import (PNL_LEVELS, Account, MarginInputError, Market, correlated_returns,
                            cross_vs_isolated, diversified_account, isolated_twin,
                            liquidation_probability, margin_report, pnl_histogram,
                            pnl_quantiles, stress_correlation)


# -- quantiles ------------------------------------------------------------------------------
def test_quantiles_by_hand_type_7():
    # sorted x = -300, -100, 0, 100, 300 (n = 5); h = (n - 1) p
    # 1 %: h = 0.04 -> -300 + 0.04 * 200 = -292; 5 %: h = 0.2 -> -260; 50 %: h = 2 -> x_3 = 0
    assert pnl_quantiles([300.0, -100.0, 0.0, -300.0, 100.0]) == {
        "1%": -292.0, "5%": -260.0, "50%": 0.0}
    # [1, 2, 3, 4]: 25 %: h = 0.75 -> 1.75; 100 %: the largest; 0 %: the smallest
    assert pnl_quantiles([4, 1, 3, 2], levels=(0.0, 0.25, 1.0)) == {
        "0%": 1.0, "25%": 1.75, "100%": 4.0}
    assert PNL_LEVELS == (0.01, 0.05, 0.5)
    assert pnl_quantiles([7.5]) == {"1%": 7.5, "5%": 7.5, "50%": 7.5}


@pytest.mark.parametrize("pnl, levels, text", [
    ([], PNL_LEVELS, "at least one value"),
    ([1.0, np.nan], PNL_LEVELS, "must be finite"),
    ([1.0], (1.5,), "levels"),
    ("abc", PNL_LEVELS, "must be numbers"),
])
def test_quantiles_refuse_bad_input(pnl, levels, text):
    with pytest.raises(MarginInputError, match=text):
        pnl_quantiles(pnl, levels)


# -- histogram ------------------------------------------------------------------------------
def test_histogram_shares_and_edges_by_hand():
    h = pnl_histogram([-1.0, -0.5, 0.0, 0.5, 1.0], -1.0, 1.0, 4)
    # bins [-1, -0.5) [-0.5, 0) [0, 0.5) [0.5, 1]: one value each, two in the last (closed)
    assert h.edges.tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert h.shares.tolist() == [0.2, 0.2, 0.2, 0.4]
    assert h.centres.tolist() == [-0.75, -0.25, 0.25, 0.75]
    # values outside the range count in no bin: 2 of 4 in [0, 0.5), the shares sum to 0.5
    out = pnl_histogram([-2.0, 0.1, 0.2, 5.0], 0.0, 1.0, 2)
    assert out.shares.tolist() == [0.5, 0.0] and out.edges.tolist() == [0.0, 0.5, 1.0]


@pytest.mark.parametrize("args, text", [
    (([1.0], 1.0, 1.0, 4), "lo < hi"),
    (([1.0], 0.0, np.inf, 4), "finite"),
    (([1.0], 0.0, 1.0, 0), "n_bins"),
    (([1.0], 0.0, 1.0, 2.5), "whole number"),
    (([], 0.0, 1.0, 4), "at least one value"),
])
def test_histogram_refuses_bad_input(args, text):
    with pytest.raises(MarginInputError, match=text):
        pnl_histogram(*args)


# -- cross vs isolated ------------------------------------------------------------------------
def test_one_perp_by_hand():
    # 10 ETH perp at $2,000 on $2,000 of cash, maintenance 5 %. After a return r the health is
    # 2,000 + 10 * 2,000 r - 0.05 * 10 * 2,000 (1 + r) = 1,000 + 19,000 r, negative for
    # r < -1/19 (-5.26 %). One perp: the isolated bucket gets all the cash, so both modes agree.
    m = Market(["ETH"], [2_000.0], maintenance_margin=0.05, initial_margin=0.1,
               volatility=0.05)
    acct = Account.from_positions(m, perps={"ETH": 10.0}, cash=2_000.0)
    risk = cross_vs_isolated(acct, m, 20_000, horizon_days=2.0, seed=3)
    r = correlated_returns(m, 20_000, 2.0, 3)[:, 0]
    assert risk.equity_now == 2_000.0 and risk.health_now == 1_000.0
    np.testing.assert_allclose(risk.pnl, 20_000.0 * r, rtol=1e-12, atol=1e-9)
    expected = float(np.mean(r < -1.0 / 19.0))
    assert 0.1 < expected < 0.5
    assert risk.probability_cross == pytest.approx(expected, abs=1 / 20_000)
    assert risk.probability_isolated == risk.probability_cross
    assert risk.probabilities == (risk.probability_cross, risk.probability_isolated)


def test_diversified_book_matches_liquidation_probability_with_one_seed():
    m = Market.example()
    acct = diversified_account(m)
    # health now: 10,000 - (50,000 x (1.25 % + 2 % + 2.5 %)) = 10,000 - 2,875 = 7,125
    sim = m.replace(correlation=stress_correlation(m.correlation, 0.5))
    risk = cross_vs_isolated(acct, sim, 5_000, horizon_days=1.5, seed=11)
    assert (risk.equity_now, risk.health_now) == (10_000.0, 7_125.0)
    assert risk.probability_cross == liquidation_probability(acct, sim, 5_000, seed=11,
                                                             horizon_days=1.5)
    assert risk.probability_isolated == liquidation_probability(
        isolated_twin(acct, sim), sim, 5_000, seed=11, horizon_days=1.5)
    assert risk.probability_cross < risk.probability_isolated       # pooling is safer here
    prices = m.prices * (1 + correlated_returns(sim, 5_000, 1.5, 11))
    np.testing.assert_allclose(risk.pnl, margin_report(acct, sim, prices=prices).equity
                               - 10_000.0)
    assert risk.pnl.shape == (5_000,)


def test_same_seed_same_numbers_other_seed_other_draw():
    m = Market.example()
    a, b = (cross_vs_isolated(diversified_account(m), m, 2_000, seed=s) for s in (4, 4))
    np.testing.assert_array_equal(a.pnl, b.pnl)
    c = cross_vs_isolated(diversified_account(m), m, 2_000, seed=5)
    assert not np.array_equal(a.pnl, c.pnl)


@pytest.mark.parametrize("kwargs, text", [
    ({"account": "not an account"}, "must be an Account"),
    ({"n_scenarios": 0}, "n_scenarios"),
    ({"n_scenarios": 10**8}, "n_scenarios"),
    ({"horizon_days": np.nan}, "finite"),
])
def test_cross_vs_isolated_refuses_bad_input(kwargs, text):
    m = Market.example()
    args = {"account": diversified_account(m), "market": m, "n_scenarios": 100, **kwargs}
    with pytest.raises(MarginInputError, match=text):
        cross_vs_isolated(**args)


def test_isolated_account_is_refused():
    m = Market.example()
    iso = Account.from_positions(m, perps={"BTC": 1.0}, mode="isolated")
    with pytest.raises(MarginInputError, match="cross mode"):
        cross_vs_isolated(iso, m, 100)
