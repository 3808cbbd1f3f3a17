"""BracketChart: maintenance rate and liquidation price by position size (lesson 1, brackets)."""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import traitlets as T
from bqplot import Label, Lines, LogScale

from . import _ui
from .engine import Account, Book, Market, MarginInputError, liquidation_price

GRID = 300                              # sizes on the geometric grid
FLAT_RANGE = (1e4, 1e7)                 # sizes shown for an asset with one rate (no brackets)
_BELOW_FLOOR = 0.995                    # the largest size stays just under the barring floor
_HEIGHT = "340px"
_X_PAD = 10 ** 0.05                     # x axis: a fifth of a decade before the data, 1/20 after


def size_range(market: Market, asset: str, leverage: float) -> tuple[float, float]:
    """Smallest and largest position notional drawn for ``asset`` at ``leverage``.

    From a fifth of the first bracket's ceiling up to just under the floor of the first bracket
    whose initial rate (``1 / max leverage``) does not allow ``leverage``; when every bracket
    allows it, up to five times the last bracket's floor. An asset with a single rate is drawn
    over :data:`FLAT_RANGE`. Only the market's bracket table is read.

    >>> b = {"BTC": {"floor": [0, 50_000, 250_000, 1_000_000, 10_000_000, 20_000_000],
    ...              "maintenance": [0.004, 0.005, 0.01, 0.025, 0.05, 0.10],
    ...              "initial": [0.008, 0.01, 0.02, 0.05, 0.10, 0.20]}}
    >>> m = Market(["BTC"], [50_000.0], brackets=b)
    >>> size_range(m, "BTC", 10)       # 20,000,000 USD and up allow 5x at most
    (10000.0, 19900000.0)
    >>> size_range(m, "BTC", 2)
    (10000.0, 100000000.0)
    """
    table = market.bracket_table(asset)
    floors, initial = table["floor"], table["initial"]
    if len(floors) < 2:
        return FLAT_RANGE
    lo = floors[1] / 5
    barred = [f for f, im in zip(floors, initial) if im * leverage > 1 + 1e-9]
    hi = barred[0] * _BELOW_FLOOR if barred else 5 * floors[-1]
    return float(lo), float(hi)


def _price(x: float) -> str:
    return f"${x:,.2f}" if np.isfinite(x) else "none"


