"""CascadeLab: forced selling moves prices, which liquidates the next account (lesson 5)."""
from __future__ import annotations

import contextlib
import html

import ipywidgets as W
import numpy as np
import traitlets as T
from bqplot import Bars, Lines, LogScale

from . import _ui
from .engine import Book, MarginInputError, Market, cascade
from .engine.rulebook import DEFAULT as DEFAULT_RULES, LiquidationRules
from .engine._validate import as_float_array, check_range

MAX_ROUNDS = 30                     # the cascade's round limit
_INPUTS = ("preset", "shock", "depth", "impact", "liquidation", "close_factor", "insurance_fund")
PRESETS = (("calm", "calm"), ("overheated", "overheated"))
# the conventions the liquidation control offers, with their button labels
LIQUIDATIONS = (("restore health", "restore"), ("Aave 50 %", "aave"), ("full close", "full"),
                ("fixed fraction", "fraction"))
_COLOURS = ("blue", "orange", "green", "purple", "sky", "yellow", "vermillion")


def volatile_shock(market: Market, move: float) -> dict:
    """The same price move for every volatile asset (daily volatility >= 1 %); stablecoins stay."""
    return {a: (move if v >= 0.01 else 0.0) for a, v in zip(market.assets, market.volatility)}


def deeper(market: Market, multiple: float) -> Market:
    """``market`` with every asset's depth multiplied by ``multiple`` (> 0)."""
    m = as_float_array("depth", multiple)
    check_range("depth", m, 0.0, None, low_open=True)
    return market.replace(depth=market.depth * float(m))


def venue_convention(market: Market) -> str:
    """The liquidation convention ``market`` runs (its ``liquidation_rules``, else the engine's
    default, ``"restore"``)."""
    return (market.liquidation_rules or DEFAULT_RULES).convention


def liquidation_rules(market: Market, liquidation: str, close_factor: float) -> LiquidationRules:
    """The :class:`~widgets.engine.rulebook.LiquidationRules` behind the lab's controls.

    The venue's own rules when ``liquidation`` is its convention (and not ``"fraction"``);
    otherwise the named convention: ``"restore"`` (the engine's default: init health back to 0
    plus a 1 % buffer, penalty to the insurance fund), ``"aave"`` (:meth:`LiquidationRules.aave`:
    50 % of the debt, 100 % at HF <= 0.95, bonus to the liquidator, 10 % to the protocol),
    ``"full"`` (:meth:`LiquidationRules.full`) or ``"fraction"``
    (:meth:`LiquidationRules.fraction` with ``close_factor``: a fixed share of everything at
    stake, a teaching knob no venue runs).

    >>> liquidation_rules(Market.example(), "fraction", 0.5).close_factor
    0.5
    >>> liquidation_rules(Market.example(), "sometimes", 0.5)
    Traceback (most recent call last):
    ...
    widgets.engine._validate.MarginInputError: liquidation must be one of ['restore', 'aave', 'full', 'fraction'], got 'sometimes'
    """
    from .engine.liquidation import check_close_factor
    close_factor = check_close_factor(close_factor)      # checked whatever the convention
    names = [v for _, v in LIQUIDATIONS]
    if liquidation not in names:
        raise MarginInputError(f"liquidation must be one of {names}, got {liquidation!r}")
    base = market.liquidation_rules or DEFAULT_RULES
    if liquidation == "fraction":
        return LiquidationRules.fraction(close_factor)
    if liquidation == base.convention:
        return base
    return {"restore": lambda: DEFAULT_RULES, "aave": LiquidationRules.aave,
            "full": LiquidationRules.full}[liquidation]()


