import numpy as np
import pytest

from widgets import SpiralChart
from widgets.engine import Account, Book, Market, liquidation_path

ETH = Market(["ETH"], [2_000.0], asset_weight=0.825, liquidation_penalty=0.05)
PAIR = Book.from_accounts([Account([5.0], cash=-9_000.0), Account([5.0], cash=-9_600.0)])


def shown(chart, mark, attr="y"):
    return np.array(chart.chart_data().get(mark, {}).get(attr, []), dtype=float)


@pytest.fixture
def chart():
    return SpiralChart(PAIR, ETH, names=["A", "B"], close_factor=0.5, calls=4)


def test_lines_equal_a_direct_path(chart):
    path = liquidation_path(PAIR, ETH, 0.5, 4)
    # Penalty on the debt repaid (the venue default), 5 % x half the debt per call; frontier
    # 1 / 1.05 = 0.952.
    # A: debt 9,000 on 10,000: sell 5,000, penalty 225, repay 4,775 -> 4,225 / 5,000 = 0.845
    #    (HF 0.825 x 5,000 / 4,225 = 0.976, still liquidatable); sell 2,500, penalty 105.625,
    #    repay 2,394.375 -> 1,830.625 / 2,500 = 0.73225 (HF 1.127): healthy after call 2.
    # B: 9,600 on 10,000: penalty 240, debt 4,840 / 5,000 = 0.968, equity 160; penalty 121,
    #    2,461 / 2,500 = 0.9844, equity 39; call 3's penalty 61.53 > 39: capped, 1,250 / 1,250.
    np.testing.assert_allclose(shown(chart, "ltv 0"), path.ltv[:, 0])
    np.testing.assert_allclose(shown(chart, "ltv 0"), [0.90, 0.845, 0.73225, 0.73225, 0.73225])
    np.testing.assert_allclose(shown(chart, "ltv 1"), [0.96, 0.968, 0.9844, 1.00])
    np.testing.assert_allclose(shown(chart, "ltv 1", "x"), [0, 1, 2, 3])
    np.testing.assert_allclose(shown(chart, "equity 1"), [400.0, 160.0, 39.0, 0.0], atol=1e-9)
    assert chart.ltv[1] == pytest.approx([0.96, 0.968, 0.9844, 1.00])
    assert chart.rising == [False, True] and chart.frontier == pytest.approx([1 / 1.05] * 2)
    assert shown(chart, "frontier").tolist() == pytest.approx([1 / 1.05] * 2)
    assert chart.chart_data()["frontier_label"]["text"][0].startswith("frontier LTV 0.952:")
    assert all(shown(chart, f"ltv {i}", "x").size == 0 for i in range(2, 6))
    assert chart.summary == (
        "4 calls closing 50% each. A starts below the 0.952 frontier: LTV 0.90 → 0.845 → 0.732 "
        "→ 0.732 → 0.732 (falling); healthy after call 2; equity $1,000 → $669, penalties $331. "
        "B starts above the 0.952 frontier: LTV 0.96 → 0.968 → 0.984 → 1.00 (rising); closed "
        "out at call 4; equity $400 → $0, penalties $400.")


def test_notional_basis_keeps_the_old_frontier():
    from widgets.engine import LiquidationRules
    chart = SpiralChart(PAIR, ETH, names=["A", "B"], calls=4,
                        rules=LiquidationRules.fraction(0.5, "notional"))
    # penalty 5 % of the collateral sold: frontier 1 - 0.05; B 0.96 -> 0.97 -> 0.99 -> 1.00
    assert chart.frontier == pytest.approx([0.95, 0.95])
    assert chart.ltv[1] == pytest.approx([0.96, 0.97, 0.99, 1.00])


def test_default_book_straddles_the_venues_frontier():
    from widgets.spiral_chart import default_book
    from widgets.engine import ltv_frontier
    m = Market.example()
    book, names = default_book(m)
    fr = ltv_frontier(book, m)
    assert fr == pytest.approx([1 / 1.0125] * 2)               # ETH penalty 1.25 % on the debt
    assert names == ["A (LTV 0.92)", "B (LTV 0.991)"]
    chart = SpiralChart()
    assert chart.ltv[0][0] < fr[0] < chart.ltv[1][0] and chart.rising == [False, True]


def boxes_apart_and_inside(placed, width, height):
    boxes = [b for *_, b in placed]
    for i, a in enumerate(boxes):
        assert 0 <= a[0] and a[2] <= width and 0 <= a[1] and a[3] <= height, a
        for b in boxes[:i]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)
    return boxes


