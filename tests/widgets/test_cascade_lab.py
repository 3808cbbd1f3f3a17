import html
import json

import numpy as np
import pytest
from ipywidgets.widgets.widget_link import Link

import ipywidgets as W

import widgets.cascade_lab as cl
from widgets import CascadeLab
from widgets.engine import Book, LiquidationRules, Market, cascade

N = 2_000          # a smaller book keeps the tests fast; one test uses the 10,000 default


def engine(book, market, shock=-0.05, depth=30.0, impact="linear", rules=None, fund=0.0):
    """The cascade the lab should show, computed directly (rules None: the venue's)."""
    risky = {a: (shock if a != "USDC" else 0.0) for a in market.assets}
    return cascade(book, market.replace(depth=market.depth * depth), risky, impact, 30,
                   insurance_fund=fund, rules=rules)


MARKS = ("price_lines", "bars", "cum_line", "money_lines")


def shown(lab, mark, attr="y"):
    """What a mark draws, from the lab's public chart data."""
    return np.array(lab.chart_data()[mark][attr], dtype=float)


def scale(lab, mark, axis):
    """A mark's scale, read through the lab's public figures."""
    figure, i = {"price_lines": ("price", 0), "bars": ("liquidated", 0),
                 "cum_line": ("liquidated", 1), "money_lines": ("money", 0)}[mark]
    return lab.figures[figure].marks[i].scales[axis]


def alert(lab):
    """The message the widget shows (its role=alert box)."""
    return html.unescape(" ".join(c.value for c in lab.children
                                  if isinstance(c, W.HTML) and 'role="alert"' in c.value))


def log(lab):
    return "\n".join(lab.event_log)


def same(a, b):
    return np.array_equal(np.asarray(a, float), np.asarray(b, float), equal_nan=True)


@pytest.fixture
def lab():
    return CascadeLab(n_accounts=N, preset="overheated")      # several rounds at -5 %


def test_default_lab_shows_the_engine_cascade():
    lab = CascadeLab()
    m = Market.example()
    res = engine(Book.random(m, 10_000, seed=0, preset="calm"), m)
    assert lab.book.n_accounts == 10_000 and lab.shock == -0.05 and lab.depth == 30.0
    assert (lab.preset, lab.liquidation, lab.close_factor) == ("calm", "restore", 0.5)
    assert lab.controls["close_factor"].disabled          # read only by "fraction"
    assert (lab.n_rounds, lab.n_liquidated) == (res.n_rounds, res.n_liquidated)
    assert res.n_rounds >= 3 and 0 < res.n_liquidated < 10_000        # a real cascade
    assert lab.bad_debt == pytest.approx(res.bad_debt)
    assert lab.socialized_loss == pytest.approx(res.socialized_loss)
    assert lab.final_price_change == pytest.approx(dict(zip(m.assets, res.price_change)))
    assert lab.round == res.n_rounds                                   # whole cascade shown
    btc = f"BTC {res.price_change[0]:+.1%}"
    assert f"A -5% shock became {btc}" in lab.summary
    assert f"{res.n_liquidated:,} of 10,000 accounts liquidated" in lab.summary
    assert f"bad debt ${res.bad_debt:,.0f}" in lab.summary
    # price lines: % change vs reference for rounds 0..R, fitted arrays (no NaN padding)
    y = shown(lab, "price_lines")
    assert y.shape == (4, res.n_rounds + 1)
    np.testing.assert_allclose(y, (res.prices_by_round / m.prices - 1).T)
    np.testing.assert_array_equal(shown(lab, "price_lines", "x"), np.arange(res.n_rounds + 1))
    assert "Stopped: no account left to liquidate." in log(lab)
    assert lab.event_log[0].startswith("Stopped") and lab.event_log[-1].startswith("Shock")


def test_liquidations_shown_equal_the_engine(lab):
    res = engine(lab.book, lab.market)
    bars, cum = shown(lab, "bars"), shown(lab, "cum_line")
    assert bars.shape == (res.n_rounds,) and cum.shape == (res.n_rounds + 1,)
    np.testing.assert_array_equal(bars, res.liquidated_by_round)
    assert cum[res.n_rounds] == res.n_liquidated == lab.n_liquidated
    money = shown(lab, "money_lines")
    assert money[1, res.n_rounds] == pytest.approx(res.bad_debt)
    assert money[0, res.n_rounds] == pytest.approx(res.insurance_fund_by_round[-1])


