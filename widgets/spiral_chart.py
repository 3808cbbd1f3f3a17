"""SpiralChart: the toxic liquidation spiral, call by call (lesson 4, section 7)."""
from __future__ import annotations

import numpy as np
import traitlets as T
from bqplot import Label, Lines

from . import _labels, _ui
from .engine import Account, Book, MarginInputError, Market, spiral_pair, spiral_path

MAX_ACCOUNTS = 6                       # lines drawn (marks are built once)
_COLOURS = ("blue", "orange", "green", "purple", "sky", "grey")
_PLOT_W, _LTV_H, _EQ_H = 460.0, 210.0, 170.0     # assumed minimum plot area, px (labels)


def fmt_ltv(v: float) -> str:
    """An LTV with two decimals, three when the third one is not 0 (0.96, 0.968, 1.00)."""
    t = f"{v:.3f}"
    return t[:-1] if t.endswith("0") else t


def default_book(market: Market, rules=None) -> tuple:
    """The engine's :func:`~widgets.engine.spiral_pair` (two ETH borrowers either side of the
    frontier), with names that state each one's LTV.

    >>> default_book(Market.example())[1]
    ['A (LTV 0.92)', 'B (LTV 0.991)']
    """
    book, ltvs = spiral_pair(market, rules)
    return book, [f"{n} (LTV {fmt_ltv(v)})" for n, v in zip("AB", ltvs)]


