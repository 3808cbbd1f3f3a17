"""Liquidation prices, free collateral and the largest accepted actions (issue 11, 2-3).

Published cases: dYdX v4 margin docs (isolated short 3 ETH: 3,174.60; cross with a STRK long:
3,380.95), Binance's isolated formula, Hyperliquid's liquidation-price formula; arithmetic in
each test.
"""
from __future__ import annotations

import numpy as np
import pytest

from widgets.engine import (Account, Book, MarginInputError, Market, free_collateral,
                            liquidation_price, margin_report, max_position, max_withdrawal)


def dydx():
    return Market(["ETH", "STRK", "USDC"], [3_000.0, 1.75, 1.0],
                  asset_weight=[0.9, 0.9, 1.0], liability_weight=[1.1, 1.1, 1.0],
                  maintenance_margin=[0.05, 0.10, 0.0], initial_margin=[0.10, 0.20, 0.0])


def health_at(acct, market, asset, x, bucket=False):
    P = market.prices.copy()
    P[market.index(asset)] = x
    r = margin_report(acct, market, P)
    return r.bucket_health[market.index(asset)] if bucket else r.pool_health


def test_dydx_isolated_example():
    # p' = (e - s p) / (|s| MMF - s) = (1,000 + 9,000) / (0.15 + 3) = 3,174.60
    m = dydx()
    acct = Account([0, 0, 0], perps=[-3, 0, 0], entry_prices=[3_000, 0, 0], mode="isolated",
                   isolated_margin=[1_000, 0, 0])
    lp = liquidation_price(acct, m, "ETH")
    assert round(lp, 2) == 3_174.60
    # equity there = 3 x 3,174.60 x 5 % = 476.19: health 0, negative just above.
    assert health_at(acct, m, "ETH", lp, bucket=True) == pytest.approx(0.0, abs=1e-8)
    assert health_at(acct, m, "ETH", lp + 0.01, bucket=True) < 0 < health_at(
        acct, m, "ETH", lp - 0.01, bucket=True)


def test_dydx_cross_example():
    # p' = (e - s p - MMR_o) / (|s| MMF - s) = (1,000 + 4,500 - 175) / 1.575 = 3,380.95
    m = dydx()
    acct = Account([0, 0, 0], perps=[-1.5, 1_000, 0], entry_prices=[3_000, 1.75, 0],
                   cash=1_000)
    lp = liquidation_price(acct, m, "ETH")
    assert round(lp, 2) == 3_380.95
    assert health_at(acct, m, "ETH", lp) == pytest.approx(0.0, abs=1e-8)
    assert health_at(acct, m, "ETH", lp + 0.01) < 0 < health_at(acct, m, "ETH", lp - 0.01)


def test_binance_isolated_formula_single_rate():
    # Binance FAQ: wallet 500, long 0.02 BTC at 50,000, MMR 0.4 %, cum 0:
    # LP = (500 - 1,000) / (0.02 x 0.004 - 0.02) = 25,100.40
    m = Market(["BTC"], [50_000.0], maintenance_margin=0.004, initial_margin=0.05)
    iso = Account([0.0], perps=[0.02], entry_prices=[50_000.0], mode="isolated",
                  isolated_margin=[500.0])
    cross = Account([0.0], perps=[0.02], entry_prices=[50_000.0], cash=500.0)
    assert round(liquidation_price(iso, m, "BTC"), 2) == 25_100.40
    assert round(liquidation_price(cross, m, "BTC"), 2) == 25_100.40


def test_hyperliquid_formula():
    # liq = price - side x margin_available / size / (1 - l x side), l = 1 / maint leverage:
    # isolated long 1 BTC at 100,000, 10,000 posted, MMF 1.25 %: margin_available = 10,000 -
    # 1,250 = 8,750; liq = 100,000 - 8,750 / (1 - 0.0125) = 91,139.24
    m = Market(["BTC"], [100_000.0], maintenance_margin=0.0125, initial_margin=0.025)
    a = Account([0.0], perps=[1.0], entry_prices=[100_000.0], mode="isolated",
                isolated_margin=[10_000.0])
    assert round(liquidation_price(a, m, "BTC"), 2) == 91_139.24


def test_spot_collateral_moves_with_the_price():
    # Aave-style: 1 ETH (LT 0.8) against 2,250 of debt: 0.8 x = 2,250 -> 2,812.50.
    m = Market(["ETH", "USDC"], [3_000.0, 1.0], asset_weight=[0.8, 1.0],
               liability_weight=[1.0, 1.0])
    assert liquidation_price(Account([1, 0], cash=-2_250), m, "ETH") == pytest.approx(2_812.5)
    # Borrowed ETH (weight 1.25) against 10,000 USDC: 10,000 - 1.25 x 2 x = 0 -> 4,000.
    m2 = m.replace(liability_weight=[1.25, 1.0])
    assert liquidation_price(Account([-2, 0], cash=10_000), m2, "ETH") == pytest.approx(4_000.0)


def test_book_one_price_per_account_nan_where_none():
    m = dydx()
    book = Book(holdings=[[0, 0, 0], [0, 0, 0], [0, 0, 0], [1, 0, 0]],
                perps=[[-3, 0, 0], [-1.5, 1_000, 0], [0, 0, 0], [0, 0, 0]],
                entry_prices=[[3_000, 0, 0], [3_000, 1.75, 0], [0, 0, 0], [0, 0, 0]],
                mode=["isolated", "cross", "cross", "cross"],
                isolated_margin=[[1_000, 0, 0], [0] * 3, [0] * 3, [0] * 3],
                cash=[0, 1_000, 5_000, 100])
    lp = liquidation_price(book, m, "ETH")
    assert lp.shape == (4,)
    assert round(lp[0], 2) == 3_174.60 and round(lp[1], 2) == 3_380.95
    assert np.isnan(lp[2])       # no ETH exposure
    assert np.isnan(lp[3])       # ETH fully paid for, no debt: never liquidatable


