import numpy as np
import pytest

from widgets import AdlQueueChart
from widgets.engine import Account, Book, Market
from widgets.engine.mechanics import adl_queue

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
    assert list(chart._bars.x) == ["1. hedge", "2. 2x", "3. 5x"]
    y = np.array(chart._bars.y, dtype=float)
    # reached (vermillion) row: hedge and 2x; not reached: 5x
    np.testing.assert_allclose(y[0], [q.rank[0], q.rank[1], 0.0])
    np.testing.assert_allclose(y[1], [0.0, 0.0, q.rank[2]])
    assert chart.closed_units == [1.0, 0.5, 0.0]
    assert chart.given_up == pytest.approx([3.0, 1.5, 0.0])
    assert list(chart._text.text) == ["0.135 · closes 1, −$3.00", "0.095 · closes 0.5, −$1.50",
                                      "0.050"]
    assert max(q.rank) <= 0.45 * chart._val.max          # room for the labels
    assert chart.summary.startswith("ADL queue for X shorts, first deleveraged first: 1. hedge "
                                    "(PnL 44.4% × leverage 0.30x = 0.135)")
    assert "hedge closes 1 and gives up $3.00; 2x closes 0.5 and gives up $1.50." in chart.summary


def test_quantity_slider_moves_who_pays(chart):
    chart._controls["quantity"].value = 3.5
    assert chart.quantity == 3.5 and chart.closed_units == [1.0, 1.0, 1.0]
    assert chart.unfilled == pytest.approx(0.5) and "0.5 units are left" in chart.summary
    chart._controls["quantity"].value = 0.0
    assert chart.given_up == [0.0, 0.0, 0.0] and "bankrupt" not in chart.summary


def test_bad_input_is_a_message(chart):
    before = (chart.order, chart.given_up, chart.summary)
    chart.bankruptcy_price = -5.0
    assert "bankruptcy_price must be in (0.0" in chart.problem
    assert (chart.order, chart.given_up, chart.summary) == before
    assert chart.bankruptcy_price == 103.0
    chart.asset = "Y"
    assert "asset must be one of ['X']" in chart.problem and chart.asset == "X"
    chart.quantity = 1.0
    assert chart.problem == ""


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
