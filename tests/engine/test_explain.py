"""widgets.engine.explain: an account's health per column, as a waterfall, and the liquidation
price of each position — known answers worked by hand."""
import math

import pytest

from widgets.engine import (CONTRIBUTION_KINDS, Account, Market, health_waterfall,
                            liquidation_price, margin_report, pool_contributions,
                            position_liquidation_prices)

# Two assets with round rules: BTC counted at 80 %, ETH debt at 110 %, perp maintenance 5 %.
MARKET = Market(["BTC", "ETH"], [50_000.0, 2_000.0], asset_weight=[0.8, 0.9],
                liability_weight=[1.2, 1.1], maintenance_margin=[0.05, 0.05],
                initial_margin=[0.1, 0.1])


def account():
    """1 BTC held, 5 ETH borrowed, 4,000 of cash owed, a 10 ETH long perp entered at 1,800."""
    return Account.from_positions(MARKET, holdings={"BTC": 1.0, "ETH": -5.0}, cash=-4_000.0,
                                  perps={"ETH": 10.0}, entry_prices={"ETH": 1_800.0})


def test_contributions_by_hand():
    a = account()
    c = pool_contributions(a, margin_report(a, MARKET))
    assert tuple(c) == CONTRIBUTION_KINDS
    # columns BTC, ETH, cash. BTC: 50,000 held, 80 % counted -> 40,000, haircut 10,000.
    # ETH: 5 x 2,000 = 10,000 borrowed at 110 % -> 11,000 of debt; the perp gains
    # 10 x (2,000 - 1,800) = 2,000 and needs 5 % of 20,000 = 1,000. Cash: 4,000 owed.
    assert c["value"].tolist() == [50_000.0, 0.0, 0.0]
    assert c["collateral"].tolist() == [40_000.0, 0.0, 0.0]
    assert c["haircut"].tolist() == [10_000.0, 0.0, 0.0]
    assert c["debt"].tolist() == pytest.approx([0.0, 11_000.0, 4_000.0])
    assert c["perp_pnl"].tolist() == pytest.approx([0.0, 2_000.0, 0.0])
    assert c["maintenance"].tolist() == pytest.approx([0.0, 1_000.0, 0.0])
    assert c["net"].tolist() == pytest.approx([40_000.0, -10_000.0, -4_000.0])
    assert c["net"].sum() == pytest.approx(float(margin_report(a, MARKET).health)) == 26_000.0


def test_waterfall_by_hand():
    w = health_waterfall(account(), MARKET)
    assert w.columns == ("BTC", "ETH", "cash")
    assert w.steps.tolist() == pytest.approx([50_000.0, -10_000.0, -15_000.0, 2_000.0, -1_000.0])
    assert w.start.tolist() == pytest.approx([0, 50_000, 40_000, 25_000, 27_000, 0])
    assert w.end.tolist() == pytest.approx([50_000, 40_000, 25_000, 27_000, 26_000, 26_000])
    assert w.pool_health == pytest.approx(26_000.0) == w.health
    assert (w.start[1:-1] == w.end[:-2]).all()           # each step starts where the last ended


def test_waterfall_at_other_prices():
    # ETH at 1,000: ETH debt 5,500 + cash 4,000, the perp loses 8,000, maintenance 500:
    # health 40,000 - 9,500 - 8,000 - 500 = 22,000.
    w = health_waterfall(account(), MARKET, prices=[50_000.0, 1_000.0])
    assert w.steps.tolist() == pytest.approx([50_000, -10_000, -9_500, -8_000, -500])
    assert w.pool_health == pytest.approx(22_000.0)


def test_isolated_perps_are_outside_the_pool():
    m = Market.example()
    a = Account.from_positions(m, holdings={"ETH": 10}, perps={"BTC": 0.2}, mode="isolated",
                               isolated_margin={"BTC": 1_000}, cash=-500.0)
    w = health_waterfall(a, m)
    assert w.contributions["perp_pnl"].sum() == 0.0 == w.contributions["maintenance"].sum()
    assert w.pool_health == pytest.approx(36_000 - 500)
    assert w.health == pytest.approx(1_000 - 20_000 * 0.0125)   # the BTC bucket, the weakest


def test_position_liquidation_prices_by_hand():
    a = account()
    lps = position_liquidation_prices(a, MARKET)
    assert list(lps) == ["BTC", "ETH"]
    # BTC alone: 0.8 p - 11,000 - 4,000 + 2,000 - 1,000 = 0 -> p = 17,500, a 65 % fall.
    now, lp, move = lps["BTC"]
    assert (now, lp, move) == pytest.approx((50_000.0, 17_500.0, -0.65))
    # ETH alone: 40,000 - 5.5 q - 4,000 + 10 (q - 1,800) - 0.5 q = 18,000 + 4 q > 0 for every
    # q > 0: no ETH price liquidates the account.
    now, lp, move = lps["ETH"]
    assert now == 2_000.0 and math.isnan(lp) and math.isnan(move)
    for asset, (_, lp, _) in lps.items():
        assert lp == liquidation_price(a, MARKET, asset) or (math.isnan(lp))


def test_position_liquidation_prices_hold_the_other_prices():
    a = account()
    # ETH at 1,000 (the shocked price held): the BTC root moves to 0.8 p = 18,000 -> 22,500.
    lps = position_liquidation_prices(a, MARKET, prices=[50_000.0, 1_000.0])
    assert lps["BTC"][1] == pytest.approx(22_500.0)
    assert lps["ETH"][0] == 1_000.0
    assert position_liquidation_prices(Account.from_positions(MARKET, cash=100.0), MARKET) == {}
