"""InsuranceFundLab: who pays when collateral runs out — the fund, then the winners (lesson 6)."""
from __future__ import annotations

import html

import ipywidgets as W
import numpy as np
import traitlets as T
from bqplot import Bars, Lines

from . import _ui
from .cascade_lab import MAX_ROUNDS, SHOCK_RANGE
from .engine import (CASCADE_DEPTH, Book, Market, cascade, deeper, fund_coverage,
                     volatile_shock)

FUND_MAX = 60e6                                   # the chart's fixed fund range, quote currency
FUND_GRID = np.linspace(0.0, FUND_MAX, 25)        # fund sizes shown as bars
QUEUE_ROWS = 10                                   # accounts listed in the ADL table


class InsuranceFundLab(_ui.Component):
    """A cascade's bad debt: how much the insurance fund covers and how much is socialized.

    When a liquidated account's collateral does not cover its debt the shortfall is *bad debt*.
    Venues pay it from an insurance fund (fed by liquidation penalties) and, when the fund runs
    out, socialize the rest by **auto-deleveraging** profitable traders on the other side:

    * dYdX v4: insurance fund absorbs fills worse than bankruptcy, then offsetting positions are
      deleveraged at the bankruptcy price (``dydxprotocol/v4-documentation:
      docs/pages/concepts/trading/liquidations.mdx``);
    * Hyperliquid: liquidator vault (HLP) backstop, then ADL of opposite-side users ranked by
      unrealized PnL and leverage (https://hyperliquid.gitbook.io/hyperliquid-docs/trading/
      auto-deleveraging; 10 October 2025: $2.1 B of ADL closures in 12 minutes);
    * BitMEX: liquidation engine, insurance fund, then ADL ranked by ``PnL% x effective
      leverage`` (https://support.bitmex.com/hc/en-gb/articles/18589621443357).

    Every input change runs :func:`~widgets.engine.cascade` once, with the fund on the slider,
    and the chart replays its settlement for 25 fund sizes with
    :func:`~widgets.engine.fund_coverage`: the fund does not change which accounts fail nor how
    much bad debt there is, only who pays (penalties of a round flow in before that round's bad
    debt is paid). The cascade uses linear impact and the venue's liquidation rules (restore
    health on ``Market.example()``; ``CascadeLab`` varies those).

    Under the chart, the **auto-deleveraging queue** of that cascade: the accounts that give up
    part of their profit (``CascadeResult.socialized_by_account``, largest first), each with its
    place in the queue (``adl_rank``: ranked by ``PnL % x effective leverage`` per asset and
    side, :mod:`widgets.engine.adl`). A loss with no opposite side (a lending deficit) or more
    than the queue can absorb is spread over every surviving account's equity, pro rata (rank 0:
    not in a queue).

    The default book is ``Book.random(market, n_accounts, seed, preset="overheated")``: on the
    calm (default) venue a -10 % shock leaves about 1.9 M USD of bad debt, less than any fund
    worth showing; the overheated book (illustrative, see :meth:`Book.random`) leaves 16.5 M USD.

    Parameters
    ----------
    market : Market, default ``Market.example()``
    book : Book, default ``Book.random(market, n_accounts, seed, preset=preset)``
    n_accounts : int, default 10,000
    seed : int, default 0
    preset : str, default "overheated"
        The default book's :meth:`Book.random` preset.
    **inputs
        Initial values of ``fund``, ``shock``, ``depth``. Bad values never raise: the lab is
        built with the default and ``problem`` names the refused input (see
        :class:`~widgets._ui.Component`); a ``book`` that does not fit ``market`` raises
        ``MarginInputError``, as the engine does.

    Attributes
    ----------
    fund : float in [0, 60,000,000]
        Input: insurance fund before the cascade, quote currency.
    shock : float in [-0.5, 0]
        Input: common price move of the volatile assets (-0.1 is a 10 % fall;
        :func:`~widgets.engine.volatile_shock`).
    depth : float in [0.1, 1000]
        Input: multiple of the market's depth (price impact of forced sales).
    book, market : Book, Market
        Input: the accounts and the venue (to change the assets, build a new lab: a book that
        does not fit the market is refused with a message).
    bad_debt, covered, socialized : float
        Output, quote currency: ``covered + socialized == bad_debt``.
    coverage : float
        Output: ``FundCoverage.coverage``, ``covered / bad_debt``; 1 when there is no bad debt.
    n_deleveraged : int
        Output: accounts that give up something (``CascadeResult.deleveraged``).
    adl_accounts, adl_amounts, adl_ranks : list
        Output: the ADL table's rows (at most ``QUEUE_ROWS``): account index, amount given up
        (quote currency), place in the queue (0: pro-rata share only), largest amount first.

    Examples
    --------
    >>> lab = InsuranceFundLab(n_accounts=2_000, shock=-0.2)
    >>> lab.n_deleveraged > 0 and lab.adl_amounts[0] >= lab.adl_amounts[-1] > 0
    True
    >>> lab.fund = 0.0
    >>> before = lab.socialized
    >>> lab.fund = 5e6
    >>> lab.socialized < before and abs(lab.covered + lab.socialized - lab.bad_debt) < 1e-6
    True
    """

    fund = _ui.Finite(5e6, min=0.0, max=FUND_MAX,
                      help="Insurance fund before the cascade, quote currency.")
    shock = _ui.Finite(-0.10, min=SHOCK_RANGE[0], max=SHOCK_RANGE[1],
                       help="Common price move of the volatile assets (-0.1: a 10 % fall).")
    depth = _ui.Finite(CASCADE_DEPTH, min=_ui.DEPTHS[0], max=_ui.DEPTHS[-1],
                       help="Multiple of the market's order-book depth.")
    book = T.Instance(Book, help="The accounts (a book that does not fit the market is "
                                 "refused).")
    market = T.Instance(Market, help="The venue: prices, weights, penalties, depth.")
    bad_debt = T.Float(0.0, read_only=True, help="Bad debt of the cascade, quote currency.")
    covered = T.Float(0.0, read_only=True,
                      help="Bad debt paid by the fund plus penalties, quote currency.")
    socialized = T.Float(0.0, read_only=True,
                         help="Bad debt left to profitable traders (ADL), quote currency.")
    coverage = T.Float(1.0, read_only=True,
                       help="covered / bad_debt; 1 when there is no bad debt.")
    n_deleveraged = T.Int(0, read_only=True, help="Accounts that give up part of their profit.")
    adl_accounts = T.List(read_only=True, help="The ADL table's accounts, largest amount first.")
    adl_amounts = T.List(read_only=True, help="What each of them gives up, quote currency.")
    adl_ranks = T.List(read_only=True,
                       help="Each one's best place in an ADL queue (0: pro-rata share only).")
    _state_traits = ("fund", "shock", "depth")

    def __init__(self, market: Market | None = None, book: Book | None = None,
                 n_accounts: int = 10_000, seed: int = 0, preset: str = "overheated", **kwargs):
        market = _ui.engine_argument("market", market, Market, Market.example)
        book = _ui.book_argument("book", book, lambda: Book.random(market, n_accounts, seed=seed,
                                                                 preset=preset))
        given = {k: kwargs.pop(k) for k in self._state_traits if k in kwargs}
        self._bind("fund", _ui.slider("Insurance fund ($M)", self.fund / 1e6, 0.0,
                                      FUND_MAX / 1e6, 0.5, fmt=".1f"), 1e6)
        self._bind("shock", _ui.slider(f"Shock to {', '.join(market.volatile_assets)}",
                                       self.shock, *SHOCK_RANGE, 0.01))
        self._bind("depth", _ui.depth_slider(self.depth))
        # 100 % bars stop a little under the top, clear of the title
        x_sc, y_sc = _ui.fixed_scale(-1.5, FUND_MAX / 1e6 + 1.5), _ui.fixed_scale(0.0, 1.06)
        self._bars = Bars(x=FUND_GRID / 1e6, y=np.zeros((2, FUND_GRID.size)),
                          type="stacked", colors=[_ui.SAFE, _ui.DANGER],
                          scales={"x": x_sc, "y": y_sc},
                          labels=["covered by fund + penalties", "socialized (ADL)"])
        self._marker = Lines(x=[5.0, 5.0], y=[0.0, 1.0], colors=[_ui.CROSS], stroke_width=3,
                             line_style="dashed", scales={"x": x_sc, "y": y_sc},
                             labels=["your fund"])
        figure = _ui.figure("Who pays the bad debt, by fund size", x_sc, y_sc,
                            [self._bars, self._marker],
                            "insurance fund before the cascade ($M)", "share of bad debt",
                            y_format=".0%")
        # The stacked bars always reach 100 %: the legend goes under the figure, not over it.
        chart = _ui.with_legend(figure, [
            (_ui.SAFE, "covered by fund + penalties", "bar"),
            (_ui.DANGER, "socialized (auto-deleveraging)", "bar"),
            (_ui.CROSS, "your fund", "dashed")])
        self._queue = W.HTML(layout=W.Layout(width=_ui.FULL_WIDTH))
        super().__init__(children=[*self.controls.values(), self._problem_box,
                                   self._summary_box, chart, self._queue], **kwargs)
        self._expose(figures={"coverage": figure},
                     marks={"bars": self._bars, "marker": self._marker})
        self.set_trait("market", market)
        self.set_trait("book", book)
        self._compute()                  # a book that does not fit the market raises here
        self._show()
        self.observe(self._on_input, names=["fund", "shock", "depth", "book", "market"])
        self._apply_inputs(given)

    @property
    def result(self):
        """The :class:`~widgets.engine.CascadeResult` behind the chart and the ADL table (run
        with the fund on the slider)."""
        return self._result

    @property
    def fund_coverage(self):
        """The :class:`~widgets.engine.FundCoverage` of the fund on the slider."""
        return self._cov

    @property
    def queue_text(self) -> str:
        """The ADL table as the learner reads it (its HTML)."""
        return self._queue.value

    def _compute(self) -> None:
        res = cascade(self.book, deeper(self.market, self.depth),
                      volatile_shock(self.market, self.shock), "linear", MAX_ROUNDS,
                      insurance_fund=self.fund)
        self._result, self._grid = res, fund_coverage(res, FUND_GRID)
        self._cov = fund_coverage(res, self.fund)

    def _show(self) -> None:
        cov, grid, fund, res = self._cov, self._grid, self.fund, self._result
        # no bad debt: bars of height 0 (NaN would reach an SVG attribute)
        bars = (np.vstack([grid.coverage, grid.socialized_share]) if grid.bad_debt > 0
                else np.zeros((2, FUND_GRID.size)))
        with self._bars.hold_sync(), self._marker.hold_sync():
            if not np.array_equal(np.asarray(self._bars.y, dtype=float), bars):
                self._bars.y = bars                # a new fund replays the same cascade
            self._marker.x = [fund / 1e6, fund / 1e6]
        self.set_trait("bad_debt", cov.bad_debt)
        self.set_trait("covered", float(cov.covered[0]))
        self.set_trait("socialized", float(cov.socialized[0]))
        self.set_trait("coverage", float(cov.coverage[0]))
        order = res.deleveraged
        top = order[:QUEUE_ROWS]
        given = res.socialized_by_account
        self.set_trait("n_deleveraged", int(order.size))
        self.set_trait("adl_accounts", [int(i) for i in top])
        self.set_trait("adl_amounts", [float(given[i]) for i in top])
        self.set_trait("adl_ranks", [int(res.adl_rank[i]) for i in top])
        self._queue.value = queue_html(res, top)
        self._set_summary(describe(cov, fund))


