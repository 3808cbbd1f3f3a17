"""CorrelationLab: cross vs isolated liquidation probability as correlation rises (headless)."""
from __future__ import annotations

import html
import math

import ipywidgets as W
import numpy as np
import pytest

from widgets import CorrelationLab
from widgets.engine import (Account, MarginInputError, Market, correlated_returns,
                            diversified_account, isolated_twin, liquidation_probability,
                            margin_report, stress_correlation, with_correlations)

CALM = {"BTC-ETH": 0.8, "BTC-SOL": 0.7, "ETH-SOL": 0.75}
BAD = {"BTC-ETH": 0.9, "ETH-SOL": 0.9, "BTC-SOL": -0.9}


def engine_numbers(pairs=CALM, level=0.0, n=10_000, seed=0, horizon=1.0, account=None):
    """What the widget should show, straight from the engine."""
    m = Market.example()
    base = with_correlations(m, pairs)
    sim = base.replace(correlation=stress_correlation(base.correlation, level))
    cross = account or diversified_account(m)
    twin = isolated_twin(cross, m)
    pc = liquidation_probability(cross, sim, n, seed=seed, horizon_days=horizon)
    pi = liquidation_probability(twin, sim, n, seed=seed, horizon_days=horizon)
    prices = m.prices * (1 + correlated_returns(sim, n, horizon, seed))
    pnl = margin_report(cross, sim, prices=prices).equity - margin_report(cross, m).equity
    return pc, pi, sim.correlation, np.quantile(pnl, [0.01, 0.05, 0.5])


def snapshot(lab):
    return (lab.level, dict(lab.correlations), lab.horizon_days, lab.n_scenarios, lab.seed,
            lab.probability_cross, lab.probability_isolated, lab.effective_correlation,
            *(lab.chart_data()[m]["color" if m == "heatmap" else "y"]
              for m in ("heatmap", "probability", "histogram")), lab.summary)


def shown_text(widget) -> str:
    """Every HTML text the widget shows, through its public ``children``."""
    own = html.unescape(widget.value) if isinstance(widget, W.HTML) else ""
    return own + "".join(shown_text(c) for c in getattr(widget, "children", ()))


def pnl_scales(lab):
    axes = lab.figures["pnl"].axes
    return axes[0].scale, axes[1].scale


def marks(lab) -> list:
    return [m for name in ("correlation", "probability", "pnl") for m in lab.figures[name].marks]


def test_defaults_show_the_engine_numbers():
    lab = CorrelationLab()
    assert (lab.level, lab.correlations, lab.horizon_days, lab.n_scenarios, lab.seed) == (
        0.0, CALM, 1.0, 10_000, 0)
    pc, pi, corr, q = engine_numbers()
    assert (lab.probability_cross, lab.probability_isolated) == (pc, pi)
    assert 0 < pc < pi < 1                       # pooling is safer at calm correlations
    np.testing.assert_array_equal(lab.effective_correlation, Market.example().correlation)
    data = lab.chart_data()
    np.testing.assert_array_equal(data["heatmap"]["color"], corr)
    np.testing.assert_array_equal(data["probability"]["y"], [pc, pi])
    assert lab.pnl_quantiles == pytest.approx(dict(zip(["1%", "5%", "50%"], q)), abs=1e-6)
    assert math.isclose(np.sum(data["histogram"]["y"]), 1.0)
    # health now: 10,000 - MM (625 + 1,000 + 1,250) = 7,125; the line sits at -7,125
    assert lab.health_now == 7_125.0 == lab.result.health_now
    np.testing.assert_array_equal(data["liquidation_line"]["x"], [-7_125.0, -7_125.0])
    assert "$7,125" in data["liquidation_label"]["text"][0]
    np.testing.assert_array_equal(data["histogram"]["y"], lab.histogram.shares)
    assert f"liquidated in {pc:.1%}" in lab.summary and f"in {pi:.1%}" in lab.summary
    assert "BTC-ETH 0.80, BTC-SOL 0.70, ETH-SOL 0.75" in lab.summary
    assert lab.problem == ""


def test_crisis_level_raises_cross_risk_and_erodes_pooling_advantage():
    lab = CorrelationLab()
    cross, iso = [], []
    for level in (0.0, 0.25, 0.5, 0.75, 1.0):
        lab.level = level
        cross.append(lab.probability_cross)
        iso.append(lab.probability_isolated)
    assert cross == sorted(cross) and cross[-1] > cross[0]
    assert iso[-1] < iso[0]                      # isolated failures coincide as rho -> 1
    assert iso[-1] - cross[-1] < iso[0] - cross[0]
    assert lab.effective_correlation[0][1] == 1.0 and "BTC-ETH 1.00" in lab.summary


