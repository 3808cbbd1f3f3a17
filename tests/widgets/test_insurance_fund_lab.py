import html
import json

import ipywidgets as W
import numpy as np
import pytest

import widgets.insurance_fund_lab as ifl
from widgets import InsuranceFundLab
from widgets.engine import Account, Book, cascade

N = 2_000


def direct(lab, fund, shock=None, depth=None):
    """What a direct engine cascade with this fund says (no replay)."""
    m, s = lab.market, lab.shock if shock is None else shock
    risky = {a: (s if a != "USDC" else 0.0) for a in m.assets}
    return cascade(lab.book, m.replace(depth=m.depth * (depth or lab.depth)), risky, "linear", 30,
                   insurance_fund=fund)


def shown(lab, mark, attr="y"):
    """What a mark draws, from the lab's public chart data."""
    return np.array(lab.chart_data()[mark][attr], dtype=float)


def alert(lab):
    """The message the widget shows (its role=alert box)."""
    return html.unescape(" ".join(c.value for c in lab.children
                                  if isinstance(c, W.HTML) and 'role="alert"' in c.value))


@pytest.fixture
def lab():
    return InsuranceFundLab(n_accounts=N, shock=-0.2)


def test_default_lab_matches_a_direct_cascade():
    lab = InsuranceFundLab()
    assert lab.book.n_accounts == 10_000 and lab.fund == 5e6 and lab.shock == -0.1
    np.testing.assert_array_equal(
        lab.book.perps, Book.random(lab.market, 10_000, seed=0, preset="overheated").perps)
    res = direct(lab, 5e6)
    assert res.bad_debt > 5e6                                    # the fund is not enough
    assert lab.bad_debt == pytest.approx(res.bad_debt)
    assert lab.socialized == pytest.approx(res.socialized_loss)
    assert lab.covered + lab.socialized == pytest.approx(lab.bad_debt, rel=1e-12)
    assert lab.coverage == pytest.approx(lab.covered / lab.bad_debt)
    pen = res.protocol_fee_by_round.sum()
    assert lab.summary.startswith(
        f"Bad debt ${res.bad_debt:,.0f}: the $5,000,000 fund plus ${pen:,.0f} of liquidation "
        f"penalties covers ${res.bad_debt - res.socialized_loss:,.0f}; "
        f"${res.socialized_loss:,.0f} ({res.socialized_loss / res.bad_debt:.0%}) is socialized")


@pytest.mark.parametrize("fund_m", [0.0, 0.5, 2.0, 7.5, 60.0])
def test_fund_slider_equals_direct_engine_cascades(lab, fund_m):
    lab.controls["fund"].value = fund_m
    assert lab.fund == fund_m * 1e6
    res = direct(lab, fund_m * 1e6)
    assert lab.socialized == pytest.approx(res.socialized_loss, abs=1e-6)
    assert lab.covered == pytest.approx(res.bad_debt - res.socialized_loss, abs=1e-6)
    assert lab.covered + lab.socialized == pytest.approx(lab.bad_debt, rel=1e-12)
    assert shown(lab, "marker", "x").tolist() == [fund_m, fund_m]


def test_bars_equal_direct_cascades_at_grid_points(lab):
    y = shown(lab, "bars")
    assert y.shape == (2, 25)
    np.testing.assert_allclose(y.sum(0), 1.0)
    for i in (0, 3, 12, 24):
        res = direct(lab, ifl.FUND_GRID[i])
        assert y[1, i] == pytest.approx(res.socialized_loss / res.bad_debt, abs=1e-12)
    assert np.all(np.diff(y[1]) <= 1e-12)                      # more fund, less socialized


def test_each_change_runs_one_cascade_with_the_fund(lab, monkeypatch):
    calls = []
    monkeypatch.setattr(ifl, "cascade", lambda *a, **k: calls.append(k["insurance_fund"])
                        or cascade(*a, **k))
    lab.fund = 1e6
    lab.fund = 3e6
    assert calls == [1e6, 3e6]
    lab.shock = -0.25
    assert calls == [1e6, 3e6, 3e6]
    assert lab.bad_debt == pytest.approx(direct(lab, 0.0).bad_debt)


@pytest.mark.parametrize("fund", [0.0, 2e6, 30e6])
def test_adl_queue_is_the_engines(lab, fund):
    lab.fund = fund
    res = direct(lab, fund)
    given = res.socialized_by_account
    assert given.sum() == pytest.approx(res.socialized_loss, rel=1e-9, abs=1e-6)
    assert lab.n_deleveraged == int((given > 0).sum())
    top = np.argsort(-given, kind="stable")[:ifl.QUEUE_ROWS]
    top = top[given[top] > 0]
    np.testing.assert_allclose(lab.adl_amounts, given[top])
    np.testing.assert_allclose(given[lab.adl_accounts], lab.adl_amounts)   # the largest, in order
    assert lab.adl_ranks == [int(res.adl_rank[i]) for i in lab.adl_accounts]
    assert not res.liquidated[lab.adl_accounts].any()      # liquidated accounts never pay
    if lab.n_deleveraged:
        i = lab.adl_accounts[0]
        assert f"#{i:,}" in lab.queue_text and "Auto-deleveraging queue" in lab.queue_text
        assert f"{lab.n_deleveraged:,} account" in lab.queue_text
        assert f"{res.socialized_share_by_account[i]:.1%}" in lab.queue_text
    else:
        assert res.socialized_loss == 0 and "nobody is deleveraged" in lab.queue_text


