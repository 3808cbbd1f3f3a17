"""CascadeLab: forced selling moves prices, which liquidates the next account (lesson 5)."""
from __future__ import annotations

import html

import ipywidgets as W
import numpy as np
import traitlets as T
from bqplot import Bars, Lines, LogScale

from . import _ui
from .engine import (CASCADE_DEPTH, Book, LiquidationRules, MarginInputError, Market, cascade,
                     deeper, volatile_shock)

MAX_ROUNDS = 30                     # the cascade's round limit
PRESETS = ("calm", "overheated")    # Book.random presets the book control offers
# the conventions the liquidation control offers, with their button labels
LIQUIDATIONS = (("restore health", "restore"), ("Aave 50 %", "aave"), ("full close", "full"),
                ("fixed fraction", "fraction"))
IMPACTS = (("linear", "linear"), ("square root", "sqrt"), ("exponential", "exponential"))
SHOCK_RANGE = (-0.5, 0.0)           # the shock slider's range (the trait's bounds)
CLOSE_FACTOR_RANGE = (0.05, 1.0)
FUND_MAX = 50e6                     # the insurance fund slider's top, quote currency
_INPUTS = ("preset", "shock", "depth", "impact", "liquidation", "close_factor", "insurance_fund")
_COLOURS = ("blue", "orange", "green", "purple", "sky", "yellow", "vermillion")


def _charts(market: Market, n_accounts: int) -> dict:
    """The three figures and their marks, built once; data and domains follow the cascade.

    Marks hold only the rounds shown (fitted arrays, never NaN points: bqplot turns a NaN into
    an SVG transform error per marker in the browser console). Legends are HTML under each
    figure, outside the plotted area.
    """
    x_sc = _ui.fixed_scale(-0.5, 1.5)
    colours = [_ui.NEUTRAL if stable else _ui.PALETTE[_COLOURS[i % len(_COLOURS)]]
               for i, stable in enumerate(market.is_stablecoin)]
    one = np.zeros(1)
    y_price, y_liq = _ui.fixed_scale(-0.1, 0.0), _ui.fixed_scale(0, 10)
    y_money = LogScale(min=1e3, max=1e6, allow_padding=False)
    money_colours = [_ui.SAFE, _ui.DANGER, _ui.PALETTE["purple"]]
    money_names = ["insurance fund", "bad debt so far", "socialized so far"]
    c = {"price_lines": Lines(x=one, y=np.zeros((market.n_assets, 1)), colors=colours,
                              scales={"x": x_sc, "y": y_price}, labels=list(market.assets),
                              marker="circle", marker_size=16),
         "bars": Bars(x=np.ones(1), y=one, colors=[_ui.DANGER], scales={"x": x_sc, "y": y_liq},
                      labels=["liquidated in the round"], padding=0.3),
         "cum_line": Lines(x=one, y=one, colors=[_ui.CROSS], scales={"x": x_sc, "y": y_liq},
                           labels=["liquidated so far"], marker="circle", marker_size=16),
         "money_lines": Lines(x=one, y=np.full((3, 1), 1e3), scales={"x": x_sc, "y": y_money},
                              colors=money_colours, labels=money_names, marker="circle",
                              marker_size=16)}
    c["price"] = _ui.figure("Price vs before the shock", x_sc, y_price, [c["price_lines"]],
                            "round", "price change", y_format=".0%", x_format="d")
    c["liquidated"] = _ui.figure(f"Accounts liquidated (of {n_accounts:,})", x_sc, y_liq,
                                 [c["bars"], c["cum_line"]], "round", "accounts",
                                 y_format=",.0f", x_format="d")
    c["money"] = _ui.figure("Insurance fund and bad debt", x_sc, y_money, [c["money_lines"]],
                            "round", "$ (log; $0 on the floor)", y_format="$.2s", x_format="d")
    c["legends"] = (
        [(col, a, "line") for col, a in zip(colours, market.assets)],
        [(_ui.DANGER, "liquidated in the round", "bar"), (_ui.CROSS, "liquidated so far", "line")],
        [(col, n, "line") for col, n in zip(money_colours, money_names)])
    return c


