"""MarginBreakdown: "explain the number" — where one account's health comes from, per asset."""
from __future__ import annotations

import html

import ipywidgets as W
import numpy as np
import traitlets as T
from bqplot import Bars, Label, Lines

from . import _ui
from ._account_view import AccountView, nice_ceiling
from .engine import margin_report

STEPS = ("Collateral value", "Haircut", "Debt (weighted)", "Perp PnL", "Maintenance", "Health")
KINDS = ("value", "haircut", "collateral", "debt", "perp_pnl", "maintenance", "net")
_ROWS = {"value": "Collateral value (market)", "haircut": "Haircut (not counted)",
         "collateral": "Collateral (weighted)", "debt": "Debt (weighted)",
         "perp_pnl": "Perp PnL", "maintenance": "Maintenance requirement",
         "net": "Net contribution to health"}
_ASSET_COLOURS = ("yellow", "sky", "purple", "orange")      # blue is the running total
_CELL = "padding: 2px 8px; border-bottom: 1px solid var(--jp-border-color2); text-align: right;"
VIEWS = ("Chart", "Table")


def pool_contributions(account, report) -> dict:
    """Per-column contributions {kind: array over assets + cash} from ``report.breakdown``.

    Cash (the quote balance) is not an asset column of the engine; it enters the pool totals at
    weight 1, so it is shown as one more column. Perps of an isolated account sit in their own
    buckets, outside the pool, so their PnL and maintenance are 0 here.
    """
    b = report.breakdown
    cash = float(account.cash)
    iso = account.mode == "isolated"
    value = np.append(np.maximum(b["value"], 0.0), max(cash, 0.0))
    collateral = np.append(b["collateral"], max(cash, 0.0))
    pnl = np.append(0.0 * b["perp_pnl"] if iso else b["perp_pnl"], 0.0)
    maintenance = np.append(0.0 * b["maintenance"] if iso else b["maintenance"], 0.0)
    debt = np.append(b["liabilities"], max(-cash, 0.0))
    out = {"value": value, "haircut": value - collateral, "collateral": collateral,
           "debt": debt, "perp_pnl": pnl, "maintenance": maintenance,
           "net": collateral - debt + pnl - maintenance}
    return {k: v + 0.0 for k, v in out.items()}          # + 0.0 turns -0.0 into 0.0


def _legend(columns, colours) -> str:
    """An HTML legend under the chart (bqplot's own legend would cover the bars)."""
    def swatch(c):
        return (f'<span style="display:inline-block; width:0.9em; height:0.9em; background:{c}; '
                f'vertical-align:middle; margin:0 3px 0 10px;"></span>')
    items = "".join(f"{swatch(c)}{html.escape(a)}" for a, c in zip(columns, colours))
    return (f'<div style="{_ui._TEXT}">{items}{swatch(_ui.SAFE)}/{swatch(_ui.DANGER)}health '
            f'(≥ 0 / < 0)<span style="margin-left:10px; color:{_ui.CROSS};">- - ●</span> '
            f'running total (figures along the top)</div>')


