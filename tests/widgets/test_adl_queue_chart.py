import numpy as np
import pytest

from widgets import AdlQueueChart
from widgets.engine import Account, Book, Market, adl_queue

X = Market(["X"], [100.0], maintenance_margin=0.03, initial_margin=0.05)
SHORTS = Book.from_accounts([Account([0.0], perps=[-1.0], entry_prices=[ep], cash=cash)
                             for ep, cash in ((180.0, 250.0), (105.0, 45.0), (101.0, 19.0))])
NAMES = ["hedge", "2x", "5x"]


@pytest.fixture
def chart():
    return AdlQueueChart(SHORTS, X, asset="X", names=NAMES, quantity=1.5, bankruptcy_price=103.0)


def test_bars_equal_the_engine_queue(chart):
    q = adl_queue(SHORTS, X, "X", "short", 1.5, 103.0)
    assert chart.order == NAMES
    data = chart.chart_data()
    assert data["bars"]["x"] == ["1. hedge", "2. 2x", "3. 5x"]
    y = np.array(data["bars"]["y"], dtype=float)
    # reached (vermillion) row: hedge and 2x; not reached: 5x
    np.testing.assert_allclose(y[0], [q.rank[0], q.rank[1], 0.0])
    np.testing.assert_allclose(y[1], [0.0, 0.0, q.rank[2]])
    assert chart.closed_units == [1.0, 0.5, 0.0]
    assert chart.given_up == pytest.approx([3.0, 1.5, 0.0])
    assert data["labels"]["text"] == ["0.135 · closes 1, −$3.00", "0.095 · closes 0.5, −$1.50",
                                      "0.050"]
    value_scale = chart.figures["queue"].axes[1].scale
    assert max(q.rank) <= 0.45 * value_scale.max          # room for the labels
    assert chart.summary.startswith("ADL queue for X shorts, first deleveraged first: 1. hedge "
                                    "(PnL 44.4% × leverage 0.30x = 0.135)")
    assert "hedge closes 1 and gives up $3.00; 2x closes 0.5 and gives up $1.50." in chart.summary


def test_quantity_slider_moves_who_pays(chart):
    chart.controls["quantity"].value = 3.5
    assert chart.quantity == 3.5 and chart.closed_units == [1.0, 1.0, 1.0]
    assert chart.unfilled == pytest.approx(0.5) and "0.5 units are left" in chart.summary
    chart.controls["quantity"].value = 0.0
    assert chart.given_up == [0.0, 0.0, 0.0] and "bankrupt" not in chart.summary


def test_bad_input_is_a_message(chart):
    before = (chart.order, chart.given_up, chart.summary)
    shown = {n: c.value for n, c in chart.controls.items()}
    chart.bankruptcy_price = -5.0
    assert "bankruptcy_price must be in [0, 1,000,000,000,000]" in chart.problem
    assert (chart.order, chart.given_up, chart.summary) == before
    assert chart.bankruptcy_price == 103.0
    chart.bankruptcy_price = 0.0                          # the engine's rule: above 0
    assert "bankruptcy_price must be in (0.0" in chart.problem
    assert chart.bankruptcy_price == 103.0
    chart.asset = "Y"
    assert "asset must be one of ['X']" in chart.problem and chart.asset == "X"
    assert {n: c.value for n, c in chart.controls.items()} == shown
    chart.quantity = 1.0
    assert chart.problem == ""


@pytest.mark.parametrize("name, value, words", [
    ("bankruptcy_price", float("nan"), "bankruptcy_price must be a finite number"),
    ("bankruptcy_price", "103", "bankruptcy_price must be a number"),
    ("quantity", 10**100, "quantity must be in [0, 1,000,000,000,000]"),
    ("quantity", 4.6, "quantity must be at most 4.5 (1.5x the units open on the short side)"),
    ("quantity", float("inf"), "quantity must be a finite number"),
])
def test_absurd_inputs_are_refused_with_the_last_good_state(chart, name, value, words):
    before = (chart.quantity, chart.bankruptcy_price, chart.order, chart.closed_units,
              chart.summary, {n: c.value for n, c in chart.controls.items()})
    setattr(chart, name, value)
    assert words in chart.problem and len(chart.problem) <= 300
    assert (chart.quantity, chart.bankruptcy_price, chart.order, chart.closed_units,
            chart.summary, {n: c.value for n, c in chart.controls.items()}) == before


def test_bad_constructor_inputs_keep_the_default_and_say_so():
    chart = AdlQueueChart(SHORTS, X, asset="X", names=NAMES, bankruptcy_price=float("nan"),
                          quantity=1.5)
    assert chart.bankruptcy_price == 100.0                 # the mark: the default
    assert "bankruptcy_price must be a finite number" in chart.problem
    assert chart.quantity == 1.5 and chart.controls["quantity"].value == 1.5
    assert chart.controls["bankruptcy_price"].value == 100.0
    default = AdlQueueChart(bankruptcy_price="cheap")
    assert default.bankruptcy_price == pytest.approx(1.03 * Market.example().prices[0])
    assert "bankruptcy_price must be a number" in default.problem
    assert AdlQueueChart(quantity=10**100).quantity == 0.0


def test_quantity_slider_reaches_one_and_a_half_times_the_open_units(chart):
    assert chart.max_quantity == 4.5 and chart.controls["quantity"].max == 4.5
    chart.quantity = 4.5
    assert chart.unfilled == pytest.approx(1.5) and chart.controls["quantity"].value == 4.5


def test_empty_queue_and_default():
    losers = Book.from_accounts([Account([0.0], perps=[-1.0], entry_prices=[90.0], cash=50.0)])
    chart = AdlQueueChart(losers, X, asset="X", names=["loser"])
    assert chart.order == [] and "queue is empty" in chart.summary
    default = AdlQueueChart()
    assert default.order[0] == "0.3x hedge, short early" and default.problem == ""


def test_save_restore_round_trip(chart):
    import json
    chart.quantity = 2.2
    saved = json.loads(json.dumps(chart.get_state_dict()))
    other = AdlQueueChart(SHORTS, X, asset="X", names=NAMES)
    assert other.set_state_dict(saved)
    assert (other.closed_units, other.summary) == (chart.closed_units, chart.summary)
    assert not other.set_state_dict({**saved, "bankruptcy_price": 0.0})
    assert other.bankruptcy_price == 103.0 and other.problem