def queue_html(result, rows) -> str:
    """The ADL table: who gives up what (``rows``: accounts, largest amount first), in a named
    scrolling region."""
    m = _ui.money
    given, share, rank = (result.socialized_by_account, result.socialized_share_by_account,
                          result.adl_rank)
    n = int(result.deleveraged.size)
    if n == 0:
        body = ("<b>Auto-deleveraging queue</b>: nobody is deleveraged — the fund and the "
                "penalties pay all the bad debt.")
        return _ui.scroll_region("Auto-deleveraging queue", f'<div style="{_ui._TEXT}">{body}</div>')
    cell = "padding:2px 8px;text-align:right"
    table = "".join(
        f'<tr><td style="{cell}">#{int(i):,}</td><td style="{cell}">'
        f'{int(rank[i]) if rank[i] else "pro rata"}</td><td style="{cell}">{m(given[i])}</td>'
        f'<td style="{cell}">{share[i]:.1%}</td></tr>' for i in rows)
    head = "".join(f'<th scope="col" style="{cell}">{html.escape(h)}</th>' for h in
                   ("account", "best place in a queue", "gives up", "share"))
    unassigned = float(result.socialized_unassigned)
    note = (f"{m(result.socialized_loss)} is socialized; {n:,} account{'s' * (n != 1)} "
            f"give{'s' * (n == 1)} up part of their profit"
            + (f"; {m(unassigned)} could not be assigned" if unassigned > 0.5 else "")
            + f". The {len(rows)} largest:")
    return _ui.scroll_region(
        "Auto-deleveraging queue",
        f'<div style="{_ui._TEXT}"><b>Auto-deleveraging queue</b> (who pays what the fund '
        f'cannot): {note}<table style="border-collapse:collapse;margin-top:4px">'
        f'<thead><tr>{head}</tr></thead><tbody>{table}</tbody></table></div>', "460px")