def test_widget_equals_direct_engine_calls_with_the_same_seed():
    lab = CorrelationLab(n_scenarios=1_000)
    pairs = {"BTC-ETH": 0.3, "BTC-SOL": 0.1, "ETH-SOL": 0.2}
    lab.correlations = pairs
    lab.level, lab.horizon_days, lab.seed = 0.6, 2.0, 7
    pc, pi, corr, q = engine_numbers(pairs, 0.6, 1_000, 7, 2.0)
    assert (lab.probability_cross, lab.probability_isolated) == (pc, pi)
    np.testing.assert_allclose(lab.effective_correlation, corr)
    assert lab.pnl_quantiles["5%"] == pytest.approx(q[1])


def test_impossible_triple_from_sliders_is_explained_and_last_matrix_kept():
    lab = CorrelationLab(n_scenarios=1_000)
    lab.controls["correlations[BTC-ETH]"].value = 0.9
    lab.controls["correlations[ETH-SOL]"].value = 0.9
    good = snapshot(lab)
    lab.controls["correlations[BTC-SOL]"].value = -0.9
    assert "cannot all hold at once" in lab.problem
    assert "BTC-SOL can only be between 0.62 and 1.00, so -0.90 is impossible" in lab.problem
    assert "smallest eigenvalue" in lab.problem
    assert "cannot all hold at once" in shown_text(lab)
    assert snapshot(lab) == good                 # traits, heatmap, bars, summary unchanged
    assert lab.controls["correlations[BTC-SOL]"].value == 0.7  # the slider snaps back
    lab.controls["correlations[BTC-SOL]"].value = 0.8  # still usable; a good value clears it
    assert lab.problem == "" and lab.correlations["BTC-SOL"] == 0.8


def test_impossible_triple_from_code_keeps_everything():
    lab = CorrelationLab(n_scenarios=1_000)
    good = snapshot(lab)
    lab.correlations = BAD
    assert "cannot all hold at once" in lab.problem and "-0.90 is impossible" in lab.problem
    assert snapshot(lab) == good


@pytest.mark.parametrize("name, value, text", [
    ("correlations", {"BTC-ETH": math.nan}, "BTC-ETH must be a number between -1 and 1, got nan"),
    ("correlations", {"BTC-ETH": 1.5}, "between -1 and 1, got 1.5"),
    ("correlations", {"BTC-DOGE": 0.1}, "correlations keys must be among"),
    ("correlations", {"BTC-ETH": "high"}, "must be a number, got 'high'"),
    ("correlations", {"BTC-ETH": True}, "must be a number, got True"),
    ("correlations", [0.1, 0.2], "correlations"),
    ("correlations", {("x" * 5_000): 0.1}, "correlations keys must be among"),
    ("level", 2.0, "level must be in [0, 1], got 2"),
    ("level", math.nan, "level must be a finite number, got nan"),
    ("horizon_days", 0.0, "horizon_days must be in [0.25, 5], got 0"),
    ("horizon_days", math.nan, "horizon_days must be a finite number, got nan"),
    ("n_scenarios", 5_000, "n_scenarios must be one of [1000, 10000, 50000], got 5000"),
    ("n_scenarios", 10**8, "n_scenarios must be one of [1000, 10000, 50000], got 100000000"),
    ("seed", -1, "seed must be in [0, 2147483647], got -1"),
    ("seed", 1.5, "seed must be a whole number, got 1.5"),
    ("account", Account.from_positions(Market.example(), perps={"BTC": 1},
                                       mode="isolated"), "cross mode"),
    ("account", "my book", "account"),
    ("market", 5, "market"),
])
def test_bad_input_from_code_shows_message_and_keeps_state(name, value, text):
    lab = CorrelationLab(n_scenarios=1_000)
    good = snapshot(lab)
    setattr(lab, name, value)
    assert text in lab.problem, lab.problem
    assert len(lab.problem) <= 300 and text in shown_text(lab)
    assert snapshot(lab) == good
    assert lab.account is None
    assert [lab.controls[k].value for k in ("level", "horizon_days", "n_scenarios", "seed")] \
        == [0.0, 1.0, 1_000, 0]                   # the controls still show the last good inputs