class SpiralChart(_ui.Component):
    """LTV and equity of a few accounts over repeated partial liquidations at a fixed price.

    Every call of :func:`~widgets.engine.liquidate` with ``close_factor < 1`` sells a fraction
    of the collateral, pays the penalty and repays debt with the rest. Below the frontier
    (``1 / (1 + penalty)`` with the penalty on the debt repaid, as Aave's bonus and the engine's
    default; ``1 - penalty`` with the old penalty on the notional sold) this lowers LTV and the
    account is soon healthy; above it every call *raises* LTV and the penalties eat the equity:
    the toxic liquidation spiral (Warmuz, Chaudhary and Pinna, arXiv:2212.07306, 2022). The
    numbers come from :func:`~widgets.engine.spiral_path`.

    Parameters
    ----------
    book : Book or Account, default two ETH borrowers (:func:`default_book`: LTV 0.92, and one
        a quarter of the way from the frontier to 1)
        At most six accounts are drawn.
    market : Market, default ``Market.example()``
    names : list of str, optional
        One name per account.
    rules : LiquidationRules or str, optional
        Whose penalty basis (and fund share) the calls use; default the market's rules. Each
        call closes the fixed fraction ``close_factor`` (the spiral's knob).
    **traits
        Initial ``close_factor`` and ``calls``. A refused value leaves the default and names
        the argument in ``problem`` (the constructor policy of :class:`~widgets._ui.Component`).

    Attributes
    ----------
    close_factor : float
        Fraction closed by each call, in [0.05, 1] (input; the slider's range).
    calls : int
        Number of calls, 1 to 10 (input).
    book : Book
        The accounts (at most six).
    market : Market
        The venue: prices, weights, penalties.
    names : list of str
        One name per account.
    ltv, equity : list of list of float
        Per account, its LTV / equity before the first call and after each call while it still
        has collateral (the list stops when the account is closed) (output).
    frontier : list of float
        Each account's LTV frontier (output).
    rising : list of bool
        Per account, True when the first call raised its LTV (output).
    problem, summary : str
        See :class:`~widgets._ui.Component`.

    Notes
    -----
    :attr:`figures` holds ``"ltv"`` and ``"equity"``; :meth:`chart_data` the lines ``"ltv 0"``
    ... ``"ltv 5"``, ``"equity 0"`` ... (one per account slot), ``"frontier"`` and
    ``"frontier_label"``; :attr:`end_labels` where the end-of-line labels were placed.

    Examples
    --------
    >>> m = Market(["ETH"], [2_000.0], asset_weight=0.825, liquidation_penalty=0.05)
    >>> pair = Book.from_accounts([Account([5.0], cash=-9_000.0), Account([5.0], cash=-9_600.0)])
    >>> chart = SpiralChart(pair, m, names=["A", "B"], close_factor=0.5, calls=3)
    >>> [round(v, 4) for v in chart.ltv[1]], chart.rising     # frontier 1 / 1.05 = 0.952
    ([0.96, 0.968, 0.9844, 1.0], [False, True])
    """

    close_factor = _ui.Finite(0.5, min=0.05, max=1.0,
                              help="Fraction of the collateral closed by each call.")
    calls = _ui.Whole(4, min=1, max=10, help="Number of liquidation calls.")
    book = T.Instance(Book, help="The accounts drawn (at most six).")
    market = T.Instance(Market, help="The venue: prices, weights, penalties.")
    names = T.List(T.Unicode(), help="One name per account.")
    ltv = T.List(read_only=True, help="Per account: LTV before and after each call.")
    equity = T.List(read_only=True, help="Per account: equity before and after each call.")
    frontier = T.List(read_only=True, help="Per account: the LTV above which a call raises LTV.")
    rising = T.List(read_only=True, help="Per account: True when the first call raised LTV.")
    _state_traits = ("close_factor", "calls")

    def __init__(self, book=None, market: Market | None = None, names=None, rules=None,
                 **kwargs):
        given = {k: kwargs.pop(k) for k in self._state_traits if k in kwargs}
        market = _ui.engine_argument("market", market, Market, Market.example)
        if book is None:
            book, default_names = default_book(market, rules)
            names = names if names is not None else default_names
        book = _ui.book_argument("book", book)
        names = _ui.names_argument(names, book.n_accounts)
        self._rules = rules
        self._path = None
        cf = _ui.slider("Close factor (share closed per call)", 0.5, 0.05, 1.0, 0.05)
        calls = _ui.int_slider("Liquidation calls", 4, 1, 10)
        self._bind("close_factor", cf)
        self._bind("calls", calls)
        self._build()
        super().__init__(children=[cf, calls, self._problem_box, self._summary_box,
                                   self._ltv_box, self._eq_box], **kwargs)
        self.set_trait("market", market)
        self.set_trait("book", book)
        self.set_trait("names", names)
        self._recompute()
        self.observe(self._on_input, names=[*self._state_traits, "book", "market", "names"])
        self._apply_inputs(given)

    @property
    def end_labels(self) -> dict:
        """Where the end-of-line labels were placed: ``{"ltv": [...], "equity": [...]}``, each
        ``(text, x, y, align, box)`` with ``box`` in pixels of the assumed minimum plot
        (:func:`widgets._labels.place_labels`)."""
        return {"ltv": list(self._ltv_labels.placed), "equity": list(self._eq_labels.placed)}

    # -- figures --------------------------------------------------------------------------
    def _build(self) -> None:
        colours = [_ui.PALETTE[c] for c in _COLOURS]
        self._x = _ui.fixed_scale(0, 4.6)
        self._y_ltv, self._y_eq = _ui.fixed_scale(0.7, 1.05), _ui.fixed_scale(0, 1)
        sc_l, sc_e = {"x": self._x, "y": self._y_ltv}, {"x": self._x, "y": self._y_eq}
        self._ltv_lines = [Lines(x=[], y=[], colors=[colours[i]], scales=sc_l, marker="circle",
                                 marker_size=28, stroke_width=2.5) for i in range(MAX_ACCOUNTS)]
        self._eq_lines = [Lines(x=[], y=[], colors=[colours[i]], scales=sc_e, marker="circle",
                                marker_size=28, stroke_width=2.5) for i in range(MAX_ACCOUNTS)]
        self._frontier = Lines(x=[0.0, 4.6], y=[0.95, 0.95], colors=[_ui.DANGER], scales=sc_l,
                               line_style="dashed", stroke_width=2)
        # in the theme's text colour: vermillion text on white is 3.87:1 (WCAG AA asks 4.5);
        # the dashed vermillion line above it still marks the frontier
        self._frontier_label = Label(x=[4.6], y=[0.95], text=[""], scales=sc_l,
                                     colors=[_ui.TEXT_FILL], default_size=12, align="end")
        self._ltv_labels = _labels.LabelSet(sc_l)
        self._eq_labels = _labels.LabelSet(sc_e)
        self._ltv_fig = _ui.figure("Loan-to-value after each liquidation call", self._x,
                                   self._y_ltv, [*self._ltv_lines, self._frontier,
                                                 self._frontier_label, *self._ltv_labels.marks],
                                   "liquidation call (0 = before)", "LTV (debt ÷ collateral)",
                                   height="300px", y_format=".2f", x_format="d")
        self._eq_fig = _ui.figure("Equity after each call", self._x, self._y_eq,
                                  [*self._eq_lines, *self._eq_labels.marks],
                                  "liquidation call (0 = before)", "equity (USD)",
                                  height="260px", y_format="$,.0f", x_format="d")
        self._ltv_box, self._eq_box = self._ltv_fig, self._eq_fig
        marks = {f"ltv {i}": line for i, line in enumerate(self._ltv_lines)}
        marks.update({f"equity {i}": line for i, line in enumerate(self._eq_lines)})
        marks.update(frontier=self._frontier, frontier_label=self._frontier_label)
        self._expose(figures={"ltv": self._ltv_fig, "equity": self._eq_fig}, marks=marks)

    # -- inputs ---------------------------------------------------------------------------
    def _compute(self) -> None:
        if self.book.n_accounts > MAX_ACCOUNTS:
            raise MarginInputError(f"book must have at most {MAX_ACCOUNTS} accounts to draw, got "
                                   f"{self.book.n_accounts}")
        if len(self.names) != self.book.n_accounts:
            raise MarginInputError(f"names must give one name per account "
                                   f"({self.book.n_accounts}), got {len(self.names)}")
        self._path = spiral_path(self.book, self.market, self.close_factor, self.calls,
                                 rules=self._rules)

    # -- view -----------------------------------------------------------------------------
    def _series(self):
        """Per account: calls and LTV / equity while it has collateral (finite LTV)."""
        p = self._path
        out = []
        for a in range(p.ltv.shape[1]):
            ok = np.isfinite(p.ltv[:, a])
            end = int(np.argmin(ok)) if not ok.all() else ok.size
            k = np.arange(end, dtype=float)
            out.append((k, p.ltv[:end, a], p.equity[:end, a], end))
        return out

    def _show(self) -> None:
        p, series = self._path, self._series()
        K = p.n_calls
        ltv_all = np.concatenate([s[1] for s in series] + [p.frontier[np.isfinite(p.frontier)]])
        eq_all = np.concatenate([s[2] for s in series])
        y_ltv = _ui.nice_domain(ltv_all, include=(), pad=0.1)
        y_eq = _ui.nice_domain(eq_all, include=(0.0,), pad=0.1)
        ltv_texts, eq_texts, ends = [], [], []
        for a, (k, ltv, eq, end) in enumerate(series):
            name = self.names[a]
            closed = end <= K and p.liquidated[:, a].any()
            ltv_texts.append(f"{name}: closed" if closed and end < K + 1 else name)
            eq_texts.append(f"{name} {_ui.money(eq[-1])}" if eq.size else name)
            ends.append((k[-1] if k.size else 0.0, ltv[-1] if ltv.size else np.nan,
                         eq[-1] if eq.size else np.nan))
        ends = np.array(ends, dtype=float).reshape(-1, 3)
        # Room on the right for the end labels: the plot (>= _PLOT_W px) keeps the widest
        # label's width + gap free after the last call.
        room = max(_labels.text_width(t) for t in ltv_texts + eq_texts) + 2 * _labels.GAP_PX
        x_dom = (0.0, K * _PLOT_W / (_PLOT_W - room))
        fr = float(np.nanmedian(p.frontier)) if np.isfinite(p.frontier).any() else np.nan
        # Ticks on whole calls and on round values of the fitted domains.
        for fig, dom in ((self._ltv_fig, y_ltv), (self._eq_fig, y_eq)):
            step = _ui.nice_step(dom[1] - dom[0], 5)
            _ui.set_ticks(fig.axes[0], np.arange(K + 1, dtype=float))
            _ui.set_ticks(fig.axes[1], np.arange(np.ceil(dom[0] / step - 1e-9),
                                                 np.floor(dom[1] / step + 1e-9) + 1) * step)
        with self._x.hold_sync():
            self._x.min, self._x.max = x_dom
        with self._y_ltv.hold_sync():
            self._y_ltv.min, self._y_ltv.max = y_ltv
        with self._y_eq.hold_sync():
            self._y_eq.min, self._y_eq.max = y_eq
        for i in range(MAX_ACCOUNTS):
            k, ltv, eq, _ = series[i] if i < len(series) else (np.zeros(0),) * 3 + (0,)
            for line, y in ((self._ltv_lines[i], ltv), (self._eq_lines[i], eq)):
                with line.hold_sync():
                    line.x, line.y = k, y
        with self._frontier.hold_sync():
            self._frontier.x = list(x_dom)
            self._frontier.y = [fr, fr] if np.isfinite(fr) else [y_ltv[0], y_ltv[0]]
            self._frontier.visible = bool(np.isfinite(fr))
        with self._frontier_label.hold_sync():        # under the line, at its right end
            self._frontier_label.x = [x_dom[1] - 0.01 * (x_dom[1] - x_dom[0])]
            self._frontier_label.y = [fr - 16 / _LTV_H * (y_ltv[1] - y_ltv[0])] \
                if np.isfinite(fr) else [y_ltv[0]]
            self._frontier_label.text = [f"frontier LTV {fmt_ltv(fr)}: above it, a call raises LTV"
                                         if np.isfinite(fr) else ""]
        # End labels in the theme's text colour (orange text on white is 2.25:1), next to the
        # end of their line.
        self._ltv_labels.update(ends[:, 0], ends[:, 1], ltv_texts, x_dom, y_ltv, _PLOT_W,
                                _LTV_H, None, _labels.right_of_line_ends)
        self._eq_labels.update(ends[:, 0], ends[:, 2], eq_texts, x_dom, y_eq, _PLOT_W, _EQ_H,
                               None, _labels.right_of_line_ends)
        self.set_trait("ltv", [s[1].tolist() for s in series])
        self.set_trait("equity", [s[2].tolist() for s in series])
        self.set_trait("frontier", p.frontier.tolist())
        rising = [bool(r) for r in self._path.ltv_rising]
        self.set_trait("rising", rising)
        self._set_summary(self._describe(series, rising))

    def _describe(self, series, rising) -> str:
        p, m = self._path, _ui.money
        parts = []
        for a, (k, ltv, eq, end) in enumerate(series):
            name, fr = self.names[a], p.frontier[a]
            where = ("above" if ltv[0] > fr else "below" if ltv[0] < fr else "on") \
                if ltv.size and np.isfinite(fr) else "off"
            path = " → ".join(fmt_ltv(v) for v in ltv)
            last = int(p.last_call()[a])
            if not p.liquidated[:, a].any():
                fate = "never liquidated (healthy)"
            elif end < p.ltv.shape[0]:
                fate = f"closed out at call {end}"
            elif last < p.n_calls:
                fate = f"healthy after call {last}"
            else:
                fate = f"still liquidatable after call {p.n_calls}"
            parts.append(f"{name} starts {where} the {fmt_ltv(fr)} frontier: LTV {path} "
                         f"({'rising' if rising[a] else 'falling' if ltv.size > 1 else 'flat'}); "
                         f"{fate}; equity {m(p.equity[0, a])} → {m(p.equity[-1, a])}, penalties "
                         f"{m(p.penalty[:, a].sum())}"
                         + (f", bad debt {m(p.bad_debt[:, a].sum())}"
                            if p.bad_debt[:, a].sum() > 0 else ""))
        return (f"{p.n_calls} calls closing {self.close_factor:.0%} each. " + ". ".join(parts)
                + ".")