def describe(cov, fund) -> str:
    """One sentence: who pays the bad debt (``cov``: the :class:`FundCoverage` of ``fund``)."""
    m = _ui.money
    bad_debt, penalties = cov.bad_debt, cov.penalties
    covered, socialized = float(cov.covered[0]), float(cov.socialized[0])
    fund_after, late = float(cov.fund_after[0]), float(cov.late_penalties[0])
    if bad_debt <= 0:
        return (f"No bad debt: every liquidated account's collateral covered its debt; the "
                f"{m(fund)} fund collects {m(penalties)} of penalties and ends at {m(fund_after)}.")
    if socialized <= 0:
        return (f"Bad debt {m(bad_debt)} is fully covered by the {m(fund)} fund plus "
                f"{m(penalties)} of liquidation penalties; {m(fund_after)} is left in the fund. "
                f"Nothing is socialized.")
    return (f"Bad debt {m(bad_debt)}: the {m(fund)} fund plus {m(penalties)} of liquidation "
            f"penalties covers "
            f"{m(covered)}; {m(socialized)} ({float(cov.socialized_share[0]):.0%}) is socialized "
            f"to profitable traders (auto-deleveraging)."
            + (f" {m(late)} of penalties came in after the losses, too late to help."
               if late >= 0.5 else ""))
