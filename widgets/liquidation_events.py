"""LiquidationTable: what one liquidation call did, account by account, as a readable table.

Lesson 4 used to print ``[LiquidationEvent(account=0, part='pool', ...)]`` reprs and tuples. This
component lays out the public fields of a :class:`~widgets.engine.LiquidationResult` (``events``,
``equity_before`` / ``equity_after``, ``fund_payout``, ``socialized_loss``, the insurance fund
before and after) as one row per liquidated pool or isolated bucket, with the call's totals
underneath. It computes nothing itself: what was closed in units comes from
:func:`~widgets.engine.closeouts` (when the book before the call is given), who received the
penalties from :func:`~widgets.engine.penalty_split`, who gives up profit from
:func:`~widgets.engine.deleveraged`.
"""
from __future__ import annotations

import html

import ipywidgets as W
import numpy as np
import traitlets as T

from . import _ui
from .engine import (Account, Book, LiquidationResult, MarginInputError, closeouts, deleveraged,
                     penalty_split)

MAX_ROWS = 25               # rows shown; the rest are counted in a last line and the summary

_CELL = ("padding: 2px 10px; text-align: right; border-bottom: 1px solid var(--jp-border-color2);"
         " white-space: nowrap;")
_HEAD = _CELL + " font-weight: 600; border-bottom: 2px solid var(--jp-border-color1);"


class _Names(T.List):
    """A list of account names: a list or tuple of strings, nothing else (traitlets' List
    would take the string "30000" as ``["30000"]``)."""

    def __init__(self, **kwargs):
        super().__init__(T.Unicode(), default_value=[], **kwargs)

    def validate(self, obj, value):
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise T.TraitError(f"names must be a list of account names (text), got "
                               f"{_ui.short_repr(value)}")
        return list(value)

    def set(self, obj, value):
        T.TraitType.set(self, obj, value)          # not List.set, which wraps a string


def _units(x: float) -> str:
    return f"{abs(x):,.4f}".rstrip("0").rstrip(".")


