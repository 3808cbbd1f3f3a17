"""AdlQueueChart: who is auto-deleveraged first, and by how much (lesson 6)."""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import traitlets as T
from bqplot import Axis, Bars, Figure, Label, LinearScale, OrdinalScale

from . import _ui
from .engine import Account, Book, MarginInputError, Market, adl_example, adl_queue, open_units

MAX_BARS = 12                  # positions drawn (the queue's head); the rest are counted
QUANTITY_REACH = 1.5           # the quantity slider reaches 1.5x the units open on the side


def _money(x: float) -> str:
    """Whole units, or cents under 100 (the lesson's example gives up 1.41)."""
    return f"${x:,.2f}" if abs(x) < 100 else _ui.money(x)


class AdlQueueChart(_ui.Component):
    """The auto-deleveraging queue of one side of one perp, ranked as BitMEX ranks it.

    Bars: each profitable position's rank score ``PnL % x effective leverage``
    (:func:`~widgets.engine.adl_scores`), first in the queue at the top. A bankrupt position of
    ``quantity`` units on the other side is closed against the queue in that order at its
    ``bankruptcy_price`` (BitMEX; dYdX v4 deleverages at the bankruptcy price too, picking
    accounts at random; Hyperliquid ranks by unrealized PnL and leverage and closes at the
    previous oracle price). Bars of the positions reached are drawn in vermillion and labelled
    with the units closed and the profit each gives up (:func:`~widgets.engine.adl_queue`).

    Parameters
    ----------
    book : Book or Account, default lesson 6's three shorts (:func:`~widgets.engine.adl_example`)
    market : Market, default ``Market.example()``
    asset : str, default the market's first asset
    side : {"long", "short"}, default "short"
        The side being deleveraged.
    names : list of str, optional
        One per account.
    **traits
        Initial ``quantity`` and ``bankruptcy_price`` (default: the example's, else the
        asset's mark). A refused value leaves the default and names the argument in ``problem``
        (the constructor policy of :class:`~widgets._ui.Component`).

    Attributes
    ----------
    quantity : float
        Units of the bankrupt position to close (input), from 0 to :attr:`max_quantity`.
    bankruptcy_price : float
        The bankrupt position's bankruptcy price (input), above 0.
    book : Book
        The accounts whose positions form the queue.
    market : Market
        The venue: prices and margins.
    asset : str
        The perp, one of ``market.assets``.
    side : str
        ``"long"`` or ``"short"``: the side being deleveraged.
    names : list of str
        One name per account.
    order : list of str
        Names of the queued accounts, first deleveraged first (output).
    closed_units, given_up : list of float
        Per queued account, in queue order: units closed and profit given up (output).
    unfilled : float
        Units the queue could not absorb (output).
    problem, summary : str
        See :class:`~widgets._ui.Component`.

    Notes
    -----
    :attr:`figures` holds ``"queue"``; :meth:`chart_data` the marks ``"bars"`` (row 0:
    reached, row 1: not reached) and ``"labels"``; :attr:`controls` the quantity slider and
    the bankruptcy price box.

    Examples
    --------
    >>> q = AdlQueueChart(quantity=1.5)
    >>> q.order[0], q.closed_units[:2]
    ('0.3x hedge, short early', [1.0, 0.5])
    """

    quantity = _ui.Finite(0.0, min=0.0, max=1e12,
                          help="Units of the bankrupt position to close, 0 to max_quantity.")
    bankruptcy_price = _ui.Finite(1.0, min=0.0, max=1e12,
                                  help="The bankrupt position's bankruptcy price, above 0.")
    book = T.Instance(Book, help="The accounts whose positions form the queue.")
    market = T.Instance(Market, help="The venue: prices and margins.")
    asset = T.Unicode(help="The perp: one of market.assets.")
    side = T.Unicode("short", help="'long' or 'short': the side being deleveraged.")
    names = T.List(T.Unicode(), help="One name per account.")
    order = T.List(read_only=True, help="Names of the queued accounts, first deleveraged first.")
    closed_units = T.List(read_only=True, help="Units closed per queued account, queue order.")
    given_up = T.List(read_only=True, help="Profit given up per queued account, queue order.")
    unfilled = T.Float(0.0, read_only=True, help="Units the queue could not absorb.")
    _state_traits = ("quantity", "bankruptcy_price")

    def __init__(self, book=None, market: Market | None = None, asset: str | None = None,
                 side: str = "short", names=None, **kwargs):
        given = {k: kwargs.pop(k) for k in self._state_traits if k in kwargs}
        market = _ui.engine_argument("market", market, Market, Market.example)
        price = None
        if book is None:
            example = adl_example(market)
            book, price = example.book, example.bankruptcy_price
            names = names if names is not None else list(example.names)
            asset = asset or example.asset
        book = _ui.book_argument("book", book)
        asset = _ui.choice_argument("asset", asset or market.assets[0], market.assets)
        side = _ui.choice_argument("side", side, ("short", "long"))
        names = _ui.names_argument(names, book.n_accounts)
        if price is None:              # the asset's mark (1.0 if the market has no such asset)
            price = float(market.prices[list(market.assets).index(asset)]) \
                if asset in market.assets else 1.0
        self._queue, self._reach = None, 1.0
        quantity = _ui.slider("Bankrupt position to close (units)", 0.0, 0.0, 1.0, 0.01,
                              fmt=".2f")
        price_box = W.BoundedFloatText(value=price, min=0.0, max=1e12,
                                       description="Its bankruptcy price",
                                       style={"description_width": "initial"})
        self._bind("quantity", quantity)
        self._bind("bankruptcy_price", price_box)
        self._build()
        super().__init__(children=[quantity, price_box, self._problem_box, self._summary_box,
                                   self._fig, self._legend], **kwargs)
        self.set_trait("market", market)
        self.set_trait("book", book)
        self.set_trait("asset", asset)
        self.set_trait("side", side)
        self.set_trait("names", names)
        with self._silently():
            self.bankruptcy_price = price
        self._recompute()                      # a message if e.g. the market lacks the asset
        self.observe(self._on_input, names=[*self._state_traits, "book", "market", "asset",
                                            "side", "names"])
        self._apply_inputs(given)

    @property
    def max_quantity(self) -> float:
        """The largest ``quantity``: 1.5x the units open on ``side`` of ``asset``
        (:func:`~widgets.engine.open_units`; 1 when none are open). Past what the queue holds,
        the rest stays unfilled."""
        return self._reach

    def _sync_extra(self) -> None:
        """The quantity slider reaches :attr:`max_quantity`, in steps of 1/150 of it."""
        q = self.controls["quantity"]
        if q.max != self._reach:
            q.max, q.step = self._reach, self._reach / 150

    def _build(self) -> None:
        self._cat = OrdinalScale(domain=[" "])
        self._val = LinearScale(min=0.0, max=1.0)
        sc = {"x": self._cat, "y": self._val}
        self._bars = Bars(x=[" "], y=np.zeros((2, 1)), type="stacked", orientation="horizontal",
                          colors=[_ui.DANGER, _ui.CROSS], scales=sc, padding=0.3)
        self._text = Label(x=[0.0], y=[" "], text=[""], scales={"x": self._val, "y": self._cat},
                           colors=["var(--jp-ui-font-color1)"], default_size=12, align="start",
                           x_offset=6, y_offset=4)
        axes = [Axis(scale=self._cat, side="left",
                     label="", tick_style={"font-size": "12px"}),
                Axis(scale=self._val, side="bottom",
                     label="rank score = PnL % × effective leverage", label_offset="35px",
                     tick_format=".2f")]
        self._fig = _ui.theme_text(Figure(
            title="Auto-deleveraging queue (first at the top)", marks=[self._bars, self._text],
            axes=axes, animation_duration=0,
            fig_margin={"top": 40, "bottom": 50, "left": 200, "right": 20},
            layout=W.Layout(width=_ui.FULL_WIDTH, height="240px", min_width="300px")))
        self._expose(figures={"queue": self._fig},
                     marks={"bars": self._bars, "labels": self._text})
        self._legend = _ui.legend([(_ui.DANGER, "deleveraged: closed at the bankruptcy price",
                                    "bar"), (_ui.CROSS, "not reached", "bar")])

    # -- inputs ---------------------------------------------------------------------------
    def _compute(self) -> None:
        if len(self.names) != self.book.n_accounts:
            raise MarginInputError(f"names must give one name per account "
                                   f"({self.book.n_accounts}), got {len(self.names)}")
        queue = adl_queue(self.book, self.market, self.asset, self.side, self.quantity,
                          self.bankruptcy_price)
        reach = QUANTITY_REACH * (open_units(self.book, self.market, self.asset, self.side)
                                  or 1.0 / QUANTITY_REACH)
        if self.quantity > reach:
            raise MarginInputError(f"quantity must be at most {reach:,.4g} ({QUANTITY_REACH:g}x "
                                   f"the units open on the {self.side} side), got "
                                   f"{self.quantity:,.4g}")
        self._queue, self._reach = queue, reach

    # -- view -----------------------------------------------------------------------------
    def _labels(self) -> list:
        """Tick labels: place in the queue and the account's name (unique, ordinal)."""
        q = self._queue
        return [f"{i + 1}. {self.names[a]}" for i, a in enumerate(q.order[:MAX_BARS])]

    def _show(self) -> None:
        q = self._queue
        if q is None:
            return
        head = q.order[:MAX_BARS]
        cats = self._labels() or ["(nobody is in profit on this side)"]
        rank = q.rank[head]
        hit = q.closed_units[head] > 0
        y = np.vstack([np.where(hit, rank, 0.0), np.where(hit, 0.0, rank)]) if head.size \
            else np.zeros((2, 1))
        # The longest bar ends before 45 % of the axis: its label needs the rest (about 220 px of
        # a plot at least 460 px wide).
        top = _ui.nice_domain(rank / 0.45, include=(0.0,), pad=0.0)[1] if head.size else 1.0
        texts = []
        for a in head:
            t = f"{q.rank[a]:.3f}"
            if q.closed_units[a] > 0:
                t += f" · closes {q.closed_units[a]:,.4g}, −{_money(q.given_up[a])}"
            texts.append(t)
        height = f"{max(200, 90 + 38 * len(cats))}px"
        with self._fig.hold_sync(), self._cat.hold_sync(), self._val.hold_sync():
            self._cat.domain = cats[::-1]             # the first in the queue at the top
            self._val.min, self._val.max = 0.0, float(top)
            with self._bars.hold_sync():
                self._bars.x, self._bars.y = cats, y
            with self._text.hold_sync():
                self._text.x = rank if head.size else [0.0]
                self._text.y = cats
                self._text.text = texts or [""]
        self._fig.layout.height = height
        names = [self.names[a] for a in q.order]
        self.set_trait("order", names)
        self.set_trait("closed_units", q.closed_units[q.order].tolist())
        self.set_trait("given_up", q.given_up[q.order].tolist())
        self.set_trait("unfilled", float(q.unfilled))
        self._set_summary(self._describe())

    def _describe(self) -> str:
        q, m = self._queue, _money
        other = "long" if q.side == "short" else "short"
        if q.order.size == 0:
            return (f"No {q.side} position in {q.asset} is in profit: the ADL queue is empty, so a "
                    f"bankrupt {other}'s loss cannot be deleveraged on this side.")
        parts = [f"{i + 1}. {self.names[a]} (PnL {q.pnl_pct[a]:.1%} × leverage "
                 f"{q.leverage[a]:.2f}x = {q.rank[a]:.3f})" for i, a in enumerate(q.order[:5])]
        text = f"ADL queue for {q.asset} {q.side}s, first deleveraged first: " + "; ".join(parts)
        text += f"{'; …' if q.order.size > 5 else ''}."
        if q.quantity > 0:
            hit = [a for a in q.order if q.closed_units[a] > 0]
            done = "; ".join(f"{self.names[a]} closes {q.closed_units[a]:,.4g} and gives up "
                             f"{m(q.given_up[a])}" for a in hit)
            text += (f" A bankrupt {other} of {q.quantity:,.4g} {q.asset} is closed against them "
                     f"at its bankruptcy price {q.bankruptcy_price:,.2f} (mark {q.mark:,.2f}): "
                     f"{done}.")
            if q.unfilled > 0:
                text += f" {q.unfilled:,.4g} units are left that the queue cannot absorb."
        return text
