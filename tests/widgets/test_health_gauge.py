import math

import numpy as np
import pytest

from widgets import HealthGauge
from widgets.engine import (Account, MarginInputError, Market, crisis_shock,
                            example_account,
                            liquidation_price, margin_report)
from tests.support.ui import alert_text

KEYS = ("health", "health_factor", "margin_ratio")


def engine(shock=None, account=None, market=None):
    m = market or Market.example()
    a = account or example_account(m)
    return margin_report(a, m.shocked(shock or {}))


def bar(g, k):
    """The gauge's bar (the first mark of its figure)."""
    return g.figures[k].marks[0]


def scale(g, k):
    """The gauge's value scale (its x axis)."""
    return g.figures[k].axes[0].scale


def mark_state(g):
    return ({k: g.chart_data()[f"{k}_bar"]["y"] for k in KEYS}, g.summary, g.badge.value,
            [g.health, g.health_factor, g.margin_ratio, g.liquidatable], dict(g.shock))


def test_default_scenario_matches_engine():
    g = HealthGauge()
    r = engine()
    # 10 ETH x 4,000 x 0.9 = 36,000 against 30,000 USDC + maintenance 0.1 x 100,000 x 1.25 %
    # + 10 x 200 x 2.5 % = 175: health 5,825.
    assert g.health == pytest.approx(5_825.0) == r.health
    assert g.health_factor == pytest.approx(36_000 / 30_175)
    assert g.margin_ratio == pytest.approx(30_175 / 36_000)
    assert g.liquidatable is False
    for k in KEYS:
        np.testing.assert_allclose(bar(g, k).y, [getattr(r, k)])
    assert g.summary == ("Health $5,825 (safe); health factor 1.19 (liquidation below 1.00); "
                         "margin ratio 83.8% (liquidation at 100%). Liquidation prices (one "
                         "price moving, the others held): BTC $41,012.66 (-59.0%); ETH "
                         "$3,352.78 (-16.2%); SOL $768.29 (+284.1%); USDC $1.19 (+19.4%).")
    assert "SAFE" in g.badge.value and "LIQUIDATABLE" not in g.badge.value
    assert g.problem == ""


def test_eth_slider_moves_gauges_to_engine_numbers():
    g = HealthGauge()
    before = mark_state(g)
    g.controls["shock[ETH]"].value = -0.1
    r = engine({"ETH": -0.1})
    assert g.shock["ETH"] == -0.1
    assert g.health == pytest.approx(r.health) == pytest.approx(32_400 - 30_175)
    for k in KEYS:
        np.testing.assert_allclose(bar(g, k).y, [getattr(r, k)])
    assert g.summary.startswith("Health $2,225 (safe); health factor 1.07")
    assert mark_state(g)[0] != before[0]


def test_shock_trait_drives_panel_and_back():
    g = HealthGauge()
    g.shock = {"ETH": -0.2}                               # partial dict: others do not move
    assert g.shock == {"BTC": 0.0, "ETH": -0.2, "SOL": 0.0, "USDC": 0.0}
    assert g.controls["shock[ETH]"].value == -0.2
    g.shock = {"BTC": -0.1}                               # later partial dicts: like ShockPanel
    assert g.shock == {"BTC": -0.1, "ETH": -0.2, "SOL": 0.0, "USDC": 0.0}
    assert {a: g.controls[f"shock[{a}]"].value for a in g.shock} == g.shock
    g.controls["crisis"].click()
    assert g.shock == crisis_shock(g.market) and g.controls["shock[BTC]"].value == -0.21
    assert g.health == pytest.approx(engine(g.shock).health)


def test_every_slider_moves_an_output():
    g = HealthGauge()
    for asset in g.market.assets:
        s = g.controls[f"shock[{asset}]"]
        before = g.health
        s.value = 0.1
        assert g.health != before, asset
        s.value = 0.0


