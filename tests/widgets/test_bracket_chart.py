"""BracketChart: its data are the engine's, its summary states them, bad input is held."""
import html

import ipywidgets as W
import numpy as np
import pytest
from bqplot import Figure

from widgets import BracketChart, _ui
from widgets.engine import Account, Book, Market, liquidation_price

# Binance BTCUSDT brackets (historical table, lesson 1); amounts derived: 0, 50, 1,300, 16,300,
# 266,300, ...
BTCUSDT = {"floor": [0, 50_000, 250_000, 1_000_000, 10_000_000, 20_000_000, 50_000_000,
                     100_000_000, 200_000_000, 300_000_000],
           "maintenance": [0.004, 0.005, 0.01, 0.025, 0.05, 0.10, 0.125, 0.15, 0.25, 0.50],
           "initial": [0.008, 0.01, 0.02, 0.05, 0.10, 0.20, 0.25, 1 / 3, 0.50, 1.0]}
BINANCE = Market(["BTC"], [50_000.0], brackets={"BTC": BTCUSDT})


def shown(chart, mark, attr="y"):
    return np.array(chart.chart_data()[mark][attr], dtype=float)


def alert_html(widget) -> str:
    """The HTML of the widget's children that speak as an alert (the problem box)."""
    return "".join(c.value for c in widget.children
                   if isinstance(c, W.HTML) and 'role="alert"' in c.value)


@pytest.fixture
def chart():
    return BracketChart(market=BINANCE, asset="BTC", leverage=10)


def direct(market, notional, leverage, entry):
    """The lesson's own construction: one isolated long per size, notional / leverage posted."""
    longs = Book.from_accounts([
        Account([0.0], perps=[n / entry], entry_prices=[entry], mode="isolated",
                isolated_margin=[n / leverage]) for n in notional])
    lp = liquidation_price(longs, market, "BTC")
    rate = market.maintenance_requirement(notional[:, None])[:, 0] / notional
    return rate, lp


def test_data_equal_direct_engine_calls(chart):
    # sizes from a fifth of the first ceiling (50,000) to just under 20,000,000, the floor
    # from which Binance allows 5x at most
    notional = np.geomspace(10_000, 19_900_000, 300)
    np.testing.assert_allclose(chart.sizes, notional)
    rate, lp = direct(BINANCE, notional, 10, 50_000.0)
    np.testing.assert_allclose(chart.maintenance_rates, rate, rtol=1e-12)
    np.testing.assert_allclose(chart.liquidation_prices, lp, rtol=1e-12)
    np.testing.assert_allclose(shown(chart, "rate", "x"), notional)
    np.testing.assert_allclose(shown(chart, "rate"), rate, rtol=1e-12)
    np.testing.assert_allclose(shown(chart, "price"), lp, rtol=1e-12)
    assert shown(chart, "entry").tolist() == [50_000.0, 50_000.0]
    assert chart.chart_data()["entry_label"]["text"] == ["entry price $50,000.00"]
    # both lines rise with size (a higher bracket: a higher rate, liquidated closer to entry)
    assert np.all(np.diff(rate) >= -1e-15) and np.all(np.diff(lp) >= -1e-9)


def test_summary_states_the_ends(chart):
    # 10,000 USD: 0.2 BTC, 1,000 USD posted, rate 0.4 %: 9,000 / (0.2 x 0.996) = 45,180.72.
    # 19,900,000 USD: 398 BTC, 1,990,000 posted, bracket 10M-20M (5 %, amount 266,300):
    # maintenance 995,000 - 266,300 = 728,700 (3.66 %); LP 17,643,700 / (0.95 x 398) = 46,664.11
    assert chart.maintenance_rates[0] == pytest.approx(0.004)
    assert chart.maintenance_rates[-1] == pytest.approx(728_700 / 19_900_000)
    assert chart.liquidation_prices[0] == pytest.approx(9_000 / 0.1992)
    assert chart.liquidation_prices[-1] == pytest.approx(17_643_700 / (0.95 * 398))
    assert chart.summary == (
        "Isolated BTC longs at 10× entered at $50,000.00, from $10,000 to $19,900,000 of "
        "notional. Maintenance rate: 0.40% at $10,000, 3.66% at $19,900,000. Liquidation "
        "price: $45,180.72 (-9.64% from entry) at $10,000, $46,664.11 (-6.67% from entry) at "
        "$19,900,000.")
    assert chart.problem == "" and any("$46,664.11" in c.value for c in chart.children
                                       if isinstance(c, W.HTML))


def test_entry_price_and_leverage_change_the_data(chart):
    chart.entry_price = 40_000.0
    notional = np.array(chart.sizes)
    rate, lp = direct(BINANCE, notional, 10, 40_000.0)
    np.testing.assert_allclose(chart.liquidation_prices, lp, rtol=1e-12)
    assert "entered at $40,000.00" in chart.summary
    assert shown(chart, "entry").tolist() == [40_000.0, 40_000.0]
    chart.entry_price = None
    chart.leverage = 20                    # 20x: up to just under the 10,000,000 floor (10x)
    assert chart.sizes[-1] == pytest.approx(9_950_000)
    np.testing.assert_allclose(chart.liquidation_prices,
                               direct(BINANCE, np.array(chart.sizes), 20, 50_000.0)[1])


