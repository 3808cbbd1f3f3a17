"""correlated_returns, stress_correlation and liquidation_probability."""
from __future__ import annotations

import numpy as np
import pytest

from widgets.engine import (
    Account,
    Book,
    MarginInputError,
    Market,
    correlated_returns,
    liquidation_probability,
    stress_correlation,
)

CORR = np.array([[1.0, 0.6, 0.3],
                 [0.6, 1.0, 0.5],
                 [0.3, 0.5, 1.0]])
VOL = np.array([0.02, 0.03, 0.05])


@pytest.fixture
def m3():
    return Market(["A", "B", "C"], [100.0, 10.0, 1.0], volatility=VOL, correlation=CORR)


# -- correlated_returns -----------------------------------------------------------------------

def test_shape_and_support(m3):
    r = correlated_returns(m3, 1_000, seed=0)
    assert r.shape == (1_000, 3)
    assert (r > -1).all() and np.isfinite(r).all()
    assert correlated_returns(m3, 1, seed=0).shape == (1, 3)


def test_seed_reproducible_and_distinct(m3):
    a = correlated_returns(m3, 500, seed=42)
    b = correlated_returns(m3, 500, seed=42)
    c = correlated_returns(m3, 500, seed=43)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    # a Generator can be passed too (default_rng accepts one)
    g = correlated_returns(m3, 500, seed=np.random.default_rng(42))
    np.testing.assert_array_equal(a, g)


def test_moments(m3):
    n = 200_000
    r = correlated_returns(m3, n, seed=1)
    lr = np.log1p(r)
    # sample correlation of log returns ~ target (standard error ~ (1 - rho^2) / sqrt(n) < 0.003)
    np.testing.assert_allclose(np.corrcoef(lr.T), CORR, atol=0.01)
    # log returns: sd = sigma, mean = -sigma^2 / 2 (drift correction)
    np.testing.assert_allclose(lr.std(0), VOL, rtol=0.01)
    np.testing.assert_allclose(lr.mean(0), -VOL ** 2 / 2, atol=4 * VOL.max() / np.sqrt(n))
    # simple returns have mean ~ 0: E[exp(sigma z - sigma^2 / 2)] = 1
    np.testing.assert_allclose(r.mean(0), 0.0, atol=4 * VOL.max() / np.sqrt(n))


def test_horizon_scaling(m3):
    # sd of log returns over h days = sigma * sqrt(h): 9 days -> 3x the daily sd
    n = 100_000
    one = np.log1p(correlated_returns(m3, n, horizon_days=1.0, seed=2)).std(0)
    nine = np.log1p(correlated_returns(m3, n, horizon_days=9.0, seed=2)).std(0)
    np.testing.assert_allclose(nine, 3 * VOL, rtol=0.01)
    np.testing.assert_allclose(nine / one, 3.0, rtol=1e-9)     # same draws, scaled exactly
    quarter = np.log1p(correlated_returns(m3, n, horizon_days=0.25, seed=2)).std(0)
    np.testing.assert_allclose(quarter, 0.5 * VOL, rtol=0.01)


def test_zero_volatility_asset_never_moves():
    m = Market(["A", "USD"], [1.0, 1.0], volatility=[0.05, 0.0])
    r = correlated_returns(m, 1_000, seed=0)
    assert (r[:, 1] == 0).all()
    assert r[:, 0].std() > 0


def test_perfect_correlation_semi_definite():
    # all-ones correlation is only semi-definite (Cholesky fails): both assets move together
    m = Market(["A", "B"], [1.0, 1.0], volatility=0.03, correlation=np.ones((2, 2)))
    r = correlated_returns(m, 2_000, seed=3)
    np.testing.assert_allclose(r[:, 0], r[:, 1], atol=1e-12)
    assert np.log1p(r[:, 0]).std() == pytest.approx(0.03, rel=0.05)


@pytest.mark.parametrize("kw, pattern", [
    (dict(n_scenarios=0), r"n_scenarios.*got 0"),
    (dict(n_scenarios=10**9), r"n_scenarios.*got 1000000000"),
    (dict(n_scenarios=10.5), r"n_scenarios.*10\.5"),
    (dict(n_scenarios=10, horizon_days=0.0), r"horizon_days.*got 0\.0"),
    (dict(n_scenarios=10, horizon_days=-1.0), r"horizon_days.*got -1\.0"),
    (dict(n_scenarios=10, horizon_days=4_000.0), r"horizon_days.*got 4000\.0"),
    (dict(n_scenarios=10, horizon_days=float("nan")), r"horizon_days.*nan"),
])
def test_bad_returns_inputs(m3, kw, pattern):
    with pytest.raises(MarginInputError, match=pattern) as info:
        correlated_returns(m3, seed=0, **kw)
    assert isinstance(info.value, ValueError)