def test_stepping_changes_the_view_without_an_engine_call(lab, monkeypatch):
    calls = []
    monkeypatch.setattr(cl, "cascade", lambda *a, **k: calls.append(1) or cascade(*a, **k))
    res = lab.result
    before = lab.summary
    slider, play = lab.controls["round"], lab.controls["play"]
    lab.reset()
    assert lab.round == 0 and slider.value == 0 and play.value == 0
    assert (shown(lab, "bars") == 0).all() and shown(lab, "bars").size == res.n_rounds
    y = shown(lab, "price_lines")
    assert y.shape == (4, 2) and np.isfinite(y).all()           # round 0, drawn twice
    assert (y[:, 0] == y[:, 1]).all() and shown(lab, "price_lines", "x").tolist() == [0, 0]
    assert "Showing round 0 of" in lab.summary and lab.summary != before
    lab.step()
    lab.step()
    assert lab.round == 2 and slider.value == 2 and play.value == 2
    np.testing.assert_array_equal(shown(lab, "bars")[:2], res.liquidated_by_round[:2])
    assert (shown(lab, "bars")[2:] == 0).all()
    assert shown(lab, "price_lines").shape == (4, 3)
    assert f"Round 2: {res.liquidated_by_round[1]} accounts liquidated" in log(lab)
    assert "Round 3:" not in log(lab)
    slider.value = 1                                   # the slider (as Play moves it)
    assert lab.round == 1 and play.value == 1
    play.value = 3                                     # Play's own value, kernel side
    assert lab.round == 3 and slider.value == 3
    for _ in range(10):
        lab.step()                                      # stops at the last round
    assert lab.round == lab.n_rounds
    assert calls == []
    lab.shock = -0.1                                    # a parameter change: exactly one call
    assert len(calls) == 1


def test_play_and_round_slider_are_jslinked_and_in_step(lab):
    link, slider, play = lab.playback_link, lab.controls["round"], lab.controls["play"]
    assert isinstance(link, Link)
    assert link.source == (play, "value") and link.target == (slider, "value")
    assert play.max == slider.max == lab.n_rounds
    lab.shock = -0.005                                  # nothing fails: zero rounds
    assert lab.n_rounds == 0 and play.max == slider.max == 0
    assert shown(lab, "price_lines").shape == (4, 2)    # one point per line, not 4
    assert "over 0 rounds" in lab.summary and "no bad debt" in lab.summary
    lab.shock = -0.2                                    # more rounds: both grow, at the end
    assert play.max == slider.max == lab.n_rounds == lab.round == play.value == slider.value
    lab.round = 2.5                                     # refused: both stay where they were
    assert "round must be a whole number" in lab.problem
    assert lab.round == play.value == slider.value == lab.n_rounds
    lab.round = lab.n_rounds + 1                        # past this cascade's end
    assert f"round must be in [0, {lab.n_rounds}]" in lab.problem
    assert lab.round == play.value == slider.value == lab.n_rounds


def test_deeper_market_liquidates_no_more(lab):
    counts = []
    for d in (1.0, 3.0, 10.0, 30.0, 100.0, 1000.0):
        lab.controls["depth"].value = d
        assert lab.depth == pytest.approx(d)
        counts.append(lab.n_liquidated)
        assert lab.n_liquidated == engine(lab.book, lab.market, depth=lab.depth).n_liquidated
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1]