class MarginBreakdown(AccountView):
    """Explain an account's health: per-asset collateral, haircut, debt, perp PnL, maintenance.

    A venue counts collateral at ``asset_weight x value`` (the rest is the *haircut*: what the
    venue will not lend against), debt at ``liability_weight x value``, and adds perp PnL and
    subtracts perp maintenance margin. The chart's columns add up, left to right, to the health
    (the dashed running total); the table shows the same numbers.

    Parameters
    ----------
    account : Account, default ``example_account(market)`` (as in HealthGauge)
    market : Market, default ``Market.example()``
    shock : dict {asset: move}, optional — price moves as fractions (as in HealthGauge).

    Traits
    ------
    account, market, shock : inputs (as in HealthGauge; ``shock`` follows the inner ShockPanel).
    view : Unicode (input) — ``"Chart"`` or ``"Table"``.
    health : Float (output) — the account's health (for an isolated account, its weakest part).
    contributions : Dict (output) — ``{kind: {asset or "cash": value}}`` with kinds ``value``,
        ``haircut``, ``collateral``, ``debt``, ``perp_pnl``, ``maintenance``, ``net``.
    problem, summary : Unicode (outputs).

    Examples
    --------
    >>> bd = MarginBreakdown()
    >>> bd.contributions["haircut"]["ETH"]   # 10 ETH at 4,000 counted at 90 %
    4000.0
    >>> bd.shock = {"ETH": -0.5}
    >>> bd.contributions["collateral"]["ETH"], round(bd.health)
    (18000.0, -12175)
    """

    view = T.Unicode("Chart", help="'Chart' or 'Table'.")
    health = T.Float(read_only=True)
    contributions = T.Dict(read_only=True)
    _state_traits = ("shock", "view")

    def _build(self, market) -> list:
        self._columns = (*market.assets, "cash")
        colours = [_ui.PALETTE[_ASSET_COLOURS[i % len(_ASSET_COLOURS)]]
                   for i in range(market.n_assets)] + [_ui.NEUTRAL, _ui.SAFE]
        self._y = _ui.fixed_scale(-1.0, 1.0)
        x = _ui.ordinal_scale(STEPS)
        n = len(self._columns) + 1
        self._bars = Bars(x=list(STEPS), y=np.zeros((n, len(STEPS))), type="stacked",
                          scales={"x": x, "y": self._y}, colors=colours, padding=0.3,
                          labels=[*self._columns, "health"])
        self._running = Lines(x=list(STEPS), y=np.zeros(len(STEPS)), scales={"x": x, "y": self._y},
                              colors=[_ui.CROSS], line_style="dashed", marker="circle",
                              marker_size=30, labels=["running total"])
        # The running total in figures, in a row along the top (never on top of a bar).
        self._totals = Label(x=list(STEPS), y=np.full(len(STEPS), 0.9), text=[""] * len(STEPS),
                             scales={"x": x, "y": self._y}, align="middle", default_size=12,
                             font_weight="bold", colors=[_ui.CROSS])
        self._figure = _ui.figure("Where the health comes from", x, self._y,
                                  [self._bars, self._running, self._totals],
                                  y_label="quote currency ($)", y_format="$~s",
                                  height="360px")
        self._figure.fig_margin = {"top": 40, "bottom": 45, "left": 80, "right": 20}
        self._figure.axes[1].label_offset = "55px"
        self._legend = W.HTML(_legend(self._columns, colours))
        self._table = W.HTML(layout=W.Layout(display="none"))
        self._toggle = W.ToggleButtons(options=list(VIEWS), value="Chart", description="Show",
                                       tooltips=["Bar chart", "Table of the same numbers"])
        self._toggle.observe(lambda c: setattr(self, "view", c["new"]), names="value")
        self.observe(self._on_view, names="view")
        return [self._panel, self._problem_box, self._toggle, self._figure, self._legend,
                self._table, self._summary_box]

    def _on_view(self, change) -> None:
        def apply():
            if change["new"] not in VIEWS:
                raise T.TraitError(f"view must be 'Chart' or 'Table', got {change['new']!r}")
            self._toggle.value = change["new"]
            for w in (self._figure, self._legend):
                w.layout.display = None if change["new"] == "Chart" else "none"
            self._table.layout.display = None if change["new"] == "Table" else "none"

        def revert():
            self.view = change["old"]           # quiet: this observer ignores it

        if not self._syncing:
            with self._quiet():
                self._guard(apply, revert)

    def _compute(self, account, market, shocked, rescale):
        report = margin_report(account, shocked)
        limit = None
        if rescale:                         # y axis fixed until the account or market changes
            c = pool_contributions(account, margin_report(account, market))
            cols = np.array([c["value"], -c["haircut"], -c["debt"], c["perp_pnl"],
                             -c["maintenance"]])
            limit = nice_ceiling(1.25 * max(np.clip(cols, 0, None).sum(1).max(),
                                           -np.clip(cols, None, 0).sum(1).min()))
        return report, pool_contributions(account, report), limit

    def _draw(self, result, rescale) -> None:
        r, c, limit = result
        pool = float(r.pool_health)
        y = np.full((len(self._columns) + 1, len(STEPS)), np.nan)
        y[:-1, :5] = np.array([c["value"], -c["haircut"], -c["debt"], c["perp_pnl"],
                               -c["maintenance"]]).T + 0.0
        y[-1, 5] = pool
        running = np.append(np.cumsum(np.nansum(y[:-1, :5], axis=0)), pool)
        colours = list(self._bars.colors)
        colours[-1] = _ui.SAFE if pool >= 0 else _ui.DANGER
        with self._bars.hold_sync(), self._running.hold_sync(), self._totals.hold_sync(), \
                self._y.hold_sync():
            if limit is not None:                   # a new account or market: new fixed axis
                self._y.min, self._y.max = -limit, limit
                self._totals.y = np.full(len(STEPS), 0.92 * limit)
            self._bars.y, self._bars.colors = y, colours
            self._running.y = running
            self._totals.text = [_ui.money(v) for v in running]
        self.set_trait("health", float(r.health))
        self.set_trait("contributions", {k: dict(zip(self._columns, map(float, c[k])))
                                         for k in KINDS})
        self._table.value = self._html_table(c, pool)
        self._set_summary(self._describe(r, c, pool))

    def _describe(self, r, c, pool) -> str:
        pnl, mm = float(c["perp_pnl"].sum()), float(c["maintenance"].sum())
        text = (f"{'Pool health' if self.account.mode == 'isolated' else 'Health'} "
                f"{_ui.money(pool)} = collateral {_ui.money(r.weighted_collateral)} (after a "
                f"{_ui.money(c['haircut'].sum())} haircut) − debt "
                f"{_ui.money(r.weighted_liabilities)} "
                + (f"+ perp PnL {_ui.money(pnl)}" if pnl >= 0
                   else f"− perp loss {_ui.money(-pnl)}")
                + f" − maintenance {_ui.money(mm)}.")
        if self.account.mode == "isolated":
            buckets = [f"{a} {_ui.money(h)}" for a, h in zip(self._columns, r.bucket_health)
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
