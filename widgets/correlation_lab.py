"""CorrelationLab: pooled margin is only as safe as the assets' co-movement (lesson 3)."""
from __future__ import annotations

from contextlib import ExitStack, contextmanager

import ipywidgets as W
import numpy as np
import traitlets as T
from bqplot import Bars, ColorScale, GridHeatMap, Label, Lines

from . import _ui
from .engine import (Account, Book, MarginInputError, Market, correlated_returns,
                     correlation_pairs, isolated_twin, margin_report, stress_correlation,
                     with_correlations)

SCENARIOS = (1_000, 10_000, 50_000)
HORIZON = (0.25, 5.0)            # days
N_BINS = 80
X_INSET = 0.04                   # share of the P&L range left empty at each end of its axis
BAR_ROOM = 0.8                   # bars reach at most this share of the plot; the label row above
MAX_SEED = 2**31 - 1


def default_account(market: Market) -> Account:
    """A diversified long book: $50,000 of perps on each volatile asset, 10,000 USDC of cash."""
    return Account.from_positions(market, cash=10_000.0, perps={
        a: 50_000 / p for a, p, v in zip(market.assets, market.prices, market.volatility)
        if v >= 0.01})


def _heatmap(assets) -> tuple:
    """Correlation heatmap, fixed colour scale -1 (blue) .. 0 (grey) .. +1 (orange), numbers."""
    colours = ColorScale(min=-1, max=1, colors=[_ui.PALETTE["blue"], _ui.NEUTRAL,
                                                _ui.PALETTE["orange"]])
    rows, cols = _ui.ordinal_scale(assets), _ui.ordinal_scale(assets)
    rows.reverse = True
    mark = GridHeatMap(
        row=list(assets), column=list(assets), color=np.eye(len(assets)), display_format=".2f",
        scales={"row": rows, "column": cols, "color": colours}, stroke=_ui.NEUTRAL,
        null_color=_ui.NEUTRAL,
        # Theme text with a halo in the theme's background: readable on every cell colour.
        font_style={"fill": "var(--jp-ui-font-color1)", "stroke": "var(--jp-layout-color1)",
                    "stroke-width": "3px", "paint-order": "stroke", "font-size": "13px"})
    # The colour key is in the title (and every cell prints its number): bqplot's ColorAxis drew
    # a zero-length bar with unreadable, theme-blind text in JupyterLab's dark theme.
    fig = _ui.figure("Correlation simulated (blue −1 · grey 0 · orange +1)", cols, rows, [mark])
    fig.fig_margin = {"top": 40, "bottom": 45, "left": 60, "right": 20}
    return fig, mark


