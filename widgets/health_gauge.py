"""HealthGauge: one account's distance to liquidation in the three venue conventions."""
from __future__ import annotations

import html

import ipywidgets as W
import numpy as np
import traitlets as T
from bqplot import Bars, Label, Lines

from . import _ui
from ._account_view import AccountView, nice_ceiling
from .engine import margin_report, position_liquidation_prices

# key, title, threshold, threshold label, axis label, tick format, fixed domain (None: from the
# account), label alignment (text to the right of the threshold line, or to its left).
_GAUGES = (
    ("health", "Health (Mango)", 0.0, "liquidation below $0",
     "health in quote currency ($) — higher is safer", "$,.0f", None, "start"),
    ("health_factor", "Health factor (Aave)", 1.0, "liquidation below 1.00 — higher is safer",
     "health factor — higher is safer", ".2f", (0.0, 3.0), "start"),
    ("margin_ratio", "Margin ratio (Binance)", 1.0,
     "liquidation at 100 % or more — lower is safer",
     "margin ratio — lower is safer", ".0%", (0.0, 1.5), "end"),
)
_BADGE = ("display:inline-block; padding:2px 10px; margin:4px 0; font-weight:bold; "
          "color: var(--jp-ui-font-color1); border: 3px solid {c}; border-radius: 4px;")


def _describe(key: str, value: float) -> tuple[str, str]:
    """A gauge value as text plus a note for the infinite and no-debt cases."""
    if key == "health":
        return _ui.money(value), ""
    if key == "health_factor":
        return _ui.ratio(value), ("no debt" if np.isinf(value) and value > 0 else "")
    if np.isinf(value):
        return "∞", "nothing left to cover the requirement"
    return _ui.pct(value), ("no debt" if value == 0 else "")


def _price(x: float) -> str:
    """``$3,352.78`` (a price, to the cent); ``none`` where there is no liquidation price."""
    return f"${x:,.2f}" if np.isfinite(x) else "none"


def _units(x: float) -> str:
    """A position size a learner can read (a partial liquidation leaves 7.553043476 ETH).

    >>> _units(7.553043476), _units(10.0), _units(0.1), _units(-30_000.0)
    ('7.553', '10', '0.1', '-30,000')
    """
    return f"{x:,.4g}" if abs(x) < 1_000 else f"{x:,.0f}"


def _position_words(account, market, j: int) -> str:
    """``spot 10`` / ``debt -30,000`` / ``perp long 0.1`` / ``perp short 10`` (joined by ' + ')."""
    parts = []
    h, q = float(account.holdings[j]), float(account.perps[j])
    if h:
        parts.append(f"{'spot' if h > 0 else 'debt'} {_units(h)}")
    if q:
        parts.append(f"perp {'long' if q > 0 else 'short'} {_units(abs(q))}"
                     + (" (isolated bucket)" if account.mode == "isolated" else ""))
    return " + ".join(parts)


def _move(move: float) -> str:
    """``-16.2%`` / ``+19.4%``: the engine's fractional move to the liquidation price."""
    return f"{move * 100:+.1f}%" if np.isfinite(move) else ""


def _with_rule(key: str, value: float, rule: str) -> str:
    """``1.20 (liquidation below 1.00)``; ``∞ (no debt), liquidation below 1.00``."""
    text, note = _describe(key, value)
    return f"{text} ({note}), {rule}" if note else f"{text} ({rule})"