# -- stress_correlation -----------------------------------------------------------------------

def test_stress_endpoints_and_midpoint():
    np.testing.assert_array_equal(stress_correlation(CORR, 0.0), CORR)
    np.testing.assert_array_equal(stress_correlation(CORR, 1.0), np.ones((3, 3)))
    # (1 - 0.5) * 0.2 + 0.5 * 1 = 0.6
    assert stress_correlation([[1, 0.2], [0.2, 1]], 0.5).tolist() == [[1.0, 0.6], [0.6, 1.0]]


@pytest.mark.parametrize("level", [0.0, 0.1, 0.33, 0.5, 0.9, 0.999, 1.0])
def test_stress_stays_a_valid_correlation(level):
    base = np.array([[1.0, -0.5, 0.2], [-0.5, 1.0, -0.4], [0.2, -0.4, 1.0]])
    s = stress_correlation(base, level)
    np.testing.assert_allclose(np.diag(s), 1.0)
    np.testing.assert_allclose(s, s.T)
    assert np.linalg.eigvalsh(s).min() > -1e-12
    # and it is accepted by Market / usable for scenarios
    m = Market(["A", "B", "C"], [1.0, 1.0, 1.0], correlation=s)
    assert correlated_returns(m, 10, seed=0).shape == (10, 3)


def test_stress_raises_correlation_monotonically():
    lv = np.linspace(0, 1, 6)
    off = [stress_correlation(CORR, x)[0, 2] for x in lv]
    assert off == sorted(off)
    # 0.3 + level * (1 - 0.3)
    np.testing.assert_allclose(off, 0.3 + lv * 0.7)


@pytest.mark.parametrize("corr, level, pattern", [
    (CORR, 1.5, r"level.*1\.5"),
    (CORR, -0.1, r"level.*-0\.1"),
    (CORR, float("nan"), r"level.*nan"),
    ([[1, .9, -.9], [.9, 1, .9], [-.9, .9, 1]], 0.5, r"correlation.*semi-definite.*-0\.8"),
    ([[1.0, 0.5], [0.1, 1.0]], 0.5, r"correlation.*symmetric.*0\.5.*0\.1"),
    ([[2.0, 0.0], [0.0, 1.0]], 0.5, r"correlation\[0, 0\].*2\.0"),
    ([[0.5, 0.0], [0.0, 1.0]], 0.5, r"correlation\[0, 0\].*must be 1.*0\.5"),
    (np.ones((2, 3)), 0.5, r"correlation.*square.*\(2, 3\)"),
    ([1.0, 0.5], 0.5, r"correlation.*\(2,\)"),
])
def test_bad_stress_inputs(corr, level, pattern):
    with pytest.raises(MarginInputError, match=pattern):
        stress_correlation(corr, level)


# -- liquidation_probability ------------------------------------------------------------------

@pytest.fixture
def m_eth():
    return Market(["ETH"], [2_000.0], asset_weight=0.8, volatility=0.05)


def test_probability_of_a_safe_account_is_zero(m_eth):
    # liquidated below 1,000 / 0.8 = 1,250: a 37.5 % fall, > 7 daily sd
    p = liquidation_probability(Account([1.0], cash=-1_000.0), m_eth, 10_000, seed=0)
    assert p == 0.0 and isinstance(p, float)


def test_probability_of_a_failed_account_is_one(m_eth):
    # already liquidatable: 0.8 * 2,000 = 1,600 < 3,000; needs a +87.5 % day to recover
    acct = Account([1.0], cash=-3_000.0)
    p = liquidation_probability(acct, m_eth, 10_000, seed=0)
    assert p == 1.0