class BracketChart(_ui.Component):
    """Maintenance rate and liquidation price of one isolated long, by position size.

    With margin brackets (Binance USDⓈ-M "leverage and margin" tiers, Hyperliquid "margin
    tiers") the maintenance rate of a position depends on its notional: ``N x rate[k] -
    amount[k]`` in bracket ``k``. At the same leverage a bigger position keeps more of its
    notional as maintenance margin and is liquidated after a smaller move. The chart draws, for
    isolated longs of ``asset`` entered at ``entry_price`` with ``notional / leverage`` posted
    to the bucket, on a geometric grid of notionals (:func:`size_range`):

    * the maintenance rate, :meth:`Market.maintenance_requirement` ÷ notional;
    * the liquidation price, :func:`~widgets.engine.liquidation_price` of the
      :meth:`Book.from_accounts` of those longs.

    Every number comes from the engine. An asset with a single rate draws flat lines.

    Parameters
    ----------
    market : Market, default ``Market.example()``
    **traits : initial values of ``asset``, ``leverage`` and ``entry_price``.

    Traits
    ------
    market : Instance(Market) (input).
    asset : Unicode (input), default ``"BTC"`` — one of ``market.assets``.
    leverage : Float (input), default 10 — notional ÷ margin posted; above 1 and at most the
        max leverage of the asset's smallest bracket (``1 / initial``).
    entry_price : Float or None (input) — entry price of the longs; None: the market price.
    sizes : List (output) — position notionals (USD) of the grid.
    maintenance_rates : List (output) — maintenance requirement ÷ notional at each size.
    liquidation_prices : List (output) — liquidation price of each long.

    Changing ``market`` and ``asset`` together (to a market without the current asset): set
    them inside ``chart.hold_trait_notifications()``. A rejected input shows a message and the
    chart keeps its last good state.

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

    market = T.Instance(Market)
    asset = T.Unicode("BTC")
    leverage = T.Float(10.0)
    entry_price = T.Float(None, allow_none=True)
    sizes = T.List(read_only=True)
    maintenance_rates = T.List(read_only=True)
    liquidation_prices = T.List(read_only=True)
    _state_traits = ("asset", "leverage", "entry_price")
    _inputs = ("market", "asset", "leverage", "entry_price")

    def __init__(self, market: Market | None = None, **kwargs):
        given = {k: kwargs.pop(k) for k in self._state_traits if k in kwargs}
        self._data = None
        self._build()
        super().__init__(children=[self._problem_box, W.HBox([self._rate_fig, self._lp_fig]),
                                   self._summary_box], **kwargs)
        self.market = market if market is not None else Market.example()
        if self._guard(self._compute):
            self._show()
        self.observe(self._on_input, names=list(self._inputs))
        for name, value in given.items():        # each checked as a later change would be
            try:
                setattr(self, name, value)
            except T.TraitError as exc:          # a wrong type: a message, not a traceback
                self._show_problem(_ui.readable(exc))

    # -- figures --------------------------------------------------------------------------
    def _build(self) -> None:
        self._x = LogScale(min=FLAT_RANGE[0], max=FLAT_RANGE[1])
        self._y_rate, self._y_lp = _ui.fixed_scale(0, 1), _ui.fixed_scale(0, 1)
        sc_r, sc_p = {"x": self._x, "y": self._y_rate}, {"x": self._x, "y": self._y_lp}
        self._rate_line = Lines(x=[], y=[], colors=[_ui.PALETTE["blue"]], scales=sc_r,
                                stroke_width=3)
        self._lp_line = Lines(x=[], y=[], colors=[_ui.DANGER], scales=sc_p, stroke_width=3)
        self._entry_line = Lines(x=[], y=[], colors=[_ui.NEUTRAL], scales=sc_p,
                                 line_style="dashed", stroke_width=2)
        # in the theme's text colour (grey text on white is 2.8:1; WCAG AA asks 4.5)
        self._entry_label = Label(x=[FLAT_RANGE[0]], y=[0.5], text=[""], scales=sc_p,
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

    # -- inputs ---------------------------------------------------------------------------
    def _on_input(self, change) -> None:
        if self._silenced:
            return

        def revert():
            if self._data is not None:                # no good state yet: keep the value
                self._revert(change)

        if self._guard(self._compute, revert):
            self._show()

    def _entry(self) -> float:
        return float(self.market.prices[self.market.index(self.asset)]
                     if self.entry_price is None else self.entry_price)

    def _compute(self) -> None:
        market, asset = self.market, self.asset
        i = market.index(asset)                       # unknown asset: MarginInputError
        lev = float(self.leverage)
        first_im = market.bracket_table(asset)["initial"][0]
        max_lev = 1.0 / first_im if first_im > 0 else 1_000.0
        if not (np.isfinite(lev) and 1.0 < lev <= max_lev * (1 + 1e-12)):
            raise MarginInputError(f"leverage must be above 1 and at most {max_lev:g} (the max "
                                   f"leverage of {asset}'s smallest positions), got {lev:g}")
        entry = self._entry()
        if not (np.isfinite(entry) and entry > 0):
            raise MarginInputError(f"entry_price must be a price above 0, got {entry:g}")
        lo, hi = size_range(market, asset, lev)
        sizes = np.geomspace(lo, hi, GRID)
        n = market.n_assets
        accounts = []
        for notional in sizes:
            perps, entries, posted = np.zeros(n), np.zeros(n), np.zeros(n)
            perps[i], entries[i], posted[i] = notional / entry, entry, notional / lev
            accounts.append(Account(np.zeros(n), perps=perps, entry_prices=entries,
                                    mode="isolated", isolated_margin=posted))
        lp = np.asarray(liquidation_price(Book.from_accounts(accounts), market, asset), float)
        cells = np.zeros((GRID, n))
        cells[:, i] = sizes
        rates = market.maintenance_requirement(cells)[:, i] / sizes
        self._data = (sizes, rates, lp, entry, lev)

    # -- view -----------------------------------------------------------------------------
    def _show(self) -> None:
        sizes, rates, lp, entry, lev = self._data
        lo, hi = float(sizes[0]), float(sizes[-1])
        decades = np.arange(np.ceil(np.log10(lo) - 1e-9), np.floor(np.log10(hi) + 1e-9) + 1)
        for fig in (self._rate_fig, self._lp_fig):
            _ui.set_ticks(fig.axes[0], 10.0 ** decades)
        with self._x.hold_sync():       # room left of the first tick for the y tick labels
            self._x.min, self._x.max = lo / _X_PAD ** 4, hi * _X_PAD
        self._lp_fig.axes[1].label = f"{self.asset} price at liquidation (USD)"
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
        sizes, rates, lp, entry, lev = self._data
        m = _ui.money

        def far(x):
            return f"{x / entry - 1:+.2%} from entry" if np.isfinite(x) else "never liquidated"

        return (f"Isolated {self.asset} longs at {lev:g}× entered at {_price(entry)}, from "
                f"{m(sizes[0])} to {m(sizes[-1])} of notional. Maintenance rate: "
                f"{_ui.pct(rates[0], 2)} at {m(sizes[0])}, {_ui.pct(rates[-1], 2)} at "
                f"{m(sizes[-1])}. Liquidation price: {_price(lp[0])} ({far(lp[0])}) at "
                f"{m(sizes[0])}, {_price(lp[-1])} ({far(lp[-1])}) at {m(sizes[-1])}.")
