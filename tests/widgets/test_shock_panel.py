import math

import numpy as np
import pytest

from widgets import ShockPanel
from widgets.engine import MarginInputError, Market, crisis_shock
from tests.support.ui import alert_text


def test_default_panel_has_one_slider_per_asset_and_zero_shock():
    panel = ShockPanel()
    m = Market.example()
    assert list(panel.shock) == list(m.assets)
    assert all(v == 0.0 for v in panel.shock.values())
    np.testing.assert_allclose(panel.shocked_prices, m.prices)
    assert panel.summary == "Price moves: none."
    assert list(panel.controls) == [f"shock[{a}]" for a in m.assets] + ["crisis", "reset"]


def test_slider_moves_shock_and_prices():
    panel = ShockPanel()
    panel.controls["shock[ETH]"].value = -0.25
    assert panel.shock["ETH"] == -0.25
    # 4,000 x (1 - 0.25) = 3,000
    assert panel.shocked_prices[1] == 3_000.0
    assert "ETH -25%" in panel.summary


def test_every_slider_moves_an_output():
    panel = ShockPanel()
    for i, asset in enumerate(panel.market.assets):
        before = list(panel.shocked_prices)
        panel.controls[f"shock[{asset}]"].value = 0.1
        assert panel.shocked_prices[i] != before[i], asset


def test_partial_dict_changes_only_the_named_assets():
    panel = ShockPanel()
    panel.shock = {"BTC": -0.1}
    panel.shock = {"ETH": -0.2}
    assert panel.shock == {"BTC": -0.1, "ETH": -0.2, "SOL": 0.0, "USDC": 0.0}
    assert panel.controls["shock[BTC]"].value == -0.1


def test_bad_shock_from_code_shows_message_and_keeps_state():
    panel = ShockPanel()
    panel.shock = {**panel.shock, "BTC": -0.1}
    good = dict(panel.shock), list(panel.shocked_prices)
    shown = {n: c.value for n, c in panel.controls.items() if n.startswith("shock[")}
    for bad, words in (({"BTC": math.nan}, "shock[BTC] must be finite, got nan"),
                       ({"DOGE": 0.1}, "DOGE"),
                       ({"ETH": -1.0}, "shock[ETH]"),
                       ({"ETH": 1e308}, "shock[ETH] must be at most 10"),
                       ({"SOL": "x"}, "shock must be numbers, got 'x' for SOL"),
                       ({str(i): 0.0 for i in range(5_000)}, "at most 1000 entries"),
                       ("30000", "shock must be a dict"),
                       (None, "shock must be a dict")):
        panel.shock = bad
        assert words in panel.problem, (bad if not isinstance(bad, dict) or len(bad) < 9
                                        else "huge", panel.problem)
        assert len(panel.problem) <= 300 and words.split(" ")[0] in alert_text(panel)
        assert (dict(panel.shock), list(panel.shocked_prices)) == good
        assert {n: c.value for n, c in panel.controls.items() if n in shown} == shown
    panel.shock = {**panel.shock, "BTC": -0.2}          # a good value clears the message
    assert panel.problem == ""


def test_bad_constructor_shock_builds_with_zero_moves_and_a_message():
    panel = ShockPanel(shock={"BTC": math.nan})
    assert "shock[BTC] must be finite" in panel.problem
    assert all(v == 0.0 for v in panel.shock.values())
    assert ShockPanel(shock={"BTC": -0.1}).shock["BTC"] == -0.1
    with pytest.raises(MarginInputError, match="market must be a Market"):
        ShockPanel("BTC")


def test_a_move_beyond_the_slider_widens_it():
    panel = ShockPanel()
    panel.shock = {"SOL": 3.0, "ETH": -0.99}
    assert panel.problem == ""
    assert panel.controls["shock[SOL]"].value == 3.0 and panel.controls["shock[SOL]"].max == 3.0
    assert panel.controls["shock[ETH]"].value == -0.99
    assert panel.shocked_prices[2] == pytest.approx(800.0)


def test_crisis_and_reset():
    panel = ShockPanel()
    panel.controls["crisis"].click()
    assert panel.shock == crisis_shock(panel.market)
    assert panel.shock["BTC"] == -0.21 and panel.shock["USDC"] == -0.02
    assert panel.controls["shock[SOL]"].value == -0.35
    panel.controls["reset"].click()
    assert all(v == 0.0 for v in panel.shock.values())


def test_crisis_shock_is_still_importable_from_the_panel_module():
    from widgets.shock_panel import crisis_shock as old
    assert old is crisis_shock


def test_save_restore_round_trip():
    panel = ShockPanel()
    panel.apply_crisis()
    saved = panel.get_state_dict()
    other = ShockPanel()
    assert other.set_state_dict(saved)
    assert other.shock == panel.shock
    assert not other.set_state_dict({"shock": {"BTC": -3.0}})
    assert other.shock == panel.shock and other.problem
