"""Shared pieces of every component: palette, labelled controls, figures, summaries, errors.

Components follow ipywidgets' own style (``widget_int.py``, ``widget_box.py``): a class that
subclasses a box, inputs as settable traits, outputs as ``read_only`` traits set with
``set_trait``, and ``observe`` for events. Charts are bqplot object-model figures built once; a
change updates mark data in place inside ``hold_sync()`` so each mark sends one message.
"""
from __future__ import annotations

import contextlib
import html
import json
import functools
import re
import reprlib
import warnings
from functools import cached_property

import ipywidgets as W
import numpy as np
import traitlets as T
from bqplot import Axis, Figure, LinearScale, OrdinalScale

from . import _controls
from .engine import Account, Book, MarginInputError

# Okabe & Ito (2008) colour-blind-safe palette; meaning is never carried by colour alone (every
# mark also has a label, legend or text summary).
PALETTE = {
    "blue": "#0072B2", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "vermillion": "#D55E00", "purple": "#CC79A7", "grey": "#999999",
}
CROSS = PALETTE["blue"]
ISOLATED = PALETTE["orange"]
DANGER = PALETTE["vermillion"]
SAFE = PALETTE["green"]
NEUTRAL = PALETTE["grey"]

# Full width less the 2 px margin ipywidgets puts on each side of a widget; plain "100%" overflows
# its box by 4 px and gives every component a horizontal scrollbar.
FULL_WIDTH = "calc(100% - 4px)"

# Theme-aware text styles: JupyterLab CSS variables, so dark themes read as well as light ones.
_TEXT = "color: var(--jp-ui-font-color1); font-size: var(--jp-ui-font-size1);"
_MUTED = "color: var(--jp-ui-font-color2);"
_ERROR = ("color: var(--jp-error-color1); border-left: 3px solid var(--jp-error-color1); "
          "padding-left: 6px;")


def money(x: float, signed: bool = False) -> str:
    """``$12,000`` / ``-$3,500`` / ``+$20`` (``signed``); ``n/a`` for non-finite values."""
    if x is None or not np.isfinite(x):
        return "n/a"
    sign = "-" if x < 0 else ("+" if signed and x > 0 else "")
    return f"{sign}${abs(x):,.0f}"


def _not_finite(x) -> str | None:
    """``n/a`` for a missing value, ``∞`` / ``-∞`` for infinities, None for a number."""
    if x is None or np.isnan(x):
        return "n/a"
    if np.isinf(x):
        return "∞" if x > 0 else "-∞"
    return None


def pct(x: float, digits: int = 1) -> str:
    """``12.5%``; ``inf`` or ``n/a`` spelled out (no debt: a margin ratio of 0, HF of ∞)."""
    return _not_finite(x) or f"{x:.{digits}%}"


def ratio(x: float, digits: int = 2) -> str:
    """``1.07``; ``inf`` or ``n/a`` spelled out."""
    return _not_finite(x) or f"{x:.{digits}f}"


def slider(description: str, value: float, min: float, max: float, step: float,
           fmt: str = ".0%", continuous: bool = True, tooltip: str = "") -> _controls.Slider:
    """A labelled, keyboard-operable slider: its visible label is its accessible name, arrow
    keys step it, and a screen reader hears the value in its unit ("-5 %", "30,000 USD";
    ``fmt`` is ".N%", ".Nf", ",.Nf" or "$,.Nf"). See :mod:`widgets._controls`."""
    return _controls.Slider(
        value=value, min=min, max=max, step=step, description=description,
        readout_format=fmt, continuous_update=continuous, tooltip=tooltip or description,
        layout=W.Layout(width=FULL_WIDTH))


def int_slider(description: str, value: int, min: int, max: int, step: int = 1,
               tooltip: str = "", continuous: bool = True) -> _controls.IntSlider:
    """:func:`slider` over whole numbers (rounds, calls)."""
    return _controls.IntSlider(
        value=value, min=min, max=max, step=step, description=description,
        continuous_update=continuous, tooltip=tooltip or description,
        layout=W.Layout(width=FULL_WIDTH))


def play(interval: int = 700, description: str = "Play", tooltip: str = "") -> _controls.Play:
    """A "Play" / "Pause" text button (named, unlike ipywidgets' icon-only Play); ``jslink`` its
    ``value`` to an :func:`int_slider`."""
    return _controls.Play(value=0, min=0, max=0, step=1, interval=interval,
                          description=description, tooltip=tooltip)


def shows(control, value) -> bool:
    """True when ``control`` already displays ``value`` as closely as its step allows.

    A slider snaps a value that is off its grid (30 on a log slider stepping 10**0.05) and sends
    the snapped value back; treating that echo as a new input would silently change the scenario
    (and every number in a lesson) the moment the widget is displayed.
    """
    if isinstance(control, (W.SelectionSlider, _controls.SelectionSlider)):   # nearest option
        try:
            return float(control.value) == nearest([v for _, v in control.options], value)
        except (TypeError, ValueError):
            return False
    try:
        shown, value, step = float(control.value), float(value), float(control.step)
    except (AttributeError, TypeError, ValueError):
        return False
    if isinstance(control, W.FloatLogSlider):
        if shown <= 0 or value <= 0:
            return False
        base = float(control.base)
        shown, value = np.log(shown) / np.log(base), np.log(value) / np.log(base)
    return abs(shown - value) <= step / 2 + 1e-12


