"""InsuranceFundLab: who pays when collateral runs out — the fund, then the winners (lesson 6)."""
from __future__ import annotations

import html

import ipywidgets as W
import numpy as np
import traitlets as T
from bqplot import Bars, Lines

from . import _ui
from .cascade_lab import MAX_ROUNDS, deeper, volatile_shock
from .engine import Book, Market, cascade, fund_coverage

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
    preset : str, default "overheated" — the default book's :meth:`Book.random` preset.
    **traits : initial values of the input traits.

    Traits
    ------
    fund : Float (input) — insurance fund before the cascade, quote currency, >= 0.
    shock : Float (input) — common price move of the volatile assets (-0.1 is a 10 % fall).
    depth : Float (input) — multiple of the market's depth (price impact of forced sales).
    book, market : Instance (input) — the accounts and the venue (to change the assets, build a
    new lab: a book that does not fit the market is refused).
    bad_debt, covered, socialized : Float (output, quote currency) — ``covered + socialized ==
    bad_debt``.
    coverage : Float (output) — ``covered / bad_debt``; 1 when there is no bad debt.
    n_deleveraged : Int (output) — accounts that give up something (socialized_by_account > 0).
    adl_accounts, adl_amounts, adl_ranks : List (output) — the ADL table's rows (at most
    ``QUEUE_ROWS``): account index, amount given up (quote currency), place in the queue
    (0: pro-rata share only), largest amount first.

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

    fund = T.Float(5e6)
    shock = T.Float(-0.10)
    depth = T.Float(30.0)
    book = T.Instance(Book)
    market = T.Instance(Market)
    bad_debt = T.Float(0.0, read_only=True)
    covered = T.Float(0.0, read_only=True)
    socialized = T.Float(0.0, read_only=True)
    coverage = T.Float(1.0, read_only=True)
    n_deleveraged = T.Int(0, read_only=True)
    adl_accounts = T.List(read_only=True)
    adl_amounts = T.List(read_only=True)
    adl_ranks = T.List(read_only=True)
    _state_traits = ("fund", "shock", "depth")

    def __init__(self, market: Market | None = None, book: Book | None = None,
                 n_accounts: int = 10_000, seed: int = 0, preset: str = "overheated", **kwargs):
        market = market if market is not None else Market.example()
        book = (book if book is not None
                else Book.random(market, n_accounts, seed=seed, preset=preset))
        given = {k: kwargs.pop(k) for k in self._state_traits if k in kwargs}
        self._quiet = False
        risky = ", ".join(a for a, v in volatile_shock(market, 1.0).items() if v)
        self._controls = {
            "fund": (_ui.slider("Insurance fund ($M)", 5.0, 0.0, FUND_MAX / 1e6, 0.5,
                                fmt=".1f"), 1e6),
            "shock": (_ui.slider(f"Shock to {risky}", -0.10, -0.5, 0.0, 0.01), 1.0),
            "depth": (_ui.depth_slider(30.0), 1.0)}
        for name, (ctl, scale) in self._controls.items():
            ctl.observe(lambda c, n=name, s=scale, w=ctl: self._from_control(n, c["new"] * s, w,
                                                                              s), "value")
        # 100 % bars stop a little under the top, clear of the title
        x_sc, y_sc = _ui.fixed_scale(-1.5, FUND_MAX / 1e6 + 1.5), _ui.fixed_scale(0.0, 1.06)
        self._bars = Bars(x=FUND_GRID / 1e6, y=np.zeros((2, FUND_GRID.size)),
                          type="stacked", colors=[_ui.SAFE, _ui.DANGER],
                          scales={"x": x_sc, "y": y_sc},
                          labels=["covered by fund + penalties", "socialized (ADL)"])
        self._marker = Lines(x=[5.0, 5.0], y=[0.0, 1.0], colors=[_ui.CROSS], stroke_width=3,
                             line_style="dashed", scales={"x": x_sc, "y": y_sc},
                             labels=["your fund"])
        self._figure = _ui.figure("Who pays the bad debt, by fund size", x_sc, y_sc,
                                  [self._bars, self._marker],
                                  "insurance fund before the cascade ($M)", "share of bad debt",
                                  y_format=".0%")
        # The stacked bars always reach 100 %: the legend goes under the figure, not over it.
        chart = _ui.with_legend(self._figure, [
            (_ui.SAFE, "covered by fund + penalties", "bar"),
            (_ui.DANGER, "socialized (auto-deleveraging)", "bar"),
            (_ui.CROSS, "your fund", "dashed")])
        self._queue = W.HTML(layout=W.Layout(width=_ui.FULL_WIDTH))
        super().__init__(children=[*(c for c, _ in self._controls.values()), self._problem_box,
                                   self._summary_box, chart, self._queue], **kwargs)
        self.set_trait("market", market)
        self.set_trait("book", book)
        self._run_cascade()
        self._show(bars=True)
        self.observe(self._on_input, names=["fund", "shock", "depth", "book", "market"])
        for name, value in given.items():
            setattr(self, name, value)

    @property
    def result(self):
        """The :class:`~widgets.engine.CascadeResult` behind the chart and the ADL table (run
        with the fund on the slider)."""
        return self._result

    def _from_control(self, name, value, control=None, scale=1.0) -> None:
        if control is not None and _ui.shows(control, getattr(self, name) / scale):
            return                       # the slider echoing its own snapping, not a new input
        if not self._quiet:
            setattr(self, name, value)

    def _on_input(self, change) -> None:
        if self._quiet:
            return
        name = change["name"]

        def action():
            self._run_cascade(change["new"] if name == "fund" else None)

        def revert():
            self._quiet = True
            try:
                setattr(self, name, change["old"])
            finally:
                self._quiet = False

        if self._guard(action, revert):
            self._show(bars=name != "fund")
        else:
            self._sync_controls()

    def _run_cascade(self, fund=None) -> None:
        fund = self.fund if fund is None else fund
        res = cascade(self.book, deeper(self.market, self.depth),
                      volatile_shock(self.market, self.shock), "linear", MAX_ROUNDS,
                      insurance_fund=fund)                    # validates the fund
        self._result, self._grid = res, fund_coverage(res, FUND_GRID)
        self._cov = fund_coverage(res, fund)
        self._good = {"fund": float(fund), "shock": self.shock, "depth": self.depth}

    def _sync_controls(self) -> None:
        self._quiet = True
        try:
            for name, (ctl, scale) in self._controls.items():
                _ui.display_value(ctl, self._good[name] / scale)
        finally:
            self._quiet = False

    def _show(self, bars: bool = True) -> None:
        cov, grid, fund = self._cov, self._grid, self._good["fund"]
        total = cov.bad_debt
        with self._bars.hold_sync(), self._marker.hold_sync():
            if bars:
                # no bad debt: bars of height 0 (NaN would reach an SVG attribute)
                self._bars.y = (np.vstack([grid.covered, grid.socialized]) / total if total > 0
                                else np.zeros((2, FUND_GRID.size)))
            self._marker.x = [fund / 1e6, fund / 1e6]
        covered, social = float(cov.covered[0]), float(cov.socialized[0])
        self.set_trait("bad_debt", total)
        self.set_trait("covered", covered)
        self.set_trait("socialized", social)
        self.set_trait("coverage", covered / total if total > 0 else 1.0)
        self._show_queue()
        self._sync_controls()
        self._set_summary(describe(total, fund, cov.penalties, covered, social,
                                   float(cov.fund_after[0])))


    def _show_queue(self) -> None:
        res = self._result
        given = res.socialized_by_account
        rank = res.adl_rank
        idx = np.flatnonzero(given > 0)
        order = idx[np.lexsort((idx, -given[idx]))][:QUEUE_ROWS]
        self.set_trait("n_deleveraged", int(idx.size))
        self.set_trait("adl_accounts", [int(i) for i in order])
        self.set_trait("adl_amounts", [float(given[i]) for i in order])
        self.set_trait("adl_ranks", [int(rank[i]) for i in order])
        self._queue.value = queue_html(order, given, rank, float(given.sum()), int(idx.size),
                                       float(res.socialized_unassigned))