def test_bad_constructor_inputs_build_with_the_default_and_say_so():
    lab = CorrelationLab(n_scenarios=10**8, seed=1.5, level=0.5)
    assert (lab.n_scenarios, lab.seed, lab.level) == (10_000, 0, 0.5)
    assert "n_scenarios must be one of" in lab.problem and "seed must be a whole" in lab.problem
    assert len(lab.problem) <= 300 and lab.controls["n_scenarios"].value == 10_000
    assert lab.probability_cross == CorrelationLab(level=0.5).probability_cross
    with pytest.raises(MarginInputError, match="cross mode"):        # not an input: raises
        CorrelationLab(account=Account.from_positions(Market.example(), perps={"BTC": 1},
                                                      mode="isolated"))
    with pytest.raises(MarginInputError, match="market must be a Market"):
        CorrelationLab(market="example")


def test_pair_names_in_either_order_and_partial_updates():
    lab = CorrelationLab(n_scenarios=1_000, correlations={"ETH-BTC": 0.5})
    assert lab.problem == "" and lab.correlations == {**CALM, "BTC-ETH": 0.5}
    assert lab.controls["correlations[BTC-ETH]"].value == 0.5
    lab.correlations = {"SOL-BTC": 0.33}           # off the slider's 0.05 grid: kept exactly
    assert lab.correlations == {**CALM, "BTC-ETH": 0.5, "BTC-SOL": 0.33} and lab.problem == ""
    assert lab.effective_correlation[0][2] == 0.33


def test_one_change_sends_one_update_per_mark_and_keeps_marks(comm_log):
    lab = CorrelationLab(n_scenarios=1_000)
    before = [id(m) for m in marks(lab)]
    hist = lab.figures["pnl"].marks[0]
    for change in (lambda: setattr(lab, "level", 0.5),
                   lambda: lab.controls["correlations[BTC-SOL]"].__setattr__("value", 0.4),
                   lambda: setattr(lab, "account", Account.from_positions(
                       Market.example(), perps={"BTC": 1, "SOL": -500}, cash=12_000.0))):
        comm_log.clear()
        change()
        assert lab.problem == ""
        for mark in marks(lab):
            assert len(comm_log.updates_for(mark)) <= 1, type(mark).__name__
        assert len(comm_log.updates_for(hist)) == 1           # the P&L always moves
    assert [id(m) for m in marks(lab)] == before              # marks updated, never rebuilt
    assert len(before) == 6 and len(lab.figures["pnl"].marks) == 3


def test_every_control_moves_an_output():
    lab = CorrelationLab(n_scenarios=1_000)

    def outputs():
        return (lab.probability_cross, lab.probability_isolated, lab.effective_correlation,
                lab.pnl_quantiles)

    c = lab.controls
    pairs = ("correlations[BTC-ETH]", "correlations[BTC-SOL]", "correlations[ETH-SOL]")
    assert set(c) == {"level", "horizon_days", "n_scenarios", "seed", *pairs, "new_draw"}
    controls = [(c["level"], 0.8), (c["horizon_days"], 3.0), (c["n_scenarios"], 10_000),
                (c["seed"], 5), *((c[k], 0.1) for k in pairs)]
    for control, value in controls:
        before = outputs()
        control.value = value
        assert outputs() != before, control.description
    before = outputs()
    c["new_draw"].click()
    assert lab.seed == 6 and outputs() != before
    before = outputs()
    c["seed"].set_state({"value": 11})                    # as typed in a browser
    assert lab.seed == 11 and outputs() != before


def test_new_book_and_new_market():
    lab = CorrelationLab(n_scenarios=1_000)
    hedged = Account.from_positions(Market.example(), perps={"BTC": 1, "SOL": -500},
                                    cash=12_000.0)
    lab.account = hedged
    pc, pi, _, _ = engine_numbers(n=1_000, account=hedged)
    assert (lab.probability_cross, lab.probability_isolated) == (pc, pi)
    # health now: 12,000 - MM (1,250 + 2,500) = 8,250
    np.testing.assert_array_equal(lab.chart_data()["liquidation_line"]["x"], [-8_250.0] * 2)
    calm = Market.example().replace(correlation=np.eye(4))
    lab.market = calm                              # a new market brings its correlations
    assert lab.correlations == {"BTC-ETH": 0.0, "BTC-SOL": 0.0, "ETH-SOL": 0.0}
    assert lab.controls["correlations[BTC-ETH]"].value == 0.0
    good = snapshot(lab)
    lab.market = Market(["BTC", "USDC"], [1.0, 1.0])
    assert "market must have the assets" in lab.problem and snapshot(lab) == good