class CorrelationLab(_ui.Component):
    """Liquidation probability of one book in cross vs isolated mode as correlations rise.

    The default book is diversified and long: $50,000 of BTC, ETH and SOL perps each on 10,000
    USDC of cash (15x). In cross mode one pool backs all three: while the assets move
    independently one leg's loss is offset by another's gain, and liquidation needs a broad
    fall (about 2 % of days with no correlation, 9 % at the example market's calm correlations
    0.70-0.80, 11 % when the crisis slider makes every pair move as one). The isolated twin
    (:func:`~widgets.engine.pooling.isolated_twin`: the cash split across three buckets in
    proportion to initial margin) fails whenever one asset falls far enough, so it fails more
    often (20 % at calm correlations) and *less* as correlation rises (failures coincide).
    Pooling's advantage is largest when correlations are low and shrinks as they jump toward 1
    in a crisis. (A hedged long/short book shows the reverse: a hedge needs correlation, so its
    danger is correlation *breaking*; set ``lab.account`` to one and move the pair sliders.)

    Both modes face the same simulated prices (common random numbers: one ``seed``). The
    stablecoin's correlations blend toward 1 too (``stress_correlation`` blends every pair); with
    0.1 % daily volatility and no stablecoin position that changes nothing here.

    Parameters
    ----------
    market : Market, default ``Market.example()``
    account : Account, optional
        A cross account; default :func:`default_account`.
    level, correlations, horizon_days, n_scenarios, seed : initial inputs (see Traits).

    Traits
    ------
    level : Float (input) — crisis blend toward all-ones correlation, in [0, 1].
    correlations : Dict (input) — calm correlations of volatile pairs, ``{"BTC-ETH": 0.8, ...}``.
    horizon_days : Float (input) — in [0.25, 5] days.
    n_scenarios : Int (input) — 1,000, 10,000 or 50,000.
    seed : Int (input) — >= 0; the same seed gives the same scenarios.
    account, market : Instance (input) — the book (cross mode) and the market (same assets).
    probability_cross, probability_isolated : Float (output) — share of scenarios liquidated.
    effective_correlation : List of lists (output) — the matrix simulated, in asset order.
    pnl_quantiles : Dict (output) — portfolio P&L quantiles ``{"1%", "5%", "50%"}``.

    Examples
    --------
    >>> lab = CorrelationLab()
    >>> lab.probability_cross < lab.probability_isolated
    True
    >>> lab.level = 1.0
    >>> lab.effective_correlation[0][2]
    1.0
    """

    level = T.Float(0.0)
    correlations = T.Dict()
    horizon_days = T.Float(1.0)
    n_scenarios = T.Int(10_000)
    seed = T.Int(0)
    account = T.Instance(Account, allow_none=True)
    market = T.Instance(Market)
    probability_cross = T.Float(read_only=True)
    probability_isolated = T.Float(read_only=True)
    effective_correlation = T.List(read_only=True)
    pnl_quantiles = T.Dict(read_only=True)
    _state_traits = ("level", "correlations", "horizon_days", "n_scenarios", "seed")
    _INPUTS = (*_state_traits, "account", "market")

    def __init__(self, market: Market | None = None, account: Account | None = None,
                 level=0.0, correlations=None, horizon_days=1.0, n_scenarios=10_000, seed=0,
                 **kwargs):
        market = market if market is not None else Market.example()
        self._assets, pairs = market.assets, correlation_pairs(market)
        # Pair names accepted from code ("BTC-ETH" or "ETH-BTC") -> the slider's name.
        self._names = {f"{x}-{y}": f"{a}-{b}" for a in self._assets for b in self._assets
                       if f"{a}-{b}" in pairs for x, y in ((a, b), (b, a))}
        # One update with 10,000 scenarios costs ~10 ms in the kernel, so these update live;
        # the pair sliders wait for release, so an impossible value snaps back once, not mid-drag.
        self._controls = {
            "level": _ui.slider("Crisis correlation (blend toward 1)", level, 0, 1, 0.05, ".2f"),
            "horizon_days": _ui.slider("Horizon (days)", horizon_days, *HORIZON, 0.25, ".2f"),
            "n_scenarios": W.Dropdown(options=[(f"{n:,}", n) for n in SCENARIOS],
                                      value=n_scenarios, description="Scenarios"),
            "seed": W.BoundedIntText(value=seed, min=0, max=MAX_SEED, description="Seed")}
        self._pairs = {k: _ui.slider(f"{k} calm correlation", v, -1, 1, 0.05, ".2f",
                                     continuous=False) for k, v in pairs.items()}
        self._new_draw = W.Button(description="New draw", icon="refresh",
                                  tooltip="Draw new random scenarios (the next seed)")
        self._heat_fig, self._heatmap = _heatmap(self._assets)
        self._x, self._y = _ui.fixed_scale(-1, 1), _ui.fixed_scale(0, 1)
        xy = {"x": self._x, "y": self._y}
        self._hist = Bars(x=np.linspace(-1, 1, N_BINS), y=np.zeros(N_BINS), padding=0.0,
                          scales=xy, colors=[_ui.NEUTRAL])
        self._line = Lines(x=[0.0, 0.0], y=[0.0, 1.0], scales=xy, colors=[_ui.DANGER],
                           line_style="dashed", stroke_width=2)
        self._line_label = Label(x=[0.0], y=[0.9], text=[""], x_offset=-6, align="end",
                                 colors=["var(--jp-ui-font-color1)"], default_size=12,
                                 font_weight="normal", scales=xy)
        self._hist_fig = _ui.figure(
            "Portfolio P&L over the horizon", self._x, self._y,
            [self._hist, self._line, self._line_label], x_label="P&L",
            y_label="share of scenarios", x_format="$.2~s", y_format=".0%")
        modes, p_scale = _ui.ordinal_scale(["Cross", "Isolated"]), _ui.fixed_scale(0, 1)
        self._p_scale = p_scale
        # colour per bar: bqplot's "group" mode (auto for 1-D y); "element" painted both blue
        self._prob = Bars(x=["Cross", "Isolated"], y=[0.0, 0.0], color_mode="group",
                          colors=[_ui.CROSS, _ui.ISOLATED], scales={"x": modes, "y": p_scale})
        # the figures above the bars (bqplot's own bar labels drop small values onto the axis)
        self._prob_label = Label(x=["Cross", "Isolated"], y=[0.0, 0.0], text=["", ""],
                                 y_offset=-6, align="middle", default_size=12,
                                 font_weight="bold", colors=["var(--jp-ui-font-color1)"],
                                 scales={"x": modes, "y": p_scale})
        self._prob_fig = _ui.figure("Probability of liquidation", modes, p_scale,
                                    [self._prob, self._prob_label],
                                    y_label="share of scenarios", y_format=".0%")
        c = self._controls
        super().__init__(children=[
            c["level"], W.HTML("Calm-market correlations (they must be possible together):"),
            *self._pairs.values(), c["horizon_days"],
            W.HBox([c["n_scenarios"], c["seed"], self._new_draw]), self._problem_box,
            W.HBox([self._heat_fig, self._prob_fig]), self._hist_fig, self._summary_box],
            **kwargs)
        self._syncing, self._good, self._book = False, {}, None
        self.market, self.account, self.level, self.horizon_days = (
            market, account, level, horizon_days)
        self.n_scenarios, self.seed = n_scenarios, seed
        self.correlations = {**pairs, **(correlations or {})}
        self._render("init")                            # bad constructor arguments raise
        self.observe(self._on_input, names=list(self._INPUTS))
        for name, control in self._controls.items():
            control.observe(lambda ch, n=name: self._from_control(n, ch["new"]), names="value")
        for key, s in self._pairs.items():
            s.observe(lambda ch, k=key: self._from_control(
                "correlations", {**self.correlations, k: ch["new"]}), names="value")
        self._new_draw.on_click(lambda _: self.new_draw())

    def new_draw(self) -> None:
        """Draw a fresh set of scenarios (the next seed)."""
        self.seed = self.seed + 1

    # -- inputs: controls -> traits -> render; bad input -> message + last good state ------
    @contextmanager
    def _quiet(self):
        self._syncing = True
        try:
            yield
        finally:
            self._syncing = False

    def _from_control(self, name, value) -> None:
        if not self._syncing:
            setattr(self, name, value)

    def _on_input(self, change) -> None:
        if not self._syncing:
            self._guard(lambda: self._render(change["name"]), self._restore)

    def _restore(self) -> None:
        with self._quiet():
            for name, value in self._good.items():
                setattr(self, name, value)
        self._sync_controls()

    def _sync_controls(self) -> None:
        with self._quiet():
            for name, control in self._controls.items():
                control.value = getattr(self, name)
            for key, s in self._pairs.items():
                s.value = self.correlations[key]

    def _check(self) -> dict:
        """Validated inputs; returns every volatile pair's correlation, by the sliders' names."""
        h, n, seed = self.horizon_days, self.n_scenarios, self.seed
        for ok, message in (
                (self.market.assets == self._assets, f"market must have the assets "
                 f"{list(self._assets)}, got {list(self.market.assets)} (make a new lab)"),
                (HORIZON[0] <= h <= HORIZON[1], f"horizon_days must be between {HORIZON[0]} "
                 f"and {HORIZON[1]} days, got {h}"),
                (n in SCENARIOS, f"n_scenarios must be one of {list(SCENARIOS)}, got {n}"),
                (0 <= seed <= MAX_SEED, f"seed must be a whole number in [0, {MAX_SEED}], "
                 f"got {seed}"),
                *((k in self._names, f"correlations keys must be among {list(self._pairs)}, "
                   f"got {k!r}") for k in self.correlations)):
            if not ok:
                raise MarginInputError(message)
        return {**self._good.get("correlations", {}),
                **{self._names[k]: v for k, v in self.correlations.items()}}

    # -- computation and drawing ----------------------------------------------------------
    def _render(self, moved: str) -> None:
        """Compute everything first (bad input raises here), then draw: one message per mark."""
        if moved == "market":                           # a new market brings its correlations
            with self._quiet():
                self.correlations = correlation_pairs(self.market)
        pairs = self._check()
        old = self._good.get("correlations", {})        # explain via the pair just moved
        moved_pairs = [self._names[k] for k in self.correlations
                       if old.get(self._names[k]) != pairs[self._names[k]]]
        base = with_correlations(self.market, pairs, prefer=(moved_pairs or [None])[-1])
        simulated = base.replace(correlation=stress_correlation(base.correlation, self.level))
        book = (self._prepare_book(self.account or default_account(self.market))
                if moved in ("init", "account", "market") else self._book)
        returns = correlated_returns(simulated, self.n_scenarios, self.horizon_days, self.seed)
        report = margin_report(book[0], simulated, prices=self.market.prices * (1 + returns))
        prob = report.liquidatable.mean(0)              # same scenarios for both modes
        pnl = report.equity[:, 0] - book[1]
        q = np.quantile(pnl, [0.01, 0.05, 0.5])
        corr = simulated.correlation
        new_book = book is not self._book
        # axes fitted to the data (and the liquidation line), kept while the data stay inside
        x_dom = _ui.nice_domain([pnl.min(), pnl.max(), -book[2]],
                                None if new_book else self._x_dom,
                                pad=0.04, ticks=8, shrink=0.45)
        edges = np.linspace(*x_dom, N_BINS + 1)
        share = np.histogram(pnl, edges)[0] / pnl.size
        y_dom = _ui.nice_domain([share.max() / BAR_ROOM],
                                None if new_book else (self._y.min, self._y.max),
                                pad=0.0, shrink=0.4)
        p_dom = _ui.nice_domain([prob.max() / BAR_ROOM, 0.01],
                                None if new_book else (self._p_scale.min, self._p_scale.max),
                                pad=0.0, shrink=0.3)
        with ExitStack() as stack:                      # one message per mark
            for m in (self._heatmap, self._hist, self._prob, self._prob_label, self._line,
                      self._line_label, self._x, self._y, self._p_scale):
                stack.enter_context(m.hold_sync())
            self._heatmap.color = corr
            self._draw_axes(x_dom, y_dom, p_dom, edges, book[2])
            self._hist.y = share
            self._prob.y = prob
            self._prob_label.y = prob
            self._prob_label.text = [_ui.pct(p) for p in prob]
        self._book = book
        with self._quiet():
            self.correlations = pairs
        self._good = {name: getattr(self, name) for name in self._INPUTS}
        self._sync_controls()
        self.set_trait("probability_cross", float(prob[0]))
        self.set_trait("probability_isolated", float(prob[1]))
        self.set_trait("effective_correlation", corr.tolist())
        self.set_trait("pnl_quantiles", dict(zip(("1%", "5%", "50%"), map(float, q))))
        shown = ", ".join(f"{k} {v:.2f}" for k, v in correlation_pairs(simulated).items())
        h = self.horizon_days
        self._set_summary(
            f"Crisis level {self.level:.2f}; correlations simulated: {shown}. Over {h:g} "
            f"day{'s' if h != 1 else ''} ({self.n_scenarios:,} scenarios, seed {self.seed}) the "
            f"cross account is liquidated in {_ui.pct(prob[0])} of scenarios, its isolated twin "
            f"(any bucket) in {_ui.pct(prob[1])}. Portfolio P&L: worst 1% "
            f"{_ui.money(q[0], True)}, worst 5% {_ui.money(q[1], True)}, median "
            f"{_ui.money(q[2], True)}; the cross pool fails once losses pass about "
            f"{_ui.money(book[2])}.")

    def _prepare_book(self, account: Account) -> tuple:
        """Cross account + isolated twin, equity now and the health (loss the pool can take)."""
        book = Book.from_accounts([account, isolated_twin(account, self.market)])
        now = margin_report(account, self.market)
        return book, now.equity, now.health

    def _draw_axes(self, x_dom, y_dom, p_dom, edges, buffer) -> None:
        """Fitted domains, bins and the liquidation line (inside the caller's ``hold_sync``).

        The line's label goes on the side of the line with more room, in a row above the bars.
        """
        if getattr(self, "_x_dom", None) != x_dom:
            self._x_dom = x_dom
            # the axis runs a little past the bins so its end ticks ("-$30k") sit inside,
            # clear of the y axis' "0%" in the corner
            inset = X_INSET * (x_dom[1] - x_dom[0])
            self._x.min, self._x.max = x_dom[0] - inset, x_dom[1] + inset
            step = _ui.nice_step(x_dom[1] - x_dom[0], 8)     # ticks on the bins' round range
            _ui.set_ticks(self._hist_fig.axes[0], np.arange(x_dom[0], x_dom[1] + step / 2, step))
            self._hist.x = (edges[:-1] + edges[1:]) / 2
        for scale, dom, fig in ((self._y, y_dom, self._hist_fig),
                                (self._p_scale, p_dom, self._prob_fig)):
            if (scale.min, scale.max) != dom:
                # the y ticks follow the domain (_ui.follow_nice_ticks), labelled with the
                # decimals their step needs (_ui.set_ticks: "2.5%", not "3%")
                scale.min, scale.max = dom
        top = y_dom[1]
        line = [-float(buffer)] * 2
        if list(self._line.x) != line or list(self._line.y) != [0.0, top]:
            self._line.x, self._line.y = line, [0.0, top]
        right = (-buffer - x_dom[0]) / (x_dom[1] - x_dom[0]) < 0.5     # more room right
        self._line_label.x, self._line_label.y = [-float(buffer)], [0.9 * top]
        self._line_label.align, self._line_label.x_offset = ("start", 6) if right else ("end", -6)
        self._line_label.text = [f"cross pool liquidated (loss > {_ui.money(buffer)})"]