def test_three_conventions_agree_as_shock_crosses_threshold():
    g = HealthGauge()
    seen = []
    for move in np.round(np.arange(0.0, -0.31, -0.01), 2):
        g.controls["shock[ETH]"].value = float(move)
        r = engine({"ETH": float(move)})
        votes = {g.health < 0, g.health_factor < 1, g.margin_ratio > 1, g.liquidatable}
        assert len(votes) == 1, move                      # all three say the same
        assert g.liquidatable == r.liquidatable
        assert ("LIQUIDATABLE" in g.badge.value) == g.liquidatable
        assert ("(LIQUIDATABLE)" in g.summary) == g.liquidatable
        titles = [f.title for f in g.figures.values()]
        assert all(t.endswith("LIQUIDATABLE" if g.liquidatable else "safe") for t in titles)
        seen.append(g.liquidatable)
    # 36,000 x (1 + s) < 30,175 first at s = -17 %: exactly one flip, at that step.
    assert seen.index(True) == 17 and all(seen[17:]) and not any(seen[:17])


def test_threshold_marks_present_with_labels():
    g = HealthGauge()
    expected = {"health": (0.0, "liquidation below $0", "higher is safer"),
                "health_factor": (1.0, "liquidation below 1.00", "higher is safer"),
                "margin_ratio": (1.0, "liquidation at 100 % or more", "lower is safer")}
    for k, (thr, rule, direction) in expected.items():
        line, label, sc = g.figures[k].marks[1], g.figures[k].marks[2], scale(g, k)
        assert g.chart_data()[f"{k}_threshold"]["x"] == [thr, thr]
        assert label.x.tolist() == [thr] and rule in label.text[0]
        assert sc.min <= thr <= sc.max
        assert direction in g.figures[k].axes[0].label
        assert line in g.figures[k].marks and label in g.figures[k].marks


def test_bad_account_shows_message_and_keeps_state():
    g = HealthGauge()
    g.shock = {"ETH": -0.05}
    good_account, good = g.account, mark_state(g)
    g.account = Account([1.0, 2.0, 3.0])                   # 3 assets for a 4-asset market
    assert "one entry per market asset" in g.problem and "got 3" in g.problem
    assert "one entry per market asset" in alert_text(g)
    assert g.account is good_account and mark_state(g) == good
    g.shock = {"DOGE": -0.1}
    assert "DOGE" in g.problem and mark_state(g) == good
    g.shock = {"ETH": math.nan}
    assert "shock[ETH]" in g.problem and mark_state(g) == good
    g.market = Market(["BTC", "ETH"], [1.0, 2.0])          # other assets: refused
    assert "the assets this view was built with" in g.problem
    assert g.market.assets == Market.example().assets
    assert mark_state(g) == good
    g.shock = {"ETH": -0.06}                               # a good value clears the message
    assert g.problem == ""


def test_bad_constructor_arguments_raise_and_bad_inputs_are_held():
    # the constructor policy: arguments that are not inputs raise, as the engine does ...
    with pytest.raises(MarginInputError, match="one entry per market asset"):
        HealthGauge(account=Account([1.0, 2.0, 3.0]))
    with pytest.raises(MarginInputError, match="account must be an Account"):
        HealthGauge(account="10 ETH")
    # ... a bad input builds with its default and says why
    g = HealthGauge(shock={"ETH": math.nan})
    assert "shock[ETH] must be finite" in g.problem and g.health == 5_825.0
    assert HealthGauge(shock={"ETH": -0.2}).liquidatable


def test_wrong_types_assigned_in_a_cell_are_held():
    g = HealthGauge()
    good = mark_state(g)
    for name, value, words in (("account", "10 ETH", "account must be an engine Account"),
                               ("market", None, "market must be an engine Market"),
                               ("shock", [0.1], "shock must be a dict"),
                               ("shock", {"ETH": 1e308}, "shock[ETH] must be at most 10")):
        setattr(g, name, value)
        assert words in g.problem and len(g.problem) <= 300
        assert mark_state(g) == good


def test_no_debt_infinite_health_factor_renders_finite_marks():
    m = Market.example()
    g = HealthGauge(account=Account.from_positions(m, holdings={"ETH": 10}))
    assert math.isinf(g.health_factor) and g.margin_ratio == 0.0
    for k in KEYS:
        assert np.isfinite(bar(g, k).y).all()
    assert bar(g, "health_factor").y.tolist() == [scale(g, "health_factor").max]
    assert "health factor ∞ (no debt)" in g.summary and "margin ratio 0.0% (no debt)" in g.summary
    assert "∞ (no debt)" in g.figures["health_factor"].title