def test_liquidation_price_refuses_scenario_prices():
    m = dydx()
    with pytest.raises(MarginInputError, match=r"prices must have shape \(3,\)"):
        liquidation_price(Account([0, 0, 0]), m, "ETH", prices=[[3_000, 1.75, 1]] * 2)
    with pytest.raises(MarginInputError, match="asset must be one of"):
        liquidation_price(Account([0, 0, 0]), m, "BTC")


# --------------------------------------------------------------------------------------------
# Free collateral and the largest actions
# --------------------------------------------------------------------------------------------
def test_free_collateral_dydx():
    # dYdX: free collateral = equity - IMR. 1,000 USDC, short 1.5 ETH (IMF 10 %) and long 1,000
    # STRK (IMF 20 %) at entry: 1,000 - (450 + 350) = 200.
    acct = Account([0, 0, 0], perps=[-1.5, 1_000, 0], entry_prices=[3_000, 1.75, 0],
                   cash=1_000)
    assert free_collateral(acct, dydx()) == pytest.approx(200.0)
    w = max_withdrawal(acct, dydx())
    assert w.amount == pytest.approx(200.0) and w.allowed and w.reason == ""


def test_max_withdrawal_refused_with_reason():
    m = Market.example()
    w = max_withdrawal(Account([1, 0, 0, 0], cash=-85_000.0), m)
    assert w.amount == 0.0 and not w.allowed
    assert "init health is -5,000.00" in w.reason
    ok = max_withdrawal(Account([1, 0, 0, 0], cash=-70_000.0), m)   # 80,000 - 70,000
    assert ok.amount == pytest.approx(10_000.0)
    no_borrow = max_withdrawal(Account([1, 0, 0, 0], cash=-70_000.0), m, allow_borrow=False)
    assert no_borrow.amount == 0.0 and "does not lend" in no_borrow.reason
    # Withdrawing exactly the amount leaves init health at 0.
    after = margin_report(Account([1, 0, 0, 0], cash=-80_000.0), m)
    assert after.initial_health == pytest.approx(0.0)


def test_max_position_with_brackets():
    # Binance BTC first brackets, initial 0.8 % / 1 % / 2 %, price 50,000, 1,000 USDC:
    # bracket 0: 1,000 / 0.8 % = 125,000 but the bracket ends at 50,000;
    # bracket 1: 1,000 / 1 % = 100,000 (inside 50,000-250,000); bracket 2: 50,000 < 250,000.
    # Largest notional 100,000 -> 2 BTC.
    b = {"BTC": {"floor": [0, 50_000, 250_000], "maintenance": [0.004, 0.005, 0.01],
                 "initial": [0.008, 0.01, 0.02]}}
    m = Market(["BTC"], [50_000.0], brackets=b)
    lim = max_position(Account([0.0], cash=1_000.0), m, "BTC", "long")
    assert lim.amount == pytest.approx(2.0)
    # After opening it, init health is 0 (the whole 1,000 is initial margin).
    full = Account([0.0], perps=[2.0], entry_prices=[50_000.0], cash=1_000.0)
    assert margin_report(full, m).initial_health == pytest.approx(0.0, abs=1e-9)
    assert max_position(full, m, "BTC", "long").amount == pytest.approx(0.0, abs=1e-12)
    # The short side: close 2 BTC (reduce-only), then open 2 BTC short.
    assert max_position(full, m, "BTC", "short").amount == pytest.approx(4.0)


def test_max_position_refused_and_isolated():
    m = Market(["BTC", "USDC"], [100_000.0, 1.0], maintenance_margin=[0.01, 0.0],
               initial_margin=[0.02, 0.0], asset_weight=[0.8, 1.0],
               init_asset_weight=[0.5, 1.0])
    broke = Account([1, 0], cash=-60_000.0)            # init: 50,000 - 60,000 = -10,000
    lim = max_position(broke, m, "BTC", +1)
    assert lim.amount == 0.0 and "init health is -10,000.00" in lim.reason
    # Isolated: bucket equity 500 + pool's free 1,000 -> 1,500 / 2 % = 75,000 -> 0.75 BTC in
    # total, 0.25 more than the 0.5 held... at entry = mark, bucket equity = 500.
    iso = Account([0, 0], perps=[0.5, 0], entry_prices=[100_000, 0], mode="isolated",
                  isolated_margin=[500, 0], cash=1_000.0)
    assert max_position(iso, m, "BTC", "long").amount == pytest.approx(0.25)
    with pytest.raises(MarginInputError, match="side must be"):
        max_position(iso, m, "BTC", "up")


def test_limits_vectorized_over_a_book():
    m = Market.example()
    book = Book.random(m, 500, seed=11)
    fc = free_collateral(book, m)
    w = max_withdrawal(book, m)
    np.testing.assert_allclose(w.amount, np.maximum(fc, 0.0))
    assert (w.reason[w.allowed] == "").all() and all(w.reason[~w.allowed] != "")
    lim = max_position(book, m, "ETH", "long")
    assert lim.amount.shape == (500,) and (lim.amount >= 0).all()
