"""Margin brackets (tiers) and init weights: published venue cases, arithmetic written out.

Sources: Binance USDⓈ-M FAQ "How to calculate liquidation price" (maintenance amount ``cum``,
BTCUSDT brackets) and Binance's multi-position calculation example as used in
``freqtrade/freqtrade: tests/exchange/test_binance.py``; Hyperliquid docs "Margin tiers"
(BTC: 40x up to 150M of notional, 20x above); Mango v4 health overview (init 0.8 / 1.2).
See ``shared/design/domain.md`` sections 2.1, 4, 5.
"""
from __future__ import annotations

import numpy as np
import pytest

from widgets.engine import (Account, Book, MarginInputError, Market, liquidation_price,
                            margin_report)

# Binance BTCUSDT brackets (historical table, domain.md 2.1): floors and maintenance rates;
# initial rates are 1 / max leverage of each bracket (125x, 100x, 50x, 20x, 10x, 5x, 4x, 3x,
# 2x, 1x).
BTCUSDT = {
    "floor": [0, 50_000, 250_000, 1_000_000, 10_000_000, 20_000_000, 50_000_000, 100_000_000,
              200_000_000, 300_000_000],
    "maintenance": [0.004, 0.005, 0.01, 0.025, 0.05, 0.10, 0.125, 0.15, 0.25, 0.50],
    "initial": [0.008, 0.01, 0.02, 0.05, 0.10, 0.20, 0.25, 1 / 3, 0.50, 1.0],
}
# Binance ETHUSDT brackets of the same period: the recursion gives the example's cum 135,365 at
# the 10 % bracket (checked below).
ETHUSDT = {
    "floor": [0, 10_000, 100_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000,
              20_000_000, 50_000_000],
    "maintenance": [0.005, 0.0065, 0.01, 0.02, 0.05, 0.10, 0.125, 0.15, 0.25, 0.50],
    "initial": [0.01, 0.0133, 0.02, 0.04, 0.10, 0.20, 0.25, 1 / 3, 0.50, 1.0],
}
# Hyperliquid BTC (mainnet): 40x up to 150M -> maintenance 1/(2 x 40) = 1.25 %, initial 2.5 %;
# 20x above -> maintenance 2.5 %, initial 5 %.
HL_BTC = {"floor": [0, 150_000_000], "maintenance": [0.0125, 0.025], "initial": [0.025, 0.05]}


def binance(price=50_000.0):
    return Market(["BTC"], [price], brackets={"BTC": BTCUSDT})


# --------------------------------------------------------------------------------------------
# Maintenance amounts and requirements
# --------------------------------------------------------------------------------------------
def test_binance_cum_derived_by_the_published_recursion():
    # cum_n = floor_n x (MMR_n - MMR_{n-1}) + cum_{n-1}:
    # 50,000 x 0.1 % = 50; 250,000 x 0.5 % + 50 = 1,300; 1,000,000 x 1.5 % + 1,300 = 16,300;
    # 10M x 2.5 % + 16,300 = 266,300; 20M x 5 % + 266,300 = 1,266,300; 50M x 2.5 % + ... =
    # 2,516,300; 100M x 2.5 % -> 5,016,300; 200M x 10 % -> 25,016,300; 300M x 25 % -> 100,016,300
    amounts = binance().bracket_table("BTC")["amount"]
    np.testing.assert_allclose(amounts, [0, 50, 1_300, 16_300, 266_300, 1_266_300, 2_516_300,
                                         5_016_300, 25_016_300, 100_016_300], rtol=1e-12)


def test_binance_faq_264k_position():
    # FAQ: a 264,000 USDT position is in the 250,000-1,000,000 bracket: MMR 1 %, cum 1,300.
    # MM = 264,000 x 1 % - 1,300 = 1,340.
    m = binance()
    assert m.maintenance_requirement([264_000.0])[0] == pytest.approx(1_340.0, abs=1e-9)
    # initial: 264,000 / 50 = 5,280
    assert m.initial_requirement([264_000.0])[0] == pytest.approx(5_280.0, abs=1e-9)


def test_requirement_is_continuous_at_every_floor():
    m = binance()
    floors = np.array(BTCUSDT["floor"][1:], dtype=float)
    below = m.maintenance_requirement(np.nextafter(floors, 0)[:, None])[:, 0]
    at = m.maintenance_requirement(floors[:, None])[:, 0]
    # at 50,000: 0.4 % x 50,000 = 200 = 0.5 % x 50,000 - 50; at 250,000: 1,250 - 50 = 1,200
    assert at[0] == pytest.approx(200.0) and at[1] == pytest.approx(1_200.0)
    np.testing.assert_allclose(below, at, rtol=1e-12)