def test_save_restore_round_trip():
    lab = CorrelationLab(n_scenarios=1_000)
    lab.correlations = {"BTC-ETH": 0.5}
    lab.level, lab.horizon_days, lab.seed = 0.4, 2.0, 3
    saved = lab.get_state_dict()
    assert saved == {"level": 0.4, "correlations": {**CALM, "BTC-ETH": 0.5},
                     "horizon_days": 2.0, "n_scenarios": 1_000, "seed": 3}
    other = CorrelationLab()
    assert other.set_state_dict(saved)
    assert other.get_state_dict() == saved
    assert other.probability_cross == lab.probability_cross
    assert other.controls["level"].value == 0.4
    assert not other.set_state_dict({**saved, "level": 0.9, "correlations": BAD})
    assert other.get_state_dict() == saved and "cannot all hold" in other.problem


HEDGED = {"perps": {"BTC": 1, "ETH": -25}, "cash": 10_000}


def assert_fitted(lab):
    """Histogram inside its axis with a free row for the line's label; axes fit the data."""
    x, y = pnl_scales(lab)
    data = lab.chart_data()
    share, centres = np.array(data["histogram"]["y"]), np.array(data["histogram"]["x"])
    assert share.max() <= 0.8 * y.max + 1e-12                      # not into the title
    assert share.max() >= 0.25 * y.max                              # and not a sliver
    assert x.min <= centres.min() and centres.max() <= x.max
    lo, hi = lab.histogram.edges[0], lab.histogram.edges[-1]        # bins span the nice range
    np.testing.assert_allclose(centres, lab.histogram.centres)
    inset = (lo - x.min) / (x.max - x.min)
    assert 0.03 <= inset <= 0.05 and np.isclose((x.max - hi) / (x.max - x.min), inset)
    ticks = np.asarray(lab.figures["pnl"].axes[0].tick_values, dtype=float)
    assert ticks[0] >= lo and ticks[-1] <= hi + 1e-9 and 3 <= len(ticks) <= 12   # inside
    line_x = data["liquidation_line"]["x"][0]
    assert x.min <= line_x <= x.max
    # the x axis hugs the data (+-$8k data were drawn on +-$55k)
    q = lab.pnl_quantiles
    width = max(q["50%"] - q["1%"], q["50%"] - line_x, 1.0)          # the line is shown too
    assert x.max - x.min <= 6 * width, (x.min, x.max, q)
    # the line label sits on the roomier side of the line, inside the plot
    frac = (line_x - x.min) / (x.max - x.min)
    line_label = lab.figures["pnl"].marks[2]
    assert line_label.align == ("start" if frac < 0.5 else "end")
    assert data["liquidation_label"]["y"][0] > 0.8 * y.max          # its own row, above bars
    # probabilities: own labels just above their bars, the axis fitted around them
    prob, prob_label = lab.figures["probability"].marks
    p_scale = lab.figures["probability"].axes[1].scale
    p = np.array(data["probability"]["y"])
    assert data["probability_label"]["y"] == list(p) and prob_label.y_offset < 0
    assert data["probability_label"]["text"] == [f"{v:.1%}" for v in p]
    assert not getattr(prob, "label_display", False)
    assert p.max() <= 0.8 * p_scale.max + 1e-12
    assert p_scale.max == float(f"{p_scale.max:.12g}")                # no 0.30000000000000004


def test_hedged_book_histogram_fits_inside_its_axes():
    # Issue 10: the hedged histogram ran past its axis into the title on a +-$55k x axis.
    lab = CorrelationLab(account=Account.from_positions(Market.example(), **HEDGED))
    assert_fitted(lab)
    assert lab.figures["probability"].axes[1].scale.max <= 0.6    # fitted to 34 %, not 0..100 %
    x, _ = pnl_scales(lab)
    assert x.max - x.min <= 30_000
    for change in ({"correlations": {"BTC-ETH": 0.2}}, {"level": 1.0}, {"horizon_days": 5.0},
                   {"horizon_days": 0.25}):
        for k, v in change.items():
            setattr(lab, k, v)
        assert_fitted(lab)


def test_default_book_axes_fit_and_stay_still_for_small_moves():
    lab = CorrelationLab()
    assert_fitted(lab)
    x, y = pnl_scales(lab)
    dom = (x.min, x.max, y.min, y.max)
    lab.seed = 1                                          # another draw of the same model
    assert (x.min, x.max, y.min, y.max) == dom
    lab.level = 1.0
    assert_fitted(lab)


def test_probability_bars_are_blue_and_orange():
    # bqplot colours a 1-D Bars mark per bar only in "group" (or auto) mode; "element" mode
    # gave both bars the first colour in the browser.
    lab = CorrelationLab(n_scenarios=1_000)
    prob = lab.figures["probability"].marks[0]
    assert prob.color_mode in ("group", "auto") and np.ndim(prob.y) == 1
    assert prob.colors == ["#0072B2", "#E69F00"]
