"""margin_report: published reference cases (domain.md section 10) and the report's semantics.

Every known answer carries its arithmetic. Liquidation prices are checked the way a venue would:
health is (about) zero at the published price and changes sign one cent either side of it.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from widgets.engine import Account, Book, MarginInputError, Market, margin_report

FIELDS = ("equity", "weighted_collateral", "weighted_liabilities", "perp_pnl",
          "maintenance_requirement", "initial_requirement", "pool_health", "initial_health",
          "health", "health_factor", "margin_ratio", "liquidatable")


def health_around(account, market, asset, price, tick=0.01, part=None):
    """Health one tick below and one tick above ``price`` of ``asset``, others at mark.

    ``part``: None for the account's health, or an asset name for that isolated bucket.
    """
    i = market.index(asset)
    rows = np.tile(market.prices, (2, 1))
    rows[:, i] = [price - tick, price + tick]
    r = margin_report(account, market, prices=rows)
    if part is None:
        return r.health
    return r.bucket_health[:, market.index(part)]


def flips_at(account, market, asset, price, part=None):
    """True when health is < 0 one cent on one side of ``price`` and > 0 on the other."""
    lo, hi = health_around(account, market, asset, price, part=part)
    return lo * hi < 0


# ==========================================================================================
# RC-3 Aave health factor
# ==========================================================================================

def test_rc3_aave_health_factor():
    # $10,000 of ETH (5 ETH at 2,000), LT 0.8, $6,000 debt:
    # HF = 10,000 * 0.8 / 6,000 = 1.3333; health = 8,000 - 6,000 = 2,000; MR = 6,000 / 8,000
    m = Market(["ETH"], [2_000.0], asset_weight=0.8)
    r = margin_report(Account([5.0], cash=-6_000.0), m)
    assert r.health_factor == pytest.approx(10_000 * 0.8 / 6_000)
    assert round(r.health_factor, 4) == 1.3333
    assert r.weighted_collateral == pytest.approx(8_000.0)
    assert r.weighted_liabilities == pytest.approx(6_000.0)
    assert r.health == pytest.approx(2_000.0)
    assert r.margin_ratio == pytest.approx(0.75)
    assert r.equity == pytest.approx(10_000 - 6_000)
    assert r.liquidatable is False


def test_rc3_learner_liquidation_price():
    # 1 ETH, LT 0.8, debt 2,250: liquidation price = 2,250 / 0.8 = 2,812.50
    m = Market(["ETH"], [2_812.50], asset_weight=0.8)
    acct = Account([1.0], cash=-2_250.0)
    r = margin_report(acct, m)
    assert r.health == pytest.approx(0.0, abs=1e-9)      # 2,812.50 * 0.8 - 2,250 = 0
    assert r.health_factor == pytest.approx(1.0)
    assert r.margin_ratio == pytest.approx(1.0)
    assert r.liquidatable is False                         # the boundary itself is safe (HF < 1)
    lo, hi = health_around(acct, m, "ETH", 2_812.50)
    assert lo < 0 < hi                                     # -0.008 just below, +0.008 above
    assert lo == pytest.approx(-0.01 * 0.8) and hi == pytest.approx(0.01 * 0.8)


def test_rc10_health_factors_before_and_after_shock():
    # Three accounts of 100 units (LT 0.8) with debts 7,800 / 7,600 / 7,400.
    # HF = 0.8 * 100 * P / d: at P = 100 -> 1.025641, 1.052632, 1.081081;
    # at P = 97 -> 0.994872, 1.021053, 1.048649: only A is liquidatable.
    m = Market(["X"], [100.0], asset_weight=0.8)
    b = Book(holdings=[[100.0], [100.0], [100.0]], cash=[-7_800.0, -7_600.0, -7_400.0])
    r = margin_report(b, m, prices=[[100.0], [97.0]])
    np.testing.assert_allclose(r.health_factor[0], [8_000 / 7_800, 8_000 / 7_600, 8_000 / 7_400])
    np.testing.assert_allclose(r.health_factor[0].round(6), [1.025641, 1.052632, 1.081081])
    np.testing.assert_allclose(r.health_factor[1].round(6), [0.994872, 1.021053, 1.048649])
    assert r.liquidatable.tolist() == [[False, False, False], [True, False, False]]


# ==========================================================================================
# RC-2 Binance single position
# ==========================================================================================

def binance_rc2():
    m = Market(["BTC"], [50_000.0], maintenance_margin=0.004, initial_margin=0.05)
    acct = Account([0.0], perps=[0.02], entry_prices=[50_000.0], cash=500.0)
    return m, acct


def test_rc2_binance_margin_ratio_reaches_one_at_published_price():
    # LP = (500 - 0.02 * 50,000) / (0.02 * 0.004 - 0.02) = -500 / -0.01992 = 25,100.40
    m, acct = binance_rc2()
    lp = (500 - 0.02 * 50_000) / (0.02 * 0.004 - 0.02)
    assert round(lp, 2) == 25_100.40
    r = margin_report(acct, m, prices=[25_100.40])
    # margin balance = 500 + 0.02 * (25,100.40 - 50,000) = 2.008; MM = 0.02 * 25,100.40 * 0.4 %
    assert r.equity == pytest.approx(500 + 0.02 * (25_100.40 - 50_000))
    assert r.maintenance_requirement == pytest.approx(0.02 * 25_100.40 * 0.004)
    assert round(r.margin_ratio, 4) == 1.0
    assert r.health == pytest.approx(0.0, abs=1e-4)
    assert flips_at(acct, m, "BTC", 25_100.40)
    lo, hi = health_around(acct, m, "BTC", 25_100.40)
    assert lo < 0 < hi
    # At the entry price: equity 500, MM = 1,000 * 0.4 % = 4, MR = 4 / 500 = 0.8 %
    r0 = margin_report(acct, m)
    assert r0.margin_ratio == pytest.approx(4 / 500)
    assert r0.health == pytest.approx(496.0)
    # IM at 5 %: initial health = 500 - 1,000 * 5 % = 450
    assert r0.initial_health == pytest.approx(450.0)


# ==========================================================================================
# RC-1 Binance two-position book, cross vs isolated
# ==========================================================================================

WB = 1_535_443.01
Q = np.array([109.488, 3_683.979])            # BTC, ETH (long)
EP = np.array([32_481.98, 1_456.84])
MARK = np.array([31_967.27, 1_335.18])
MMR = np.array([0.025, 0.10])
CUM = np.array([16_300.0, 135_365.0])


def binance_lp(wb, tmm_other, upnl_other, cum, q, ep, mmr):
    """Binance one-way LP for a long: (WB - TMM1 + UPNL1 + cum - q*EP) / (q*MMR - q)."""
    return (wb - tmm_other + upnl_other + cum - q * ep) / (q * mmr - q)


@pytest.fixture
def rc1_market():
    return Market(["BTC", "ETH"], MARK, maintenance_margin=MMR, initial_margin=[0.05, 0.2])


def rc1_cross(cash=WB):
    return Account([0.0, 0.0], perps=Q, entry_prices=EP, cash=cash)


def rc1_isolated(margins=(WB, WB)):
    return Account([0.0, 0.0], perps=Q, entry_prices=EP, mode="isolated",
                   isolated_margin=list(margins), cash=0.0)


def test_rc1_upnl_and_maintenance_at_mark(rc1_market):
    r = margin_report(rc1_cross(), rc1_market)
    pnl = r.breakdown["perp_pnl"]
    # uPnL_BTC = 109.488 * (31,967.27 - 32,481.98) = -56,354.57
    # uPnL_ETH = 3,683.979 * (1,335.18 - 1,456.84) = -448,192.89
    assert round(pnl[0], 2) == -56_354.57
    assert round(pnl[1], 2) == -448_192.89
    assert r.perp_pnl == pytest.approx(pnl.sum())
    # No brackets in the engine, so MM = N * MMR without the maintenance amount:
    # BTC 109.488 * 31,967.27 * 2.5 % = 87,500.81 = 71,200.81 (published) + cum 16,300
    # ETH 3,683.979 * 1,335.18 * 10 % = 491,877.51 = 356,512.51 (published) + cum 135,365
    mm = r.breakdown["maintenance"]
    assert round(mm[0], 2) == 87_500.81 == round(71_200.81 + 16_300, 2)
    assert round(mm[1], 2) == 491_877.51 == round(356_512.51 + 135_365, 2)
    # margin balance = 1,535,443.01 - 56,354.57 - 448,192.89 = 1,030,895.56 (unrounded uPnL)
    assert round(r.equity, 2) == 1_030_895.56
    assert r.margin_ratio == pytest.approx(mm.sum() / r.equity)
    # With the cum amounts subtracted, Binance's published ratio 41.49 % comes back:
    # (579,378.32 - 16,300 - 135,365) / 1,030,895.56 = 427,713.32 / 1,030,895.56 = 0.4149
    assert round((r.maintenance_requirement - CUM.sum()) / r.equity, 4) == 0.4149


def rc1_engine_lps():
    """The engine's own LPs (no brackets: cum = 0), by Binance's formula."""
    mm_mark = Q * MARK * MMR
    upnl = Q * (MARK - EP)
    cross_btc = binance_lp(WB, mm_mark[1], upnl[1], 0.0, Q[0], EP[0], MMR[0])
    cross_eth = binance_lp(WB, mm_mark[0], upnl[0], 0.0, Q[1], EP[1], MMR[1])
    iso_btc = binance_lp(WB, 0.0, 0.0, 0.0, Q[0], EP[0], MMR[0])
    iso_eth = binance_lp(WB, 0.0, 0.0, 0.0, Q[1], EP[1], MMR[1])
    return cross_btc, cross_eth, iso_btc, iso_eth


def test_rc1_cross_health_crosses_zero_at_formula_lp(rc1_market):
    cross_btc, cross_eth, _, _ = rc1_engine_lps()
    # ETH cross (cum 0) = (WB - 87,500.81 - 56,354.57 - 3,683.979 * 1,456.84)
    #                     / (3,683.979 * 0.1 - 3,683.979) = 1,199.00
    assert round(cross_eth, 2) == 1_199.00
    assert round(cross_btc, 2) == 27_737.63
    acct = rc1_cross()
    for asset, lp in (("BTC", cross_btc), ("ETH", cross_eth)):
        lo, hi = health_around(acct, rc1_market, asset, lp)
        assert lo < 0 < hi, asset
        prices = MARK.copy()
        prices[rc1_market.index(asset)] = lp
        assert margin_report(acct, rc1_market, prices=prices).health == pytest.approx(0, abs=1e-6)


def test_rc1_isolated_bucket_health_crosses_zero_at_formula_lp(rc1_market):
    _, _, iso_btc, iso_eth = rc1_engine_lps()
    # ETH isolated (cum 0) = (WB - 3,683.979 * 1,456.84) / (3,683.979 * (0.1 - 1)) = 1,155.61
    assert round(iso_eth, 2) == 1_155.61
    assert round(iso_btc, 2) == 18_931.42
    acct = rc1_isolated()
    for asset, lp in (("BTC", iso_btc), ("ETH", iso_eth)):
        lo, hi = health_around(acct, rc1_market, asset, lp, part=asset)
        assert lo < 0 < hi, asset
    # An isolated bucket ignores the other leg: BTC's bucket health at its LP is ~0 whatever ETH
    # does (ETH at mark or ETH crashed to 1 % of mark).
    rows = np.array([[iso_btc, MARK[1]], [iso_btc, MARK[1] * 0.01]])
    bh = margin_report(acct, rc1_market, prices=rows).bucket_health[:, 0]
    np.testing.assert_allclose(bh, 0.0, atol=1e-6)


def test_rc1_cross_and_isolated_lps_differ_and_cross_depends_on_other_leg(rc1_market):
    cross_btc, cross_eth, iso_btc, iso_eth = rc1_engine_lps()
    assert abs(cross_btc - iso_btc) > 1_000 and abs(cross_eth - iso_eth) > 10
    acct = rc1_cross()
    # Hold ETH at its cross LP and move the *other* leg: BTC 5 % lower fails the account,
    # BTC 5 % higher makes it safe again.
    rows = np.array([[MARK[0] * 0.95, cross_eth], [MARK[0] * 1.05, cross_eth]])
    h = margin_report(acct, rc1_market, prices=rows).health
    assert h[0] < 0 < h[1]
    # Without the BTC leg, a cross account with the same wallet has ETH's *isolated* LP.
    eth_only = Account([0.0, 0.0], perps=[0.0, Q[1]], entry_prices=[0.0, EP[1]], cash=WB)
    assert flips_at(eth_only, rc1_market, "ETH", iso_eth)
    assert not flips_at(eth_only, rc1_market, "ETH", cross_eth)


def test_rc1_published_lps_with_cum_folded_into_the_wallet(rc1_market):
    # cum only ever enters as "+ cum" next to WB, so a wallet credited with cum reproduces
    # Binance's bracketed LPs exactly (brackets at the LPs are the ones tabulated).
    # cross: WB + 16,300 + 135,365; ETH 1,153.26, BTC 26,316.89
    cross = rc1_cross(cash=WB + CUM.sum())
    assert flips_at(cross, rc1_market, "ETH", 1_153.26)
    assert flips_at(cross, rc1_market, "BTC", 26_316.89)
    # isolated: ETH bucket WB + 135,365 -> 1,114.78; BTC bucket WB + 16,300 -> 18,778.73
    iso = rc1_isolated(margins=WB + CUM)
    assert flips_at(iso, rc1_market, "ETH", 1_114.78, part="ETH")
    assert flips_at(iso, rc1_market, "BTC", 18_778.73, part="BTC")


# ==========================================================================================
# RC-5 Mango health with weights
# ==========================================================================================

def test_rc5_mango_as_perp():
    # Deposit 10,000 USDC, long 10 BTC-PERP at 10,000, maintenance 5 % (weights 0.95 / 1.05).
    m = Market(["BTC"], [10_000.0], maintenance_margin=0.05, initial_margin=0.10)
    acct = Account([0.0], perps=[10.0], entry_prices=[10_000.0], cash=10_000.0)
    r = margin_report(acct, m, prices=[[10_000.0], [9_400.0]])
    # at 10,000: health = 10,000 + 0 - 5 % * 100,000 = 5,000
    assert r.health[0] == pytest.approx(5_000.0, abs=1e-9)
    # init (10 %): 10,000 + 0 - 10 % * 100,000 = 0
    assert r.initial_health[0] == pytest.approx(0.0, abs=1e-9)
    # at 9,400: 10,000 + 10 * (9,400 - 10,000) - 5 % * 94,000 = 10,000 - 6,000 - 4,700 = -700
    assert r.health[1] == pytest.approx(-700.0, abs=1e-9)
    assert r.liquidatable.tolist() == [False, True]


def test_rc5_mango_as_spot_with_weights():
    # Mango's own form: 10 BTC asset at weight 0.95 against a 90,000 quote liability (weight 1):
    # at 10,000: 10 * 10,000 * 0.95 - 90,000 = 5,000; at 9,400: 89,300 - 90,000 = -700
    m = Market(["BTC"], [10_000.0], asset_weight=0.95, liability_weight=1.05)
    acct = Account([10.0], cash=10_000.0 - 100_000.0)
    r = margin_report(acct, m, prices=[[10_000.0], [9_400.0]])
    np.testing.assert_allclose(r.health, [5_000.0, -700.0], atol=1e-9)
    # Mango health ratio = assets / liabilities - 1: 95,000 / 90,000 - 1 = 5.56 %
    assert r.health_factor[0] - 1 == pytest.approx(95_000 / 90_000 - 1)


# ==========================================================================================
# RC-6 dYdX isolated and cross liquidation prices
# ==========================================================================================

def test_rc6a_dydx_isolated_short():
    # deposit 1,000, short 3 ETH at 3,000, MMF 5 %:
    # p' = (e - s*p) / (|s|*MMF - s) = (1,000 + 9,000) / (0.15 + 3) = 10,000 / 3.15 = 3,174.60
    p = (1_000 + 3 * 3_000) / (3 * 0.05 + 3)
    assert round(p, 2) == 3_174.60
    m = Market(["ETH"], [3_000.0], maintenance_margin=0.05)
    # A dYdX isolated position is a subaccount of its own: a cross pool with just this perp ...
    sub = Account([0.0], perps=[-3.0], entry_prices=[3_000.0], cash=1_000.0)
    assert flips_at(sub, m, "ETH", 3_174.60)
    lo, hi = health_around(sub, m, "ETH", 3_174.60)
    assert lo > 0 > hi                                 # a short fails as the price *rises*
    # ... or, equally, an isolated bucket holding the 1,000.
    iso = Account([0.0], perps=[-3.0], entry_prices=[3_000.0], mode="isolated",
                  isolated_margin=[1_000.0])
    assert flips_at(iso, m, "ETH", 3_174.60, part="ETH")
    rows = [[3_174.59], [3_174.61]]
    assert margin_report(iso, m, prices=rows).liquidatable.tolist() == [False, True]
    # equity at p' = 1,000 - 3 * (3,174.60 - 3,000) = 476.19 = 3 * 3,174.60 * 5 %
    r = margin_report(iso, m, prices=[p])
    assert round(r.equity, 2) == 476.19
    assert r.bucket_requirement[0] == pytest.approx(3 * p * 0.05)


def test_rc6b_dydx_cross_second_leg_moves_the_lp():
    # + long 1,000 STRK at 1.75 (MMF 10 %, MMR_o = 175), STRK held at 1.75:
    # p' = (1,000 + 1.5 * 3,000 - 175) / (1.5 * 0.05 + 1.5) = 5,325 / 1.575 = 3,380.95
    p = (1_000 + 1.5 * 3_000 - 175) / (1.5 * 0.05 + 1.5)
    assert round(p, 2) == 3_380.95
    m = Market(["ETH", "STRK"], [3_000.0, 1.75], maintenance_margin=[0.05, 0.10],
               initial_margin=[0.10, 0.20])
    acct = Account([0.0, 0.0], perps=[-1.5, 1_000.0], entry_prices=[3_000.0, 1.75], cash=1_000.0)
    assert flips_at(acct, m, "ETH", 3_380.95)
    # Without STRK the ETH short alone would last to (1,000 + 4,500) / 1.575 = 3,492.06
    alone = Account([0.0, 0.0], perps=[-1.5, 0.0], entry_prices=[3_000.0, 0.0], cash=1_000.0)
    assert flips_at(alone, m, "ETH", 3_492.06)
    assert not flips_at(alone, m, "ETH", 3_380.95)


# ==========================================================================================
# Hyperliquid derived isolated example
# ==========================================================================================

def test_hyperliquid_isolated_long():
    # 1 BTC long at 100,000, isolated margin 10,000 (10x), MMF 1.25 % (40x max):
    # liq = 100,000 - (10,000 - 1,250) / (1 - 0.0125) = 100,000 - 8,860.76 = 91,139.24
    liq = 100_000 - (10_000 - 1_250) / (1 - 0.0125)
    assert round(liq, 2) == 91_139.24
    m = Market(["BTC"], [100_000.0], maintenance_margin=0.0125, initial_margin=0.025)
    acct = Account([0.0], perps=[1.0], entry_prices=[100_000.0], mode="isolated",
                   isolated_margin=[10_000.0])
    assert flips_at(acct, m, "BTC", 91_139.24, part="BTC")
    # equity at liq = 10,000 - 8,860.76 = 1,139.24 = 91,139.24 * 1.25 %
    r = margin_report(acct, m, prices=[liq])
    assert round(r.bucket_equity[0], 2) == 1_139.24
    assert r.bucket_health[0] == pytest.approx(0.0, abs=1e-8)
    r0 = margin_report(acct, m)
    assert r0.bucket_health[0] == pytest.approx(10_000 - 1_250)


# ==========================================================================================
# Semantics
# ==========================================================================================

@pytest.fixture
def m3():
    return Market(["BTC", "ETH", "USDC"], [100.0, 10.0, 1.0],
                  asset_weight=[0.8, 0.9, 1.0], liability_weight=[1.25, 1.1, 1.0],
                  maintenance_margin=[0.05, 0.10, 0.0], initial_margin=[0.10, 0.20, 0.0])


def mixed(mode="cross", margins=None, cash=-20.0):
    # 2 BTC, 3 ETH borrowed, 50 USDC; short 1 BTC-perp @ 110, long 4 ETH-perp @ 8
    return Account([2.0, -3.0, 50.0], perps=[-1.0, 4.0, 0.0], entry_prices=[110.0, 8.0, 0.0],
                   cash=cash, mode=mode, isolated_margin=margins)


def test_cross_account_by_hand(m3):
    r = margin_report(mixed(), m3)
    # WC = 2 * 100 * 0.8 + 50 * 1 * 1.0 = 210 (cash is negative, so it is a liability)
    assert r.weighted_collateral == pytest.approx(210.0)
    # WL = 3 * 10 * 1.1 + 20 (quote debt at weight 1) = 53
    assert r.weighted_liabilities == pytest.approx(53.0)
    # uPnL = -1 * (100 - 110) + 4 * (10 - 8) = 10 + 8 = 18
    assert r.perp_pnl == pytest.approx(18.0)
    # MM = 1 * 100 * 5 % + 4 * 10 * 10 % = 9; IM = 10 + 8 = 18
    assert r.maintenance_requirement == pytest.approx(9.0)
    assert r.initial_requirement == pytest.approx(18.0)
    # health = (210 + 18) - (53 + 9) = 166; initial = 228 - (53 + 18) = 157
    assert r.health == pytest.approx(166.0)
    assert r.pool_health == pytest.approx(166.0)
    assert r.initial_health == pytest.approx(157.0)
    assert r.health_factor == pytest.approx(228 / 62)
    assert r.margin_ratio == pytest.approx(62 / 228)
    # equity (unweighted) = 200 - 30 + 50 - 20 + 18 = 218
    assert r.equity == pytest.approx(218.0)
    assert r.liquidatable is False


def test_cash_is_weight_one_on_both_sides(m3):
    m = m3.replace(asset_weight=0.5, liability_weight=2.0)     # weights never touch cash
    r = margin_report(Account([0.0, 0.0, 0.0], cash=1_000.0), m)
    assert (r.weighted_collateral, r.weighted_liabilities) == (1_000.0, 0.0)
    r = margin_report(Account([0.0, 0.0, 0.0], cash=-1_000.0), m)
    assert (r.weighted_collateral, r.weighted_liabilities) == (0.0, 1_000.0)
    assert r.health == -1_000.0


def test_weights_apply_to_holdings(m3):
    # +1 BTC counts 100 * 0.8 = 80; -1 BTC counts 100 * 1.25 = 125 owed
    r = margin_report(Book(holdings=[[1.0, 0, 0], [-1.0, 0, 0]]), m3)
    np.testing.assert_allclose(r.weighted_collateral, [80.0, 0.0])
    np.testing.assert_allclose(r.weighted_liabilities, [0.0, 125.0])
    np.testing.assert_allclose(r.equity, [100.0, -100.0])
    b = r.breakdown
    # haircut: 100 * (1 - 0.8) = 20 not counted; debt counted 100 * (1.25 - 1) = 25 extra
    np.testing.assert_allclose(b["haircut"][:, 0], [20.0, 25.0])
    np.testing.assert_allclose(b["value"][:, 0], [100.0, -100.0])


def test_isolated_account_by_hand(m3):
    acct = mixed(mode="isolated", margins=[10.0, 3.0, 0.0])
    r = margin_report(acct, m3)
    # pool: holdings and cash only: 210 - 53 = 157, no perps in it
    assert r.pool_health == pytest.approx(157.0)
    assert r.perp_pnl == 0.0 and r.maintenance_requirement == 0.0
    # BTC bucket: 10 + 10 = 20 equity, req 5 -> 15; ETH bucket: 3 + 8 = 11, req 4 -> 7
    np.testing.assert_allclose(r.bucket_equity, [20.0, 11.0, np.nan])
    np.testing.assert_allclose(r.bucket_requirement, [5.0, 4.0, np.nan])
    np.testing.assert_allclose(r.bucket_health, [15.0, 7.0, np.nan])
    # account health is the weakest part: min(157, 15, 7) = 7
    assert r.health == pytest.approx(7.0)
    # HF = min(210 / 53, 20 / 5, 11 / 4) = 2.75; MR = max(53 / 210, 5 / 20, 4 / 11) = 0.3636
    assert r.health_factor == pytest.approx(2.75)
    assert r.margin_ratio == pytest.approx(4 / 11)
    # equity = 200 - 30 + 50 - 20 + 20 + 11 = 231
    assert r.equity == pytest.approx(231.0)
    # breakdown shows every perp (isolated ones too)
    np.testing.assert_allclose(r.breakdown["perp_pnl"], [10.0, 8.0, 0.0])
    np.testing.assert_allclose(r.breakdown["isolated_margin"], [10.0, 3.0, np.nan])
    np.testing.assert_allclose(r.breakdown["bucket_health"], [15.0, 7.0, np.nan])


def test_isolated_weakest_part_can_be_the_pool(m3):
    # Same buckets, but a 300 quote debt sinks the pool: 210 - 333 = -123 < buckets
    r = margin_report(mixed(mode="isolated", margins=[10.0, 3.0, 0.0], cash=-300.0), m3)
    assert r.pool_health == pytest.approx(210 - 33 - 300)
    assert r.health == pytest.approx(r.pool_health)
    assert r.liquidatable is True
    assert (r.bucket_health[:2] > 0).all()


def test_holdings_stay_out_of_buckets(m3):
    base = margin_report(mixed(mode="isolated", margins=[10.0, 3.0, 0.0]), m3)
    richer = margin_report(mixed(mode="isolated", margins=[10.0, 3.0, 0.0], cash=1e6), m3)
    np.testing.assert_allclose(base.bucket_health, richer.bucket_health)
    assert richer.pool_health > base.pool_health
    # a bucket that fails does so however rich the pool is: 4 ETH long with 0.5 margin,
    # ETH at 8.5 -> 0.5 + 4 * 0.5 - 4 * 8.5 * 10 % = -0.9
    poor = mixed(mode="isolated", margins=[10.0, 0.5, 0.0], cash=1e6)
    r = margin_report(poor, m3, prices=[100.0, 8.5, 1.0])
    assert r.bucket_health[1] == pytest.approx(-0.9)
    assert r.pool_health > 1e5 and r.liquidatable is True


def test_bucket_nan_where_no_bucket(m3):
    b = Book.from_accounts([mixed(), mixed(mode="isolated", margins=[10.0, 3.0, 0.0])])
    r = margin_report(b, m3)
    assert np.isnan(r.bucket_health[0]).all()             # cross account: no buckets
    assert np.isnan(r.bucket_health[1, 2])                # isolated, but no USDC perp
    assert not np.isnan(r.bucket_health[1, :2]).any()


def test_bucket_margin_without_a_perp_still_counts_as_equity():
    m = Market(["A"], [10.0])
    acct = Account([0.0], mode="isolated", isolated_margin=[5.0], cash=1.0)
    r = margin_report(acct, m)
    assert r.equity == 6.0
    assert np.isnan(r.bucket_health[0])
    assert r.health == 1.0


def test_ratio_edge_cases():
    m = Market(["A"], [10.0], maintenance_margin=0.0, initial_margin=0.0)
    b = Book(holdings=[[0.0], [1.0], [0.0], [0.0]],
             perps=[[0.0], [0.0], [0.0], [1.0]], entry_prices=[[0.0], [0.0], [0.0], [20.0]],
             cash=[0.0, 0.0, -100.0, 0.0])
    r = margin_report(b, m)
    # empty account: nothing owed -> HF inf, MR 0, health 0, not liquidatable
    # collateral only (9 available, 0 owed): HF inf, MR 0
    # debt only (0 available, 100 owed): HF 0, MR inf
    # perp loss with zero maintenance: available = 1 * (10 - 20) = -10, requirement 0:
    #   HF -inf, MR inf, health -10
    assert r.health.tolist() == [0.0, 9.0, -100.0, -10.0]
    assert r.health_factor.tolist() == [math.inf, math.inf, 0.0, -math.inf]
    assert r.margin_ratio.tolist() == [0.0, 0.0, math.inf, math.inf]
    assert r.liquidatable.tolist() == [False, False, True, True]


def test_boundary_is_not_liquidatable_in_any_convention():
    # available == requirement: 1 unit at 100 with weight 0.5 against 50 of debt
    m = Market(["A"], [100.0], asset_weight=0.5)
    r = margin_report(Account([1.0], cash=-50.0), m)
    assert (r.health, r.health_factor, r.margin_ratio, r.liquidatable) == (0.0, 1.0, 1.0, False)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_three_conventions_agree_on_random_books(seed):
    m = Market.example()
    b = Book.random(m, 1_500, seed=seed)
    rng = np.random.default_rng(100 + seed)
    shocks = rng.uniform(-0.6, 0.4, size=(16, m.n_assets))
    prices = m.prices * (1 + shocks)
    r = margin_report(b, m, prices=prices)
    liq = r.health < 0
    assert 0 < liq.sum() < liq.size                      # both outcomes occur
    np.testing.assert_array_equal(liq, r.health_factor < 1)
    np.testing.assert_array_equal(liq, r.margin_ratio > 1)
    np.testing.assert_array_equal(liq, r.liquidatable)
    # the account health of isolated accounts is min over the pool and its buckets
    iso = b.isolated
    expect = np.fmin(r.pool_health[:, iso], np.nanmin(
        np.where(np.isnan(r.bucket_health[:, iso]), np.inf, r.bucket_health[:, iso]), axis=-1))
    np.testing.assert_allclose(r.health[:, iso], expect)
    np.testing.assert_array_equal(r.health[:, ~iso], r.pool_health[:, ~iso])


def test_scenario_axis_matches_row_by_row():
    m = Market.example()
    b = Book.random(m, 60, seed=3)
    rng = np.random.default_rng(9)
    P = m.prices * (1 + rng.uniform(-0.4, 0.3, size=(7, m.n_assets)))
    r = margin_report(b, m, prices=P)
    for name in FIELDS:
        assert getattr(r, name).shape == (7, 60), name
    assert r.bucket_health.shape == (7, 60, 4)
    assert r.breakdown["collateral"].shape == (7, 60, 4)
    for s in range(7):
        rs = margin_report(b, m, prices=P[s])
        for name in FIELDS:
            np.testing.assert_allclose(getattr(r, name)[s], getattr(rs, name), rtol=1e-12,
                                       err_msg=name)
        np.testing.assert_allclose(r.bucket_health[s], rs.bucket_health, rtol=1e-12)
        for k, v in rs.breakdown.items():
            np.testing.assert_allclose(r.breakdown[k][s], v, rtol=1e-12, err_msg=k)


def test_account_gives_scalars_and_scenarios_give_vectors(m3):
    acct = mixed(mode="isolated", margins=[10.0, 3.0, 0.0])
    r = margin_report(acct, m3)
    for name in FIELDS:
        v = getattr(r, name)
        assert isinstance(v, bool if name == "liquidatable" else float), name
    assert r.bucket_health.shape == (3,)
    assert r.breakdown["value"].shape == (3,)
    rs = margin_report(acct, m3, prices=[[100.0, 10.0, 1.0], [90.0, 9.0, 1.0]])
    for name in FIELDS:
        assert getattr(rs, name).shape == (2,), name
    assert rs.bucket_health.shape == (2, 3)
    assert rs.health[0] == pytest.approx(r.health)
    # a one-row book keeps its account axis
    rb = margin_report(acct.to_book(), m3)
    assert rb.health.shape == (1,)
    assert rb.bucket_health.shape == (1, 3)


def test_market_prices_are_the_default(m3):
    acct = mixed()
    assert margin_report(acct, m3).health == margin_report(acct, m3, prices=m3.prices).health


@pytest.mark.parametrize("seed", [0, 5])
def test_breakdown_sums_back_to_the_totals(seed):
    m = Market.example()
    b = Book.random(m, 400, seed=seed)
    r = margin_report(b, m, prices=m.prices * [0.85, 0.9, 0.8, 1.0])
    bd = r.breakdown
    cross = ~b.isolated
    health = (bd["collateral"].sum(-1) - bd["liabilities"].sum(-1) + bd["perp_pnl"].sum(-1)
              - bd["maintenance"].sum(-1) + b.cash)
    np.testing.assert_allclose(health[cross], r.health[cross], rtol=1e-9, atol=1e-6)
    # collateral and liabilities sum to the weighted totals (cash at weight 1 added back)
    np.testing.assert_allclose(bd["collateral"].sum(-1) + np.maximum(b.cash, 0),
                               r.weighted_collateral, rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(bd["liabilities"].sum(-1) + np.maximum(-b.cash, 0),
                               r.weighted_liabilities, rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(bd["perp_pnl"].sum(-1)[cross], r.perp_pnl[cross], atol=1e-6)
    np.testing.assert_allclose(bd["maintenance"].sum(-1)[cross],
                               r.maintenance_requirement[cross], rtol=1e-12, atol=1e-6)
    # equity = value + cash + every perp's uPnL + posted isolated margin
    eq = bd["value"].sum(-1) + b.cash + bd["perp_pnl"].sum(-1) + b.isolated_margin.sum(-1)
    np.testing.assert_allclose(eq, r.equity, rtol=1e-9, atol=1e-6)
    # isolated accounts: the bucket columns are margin + uPnL - maintenance
    iso = b.isolated[:, None] & (b.perps != 0)
    bh = b.isolated_margin + bd["perp_pnl"] - bd["maintenance"]
    np.testing.assert_allclose(bd["bucket_health"][iso], bh[iso], rtol=1e-9, atol=1e-6)


def test_report_on_a_book_does_not_change_it(m3):
    b = Book.from_accounts([mixed(), mixed(mode="isolated", margins=[10.0, 3.0, 0.0])])
    before = b.holdings.copy(), b.perps.copy(), b.cash.copy()
    margin_report(b, m3, prices=[[50.0, 5.0, 1.0]]).breakdown
    np.testing.assert_array_equal(b.holdings, before[0])
    np.testing.assert_array_equal(b.perps, before[1])
    np.testing.assert_array_equal(b.cash, before[2])


# -- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("prices, pattern", [
    ([100.0, float("nan"), 1.0], r"prices\[ETH\].*finite.*nan"),
    ([100.0, 10.0, float("inf")], r"prices\[USDC\].*finite.*inf"),
    ([-100.0, 10.0, 1.0], r"prices\[BTC\].*-100\.0"),
    ([[100.0, 10.0, 1.0], [100.0, -1.0, 1.0]], r"prices\[1, 1\].*-1\.0"),
    ([100.0, 10.0], r"prices.*shape.*\(2,\)"),
    ([[[100.0, 10.0, 1.0]]], r"prices.*shape.*\(1, 1, 3\)"),
])
def test_bad_prices(m3, prices, pattern):
    with pytest.raises(MarginInputError, match=pattern) as info:
        margin_report(mixed(), m3, prices=prices)
    assert isinstance(info.value, ValueError)


def test_bad_report_inputs(m3):
    with pytest.raises(MarginInputError, match=r"account_or_book.*dict"):
        margin_report({"holdings": [1.0]}, m3)
    with pytest.raises(MarginInputError, match=r"book.*3.*got 2 columns"):
        margin_report(Account([1.0, 2.0]), m3)


def test_too_many_cells_is_refused():
    m = Market(["A"], [1.0])
    b = Book(holdings=np.ones((60_000, 1)))
    with pytest.raises(MarginInputError, match=r"n_scenarios x n_accounts.*1000 x 60000"):
        margin_report(b, m, prices=np.ones((1_000, 1)))


def test_isolated_account_with_everything_posted_is_as_healthy_as_its_weakest_bucket():
    # 30,000 cash split into buckets by initial margin (BTC 2 x 100,000 x 2.5 % = 5,000; ETH
    # 50 x 4,000 x 4 % = 8,000; SOL 500 x 200 x 5 % = 5,000 -> shares 5/18, 8/18, 5/18).
    # BTC bucket: 8,333.33 posted - 1.25 % x 200,000 = 5,833.33; SOL: 8,333.33 - 2.5 % x
    # 100,000 = 5,833.33; ETH: 13,333.33 - 2 % x 200,000 = 9,333.33. The empty pool (no holdings,
    # no cash) is not a part: health = 5,833.33, not the empty pool's 0.
    from widgets.engine import isolated_twin
    m = Market.example()
    a = Account.from_positions(m, perps={"BTC": 2, "ETH": 50, "SOL": -500}, cash=30_000)
    r = margin_report(isolated_twin(a, m), m)
    assert r.health == pytest.approx(5_833.33, abs=0.01)
    assert r.health_factor == pytest.approx(8_333.33 / 2_500, rel=1e-6) and not r.liquidatable
    # An isolated account with nothing at all has health 0 and is not liquidatable.
    empty = margin_report(Account([0.0] * 4, mode="isolated"), m)
    assert empty.health == 0.0 and not empty.liquidatable