def test_bracket_two_margin_ratio():
    # Long 2 BTC at 50,000 (notional 100,000, bracket 50,000-250,000: 0.5 %, cum 50), wallet
    # 4,500, mark = entry: MM = 100,000 x 0.5 % - 50 = 450; margin ratio 450 / 4,500 = 0.1.
    # A single 0.5 % rate would say 500 / 4,500 = 0.111.
    acct = Account([0.0], perps=[2.0], entry_prices=[50_000.0], cash=4_500.0)
    r = margin_report(acct, binance())
    assert r.maintenance_requirement == pytest.approx(450.0)
    assert r.margin_ratio == pytest.approx(0.1)
    single = margin_report(acct, Market(["BTC"], [50_000.0], maintenance_margin=0.005,
                                        initial_margin=0.01))
    assert single.margin_ratio == pytest.approx(500 / 4_500)


def test_hyperliquid_tier_deduction():
    # maintenance_deduction(1) = 150M x (2.5 % - 1.25 %) = 1,875,000.
    # A 200M position: 200M x 2.5 % - 1,875,000 = 3,125,000 (= 150M x 1.25 % + 50M x 2.5 %).
    m = Market(["BTC"], [100_000.0], brackets={"BTC": HL_BTC})
    assert m.bracket_table("BTC")["amount"] == pytest.approx((0.0, 1_875_000.0))
    assert m.maintenance_requirement([200e6])[0] == pytest.approx(3_125_000.0)
    assert m.maintenance_requirement([100e6])[0] == pytest.approx(1_250_000.0)  # 100M x 1.25 %
    # initial at 200M: 20x -> 10,000,000
    assert m.initial_requirement([200e6])[0] == pytest.approx(10_000_000.0)


def test_isolated_bucket_and_breakdown_use_the_bracket():
    # Isolated long 2,000 BTC at 100,000 (200M) with 20M posted: bucket MM = 3,125,000.
    m = Market(["BTC", "USDC"], [100_000.0, 1.0], brackets={"BTC": HL_BTC})
    acct = Account([0, 0], perps=[2_000, 0], entry_prices=[100_000, 0], mode="isolated",
                   isolated_margin=[20e6, 0])
    r = margin_report(acct, m)
    assert r.bucket_requirement[0] == pytest.approx(3_125_000.0)
    assert r.bucket_health[0] == pytest.approx(20e6 - 3_125_000.0)
    assert r.breakdown["maintenance"][0] == pytest.approx(3_125_000.0)
    cross = Account([0, 0], perps=[2_000, 0], entry_prices=[100_000, 0], cash=20e6)
    rc = margin_report(cross, m)
    assert rc.maintenance_requirement == pytest.approx(3_125_000.0)
    assert rc.initial_requirement == pytest.approx(10_000_000.0)


def test_book_rows_in_different_brackets():
    # Three cross accounts, 0.5 / 3 / 6 BTC at 100,000: notional 50k (bracket 2, 0.5 %,
    # cum 50 -> 200), 300k (bracket 3, 1 %, cum 1,300 -> 1,700), 600k (-> 4,700).
    m = binance(100_000.0)
    book = Book(holdings=np.zeros((3, 1)), perps=[[0.5], [3.0], [6.0]],
                entry_prices=[[100_000.0]] * 3, cash=[1e5] * 3)
    r = margin_report(book, m)
    np.testing.assert_allclose(r.maintenance_requirement, [200.0, 1_700.0, 4_700.0])
    # A scenario row at 10,000: notionals 5k / 30k / 60k -> 20 / 120 / 250.
    rs = margin_report(book, m, prices=[[100_000.0], [10_000.0]])
    np.testing.assert_allclose(rs.maintenance_requirement[1], [20.0, 120.0, 250.0])