def test_every_control_moves_an_output(lab):
    def outputs():
        return (lab.n_rounds, lab.n_liquidated, lab.bad_debt, lab.socialized_loss,
                tuple(lab.final_price_change.values()), lab.summary)

    moves = [("shock", -0.2, "shock", -0.2), ("depth", 3.0, "depth", 3.0),
             ("impact", "sqrt", "impact", "sqrt"), ("liquidation", "fraction", "liquidation",
                                                     "fraction"),
             ("close_factor", 0.3, "close_factor", 0.3),
             ("insurance_fund", 5.0, "insurance_fund", 5e6), ("preset", "calm", "preset", "calm")]
    for control, value, trait, expected in moves:
        before = outputs()
        lab.controls[control].value = value
        assert getattr(lab, trait) == pytest.approx(expected), control
        assert outputs() != before, control
    res = engine(Book.random(lab.market, N, seed=0, preset="calm"), lab.market, -0.2, 3.0,
                 "sqrt", LiquidationRules.fraction(0.3), 5e6)
    assert lab.socialized_loss == pytest.approx(res.socialized_loss)
    assert shown(lab, "money_lines")[0][0] == 5e6              # fund line starts at the fund
    before = lab.summary
    lab.controls["step"].click()
    lab.controls["reset"].click()
    assert lab.round == 0 and lab.summary != before


def test_parameter_change_shows_the_whole_new_cascade(lab):
    # Issue 10: after an input change the charts held one point (round 1 of the new cascade).
    lab.round = 1
    lab.shock = -0.1
    assert lab.round == lab.n_rounds and lab.controls["round"].value == lab.n_rounds
    assert shown(lab, "price_lines").shape[1] == lab.n_rounds + 1
    lab.reset()
    lab.controls["liquidation"].value = "full"
    assert lab.round == lab.n_rounds == lab.controls["play"].max  # Play (at its max) replays


def test_round_axis_fits_the_cascade_not_the_round_limit(lab):
    for shock in (-0.05, -0.2, -0.005):
        lab.shock = shock
        x = scale(lab, "price_lines", "x")
        assert (x.min, x.max) == (-0.5, max(lab.n_rounds, 1) + 0.5)
        ticks = lab.figures["price"].axes[0].tick_values
        assert ticks[0] == 0 and ticks[-1] <= max(lab.n_rounds, 1) and len(ticks) <= 11
        assert np.array_equal(ticks, np.round(ticks))           # whole rounds only


def test_y_axes_fit_the_data(lab):
    prices, liq = scale(lab, "price_lines", "y"), scale(lab, "cum_line", "y")
    lo, hi = float(np.min(shown(lab, "price_lines"))), float(np.max(shown(lab, "cum_line")))
    assert prices.min <= lo and prices.max > 0 and prices.max - prices.min <= 3 * max(-lo, 0.05)
    assert liq.min == 0 and hi <= liq.max <= 3 * hi                     # not 0..10,000 fixed
    domains = (prices.min, prices.max, liq.min, liq.max)
    lab.reset()
    assert (prices.min, prices.max, liq.min, liq.max) == domains      # still during Play


def test_no_nan_reaches_any_mark(lab):
    """NaN x/y become SVG transform errors in the browser console (1,600+ per lesson)."""
    for change in (lambda: None, lab.reset, lab.step, lambda: setattr(lab, "shock", -0.005),
                   lambda: setattr(lab, "shock", -0.3), lambda: setattr(lab, "insurance_fund", 0.0),
                   lab.reset):
        change()
        for name, data in lab.chart_data().items():
            for attr in ("x", "y"):
                a = np.asarray(data[attr], dtype=float)
                assert a.size and np.isfinite(a).all(), (name, attr, a)


def test_fund_line_visible_from_round_0_on_the_log_scale(lab):
    lab.insurance_fund = 0.0                     # $0 fund: drawn on the log axis' floor
    lab.reset()
    y, sc = shown(lab, "money_lines"), scale(lab, "money_lines", "y")
    assert y.shape == (3, 2) and (y >= sc.min).all() and (y <= sc.max).all()
    lab.insurance_fund = 5e6
    lab.reset()
    assert shown(lab, "money_lines")[0, 0] == 5e6 and sc.max >= 5e6
    lab.round = lab.n_rounds
    assert (shown(lab, "money_lines") <= sc.max).all()


def test_legends_are_outside_the_figures(lab):
    for fig in lab.figures.values():
        assert not any(getattr(m, "display_legend", False) for m in fig.marks)
    legends = " ".join(w.value for w in lab.children[-1].children
                       if hasattr(w, "children") for w in w.children if hasattr(w, "value"))
    for name in ("BTC", "liquidated in the round", "insurance fund", "bad debt so far"):
        assert name in legends


