
import numpy as np
import pytest

from widgets import MarginBreakdown
from widgets.engine import CONTRIBUTION_KINDS as KINDS
from widgets.engine import WATERFALL_STEPS as STEPS
from widgets.engine import Account, Market, example_account, margin_report
from tests.support.ui import alert_text

COLUMNS = ("BTC", "ETH", "SOL", "USDC", "cash")


def engine(shock=None, account=None):
    m = Market.example()
    a = account or example_account(m)
    return margin_report(a, m.shocked(shock or {}))


def bars(bd):
    """(bottom, top) of the visible part of every waterfall bar, stacked as bqplot does.

    bqplot's BarsModel.update_data stacks each column's series from the base: a value >= 0
    from the running positive top upward, a negative one from the running negative bottom
    downward. Series with opacity 0 (the offset) are not seen.
    """
    data = bd.chart_data()["waterfall"]
    y, seen = np.array(data["y"], dtype=float), np.array(data["opacities"]) > 0
    out = []
    for col in y.T:
        up = down = 0.0
        parts = []
        for v, visible in zip(col, seen):
            if v >= 0:
                y0, y1 = up, up + v
                up = y1
            else:
                y0, y1 = down + v, down
                down = y0
            if visible and y1 > y0:
                parts.append((y0, y1))
        lo = min(p[0] for p in parts) if parts else np.nan
        hi = max(p[1] for p in parts) if parts else np.nan
        assert all(abs(a[1] - b[0]) < 1e-9 for a, b in zip(sorted(parts), sorted(parts)[1:]))
        out.append((lo, hi))
    return np.array(out)


def levels(bd):
    """(start, end) of every waterfall bar: the engine's health_waterfall the chart shows."""
    return bd.waterfall.start, bd.waterfall.end


def drawn(bd):
    """Where each bar's drawn end is (a bar thinner than 2 % of the axis is drawn that tall)."""
    b, start = bars(bd), bd.waterfall.start
    return np.where(np.isclose(b[:, 0], start), b[:, 1], b[:, 0])


def y_scale(bd):
    return bd.figures["waterfall"].axes[1].scale


def waterfall_mark(bd):
    return bd.figures["waterfall"].marks[0]


def amounts(bd):
    return bd.chart_data()["amounts"]


def state(bd):
    return (bars(bd).tolist(), amounts(bd)["text"], bd.summary, bd.badge.value,
            bd.table.value, bd.health, bd.contributions, dict(bd.shock), bd.view)


def same(a, b):
    """Equality that treats NaN == NaN (mark data uses NaN for 'no value')."""
    return np.array_equal(np.array(a[0], float), np.array(b[0], float), equal_nan=True) \
        and a[1:] == b[1:]


def test_default_contributions_match_engine_breakdown():
    bd = MarginBreakdown()
    r = engine()
    b = r.breakdown
    c = bd.contributions
    assert set(c) == set(KINDS) and all(tuple(c[k]) == COLUMNS for k in KINDS)
    for i, asset in enumerate(COLUMNS[:-1]):
        assert c["collateral"][asset] == pytest.approx(b["collateral"][i])
        assert c["debt"][asset] == pytest.approx(b["liabilities"][i])
        assert c["perp_pnl"][asset] == pytest.approx(b["perp_pnl"][i])
        assert c["maintenance"][asset] == pytest.approx(b["maintenance"][i])
    # 10 ETH x 4,000 = 40,000 of which 90 % counts: a 4,000 haircut.
    assert c["value"]["ETH"] == 40_000.0 and c["haircut"]["ETH"] == 4_000.0
    assert c["debt"]["USDC"] == 30_000.0
    assert c["maintenance"]["BTC"] == 125.0 and c["maintenance"]["SOL"] == 50.0
    assert sum(c["net"].values()) == pytest.approx(r.health) == bd.health == 5_825.0
    assert bd.summary == ("Health $5,825 = collateral $36,000 (after a $4,000 haircut) − debt "
                          "$30,000 + perp PnL $0 − maintenance $175.")