class LiquidationTable(_ui.Component):
    """One liquidation call as a table: per account and part, what was closed and who paid.

    Columns: account (its name if ``names`` is given), part (the cross pool, or the asset of an
    isolated bucket), share closed and notional closed, what was closed in units (when the book
    before the call is given), penalty, equity before and after the call (per account, at the
    call's prices), bad debt. Under the table: penalties into the fund, the fund before and after,
    what the fund paid and what was socialized.

    Parameters
    ----------
    result : LiquidationResult, optional
        What :func:`~widgets.engine.liquidate` returned.
    book : Book or Account, optional
        The book passed to that call: with it the table says what was sold, bought back or
        closed, in units.
    names : list of str, optional
        A name per account (default ``account 0``, ``account 1``, ...).
    title : str, optional
        The table's caption.

    Bad ``names`` or ``title`` never raise: the table is built without them and ``problem``
    says why (see :class:`~widgets._ui.Component`); a ``result`` or ``book`` of the wrong type,
    or a book that is not the one passed to the call, raises as the engine does.

    Attributes
    ----------
    result : LiquidationResult or None
        Input: the call to show.
    book : Book or None
        Input: the book before the call (an Account is taken as a one-row book).
    names : list of str
        Input: a name per account, or ``[]`` for ``account 0``, ``account 1``, ...
    title : str
        Input: the table's caption.
    rows : list of dict
        Output: one dict per liquidated pool or bucket: ``account``, ``name``, ``part``,
        ``close_fraction``, ``notional_closed``, ``closed`` (text), ``penalty``,
        ``equity_before``, ``equity_after``, ``bad_debt``.
    n_liquidated : int
        Output: accounts with anything liquidated.

    Examples
    --------
    >>> from widgets.engine import Market, Account, liquidate
    >>> m = Market(["ETH"], [2_000.0], asset_weight=0.825, liquidation_penalty=0.05)
    >>> acct = Account([10.0], cash=-17_000.0)
    >>> t = LiquidationTable(liquidate(acct, m), book=acct)      # restore health (default)
    >>> r = t.rows[0]
    >>> r["closed"], round(r["penalty"], 2), round(r["equity_after"], 2)
    ('sold 2.447 ETH; repaid 4,661 USD of debt', 233.04, 2766.96)
    >>> LiquidationTable(liquidate(acct, m, rules="full"), book=acct).rows[0]["closed"]
    'sold 10 ETH; repaid 17,000 USD of debt'
    """

    result = T.Instance(LiquidationResult, allow_none=True,
                        help="The liquidation call to show (what liquidate returned).")
    book = T.Union([T.Instance(Book), T.Instance(Account)], allow_none=True,
                   help="The book passed to that call (an Account: a one-row book).")
    names = _Names(help="A name per account; [] for 'account 0', 'account 1', ...")
    title = T.Unicode("", help="The table's caption.")
    rows = T.List(read_only=True, help="One dict per liquidated pool or bucket.")
    n_liquidated = T.Int(0, read_only=True, help="Accounts with anything liquidated.")
    _state_traits = ("names", "title")

    def __init__(self, result: LiquidationResult | None = None, book=None, names=(),
                 title: str = "", **kwargs):
        self._table = W.HTML(layout=W.Layout(width=_ui.FULL_WIDTH))
        super().__init__(children=[self._problem_box, self._summary_box, self._table], **kwargs)
        # result and book are not inputs a learner types: a wrong one raises, as the engine does
        self.result, self.book = result, book
        self._compute()
        self._show()
        self.observe(self._on_input, names=["result", "book", "names", "title"])
        # a value equal to the default changes nothing (and must not repeat an earlier message)
        given = {k: v for k, v in (("names", names), ("title", title))
                 if not (type(v) in (list, tuple, str) and v == type(v)(getattr(self, k)))}
        self._apply_inputs(given)

    @T.validate("book")
    def _one_row_book(self, proposal):
        value = proposal["value"]
        return value.to_book() if isinstance(value, Account) else value

    @property
    def table_html(self) -> str:
        """The table as the learner sees it (its HTML)."""
        return self._table.value

    # -- rows -----------------------------------------------------------------------------
    def _name(self, a: int) -> str:
        return self.names[a] if self.names else f"account {a}"

    def _compute(self) -> None:
        res, book = self.result, self.book
        if res is None:
            self._rows = []
            return
        A = res.equity_before.shape[0]
        if self.names and len(self.names) != A:
            raise MarginInputError(f"names must give one name per account ({A}), got "
                                   f"{len(self.names)}")
        closed = closeouts(book, res) if book is not None else [None] * len(res.events)
        self._rows = [{"account": int(e.account), "name": self._name(int(e.account)),
                       "part": e.part, "close_fraction": float(e.close_fraction),
                       "notional_closed": float(e.notional_closed),
                       "closed": closed_text(c, res.assets), "penalty": float(e.penalty),
                       "equity_before": float(res.equity_before[e.account]),
                       "equity_after": float(res.equity_after[e.account]),
                       "bad_debt": float(e.bad_debt)} for e, c in zip(res.events, closed)]

    # -- view -----------------------------------------------------------------------------
    def _show(self) -> None:
        res, rows = self.result, self._rows
        self.set_trait("rows", rows)
        self.set_trait("n_liquidated", int(np.count_nonzero(res.liquidated))
                       if res is not None else 0)
        self._table.value = _ui.scroll_region(self.title or "What the liquidation call did",
                                              self._html(rows)) if res is not None else ""
        self._set_summary(self._describe(rows))

    def _html(self, rows) -> str:
        res = self.result
        if res is None:
            return ""
        m = _ui.money
        with_units = self.book is not None
        heads = ["account", "part", "closed", *(["what was closed"] if with_units else []),
                 "notional closed", "penalty", "equity before", "equity after", "bad debt"]
        th = "".join(f'<th scope="col" style="{_HEAD}">{h}</th>' for h in heads)
        body, shown_account = [], None
        for r in rows[:MAX_ROWS]:
            first = r["account"] != shown_account
            shown_account = r["account"]
            part = "cross pool" if r["part"] == "pool" else f"{r['part']} bucket"
            cells = [html.escape(r["name"]) if first else "", part,
                     f"{r['close_fraction']:.0%}",
                     *([html.escape(r["closed"])] if with_units else []),
                     m(r["notional_closed"]), m(r["penalty"]),
                     m(r["equity_before"]) if first else "",
                     m(r["equity_after"]) if first else "",
                     m(r["bad_debt"]) if r["bad_debt"] > 0 else "0"]
            left = {0, 1, 3} if with_units else {0, 1}
            wrap = " white-space: normal; min-width: 14em;"          # the one long column

            def style(i):
                return _CELL + (" text-align:left;" if i in left else "") + (
                    wrap if with_units and i == 3 else "")
            body.append("<tr>" + "".join(f'<td style="{style(i)}">{c}</td>'
                                         for i, c in enumerate(cells)) + "</tr>")
        if len(rows) > MAX_ROWS:
            body.append(f'<tr><td colspan="{len(heads)}" style="{_CELL} text-align:left;">… '
                        f"and {len(rows) - MAX_ROWS:,} more rows</td></tr>")
        if not rows:
            body.append(f'<tr><td colspan="{len(heads)}" style="{_CELL} text-align:left;">'
                        "Nothing was liquidated: every account was healthy at these prices."
                        "</td></tr>")
        caption = html.escape(self.title or "What the liquidation call did")
        totals = html.escape(self._totals())
        return (f'<div style="{_ui._TEXT}">'
                f'<table style="border-collapse: collapse; margin: 4px 0;">'
                f'<caption style="text-align:left; font-weight:600; padding-bottom:4px;">'
                f"{caption}</caption><thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody>"
                f'</table><div style="{_ui._MUTED} padding: 2px 0 6px 0;">{totals}</div></div>')

    def _totals(self) -> str:
        """The call's flows: penalties (and who received them), the fund, who paid bad debt."""
        res, m = self.result, _ui.money
        to_fund, to_liquidators = penalty_split(res)
        if to_liquidators > 0:
            pen = (f"Penalties {m(res.total_penalty)}: {m(to_liquidators)} to liquidators, "
                   f"{m(to_fund)} to the fund")
        else:
            pen = f"Penalties into the fund {m(res.total_penalty)}"
        text = (f"{pen} · insurance fund {m(res.insurance_fund_before)} → "
                f"{m(res.insurance_fund)} · bad debt {m(res.total_bad_debt)}: paid by the fund "
                f"{m(res.fund_payout)}, socialized {m(res.socialized_loss)}")
        who = deleveraged(res)[:5]
        if res.socialized_loss > 0 and who.size:
            text += " (" + ", ".join(f"{self._name(int(a))} gives up "
                                     f"{m(res.socialized_by_account[a])}" for a in who) + ")"
        return text

    def _describe(self, rows) -> str:
        res = self.result
        if res is None:
            return "No liquidation to show yet."
        m = _ui.money
        if not rows:
            return "Nothing was liquidated: every account was healthy at these prices."
        n = self.n_liquidated
        parts = []
        for r in rows[:3]:
            part = "its cross pool" if r["part"] == "pool" else f"its {r['part']} bucket"
            what = f" ({r['closed']})" if r["closed"] else ""
            parts.append(f"{r['name']}: {r['close_fraction']:.0%} of {part} closed{what}, "
                         f"penalty {m(r['penalty'])}, equity {m(r['equity_before'])} → "
                         f"{m(r['equity_after'])}"
                         + (f", bad debt {m(r['bad_debt'])}" if r["bad_debt"] > 0 else ""))
        more = f"; and {len(rows) - 3} more" if len(rows) > 3 else ""
        text = (f"{n:,} account{'s' * (n != 1)} liquidated. " + "; ".join(parts) + more + ". ")
        if res.total_bad_debt > 0:
            text += (f"Bad debt {m(res.total_bad_debt)}: the fund paid {m(res.fund_payout)}, "
                     f"{m(res.socialized_loss)} socialized.")
        else:
            text += (f"No bad debt; {m(res.total_penalty)} of penalties went into the fund "
                     f"({m(res.insurance_fund_before)} → {m(res.insurance_fund)}).")
        return text


def closed_text(closeout, assets) -> str:
    """A :class:`~widgets.engine.Closeout` in words: "sold 2.447 ETH; repaid 4,661 USD of
    debt"; ``""`` without one (the book before the call was not given)."""
    if closeout is None:
        return ""
    c, bits = closeout, []
    if c.part == "pool":
        for a in assets:                           # in the market's order
            if a in c.sold:
                bits.append(f"sold {_units(c.sold[a])} {a}")
            elif a in c.bought_back:
                bits.append(f"bought back {_units(c.bought_back[a])} {a} of debt")
        if c.debt_repaid > 0:
            bits.append(f"repaid {c.debt_repaid:,.0f} USD of debt")
        if c.written_off > 1e-9:
            bits.append(f"wrote off {c.written_off:,.0f} USD")
    for a, d in c.perps_closed.items():
        bits.append(f"closed {_units(d)} {a} perp {'long' if d > 0 else 'short'}")
    return "; ".join(bits)
