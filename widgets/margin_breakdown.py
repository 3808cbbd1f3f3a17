"""MarginBreakdown: "explain the number" — where one account's health comes from, per asset."""
from __future__ import annotations

import html
from contextlib import ExitStack

import ipywidgets as W
import numpy as np
import traitlets as T
from bqplot import Bars, Label

from . import _ui
from ._account_view import AccountView
from .engine import CONTRIBUTION_KINDS, WATERFALL_STEPS, health_waterfall

STEPS = WATERFALL_STEPS
KINDS = CONTRIBUTION_KINDS
_ROWS = {"value": "Collateral value (market)", "haircut": "Haircut (not counted)",
         "collateral": "Collateral (weighted)", "debt": "Debt (weighted)",
         "perp_pnl": "Perp PnL", "maintenance": "Maintenance requirement",
         "net": "Net contribution to health"}
# Step colours: the starting value, the deductions, a PnL of either sign; the health bar is
# green when >= 0 and vermillion when < 0. Every bar is also labelled with its signed amount.
_UP, _DOWN = _ui.PALETTE["sky"], _ui.PALETTE["orange"]
MIN_HEIGHT = 0.02           # share of the axis: the smallest bar drawn (a $175 step stays visible)
_BADGE = ("display:inline-block; padding:2px 10px; margin:4px 0; font-weight:bold; "
          "color: var(--jp-ui-font-color1); border: 3px solid {c}; border-radius: 4px;")
_CELL = "padding: 2px 8px; border-bottom: 1px solid var(--jp-border-color2); text-align: right;"
VIEWS = ("Chart", "Table")


def short_money(x: float) -> str:
    """``-$175``, ``$40,000``, ``$421.3M``, ``-$1.25B``: short enough to sit over a bar."""
    if not np.isfinite(x) or abs(x) < 1e6:
        return _ui.money(x)
    sign = "-" if x < 0 else ""
    for unit, div in (("B", 1e9), ("M", 1e6)):
        if abs(x) >= div:
            v = abs(x) / div
            return f"{sign}${v:,.{1 if v >= 100 else 2 if v < 10 else 1}f}{unit}"
    return _ui.money(x)


# Series of the stacked waterfall mark: an invisible offset, then the visible part of a bar
# above / below zero for each kind of step (increase, decrease, the health total).
SERIES = ("offset", "up+", "up-", "down+", "down-", "health+", "health-")
KIND_OF_STEP = ("up", "down", "down", None, "down", "health")   # None: by the sign


def floating_series(start, end, kinds) -> np.ndarray:
    """Stacked-bar values drawing bar i from ``start[i]`` to ``end[i]`` (bqplot stacks positive
    and negative values separately, from 0, in series order).

    >>> floating_series([0.0, 40.0, 36.0], [40.0, 36.0, -5.0], ["up", "down", "down"])[:, 1:]
    array([[36.,  0.],
           [ 0.,  0.],
           [ 0.,  0.],
           [ 4., 36.],
           [ 0., -5.],
           [ 0.,  0.],
           [ 0.,  0.]])
    """
    start, end = np.asarray(start, dtype=float), np.asarray(end, dtype=float)
    lo, hi = np.minimum(start, end), np.maximum(start, end)
    y = np.zeros((len(SERIES), lo.size))
    for i, (a, b, kind) in enumerate(zip(lo, hi, kinds)):
        kind = kind or ("up" if end[i] >= start[i] else "down")
        pos, neg = SERIES.index(f"{kind}+"), SERIES.index(f"{kind}-")
        if a >= 0:                                   # above zero: offset a, then b - a
            y[0, i], y[pos, i] = a, b - a
        elif b <= 0:                                 # below zero: offset b, then a - b
            y[0, i], y[neg, i] = b, a - b
        else:                                        # across zero: both parts, no offset
            y[pos, i], y[neg, i] = b, a
    return y + 0.0


