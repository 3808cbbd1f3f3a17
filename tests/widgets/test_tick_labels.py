"""Axis tick labels read exactly (issue 10): a percent or money axis shows as many decimals as
its tick step needs ("2.5%", not "3%"), and no two ticks meet at a chart's origin.

The labels are rendered here with a small copy of d3-format's rules for the formats the
components use (``f``, ``%``, ``s`` with ``$``, ``,`` and ``~``), so the checks run headless.
"""
from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest

from widgets import _ui
from widgets.engine import Market
from widgets.policy_frontier import PolicyFrontier, origin_free

_SPEC = re.compile(r"^(?P<cur>\$?)(?P<comma>,?)(?:\.(?P<p>\d+))?(?P<trim>~?)(?P<type>[f%s])$")
_SI = {-12: "p", -9: "n", -6: "µ", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T"}


def _fixed(x: float, p: int, comma: str = "") -> str:
    """JavaScript's toFixed: the exact binary value, ties away from zero (2.5 -> "3")."""
    q = Decimal(x).quantize(Decimal(1).scaleb(-p), rounding=ROUND_HALF_UP)
    return f"{q:{comma}.{p}f}"


def d3_label(fmt: str, v: float) -> str:
    """What d3-format writes for ``v`` (only the spec shapes above)."""
    m = _SPEC.match(fmt)
    assert m, f"unsupported format {fmt!r}"
    p = int(m["p"]) if m["p"] else 6
    comma = "," if m["comma"] else ""
    if m["type"] == "%":
        body, suffix = _fixed(abs(v) * 100, p, comma), "%"
    elif m["type"] == "f":
        body, suffix = _fixed(abs(v), p, comma), ""
    else:
        a = abs(v)
        if a == 0:
            body, suffix = f"{0:.{max(p - 1, 0)}f}", ""
        else:
            e = math.floor(math.log10(a))          # rounded to p significant digits first
            a = float(Decimal(a).quantize(Decimal(1).scaleb(e - p + 1), rounding=ROUND_HALF_UP))
            k = int(min(12, max(-12, math.floor(math.log10(a) / 3) * 3)))
            mant = a / 10 ** k
            body = _fixed(mant, max(p - 1 - math.floor(math.log10(mant)), 0))
            suffix = _SI[k]
    if m["trim"] and "." in body:
        body = body.rstrip("0").rstrip(".")
    return ("-" if v < 0 and float(re.sub(r"[^\d.]", "", body) or 0) != 0 else "") + \
        m["cur"] + body + suffix


def parse_label(label: str) -> float:
    scale = 0.01 if label.endswith("%") else 1.0
    core = label.rstrip("%")
    for exp, sym in _SI.items():
        if sym and core.endswith(sym):
            core, scale = core[:-1], 10.0 ** exp
    return float(core.replace("$", "").replace(",", "")) * scale


def unreadable_ticks(axis) -> list:
    """Ticks whose label does not read back as the tick's value (or repeats another's)."""
    fmt = axis.tick_format
    ticks = np.asarray([] if axis.tick_values is None else axis.tick_values, dtype=float)
    if not fmt or not ticks.size or not _SPEC.match(fmt):
        return []
    labels = [d3_label(fmt, t) for t in ticks]
    step = float(np.min(np.diff(np.sort(ticks)))) if ticks.size > 1 else 1.0
    bad = [(t, lab) for t, lab in zip(ticks, labels)
           if abs(parse_label(lab) - t) > 1e-6 * max(step, 1e-12)]
    if len(set(labels)) < len(labels):
        bad.append(("repeated", labels))
    return bad


def test_d3_label_copy():
    assert [d3_label(".0%", t) for t in (0.0, 0.025, 0.05, 0.075)] == ["0%", "3%", "5%", "8%"]
    assert d3_label(".1%", 0.075) == "7.5%" and d3_label("$,.0f", -12_500) == "-$12,500"
    assert d3_label("$.2~s", -12_500) == "-$13k" and d3_label("$.3~s", 7_500) == "$7.5k"
    assert d3_label("$.2s", 1e6) == "$1.0M" and d3_label("$~s", 2.5e6) == "$2.5M"


def test_the_check_fails_on_whole_percents_for_a_2_5_percent_step():
    axis = _ui.figure("t", _ui.fixed_scale(0, 1), _ui.fixed_scale(0, 1), [],
                      y_format=".0%").axes[1]
    axis.tick_values, axis.tick_format = [0.0, 0.025, 0.05, 0.075], ".0%"
    assert unreadable_ticks(axis)                       # "3%" for 2.5 %, "8%" for 7.5 %
    _ui.set_ticks(axis, [0.0, 0.025, 0.05, 0.075])
    assert axis.tick_format == ".1%" and not unreadable_ticks(axis)
    _ui.set_ticks(axis, [0.0, 0.2, 0.4])                # back to a coarse step: whole percents
    assert axis.tick_format == ".0%"


def test_followed_y_axis_adapts_its_format_when_the_domain_changes():
    ys = _ui.fixed_scale(0.0, 1.0)
    axis = _ui.figure("t", _ui.fixed_scale(0, 1), ys, [], y_format=".0%",
                      height="280px").axes[1]
    assert not unreadable_ticks(axis)
    ys.min, ys.max = 0.0, 0.09                           # steps of 1 % or 2.5 %
    assert not unreadable_ticks(axis), (list(axis.tick_values), axis.tick_format)
    ys.min, ys.max = 0.0, 0.0009
    assert not unreadable_ticks(axis), (list(axis.tick_values), axis.tick_format)


def _all_axes(widget):
    from bqplot import Figure
    seen, stack = [], [widget]
    while stack:
        w = stack.pop()
        if isinstance(w, Figure):
            seen.extend(w.axes)
        stack.extend(getattr(w, "children", ()) or ())
    return seen


@pytest.fixture(scope="module")
def correlation_lab():
    from widgets import CorrelationLab
    return CorrelationLab()


def test_correlation_lab_ticks_read_exactly(correlation_lab):
    axes = [a for a in _all_axes(correlation_lab) if a.tick_values is not None
            and len(a.tick_values)]
    assert axes, "CorrelationLab has no axis with explicit ticks"
    for a in axes:
        assert not unreadable_ticks(a), (a.label, a.tick_format, list(a.tick_values))


@pytest.mark.parametrize("lo, hi", [(0.0, 0.075), (0.0, 0.09), (0.0, 0.3), (0.0, 0.012),
                                    (0.0, 0.003)])
def test_correlation_lab_share_axis_for_small_probabilities(correlation_lab, lo, hi):
    """The 'share of scenarios' axes when the probabilities are small (7.5 / 5 / 2.5 % ticks
    used to read "8%, 5%, 3%")."""
    for fig in (correlation_lab.figures["pnl"], correlation_lab.figures["probability"]):
        scale = fig.axes[1].scale
        scale.min, scale.max = lo, hi
        assert not unreadable_ticks(fig.axes[1]), (lo, hi, list(fig.axes[1].tick_values),
                                                   fig.axes[1].tick_format)


@pytest.fixture(scope="module")
def frontier():
    m = Market.example()
    f = PolicyFrontier(baseline=m, n_accounts=400, shock={"BTC": -0.25, "ETH": -0.25,
                                                          "SOL": -0.25})
    f.add("today", m)
    f.add("initial x2", m.replace(initial_margin=m.initial_margin * 2))
    f.add("maintenance x2", m.replace(maintenance_margin=m.maintenance_margin * 2))
    return f


def test_policy_frontier_ticks_read_exactly(frontier):
    for a in frontier.figures["frontier"].axes:
        assert len(a.tick_values) >= 3 and not unreadable_ticks(a), (a.tick_format,
                                                                     list(a.tick_values))


def test_policy_frontier_origin_has_one_tick_label(frontier):
    """The x tick "0%" sat on the y tick "0" at the bottom-left corner (browser overlap check,
    lesson 08): only one of the two is drawn."""
    x_axis, y_axis = frontier.figures["frontier"].axes
    x_lo, y_lo = x_axis.scale.min, y_axis.scale.min
    x_at = np.isclose(np.asarray(x_axis.tick_values, float), x_lo).any()
    y_at = np.isclose(np.asarray(y_axis.tick_values, float), y_lo).any()
    assert x_lo == 0.0 and y_lo == 0.0, "the test expects both axes to start at 0"
    assert not (x_at and y_at), (list(x_axis.tick_values), list(y_axis.tick_values))
    assert y_at, "the y axis keeps its 0 (no bad debt)"


def test_origin_free_can_fail():
    x = np.array([0.0, 0.5, 1.0])
    assert origin_free(x, (0.0, 1.0), np.array([0.0, 2.0]), (0.0, 2.0)).tolist() == [0.5, 1.0]
    assert origin_free(x, (0.0, 1.0), np.array([1.0, 2.0]), (0.5, 2.0)).tolist() == x.tolist()


def test_every_chart_title_and_axis_label_uses_the_theme_text_colour(correlation_lab, frontier):
    """bqplot paints titles and axis labels orange under JupyterLab's dark theme; every figure
    of a component overrides that with the theme's text colour (inline, so it wins)."""
    from widgets import AdlQueueChart, BracketChart, PoolingLab, SpiralChart
    from bqplot import Figure
    for widget in (correlation_lab, frontier, AdlQueueChart(), PoolingLab(), SpiralChart(),
                   BracketChart()):
        figs, stack = [], [widget]
        while stack:
            w = stack.pop()
            if isinstance(w, Figure):
                figs.append(w)
            stack.extend(getattr(w, "children", ()) or ())
        assert figs, type(widget).__name__
        for fig in figs:
            assert fig.title_style.get("fill") == _ui.TEXT_FILL, (type(widget).__name__, fig.title)
            for a in fig.axes:
                assert a.label_color == _ui.TEXT_FILL, (type(widget).__name__, fig.title, a.label)