def test_chart_is_a_true_waterfall_labelled_with_each_contribution():
    # Issue 10: running totals were printed over bars that showed contributions.
    bd = MarginBreakdown()
    start, end = levels(bd)
    np.testing.assert_allclose(start, [0, 40_000, 36_000, 6_000, 6_000, 0])
    np.testing.assert_allclose(end, [40_000, 36_000, 6_000, 6_000, 5_825, 5_825])
    np.testing.assert_allclose(end[:-1] - start[:-1], [40_000, -4_000, -30_000, 0, -175])
    assert (start[1:-1] == end[:-2]).all()               # each bar starts where the last ended
    assert amounts(bd)["text"] == ["$40,000", "-$4,000", "-$30,000", "$0", "-$175", "$5,825"]
    b = bars(bd)                                          # what the browser draws
    # floating: every bar starts at its start level and covers the whole step
    assert (np.isclose(b[:, 0], start) | np.isclose(b[:, 1], start)).all()
    assert (b[:, 0] <= np.minimum(start, end) + 1e-9).all()
    assert (b[:, 1] >= np.maximum(start, end) - 1e-9).all()
    np.testing.assert_allclose(b[:3], [[0, 40_000], [36_000, 40_000], [6_000, 36_000]])
    np.testing.assert_allclose(b[-1], [0, 5_825])
    assert bd.health == pytest.approx(end[-1])
    assert waterfall_mark(bd).colors[-2:] == ["#009E73"] * 2     # health >= 0: green
    opacities = bd.chart_data()["waterfall"]["opacities"]
    assert opacities[0] == 0 and min(opacities[1:]) == 1
    assert "LIQUIDATABLE" not in bd.badge.value and "not liquidatable" in bd.badge.value


def test_small_steps_stay_visible_and_labels_sit_above_their_bars():
    bd = MarginBreakdown(shock={"ETH": -0.2})           # maintenance -$175, health -$1,375
    lo, hi = y_scale(bd).min, y_scale(bd).max
    b = bars(bd)
    heights = np.abs(b[:, 1] - b[:, 0]) / (hi - lo)
    own = np.diff(np.array(levels(bd)).T, axis=1).ravel()
    assert (heights[own != 0] >= 0.02 - 1e-12).all()        # -$175 and -$1,375 are seen
    assert amounts(bd)["text"][-2:] == ["-$175", "-$1,375"]
    np.testing.assert_allclose(amounts(bd)["y"], np.maximum(levels(bd)[0], drawn(bd)))  # on top
    np.testing.assert_allclose(amounts(bd)["y"], b.max(axis=1))
    assert (b >= lo).all() and (b <= hi).all()                # inside the axis
    assert hi - b.max() >= 0.08 * (hi - lo)                  # room for the top label
    assert "LIQUIDATABLE" in bd.badge.value and "-$1,375" in bd.badge.value
    assert waterfall_mark(bd).colors[-2:] == ["#D55E00"] * 2
    assert b[-1, 0] == pytest.approx(-1_375) and b[-1, 1] == pytest.approx(0)


def test_no_legend_in_or_around_the_figure():
    bd = MarginBreakdown()
    assert not any(getattr(m, "display_legend", False) for m in bd.figures["waterfall"].marks)
    assert "background" not in bd.caption.value            # no colour swatches ("■ /")
    stack, html_values = [bd], []
    while stack:
        w = stack.pop()
        html_values.append(str(getattr(w, "value", "")))
        stack.extend(getattr(w, "children", ()) or ())
    assert not any("cml-legend" in v for v in html_values)


def test_big_numbers_are_shortened_on_the_bars():
    from widgets.margin_breakdown import short_money
    assert [short_money(v) for v in (-175, 40_000, 421.3e6, -311e6, -1.25e9, 5.5e6)] == \
        ["-$175", "$40,000", "$421.3M", "-$311.0M", "-$1.25B", "$5.50M"]