@pytest.mark.parametrize("trait, bad, words", [
    ("shock", float("nan"), "shock must be a finite number"),
    ("shock", -1.5, "shock must be in [-0.5, 0]"),
    ("shock", 5.0, "shock must be in [-0.5, 0], got 5"),      # ran at +500 % before
    ("shock", None, "shock must be a number, got None"),
    ("shock", 1e308, "shock must be in [-0.5, 0]"),
    ("depth", 0.0, "depth must be in [0.1, 1,000]"),
    ("impact", "cubic", "impact must be one of"),
    ("impact", "quadratic", "impact must be one of"),
    ("close_factor", 0.0, "close_factor must be in [0.05, 1]"),
    ("liquidation", "sometimes", "liquidation must be one of"),
    ("liquidation", 3, "liquidation must be one of"),
    ("preset", "panic", "preset must be one of"),
    ("preset", "custom", "preset 'custom' needs a book"),
    ("insurance_fund", -1.0, "insurance_fund must be in [0,"),
    ("insurance_fund", 1e308, "insurance_fund must be in [0,"),
    ("round", 99, "round must be in [0,"),
    ("round", 2.5, "round must be a whole number"),
])
def test_bad_input_shows_message_and_keeps_state(lab, trait, bad, words, recwarn):
    lab.round = 1
    state, summary = lab.get_state_dict(), lab.summary
    data, shown_on = lab.chart_data(), {n: c.value for n, c in lab.controls.items()
                                        if hasattr(c, "value")}
    setattr(lab, trait, bad)
    assert words in lab.problem and words in alert(lab)
    assert len(lab.problem) <= 300 and not recwarn.list          # no warning into the cell
    assert lab.get_state_dict() == state and lab.summary == summary
    assert {n: c.value for n, c in lab.controls.items() if hasattr(c, "value")} == shown_on
    for name in MARKS:
        for attr in ("x", "y"):
            assert same(lab.chart_data()[name][attr], data[name][attr])
    lab.shock = -0.06                              # a good value clears the message
    assert lab.problem == "" and alert(lab) == ""


def test_bad_constructor_inputs_build_the_default_with_a_message():
    lab = CascadeLab(n_accounts=300, shock=5.0, depth=0, round=2.5)
    assert (lab.shock, lab.depth) == (-0.05, 30.0) and lab.round == lab.n_rounds
    for words in ("shock must be in", "depth must be in", "round must be a whole number"):
        assert words in lab.problem
    good = CascadeLab(n_accounts=300, round=1, shock=-0.2)      # round applied last
    assert (good.shock, good.round, good.problem) == (-0.2, 1, "")


def test_one_update_per_mark_and_marks_never_replaced(comm_log):
    lab = CascadeLab(n_accounts=N)
    marks = [m for f in lab.figures.values() for m in f.marks]
    figs = [list(f.marks) for f in lab.figures.values()]
    for change in (lambda: setattr(lab.controls["shock"], "value", -0.12),
                   lambda: setattr(lab.controls["depth"], "value", 10.0),
                   lab.reset, lab.step, lambda: setattr(lab.controls["round"], "value", 3)):
        comm_log.clear()
        change()
        counts = [len(comm_log.updates_for(m)) for m in marks]
        assert all(c <= 1 for c in counts) and counts[0] == 1, counts
    assert [list(f.marks) for f in lab.figures.values()] == figs
    assert all(a is b for f, fm in zip(lab.figures.values(), figs) for a, b in zip(f.marks, fm))


def test_save_restore_round_trip(lab):
    lab.shock, lab.depth, lab.impact, lab.close_factor = -0.12, 10.0, "exponential", 0.5
    lab.insurance_fund = 2e6
    lab.round = 2
    saved = json.loads(json.dumps(lab.get_state_dict(), sort_keys=True))   # round sorts early
    other = CascadeLab(n_accounts=N)
    assert other.set_state_dict(saved)
    assert other.get_state_dict() == lab.get_state_dict()
    assert other.round == 2 and other.summary == lab.summary
    assert same(shown(other, "price_lines"), shown(lab, "price_lines"))
    assert not other.set_state_dict({**saved, "depth": -3.0})
    assert other.get_state_dict() == lab.get_state_dict() and other.problem