# --------------------------------------------------------------------------------------------
# Liquidation prices through brackets
# --------------------------------------------------------------------------------------------
def test_binance_multi_position_example_cross_and_isolated():
    # Binance's calculation example (freqtrade test data): wallet 1,535,443.01; long 109.488
    # BTC at 32,481.98 (mark 31,967.27, bracket 2.5 % / cum 16,300) and long 3,683.979 ETH at
    # 1,456.84 (mark 1,335.18, bracket 10 % / cum 135,365).
    m = Market(["BTC", "ETH"], [31_967.27, 1_335.18],
               brackets={"BTC": BTCUSDT, "ETH": ETHUSDT})
    assert m.bracket_table("ETH")["amount"][5] == pytest.approx(135_365.0)
    WB = 1_535_443.01
    cross = Account([0, 0], perps=[109.488, 3_683.979], entry_prices=[32_481.98, 1_456.84],
                    cash=WB)
    # ETH cross: LP = (WB - TMM1 + UPNL1 + cum - Pos EP) / (Pos MMR - Pos) with TMM1 = MM_BTC =
    # 109.488 x 31,967.27 x 2.5 % - 16,300 = 71,200.81, UPNL1 = 109.488 x (31,967.27 -
    # 32,481.98) = -56,354.57: (1,535,443.01 - 71,200.81 - 56,354.57 + 135,365 - 5,366,970.97)
    # / (368.3979 - 3,683.979) = 1,153.26
    assert round(liquidation_price(cross, m, "ETH"), 2) == 1_153.26
    assert round(liquidation_price(cross, m, "BTC"), 2) == 26_316.89
    iso_eth = Account([0, 0], perps=[0, 3_683.979], entry_prices=[0, 1_456.84],
                      mode="isolated", isolated_margin=[0, WB])
    iso_btc = Account([0, 0], perps=[109.488, 0], entry_prices=[32_481.98, 0],
                      mode="isolated", isolated_margin=[WB, 0])
    # ETH isolated: (1,535,443.01 + 135,365 - 5,366,970.97) / (-3,315.5811) = 1,114.78
    assert round(liquidation_price(iso_eth, m, "ETH"), 2) == 1_114.78
    assert round(liquidation_price(iso_btc, m, "BTC"), 2) == 18_778.73
    # Margin ratio (derived from the same data): 427,713.32 / 1,030,895.56 = 41.49 %
    r = margin_report(cross, m)
    assert r.maintenance_requirement == pytest.approx(427_713.32, abs=0.005)
    assert round(r.margin_ratio * 100, 2) == 41.49


def test_binance_isolated_formula_in_bracket_two():
    # Isolated long 2 BTC at 50,000, WB 10,000. Bracket of the answer: 0.5 %, cum 50:
    # LP = (WB + cum - Pos EP) / (Pos MMR - Pos) = (10,000 + 50 - 100,000) / (0.01 - 2)
    #    = 45,201.005...; its notional 90,402 is inside 50,000-250,000.
    acct = Account([0.0], perps=[2.0], entry_prices=[50_000.0], mode="isolated",
                   isolated_margin=[10_000.0])
    lp = liquidation_price(acct, binance(), "BTC")
    assert lp == pytest.approx((10_000 + 50 - 100_000) / (2 * 0.005 - 2), rel=1e-12)


def test_hyperliquid_liquidation_price_lands_in_either_tier():
    m = Market(["BTC"], [100_000.0], brackets={"BTC": HL_BTC})
    # 2,000 BTC long at 100,000 with 20M: tier 2 applies while 2,000 x >= 150M (x >= 75,000):
    # health = 20M + 2,000 (x - 100,000) - (50 x - 1,875,000) = 1,950 x - 178,125,000
    # -> x = 91,346.15 (>= 75,000, so tier 2 is right).
    a = Account([0.0], perps=[2_000.0], entry_prices=[100_000.0], mode="isolated",
                isolated_margin=[20e6])
    assert round(liquidation_price(a, m, "BTC"), 2) == round(178_125_000 / 1_950, 2)
    # With 60M posted the tier-2 line gives 138,125,000 / 1,950 = 70,833 < 75,000 (outside
    # tier 2); tier 1: 60M - 200M + 2,000 x - 25 x = 0 -> x = 140M / 1,975 = 70,886.08.
    b = a.replace(isolated_margin=[60e6])
    assert round(liquidation_price(b, m, "BTC"), 2) == round(140e6 / 1_975, 2)


# --------------------------------------------------------------------------------------------
# Init weights
# --------------------------------------------------------------------------------------------
def test_mango_init_health_refuses_what_maintenance_allows():
    # 1 BTC at 100,000 against 85,000 USDC of debt. Maintenance (0.9): 90,000 - 85,000 =
    # +5,000. Init (0.8): 80,000 - 85,000 = -5,000.
    r = margin_report(Account([1, 0, 0, 0], cash=-85_000.0), Market.example())
    assert r.pool_health == pytest.approx(5_000.0)
    assert r.initial_health == pytest.approx(-5_000.0)