def _charts(market: Market, n_accounts: int) -> dict:
    """The three figures and their marks, built once; data and domains follow the cascade.

    Marks hold only the rounds shown (fitted arrays, never NaN points: bqplot turns a NaN into
    an SVG transform error per marker in the browser console). Legends are HTML under each
    figure, outside the plotted area.
    """
    x_sc = _ui.fixed_scale(-0.5, 1.5)
    colours = [_ui.NEUTRAL if v == 0 else _ui.PALETTE[_COLOURS[i % len(_COLOURS)]]
               for i, v in enumerate(volatile_shock(market, 1.0).values())]
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
                              marker_size=16),
         "x_scale": x_sc, "y_price": y_price, "y_liq": y_liq, "y_money": y_money}
    c["price_fig"] = _ui.figure("Price vs before the shock", x_sc, y_price, [c["price_lines"]],
                                "round", "price change", y_format=".0%", x_format="d")
    c["liq_fig"] = _ui.figure(f"Accounts liquidated (of {n_accounts:,})", x_sc, y_liq,
                              [c["bars"], c["cum_line"]], "round", "accounts", y_format=",.0f",
                              x_format="d")
    c["money_fig"] = _ui.figure("Insurance fund and bad debt", x_sc, y_money, [c["money_lines"]],
                                "round", "$ (log; $0 on the floor)", y_format="$.2s",
                                x_format="d")
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


def describe(result, shock: float, n_accounts: int, shown_round: int, liquidated_so_far: int,
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
                 f"{_ui.money(result.bad_debt - result.socialized_loss)} paid by the insurance "
                 f"fund, {_ui.money(result.socialized_loss)} socialized to profitable traders.")
    return text + f" Showing round {shown_round} of {R}: {liquidated_so_far:,} liquidated so far."