def test_depth_control_shows_exactly_30x_and_is_wide(lab, monkeypatch):
    # Issue 10: the log slider read 31.6 where the lesson says 30x and could not return to 30.
    depth = lab.controls["depth"]
    assert depth.value == 30.0 and depth.label == "30×" and depth.layout.width.startswith("calc")
    assert {1.0, 3.0, 10.0, 30.0, 100.0, 1000.0} <= {v for _, v in depth.options}
    calls = []
    monkeypatch.setattr("widgets.cascade_lab.cascade",
                        lambda *a, **k: calls.append(1) or cascade(*a, **k))
    lab.depth = 10 ** 1.5                          # off the grid from code: shown as itself
    assert depth.value == 10 ** 1.5 and depth.label == "31.6×" and len(calls) == 1
    depth.set_state({"index": depth.index})        # the browser echoing it: no change
    assert lab.depth == 10 ** 1.5 and len(calls) == 1
    depth.set_state({"index": depth.index + 1})    # a learner's move: 50x
    assert lab.depth == 50.0 and len(calls) == 2
    assert 10 ** 1.5 not in [v for _, v in depth.options]     # back on the round grid
    depth.set_state({"index": [v for _, v in depth.options].index(30.0)})
    assert lab.depth == 30.0                       # and back to exactly 30


def test_scales_show_exactly_their_domain(lab):
    # bqplot pads a scale for marks with markers or text unless told not to: the browser drew
    # axes that were neither the kernel's domain nor round numbers.
    for fig in lab.figures.values():
        for axis in fig.axes:
            assert axis.scale.allow_padding is False


def test_log_axis_ticks_are_powers_of_ten(lab):
    for fund in (0.0, 5e6):
        lab.insurance_fund = fund
        ticks = np.asarray(lab.figures["money"].axes[1].tick_values, dtype=float)
        sc = scale(lab, "money_lines", "y")
        assert ticks[0] == sc.min and ticks[-1] <= sc.max and 2 <= len(ticks) <= 7
        np.testing.assert_allclose(np.log10(ticks), np.round(np.log10(ticks)))


@pytest.mark.parametrize("liquidation, rules", [
    ("restore", None), ("aave", "aave"), ("full", "full"),
    ("fraction", LiquidationRules.fraction(0.25))])
def test_liquidation_control_runs_the_engines_convention(lab, liquidation, rules):
    lab.close_factor = 0.25
    lab.controls["liquidation"].value = liquidation
    assert lab.liquidation == liquidation
    assert lab.controls["close_factor"].disabled == (liquidation != "fraction")
    res = engine(lab.book, lab.market, rules=rules)
    assert lab.result.rules.convention == res.rules.convention
    assert (lab.n_rounds, lab.n_liquidated) == (res.n_rounds, res.n_liquidated)
    assert lab.bad_debt == pytest.approx(res.bad_debt)
    assert lab.protocol_fee == pytest.approx(res.protocol_fee_by_round.sum())
    assert lab.liquidator_bonus == pytest.approx(res.liquidator_bonus_by_round.sum())
    # Aave pays 90 % of the bonus to the liquidator; the other conventions pay the fund
    assert (lab.liquidator_bonus > lab.protocol_fee) == (liquidation == "aave")


def test_preset_switches_the_book_and_a_given_book_is_custom():
    lab = CascadeLab(n_accounts=N)
    calm = lab.n_liquidated
    lab.preset = "overheated"
    np.testing.assert_array_equal(
        lab.book.perps, Book.random(lab.market, N, seed=0, preset="overheated").perps)
    assert lab.n_liquidated > 3 * calm
    lab.preset = "calm"
    assert lab.n_liquidated == calm
    given = Book.random(lab.market, 300, seed=4)
    custom = CascadeLab(book=given)
    assert custom.preset == "custom" and custom.book is given
    assert custom.controls["preset"].layout.display == "none"
    custom.preset = "calm"
    assert "a book was given" in custom.problem and custom.preset == "custom"
    built = CascadeLab(book=given, preset="overheated")         # the constructor policy
    assert built.preset == "custom" and "a book was given" in built.problem
    assert built.n_liquidated == custom.n_liquidated
