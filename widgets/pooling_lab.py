"""PoolingLab: the same perps margined cross (one pool) and isolated (one bucket per perp)."""
from __future__ import annotations

import math
from contextlib import ExitStack

import ipywidgets as W
import numpy as np
import traitlets as T
from bqplot import Bars, Label, Lines

from . import _ui
from .engine import Account, MarginInputError, Market, compare_pooling, proportional_split
from .shock_panel import ShockPanel

DEFAULT_POSITIONS = {"BTC": 2.0, "ETH": 50.0, "SOL": -500.0}


def _nice(x: float) -> float:
    """Smallest 1-2-5 x 10^k >= x (a round, fixed axis limit)."""
    k = 10.0 ** math.floor(math.log10(max(x, 1.0)))
    return next(f * k for f in (1, 2, 5, 10) if f * k >= x)


def _names(items) -> str:
    """``BTC``, ``BTC and ETH``, ``BTC, ETH and SOL``."""
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


class PoolingLab(_ui.Component):
    """One portfolio margined two ways: cross (one pool) vs isolated (a bucket per perp).

    Cross pools cash and every perp, so it fails less often (its health is the sum of the
    isolated parts' healths), but a failure takes the whole pool; isolated loses only a failing
    bucket. Cross also needs less collateral once positions carry gains and losses.

    Parameters
    ----------
    market : Market, default ``Market.example()``
    positions : dict {asset: perp size}, default long 2 BTC, long 50 ETH, short 500 SOL
    collateral : float, default 30,000 (quote currency, e.g. USDC)
    split : dict {asset: share}, optional — share of the collateral posted to each bucket in
        isolated mode; default proportional to each perp's initial margin (all posted).
    shock : dict {asset: move}, optional — price moves, fractions (also set by the sliders).

    Traits
    ------
    Inputs: ``market``, ``positions``, ``collateral``, ``split``, ``shock``.
    Outputs (read-only): ``cross_liquidatable`` (bool), ``isolated_failed`` (assets whose bucket
    fails), ``cross_loss`` / ``isolated_loss`` (collateral lost to liquidation at the shocked
    prices, quote), ``cross_capital_required`` / ``isolated_capital_required`` (minimum
    collateral to pass the initial margin check at the shocked prices), ``problem``, ``summary``.

    Examples
    --------
    >>> lab = PoolingLab()
    >>> lab.shock = {"SOL": 0.15}                 # SOL rallies 15 %
    >>> lab.cross_liquidatable, lab.isolated_failed, round(lab.isolated_loss)
    (False, ['SOL'], 8333)
    >>> lab.shock = {"BTC": -0.21, "ETH": -0.28, "SOL": -0.35}
    >>> lab.cross_liquidatable, lab.isolated_failed, round(lab.cross_loss)
    (True, ['BTC', 'ETH'], 30000)
    """

    market = T.Instance(Market)
    positions = T.Dict(help="{asset: signed perp size}")
    collateral = T.Float(30_000.0, help="quote-currency collateral")
    split = T.Dict(help="{asset: share of collateral posted to that bucket (isolated)}")
    shock = T.Dict(help="{asset: fractional price move}")
    cross_liquidatable = T.Bool(False, read_only=True)
    isolated_failed = T.List(T.Unicode(), read_only=True)
    cross_loss = T.Float(0.0, read_only=True)
    isolated_loss = T.Float(0.0, read_only=True)
    cross_capital_required = T.Float(0.0, read_only=True)
    isolated_capital_required = T.Float(0.0, read_only=True)
    _state_traits = ("positions", "collateral", "split", "shock")

    def __init__(self, market=None, positions=None, collateral=30_000.0, split=None, shock=None,
                 **kwargs):
        market = market if market is not None else Market.example()
        positions = dict(DEFAULT_POSITIONS if positions is None else positions)
        self._syncing, self._auto_split, self._posted = True, split is None, 1.0
        self._marks = {}
        self._panel = ShockPanel(market, shock)
        # the panel's current value, not c["new"]: the panel completes a partial dict in a
        # nested change, and the outer (stale) notification arrives after it
        self._panel.observe(lambda c: setattr(self, "shock", dict(self._panel.shock)),
                            names="shock")
        for a, s in self._panel._sliders.items():     # no perp slider, nothing it could move
            s.layout.display = None if a in positions else "none"
        P = market.prices
        self._size_sliders = {}
        for a in positions:
            span = max(2 * abs(float(positions[a])), 1e5 / float(P[market.index(a)]))
            step = 10.0 ** math.floor(math.log10(span / 100))
            s = _ui.slider(f"{a} perp size", float(positions[a]), -span, span, step,
                           fmt=f",.{max(0, -round(math.log10(step)))}f",
                           tooltip=f"{a} perp position in {a} (long > 0, short < 0)")
            s.observe(lambda c, a=a: self._from_control(
                "positions", {**self.positions, a: c["new"]}), names="value")
            self._size_sliders[a] = s
        top = _nice(max(100_000.0, 2 * collateral))
        self._collateral_slider = _ui.slider("Collateral (USDC)", collateral, 0.0, top, top / 200,
                                             fmt="$,.0f", tooltip="Quote-currency collateral")
        self._collateral_slider.observe(lambda c: self._from_control("collateral", c["new"]),
                                        names="value")
        self._posted_slider = _ui.slider("Isolated: share posted to buckets", 1.0, 0.0, 1.0, 0.01,
                                         tooltip="The rest of the collateral stays in the pool")
        self._posted_slider.observe(self._on_posted, names="value")
        gross = float(sum(abs(float(v)) * P[market.index(a)] for a, v in positions.items()))
        H = _nice(max(top, 0.2 * gross))
        figs = [self._health_fig("cross", "Cross: one pool", ["Whole account"], H),
                self._health_fig("iso", "Isolated: a bucket per perp",
                                 ["Pool (cash)", *market.assets], H),
                self._money_fig("loss", "Collateral lost to liquidation", H),
                self._money_fig("capital", "Collateral needed (initial margin) at these prices",
                                1.5 * H)]
        controls = W.VBox([*self._size_sliders.values(), self._collateral_slider,
                           self._posted_slider], layout=W.Layout(width="50%"))
        for fig, flex in zip(figs, ("1 1 0", "2 1 0", "1 1 0", "1 1 0")):
            fig.layout.flex, fig.layout.width = flex, "auto"
        super().__init__(children=[W.HBox([controls, self._panel]), self._problem_box,
                                   W.HBox(figs[:2]), W.HBox(figs[2:]), self._summary_box],
                         **kwargs)
        self.market, self.positions, self.collateral = market, positions, float(collateral)
        self.shock, self.split = dict(self._panel.shock), dict(split or {})
        self._syncing = False
        self.observe(self._on_input, names=["market", "positions", "collateral", "split",
                                            "shock"])
        if not self._guard(self._render):               # bad constructor arguments raise
            raise MarginInputError(self.problem)

    # -- figures: bars plus a text label per bar (numbers and status, not colour alone) -----
    def _health_fig(self, key, title, names, H):
        colour = _ui.CROSS if key == "cross" else _ui.ISOLATED
        xs, ys, unit = _ui.ordinal_scale(names), _ui.fixed_scale(-H, H), _ui.fixed_scale(0, 1)
        bars = Bars(x=names, y=np.zeros(len(names)), scales={"x": xs, "y": ys}, colors=[colour],
                    padding=0.3)
        text = Label(x=names, y=np.full(len(names), 0.85 * H), text=[""] * len(names),
                     scales={"x": xs, "y": ys}, align="middle", default_size=12, colors=[colour])
        line = Lines(x=[0.0, 1.0], y=[0.0, 0.0], scales={"x": unit, "y": ys},
                     colors=[_ui.DANGER], line_style="dashed")
        self._marks[key] = (bars, text, -H, H)
        # The line is named in the axis label, not by a caption on the chart, which would sit
        # on top of the bars (unreadable contrast) whenever health is near 0.
        return _ui.figure(title, xs, ys, [bars, line, text], y_label="health ($)",
                          x_label="dashed line: liquidation (health 0)",
                          y_format="$.2s", height="260px")

    def _money_fig(self, key, title, top):
        names = ["Cross", "Isolated"]
        xs, ys = _ui.ordinal_scale(names), _ui.fixed_scale(0, top)
        bars = Bars(x=names, y=np.zeros(2), scales={"x": xs, "y": ys},
                    colors=[_ui.CROSS, _ui.ISOLATED], padding=0.4)
        text = Label(x=names, y=np.zeros(2), y_offset=-8, text=["", ""], colors=[_ui.NEUTRAL],
                     scales={"x": xs, "y": ys}, align="middle", default_size=12)
        self._marks[key] = (bars, text, 0.0, top)
        return _ui.figure(title, xs, ys, [bars, text], y_format="$.2s", height="220px")

    # -- inputs --------------------------------------------------------------------------
    def reset_split(self) -> None:
        """Back to the default split: all collateral posted, proportional to initial margin."""
        self._auto_split, self._posted = True, 1.0
        self._guard(self._render)

    def _from_control(self, name, value):
        if not self._syncing:
            setattr(self, name, value)

    def _on_posted(self, change):
        if self._syncing:
            return
        total = sum(self.split.values())
        if self._auto_split or total <= 0:          # default split, scaled to the posted share
            self._auto_split, self._posted = True, change["new"]
            self._guard(self._render, self._sync_controls)
        else:                                       # a custom split keeps its proportions
            self.split = {a: s * change["new"] / total for a, s in self.split.items()}

    def _on_input(self, change):
        if self._syncing:
            return
        if change["name"] == "split":
            self._auto_split = False

        def revert():
            self._syncing = True
            try:
                self.set_trait(change["name"], change["old"])
            finally:
                self._syncing = False
            if change["name"] == "split":
                self._auto_split = self._split_was_auto
            self._sync_controls()

        self._guard(self._render, revert)

    def _sync_controls(self):
        self._syncing = True
        try:
            for a, s in self._size_sliders.items():
                s.value = float(np.clip(self.positions.get(a, 0.0), s.min, s.max))
            self._collateral_slider.value = float(np.clip(self.collateral, 0.0,
                                                          self._collateral_slider.max))
            self._posted_slider.value = float(np.clip(sum(self.split.values()), 0.0, 1.0))
            if self._panel.shock != self.shock:
                self._panel.shock = dict(self.shock)
        finally:
            self._syncing = False

    # -- engine -> outputs ---------------------------------------------------------------
    def _render(self):
        m, c = self.market, float(self.collateral)
        if not np.isfinite(c) or c < 0:
            raise MarginInputError(f"collateral must be a number >= 0, got {c}")
        if tuple(m.assets) != tuple(self._panel.market.assets):
            raise MarginInputError(f"market must have the assets {list(self._panel.market.assets)}"
                                   f", got {list(m.assets)}")
        acct = Account.from_positions(m, perps=self.positions, cash=c)
        split = ({a: self._posted * s for a, s in proportional_split(acct, m).items()}
                 if self._auto_split else dict(self.split))
        res = compare_pooling(acct, m, m.shocked(self.shock).prices, split)
        self._split_was_auto = self._auto_split
        self._syncing = True
        try:
            self.split = split
        finally:
            self._syncing = False
        self._sync_controls()
        self._draw(res)

    def _draw(self, res):
        status = lambda h: f"{_ui.money(h)} {'LIQUIDATED' if h < 0 else 'safe'}"  # noqa: E731
        iso = np.concatenate([res.pool_health[1:], res.bucket_health])
        data = {"cross": (res.pool_health[:1], [status(res.pool_health[0])]),
                "iso": (iso, [status(h) if np.isfinite(h) else "no perp" for h in iso])}
        for key, v in (("loss", res.loss), ("capital", res.capital_required)):
            data[key] = (v, [f"{mode}: {_ui.money(x)}"
                             for mode, x in zip(("Cross", "Isolated"), v)])
        with ExitStack() as stack:                      # one message per mark
            for bars, text, _, _ in self._marks.values():
                stack.enter_context(bars.hold_sync())
                stack.enter_context(text.hold_sync())
            for key, (bars, text, lo, hi) in self._marks.items():
                y, labels = data[key]
                bars.y = np.clip(y, lo, hi)             # beyond the fixed axis: drawn at the edge
                text.text = labels
                if lo == 0.0:                           # money charts: label sits on its bar
                    text.y = np.clip(y, 0.0, 0.9 * hi)
        for name, value in (("cross_liquidatable", bool(res.liquidatable[0])),
                            ("isolated_failed", list(res.failed_buckets)),
                            ("cross_loss", float(res.loss[0])),
                            ("isolated_loss", float(res.loss[1])),
                            ("cross_capital_required", float(res.capital_required[0])),
                            ("isolated_capital_required", float(res.capital_required[1]))):
            self.set_trait(name, value)
        self._set_summary(self._describe(res))

    def _describe(self, res) -> str:
        start, loss = float(res.equity_start[0]), res.loss
        if res.liquidatable[0]:
            share = _ui.pct(loss[0] / start, 0) if start > 0 else "all"
            cross = f"Cross: account liquidated, loses {share} of its {_ui.money(start)} pool"
        else:
            cross = f"Cross: survives (pool health {_ui.money(res.pool_health[0])})"
        failed = res.failed_buckets
        if failed:
            alive = [a for a, h in zip(self.market.assets, res.bucket_health) if h >= 0]
            many = len(failed) > 1
            iso = (f"isolated: {_names(failed)} bucket{'s' if many else ''} liquidated, "
                   f"lose{'' if many else 's'} {_ui.money(loss[1])}")
            if alive:
                iso += f" ({_names(alive)} survive{'s' if len(alive) == 1 else ''})"
        elif res.liquidatable[1]:
            iso = f"isolated: pool liquidated, loses {_ui.money(loss[1])}"
        else:
            iso = "isolated: every bucket survives"
        need = res.capital_required
        return (f"{cross}; {iso}; collateral needed at these prices: cross "
                f"{_ui.money(need[0])}, isolated {_ui.money(need[1])}.")