def test_axes_fit_the_data_and_labels_do_not_overlap(chart):
    fig = chart.figures["ltv"]
    x_scale, y_scale = fig.axes[0].scale, fig.axes[1].scale
    lo, hi = y_scale.min, y_scale.max
    assert lo <= 0.75 and hi >= 1.0 and hi - lo <= 0.5
    assert 4.2 < x_scale.max < 6                     # the calls, plus room for the end labels
    labels = chart.end_labels
    assert [t for t, *_ in labels["ltv"]] == ["A", "B: closed"]
    # the assumed minimum plot: 460 px wide, 210 (LTV) and 170 (equity) px high
    boxes_apart_and_inside(labels["ltv"], 460, 210)
    boxes_apart_and_inside(labels["equity"], 460, 170)
    # the frontier's label sits under the line at its right end
    assert chart.chart_data()["frontier_label"]["y"][0] < 0.95
    frontier_label = [m for m in fig.marks if getattr(m, "text", None) is not None
                      and list(m.text) and str(m.text[0]).startswith("frontier LTV")]
    assert len(frontier_label) == 1 and frontier_label[0].align == "end"


def test_controls_move_the_chart(chart):
    before = chart.ltv
    chart.controls["close_factor"].value = 0.25
    assert chart.close_factor == 0.25 and chart.ltv != before
    # LTV' = (LTV (1 + p f) - f) / (1 - f) with p 5 % on the debt repaid, f 0.25
    assert chart.ltv[1][:2] == pytest.approx([0.96, (0.96 * (1 + 0.05 * 0.25) - 0.25) / 0.75])
    chart.controls["calls"].value = 2
    assert len(chart.ltv[0]) == 3 and 2.0 < chart.figures["ltv"].axes[0].scale.max < 3.0
    assert chart.figures["equity"].axes[0].scale is chart.figures["ltv"].axes[0].scale


@pytest.mark.parametrize("trait, bad, words", [
    ("close_factor", 1.5, "close_factor must be in [0.05, 1]"),
    ("close_factor", 0.0, "close_factor must be in [0.05, 1]"),
    ("close_factor", float("nan"), "close_factor must be a finite number"),
    ("close_factor", "half", "close_factor must be a number"),
    ("calls", 11, "calls must be in [1, 10]"),
    ("calls", 0, "calls must be in [1, 10]"),
    ("calls", 2.5, "calls must be a whole number"),
    ("calls", 10**100, "calls must be in [1, 10]"),
    ("names", ["only one"], "names must give")])
def test_bad_input_is_a_message(chart, trait, bad, words):
    before = (chart.ltv, chart.summary, shown(chart, "ltv 0").tolist(),
              {n: c.value for n, c in chart.controls.items()})
    setattr(chart, trait, bad)
    assert words in chart.problem and len(chart.problem) <= 300
    assert (chart.ltv, chart.summary, shown(chart, "ltv 0").tolist(),
            {n: c.value for n, c in chart.controls.items()}) == before
    chart.close_factor = 0.4
    assert chart.problem == ""


def test_default_chart_and_one_message_per_mark(comm_log):
    chart = SpiralChart()
    assert chart.rising == [False, True] and chart.problem == ""
    fig = chart.figures["ltv"]
    marks = list(fig.marks)
    comm_log.clear()
    chart.close_factor = 0.3
    assert len(comm_log.updates_for(marks[1])) == 1            # B's LTV line
    assert all(a is b for a, b in zip(fig.marks, marks))
    assert chart.controls["close_factor"].value == 0.3


def test_debt_basis_rules_move_the_frontier():
    from widgets.engine import LiquidationRules
    chart = SpiralChart(PAIR, ETH, names=["A", "B"], rules=LiquidationRules.aave())
    assert chart.frontier == pytest.approx([1 / 1.05, 1 / 1.05])
    path = liquidation_path(PAIR, ETH, calls=4,
                            rules=LiquidationRules.fraction(0.5, penalty_basis="debt"))
    np.testing.assert_allclose(chart.ltv[0], path.ltv[:len(chart.ltv[0]), 0])
    assert chart.rising == [False, True]


def test_save_restore_round_trip(chart):
    import json
    chart.close_factor, chart.calls = 0.3, 6
    saved = json.loads(json.dumps(chart.get_state_dict()))
    other = SpiralChart(PAIR, ETH, names=["A", "B"])
    assert other.set_state_dict(saved)
    assert (other.ltv, other.summary) == (chart.ltv, chart.summary)
    assert not other.set_state_dict({**saved, "calls": 0})
    assert other.calls == 6 and other.problem


def test_constructor_inputs_follow_the_constructor_policy():
    """A refused constructor input leaves the default and says so; the sliders show it."""
    chart = SpiralChart(PAIR, ETH, names=["A", "B"], close_factor=7.0, calls=3)
    assert chart.close_factor == 0.5 and chart.calls == 3
    assert "close_factor must be in [0.05, 1]" in chart.problem
    assert chart.controls["close_factor"].value == 0.5 and chart.controls["calls"].value == 3
    chart = SpiralChart(PAIR, ETH, names=["A", "B"], calls="four")
    assert chart.calls == 4 and "calls must be a whole number" in chart.problem
    assert len(chart.ltv[0]) == 5