class HealthGauge(AccountView):
    """Distance to liquidation of ONE account: health, health factor and margin ratio.

    The three conventions describe the same state (``available`` = weighted collateral + perp
    PnL against ``requirement`` = weighted debt + perp maintenance margin), so they always agree
    on whether the account is liquidatable — but "1" or "100 %" means *safe* for one and
    *liquidated* for another. Each gauge draws its threshold and says which side is safe.

    Parameters
    ----------
    account : Account, default ``example_account(market)``: 10 ETH against a 30,000 USDC loan,
        a 0.1 BTC long perp and a 10 SOL short perp
    market : Market, default ``Market.example()``
    shock : dict {asset: move}, optional
        Price moves as fractions (-0.2 is a 20 % fall); assets not named do not move. Later,
        assigning a partial dict changes only the assets it names (as in ShockPanel).

    Attributes
    ----------
    account : Account
        Input (an argument; assigned later it is checked like any input).
    market : Market
        Input; a new one must list the same assets.
    shock : dict
        Input, ``{asset: move}``; kept equal to the inner ShockPanel's.
    health : float (read-only)
        Mango-style health in quote currency; liquidatable below 0.
    health_factor : float (read-only)
        Aave health factor; liquidatable below 1; ``inf`` if no debt.
    margin_ratio : float (read-only)
        Binance margin ratio; liquidatable above 1 (100 %).
    liquidatable : bool (read-only)
        The engine's verdict (the same in every convention).
    liquidation_prices : dict (read-only)
        ``{asset: price}`` for every asset the account holds, owes or trades: the price of
        that asset alone (others held at the shocked prices) at which health reaches 0
        (:func:`~widgets.engine.position_liquidation_prices`; cross: the pool, isolated perp:
        its bucket); NaN where no price of that asset alone can liquidate. Shown in a table
        under the gauges and stated in the summary.
    problem, summary : str (read-only)
        Message for bad input; live text summary.
    figures : dict
        ``health``, ``health_factor``, ``margin_ratio``; :meth:`chart_data` names the marks
        ``<gauge>_bar``, ``<gauge>_threshold``, ``<gauge>_label``, ``<gauge>_beyond``.
    badge, table : ipywidgets.HTML
        The SAFE / LIQUIDATABLE badge and the liquidation-price table.

    Examples
    --------
    >>> gauge = HealthGauge()
    >>> round(gauge.health), round(gauge.health_factor, 2), gauge.liquidatable
    (5825, 1.19, False)
    >>> gauge.shock = {"ETH": -0.2}         # 10 ETH now count 28,800 against 30,175 required
    >>> round(gauge.health), gauge.liquidatable
    (-1375, True)
    >>> round(HealthGauge().liquidation_prices["ETH"], 2)  # 36,000 x (P / 4,000) = 30,175
    3352.78
    """

    health = T.Float(read_only=True, help="Mango-style health ($); liquidatable below 0.")
    health_factor = T.Float(read_only=True, help="Aave health factor; liquidatable below 1.")
    margin_ratio = T.Float(read_only=True, help="Binance margin ratio; liquidatable above 1.")
    liquidatable = T.Bool(read_only=True, help="The engine's verdict (every convention agrees).")
    liquidation_prices = T.Dict(read_only=True, help="{asset: price} at which health reaches 0, "
                                                     "that price alone moving; NaN if none.")

    def _build(self, market) -> list:
        self._bars, self._thresholds, self._labels, self._figures, self._scales = {}, {}, {}, {}, {}
        self._beyond = {}
        for key, title, thr, rule, axis_label, fmt, domain, align in _GAUGES:
            value_scale = _ui.fixed_scale(*(domain or (-1.0, 1.0)))
            band, unit = _ui.ordinal_scale([key]), _ui.fixed_scale(0.0, 1.0)
            bar = Bars(x=[key], y=np.zeros(1), scales={"x": band, "y": value_scale},
                       orientation="horizontal", padding=0.65, colors=[_ui.CROSS], base=0.0)
            line = Lines(x=np.array([thr, thr]), y=np.array([0.0, 1.0]),
                         scales={"x": value_scale, "y": unit}, colors=[_ui.DANGER],
                         line_style="dashed", stroke_width=2, labels=[rule])
            # clear of the axis; in the theme's text colour (the red line beside it marks the
            # rule): vermillion text on white is 3.9:1, under WCAG AA's 4.5:1
            label = Label(x=np.array([thr]), y=np.array([0.1]), text=[rule],
                          scales={"x": value_scale, "y": unit}, colors=[_ui.TEXT_FILL],
                          align=align, x_offset=6 if align == "start" else -6,
                          default_size=13, font_weight="bold")
            # a value beyond the axis: the bar stops at the edge and this marker names the value
            beyond = Label(x=np.array([value_scale.max]), y=np.array([0.8]), text=[""],
                           scales={"x": value_scale, "y": unit}, align="end", x_offset=-4,
                           default_size=13, font_weight="bold",
                           colors=["var(--jp-ui-font-color1)"])
            fig = _ui.figure(title, value_scale, band, [bar, line, label, beyond],
                             x_label=axis_label, x_format=fmt, height="160px")
            self._beyond[key] = beyond
            fig.axes[1].visible = False                     # one bar: no category axis
            fig.fig_margin = {"top": 35, "bottom": 45, "left": 60, "right": 30}
            self._bars[key], self._thresholds[key], self._labels[key] = bar, line, label
            self._figures[key], self._scales[key] = fig, value_scale
        self._badge = W.HTML()
        self._liq_table = W.HTML(layout=W.Layout(width=_ui.FULL_WIDTH))
        marks = {}
        for key, *_ in _GAUGES:
            marks.update({f"{key}_bar": self._bars[key], f"{key}_threshold": self._thresholds[key],
                          f"{key}_label": self._labels[key], f"{key}_beyond": self._beyond[key]})
        self._expose(figures=dict(self._figures), marks=marks)
        return [self._panel, self._problem_box, self._badge, *self._figures.values(),
                self._liq_table, self._summary_box]

    @property
    def badge(self) -> W.HTML:
        """The SAFE / LIQUIDATABLE badge (an HTML widget)."""
        return self._badge

    @property
    def table(self) -> W.HTML:
        """The table of liquidation prices, one row per position (an HTML widget)."""
        return self._liq_table

    def _evaluate(self, account, market, prices):
        report = margin_report(account, market, prices)
        lps = position_liquidation_prices(account, market, prices)
        words = {a: _position_words(account, market, market.index(a)) for a in lps}
        limit = None
        if self._rescale:        # health axis: fixed until the account or market changes
            base = margin_report(account, market)
            limit = nice_ceiling(max(base.weighted_collateral, abs(base.health),
                                     base.weighted_liabilities + base.maintenance_requirement))
        return report, limit, lps, words

    def _draw(self, result, rescale) -> None:
        r, limit, lps, words = result
        if limit is not None:
            with self._scales["health"].hold_sync():
                self._scales["health"].min, self._scales["health"].max = -limit, limit
        values = {"health": float(r.health), "health_factor": float(r.health_factor),
                  "margin_ratio": float(r.margin_ratio)}
        bad = bool(r.liquidatable)
        verdict = "LIQUIDATABLE" if bad else "safe"
        for key, title, *_ in _GAUGES:
            scale, (text, note) = self._scales[key], _describe(key, values[key])
            shown, side = _ui.off_scale([values[key]], scale.min, scale.max)  # inf -> edge
            shown = np.nan_to_num(shown, nan=0.0)      # n/a: no bar (NaN is an SVG error)
            beyond = self._beyond[key]
            with self._bars[key].hold_sync(), beyond.hold_sync():
                self._bars[key].y = shown
                self._bars[key].colors = [_ui.DANGER if bad else _ui.CROSS]
                s = int(side[0])
                beyond.text = [_ui.off_scale_text(f"{text} (off scale)" if s > 0 else
                                                  f"(off scale) {text}", s) if s else ""]
                beyond.x = np.array([scale.max if s >= 0 else scale.min])
                beyond.align, beyond.x_offset = ("end", -4) if s >= 0 else ("start", 4)
            note = f" ({note})" if note else ""
            self._figures[key].title = f"{title}: {text}{note} — {verdict}"
        for key, value in values.items():
            self.set_trait(key, value)
        self.set_trait("liquidatable", bad)
        self.set_trait("liquidation_prices", {a: lp for a, (_, lp, _) in lps.items()})
        self._liq_table.value = self._table_html(lps, words, bad)
        colour, text = ((_ui.DANGER, "⚠ LIQUIDATABLE — past the threshold in all three "
                         "conventions") if bad else
                        (_ui.SAFE, "✓ SAFE — not liquidatable in any of the three conventions"))
        self._badge.value = (f'<div style="{_BADGE.format(c=colour)}">{html.escape(text)}</div>')
        iso = " Isolated account: each number is that of its weakest part." \
            if self.account.mode == "isolated" else ""
        liq = "; ".join(f"{a} {_price(lp)}" + (f" ({_move(move)})" if np.isfinite(lp) else "")
                        for a, (_, lp, move) in lps.items())
        liq = (f" Liquidation prices (one price moving, the others held): {liq}."
               if lps else "")
        self._set_summary(
            f"Health {_ui.money(values['health'])} ({verdict}); health factor "
            f"{_with_rule('health_factor', values['health_factor'], 'liquidation below 1.00')}; "
            f"margin ratio "
            f"{_with_rule('margin_ratio', values['margin_ratio'], 'liquidation at 100%')}.{iso}"
            f"{liq}")

    @staticmethod
    def _table_html(lps: dict, words: dict, bad: bool) -> str:
        """One row per position: price now, liquidation price, the move that reaches it."""
        if not lps:
            return ""
        cell = "padding:2px 10px; text-align:{};"
        head = "".join(f'<th style="{cell.format(al)}">{html.escape(t)}</th>' for t, al in (
            ("position", "left"), ("price now", "right"), ("liquidation price", "right"),
            ("move to reach it", "right")))
        rows = []
        for a, (now, lp, move) in lps.items():
            move = _move(move) if np.isfinite(lp) else \
                "no price of this asset alone liquidates it"
            rows.append("<tr>" + "".join(
                f'<td style="{cell.format(al)}">{html.escape(t)}</td>' for t, al in (
                    (f"{a}: {words[a]}", "left"), (_price(now), "right"),
                    (_price(lp), "right"), (move, "right"))) + "</tr>")
        note = ("Already past: the liquidation price is the one that would bring health back "
                "to 0." if bad else
                "Each row moves one price, the others held; cross: the whole pool, isolated "
                "perp: its bucket.")
        return (f'<div style="{_ui._TEXT}"><b>Liquidation price of each position</b> (health '
                f'reaches 0) <span style="{_ui._MUTED}">{html.escape(note)}</span>'
                f'<table style="border-collapse:collapse; margin-top:2px">'
                f'<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')