def round_ticks(n_rounds: int) -> np.ndarray:
    """Whole-round ticks 0..n_rounds, at most about 10 of them."""
    step = max(1, int(np.ceil(n_rounds / 10)))
    return np.arange(0, n_rounds + 1, step, dtype=float)


def log_domain(values, floor: float = 1e3) -> tuple[float, float]:
    """Powers of ten around the positive ``values`` (a log axis has no 0); at least one decade."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return floor, floor * 1e3
    lo = 10.0 ** np.floor(np.log10(max(v.min(), 1.0)))
    hi = 10.0 ** np.ceil(np.log10(v.max() * 1.05))
    return float(lo), float(max(hi, lo * 10))


def describe(result, shock: float, n_accounts: int, shown_round: int,
             shocked_assets) -> str:
    """One sentence with a cascade's numbers, then the round on screen."""
    moves = ", ".join(f"{a} {c:+.1%}" for a, c in zip(result.assets, result.price_change)
                      if a in shocked_assets)
    digits = 0 if abs(shock * 100 - round(shock * 100)) < 1e-9 else 1
    R, fund = result.n_rounds, result.insurance_fund_by_round
    text = (f"A {shock:+.{digits}%} shock became {moves} over {R} round{'s' * (R != 1)}; "
            f"{result.n_liquidated:,} of {n_accounts:,} accounts liquidated; insurance fund "
            f"{_ui.money(fund[0])} → {_ui.money(fund[-1])}; ")
    if result.bad_debt <= 0:
        text += "no bad debt."
    elif result.socialized_loss <= 0:
        text += f"bad debt {_ui.money(result.bad_debt)}, all paid by the insurance fund."
    else:
        text += (f"bad debt {_ui.money(result.bad_debt)}: "
                 f"{_ui.money(result.covered_by_fund)} paid by the insurance "
                 f"fund, {_ui.money(result.socialized_loss)} socialized to profitable traders.")
    so_far = int(result.liquidated_so_far[shown_round])
    return text + f" Showing round {shown_round} of {R}: {so_far:,} liquidated so far."


