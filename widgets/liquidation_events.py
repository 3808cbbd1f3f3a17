"""LiquidationTable: what one liquidation call did, account by account, as a readable table.

Lesson 4 used to print ``[LiquidationEvent(account=0, part='pool', ...)]`` reprs and tuples. This
component reads the public fields of a :class:`~widgets.engine.LiquidationResult` (``events``,
``equity_before`` / ``equity_after``, ``fund_payout``, ``socialized_loss``, the insurance fund
before and after) and lays them out as one row per liquidated pool or isolated bucket, with the
call's totals underneath. It computes nothing itself: every number is a field of the result,
except the units closed, which are the difference between the book before (if given) and the
result's book.
"""
from __future__ import annotations

import html

import ipywidgets as W
import numpy as np
import traitlets as T

from . import _ui
from .engine import Account, Book, LiquidationResult, MarginInputError

MAX_ROWS = 25               # rows shown; the rest are counted in a last line and the summary

_CELL = ("padding: 2px 10px; text-align: right; border-bottom: 1px solid var(--jp-border-color2);"
         " white-space: nowrap;")
_HEAD = _CELL + " font-weight: 600; border-bottom: 2px solid var(--jp-border-color1);"


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

    Traits
    ------
    result, book, names, title : (input)
    rows : List (output) — one dict per liquidated pool or bucket: ``account``, ``name``,
        ``part``, ``close_fraction``, ``notional_closed``, ``closed`` (text), ``penalty``,
        ``equity_before``, ``equity_after``, ``bad_debt``.
    n_liquidated : Int (output) — accounts with anything liquidated.

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

    result = T.Instance(LiquidationResult, allow_none=True)
    book = T.Instance(Book, allow_none=True)
    names = T.List(T.Unicode(), default_value=[])
    title = T.Unicode("")
    rows = T.List(read_only=True)
    n_liquidated = T.Int(0, read_only=True)

    def __init__(self, result: LiquidationResult | None = None, book=None, names=None,
                 title: str = "", **kwargs):
        self._table = W.HTML(layout=W.Layout(width=_ui.FULL_WIDTH))
        super().__init__(children=[self._problem_box, self._summary_box, self._table], **kwargs)
        if isinstance(book, Account):
            book = book.to_book()
        with self.hold_trait_notifications():
            self.result, self.book = result, book
            self.names, self.title = list(names or []), title
        self._render()
        self.observe(self._on_input, names=["result", "book", "names", "title"])

    def _on_input(self, change) -> None:
        old = change["old"]

        def revert():
            with self.hold_trait_notifications():
                self.unobserve(self._on_input, names=["result", "book", "names", "title"])
                try:
                    setattr(self, change["name"], old)
                finally:
                    self.observe(self._on_input, names=["result", "book", "names", "title"])

        self._guard(self._render, revert)

    # -- rows -----------------------------------------------------------------------------
    def _check(self) -> None:
        res, book = self.result, self.book
        if res is None:
            return
        A = res.equity_before.shape[0]
        if book is not None and (book.n_accounts != A or book.n_assets != len(res.assets)):
            raise MarginInputError(
                f"book must be the book passed to liquidate ({A} accounts, {len(res.assets)} "
                f"assets), got {book.n_accounts} accounts, {book.n_assets} assets")
        if self.names and len(self.names) != A:
            raise MarginInputError(f"names must give one name per account ({A}), got "
                                   f"{len(self.names)}")

    def _name(self, a: int) -> str:
        return self.names[a] if self.names else f"account {a}"

    def _closed_text(self, a: int, part: str, bad_debt: float = 0.0) -> str:
        """What the call closed, in units (needs the book before the call)."""
        before, after, assets = self.book, self.result.book, self.result.assets
        if before is None:
            return ""
        bits = []
        if part == "pool":
            dh = before.holdings[a] - after.holdings[a]
            for c, d in enumerate(dh):
                if abs(d) > 1e-12:
                    if before.holdings[a, c] > 0:
                        bits.append(f"sold {_units(d)} {assets[c]}")
                    else:
                        bits.append(f"bought back {_units(d)} {assets[c]} of debt")
            # Debt that left the account: repaid from the sale, or written off as bad debt.
            gone = max(-before.cash[a], 0.0) - max(-after.cash[a], 0.0)
            written_off = bad_debt
            if gone - written_off > 1e-9:
                bits.append(f"repaid {gone - written_off:,.0f} USD of debt")
            if written_off > 1e-9:
                bits.append(f"wrote off {written_off:,.0f} USD")
            perps = (~before.isolated[a]) & (np.abs(before.perps[a] - after.perps[a]) > 1e-12)
        else:
            perps = np.array([x == part for x in assets])
        for c in np.flatnonzero(perps):
            d = before.perps[a, c] - after.perps[a, c]
            side = "long" if before.perps[a, c] > 0 else "short"
            bits.append(f"closed {_units(d)} {assets[c]} perp {side}")
        return "; ".join(bits)

    def _rows(self) -> list:
        res = self.result
        out = []
        for e in res.events:
            a = int(e.account)
            out.append({"account": a, "name": self._name(a), "part": e.part,
                        "close_fraction": float(e.close_fraction),
                        "notional_closed": float(e.notional_closed),
                        "closed": self._closed_text(a, e.part, float(e.bad_debt)), "penalty": float(e.penalty),
                        "equity_before": float(res.equity_before[a]),
                        "equity_after": float(res.equity_after[a]),
                        "bad_debt": float(e.bad_debt)})
        return out

    # -- view -----------------------------------------------------------------------------
    def _render(self) -> None:
        self._check()
        res = self.result
        rows = self._rows() if res is not None else []
        self.set_trait("rows", rows)
        self.set_trait("n_liquidated", int(res.liquidated.sum()) if res is not None else 0)
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
        bonus = getattr(res, "liquidator_bonus", None)         # engines that split the penalty
        if bonus is not None and float(np.sum(bonus)) > 0:
            pen = (f"Penalties {m(res.total_penalty)}: {m(float(np.sum(bonus)))} to liquidators, "
                   f"{m(res.total_penalty - float(np.sum(bonus)))} to the fund")
        else:
            pen = f"Penalties into the fund {m(res.total_penalty)}"
        text = (f"{pen} · insurance fund {m(res.insurance_fund_before)} → "
                f"{m(res.insurance_fund)} · bad debt {m(res.total_bad_debt)}: paid by the fund "
                f"{m(res.fund_payout)}, socialized {m(res.socialized_loss)}")
        by_account = getattr(res, "socialized_by_account", None)
        if by_account is not None and res.socialized_loss > 0:
            who = np.flatnonzero(np.asarray(by_account) > 0)
            who = who[np.argsort(-np.asarray(by_account)[who], kind="stable")][:5]
            if who.size:
                text += " (" + ", ".join(f"{self._name(int(a))} gives up {m(by_account[a])}"
                                         for a in who) + ")"
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