class MarginBreakdown(AccountView):
    """Explain an account's health: per-asset collateral, haircut, debt, perp PnL, maintenance.

    A venue counts collateral at ``asset_weight x value`` (the rest is the *haircut*: what the
    venue will not lend against), debt at ``liability_weight x value``, and adds perp PnL and
    subtracts perp maintenance margin. The chart is a waterfall: each step's bar floats from the
    total before it to the total after it, labelled with its own amount, and the last bar is
    the health (a badge says LIQUIDATABLE below 0); the table shows the numbers per asset.

    Parameters
    ----------
    account : Account, default ``example_account(market)`` (as in HealthGauge)
    market : Market, default ``Market.example()``
    shock : dict {asset: move}, optional — price moves as fractions (as in HealthGauge).

    Attributes
    ----------
    account, market, shock : Account, Market, dict
        Inputs, as in HealthGauge (``shock`` follows the inner ShockPanel).
    view : {"Chart", "Table"}
        Input: show the waterfall chart or the table of the same numbers.
    health : float (read-only)
        The account's health (for an isolated account, its weakest part).
    contributions : dict (read-only)
        ``{kind: {asset or "cash": value}}`` with kinds ``value``, ``haircut``,
        ``collateral``, ``debt``, ``perp_pnl``, ``maintenance``, ``net``
        (:func:`~widgets.engine.pool_contributions`).
    waterfall : HealthWaterfall (read-only property)
        The engine's :func:`~widgets.engine.health_waterfall` the chart draws.
    problem, summary : str (read-only)
        Message for bad input; live text summary.
    figures : dict
        ``waterfall``; :meth:`chart_data` names its marks ``waterfall`` (stacked series:
        an invisible offset, then the visible parts) and ``amounts`` (each bar's label).
    badge, caption, table : ipywidgets.HTML
        The verdict badge, the chart's caption and the table.

    Examples
    --------
    >>> bd = MarginBreakdown()
    >>> bd.contributions["haircut"]["ETH"]   # 10 ETH at 4,000 counted at 90 %
    4000.0
    >>> bd.shock = {"ETH": -0.5}
    >>> bd.contributions["collateral"]["ETH"], round(bd.health)
    (18000.0, -12175)
    """

    view = _ui.Choice(VIEWS, "Chart", help="Show the waterfall 'Chart' or the 'Table'.")
    health = T.Float(read_only=True, help="The account's health (isolated: its weakest part).")
    contributions = T.Dict(read_only=True, help="{kind: {asset or 'cash': amount}} of the pool "
                                                "health, from the engine.")
    _state_traits = ("shock", "view")

    def _build(self, market) -> list:
        self._columns = (*market.assets, "cash")
        self._y = _ui.fixed_scale(-1.0, 1.0)
        x = _ui.ordinal_scale(STEPS)
        # A true waterfall: each bar floats from the total before its step to the total after
        # it. bqplot stacks positive and negative values separately (diverging), so a floating
        # bar is an invisible offset series plus a visible part above and/or below zero
        # (SERIES); a Bars mark per step would draw its ``base`` line across the whole plot.
        self._bars = Bars(x=list(STEPS), y=np.zeros((len(SERIES), len(STEPS))), type="stacked",
                          scales={"x": x, "y": self._y}, padding=0.3,
                          colors=[_ui.NEUTRAL, _UP, _UP, _DOWN, _DOWN, _ui.SAFE, _ui.SAFE],
                          opacities=[0.0, 1, 1, 1, 1, 1, 1], stroke="var(--jp-ui-font-color2)")
        # each bar's own contribution, just above the bar (a label per step, not a total)
        self._amounts = Label(x=list(STEPS), y=np.zeros(len(STEPS)), text=[""] * len(STEPS),
                              scales={"x": x, "y": self._y}, align="middle", default_size=12,
                              font_weight="bold", y_offset=-6,
                              colors=["var(--jp-ui-font-color1)"])
        self._figure = _ui.figure("Where the health comes from", x, self._y,
                                  [self._bars, self._amounts],
                                  y_label="quote currency ($)", y_format="$~s",
                                  height="360px")
        self._figure.fig_margin = {"top": 40, "bottom": 45, "left": 80, "right": 20}
        self._figure.axes[1].label_offset = "55px"
        self._badge = W.HTML()
        self._caption = W.HTML(
            f'<div style="{_ui._TEXT} {_ui._MUTED}">Each bar starts where the previous one '
            f"ended and is labelled with its own contribution; the last bar is the health "
            f"(below 0: liquidatable). The table shows the same numbers per asset.</div>")
        self._table = W.HTML(layout=W.Layout(display="none"))
        self._toggle = W.ToggleButtons(options=list(VIEWS), value="Chart", description="Show",
                                       tooltips=["Bar chart", "Table of the same numbers"])
        self._bind("view", self._toggle)
        self.observe(self._on_view, names="view")
        self._expose(figures={"waterfall": self._figure},
                     marks={"waterfall": self._bars, "amounts": self._amounts})
        return [self._panel, self._problem_box, self._toggle, self._badge, self._figure,
                self._caption, self._table, self._summary_box]

    @property
    def badge(self) -> W.HTML:
        """The verdict badge (an HTML widget)."""
        return self._badge

    @property
    def caption(self) -> W.HTML:
        """The caption under the chart (an HTML widget)."""
        return self._caption

    @property
    def table(self) -> W.HTML:
        """The table of contributions per column (an HTML widget; shown with ``view="Table"``)."""
        return self._table

    @property
    def waterfall(self):
        """The engine's :class:`~widgets.engine.HealthWaterfall` the chart shows."""
        return self._result

    def _on_view(self, change) -> None:
        """Only what is shown changes (``view`` is checked by its trait; nothing to compute)."""
        chart = change["new"] == "Chart"
        for w in (self._figure, self._caption):
            w.layout.display = None if chart else "none"
        self._table.layout.display = "none" if chart else None
        self._sync_controls()

    def _evaluate(self, account, market, prices):
        return health_waterfall(account, market, prices)

    def _draw(self, result, rescale) -> None:
        w = result
        r, c, pool = w.report, w.contributions, w.pool_health
        start, end = w.start, w.end
        own = np.append(w.steps, pool)                       # each bar's own amount
        levels = np.concatenate([start, end])
        scale = self._y
        current = None if rescale else (scale.min, scale.max)
        span = max(levels.max() - min(levels.min(), 0.0), 1.0)
        lo, hi = _ui.nice_domain(levels, current, include=(0.0, levels.max() + 0.12 * span),
                                 pad=0.04, ticks=6)
        h = MIN_HEIGHT * (hi - lo)
        # a bar thinner than MIN_HEIGHT of the axis is drawn that tall (its label has the
        # exact amount), so a -$175 step next to a $40,000 one is still seen
        sign = np.where(end >= start, 1.0, -1.0)
        drawn = np.where(np.abs(end - start) < h, start + sign * h, end)
        drawn = np.where(end == start, start + h / 5, drawn)     # exactly 0: a hairline
        health = _ui.SAFE if pool >= 0 else _ui.DANGER
        with ExitStack() as stack:
            for m in (self._bars, self._amounts, scale):
                stack.enter_context(m.hold_sync())
            if (scale.min, scale.max) != (lo, hi):
                scale.min, scale.max = lo, hi
            self._bars.y = floating_series(start, drawn, KIND_OF_STEP)
            if self._bars.colors[-1] != health:
                self._bars.colors = [*self._bars.colors[:-2], health, health]
            self._amounts.y = np.maximum(start, drawn)
            self._amounts.text = [short_money(v) if i in (0, 5) else
                                  ("+" if v > 0 else "") + short_money(v)
                                  for i, v in enumerate(own)]
        self.set_trait("health", w.health)
        self.set_trait("contributions", {k: dict(zip(w.columns, map(float, c[k])))
                                         for k in KINDS})
        bad = bool(np.any(r.liquidatable))
        colour, text = ((_ui.DANGER, f"⚠ LIQUIDATABLE — health {_ui.money(float(r.health))} is "
                         f"below 0") if bad else
                        (_ui.SAFE, f"✓ not liquidatable — health {_ui.money(float(r.health))} "
                         f"is 0 or more"))
        self._badge.value = f'<div style="{_BADGE.format(c=colour)}">{html.escape(text)}</div>'
        self._table.value = self._html_table(c, pool)
        self._set_summary(self._describe(w))

    def _describe(self, w) -> str:
        """The waterfall in words: the engine's steps, named."""
        r, pool = w.report, w.pool_health
        haircut, pnl, mm = -float(w.steps[1]), float(w.steps[3]), -float(w.steps[4])
        text = (f"{'Pool health' if self.account.mode == 'isolated' else 'Health'} "
                f"{_ui.money(pool)} = collateral {_ui.money(r.weighted_collateral)} (after a "
                f"{_ui.money(haircut)} haircut) − debt "
                f"{_ui.money(r.weighted_liabilities)} "
                + (f"+ perp PnL {_ui.money(pnl)}" if pnl >= 0
                   else f"− perp loss {_ui.money(-pnl)}")
                + f" − maintenance {_ui.money(mm)}.")
        if self.account.mode == "isolated":
            buckets = [f"{a} {_ui.money(h)}" for a, h in zip(w.columns, r.bucket_health)
                       if np.isfinite(h)]
            text += (f" The perps sit in isolated buckets (health: {', '.join(buckets) or 'none'});"
                     f" account health {_ui.money(r.health)} is that of its weakest part.")
        return text

    def _html_table(self, c, pool) -> str:
        head = "".join(f'<th scope="col" style="{_CELL}">{html.escape(a)}</th>'
                       for a in (*self._columns, "Total"))
        rows = "".join(
            f'<tr><th scope="row" style="{_CELL} text-align: left;">{_ROWS[k]}</th>'
            + "".join(f'<td style="{_CELL}">{_ui.money(v)}</td>' for v in (*c[k], c[k].sum()))
            + "</tr>" for k in KINDS)
        return (f'<table style="border-collapse: collapse; color: var(--jp-ui-font-color1); '
                f'font-size: var(--jp-ui-font-size1);"><caption style="caption-side: top; '
                f'text-align: left; color: var(--jp-ui-font-color2);">Contributions to health by '
                f'asset, quote currency ($), at the shocked prices. Net = collateral '
                f'(weighted) − debt + perp PnL − maintenance; the net total is the pool health '
                f'{_ui.money(pool)}.</caption><thead><tr><th scope="col" style="{_CELL}">'
                f'</th>{head}</tr></thead><tbody>{rows}</tbody></table>')