def display_value(control, value) -> None:
    """Show ``value`` on ``control``: a selection slider shows its nearest option, a slider
    clamps a value beyond its range (the trait keeps the exact value)."""
    if isinstance(control, (W.SelectionSlider, _controls.SelectionSlider)):
        if control.options and control.options[0][1] == DEPTHS[0]:     # a depth slider
            options = depth_options(value)
            if [v for _, v in options] != [v for _, v in control.options]:
                control.options = options
        control.value = nearest([v for _, v in control.options], value)
    else:
        control.value = value


def summary_box() -> W.HTML:
    """An HTML widget for a chart's live text summary (screen readers announce changes)."""
    return W.HTML(value="", layout=W.Layout(width=FULL_WIDTH))


def set_summary(box: W.HTML, text: str) -> None:
    box.value = (f'<div role="status" aria-live="polite" style="{_TEXT}">'
                 f"{html.escape(text)}</div>")


def scroll_region(label: str, inner: str, max_height: str = "") -> str:
    """``inner`` (HTML) in a scrolling box a keyboard can reach: ``tabindex=0`` (arrow keys
    scroll it once focused) and a name (``role=region``, ``aria-label``), as axe-core's
    ``scrollable-region-focusable`` asks. Put the scrolling here, not on the widget's layout:
    the widget's own element cannot carry ``tabindex``."""
    height = f" max-height: {max_height};" if max_height else ""
    return (f'<div role="region" aria-label="{html.escape(label)}" tabindex="0" '
            f'style="overflow: auto;{height}">{inner}</div>')


def problem_box() -> W.HTML:
    return W.HTML(value="", layout=W.Layout(width=FULL_WIDTH))


#: Chart titles and axis labels: the theme's main text colour. bqplot's own CSS paints them
#: ``--bq-content-font-color``, which it sets to *orange* under JupyterLab's dark theme
#: (``[data-jp-theme-light='false']``): 2.0-2.4:1 on the light-grey plot, unreadable next to
#: the orange isolated bars. Inline styles win over that rule, in JupyterLab and in Voila.
TEXT_FILL = "var(--jp-ui-font-color1)"


def theme_text(fig: Figure) -> Figure:
    """Give ``fig``'s title and axis labels the theme's text colour (see :data:`TEXT_FILL`)."""
    fig.title_style = {**fig.title_style, "fill": TEXT_FILL}
    for axis in fig.axes:
        axis.label_color = TEXT_FILL
    return fig