class CascadeLab(_ui.Component):
    """A shock, then liquidations and their price impact round after round, on a book of accounts.

    The whole cascade is computed once per input change (one :func:`~widgets.engine.cascade`
    call) and shown whole, on axes fitted to it; Play, Step, Reset and the round slider only
    choose which round is shown (Play is ``jslink``-ed to the round slider, so playback runs in
    the browser; from the last round, Play replays the cascade from round 0). The depth control
    steps through round multiples (1, 2, 3, 5 per decade), so 30x is exact.

    The default depth is :data:`~widgets.engine.CASCADE_DEPTH` (30x ``Market.example()``'s:
    deep enough that a calm book's forced sales move prices by a few tenths of a percent). The
    book control switches between ``Book.random``'s ``"calm"`` preset (the venue default,
    calibrated on Hyperliquid's on-chain leverage: a -5 % shock at 30x liquidates 227 of 10,000
    accounts) and its ``"overheated"`` one (illustrative: 3,020 of 10,000, prices falling for
    several rounds). The shock moves every volatile asset (:func:`~widgets.engine.volatile_shock`;
    stablecoins stay at their peg); the liquidation control names a convention
    (:meth:`LiquidationRules.named <widgets.engine.LiquidationRules.named>`).

    Parameters
    ----------
    market : Market, default ``Market.example()``
    book : Book, optional
        Default ``Book.random(market, n_accounts, seed, preset=preset)``. A given book fixes
        the accounts: ``preset`` is then ``"custom"`` and the book control is hidden.
    n_accounts : int, default 10,000
    seed : int, default 0
    **inputs
        Initial values of the input traits below. Bad values never raise: the lab is built with
        the default and ``problem`` names the refused input (see :class:`~widgets._ui.Component`).

    Attributes
    ----------
    preset : {"calm", "overheated", "custom"}
        Input: which ``Book.random`` book (same ``n_accounts`` and ``seed``); ``"custom"`` when
        a book was given (and only then).
    shock : float in [-0.5, 0]
        Input: common price move of the volatile assets (-0.05 is a 5 % fall).
    depth : float in [0.1, 1000]
        Input: multiple of the market's order-book depth (deeper: smaller price impact).
    impact : {"linear", "sqrt", "exponential"}
        Input: the price-impact model (:func:`~widgets.engine.price_impact`).
    liquidation : {"restore", "aave", "full", "fraction"}
        Input: the liquidation convention: close just enough to restore health (Mango, perp
        venues), Aave's 50 % of the debt (100 % at HF <= 0.95), close everything at stake, or a
        fixed ``close_factor`` of everything at stake. Default: the venue's own convention
        (``LiquidationRules.of(market).convention``).
    close_factor : float in [0.05, 1]
        Input: share of everything at stake closed per round; only read when ``liquidation ==
        "fraction"`` (the slider is disabled otherwise).
    insurance_fund : float in [0, 50,000,000]
        Input: fund before the cascade, quote currency.
    round : int in [0, n_rounds]
        Input: round shown, 0 (just after the shock) .. ``n_rounds``; changing it only changes
        the view.
    n_rounds, n_liquidated : int
        Output: rounds the cascade ran; accounts liquidated at least once.
    bad_debt, socialized_loss : float
        Output: shortfalls written off; the part the fund could not pay.
    protocol_fee, liquidator_bonus : float
        Output: penalties paid into the insurance fund and to the liquidators over the cascade
        (``CascadeResult.protocol_fee`` / ``liquidator_bonus``).
    final_price_change : dict
        Output: ``{asset: final move vs pre-shock price}``.
    event_log : list of str
        Output: the event log's lines on screen, newest first.

    Examples
    --------
    >>> lab = CascadeLab(n_accounts=2_000)
    >>> lab.shock = -0.10
    >>> lab.n_liquidated > 0 and lab.final_price_change["BTC"] < -0.10
    True
    >>> lab.round = 0; lab.round
    0
    >>> lab.shock = 5.0                        # beyond the slider: refused, not run
    >>> lab.shock, lab.problem[:60]
    (-0.1, 'That input was not accepted: shock must be in [-0.5, 0], got')
    """

    preset = _ui.Choice([*PRESETS, "custom"], "calm",
                        help="Which Book.random book: 'calm' or 'overheated'; 'custom' when a "
                             "book was given.")
    shock = _ui.Finite(-0.05, min=SHOCK_RANGE[0], max=SHOCK_RANGE[1],
                       help="Common price move of the volatile assets (-0.05: a 5 % fall).")
    depth = _ui.Finite(CASCADE_DEPTH, min=_ui.DEPTHS[0], max=_ui.DEPTHS[-1],
                       help="Multiple of the market's order-book depth.")
    impact = _ui.Choice([v for _, v in IMPACTS], "linear", help="The price-impact model.")
    liquidation = _ui.Choice([v for _, v in LIQUIDATIONS], "restore",
                             help="The liquidation convention (default: the venue's own).")
    close_factor = _ui.Finite(0.5, min=CLOSE_FACTOR_RANGE[0], max=CLOSE_FACTOR_RANGE[1],
                              help="Share closed per round under the 'fraction' convention.")
    insurance_fund = _ui.Finite(0.0, min=0.0, max=FUND_MAX,
                                help="Insurance fund before the cascade, quote currency.")
    round = _ui.Whole(0, min=0, max=MAX_ROUNDS, help="Round shown, 0 .. n_rounds.")
    n_rounds = T.Int(0, read_only=True, help="Rounds the cascade ran.")
    n_liquidated = T.Int(0, read_only=True, help="Accounts liquidated at least once.")
    bad_debt = T.Float(0.0, read_only=True, help="Bad debt written off, quote currency.")
    socialized_loss = T.Float(0.0, read_only=True,
                              help="Bad debt the fund could not pay, quote currency.")
    protocol_fee = T.Float(0.0, read_only=True,
                           help="Penalties paid into the insurance fund, quote currency.")
    liquidator_bonus = T.Float(0.0, read_only=True,
                               help="Penalties paid to liquidators, quote currency.")
    final_price_change = T.Dict(read_only=True,
                                help="{asset: final move vs the pre-shock price}.")
    event_log = T.List(T.Unicode(), read_only=True,
                       help="The event log's lines on screen, newest first.")
    _state_traits = (*_INPUTS, "round")

    def __init__(self, market: Market | None = None, book: Book | None = None,
                 n_accounts: int = 10_000, seed: int = 0, **kwargs):
        self.market = _ui.engine_argument("market", market, Market, Market.example)
        if book is not None:
            book = _ui.book_argument("book", book)
        given = {k: kwargs.pop(k) for k in self._state_traits if k in kwargs}
        self._given_book, self._n_accounts, self._seed = book, n_accounts, seed
        self._books = {}
        if book is not None:
            self.set_trait("preset", "custom")
        self.set_trait("liquidation", LiquidationRules.of(self.market).convention)
        self._shocked = self.market.volatile_assets
        self.book = self._book(self.preset)              # raises on a bad n_accounts / seed

        preset_ctl = W.ToggleButtons(
            options=list(zip(PRESETS, PRESETS)) + ([("custom", "custom")] if book else []),
            value=self.preset, description="Book",
            tooltips=["Leverage as on Hyperliquid (median 0.2x)",
                      "Illustrative: most accounts near their limits"],
            layout=W.Layout(display="none") if book is not None else W.Layout())
        shock_ctl = _ui.slider(f"Shock to {', '.join(self._shocked)}", self.shock,
                               *SHOCK_RANGE, 0.01,
                               tooltip="Common price move applied before the cascade")
        impact_ctl = W.ToggleButtons(options=list(IMPACTS), value=self.impact,
                                     description="Price impact",
                                     tooltips=["P(1 - x)", "P(1 - σ√x)", "P·exp(-x)"])
        liq_ctl = W.ToggleButtons(
            options=list(LIQUIDATIONS), value=self.liquidation, description="Liquidation",
            tooltips=["Close just enough to bring health back above 0 (Mango, perp venues)",
                      "Repay 50 % of the debt, 100 % at HF <= 0.95 (Aave v3)",
                      "Close everything at stake",
                      "Close a fixed share of everything at stake (no venue does this)"])
        cf_ctl = _ui.slider("Close factor (fixed fraction)", self.close_factor,
                            *CLOSE_FACTOR_RANGE, 0.05)
        fund_ctl = _ui.slider("Insurance fund ($M)", 0.0, 0.0, FUND_MAX / 1e6, 0.5, fmt=".1f")
        for name, ctl, scale in (("preset", preset_ctl, None), ("shock", shock_ctl, None),
                                 ("depth", _ui.depth_slider(self.depth), None),
                                 ("impact", impact_ctl, None), ("liquidation", liq_ctl, None),
                                 ("close_factor", cf_ctl, None),
                                 ("insurance_fund", fund_ctl, 1e6)):
            self._bind(name, ctl, scale)
        inputs = list(self.controls.values())

        self._play = _ui.play(interval=700, tooltip="Play the rounds one after another")
        round_ctl = _ui.int_slider("Round", 0, 0, 0)
        round_ctl.layout.width = "auto"
        # Play moves the round slider in the browser (jslink); kernel side, its own value is
        # one more way to choose the round
        self._bind("round", round_ctl)
        self._bind("round", self._play)
        self._link = W.jslink((self._play, "value"), (round_ctl, "value"))
        step = W.Button(description="Step", icon="step-forward", tooltip="Show the next round")
        reset = W.Button(description="Reset", icon="undo", tooltip="Back to the shock")
        step.on_click(lambda _: self.step())
        reset.on_click(lambda _: self.reset())

        c = _charts(self.market, self.book.n_accounts)
        self._marks = {k: c[k] for k in ("price_lines", "bars", "cum_line", "money_lines")}
        self._figures = {k: c[k] for k in ("price", "liquidated", "money")}
        self._log = W.HTML(layout=W.Layout(width=_ui.FULL_WIDTH))
        charts = W.GridBox([*(_ui.with_legend(f, items) for f, items in
                              zip(self._figures.values(), c["legends"])), self._log],
                           layout=W.Layout(grid_template_columns="repeat(2, minmax(300px, 1fr))"))
        super().__init__(children=[*inputs, W.HBox([self._play, step, reset, round_ctl]),
                                   self._problem_box, self._summary_box, charts], **kwargs)
        self._expose(figures=self._figures, marks=self._marks,
                     controls={"play": self._play, "step": step, "reset": reset})
        self._compute()
        self._sync_controls()
        self._show()
        self.observe(self._on_input, names=list(_INPUTS))
        self.observe(self._on_round, names="round")
        # the round is only valid for the cascade of the other inputs: apply it last
        self._apply_inputs(dict(sorted(given.items(), key=lambda kv: kv[0] == "round")))

    # -- public methods -----------------------------------------------------------------------
    @property
    def result(self):
        """The :class:`~widgets.engine.CascadeResult` on screen (last valid inputs)."""
        return self._result

    @property
    def playback_link(self) -> W.Link:
        """The browser-side link from Play to the round slider (playback runs in the browser)."""
        return self._link

    def step(self) -> None:
        """Show the next round (stays on the last one)."""
        self.round = min(self.round + 1, self.n_rounds)

    def reset(self) -> None:
        """Stop playback and show round 0: prices just after the shock."""
        self._play.playing = False
        self.round = 0

    def set_state_dict(self, state: dict) -> bool:
        # The round is only valid for the restored cascade: apply it last.
        return super().set_state_dict(dict(sorted(state.items(), key=lambda kv: kv[0] == "round")))

    # -- the round: only the view changes ---------------------------------------------------------
    def _on_round(self, change) -> None:
        if self._silenced:
            return

        def check():
            if change["new"] > self._result.n_rounds:
                raise MarginInputError(f"round must be in [0, {self._result.n_rounds}] (the "
                                       f"rounds this cascade ran), got {change['new']}")

        ok = self._guard(check, lambda: self._revert(change))
        self._sync_controls()
        if ok:
            self._show_round()

    # -- engine and display ---------------------------------------------------------------------
    def _book(self, preset: str) -> Book:
        """The book of ``preset`` (built once per preset); the given book for ``"custom"``."""
        if self._given_book is not None:
            if preset != "custom":
                raise MarginInputError(f"preset must be 'custom' (a book was given), got "
                                       f"{_ui.short_repr(preset)}")
            return self._given_book
        if preset == "custom":
            raise MarginInputError(f"preset 'custom' needs a book (CascadeLab(book=...)); "
                                   f"choose one of {list(PRESETS)}")
        if preset not in self._books:
            self._books[preset] = Book.random(self.market, self._n_accounts, seed=self._seed,
                                              preset=preset)
        return self._books[preset]

    def _compute(self) -> None:
        book = self._book(self.preset)
        rules = LiquidationRules.named(self.liquidation, self.close_factor, self.market)
        res = cascade(book, deeper(self.market, self.depth),
                      volatile_shock(self.market, self.shock), self.impact, MAX_ROUNDS,
                      insurance_fund=self.insurance_fund, rules=rules)
        self.book, self._result = book, res
        with self._silently():
            self.round = res.n_rounds                   # the whole new cascade; Play replays it

    def _sync_extra(self) -> None:
        ctl = self.controls
        ctl["close_factor"].disabled = self.liquidation != "fraction"
        for w in (ctl["round"], self._play):            # the slider and Play reach the end
            w.max = self._result.n_rounds

    def _show(self) -> None:
        res = self._result
        self.set_trait("n_rounds", res.n_rounds)
        self.set_trait("n_liquidated", res.n_liquidated)
        self.set_trait("bad_debt", res.bad_debt)
        self.set_trait("socialized_loss", res.socialized_loss)
        self.set_trait("protocol_fee", res.protocol_fee)
        self.set_trait("liquidator_bonus", res.liquidator_bonus)
        self.set_trait("final_price_change",
                       {a: float(c) for a, c in zip(res.assets, res.price_change)})
        self._fit_axes()
        self._show_round()

    def _money(self) -> np.ndarray:
        res = self._result
        return np.array([res.insurance_fund_by_round, res.bad_debt_so_far, res.socialized_so_far])

    def _fit_axes(self) -> None:
        """Axes fitted to the whole cascade (not the round shown: they stay still during Play)."""
        res, m = self._result, self._marks
        R = res.n_rounds
        x_sc = m["price_lines"].scales["x"]
        with x_sc.hold_sync():
            x_sc.min, x_sc.max = -0.5, max(R, 1) + 0.5
        for fig in self._figures.values():
            _ui.set_ticks(fig.axes[0], round_ticks(max(R, 1)))
        prices = res.price_change_by_round
        # a little room above 0 so the unshocked stablecoin's line is not on the plot's edge
        room = 0.05 * max(-float(np.min(prices)), 0.02)
        _ui.fit_scale(m["price_lines"].scales["y"], prices, include=(0.0, room), pad=0.1)
        _ui.fit_scale(m["cum_line"].scales["y"], res.liquidated_so_far, pad=0.1)
        y_money = m["money_lines"].scales["y"]
        lo, hi = log_domain(self._money())
        with y_money.hold_sync():
            y_money.min, y_money.max = lo, hi
        decades = np.log10(hi / lo)                   # a tick per power of ten (at most ~6)
        every = max(1, int(np.ceil(decades / 6)))
        _ui.set_ticks(self._figures["money"].axes[1],
                      lo * 10.0 ** np.arange(0, decades + 0.5, every))

    def _show_round(self) -> None:
        res, m = self._result, self._marks
        r, R = self.round, res.n_rounds
        # round 0 is one point, drawn twice: bqplot squeezes a (k, 1) array to (k,), which
        # it would read as one line of k points
        idx = np.arange(r + 1) if r else np.zeros(2, dtype=int)
        rounds = idx.astype(float)
        floor = float(m["money_lines"].scales["y"].min)
        bars_x = np.arange(1, max(R, 1) + 1, dtype=float)
        bars_y = np.zeros(bars_x.size)
        bars_y[:r] = res.liquidated_by_round[:r]     # rounds not reached yet: height 0, not NaN
        with m["price_lines"].hold_sync(), m["bars"].hold_sync(), \
                m["cum_line"].hold_sync(), m["money_lines"].hold_sync():
            m["price_lines"].x = rounds
            m["price_lines"].y = res.price_change_by_round.T[:, idx]
            m["bars"].x, m["bars"].y = bars_x, bars_y
            m["cum_line"].x = rounds
            m["cum_line"].y = res.liquidated_so_far[idx].astype(float)
            # a log axis has no zero: $0 (and anything below the axis) sits on its floor
            m["money_lines"].x = rounds
            m["money_lines"].y = np.maximum(self._money()[:, idx], floor)
        lines = res.log()
        shown = list(reversed(lines[:r + 1] + (lines[-1:] if r == R else [])))
        self.set_trait("event_log", shown)
        newest = "font-weight:bold;border-left:3px solid var(--jp-brand-color1);padding-left:4px"
        items = [f'<li style="{newest if i == 0 else _ui._MUTED}">{html.escape(line)}</li>'
                 for i, line in enumerate(shown)]
        self._log.value = _ui.scroll_region(
            "Event log", f'<div style="{_ui._TEXT}"><b>Event log</b> (newest first)<ul '
            f'style="margin:4px 0;padding-left:18px">{"".join(items)}</ul></div>', "260px")
        self._set_summary(describe(res, self.shock, self.book.n_accounts, r, self._shocked))
