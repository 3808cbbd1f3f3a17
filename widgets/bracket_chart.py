"""BracketChart: maintenance rate and liquidation price by position size (lesson 1, brackets)."""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import traitlets as T
from bqplot import Label, Lines, LogScale

from . import _ui
from .engine import Market, bracket_ladder

GRID = 300                              # sizes on the geometric grid
_HEIGHT = "340px"
_X_PAD = 10 ** 0.05                     # x axis: a fifth of a decade before the data, 1/20 after


def _price(x: float) -> str:
    return f"${x:,.2f}" if np.isfinite(x) else "none"


class BracketChart(_ui.Component):
    """Maintenance rate and liquidation price of one isolated long, by position size.

    With margin brackets (Binance USDⓈ-M "leverage and margin" tiers, Hyperliquid "margin
    tiers") the maintenance rate of a position depends on its notional: ``N x rate[k] -
    amount[k]`` in bracket ``k``. At the same leverage a bigger position keeps more of its
    notional as maintenance margin and is liquidated after a smaller move. The chart draws
    :func:`~widgets.engine.bracket_ladder`: for isolated longs of ``asset`` entered at
    ``entry_price`` with ``notional / leverage`` posted to the bucket, on a geometric grid of
    notionals (:func:`~widgets.engine.bracket_sizes`), the maintenance rate and the
    liquidation price. Every number comes from the engine. An asset with a single rate draws
    flat lines.

    Parameters
    ----------
    market : Market, default ``Market.example()``
    **traits
        Initial ``asset``, ``leverage`` and ``entry_price``. A refused value leaves the
        default and names the argument in ``problem`` (the constructor policy of
        :class:`~widgets._ui.Component`).

    Attributes
    ----------
    market : Market
        The venue whose bracket table is drawn (input; a change redraws).
    asset : str
        One of ``market.assets`` (input), default ``"BTC"``.
    leverage : float
        Notional ÷ margin posted (input), default 10: above 1 and at most the max leverage of
        the asset's smallest bracket (:func:`~widgets.engine.max_leverage`).
    entry_price : float or None
        Entry price of the longs, above 0 (input); None: the market price.
    sizes : list of float
        Position notionals (USD) of the grid (output).
    maintenance_rates : list of float
        Maintenance requirement ÷ notional at each size (output).
    liquidation_prices : list of float
        Liquidation price of each long (output).
    problem, summary : str
        See :class:`~widgets._ui.Component`.

    Notes
    -----
    Changing ``market`` and ``asset`` together (to a market without the current asset): set
    them inside ``chart.hold_trait_notifications()``. A rejected input shows a message and the
    chart keeps its last good state. :attr:`figures` holds ``"rate"`` and ``"price"``;
    :meth:`chart_data` the lines ``"rate"``, ``"price"``, ``"entry"`` and ``"entry_label"``.

    References
    ----------
    Binance, "How to calculate liquidation price of USDⓈ-M contracts" (maintenance amount
    ``cum``): https://www.binance.com/en/support/faq/b3c689c1f50a44cabb3a84e663b81d93 ;
    Hyperliquid docs, "Margin tiers":
    https://hyperliquid.gitbook.io/hyperliquid-docs/trading/margin-tiers

    Examples
    --------
    >>> m = Market(["BTC"], [50_000.0], brackets={"BTC": {
    ...     "floor": [0, 50_000, 250_000], "maintenance": [0.004, 0.005, 0.01],
    ...     "initial": [0.008, 0.01, 0.02]}})
    >>> chart = BracketChart(market=m, leverage=20)
    >>> len(chart.sizes), round(chart.sizes[0]), round(chart.sizes[-1])
    (300, 10000, 1250000)
    >>> [round(r, 4) for r in chart.maintenance_rates[::299]]
    [0.004, 0.009]
    >>> chart.leverage = 1
    >>> chart.problem.startswith("That input was not accepted: leverage must be"), chart.leverage
    (True, 20.0)
    """

    market = T.Instance(Market, help="The venue whose bracket table is drawn.")
    asset = T.Unicode("BTC", help="The asset of the longs: one of market.assets.")
    leverage = _ui.Finite(10.0, min=1.0, max=1_000.0,
                          help="Notional / margin posted: above 1, at most the asset's max "
                               "leverage.")
    entry_price = _ui.Finite(None, allow_none=True, min=0.0, max=1e12,
                             help="Entry price of the longs (above 0); None: the market price.")
    sizes = T.List(read_only=True, help="Position notionals (USD) of the grid.")
    maintenance_rates = T.List(read_only=True,
                               help="Maintenance requirement / notional at each size.")
    liquidation_prices = T.List(read_only=True, help="Liquidation price of each long.")
    _state_traits = ("asset", "leverage", "entry_price")

    def __init__(self, market: Market | None = None, **kwargs):
        given = {k: kwargs.pop(k) for k in self._state_traits if k in kwargs}
        self._ladder = None
        self._build()
        super().__init__(children=[self._problem_box, W.HBox([self._rate_fig, self._lp_fig]),
                                   self._summary_box], **kwargs)
        self.set_trait("market", _ui.engine_argument("market", market, Market, Market.example))
        self._recompute()
        self.observe(self._on_input, names=["market", *self._state_traits])
        self._apply_inputs(given)

    # -- figures --------------------------------------------------------------------------
    def _build(self) -> None:
        self._x = LogScale(min=1e4, max=1e7)
        self._y_rate, self._y_lp = _ui.fixed_scale(0, 1), _ui.fixed_scale(0, 1)
        sc_r, sc_p = {"x": self._x, "y": self._y_rate}, {"x": self._x, "y": self._y_lp}
        self._rate_line = Lines(x=[], y=[], colors=[_ui.PALETTE["blue"]], scales=sc_r,
                                stroke_width=3)
        self._lp_line = Lines(x=[], y=[], colors=[_ui.DANGER], scales=sc_p, stroke_width=3)
        self._entry_line = Lines(x=[], y=[], colors=[_ui.NEUTRAL], scales=sc_p,
                                 line_style="dashed", stroke_width=2)
        # in the theme's text colour (grey text on white is 2.8:1; WCAG AA asks 4.5)
        self._entry_label = Label(x=[1e4], y=[0.5], text=[""], scales=sc_p,
                                  colors=[_ui.TEXT_FILL], default_size=12, align="start",
                                  y_offset=-6)
        x_label = "position notional (USD, log scale)"
        self._rate_fig = _ui.figure("Maintenance rate by size", self._x, self._y_rate,
                                    [self._rate_line], x_label, "maintenance, % of notional",
                                    height=_HEIGHT, y_format=".1%", x_format="$~s")
        self._lp_fig = _ui.figure("Liquidation price by size", self._x, self._y_lp,
                                  [self._lp_line, self._entry_line, self._entry_label], x_label,
                                  "price at liquidation (USD)", height=_HEIGHT,
                                  y_format="$,.0f", x_format="$~s")
        for fig in (self._rate_fig, self._lp_fig):
            fig.layout.flex, fig.layout.width = "1 1 0", "auto"
        self._expose(figures={"rate": self._rate_fig, "price": self._lp_fig},
                     marks={"rate": self._rate_line, "price": self._lp_line,
                            "entry": self._entry_line, "entry_label": self._entry_label})

    # -- inputs ---------------------------------------------------------------------------
    def _compute(self) -> None:
        self._ladder = bracket_ladder(self.market, self.asset, self.leverage, self.entry_price,
                                      n=GRID)

    # -- view -----------------------------------------------------------------------------
    def _show(self) -> None:
        lad = self._ladder
        sizes, rates, lp, entry = lad.sizes, lad.maintenance_rates, lad.liquidation_prices, \
            lad.entry_price
        lo, hi = float(sizes[0]), float(sizes[-1])
        decades = np.arange(np.ceil(np.log10(lo) - 1e-9), np.floor(np.log10(hi) + 1e-9) + 1)
        for fig in (self._rate_fig, self._lp_fig):
            _ui.set_ticks(fig.axes[0], 10.0 ** decades)
        with self._x.hold_sync():       # room left of the first tick for the y tick labels
            self._x.min, self._x.max = lo / _X_PAD ** 4, hi * _X_PAD
        self._lp_fig.axes[1].label = f"{lad.asset} price at liquidation (USD)"
        _ui.fit_scale(self._y_rate, rates, include=(0.0,))
        _ui.fit_scale(self._y_lp, np.append(lp, entry), include=())
        with self._rate_line.hold_sync():
            self._rate_line.x, self._rate_line.y = sizes, rates
        with self._lp_line.hold_sync():
            self._lp_line.x, self._lp_line.y = sizes, lp
        with self._entry_line.hold_sync():
            self._entry_line.x, self._entry_line.y = [lo, hi], [entry, entry]
        with self._entry_label.hold_sync():
            self._entry_label.x = [lo * (hi / lo) ** 0.02]
            self._entry_label.y = [entry]
            self._entry_label.text = [f"entry price {_price(entry)}"]
        self.set_trait("sizes", sizes.tolist())
        self.set_trait("maintenance_rates", rates.tolist())
        self.set_trait("liquidation_prices", lp.tolist())
        self._set_summary(self._describe())

    def _describe(self) -> str:
        lad = self._ladder
        sizes, rates, lp, moves = lad.sizes, lad.maintenance_rates, lad.liquidation_prices, \
            lad.moves
        m = _ui.money

        def far(k):
            return f"{moves[k]:+.2%} from entry" if np.isfinite(lp[k]) else "never liquidated"

        return (f"Isolated {lad.asset} longs at {lad.leverage:g}× entered at "
                f"{_price(lad.entry_price)}, from {m(sizes[0])} to {m(sizes[-1])} of notional. "
                f"Maintenance rate: {_ui.pct(rates[0], 2)} at {m(sizes[0])}, "
                f"{_ui.pct(rates[-1], 2)} at {m(sizes[-1])}. Liquidation price: {_price(lp[0])} "
                f"({far(0)}) at {m(sizes[0])}, {_price(lp[-1])} ({far(-1)}) at {m(sizes[-1])}.")