def test_slider_moves_chart_table_and_summary_to_engine_numbers():
    bd = MarginBreakdown()
    before = state(bd)
    bd.controls["shock[BTC]"].value = -0.2
    r = engine({"BTC": -0.2})
    # BTC perp loses 0.1 x 20,000 = 2,000; maintenance 0.1 x 80,000 x 1.25 % = 100 (+ SOL 50);
    # health 36,000 - 30,000 - 2,000 - 150 = 3,850.
    assert bd.contributions["perp_pnl"]["BTC"] == pytest.approx(r.breakdown["perp_pnl"][0])
    assert bd.contributions["perp_pnl"]["BTC"] == pytest.approx(-2_000.0)
    assert bd.health == pytest.approx(r.health) == pytest.approx(3_850.0)
    assert levels(bd)[1][-1] == pytest.approx(3_850.0)
    assert amounts(bd)["text"][3] == "-$2,000"
    assert bd.summary == ("Health $3,850 = collateral $36,000 (after a $4,000 haircut) − debt "
                          "$30,000 − perp loss $2,000 − maintenance $150.")
    assert "-$2,000" in bd.table.value
    assert not same(state(bd), before)


def test_every_control_moves_an_output():
    bd = MarginBreakdown()
    for asset in bd.market.assets:
        s = bd.controls[f"shock[{asset}]"]
        before = bd.contributions
        s.value = 0.1
        assert bd.contributions != before, asset
        s.value = 0.0
    bd.controls["view"].value = "Table"
    assert bd.view == "Table"
    assert bd.figures["waterfall"].layout.display == "none" and bd.table.layout.display is None
    bd.controls["view"].value = "Chart"
    assert bd.figures["waterfall"].layout.display is None and bd.table.layout.display == "none"


def test_table_has_caption_theme_colours_and_the_same_numbers():
    bd = MarginBreakdown()
    bd.view = "Table"
    t = bd.table.value
    assert bd.controls["view"].value == "Table"
    assert "<caption" in t and "var(--jp-ui-font-color1)" in t and "var(--jp-border-color2)" in t
    assert "#fff" not in t.lower() and "black" not in t and "white" not in t
    assert t.count("<tr>") == 1 + len(KINDS)
    for text in ("Haircut (not counted)", "$4,000", "$36,000", "$30,000", "$5,825"):
        assert text in t


def test_bad_input_shows_message_and_keeps_state():
    bd = MarginBreakdown()
    bd.shock = {"ETH": -0.1}
    good = state(bd)
    bd.account = Account([1.0, 2.0, 3.0])                  # 3 assets for a 4-asset market
    assert "one entry per market asset" in bd.problem and same(state(bd), good)
    bd.shock = {"ETH": -1.5}
    assert "shock[ETH]" in bd.problem and same(state(bd), good)
    for view in ("Pie", 3, None, ["Chart"]):
        bd.view = view
        assert "view must be one of ['Chart', 'Table']" in bd.problem, view
        assert bd.view == "Chart" and same(state(bd), good)
        assert "view must be" in alert_text(bd) and bd.controls["view"].value == "Chart"
    bd.shock = {"ETH": -0.1, "SOL": 0.01}
    assert bd.problem == ""


def test_no_debt_account_has_no_inf_in_mark_data():
    bd = MarginBreakdown(account=Account.from_positions(Market.example(), holdings={"ETH": 1}))
    data = bd.chart_data()
    assert np.isfinite(data["waterfall"]["y"]).all() and np.isfinite(data["amounts"]["y"]).all()
    assert bd.health == 3_600.0 and 4_000 < y_scale(bd).max <= 5_000.0
    assert "− debt $0" in bd.summary