def test_init_liability_weight():
    # 10 ETH borrowed at 4,000 against 60,000 USDC: maintenance 60,000 - 44,000 = 16,000;
    # init 60,000 - 48,000 = 12,000.
    r = margin_report(Account([0, -10, 0, 0], cash=60_000.0), Market.example())
    assert r.pool_health == pytest.approx(16_000.0)
    assert r.initial_health == pytest.approx(12_000.0)


def test_init_weights_default_to_maintenance_and_follow_replace():
    m = Market(["ETH", "USDC"], [2_000.0, 1.0], asset_weight=[0.8, 1.0])
    assert m.init_asset_weight.tolist() == [0.8, 1.0]
    assert m.replace(asset_weight=[0.7, 1.0]).init_asset_weight.tolist() == [0.7, 1.0]
    given = m.replace(init_asset_weight=[0.6, 1.0])
    assert given.replace(asset_weight=[0.7, 1.0]).init_asset_weight.tolist() == [0.6, 1.0]


# --------------------------------------------------------------------------------------------
# Bad tables are refused by name
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("table, pattern", [
    ({"floor": [0, 250_000, 50_000], "maintenance": [0.004, 0.005, 0.01],
      "initial": [0.01, 0.01, 0.02]},
     r"brackets\[BTC\]\.floor\[2\] must be > floor\[1\] \(250000\.0\), got 50000\.0"),
    ({"floor": [0, 50_000], "maintenance": [0.004, -0.005], "initial": [0.01, 0.01]},
     r"brackets\[BTC\]\.maintenance\[1\] must be in \[0\.0, 1\.0\], got -0\.005"),
    ({"floor": [0, 50_000], "maintenance": [0.004, 0.005], "initial": [0.01, 0.004]},
     r"brackets\[BTC\]\.initial\[1\] must be in \[maintenance\[1\] \(0\.005\), 1\.0\], "
     r"got 0\.004"),
    ({"floor": [0, 50_000], "maintenance": [0.004, 0.005], "initial": [0.01, 0.01],
      "amount": [0, 60]},
     r"brackets\[BTC\]\.amount\[1\] must be 50\.0.* got 60\.0"),
    ({"floor": [10, 50_000], "maintenance": [0.004, 0.005], "initial": [0.01, 0.01]},
     r"brackets\[BTC\]\.floor\[0\] must be 0"),
    ({"floor": [0, 50_000], "maintenance": [0.005, 0.004], "initial": [0.01, 0.01]},
     r"brackets\[BTC\]\.maintenance\[1\] must be >= maintenance\[0\] \(0\.005\), got 0\.004"),
    ({"floor": [0, 50_000], "maintenance": [0.004], "initial": [0.01, 0.01]},
     r"brackets\[BTC\]\.maintenance must have 2 entries"),
    ({"floor": [0], "maintenance": [0.004]},
     r"brackets\[BTC\] must have keys floor, maintenance, initial"),
])
def test_bad_tables_are_refused_by_name(table, pattern):
    with pytest.raises(MarginInputError, match=pattern):
        Market(["BTC"], [50_000.0], brackets={"BTC": table})


def test_given_amounts_that_keep_continuity_are_accepted():
    table = dict(BTCUSDT, amount=[0, 50, 1_300, 16_300, 266_300, 1_266_300, 2_516_300,
                                  5_016_300, 25_016_300, 100_016_300])
    assert Market(["BTC"], [1.0], brackets={"BTC": table}).has_brackets


def test_bad_bracket_asset_and_init_weights_are_refused():
    with pytest.raises(MarginInputError, match=r"brackets keys must be one of \['BTC'\], got 'X'"):
        Market(["BTC"], [1.0], brackets={"X": HL_BTC})
    with pytest.raises(MarginInputError,
                       match=r"init_asset_weight\[BTC\] must be <= asset_weight \(0\.9\), got 0\.95"):
        Market(["BTC"], [1.0], asset_weight=0.9, init_asset_weight=0.95)
    with pytest.raises(MarginInputError, match=r"init_liability_weight\[BTC\] must be >= "
                                               r"liability_weight \(1\.1\), got 1\.05"):
        Market(["BTC"], [1.0], liability_weight=1.1, init_liability_weight=1.05)
