"""CorrelationLab: pooled margin is only as safe as the assets' co-movement (lesson 3)."""
from __future__ import annotations

from contextlib import ExitStack

import ipywidgets as W
import numpy as np
import traitlets as T
from bqplot import Bars, ColorScale, GridHeatMap, Label, Lines

from . import _ui
from .engine import (Account, MarginInputError, Market, correlation_pairs, cross_vs_isolated,
                     diversified_account, pnl_histogram, pnl_quantiles, stress_correlation,
                     with_correlations)

SCENARIOS = (1_000, 10_000, 50_000)
HORIZON = (0.25, 5.0)            # days
N_BINS = 80
X_INSET = 0.04                   # share of the P&L range left empty at each end of its axis
BAR_ROOM = 0.8                   # bars reach at most this share of the plot; the label row above
MAX_SEED = 2**31 - 1
_INPUTS = ("level", "correlations", "horizon_days", "n_scenarios", "seed")


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

    The default book is diversified and long (:func:`~widgets.engine.diversified_account`):
    $50,000 of BTC, ETH and SOL perps each on 10,000 USDC of cash (15x). In cross mode one pool
    backs all three: while the assets move independently one leg's loss is offset by another's
    gain, and liquidation needs a broad fall (about 2 % of days with no correlation, 9 % at the
    example market's calm correlations 0.70-0.80, 11 % when the crisis slider makes every pair
    move as one). The isolated twin (:func:`~widgets.engine.isolated_twin`: the cash split
    across three buckets in proportion to initial margin) fails whenever one asset falls far
    enough, so it fails more often (20 % at calm correlations) and *less* as correlation rises
    (failures coincide). Pooling's advantage is largest when correlations are low and shrinks as
    they jump toward 1 in a crisis. (A hedged long/short book shows the reverse: a hedge needs
    correlation, so its danger is correlation *breaking*; set ``lab.account`` to one and move
    the pair sliders.)

    The engine computes every number (:func:`~widgets.engine.cross_vs_isolated`: both modes on
    the same simulated prices, one ``seed``; :func:`~widgets.engine.pnl_histogram`,
    :func:`~widgets.engine.pnl_quantiles`); the lab names them. The stablecoin's correlations
    blend toward 1 too (``stress_correlation`` blends every pair); with 0.1 % daily volatility
    and no stablecoin position that changes nothing here.

    Parameters
    ----------
    market : Market, default ``Market.example()``
        Not an input a learner sets by value: a bad market raises ``MarginInputError``.
    account : Account, optional
        A cross account; default :func:`~widgets.engine.diversified_account`. An account that
        is not in cross mode raises ``MarginInputError``.
    level, correlations, horizon_days, n_scenarios, seed
        Initial inputs (see Attributes). A refused value leaves the default and names the
        argument in ``problem`` (the constructor policy of :class:`widgets._ui.Component`).

    Attributes
    ----------
    level : float
        Input: crisis blend toward all-ones correlation, in [0, 1].
    correlations : dict of str to float
        Input: calm correlations of the volatile pairs, ``{"BTC-ETH": 0.8, ...}``; assigning
        some pairs (either order, "ETH-BTC") keeps the others; each in [-1, 1], and together
        possible (a positive semi-definite matrix), else refused with the reason.
    horizon_days : float
        Input: the horizon simulated, in [0.25, 5] days.
    n_scenarios : int
        Input: 1,000, 10,000 or 50,000.
    seed : int
        Input: in [0, 2**31 - 1]; the same seed gives the same scenarios.
    account : Account or None
        The book (cross mode); None means the default diversified book.
    market : Market
        The market (the same assets as the lab was built with); a new one brings its own
        correlations.
    probability_cross, probability_isolated : float
        Output: share of scenarios in which the cross account / its isolated twin is liquidated.
    effective_correlation : list of list of float
        Output: the matrix simulated, in asset order.
    pnl_quantiles : dict of str to float
        Output: the cross account's P&L quantiles ``{"1%", "5%", "50%"}``.
    health_now : float
        Output: the cross account's health now, about the loss its pool can take.
    problem, summary : str
        See :class:`widgets._ui.Component`.

    Examples
    --------
    >>> lab = CorrelationLab()
    >>> lab.probability_cross < lab.probability_isolated
    True
    >>> lab.level = 1.0
    >>> lab.effective_correlation[0][2]
    1.0
    >>> lab.n_scenarios = 10**8           # not a size the control offers: a message, no change
    >>> lab.n_scenarios, lab.problem[:50]
    (10000, 'That input was not accepted: n_scenarios must be o')
    """

    level = _ui.Finite(0.0, min=0.0, max=1.0,
                       help="Crisis blend toward all-ones correlation, in [0, 1].")
    correlations = T.Dict(help="Calm correlations of the volatile pairs, {'BTC-ETH': 0.8, ...}.")
    horizon_days = _ui.Finite(1.0, min=HORIZON[0], max=HORIZON[1],
                              help="Horizon simulated, in days [0.25, 5].")
    n_scenarios = _ui.Choice(list(SCENARIOS), 10_000,
                             help="Number of simulated scenarios: 1,000, 10,000 or 50,000.")
    seed = _ui.Whole(0, min=0, max=MAX_SEED,
                     help="Random seed; the same seed draws the same scenarios.")
    account = T.Instance(Account, allow_none=True,
                         help="The book in cross mode; None: the diversified default.")
    market = T.Instance(Market, help="The market (same assets as the lab was built with).")
    probability_cross = T.Float(read_only=True,
                                help="Share of scenarios in which the cross account fails.")
    probability_isolated = T.Float(read_only=True,
                                   help="Share of scenarios in which the isolated twin fails.")
    effective_correlation = T.List(read_only=True, help="The correlation matrix simulated.")
    pnl_quantiles = T.Dict(read_only=True,
                           help="Cross account P&L quantiles {'1%', '5%', '50%'}.")
    health_now = T.Float(read_only=True,
                         help="The cross account's health now: about the loss it can take.")
    _state_traits = _INPUTS

    def __init__(self, market: Market | None = None, account: Account | None = None,
                 **kwargs):
        given = {name: kwargs.pop(name) for name in _INPUTS if name in kwargs}
        market = _ui.engine_argument("market", market, Market, Market.example)
        if account is not None:
            account = _ui.engine_argument("account", account, Account)
        self._assets, pairs = market.assets, correlation_pairs(market)
        # Pair names accepted from code ("BTC-ETH" or "ETH-BTC") -> the slider's name.
        self._names = {f"{x}-{y}": f"{a}-{b}" for a in self._assets for b in self._assets
                       if f"{a}-{b}" in pairs for x, y in ((a, b), (b, a))}
        # One update with 10,000 scenarios costs ~10 ms in the kernel, so these update live;
        # the pair sliders wait for release, so an impossible value snaps back once, not mid-drag.
        level = _ui.slider("Crisis correlation (blend toward 1)", 0.0, 0, 1, 0.05, ".2f")
        horizon = _ui.slider("Horizon (days)", 1.0, *HORIZON, 0.25, ".2f")
        n_scen = W.Dropdown(options=[(f"{n:,}", n) for n in SCENARIOS], value=10_000,
                            description="Scenarios")
        seed = W.BoundedIntText(value=0, min=0, max=MAX_SEED, description="Seed")
        self._pairs = {k: _ui.slider(f"{k} calm correlation", v, -1, 1, 0.05, ".2f",
                                     continuous=False) for k, v in pairs.items()}
        new_draw = W.Button(description="New draw", icon="refresh",
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
        modes, self._p_scale = _ui.ordinal_scale(["Cross", "Isolated"]), _ui.fixed_scale(0, 1)
        # colour per bar: bqplot's "group" mode (auto for 1-D y); "element" painted both blue
        self._prob = Bars(x=["Cross", "Isolated"], y=[0.0, 0.0], color_mode="group",
                          colors=[_ui.CROSS, _ui.ISOLATED],
                          scales={"x": modes, "y": self._p_scale})
        # the figures above the bars (bqplot's own bar labels drop small values onto the axis)
        self._prob_label = Label(x=["Cross", "Isolated"], y=[0.0, 0.0], text=["", ""],
                                 y_offset=-6, align="middle", default_size=12,
                                 font_weight="bold", colors=["var(--jp-ui-font-color1)"],
                                 scales={"x": modes, "y": self._p_scale})
        self._prob_fig = _ui.figure("Probability of liquidation", modes, self._p_scale,
                                    [self._prob, self._prob_label],
                                    y_label="share of scenarios", y_format=".0%")
        super().__init__(children=[
            level, W.HTML("Calm-market correlations (they must be possible together):"),
            *self._pairs.values(), horizon, W.HBox([n_scen, seed, new_draw]), self._problem_box,
            W.HBox([self._heat_fig, self._prob_fig]), self._hist_fig, self._summary_box],
            **kwargs)
        self._shown = {"account": None, "market": None, "pairs": {}, "x_dom": None}
        self._risk = self._hist_data = None
        with self._silently():
            self.market, self.account, self.correlations = market, account, pairs
        self._compute()                                 # a bad market or account raises here
        self._show()
        for name, control in (("level", level), ("horizon_days", horizon),
                              ("n_scenarios", n_scen), ("seed", seed)):
            self._bind(name, control)
        for key, s in self._pairs.items():
            self._bind("correlations", s, key=key)
        new_draw.on_click(lambda _: self.new_draw())
        self._expose(
            figures={"correlation": self._heat_fig, "probability": self._prob_fig,
                     "pnl": self._hist_fig},
            marks={"heatmap": self._heatmap, "probability": self._prob,
                   "probability_label": self._prob_label, "histogram": self._hist,
                   "liquidation_line": self._line, "liquidation_label": self._line_label},
            controls={"new_draw": new_draw})
        self.observe(self._on_input, names=[*_INPUTS, "account", "market"])
        self._sync_controls()
        self._apply_inputs(given)

    # -- public ---------------------------------------------------------------------------
    def new_draw(self) -> None:
        """Draw a fresh set of scenarios (the next seed; back to 0 after the largest)."""
        self.seed = self.seed + 1 if self.seed < MAX_SEED else 0

    @property
    def result(self):
        """The engine's :class:`~widgets.engine.CrossIsolatedRisk` shown now."""
        return self._risk

    @property
    def histogram(self):
        """The engine's :class:`~widgets.engine.PnlHistogram` drawn now (shares, bin edges)."""
        return self._hist_data

    # -- inputs ---------------------------------------------------------------------------
    @T.validate("correlations")
    def _valid_correlations(self, proposal) -> dict:
        """Pairs by the sliders' names, merged into the current ones; each a number in [-1, 1]."""
        merged, given = dict(self.correlations), []
        for key, value in proposal["value"].items():
            if key not in self._names:
                raise T.TraitError(f"correlations keys must be among {list(self._pairs)}, "
                                   f"got {_ui.short_repr(key)}")
            name = self._names[key]
            if not _ui.is_real(value):
                raise T.TraitError(f"correlation {name} must be a number, got "
                                   f"{_ui.short_repr(value)}")
            rho = float(value)
            if not (np.isfinite(rho) and -1.0 <= rho <= 1.0):
                raise T.TraitError(f"correlation {name} must be a number between -1 and 1, "
                                   f"got {rho:g}")
            merged[name] = rho
            given.append(name)
        self._given = given             # explain an impossible set via the pair given last
        return merged

    # -- computation and drawing ----------------------------------------------------------
    def _compute(self) -> None:
        market = self.market
        if market.assets != self._assets or list(correlation_pairs(market)) != list(self._pairs):
            raise MarginInputError(
                f"market must have the assets {list(self._assets)} with the same volatile "
                f"pairs, got {_ui.short_repr(list(market.assets))} (make a new lab)")
        if market is not self._shown["market"]:         # a new market brings its correlations
            base, pairs = market, correlation_pairs(market)
        else:                                           # explain via the pair just moved
            moved = [k for k in self.__dict__.get("_given", ())
                     if self._shown["pairs"].get(k) != self.correlations[k]]
            base = with_correlations(market, self.correlations, prefer=(moved or [None])[-1])
            pairs = dict(self.correlations)
        simulated = base.replace(correlation=stress_correlation(base.correlation, self.level))
        account = self.account if self.account is not None else diversified_account(market)
        self._risk = cross_vs_isolated(account, simulated, self.n_scenarios, self.horizon_days,
                                       self.seed)
        self._simulated = simulated
        if pairs != self.correlations:                  # nothing can fail after this
            with self._silently():
                self.correlations = pairs

    def _show(self) -> None:
        """Draw the computed numbers: one message per mark."""
        risk, corr = self._risk, self._simulated.correlation
        pnl, buffer = risk.pnl, risk.health_now
        new_book = not (self.account is self._shown["account"]
                        and self.market is self._shown["market"])
        # axes fitted to the data (and the liquidation line), kept while the data stay inside
        x_dom = _ui.nice_domain([pnl.min(), pnl.max(), -buffer],
                                None if new_book else self._shown["x_dom"],
                                pad=0.04, ticks=8, shrink=0.45)
        hist = pnl_histogram(pnl, *x_dom, N_BINS)
        prob = np.array(risk.probabilities)
        q = pnl_quantiles(pnl)
        y_dom = _ui.nice_domain([hist.shares.max() / BAR_ROOM],
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
            self._draw_axes(x_dom, y_dom, p_dom, hist, buffer)
            self._hist.y = hist.shares
            self._prob.y = prob
            self._prob_label.y = prob
            self._prob_label.text = [_ui.pct(p) for p in prob]
        self._hist_data = hist
        self._shown.update(account=self.account, market=self.market,
                           pairs=dict(self.correlations), x_dom=x_dom)
        self.set_trait("probability_cross", risk.probability_cross)
        self.set_trait("probability_isolated", risk.probability_isolated)
        self.set_trait("effective_correlation", corr.tolist())
        self.set_trait("pnl_quantiles", q)
        self.set_trait("health_now", buffer)
        shown = ", ".join(f"{k} {v:.2f}" for k, v in correlation_pairs(self._simulated).items())
        h = self.horizon_days
        self._set_summary(
            f"Crisis level {self.level:.2f}; correlations simulated: {shown}. Over {h:g} "
            f"day{'s' if h != 1 else ''} ({self.n_scenarios:,} scenarios, seed {self.seed}) the "
            f"cross account is liquidated in {_ui.pct(prob[0])} of scenarios, its isolated twin "
            f"(any bucket) in {_ui.pct(prob[1])}. Portfolio P&L: worst 1% "
            f"{_ui.money(q['1%'], True)}, worst 5% {_ui.money(q['5%'], True)}, median "
            f"{_ui.money(q['50%'], True)}; the cross pool fails once losses pass about "
            f"{_ui.money(buffer)}.")

    def _draw_axes(self, x_dom, y_dom, p_dom, hist, buffer) -> None:
        """Fitted domains, bins and the liquidation line (inside the caller's ``hold_sync``).

        The line's label goes on the side of the line with more room, in a row above the bars.
        """
        if self._shown["x_dom"] != x_dom:
            # the axis runs a little past the bins so its end ticks ("-$30k") sit inside,
            # clear of the y axis' "0%" in the corner
            inset = X_INSET * (x_dom[1] - x_dom[0])
            self._x.min, self._x.max = x_dom[0] - inset, x_dom[1] + inset
            step = _ui.nice_step(x_dom[1] - x_dom[0], 8)     # ticks on the bins' round range
            _ui.set_ticks(self._hist_fig.axes[0], np.arange(x_dom[0], x_dom[1] + step / 2, step))
            self._hist.x = hist.centres
        for scale, dom in ((self._y, y_dom), (self._p_scale, p_dom)):
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