def test_probability_reproducible_and_in_range(m_eth):
    # liquidated below 1,500 / 0.8 = 1,875: a 6.25 % fall, about 1.3 daily sd -> roughly 10 %
    acct = Account([1.0], cash=-1_500.0)
    p1 = liquidation_probability(acct, m_eth, 20_000, seed=5)
    p2 = liquidation_probability(acct, m_eth, 20_000, seed=5)
    p3 = liquidation_probability(acct, m_eth, 20_000, seed=6)
    assert p1 == p2
    assert 0.05 < p1 < 0.15 and 0.05 < p3 < 0.15
    assert p1 != p3
    # the exact fraction of scenarios below the liquidation price
    r = correlated_returns(m_eth, 20_000, seed=5)
    assert p1 == pytest.approx(np.mean(0.8 * 2_000 * (1 + r[:, 0]) < 1_500))
    # longer horizon, more risk
    assert liquidation_probability(acct, m_eth, 20_000, seed=5, horizon_days=10) > p1


def test_book_probabilities_match_single_accounts():
    mk = Market.example()
    b = Book.random(mk, 1_200, seed=4)
    # 1,200 accounts x 3,000 scenarios: evaluated in several chunks
    p = liquidation_probability(b, mk, 3_000, seed=9, horizon_days=5)
    assert p.shape == (1_200,)
    assert ((p >= 0) & (p <= 1)).all()
    assert 0 < p.max() and p.min() < 1
    for i in (0, 7, int(np.argmax(p)), 1_199):
        assert p[i] == liquidation_probability(b.account(i), mk, 3_000, seed=9, horizon_days=5)


def test_pooling_fails_less_often_than_isolation():
    # Same perps and the same total collateral: cross pools 200 of cash; isolated posts 100
    # to each bucket. Whenever the pool fails, (100 + pnl1 - mm1) + (100 + pnl2 - mm2) < 0,
    # so at least one bucket fails too: with common random numbers, P(cross) <= P(isolated).
    m = Market(["BTC", "ETH"], [100.0, 10.0], volatility=[0.04, 0.05],
               correlation=[[1.0, 0.5], [0.5, 1.0]], maintenance_margin=0.05)
    perps, entry = [10.0, 100.0], [100.0, 10.0]
    cross = Account([0.0, 0.0], perps=perps, entry_prices=entry, cash=200.0)
    iso = Account([0.0, 0.0], perps=perps, entry_prices=entry, mode="isolated",
                  isolated_margin=[100.0, 100.0])
    pc = liquidation_probability(cross, m, 20_000, seed=11)
    pi = liquidation_probability(iso, m, 20_000, seed=11)
    # cross fails when r1 + r2 < -0.105 (~9 %); isolated when either leg falls > 5.26 % (~20 %)
    assert 0.05 < pc < pi
    assert 0.15 < pi < 0.3
    book = Book.from_accounts([cross, iso])
    np.testing.assert_array_equal(liquidation_probability(book, m, 20_000, seed=11), [pc, pi])


@pytest.mark.parametrize("kw, pattern", [
    (dict(n_scenarios=0), r"n_scenarios.*got 0"),
    (dict(n_scenarios=10**9), r"n_scenarios.*got 1000000000"),
    (dict(horizon_days=0), r"horizon_days.*got 0\.0"),
])
def test_bad_probability_inputs(m_eth, kw, pattern):
    with pytest.raises(MarginInputError, match=pattern):
        liquidation_probability(Account([1.0], cash=-1_000.0), m_eth, seed=0, **kw)


def test_bad_probability_target(m_eth):
    with pytest.raises(MarginInputError, match=r"account_or_book.*list"):
        liquidation_probability([1.0], m_eth, 10, seed=0)
    with pytest.raises(MarginInputError, match=r"book.*got 2 columns"):
        liquidation_probability(Account([1.0, 1.0]), m_eth, 10, seed=0)


def test_stress_correlation_among_volatile_assets_only():
    m = Market.example()
    volatile = m.volatility >= 0.01                       # BTC, ETH, SOL; not USDC
    for level in (0.0, 0.3, 1.0):
        c = stress_correlation(m.correlation, level, among=volatile)
        assert np.linalg.eigvalsh(c).min() >= -1e-12       # still a possible correlation
        np.testing.assert_allclose(np.diag(c), 1.0)
        # USDC's correlations shrink toward 0 instead of jumping to 1: (1 - level) * 0 = 0.
        np.testing.assert_allclose(c[3, :3], 0.0)
    # BTC-ETH at level 0.5: 0.5 * 0.8 + 0.5 * 1 = 0.9
    assert stress_correlation(m.correlation, 0.5, among=volatile)[0, 1] == pytest.approx(0.9)
    with pytest.raises(MarginInputError, match=r"among must have shape \(4,\)"):
        stress_correlation(m.correlation, 0.5, among=[True, False])