def test_cash_and_liability_weight_show_in_their_columns():
    m = Market.example()
    acct = Account.from_positions(m, holdings={"BTC": 1.0, "SOL": -100.0}, cash=-20_000.0)
    bd = MarginBreakdown(account=acct)
    r = margin_report(acct, m)
    c = bd.contributions
    assert c["debt"]["cash"] == 20_000.0
    assert c["debt"]["SOL"] == pytest.approx(100 * 200 * 1.1)     # 20,000 debt counted at 110 %
    assert sum(c["collateral"].values()) == pytest.approx(r.weighted_collateral)
    assert sum(c["debt"].values()) == pytest.approx(r.weighted_liabilities)
    assert sum(c["net"].values()) == pytest.approx(r.health) == bd.health


def test_isolated_account_explains_pool_and_buckets():
    m = Market.example()
    acct = Account.from_positions(m, holdings={"ETH": 10}, perps={"BTC": 0.2}, mode="isolated",
                                  isolated_margin={"BTC": 1_000}, cash=-500.0)
    bd = MarginBreakdown(account=acct)
    r = margin_report(acct, m)
    assert bd.health == pytest.approx(r.health) == pytest.approx(1_000 - 20_000 * 0.0125)
    assert levels(bd)[1][-1] == pytest.approx(r.pool_health)
    assert sum(bd.contributions["perp_pnl"].values()) == 0.0
    assert bd.summary.startswith("Pool health $35,500")
    assert "BTC $750" in bd.summary and "account health $750" in bd.summary


def test_one_update_per_mark_and_marks_never_replaced(comm_log):
    bd = MarginBreakdown()
    marks = tuple(bd.figures["waterfall"].marks)
    comm_log.clear()
    bd.controls["shock[BTC]"].value = -0.05                # stays inside the axis
    for mark in marks:
        assert len(comm_log.updates_for(mark)) == 1
    assert comm_log.updates_for(y_scale(bd)) == []          # axis still while the data fit
    comm_log.clear()
    bd.controls["shock[ETH]"].value = -0.3                 # health turns negative: colour too
    assert len(comm_log.updates_for(marks[0])) == 1
    assert bd.figures["waterfall"].marks == list(marks)
    comm_log.clear()
    bd.account = Account.from_positions(Market.example(), holdings={"ETH": 1})
    for mark in (*marks, y_scale(bd)):                      # a new account: new axis, once
        assert len(comm_log.updates_for(mark)) == 1
    assert y_scale(bd).max <= 5_000.0


def test_across_zero_and_below_zero_bars_are_drawn_where_they_belong():
    bd = MarginBreakdown(shock={"ETH": -0.9})              # debt takes the total below zero
    start, end = levels(bd)
    assert (np.isclose(bars(bd)[:, 0], start) | np.isclose(bars(bd)[:, 1], start)).all()
    assert (bars(bd)[:, 0] <= np.minimum(start, end) + 1e-9).all()
    assert (bars(bd)[2] < 0).any() and (bars(bd)[2] > 0).any()      # the debt bar crosses 0


def test_save_restore_round_trip():
    bd = MarginBreakdown()
    bd.shock = {"ETH": -0.25}
    bd.view = "Table"
    saved = bd.get_state_dict()
    assert saved["view"] == "Table" and saved["shock"]["ETH"] == -0.25
    other = MarginBreakdown()
    assert other.set_state_dict(saved)
    assert same(state(other), state(bd))
    assert not other.set_state_dict({"shock": {"ETH": -0.1}, "view": "Pie"})
    assert other.problem and same(state(other)[:-1], state(bd)[:-1])
    assert other.view == "Table"


@pytest.mark.parametrize("shock", [{}, {"ETH": -0.2}, {"ETH": -0.9, "BTC": 2.0}])
def test_bar_labels_fit_their_columns(shock):
    """At a 600 px wide figure (less its margins) each label fits its own column, so labels
    never overlap (0.62 em per character is a generous width for bold digits at 12 px)."""
    bd = MarginBreakdown(shock=shock)
    band = (600 - 100) / len(STEPS)
    assert max(0.62 * 12 * len(t) for t in amounts(bd)["text"]) < band, amounts(bd)["text"]