def queue_html(order, given, rank, total, n, unassigned) -> str:
    """The ADL table: who gives up what, largest first, in a named scrolling region."""
    m = _ui.money
    if n == 0:
        body = ("<b>Auto-deleveraging queue</b>: nobody is deleveraged — the fund and the "
                "penalties pay all the bad debt.")
        return _ui.scroll_region("Auto-deleveraging queue", f'<div style="{_ui._TEXT}">{body}</div>')
    cell = "padding:2px 8px;text-align:right"
    rows = "".join(
        f'<tr><td style="{cell}">#{int(i):,}</td><td style="{cell}">'
        f'{int(rank[i]) if rank[i] else "pro rata"}</td><td style="{cell}">{m(given[i])}</td>'
        f'<td style="{cell}">{given[i] / total:.1%}</td></tr>' for i in order)
    head = "".join(f'<th scope="col" style="{cell}">{html.escape(h)}</th>' for h in
                   ("account", "best place in a queue", "gives up", "share"))
    note = (f"{n:,} account{'s' * (n != 1)} give{'s' * (n == 1)} up {m(total)} in all"
            + (f"; {m(unassigned)} could not be assigned" if unassigned > 0.5 else "")
            + f". The {len(order)} largest:")
    return _ui.scroll_region(
        "Auto-deleveraging queue",
        f'<div style="{_ui._TEXT}"><b>Auto-deleveraging queue</b> (who pays what the fund '
        f'cannot): {note}<table style="border-collapse:collapse;margin-top:4px">'
        f'<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>', "460px")


def describe(bad_debt, fund, penalties, covered, socialized, fund_after) -> str:
    """One sentence: who pays the bad debt."""
    m = _ui.money
    if bad_debt <= 0:
        return (f"No bad debt: every liquidated account's collateral covered its debt; the "
                f"{m(fund)} fund collects {m(penalties)} of penalties and ends at {m(fund_after)}.")
    if socialized <= 0:
        return (f"Bad debt {m(bad_debt)} is fully covered by the {m(fund)} fund plus "
                f"{m(penalties)} of liquidation penalties; {m(fund_after)} is left in the fund. "
                f"Nothing is socialized.")
    late = fund + penalties - covered
    return (f"Bad debt {m(bad_debt)}: the {m(fund)} fund plus {m(penalties)} of liquidation "
            f"penalties covers "
            f"{m(covered)}; {m(socialized)} ({socialized / bad_debt:.0%}) is socialized to "
            f"profitable traders (auto-deleveraging)."
            + (f" {m(late)} of penalties came in after the losses, too late to help."
               if late >= 0.5 else ""))