def test_infinite_margin_ratio_is_clipped():
    m = Market.example()
    # A perp bought far above the price: the loss exceeds all collateral (available < 0).
    acct = Account.from_positions(m, perps={"BTC": 1.0}, entry_prices={"BTC": 200_000.0},
                                  holdings={"USDC": 1_000.0})
    g = HealthGauge(account=acct)
    assert math.isinf(g.margin_ratio) and g.liquidatable
    assert bar(g, "margin_ratio").y.tolist() == [1.5]
    assert all(np.isfinite(bar(g, k).y).all() for k in KEYS)
    assert "margin ratio ∞" in g.summary


def test_axes_fixed_while_shocking_and_rescaled_for_new_account():
    g = HealthGauge()
    assert (scale(g, "health").min, scale(g, "health").max) == (-40_000.0, 40_000.0)
    for move in (-0.3, 0.5, 0.9):
        g.shock = {"ETH": move, "BTC": move}
        assert (scale(g, "health").min, scale(g, "health").max) == (-40_000.0, 40_000.0)
    # 68,400 + BTC perp PnL 9,000 - 30,000 - 287.50 = 47,112.50: clipped at the axis edge.
    assert g.health == pytest.approx(47_112.5) == engine(g.shock).health
    assert bar(g, "health").y.tolist() == [40_000.0]
    assert "Health $47,11" in g.summary
    g.account = Account.from_positions(Market.example(), holdings={"ETH": 1})
    assert scale(g, "health").max == 4_000.0             # 3,600 of weighted collateral


def test_new_market_with_same_assets_recomputes():
    g = HealthGauge()
    m = Market.example().replace(asset_weight=[0.8, 0.8, 0.8, 1.0])
    g.market = m
    r = margin_report(g.account, m)
    assert g.problem == "" and g.health == pytest.approx(r.health) == pytest.approx(1_825.0)


def test_one_update_per_mark_and_marks_never_replaced(comm_log):
    g = HealthGauge()
    marks = {k: tuple(g.figures[k].marks[:3]) for k in KEYS}
    comm_log.clear()
    g.controls["shock[ETH]"].value = -0.2                  # crosses the threshold: colour too
    for k in KEYS:
        bars, line, label = marks[k]
        assert len(comm_log.updates_for(bars)) == 1
        assert comm_log.updates_for(line) == [] and comm_log.updates_for(label) == []
        assert tuple(g.figures[k].marks[:3]) == marks[k]
        assert g.figures[k].marks[0] is bars
    comm_log.clear()
    g.account = Account.from_positions(Market.example(), holdings={"ETH": 1})
    assert len(comm_log.updates_for(scale(g, "health"))) == 1
    assert all(len(comm_log.updates_for(bar(g, k))) == 1 for k in KEYS)


def test_save_restore_round_trip():
    g = HealthGauge()
    g.shock = {"ETH": -0.12, "BTC": 0.05}
    saved = g.get_state_dict()
    other = HealthGauge()
    assert other.set_state_dict(saved)
    assert other.shock == g.shock and other.health == g.health
    state = mark_state(other)
    assert not other.set_state_dict({"shock": {"ETH": -2.0}})
    assert other.problem and mark_state(other)[:4] == state[:4] and other.shock == g.shock


def test_value_beyond_an_axis_gets_an_off_scale_marker():
    # Issue 10: HF 125 was clipped at the end of the 0-3 axis with no marker.
    m = Market.example()
    g = HealthGauge(account=Account.from_positions(m, holdings={"ETH": 10, "USDC": -288.0}))
    assert round(g.health_factor) == 125
    beyond = g.figures["health_factor"].marks[3]
    assert bar(g, "health_factor").y.tolist() == [3.0]            # drawn at the edge ...
    assert list(beyond.text) == ["125.00 (off scale) ▶"]          # ... and marked
    assert beyond.x.tolist() == [3.0] and beyond.align == "end"
    assert list(g.figures["health"].marks[3].text) == [""]                   # inside: no marker
    g = HealthGauge(account=Account.from_positions(m, holdings={"ETH": 10}))
    assert list(g.figures["health_factor"].marks[3].text) == ["∞ (off scale) ▶"]
    acct = Account.from_positions(m, perps={"BTC": 1.0}, entry_prices={"BTC": 200_000.0},
                                  holdings={"USDC": 1_000.0})
    assert list(HealthGauge(account=acct).figures["margin_ratio"].marks[3].text) == ["∞ (off scale) ▶"]