def test_every_control_moves_an_output(lab):
    def outputs():
        return lab.bad_debt, lab.covered, lab.socialized, lab.coverage, lab.summary

    for control, value, trait, expected in [("fund", 1.0, "fund", 1e6),
                                            ("shock", -0.3, "shock", -0.3),
                                            ("depth", 3.0, "depth", 3.0)]:
        before = outputs()
        lab.controls[control].value = value
        assert getattr(lab, trait) == pytest.approx(expected), control
        assert outputs() != before, control


def test_no_bad_debt_shows_no_bars():
    lab = InsuranceFundLab(n_accounts=N, shock=-0.01)
    assert lab.bad_debt == 0 and lab.coverage == 1.0 and lab.socialized == 0
    assert (shown(lab, "bars") == 0).all()            # height 0, never NaN (console errors)
    assert lab.summary.startswith("No bad debt")


@pytest.mark.parametrize("trait, bad, words", [
    ("fund", -1.0, "fund must be in [0, 60,000,000]"),
    ("fund", float("nan"), "fund must be a finite number"),
    ("fund", 1e308, "fund must be in [0,"),
    ("shock", -1.5, "shock must be in [-0.5, 0]"),
    ("shock", 5.0, "shock must be in [-0.5, 0]"),
    ("shock", None, "shock must be a number"),
    ("depth", 0.0, "depth must be in [0.1, 1,000]"),
])
def test_bad_input_shows_message_and_keeps_state(lab, trait, bad, words, recwarn):
    state, summary, bars = lab.get_state_dict(), lab.summary, shown(lab, "bars")
    outs = lab.covered, lab.socialized
    shown_on = {n: c.value for n, c in lab.controls.items()}
    setattr(lab, trait, bad)
    assert words in lab.problem and words in alert(lab)
    assert len(lab.problem) <= 300 and not recwarn.list
    assert lab.get_state_dict() == state and lab.summary == summary
    assert (lab.covered, lab.socialized) == outs
    assert {n: c.value for n, c in lab.controls.items()} == shown_on
    np.testing.assert_array_equal(shown(lab, "bars"), bars)
    lab.fund = 1e6
    assert lab.problem == "" and alert(lab) == ""


def test_bad_constructor_inputs_build_the_default_with_a_message():
    lab = InsuranceFundLab(n_accounts=300, fund=-5.0, shock="x")
    assert (lab.fund, lab.shock) == (5e6, -0.1)
    assert "fund must be in" in lab.problem and "shock must be a number" in lab.problem


def test_book_that_does_not_fit_the_market_is_refused(lab):
    good = lab.book
    lab.book = Book.from_accounts([Account([1.0, 0.0])])        # 2 assets, market has 4
    assert lab.problem and lab.book is good
    lab.book = Book.random(lab.market, 500, seed=1)             # a valid book is accepted
    assert lab.problem == "" and lab.bad_debt == pytest.approx(direct(lab, 0.0).bad_debt)


def test_one_update_per_mark_and_marks_never_replaced(comm_log):
    lab = InsuranceFundLab(n_accounts=N, shock=-0.2)
    figure = lab.figures["coverage"]
    marks = list(figure.marks)
    bars, marker = marks
    comm_log.clear()
    lab.controls["fund"].value = 4.0                          # the bars replay the same cascade
    assert len(comm_log.updates_for(bars)) == 0
    assert len(comm_log.updates_for(marker)) == 1
    comm_log.clear()
    lab.controls["shock"].value = -0.3
    assert len(comm_log.updates_for(bars)) == 1
    assert len(comm_log.updates_for(marker)) <= 1
    assert all(a is b for a, b in zip(figure.marks, marks))


def test_save_restore_round_trip(lab):
    lab.fund, lab.shock, lab.depth = 3e6, -0.15, 10.0
    saved = json.loads(json.dumps(lab.get_state_dict(), sort_keys=True))
    other = InsuranceFundLab(n_accounts=N)
    assert other.set_state_dict(saved)
    assert other.get_state_dict() == lab.get_state_dict()
    assert (other.covered, other.socialized, other.summary) == (lab.covered, lab.socialized,
                                                                lab.summary)
    assert not other.set_state_dict({**saved, "fund": -1.0})
    assert other.get_state_dict() == lab.get_state_dict() and other.problem


def test_depth_control_shows_exactly_30x(lab):
    depth = lab.controls["depth"]
    before = (lab.depth, lab.bad_debt)
    assert depth.value == 30.0 and depth.label == "30×"
    depth.set_state({"index": depth.index})                       # browser echo: no change
    assert (lab.depth, lab.bad_debt) == before
    depth.set_state({"index": depth.index - 1})                   # 20x
    assert lab.depth == 20.0 and lab.bad_debt != before[1]


def test_legend_outside_the_figure_and_no_nan_in_marks(lab):
    assert not any(getattr(m, "display_legend", False) for m in lab.figures["coverage"].marks)
    assert "socialized" in lab.children[-2].children[1].value
    for data in lab.chart_data().values():
        assert np.isfinite(np.asarray(data["y"], dtype=float)).all()


def test_depth_from_code_off_the_grid_is_shown_as_itself():
    lab = InsuranceFundLab(n_accounts=N, depth=10 ** 1.5)          # lesson 06
    depth = lab.controls["depth"]
    assert lab.depth == 10 ** 1.5 and depth.value == 10 ** 1.5 and depth.label == "31.6×"


def test_late_penalties_in_the_summary_are_the_engines(lab):
    from widgets.engine import fund_coverage
    for fund in (0.0, 2e6):
        lab.fund = fund
        cov = fund_coverage(lab.result, fund)
        assert lab.fund_coverage.late_penalties[0] == cov.late_penalties[0]
        late = float(cov.late_penalties[0])
        if cov.socialized[0] > 0 and late >= 0.5:
            assert f"${late:,.0f} of penalties came in after the losses" in lab.summary
        assert lab.coverage == pytest.approx(float(cov.coverage[0]))