def test_market_without_brackets_draws_flat_lines():
    flat = Market(["BTC"], [50_000.0], maintenance_margin=0.004, initial_margin=0.008)
    chart = BracketChart(market=flat)
    assert chart.problem == ""
    assert chart.sizes[0] == pytest.approx(1e4) and chart.sizes[-1] == pytest.approx(1e7)
    assert np.allclose(chart.maintenance_rates, 0.004)
    # 9,000 / (0.2 x 0.996) at any size (the lesson's "one 0.40 % rate, any size")
    assert np.allclose(chart.liquidation_prices, 45_180.722891566264)
    assert "0.40% at $10,000, 0.40% at $10,000,000" in chart.summary


@pytest.mark.parametrize("name, value, words", [
    ("leverage", 1.0, "leverage must be above 1"),
    ("leverage", 0.5, "leverage must be in [1, 1,000], got 0.5"),
    ("leverage", 500.0, "at most 125"),
    ("leverage", float("nan"), "leverage must be a finite number"),
    ("leverage", 1e308, "leverage must be in [1, 1,000]"),
    ("leverage", "ten", "leverage must be a number"),
    ("entry_price", float("inf"), "entry_price must be a finite number"),
    ("entry_price", 1e308, "entry_price must be in [0, 1,000,000,000,000]"),
    ("entry_price", 1e-300, "overflowed"),
    ("asset", "ETH", "asset must be one of ['BTC']"),
    ("entry_price", -1.0, "entry_price must be in [0, 1,000,000,000,000]"),
    ("entry_price", 0.0, "entry_price must be in (0.0, inf)"),
    ("market", Market(["ETH"], [2_000.0]), "asset must be one of ['ETH']"),
])
def test_bad_input_is_held(chart, name, value, words):
    before = (chart.sizes, chart.maintenance_rates, chart.liquidation_prices, chart.summary,
              shown(chart, "price").tolist(), getattr(chart, name))
    chart.set_trait(name, value) if name == "market" else setattr(chart, name, value)
    assert words in chart.problem and "last valid result" in chart.problem
    assert len(chart.problem) <= 300 and chart.problem in html.unescape(alert_html(chart))
    assert (chart.sizes, chart.maintenance_rates, chart.liquidation_prices, chart.summary,
            shown(chart, "price").tolist(), getattr(chart, name)) == before
    chart.leverage = 5                    # a good input clears the message
    assert chart.problem == "" and "at 5×" in chart.summary


def test_bad_input_at_construction_is_a_message():
    chart = BracketChart(market=BINANCE, leverage=200)
    assert "at most 125" in chart.problem and chart.leverage == 10 and "10×" in chart.summary
    chart = BracketChart(market=BINANCE, leverage="ten")
    assert "leverage" in chart.problem and chart.leverage == 10
    chart = BracketChart(market=BINANCE, asset="DOGE")          # BTC kept
    assert "asset must be one of" in chart.problem and chart.asset == "BTC"
    assert len(chart.sizes) == 300
    chart = BracketChart(market=Market(["ETH"], [2_000.0]))      # no BTC: no good state yet
    assert "asset must be one of ['ETH']" in chart.problem and chart.sizes == []
    chart.asset = "ETH"
    assert chart.problem == "" and len(chart.sizes) == 300 and "ETH longs" in chart.summary


def test_marks_are_updated_in_place(comm_log):
    chart = BracketChart(market=BINANCE, leverage=10)
    figs = (chart.figures["rate"], chart.figures["price"])
    marks = [list(f.marks) for f in figs]
    comm_log.clear()
    chart.leverage = 20
    assert [list(f.marks) for f in figs] == marks
    for fig in figs:
        assert not any("marks" in u.get("state", {}) for u in comm_log.updates_for(fig))
    # one message per line per change (hold_sync): the rate line is the rate figure's first
    # mark, the liquidation price line the price figure's
    assert len(comm_log.updates_for(figs[1].marks[0])) == 1
    assert len(comm_log.updates_for(figs[0].marks[0])) == 1


def test_axes_log_ticks_and_theme_text(chart):
    figs = [w for w in chart.children[1].children if isinstance(w, Figure)]
    assert figs == [chart.figures["rate"], chart.figures["price"]]
    for fig in figs:
        assert type(fig.axes[0].scale).__name__ == "LogScale"
        assert fig.axes[0].tick_values.tolist() == [1e4, 1e5, 1e6, 1e7]
        assert fig.title_style.get("fill") == _ui.TEXT_FILL
        assert all(a.label_color == _ui.TEXT_FILL for a in fig.axes)
    assert figs[1].axes[1].label == "BTC price at liquidation (USD)"
    x = figs[0].axes[0].scale
    assert 5e3 < x.min < 1e4 and 19_900_000 < x.max < 2.5e7
    y_lp, y_rate = figs[1].axes[1].scale, figs[0].axes[1].scale
    lo, hi = y_lp.min, y_lp.max
    assert lo <= min(chart.liquidation_prices) and max(chart.liquidation_prices) <= hi
    assert lo <= 50_000 <= hi                               # the entry line is on the chart
    assert y_rate.min == 0 and max(chart.maintenance_rates) <= y_rate.max


def test_exported_lazily():
    import widgets
    import widgets.bracket_chart
    assert "BracketChart" in widgets.__all__
    assert widgets.BracketChart is widgets.bracket_chart.BracketChart