def test_marker_below_an_axis_points_left():
    g = HealthGauge()
    g.shock = {"ETH": -0.99, "BTC": -0.99, "SOL": 3.0}       # health far below the -40k axis
    assert g.health < scale(g, "health").min
    beyond = g.figures["health"].marks[3]
    assert beyond.text[0].startswith("◀ (off scale) -$") and beyond.align == "start"
    assert beyond.x.tolist() == [scale(g, "health").min]


def test_liquidation_prices_are_the_engines_and_zero_health():
    g = HealthGauge()
    m, a = g.market, g.account
    # ETH spot: 10 x P x 0.9 = 30,175 -> P = 3,352.78; BTC perp long 0.1: 5,825 = 0.1 x (100,000
    # - P) x ... (the engine's closed form); one entry per asset held, owed or traded.
    assert list(g.liquidation_prices) == ["BTC", "ETH", "SOL", "USDC"]
    assert g.liquidation_prices["ETH"] == pytest.approx(30_175 / 9)
    for asset, lp in g.liquidation_prices.items():
        assert lp == liquidation_price(a, m, asset)
        prices = m.prices.copy()
        prices[m.index(asset)] = lp
        assert margin_report(a, m, prices).health == pytest.approx(0.0, abs=1e-6), asset
    table = g.table.value
    assert "Liquidation price of each position" in table
    for text in ("ETH: spot 10", "BTC: perp long 0.1", "SOL: perp short 10",
                 "USDC: debt -30,000", "$3,352.78", "-16.2%", "$768.29", "+284.1%"):
        assert text in table, text


def test_liquidation_prices_follow_the_shock_with_other_prices_held():
    g = HealthGauge()
    g.shock = {"BTC": -0.3}                     # the BTC perp loses 3,000: ETH's price nearer
    shocked = g.market.shocked(g.shock)
    want = liquidation_price(g.account, g.market, "ETH", prices=shocked.prices)
    assert g.liquidation_prices["ETH"] == want
    assert want > 30_175 / 9                     # closer to today's 4,000
    assert f"ETH ${want:,.2f} ({(want / 4_000 - 1) * 100:+.1f}%)" in g.summary
    assert g.liquidation_prices["BTC"] == liquidation_price(g.account, g.market, "BTC")


def test_isolated_perp_liquidation_price_is_its_buckets():
    m = Market.example()
    iso = Account.from_positions(m, perps={"BTC": 0.1, "SOL": -10}, cash=1_000, mode="isolated",
                                 isolated_margin={"BTC": 2_000, "SOL": 500})
    g = HealthGauge(account=iso)
    # BTC bucket: 2,000 + 0.1 (P - 100,000) = 0.1 x P x 1.25 % -> P = 8,000 / 0.098750 = 81,012.66
    assert g.liquidation_prices["BTC"] == pytest.approx(8_000 / 0.09875)
    assert g.liquidation_prices == {a: liquidation_price(iso, m, a) for a in ("BTC", "SOL")}
    assert "BTC: perp long 0.1 (isolated bucket)" in g.table.value
    assert "BTC $81,012.66 (-19.0%)" in g.summary


def test_no_liquidation_price_is_said_in_words():
    m = Market.example()
    g = HealthGauge(account=Account.from_positions(m, holdings={"ETH": 10}))
    assert math.isnan(g.liquidation_prices["ETH"])
    assert "no price of this asset alone liquidates it" in g.table.value
    assert g.summary.endswith("Liquidation prices (one price moving, the others held): ETH none.")
