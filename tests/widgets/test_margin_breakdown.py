
import numpy as np
import pytest

from widgets import MarginBreakdown
from widgets._account_view import example_account
from widgets.engine import Account, Market, margin_report
from widgets.margin_breakdown import KINDS, STEPS

COLUMNS = ("BTC", "ETH", "SOL", "USDC", "cash")


def engine(shock=None, account=None):
    m = Market.example()
    a = account or example_account(m)
    return margin_report(a, m.shocked(shock or {}))


def state(bd):
    return (bd._bars.y.tolist(), bd._running.y.tolist(), list(bd._totals.text), bd.summary,
            bd._table.value, bd.health, bd.contributions, dict(bd.shock), bd.view)


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


def test_chart_columns_add_up_to_health():
    bd = MarginBreakdown()
    y = bd._bars.y
    assert y.shape == (len(COLUMNS) + 1, len(STEPS))
    totals = np.nansum(y, axis=0)
    np.testing.assert_allclose(totals, [40_000, -4_000, -30_000, 0, -175, 5_825])
    np.testing.assert_allclose(bd._running.y, [40_000, 36_000, 6_000, 6_000, 5_825, 5_825])
    assert list(bd._totals.text) == ["$40,000", "$36,000", "$6,000", "$6,000", "$5,825",
                                     "$5,825"]
    assert y[1, 1] == -4_000.0                           # ETH's haircut, drawn below zero
    assert np.isnan(y[:-1, -1]).all() and np.isnan(y[-1, :-1]).all()
    assert bd._bars.labels == [*COLUMNS, "health"]
    assert bd._totals.y.tolist() == [0.92 * bd._y.max] * len(STEPS)   # a row along the top


def test_slider_moves_chart_table_and_summary_to_engine_numbers():
    bd = MarginBreakdown()
    before = state(bd)
    bd._panel._sliders["BTC"].value = -0.2
    r = engine({"BTC": -0.2})
    # BTC perp loses 0.1 x 20,000 = 2,000; maintenance 0.1 x 80,000 x 1.25 % = 100 (+ SOL 50);
    # health 36,000 - 30,000 - 2,000 - 150 = 3,850.
    assert bd.contributions["perp_pnl"]["BTC"] == pytest.approx(r.breakdown["perp_pnl"][0])
    assert bd.contributions["perp_pnl"]["BTC"] == pytest.approx(-2_000.0)
    assert bd.health == pytest.approx(r.health) == pytest.approx(3_850.0)
    assert bd._running.y[-1] == pytest.approx(3_850.0)
    assert bd.summary == ("Health $3,850 = collateral $36,000 (after a $4,000 haircut) − debt "
                          "$30,000 − perp loss $2,000 − maintenance $150.")
    assert "-$2,000" in bd._table.value
    assert not same(state(bd), before)


def test_every_control_moves_an_output():
    bd = MarginBreakdown()
    for asset, s in bd._panel._sliders.items():
        before = bd.contributions
        s.value = 0.1
        assert bd.contributions != before, asset
        s.value = 0.0
    bd._toggle.value = "Table"
    assert bd.view == "Table"
    assert bd._figure.layout.display == "none" and bd._table.layout.display is None
    bd._toggle.value = "Chart"
    assert bd._figure.layout.display is None and bd._table.layout.display == "none"


def test_table_has_caption_theme_colours_and_the_same_numbers():
    bd = MarginBreakdown()
    bd.view = "Table"
    t = bd._table.value
    assert bd._toggle.value == "Table"
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
    bd.view = "Pie"
    assert "view must be" in bd.problem and bd.view == "Chart" and same(state(bd), good)
    bd.shock = {"ETH": -0.1, "SOL": 0.01}
    assert bd.problem == ""


def test_no_debt_account_has_no_inf_in_mark_data():
    bd = MarginBreakdown(account=Account.from_positions(Market.example(), holdings={"ETH": 1}))
    for arr in (bd._bars.y, bd._running.y, bd._totals.y):
        assert not np.isinf(arr).any()
    assert bd.health == 3_600.0 and bd._y.max == 5_000.0   # 1.25 x 4,000, rounded up
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
    assert bd._running.y[-1] == pytest.approx(r.pool_health)
    assert sum(bd.contributions["perp_pnl"].values()) == 0.0
    assert bd.summary.startswith("Pool health $35,500")
    assert "BTC $750" in bd.summary and "account health $750" in bd.summary


def test_one_update_per_mark_and_marks_never_replaced(comm_log):
    bd = MarginBreakdown()
    marks = (bd._bars, bd._running, bd._totals)
    comm_log.clear()
    bd._panel._sliders["ETH"].value = -0.3                 # health turns negative: colour too
    for mark in marks:
        assert len(comm_log.updates_for(mark)) == 1
    assert (bd._bars, bd._running, bd._totals) == marks
    assert bd._figure.marks == list(marks)
    assert comm_log.updates_for(bd._y) == []                # axis fixed while shocking
    comm_log.clear()
    bd.account = Account.from_positions(Market.example(), holdings={"ETH": 1})
    for mark in (*marks, bd._y):                            # a new account: new axis, once
        assert len(comm_log.updates_for(mark)) == 1
    assert bd._y.max == 5_000.0 and bd._totals.y.tolist() == [4_600.0] * len(STEPS)


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
