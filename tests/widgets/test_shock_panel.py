import numpy as np

from widgets import ShockPanel
from widgets.engine import Market


def test_default_panel_has_one_slider_per_asset_and_zero_shock():
    panel = ShockPanel()
    m = Market.example()
    assert list(panel.shock) == list(m.assets)
    assert all(v == 0.0 for v in panel.shock.values())
    np.testing.assert_allclose(panel.shocked_prices, m.prices)
    assert panel.summary == "Price moves: none."


def test_slider_moves_shock_and_prices():
    panel = ShockPanel()
    panel._sliders["ETH"].value = -0.25
    assert panel.shock["ETH"] == -0.25
    # 4,000 x (1 - 0.25) = 3,000
    assert panel.shocked_prices[1] == 3_000.0
    assert "ETH -25%" in panel.summary


def test_every_slider_moves_an_output():
    panel = ShockPanel()
    for i, (asset, s) in enumerate(panel._sliders.items()):
        before = list(panel.shocked_prices)
        s.value = 0.1
        assert panel.shocked_prices[i] != before[i], asset


def test_bad_shock_from_code_shows_message_and_keeps_state():
    panel = ShockPanel()
    panel.shock = {**panel.shock, "BTC": -0.1}
    good = dict(panel.shock), list(panel.shocked_prices)
    panel.shock = {"BTC": float("nan")}
    assert "shock[BTC]" in panel.problem and "nan" in panel.problem
    assert "shock[BTC]" in panel._problem_box.value
    assert (dict(panel.shock), list(panel.shocked_prices)) == good
    panel.shock = {"DOGE": 0.1}
    assert "DOGE" in panel.problem
    assert (dict(panel.shock), list(panel.shocked_prices)) == good
    panel.shock = {**panel.shock, "BTC": -0.2}          # a good value clears the message
    assert panel.problem == ""


def test_crisis_and_reset():
    panel = ShockPanel()
    panel.apply_crisis()
    assert panel.shock["BTC"] == -0.21 and panel.shock["USDC"] == -0.02
    assert panel._sliders["SOL"].value == -0.35
    panel.reset()
    assert all(v == 0.0 for v in panel.shock.values())


def test_save_restore_round_trip():
    panel = ShockPanel()
    panel.apply_crisis()
    saved = panel.get_state_dict()
    other = ShockPanel()
    assert other.set_state_dict(saved)
    assert other.shock == panel.shock
    assert not other.set_state_dict({"shock": {"BTC": -3.0}})
    assert other.shock == panel.shock and other.problem