class CascadeLab(_ui.Component):
    """A shock, then liquidations and their price impact round after round, on a book of accounts.

    The whole cascade is computed once per parameter change (one :func:`~widgets.engine.cascade`
    call) and shown whole, on axes fitted to it; Play, Step, Reset and the round slider only
    choose which round is shown (Play is ``jslink``-ed to the round slider, so playback runs in
    the browser; from the last round, Play replays the cascade from round 0). The depth control
    steps through round multiples (1, 2, 3, 5 per decade), so 30x is exact.

    The default depth is 30x ``Market.example()``'s (deep enough that a calm book's forced
    sales move prices by a few tenths of a percent). The book control switches between
    ``Book.random``'s ``"calm"`` preset (the venue default, calibrated on Hyperliquid's on-chain
    leverage: a -5 % shock at 30x liquidates 227 of 10,000 accounts) and its ``"overheated"``
    one (illustrative: 3,020 of 10,000, prices falling for several rounds).

    Parameters
    ----------
    market : Market, default ``Market.example()``
    book : Book, optional
        Default ``Book.random(market, n_accounts, seed, preset=preset)``. A given book fixes
        the accounts: ``preset`` is then ``"custom"`` and the book control is hidden.
    n_accounts : int, default 10,000
    seed : int, default 0
    **traits : initial values of the input traits.

    Traits
    ------
    preset : Unicode (input) — ``"calm"`` or ``"overheated"``: which ``Book.random`` book
    (same ``n_accounts`` and ``seed``); ``"custom"`` when a book was given.
    shock : Float (input) — common price move of the volatile assets (-0.05 is a 5 % fall).
    depth : Float (input) — multiple of the market's depth (deeper: smaller price impact).
    impact : Unicode (input) — ``"linear"``, ``"sqrt"`` or ``"exponential"``.
    liquidation : Unicode (input) — the liquidation convention: ``"restore"`` (close just enough
    to restore health, Mango / perp venues), ``"aave"`` (50 % of the debt, 100 % at HF <= 0.95),
    ``"full"`` (close everything at stake) or ``"fraction"`` (a fixed ``close_factor`` of
    everything at stake). Default: the venue's own convention (:func:`venue_convention`).
    close_factor : Float (input) — share of everything at stake closed per round, (0, 1]; only
    read when ``liquidation == "fraction"`` (the slider is disabled otherwise).
    insurance_fund : Float (input) — fund before the cascade, quote currency.
    round : Int (input) — round shown, 0 (just after the shock) .. ``n_rounds``.
    n_rounds, n_liquidated : Int (output); bad_debt, socialized_loss : Float (output).
    protocol_fee, liquidator_bonus : Float (output) — the penalties paid into the insurance fund
    and to the liquidators over the cascade (``penalty = protocol_fee + liquidator_bonus``).
    final_price_change : Dict (output) — ``{asset: final move vs pre-shock price}``.

    Examples
    --------
    >>> lab = CascadeLab(n_accounts=2_000)
    >>> lab.shock = -0.10
    >>> lab.n_liquidated > 0 and lab.final_price_change["BTC"] < -0.10
    True
    >>> lab.round = 0; lab.round
    0
    """

    preset = T.Unicode("calm")
    shock = T.Float(-0.05)
    depth = T.Float(30.0)
    impact = T.Unicode("linear")
    liquidation = T.Unicode()
    close_factor = T.Float(0.5)
    insurance_fund = T.Float(0.0)
    round = T.Int(0)
    n_rounds = T.Int(0, read_only=True)
    n_liquidated = T.Int(0, read_only=True)
    bad_debt = T.Float(0.0, read_only=True)
    socialized_loss = T.Float(0.0, read_only=True)
    protocol_fee = T.Float(0.0, read_only=True)
    liquidator_bonus = T.Float(0.0, read_only=True)
    final_price_change = T.Dict(read_only=True)
    _state_traits = (*_INPUTS, "round")

    def __init__(self, market: Market | None = None, book: Book | None = None,
                 n_accounts: int = 10_000, seed: int = 0, **kwargs):
        self.market = market if market is not None else Market.example()
        given = {k: kwargs.pop(k) for k in (*_INPUTS, "round") if k in kwargs}
        self._books, self._n_accounts, self._seed = {}, n_accounts, seed
        if book is not None:
            self._books["custom"] = book
            self.set_trait("preset", "custom")
        elif "preset" in given:
            self.set_trait("preset", given.pop("preset"))
        self.book = self._book(self.preset)
        self.set_trait("liquidation", venue_convention(self.market))
        self._quiet_depth = 0
        self._shocked = [a for a, v in volatile_shock(self.market, 1.0).items() if v]
        risky = ", ".join(self._shocked)
        self._controls = {
            "preset": (W.ToggleButtons(
                options=list(PRESETS) + ([("custom", "custom")] if book is not None else []),
                value=self.preset, description="Book",
                tooltips=["Leverage as on Hyperliquid (median 0.2x)",
                          "Illustrative: most accounts near their limits"][:len(PRESETS)],
                layout=W.Layout(display="none") if book is not None else W.Layout()), None),
            "shock": (_ui.slider(f"Shock to {risky}", -0.05, -0.5, 0.0, 0.01,
                                 tooltip="Common price move applied before the cascade"), 1.0),
            "depth": (_ui.depth_slider(30.0), 1.0),
            "impact": (W.ToggleButtons(options=[("linear", "linear"), ("square root", "sqrt"),
                                                ("exponential", "exponential")],
                                       description="Price impact",
                                       tooltips=["P(1 - x)", "P(1 - σ√x)", "P·exp(-x)"]), None),
            "liquidation": (W.ToggleButtons(
                options=list(LIQUIDATIONS), value=self.liquidation, description="Liquidation",
                tooltips=["Close just enough to bring health back above 0 (Mango, perp venues)",
                          "Repay 50 % of the debt, 100 % at HF <= 0.95 (Aave v3)",
                          "Close everything at stake",
                          "Close a fixed share of everything at stake (no venue does this)"]),
                None),
            "close_factor": (_ui.slider("Close factor (fixed fraction)", 0.5, 0.1, 1.0, 0.05),
                             1.0),
            "insurance_fund": (_ui.slider("Insurance fund ($M)", 0.0, 0.0, 50.0, 0.5, fmt=".1f"),
                               1e6)}
        for name, (ctl, scale) in self._controls.items():
            ctl.observe(lambda c, n=name, s=scale, w=ctl: self._from_control(n, c["new"], s, w),
                        "value")
        self._play = _ui.play(interval=700, tooltip="Play the rounds one after another")
        self._round_slider = _ui.int_slider("Round", 0, 0, 0)
        self._round_slider.layout.width = "auto"
        self._link = W.jslink((self._play, "value"), (self._round_slider, "value"))
        for w in (self._play, self._round_slider):
            w.observe(lambda c: self._from_control("round", c["new"], None), "value")
        self._step_btn = W.Button(description="Step", icon="step-forward",
                                  tooltip="Show the next round")
        self._reset_btn = W.Button(description="Reset", icon="undo", tooltip="Back to the shock")
        self._step_btn.on_click(lambda _: self.step())
        self._reset_btn.on_click(lambda _: self.reset())
        c = _charts(self.market, self.book.n_accounts)
        self._price_lines, self._bars, self._cum_line, self._money_lines = (
            c["price_lines"], c["bars"], c["cum_line"], c["money_lines"])
        self._scales = {k: c[k] for k in ("x_scale", "y_price", "y_liq", "y_money")}
        self._log = W.HTML(layout=W.Layout(width=_ui.FULL_WIDTH))
        stepper = W.HBox([self._play, self._step_btn, self._reset_btn, self._round_slider])
        self._figures = c["price_fig"], c["liq_fig"], c["money_fig"]
        charts = W.GridBox([*(_ui.with_legend(f, items) for f, items in
                              zip(self._figures, c["legends"])), self._log],
                           layout=W.Layout(grid_template_columns="repeat(2, minmax(300px, 1fr))"))
        super().__init__(children=[*(c for c, _ in self._controls.values()), stepper,
                                   self._problem_box, self._summary_box, charts], **kwargs)
        self._compute()
        self._after_compute(to_end=True)
        self.observe(self._on_input, names=list(_INPUTS))
        self.observe(self._on_round, names="round")
        for name, value in given.items():
            setattr(self, name, value)

    # -- public methods -----------------------------------------------------------------------
    @property
    def result(self):
        """The :class:`~widgets.engine.CascadeResult` on screen (last valid inputs)."""
        return self._result

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

    # -- events ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _quiet(self):
        self._quiet_depth += 1
        try:
            yield
        finally:
            self._quiet_depth -= 1

    def _from_control(self, name, value, scale, control=None) -> None:
        current = getattr(self, name)
        if control is not None and _ui.shows(control, current / scale if scale else current):
            return                       # the slider echoing its own snapping, not a new input
        if not self._quiet_depth:
            setattr(self, name, value * scale if scale else value)

    def _on_input(self, change) -> None:
        if self._quiet_depth:
            return
        def revert():
            with self._quiet():
                setattr(self, change["name"], self._good[change["name"]])
            self._sync_controls()

        if self._guard(self._compute, revert):
            self._after_compute(to_end=True)      # the whole new cascade; Play replays it

    def _on_round(self, change) -> None:
        if self._quiet_depth:
            return

        def check():
            if not 0 <= change["new"] <= self.n_rounds:
                raise MarginInputError(f"round must be in [0, {self.n_rounds}], "
                                       f"got {change['new']}")

        def revert():
            with self._quiet():
                self.round = change["old"]
            self._sync_controls()

        if self._guard(check, revert):
            self._sync_controls()
            self._show_round()

    # -- engine and display ---------------------------------------------------------------------
    def _book(self, preset: str) -> Book:
        """The book of ``preset`` (built once per preset)."""
        if preset not in self._books:
            if preset == "custom" or preset not in [v for _, v in PRESETS]:
                names = [v for _, v in PRESETS]
                raise MarginInputError(
                    f"preset must be one of {names}" + (" (a book was given: 'custom')"
                                                        if "custom" in self._books else "")
                    + f", got {preset!r}")
            self._books[preset] = Book.random(self.market, self._n_accounts, seed=self._seed,
                                              preset=preset)
        return self._books[preset]

    def _compute(self) -> None:
        v = {n: getattr(self, n) for n in _INPUTS}
        if "custom" in self._books and v["preset"] != "custom":
            raise MarginInputError(f"preset must be 'custom' (a book was given), got "
                                   f"{v['preset']!r}")
        self.book = self._book(v["preset"])
        rules = liquidation_rules(self.market, v["liquidation"], v["close_factor"])
        res = cascade(self.book, deeper(self.market, v["depth"]),
                      volatile_shock(self.market, v["shock"]), v["impact"], MAX_ROUNDS,
                      insurance_fund=v["insurance_fund"], rules=rules)
        self._good, self._result, self._lines = v, res, res.log()
        self._prices = (res.prices_by_round / res.reference_prices - 1.0).T    # (assets, R+1)
        self._liq = np.asarray(res.liquidated_by_round, dtype=float)          # (R,)
        self._cum = np.cumsum(np.r_[0, res.newly_liquidated_by_round]).astype(float)
        self._money = np.array([res.insurance_fund_by_round,
                                np.cumsum(np.r_[0.0, res.bad_debt_by_round]),
                                np.cumsum(np.r_[0.0, res.socialized_loss_by_round])])

    def _after_compute(self, to_end: bool) -> None:
        res = self._result
        self.set_trait("n_rounds", res.n_rounds)
        self.set_trait("n_liquidated", res.n_liquidated)
        self.set_trait("bad_debt", res.bad_debt)
        self.set_trait("socialized_loss", res.socialized_loss)
        self.set_trait("protocol_fee", float(res.protocol_fee_by_round.sum()))
        self.set_trait("liquidator_bonus", float(res.liquidator_bonus_by_round.sum()))
        self.set_trait("final_price_change",
                       {a: float(c) for a, c in zip(res.assets, res.price_change)})
        with self._quiet():
            self.round = res.n_rounds if to_end else min(self.round, res.n_rounds)
        self._sync_controls()
        self._fit_axes()
        self._show_round()

    def _fit_axes(self) -> None:
        """Axes fitted to the whole cascade (not the round shown: they stay still during Play)."""
        R, sc = self._result.n_rounds, self._scales
        with sc["x_scale"].hold_sync():
            sc["x_scale"].min, sc["x_scale"].max = -0.5, max(R, 1) + 0.5
        for fig in self._figures:
            _ui.set_ticks(fig.axes[0], round_ticks(max(R, 1)))
        # a little room above 0 so the unshocked stablecoin's line is not on the plot's edge
        room = 0.05 * max(-float(np.min(self._prices)), 0.02)
        _ui.fit_scale(sc["y_price"], self._prices, include=(0.0, room), pad=0.1)
        _ui.fit_scale(sc["y_liq"], self._cum, pad=0.1)
        lo, hi = log_domain(self._money)
        with sc["y_money"].hold_sync():
            sc["y_money"].min, sc["y_money"].max = lo, hi
        decades = np.log10(hi / lo)                   # a tick per power of ten (at most ~6)
        every = max(1, int(np.ceil(decades / 6)))
        _ui.set_ticks(self._figures[2].axes[1], lo * 10.0 ** np.arange(0, decades + 0.5, every))

    def _sync_controls(self) -> None:
        with self._quiet():
            for name, (ctl, scale) in self._controls.items():
                _ui.display_value(ctl, self._good[name] / scale if scale else self._good[name])
            self._controls["close_factor"][0].disabled = self._good["liquidation"] != "fraction"
            for w in (self._play, self._round_slider):
                w.max = self.n_rounds
                w.value = self.round

    def _show_round(self) -> None:
        r, R = self.round, self._result.n_rounds
        # round 0 is one point, drawn twice: bqplot squeezes a (k, 1) array to (k,), which
        # it would read as one line of k points
        idx = np.arange(r + 1) if r else np.zeros(2, dtype=int)
        rounds = idx.astype(float)
        floor = float(self._scales["y_money"].min)
        bars_x = np.arange(1, max(R, 1) + 1, dtype=float)
        bars_y = np.zeros(bars_x.size)
        bars_y[:r] = self._liq[:r]                  # rounds not reached yet: height 0, not NaN
        with self._price_lines.hold_sync(), self._bars.hold_sync(), \
                self._cum_line.hold_sync(), self._money_lines.hold_sync():
            self._price_lines.x, self._price_lines.y = rounds, self._prices[:, idx]
            self._bars.x, self._bars.y = bars_x, bars_y
            self._cum_line.x, self._cum_line.y = rounds, self._cum[idx]
            # a log axis has no zero: $0 (and anything below the axis) sits on its floor
            self._money_lines.x = rounds
            self._money_lines.y = np.maximum(self._money[:, idx], floor)
        shown = self._lines[:r + 1] + (self._lines[-1:] if r == self.n_rounds else [])
        newest = "font-weight:bold;border-left:3px solid var(--jp-brand-color1);padding-left:4px"
        items = [f'<li style="{newest if i == 0 else _ui._MUTED}">{html.escape(line)}</li>'
                 for i, line in enumerate(reversed(shown))]
        self._log.value = _ui.scroll_region(
            "Event log", f'<div style="{_ui._TEXT}"><b>Event log</b> (newest first)<ul '
            f'style="margin:4px 0;padding-left:18px">{"".join(items)}</ul></div>', "260px")
        self._set_summary(describe(self._result, self._good["shock"], self.book.n_accounts, r,
                                  int(self._cum[r]), self._shocked))