def figure(title: str, x_scale, y_scale, marks, x_label: str = "", y_label: str = "",
           height: str = "280px", y_format: str = "", x_format: str = "") -> Figure:
    """A figure whose scales the component sets (fixed, or fitted with :func:`fit_scale`, which
    keeps them while the data stay inside), no animation while dragging, and no bqplot legend
    (use :func:`with_legend`: a legend outside the plotted area)."""
    # label_offset keeps axis titles clear of the tick labels (they overlapped at bqplot's
    # default offset with money ticks like "$1.5M").
    plot_px = float(str(height).removesuffix("px")) - 90 if str(height).endswith("px") else 200
    axes = [Axis(scale=x_scale, label=x_label, tick_format=x_format or None,
                 label_offset="35px"),
            Axis(scale=y_scale, side="left", label=y_label, tick_format=y_format or None,
                 label_offset="58px")]
    if type(y_scale) is LinearScale:
        # About one round y tick per 40 px of plot height: bqplot's default of ~10 ticks
        # overlaps its own labels in a 220 px figure ("$100" on "$200"), and its num_ticks
        # splits a domain evenly ("-13%", "-27%").
        follow_nice_ticks(axes[1], max(3, int(plot_px // 40)))
    return theme_text(Figure(
        title=title, marks=marks, axes=axes, animation_duration=0,
        fig_margin={"top": 40, "bottom": 50, "left": 80, "right": 20},
        legend_location="top-right",
        layout=W.Layout(width=FULL_WIDTH, height=height, min_width="300px")))


# -- axes that fit the data ----------------------------------------------------------------
_NICE_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)


def nice_step(span: float, ticks: int = 5) -> float:
    """A round tick step (1, 2, 2.5 or 5 x 10^k) giving about ``ticks`` intervals over ``span``."""
    raw = abs(float(span)) / max(ticks, 1)
    if not np.isfinite(raw) or raw <= 0:
        return 1.0
    e = 10.0 ** np.floor(np.log10(raw))
    return float(next(m * e for m in _NICE_STEPS if m * e >= raw * (1 - 1e-12)))


def nice_domain(values, current=None, include=(0.0,), pad: float = 0.08,
                shrink: float = 0.3, ticks: int = 5) -> tuple[float, float]:
    """A round axis domain that fits ``values`` and stays put while they stay inside it.

    The data (finite ``values`` plus ``include``, e.g. 0 or a threshold) are padded by ``pad``
    of their span on each side that is not exactly 0 (room for a label), then rounded outwards
    to a multiple of :func:`nice_step`. Hysteresis: ``current`` (the domain on screen) is kept
    while the padded data lie inside it and span at least ``shrink`` of it, so dragging a slider
    does not make the axis jump; it changes once the data leave it or shrink far inside it.

    >>> nice_domain([5_200.0, 8_900.0, -1_300.0])
    (-2500.0, 10000.0)
    >>> nice_domain([5_300.0, 9_100.0], current=(-2500.0, 10000.0))   # still inside: kept
    (-2500.0, 10000.0)
    >>> nice_domain([50_000.0], current=(-2500.0, 10000.0))           # left it: refitted
    (0.0, 60000.0)
    """
    v = np.asarray(values, dtype=float).ravel()
    v = np.concatenate([v[np.isfinite(v)], np.asarray(include, dtype=float).ravel()])
    if v.size == 0:
        v = np.array([0.0, 1.0])
    lo, hi = float(v.min()), float(v.max())
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    lo_p = lo - pad * span if lo != 0 else lo
    hi_p = hi + pad * span if hi != 0 else hi
    if current is not None:
        c_lo, c_hi = float(current[0]), float(current[1])
        if c_lo <= lo_p and hi_p <= c_hi and (hi_p - lo_p) >= shrink * (c_hi - c_lo):
            return c_lo, c_hi
    step = nice_step(hi_p - lo_p if hi_p > lo_p else span, ticks)
    lo_n, hi_n = np.floor(lo_p / step) * step, np.ceil(hi_p / step) * step
    if hi_n <= lo_n:
        hi_n = lo_n + step
    # 12 significant digits: 6 x 0.05 is 0.30000000000000004, a tick label nobody wants
    return float(f"{lo_n:.12g}") + 0.0, float(f"{hi_n:.12g}") + 0.0


def fit_scale(scale, values, **kwargs) -> bool:
    """Set ``scale``'s min/max to :func:`nice_domain` of ``values`` (keeping it if it fits).

    Returns True when the domain changed. Call it inside the caller's ``hold_sync`` if the
    scale should send one message.
    """
    current = None if scale.min is None or scale.max is None else (scale.min, scale.max)
    lo, hi = nice_domain(values, current, **kwargs)
    if current == (lo, hi):
        return False
    with scale.hold_sync():
        scale.min, scale.max = lo, hi
    return True


def off_scale(values, lo: float, hi: float):
    """Values drawn inside ``[lo, hi]`` and which ones are beyond it (-1 below, +1 above, 0 in).

    A value beyond an axis is drawn at the edge *and* marked (see :func:`off_scale_text`), so a
    learner never reads a clipped bar as the true value. NaN stays NaN (no value).
    """
    v = np.asarray(values, dtype=float)
    side = np.where(v > hi, 1, np.where(v < lo, -1, 0))
    return np.clip(v, lo, hi), side


def off_scale_text(text: str, side: int) -> str:
    """``"125 ▶"`` past the top of an axis, ``"◀ -$2M"`` below it, the text itself inside."""
    return f"{text} ▶" if side > 0 else (f"◀ {text}" if side < 0 else text)


def legend(items) -> W.HTML:
    """A legend as HTML *outside* the figure (bqplot's legend is drawn over the plot area).

    ``items``: ``(colour, label, kind)`` with kind ``"line"``, ``"dashed"``, ``"bar"`` or
    ``"dot"``; every item has its words (colour is never the only carrier of meaning).
    """
    def glyph(colour, kind):
        if kind in ("line", "dashed"):
            style = "dashed" if kind == "dashed" else "solid"
            return (f'<span style="display:inline-block; width:1.6em; height:0; border-top:3px '
                    f'{style} {colour}; vertical-align:middle; margin-right:4px;"></span>')
        radius = "50%" if kind == "dot" else "2px"
        return (f'<span style="display:inline-block; width:0.8em; height:0.8em; background:'
                f'{colour}; border-radius:{radius}; vertical-align:middle; margin-right:4px;">'
                f'</span>')
    spans = "".join(f'<span style="margin-right:14px; white-space:nowrap;">'
                    f'{glyph(c, k)}{html.escape(label)}</span>' for c, label, k in items)
    return W.HTML(f'<div class="cml-legend" style="{_TEXT} padding-left:12px;">{spans}</div>',
                  layout=W.Layout(width=FULL_WIDTH))


def with_legend(fig: Figure, items) -> W.VBox:
    """``fig`` with an HTML :func:`legend` under it (the pair keeps the figure's flex)."""
    box = W.VBox([fig, legend(items)], layout=W.Layout(min_width=fig.layout.min_width))
    fig.layout.width = FULL_WIDTH
    return box


# Market depth multiples a learner can pick: 1-2-3-5 per decade, so round values such as 30x
# (the lesson's default) are exact (a log slider stepping 10**0.05 cannot return to 30).
DEPTHS = (0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 50.0, 100.0, 200.0,
          300.0, 500.0, 1000.0)


def nearest(options, value: float) -> float:
    """The option closest to ``value`` on a log scale (depths are multiples)."""
    opts = np.asarray(options, dtype=float)
    v = float(value)
    if not np.isfinite(v) or v <= 0:
        return float(opts[0])
    return float(opts[np.argmin(np.abs(np.log(opts) - np.log(v)))])


def depth_options(extra: float | None = None) -> list:
    """``(label, value)`` pairs of :data:`DEPTHS`, plus ``extra`` if it is off that grid (a
    depth set from code, e.g. 10**1.5, is shown as itself: "31.6×", never as its neighbour)."""
    values = list(DEPTHS)
    if extra is not None and np.isfinite(extra) and extra > 0 and \
            not any(np.isclose(extra, d, rtol=1e-9) for d in DEPTHS):
        values = sorted(values + [float(extra)])
    return [(f"{d:g}×" if d in DEPTHS else f"{d:.3g}×", d) for d in values]


def depth_slider(value: float = 30.0) -> _controls.SelectionSlider:
    """Market depth as a multiple of the venue's: a slider over :data:`DEPTHS`, full width
    (a screen reader hears "30x")."""
    options = depth_options(value)
    return _controls.SelectionSlider(
        options=options, value=nearest([v for _, v in options], value),
        description="Market depth (× venue)", continuous_update=False,
        tooltip="Multiple of the venue's order-book depth (deeper: smaller price impact)",
        layout=W.Layout(width=FULL_WIDTH))


def nice_ticks(lo: float, hi: float, max_ticks: int = 5) -> np.ndarray:
    """Round tick values inside ``[lo, hi]``: multiples of a :func:`nice_step`, at most
    ``max_ticks`` of them.

    >>> nice_ticks(-0.4, 0.0, 5).tolist()
    [-0.4, -0.3, -0.2, -0.1, 0.0]
    >>> nice_ticks(0.0, 30_000.0, 4).tolist()
    [0.0, 10000.0, 20000.0, 30000.0]
    >>> nice_ticks(0.0, 35_000.0, 4).tolist()
    [0.0, 10000.0, 20000.0, 30000.0]
    """
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        return np.array([])
    e = 10.0 ** np.floor(np.log10((hi - lo) / max(int(max_ticks), 1))) / 10
    for step in (m * e * 10.0 ** k for k in range(4) for m in (1, 2, 2.5, 5)):
        first, last = np.ceil(lo / step - 1e-9), np.floor(hi / step + 1e-9)
        if last - first + 1 <= max_ticks:               # the finest round step that fits
            break
    return np.array([float(f"{v:.12g}") + 0.0 for v in np.arange(first, last + 0.5) * step])


_FIXED_FORMAT = re.compile(r"^(?P<head>[^.]*)\.(?P<p>\d+)(?P<trim>~?)(?P<type>[f%])$")
_SI_FORMAT = re.compile(r"^(?P<head>[^.]*)\.(?P<p>\d+)(?P<trim>~?)s$")


def _decimals(values) -> int:
    """The fewest decimals (0-6) that write every value exactly: 7.5 -> 1, 0.25 -> 2."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    for d in range(7):
        if np.all(np.abs(np.round(v, d) - v) <= 1e-9 * np.maximum(1.0, np.abs(v))):
            return d
    return 6


def tick_format(fmt: str, ticks) -> str:
    """``fmt`` (a d3 format) with enough precision to tell the ``ticks`` apart exactly.

    Fixed-point (``f``) and percent (``%``) formats get as many decimals as the tick step
    needs, SI formats (``s``) as many significant digits; a format without an explicit
    precision (d3's default of 6) or of another type is returned unchanged. The precision never
    drops below the one ``fmt`` asks for.

    >>> tick_format(".0%", [0.0, 0.025, 0.05, 0.075])     # not "0%, 3%, 5%, 8%"
    '.1%'
    >>> tick_format(".0%", [0.0, 0.2, 0.4])
    '.0%'
    >>> tick_format("$,.0f", [0.0, 0.5, 1.0, 1.5])
    '$,.1f'
    >>> tick_format("$.2~s", [-12_500.0, -5_000.0, 0.0, 7_500.0])   # "$-13k" was "-12.5k"
    '$.3~s'
    >>> tick_format("$~s", [2.5e6]), tick_format("d", [1.0, 2.0])
    ('$~s', 'd')
    """
    m = _FIXED_FORMAT.match(fmt or "")
    t = np.asarray(ticks, dtype=float).ravel()
    t = t[np.isfinite(t)]
    if m and t.size:
        scaled = t * (100.0 if m["type"] == "%" else 1.0)
        p = max(int(m["p"]), _decimals(scaled))
        return f"{m['head']}.{p}{m['trim']}{m['type']}"
    m = _SI_FORMAT.match(fmt or "")
    if m and t.size:
        nz = np.abs(t[t != 0])
        if nz.size == 0:
            return fmt
        kilo = 1000.0 ** np.floor(np.log10(nz) / 3 + 1e-12)
        mant = np.round(nz / kilo, 9)
        sig = np.floor(np.log10(mant) + 1e-12) + 1 + [_decimals([x]) for x in mant]
        p = max(int(m["p"]), int(sig.max()))
        return f"{m['head']}.{p}{m['trim']}s"
    return fmt


def set_ticks(axis, values, fmt: str | None = None) -> None:
    """Put the axis' ticks at ``values`` and its labels in :func:`tick_format` of its base
    format (``fmt``, else the one the axis was built with), so every tick reads differently
    and exactly ("2.5%", not "3%")."""
    base = fmt if fmt is not None else getattr(axis, "_cml_base_format", axis.tick_format)
    axis._cml_base_format = base
    values = np.asarray(values, dtype=float) + 0.0      # -0.0 would read "-$0" in d3-format
    with axis.hold_sync():
        axis.tick_values = values
        if base:
            axis.tick_format = tick_format(base, values)


def follow_nice_ticks(axis, max_ticks: int) -> None:
    """Keep ``axis.tick_values`` on :func:`nice_ticks` of its scale's domain as it changes.

    A component that sets ``tick_values`` itself takes over: once the axis holds values this
    helper did not set, it leaves them alone.
    """
    state = {"mine": None}

    def update(_=None):
        current = np.asarray(axis.tick_values, dtype=float)
        if state["mine"] is not None and not np.array_equal(current, state["mine"]):
            return                                  # someone else manages these ticks
        sc = axis.scale
        if sc.min is None or sc.max is None:
            return
        state["mine"] = nice_ticks(float(sc.min), float(sc.max), max_ticks)
        set_ticks(axis, state["mine"])

    axis.scale.observe(update, names=["min", "max"])
    update()


def fixed_scale(lo: float, hi: float) -> LinearScale:
    """A linear scale showing exactly ``[lo, hi]``.

    ``allow_padding=False``: otherwise bqplot widens the domain in the browser for marks with
    text or markers (the kernel's round 0..$30k became -$1.2k..$36k with ticks at $11k, $24k).
    """
    return LinearScale(min=float(lo), max=float(hi), allow_padding=False)


def ordinal_scale(domain) -> OrdinalScale:
    return OrdinalScale(domain=list(domain))


def is_real(value) -> bool:
    """True for a real number (Python or numpy int or float); False for a bool, a string
    ("2"), None or anything else a learner might type."""
    return isinstance(value, (int, float, np.integer, np.floating)) \
        and not isinstance(value, (bool, np.bool_))


def _num(x: float) -> str:
    """A bound or value as a reader writes it: 50,000,000 / 0.05 / -0.5 / 1e+308."""
    if x == int(x) and abs(x) < 1e15:
        return f"{int(x):,}"
    return f"{x:g}"


class Finite(T.Float):
    """A finite float input with inclusive bounds (the range of the control that shows it).

    NaN, ±inf, a value outside ``[min, max]`` and anything that is not a real number (a
    string, None, a bool) are refused with a message that names the input and its range.
    """

    def validate(self, obj, value):
        name = self.name
        if not is_real(value):
            raise T.TraitError(f"{name} must be a number, got {short_repr(value)}")
        value = float(value)
        if not np.isfinite(value):
            raise T.TraitError(f"{name} must be a finite number, got {value}")
        if (self.min is not None and value < self.min) or \
                (self.max is not None and value > self.max):
            raise T.TraitError(f"{name} must be in [{_num(self.min)}, {_num(self.max)}], "
                               f"got {_num(value)}")
        return value


class Whole(T.Int):
    """A whole-number input with inclusive bounds; 1.5, "3", True and None are refused."""

    def validate(self, obj, value):
        name = self.name
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise T.TraitError(f"{name} must be a whole number, got {short_repr(value)}")
        value = int(value)
        if (self.min is not None and value < self.min) or \
                (self.max is not None and value > self.max):
            raise T.TraitError(f"{name} must be in [{self.min}, {self.max}], got {value}")
        return value


class Choice(T.Enum):
    """One of a fixed set of names (a toggle's options); anything else is refused by name."""

    def validate(self, obj, value):
        if value in self.values and isinstance(value, str) == all(isinstance(v, str)
                                                                  for v in self.values):
            return value
        raise T.TraitError(f"{self.name} must be one of {list(self.values)}, "
                           f"got {short_repr(value)}")


#: Most entries a ``{asset: number}`` input may have (a market has a handful of assets).
MAX_KEYS = 1_000


class AssetDict(T.Dict):
    """A ``{asset: number}`` input; anything but a dict (or a dict of more than
    :data:`MAX_KEYS` entries) is refused with a message naming the input."""

    def validate(self, obj, value):
        if not isinstance(value, dict):
            raise T.TraitError(f"{self.name} must be a dict {{asset: number}}, got "
                               f"{short_repr(value)}")
        if len(value) > MAX_KEYS:
            raise T.TraitError(f"{self.name} must have at most {MAX_KEYS} entries, got "
                               f"{len(value)}")
        return super().validate(obj, value)


class EngineInstance(T.Instance):
    """An engine object input (``Account``, ``Market``); anything else is refused by name."""

    def validate(self, obj, value):
        if not isinstance(value, self.klass):
            raise T.TraitError(f"{self.name} must be an engine {self.klass.__name__}, got "
                               f"{short_repr(value)}")
        return value


def numbers_only(name: str, value: dict) -> None:
    """Refuse (``TraitError``) a value of ``value`` that is not a real number ("2", True, None)."""
    for k, v in value.items():
        if not is_real(v):
            raise T.TraitError(f"{name} must be numbers, got {short_repr(v)} for "
                               f"{clip(k, 40)}")


class Component(W.VBox):
    """Base of every component: one binding mechanism, the problem message, the live summary,
    state save/restore.

    **Inputs** are traits listed in ``_state_traits``, declared with their rules (:class:`Choice`
    for choices, :class:`Finite` / :class:`Whole` for bounded numbers; the bounds are the
    control's range, so whatever a cell assigns the control can show). **Outputs** are
    read-only traits the component sets with ``set_trait``.

    The one mechanism, used by every component:

    * ``self._bind(name, control, scale)`` in ``__init__``: moving ``control`` sets input
      ``name`` to ``control.value * scale`` (a slider's echo of its own snapping is ignored);
      :meth:`_sync_controls` shows every bound input on its control again.
    * ``self.observe(self._on_input, names=[...inputs])``: an input change runs ``_compute()``
      (engine calls, may raise :class:`MarginInputError`) then ``_show()`` (marks, summary).
    * bad input of any kind, from a control, a cell assignment (``lab.shock = "x"``), a
      constructor argument or a restored scenario, shows a short message in ``problem`` and
      in the widget, puts the last good value back and re-syncs the controls; no traceback,
      no warning in the cell. ``_silently()`` is the one way to set traits or controls
      without their observers taking it as the learner's input.

    **Constructor policy** (every component): a bad value for an input or an output never
    raises, whether passed to the constructor or assigned later: the component is built with
    the input's default and ``problem`` names the refused argument and why (several refusals
    are listed together; see :meth:`_apply_inputs`). The engine objects a component is built
    on (``market``, ``book``, ``account``, ``names``; see :func:`engine_argument`) are checked
    as the engine checks its arguments and raise a short :class:`MarginInputError` naming the
    argument; assigned later in a cell, a wrong one is held as a message like any input.

    Attributes
    ----------
    problem : Unicode (read-only)
        The message shown for bad input; ``""`` when all is well.
    summary : Unicode (read-only)
        The live text summary of the charts (screen readers announce it).
    """

    problem = T.Unicode("", read_only=True, help="Message shown for bad input; '' when fine.")
    summary = T.Unicode("", read_only=True, help="The live text summary of the charts.")
    _state_traits: tuple = ()
    _silenced = False       # True while the component sets its own traits or controls

    def __init__(self, **kwargs):
        # Outputs passed to the constructor (``CascadeLab(n_liquidated=5)``) are refused like
        # any bad argument: a message once the component is built (see ``_apply_inputs``).
        outputs = [n for n in kwargs if n in _own_traits(type(self))
                   and getattr(type(self), n).read_only]
        self._refused_outputs = [f"{n} is a result the component computes, not a setting"
                                 for n in outputs]
        for n in outputs:
            kwargs.pop(n)
        super().__init__(**kwargs)
        self.add_class("cml-component")

    # -- the public surface a test (or a curious learner) reads ------------------------------
    def _expose(self, figures: dict | None = None, marks: dict | None = None,
                controls: dict | None = None) -> None:
        """Name the component's figures, marks and extra controls (bound controls are named
        by their input) for :attr:`figures`, :meth:`chart_data` and :attr:`controls`."""
        for key, items in (("figures", figures), ("marks", marks), ("controls", controls)):
            self._exposed[key].update(items or {})

    # Created on first use (like the boxes below), so a subclass may bind and expose before
    # super().__init__.
    @cached_property
    def _exposed(self) -> dict:
        return {"figures": {}, "marks": {}, "controls": {}}

    @cached_property
    def _bindings(self) -> dict:
        """Input name -> [(control, scale, key), ...], filled by :meth:`_bind`."""
        return {}

    @property
    def figures(self) -> dict:
        """The component's bqplot figures by name (``{"health": Figure, ...}``)."""
        return dict(self._exposed["figures"])

    @property
    def controls(self) -> dict:
        """The learner's controls by name: each bound input's control, then the buttons."""
        named = {}
        for n, bound in self._bindings.items():
            for control, _, key in bound:                    # an input's first control
                named.setdefault(n if key is None else f"{n}[{key}]", control)
        named.update(self._exposed["controls"])
        return named

    def chart_data(self) -> dict:
        """What the charts draw, as plain lists: ``{mark: {"x": [...], "y": [...], ...}}``.

        Every data attribute a mark has (``x``, ``y``, ``color``, ``text``; heat maps'
        ``color`` grid) is copied; NaN (a point not drawn) stays NaN.
        """
        out = {}
        for name, mark in self._exposed["marks"].items():
            out[name] = {k: _plain(getattr(mark, k)) for k in ("x", "y", "color", "text",
                                                                "sizes", "opacities")
                         if mark.has_trait(k) and getattr(mark, k) is not None
                         and np.size(getattr(mark, k))}
        return out

    # -- the learner's assignments ----------------------------------------------------------
    def __setattr__(self, name, value):
        # A wrong type assigned in a cell (``lab.seed = 1.5``) fails in traitlets' own
        # validation, before any observer runs: hold it here, as a message, like any bad input.
        if name in _own_traits(type(self)):
            try:
                super().__setattr__(name, value)
            except (T.TraitError, RecursionError) as exc:
                self._show_problem(readable(exc))
                self._sync_controls()
            return
        super().__setattr__(name, value)

    def _apply_inputs(self, given: dict) -> None:
        """Apply constructor inputs one by one, as later assignments would be (the constructor
        policy: a refused value leaves the default and names the argument in ``problem``)."""
        refused = [_HEAD + r + _TAIL for r in self._refused_outputs]
        for name, value in given.items():
            self._clear_problem()
            self.__setattr__(name, value)
            if self.problem:
                refused.append(self.problem)
        if len(refused) == 1:
            self._show_problem(refused[0])
        elif refused:
            reasons = "; ".join(_reason(r) for r in refused)
            self._show_problem(_HEAD + clip(reasons, MAX_MESSAGE - len(_HEAD) - len(_TAIL))
                               + _TAIL)

    # -- one binding mechanism ----------------------------------------------------------------
    @contextlib.contextmanager
    def _silently(self):
        """Set traits or controls without their observers taking it as the learner's input."""
        was, self._silenced = self._silenced, True
        try:
            yield
        finally:
            self._silenced = was

    def _bind(self, name: str, control, scale: float | None = None, key=None) -> None:
        """Show input ``name`` on ``control`` (its value is the input divided by ``scale``).

        An input may be bound to several controls (CascadeLab's round: its slider and Play);
        each one moves it and each one shows it. With ``key``, the control shows one entry of
        a dict input (ShockPanel's slider per asset): moving it sets ``{**input, key: value}``,
        and a value beyond the slider's range widens the range, so the slider shows what a
        cell assigned.
        """
        self._bindings.setdefault(name, []).append((control, scale, key))
        control.observe(lambda change: self._from_control(name, change["new"], control),
                        "value")

    def _from_control(self, name, value, control) -> None:
        """``control`` moved: set the input trait it shows (whose observer checks and renders)."""
        if self._silenced:
            return
        scale, key = next((s, k) for c, s, k in self._bindings[name] if c is control)
        current = getattr(self, name)
        shown = current if key is None else current.get(key)
        if shown is not None and shows(control, shown / scale if scale else shown):
            return                 # the slider echoing its own snapping, not a new input
        new = value * scale if scale else value
        if key is not None:
            new = {**current, key: float(new)}
        if current != new:
            setattr(self, name, new)

    def _sync_controls(self) -> None:
        """Show every bound input on its controls (after bad input, a restore, a reset).

        :meth:`_sync_extra` runs first, so a control's range can follow the inputs before the
        value is shown on it.
        """
        with self._silently():
            self._sync_extra()
            for name, bound in self._bindings.items():
                value = getattr(self, name)
                for control, scale, key in bound:
                    shown = value if key is None else float(value.get(key, 0.0))
                    shown = shown / scale if scale else shown
                    if key is not None:                  # widen to what a cell assigned
                        control.min = min(control.min, shown)
                        control.max = max(control.max, shown)
                    display_value(control, shown)

    def _sync_extra(self) -> None:
        """Hook: control state that follows the inputs (a disabled slider, a slider's max);
        the bound values are shown just after it."""

    def _revert(self, change) -> None:
        """Put an input back to its last good value after bad input (``change`` from observe)."""
        with self._silently():
            setattr(self, change["name"], change["old"])

    def _on_input(self, change) -> None:
        """An input trait changed: ``_compute()``, then ``_show()``; on bad input show the
        message, put the input back and ``_sync_controls()`` to it."""
        if not self._silenced:
            self._recompute(lambda: self._revert(change))

    def _recompute(self, revert=None) -> bool:
        """``_compute()`` and, if the input was good, ``_show()``; the controls are synced
        either way (on bad input after ``revert()``). Returns True when it was shown."""
        ok = self._guard(self._compute, revert)
        self._sync_controls()
        if ok:
            self._show()
        return ok

    def _compute(self) -> None:
        """Hook: call the engine for the current inputs; raise MarginInputError on bad input."""

    def _show(self) -> None:
        """Hook: put the computed numbers on the marks, the outputs and the summary."""

    # Created on first use, so a subclass can place them in its children before super().__init__.
    @cached_property
    def _problem_box(self) -> W.HTML:
        return problem_box()

    @cached_property
    def _summary_box(self) -> W.HTML:
        return summary_box()

    # -- errors become messages at the boundary -------------------------------------------
    def _show_problem(self, message: str) -> None:
        self.set_trait("problem", message)
        self._problem_box.value = (f'<div role="alert" style="{_ERROR}">'
                                   f"{html.escape(message)}</div>")

    def _clear_problem(self) -> None:
        if self.problem:
            self.set_trait("problem", "")
            self._problem_box.value = ""

    def _set_summary(self, text: str) -> None:
        self.set_trait("summary", text)
        set_summary(self._summary_box, text)

    def _guard(self, action, revert=None) -> bool:
        """Run ``action()``; on bad input show the message, call ``revert()``, keep the chart.

        Bad input is a :class:`MarginInputError` or ``TraitError``, and a numerical warning
        (an overflow from ``shock=1e308``), which would otherwise print into the cell. Returns
        True when the action succeeded. Other errors still raise: they are bugs, and hiding
        them would hide wrong numbers.
        """
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)
                action()
        except (MarginInputError, T.TraitError, RuntimeWarning, FloatingPointError,
                OverflowError) as exc:
            if revert is not None:
                revert()
            self._show_problem(readable(exc))
            return False
        self._clear_problem()
        return True

    # -- save / restore -------------------------------------------------------------------
    def get_state_dict(self) -> dict:
        """The component's inputs as plain JSON-able values."""
        return {name: _jsonable(getattr(self, name)) for name in self._state_traits}

    def set_state_dict(self, state: dict) -> bool:
        """Restore inputs saved by :meth:`get_state_dict`; bad values show a message instead.

        If any value is rejected, every input goes back to what it was: a bad file changes
        nothing but the message.
        """
        unknown = sorted(set(state) - set(self._state_traits))
        if unknown:
            self._show_problem(f"Unknown setting(s) in scenario: {', '.join(unknown)}.")
            return False
        before = self.get_state_dict()
        self._clear_problem()
        for name, value in state.items():
            setattr(self, name, value)         # a wrong type is held by __setattr__
            if self.problem:                   # an observer rejected the value
                message = self.problem
                for old_name, old_value in before.items():
                    setattr(self, old_name, old_value)
                self._show_problem(message)
                return False
        return True


MAX_MESSAGE = 300      # characters: a message is read, not scrolled
_HEAD, _TAIL = "That input was not accepted: ", ". The last valid result is still shown."
_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist = 2, 4, 6


def short_repr(value) -> str:
    """``repr(value)`` kept short and safe: long strings elided, deep nesting cut ("...")."""
    return _REPR.repr(value)


def clip(text: str, limit: int) -> str:
    """``text`` shortened to ``limit`` characters by eliding its middle ("…")."""
    text = str(text)
    if len(text) <= limit:
        return text
    head = (limit - 1) * 2 // 3
    return text[:head] + "…" + text[len(text) - (limit - 1 - head):]


def readable(exc: BaseException) -> str:
    """The learner's message for a refused input: short (at most :data:`MAX_MESSAGE`
    characters, long values elided), no traceback, and what happens next."""
    text = str(exc)
    if isinstance(exc, RecursionError):
        text = "the value is nested too deeply to read"
    elif isinstance(exc, T.TraitError):
        # traitlets: "The 'book' trait of an InsuranceFundLab instance expected a Book, not
        # the str 'x'." / "... must be an int, but a value of 1.5 <class 'float'> was
        # specified." -> "book must be a Book, not the str 'x'"
        text = text.split(". Expected")[0]
        text = re.sub(r"^The '(\w+)' trait of an? \w+ instance", r"\1", text)
        text = re.sub(r"^(\w+) expected ", r"\1 must be ", text)
        text = re.sub(r" <class '[\w.]+'>", "", text)
    elif isinstance(exc, (RuntimeWarning, FloatingPointError, OverflowError)):
        text = "the numbers overflowed (a value far outside what a market can do)"
    return _HEAD + clip(text.rstrip("."), MAX_MESSAGE - len(_HEAD) - len(_TAIL)) + _TAIL



def _reason(message: str) -> str:
    """The reason inside a :func:`readable` message."""
    return message.removeprefix(_HEAD).removesuffix(_TAIL)


def engine_argument(name: str, value, kind: type, default=None):
    """A constructor's engine object (``market``, ``book``, ``account``): ``default()`` when
    ``value`` is None, else ``value`` if it is a ``kind``; anything else raises
    :class:`MarginInputError` naming the argument, as the engine does (the constructor policy:
    the objects a component is built on are the caller's code, not a learner's setting)."""
    if value is None and default is not None:
        return default()
    if not isinstance(value, kind):
        article = "an" if kind.__name__[0] in "AEIOU" else "a"
        raise MarginInputError(f"{name} must be {article} {kind.__name__}, got "
                               f"{short_repr(value)}")
    return value


def book_argument(name: str, value, default=None):
    """A constructor's book: ``default()`` when None, a :class:`Book` as is, an
    :class:`Account` as a one-row book; anything else raises :class:`MarginInputError`."""
    if isinstance(value, Account):
        return value.to_book()
    return engine_argument(name, value, Book, default)


def names_argument(value, n_accounts: int) -> list:
    """Account names for a book of ``n_accounts``: None gives "account 0", "account 1", ...;
    otherwise a sequence of ``n_accounts`` strings, else :class:`MarginInputError`."""
    if value is None:
        return [f"account {i}" for i in range(n_accounts)]
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") \
            or len(value) != n_accounts or not all(isinstance(v, str) for v in value):
        raise MarginInputError(f"names must be a list of {n_accounts} strings (one per "
                               f"account), got {short_repr(value)}")
    return list(value)


def choice_argument(name: str, value, options) -> str:
    """A constructor's named choice (``side="short"``): one of ``options``, else
    :class:`MarginInputError`."""
    if not isinstance(value, str) or value not in options:
        raise MarginInputError(f"{name} must be one of {list(options)}, got "
                               f"{short_repr(value)}")
    return value


@functools.lru_cache(maxsize=None)
def _own_traits(cls) -> frozenset:
    """The traits a component declares (inputs, outputs, objects such as ``market``), not the
    layout traits every ipywidgets box has: assignments to these are held as messages."""
    return frozenset(set(cls.class_trait_names()) - set(W.VBox.class_trait_names()))


def _plain(value):
    """Mark data as plain Python lists (numbers as floats, text as str)."""
    arr = np.asarray(value)
    if arr.dtype.kind in "fiub":
        return arr.astype(float).tolist()
    return arr.tolist()


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def dumps(state: dict) -> str:
    return json.dumps(state, sort_keys=True)
