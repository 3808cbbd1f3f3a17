"""PoolingLab: the same perps margined cross (one pool) and isolated (one bucket per perp)."""
from __future__ import annotations

import html
import math
from contextlib import ExitStack

import ipywidgets as W
import numpy as np
import traitlets as T
from bqplot import Bars, Label, Lines

from . import _ui
from .engine import (POOLING_POSITIONS, Account, MarginInputError, Market, compare_pooling,
                     isolated_twin, position_liquidation_prices, proportional_split)
from .shock_panel import ShockPanel, complete_moves

#: Largest perp size a learner may set, in units of the asset (a billion BTC is already absurd).
MAX_SIZE = 1e9
#: Largest collateral, in the quote currency.
MAX_COLLATERAL = 1e12


def _nice(x: float) -> float:
    """Smallest 1-2-5 x 10^k >= x (a round, fixed axis limit)."""
    k = 10.0 ** math.floor(math.log10(max(x, 1.0)))
    return next(f * k for f in (1, 2, 5, 10) if f * k >= x)


ROW_AMOUNT, ROW_STATUS = 0.93, 0.84      # label rows over the health bars (0..1 of the plot)
HEADROOM = 0.74                          # bars reach at most this share of the plot height


def _fit_health(scale, values) -> bool:
    """Fit the health axis to ``values`` and 0, leaving the top rows for the labels.

    Hysteresis as in :func:`_ui.nice_domain`: while a drag keeps the bars inside, the axis
    stays; it is refitted when a bar would reach the label rows or the bars shrink far inside.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    lo, hi = min(0.0, float(v.min(initial=0.0))), max(0.0, float(v.max(initial=0.0)))
    top = lo + (hi - lo) / HEADROOM if hi > 0 else 0.0
    current = (scale.min, scale.max)
    if current[1] > current[0] and lo >= current[0] and \
            hi <= current[0] + (HEADROOM + 0.06) * (current[1] - current[0]) and \
            max(hi - lo, 1.0) >= 0.25 * (current[1] - current[0]):
        return False
    new = _ui.nice_domain([lo, hi, top], None, pad=0.06, ticks=8)
    with scale.hold_sync():
        scale.min, scale.max = new
    return True


def _names(items) -> str:
    """``BTC``, ``BTC and ETH``, ``BTC, ETH and SOL``."""
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _price(x: float) -> str:
    """``$81,012.66`` (a price, to the cent); ``none`` where there is no liquidation price."""
    return f"${x:,.2f}" if np.isfinite(x) else "none"


def _price_move(lp: float, move: float) -> str:
    """``$81,012.66 (-19.0%)``: a liquidation price and the engine's move that reaches it."""
    return f"{_price(lp)} ({move * 100:+.1f}%)" if np.isfinite(lp) else "none"


def checked_positions(market: Market, assets, value: dict) -> dict:
    """``{asset: perp size}`` for ``assets`` (the lab's perps), each finite and at most
    :data:`MAX_SIZE` in size; ``TraitError`` (held as a message) otherwise."""
    unknown = [k for k in value if k not in assets]
    if unknown:
        raise T.TraitError(f"positions keys must be among the lab's perps "
                           f"({', '.join(assets)}), got {_ui.short_repr(unknown[0])}")
    _ui.numbers_only("positions", value)
    try:
        vec = market.per_asset("positions", value)
    except (MarginInputError, TypeError, ValueError, OverflowError) as exc:
        raise T.TraitError(str(exc)) from None
    sizes = {a: float(vec[market.index(a)]) for a in value}
    big = [a for a, q in sizes.items() if abs(q) > MAX_SIZE]
    if big:
        raise T.TraitError(f"positions[{big[0]}] must be at most {MAX_SIZE:g} units in size, "
                           f"got {sizes[big[0]]:g}")
    return sizes


class PoolingLab(_ui.Component):
    """One portfolio margined two ways: cross (one pool) vs isolated (a bucket per perp).

    Cross pools cash and every perp, so it fails less often (its health is the sum of the
    isolated parts' healths), but a failure takes the whole pool; isolated loses only a failing
    bucket. Cross also needs less collateral once positions carry gains and losses.

    Parameters
    ----------
    market : Market, default ``Market.example()``
    positions : dict {asset: perp size}, default :data:`~widgets.engine.POOLING_POSITIONS`
        (long 2 BTC, long 50 ETH, short 500 SOL); one size slider per asset given.
    collateral : float, default 30,000 (quote currency, e.g. USDC)
    split : dict {asset: share}, optional — share of the collateral posted to each bucket in
        isolated mode; default proportional to each perp's initial margin (all posted).
    shock : dict {asset: move}, optional — price moves, fractions (also set by the sliders).

    A bad value for any of the four inputs leaves its default and says why in ``problem``.

    Attributes
    ----------
    market : Market
        Argument; a new one must list the same assets.
    positions : dict
        Input, ``{asset: signed perp size}`` over the lab's perps (a dict replaces the whole
        book; a perp left out is 0), each at most 1e9 units in size.
    collateral : float
        Input, quote-currency collateral in [0, 1e12].
    split : dict
        Input, ``{asset: share of the collateral posted to that bucket}`` (isolated mode),
        shares >= 0 summing to at most 1; the rest stays in the isolated pool.
    shock : dict
        Input, ``{asset: fractional price move}``; a partial dict changes only those assets.
    default_split : bool (read-only property)
        True while ``split`` follows the default (proportional to initial margin).
    cross_liquidatable : bool (read-only)
        The cross pool is liquidatable at the shocked prices.
    isolated_failed : list of str (read-only)
        Assets whose isolated bucket fails.
    cross_loss, isolated_loss : float (read-only)
        Collateral lost to liquidation at the shocked prices (quote currency).
    cross_capital_required, isolated_capital_required : float (read-only)
        Minimum collateral to pass the initial margin check at the shocked prices.
    cross_liquidation_prices, isolated_liquidation_prices : dict (read-only)
        ``{asset: price}`` per open perp: the price of that asset alone, the others held at
        the shocked prices, at which the cross pool / that perp's isolated bucket reaches zero
        health (:func:`~widgets.engine.position_liquidation_prices`); NaN where none.
    problem, summary : str (read-only)
        Message for bad input; live text summary.
    figures : dict
        ``cross``, ``iso``, ``loss``, ``capital``; :meth:`chart_data` names their marks
        ``<figure>_bars``, ``<figure>_amounts`` and (health figures) ``<figure>_status``.
    table : ipywidgets.HTML
        The liquidation-price table.

    Examples
    --------
    >>> lab = PoolingLab()
    >>> lab.shock = {"SOL": 0.15}                 # SOL rallies 15 %
    >>> lab.cross_liquidatable, lab.isolated_failed, round(lab.isolated_loss)
    (False, ['SOL'], 8333)
    >>> lab.shock = {"BTC": -0.21, "ETH": -0.28, "SOL": -0.35}
    >>> lab.cross_liquidatable, lab.isolated_failed, round(lab.cross_loss)
    (True, ['BTC', 'ETH'], 30000)
    >>> lab.shock = {"BTC": 0.0, "ETH": 0.0, "SOL": 0.0}
    >>> round(lab.cross_liquidation_prices["SOL"], 2), round(lab.isolated_liquidation_prices["SOL"], 2)
    (240.98, 211.38)
    """

    market = _ui.EngineInstance(Market, help="The venue's rulebook and prices (engine Market).")
    positions = _ui.AssetDict(help="{asset: signed perp size} over the lab's perps, |size| <= 1e9.")
    collateral = _ui.Finite(30_000.0, min=0.0, max=MAX_COLLATERAL,
                            help="Quote-currency collateral (USDC), in [0, 1e12].")
    split = _ui.AssetDict(help="{asset: share of the collateral posted to that bucket} (isolated "
                           "mode); shares >= 0 summing to at most 1.")
    shock = _ui.AssetDict(help="{asset: fractional price move}; a partial dict changes only those.")
    cross_liquidatable = T.Bool(False, read_only=True, help="The cross pool is liquidatable.")
    isolated_failed = T.List(T.Unicode(), read_only=True,
                             help="Assets whose isolated bucket fails.")
    cross_loss = T.Float(0.0, read_only=True, help="Collateral the cross pool loses ($).")
    isolated_loss = T.Float(0.0, read_only=True, help="Collateral the failing buckets lose ($).")
    cross_capital_required = T.Float(0.0, read_only=True,
                                     help="Collateral cross needs (initial margin) ($).")
    isolated_capital_required = T.Float(0.0, read_only=True,
                                        help="Collateral isolated needs (initial margin) ($).")
    cross_liquidation_prices = T.Dict(read_only=True, help="{asset: price} at which the cross "
                                                           "pool fails, that price alone moving.")
    isolated_liquidation_prices = T.Dict(read_only=True, help="{asset: price} at which that "
                                                              "perp's bucket fails.")
    _state_traits = ("positions", "collateral", "split", "shock")

    def __init__(self, market: Market | None = None, **kwargs):
        given = {k: kwargs.pop(k) for k in self._state_traits if k in kwargs}
        market = _ui.engine_argument("market", market, Market, Market.example)
        self._assets = tuple(market.assets)
        positions = {a: q for a, q in POOLING_POSITIONS.items() if a in market.assets}
        if isinstance(given.get("positions"), dict):     # sliders for the perps asked for
            try:
                positions = checked_positions(market, market.assets, given["positions"])
                del given["positions"]
            except T.TraitError:
                pass                                     # refused below, with its message
        collateral = given.get("collateral", 30_000.0)
        if isinstance(collateral, bool) or not isinstance(collateral, (int, float)) or \
                not 0 <= collateral <= MAX_COLLATERAL:
            collateral = 30_000.0                        # the slider's range; refused below
        self._auto_split, self._next_auto, self._posted = True, True, 1.0
        self._marks = {}
        self._panel = ShockPanel(market)
        for a in market.assets:                          # no perp slider, nothing it could move
            if a not in positions:
                self._panel.controls[f"shock[{a}]"].layout.display = "none"
        P = market.prices
        self._size_sliders = {}
        for a in positions:
            span = max(2 * abs(float(positions[a])), 1e5 / float(P[market.index(a)]))
            step = 10.0 ** math.floor(math.log10(span / 100))
            self._size_sliders[a] = _ui.slider(
                f"{a} perp size", float(positions[a]), -span, span, step,
                fmt=f",.{max(0, -round(math.log10(step)))}f",
                tooltip=f"{a} perp position in {a} (long > 0, short < 0)")
        top = _nice(max(100_000.0, 2 * float(collateral)))
        collateral_slider = _ui.slider("Collateral (USDC)", float(collateral), 0.0, top,
                                       top / 200, fmt="$,.0f", tooltip="Quote-currency collateral")
        self._posted_slider = _ui.slider("Isolated: share posted to buckets", 1.0, 0.0, 1.0, 0.01,
                                         tooltip="The rest of the collateral stays in the pool")
        # one health scale for both health figures (cross health is the sum of the parts')
        self._health_scale = _ui.fixed_scale(-1.0, 1.0)
        figs = {"cross": self._health_fig("cross", "Cross: one pool", ["Whole account"]),
                "iso": self._health_fig("iso", "Isolated: a bucket per perp", list(positions)),
                "loss": self._money_fig("loss", "Collateral lost to liquidation"),
                "capital": self._money_fig("capital",
                                           "Collateral needed (initial margin) at these prices")}
        controls = W.VBox([*self._size_sliders.values(), collateral_slider,
                           self._posted_slider], layout=W.Layout(width="50%"))
        for fig, flex in zip(figs.values(), ("1 1 0", "2 1 0", "1 1 0", "1 1 0")):
            fig.layout.flex, fig.layout.width = flex, "auto"
        self._liq_table = W.HTML(layout=W.Layout(width=_ui.FULL_WIDTH))
        figs_list = list(figs.values())
        super().__init__(children=[W.HBox([controls, self._panel]), self._problem_box,
                                   W.HBox(figs_list[:2]), self._liq_table, W.HBox(figs_list[2:]),
                                   self._summary_box],
                         **kwargs)
        with self._silently():
            self.market, self.positions = market, positions
            self.collateral, self.shock = float(collateral), {}
        self._compute()
        self._sync_controls()
        self._show()
        self._bind("collateral", collateral_slider)
        for a, s in self._size_sliders.items():
            self._bind("positions", s, key=a)
        self._posted_slider.observe(self._on_posted, names="value")
        self._panel.observe(self._on_panel, names="shock")
        marks = {}
        for key, (bars, text, status, _) in self._marks.items():
            marks.update({f"{key}_bars": bars, f"{key}_amounts": text})
            if status is not None:
                marks[f"{key}_status"] = status
        self._expose(figures=figs, marks=marks, controls={
            "posted": self._posted_slider,
            **{n: c for n, c in self._panel.controls.items()
               if not n.startswith("shock[") or n[6:-1] in positions}})
        self.observe(self._on_input, names=["market", "positions", "collateral", "split",
                                            "shock"])
        self._apply_inputs(given)

    @property
    def default_split(self) -> bool:
        """True while ``split`` is the default: proportional to each perp's initial margin."""
        return self._auto_split

    @property
    def table(self) -> W.HTML:
        """The liquidation-price table (an HTML widget)."""
        return self._liq_table

    # -- figures: bars plus text per bar (numbers and status, not colour alone) ----------------
    def _health_fig(self, key, title, names):
        """Health bars; above each, in two fixed rows over the plot, its amount and status.

        The rows sit on a 0..1 scale (fixed pixels) and the health axis leaves them room
        (:meth:`_fit_health`), so a label never covers a bar or its neighbour's label.
        """
        colour = _ui.CROSS if key == "cross" else _ui.ISOLATED
        xs, ys, unit = _ui.ordinal_scale(names), self._health_scale, _ui.fixed_scale(0, 1)
        n = len(names)
        bars = Bars(x=names, y=np.zeros(n), scales={"x": xs, "y": ys}, colors=[colour],
                    padding=0.3)
        amount = Label(x=names, y=np.full(n, ROW_AMOUNT), text=[""] * n,
                       scales={"x": xs, "y": unit}, align="middle", default_size=12,
                       font_weight="bold", colors=["var(--jp-ui-font-color1)"])
        status = Label(x=names, y=np.full(n, ROW_STATUS), text=[""] * n,
                       scales={"x": xs, "y": unit}, align="middle", default_size=12,
                       font_weight="normal", colors=["var(--jp-ui-font-color1)"])
        line = Lines(x=[0.0, 1.0], y=[0.0, 0.0], scales={"x": unit, "y": ys},
                     colors=[_ui.DANGER], line_style="dashed")
        self._marks[key] = (bars, amount, status, xs)
        # The line is named in the axis label, not by a caption on the chart, which would sit
        # on top of the bars (unreadable contrast) whenever health is near 0.
        return _ui.figure(title, xs, ys, [bars, line, amount, status], y_label="health ($)",
                          x_label="dashed line: liquidation (health 0)",
                          y_format="$~s", height="260px")

    def _money_fig(self, key, title):
        names = ["Cross", "Isolated"]
        xs, ys = _ui.ordinal_scale(names), _ui.fixed_scale(0, 1)
        bars = Bars(x=names, y=np.zeros(2), scales={"x": xs, "y": ys},
                    colors=[_ui.CROSS, _ui.ISOLATED], padding=0.4)
        text = Label(x=names, y=np.zeros(2), y_offset=-8, text=["", ""],
                     colors=["var(--jp-ui-font-color1)"], scales={"x": xs, "y": ys},
                     align="middle", default_size=12)
        self._marks[key] = (bars, text, None, xs)
        return _ui.figure(title, xs, ys, [bars, text], y_format="$~s", height="220px")

    # -- inputs --------------------------------------------------------------------------
    @T.validate("positions")
    def _check_positions(self, proposal) -> dict:
        return checked_positions(self.market, tuple(self._size_sliders), proposal["value"])

    @T.validate("split")
    def _check_split(self, proposal) -> dict:
        _ui.numbers_only("split", proposal["value"])      # the rules of a split: the engine's
        return proposal["value"]

    @T.validate("shock")
    def _check_shock(self, proposal) -> dict:
        return complete_moves(self.market, self.shock, proposal["value"])

    def reset_split(self) -> None:
        """Back to the default split: all collateral posted, proportional to initial margin."""
        self._next_auto, self._posted = True, 1.0
        self._rerun()

    def _rerun(self) -> None:
        """Compute and show again after a change that is not an input (the posted share)."""
        if not self._recompute():
            self._next_auto = self._auto_split

    def _on_panel(self, change) -> None:
        if not self._silenced:
            self.shock = dict(self._panel.shock)

    def _on_posted(self, change) -> None:
        """The posted share: scales a custom split, or the default split's posted share."""
        if self._silenced:
            return
        total = sum(self.split.values())
        if self._auto_split or total <= 0:
            self._next_auto, self._posted = True, float(change["new"])
            self._rerun()
        else:                                       # a custom split keeps its proportions
            self.split = {a: s * change["new"] / total for a, s in self.split.items()}

    def _on_input(self, change) -> None:
        if not self._silenced:
            self._next_auto = False if change["name"] == "split" else self._auto_split
        super()._on_input(change)
        if self.problem:                            # refused: the split mode is unchanged
            self._next_auto = self._auto_split

    def _sync_extra(self) -> None:
        c = self.controls.get("collateral")
        if c is not None and self.collateral > c.max:     # a cell set more than the slider
            c.max = _nice(2 * self.collateral)
            c.step = c.max / 200
        self._posted_slider.value = float(np.clip(sum(self.split.values()), 0.0, 1.0))
        if self._panel.market is not self.market:
            self._panel.market = self.market
        if self._panel.shock != self.shock:
            self._panel.shock = dict(self.shock)

    # -- engine -> outputs ---------------------------------------------------------------
    def _compute(self) -> None:
        m = self.market
        if tuple(m.assets) != self._assets:
            raise MarginInputError(f"market must have the assets {list(self._assets)}, got "
                                   f"{_ui.clip(', '.join(m.assets), 80)}")
        acct = Account.from_positions(m, perps=self.positions, cash=self.collateral)
        auto = self._next_auto
        split = ({a: self._posted * s for a, s in proportional_split(acct, m).items()}
                 if auto else dict(self.split))
        P = m.shocked(self.shock).prices
        res = compare_pooling(acct, m, P, split)
        cross = position_liquidation_prices(acct, m, P)
        iso = position_liquidation_prices(isolated_twin(acct, m, split), m, P)
        lps = {a: (now, lp, move, *iso[a][1:]) for a, (now, lp, move) in cross.items()}
        self._result = (res, lps, split, auto)

    def _show(self) -> None:
        res, lps, split, auto = self._result
        self._auto_split = self._next_auto = auto
        if split != self.split:
            with self._silently():
                self.split = split
            self._sync_controls()
        self._draw(res, lps)

    def _draw(self, res, lps):
        iso_names, iso = self._isolated_parts(res)
        cross = res.pool_health[:1]
        data = {"cross": (["Whole account"], cross), "iso": (iso_names, iso),
                "loss": (["Cross", "Isolated"], res.loss),
                "capital": (["Cross", "Isolated"], res.capital_required)}
        health_scale = self._health_scale
        with ExitStack() as stack:                      # one message per mark
            for bars, text, status, xs in self._marks.values():
                for m in (bars, text, status, xs, bars.scales["y"]):
                    if m is not None:
                        stack.enter_context(m.hold_sync())
            _fit_health(health_scale, np.concatenate([cross, iso]))
            for key, (bars, text, status, xs) in self._marks.items():
                names, y = data[key]
                if list(xs.domain) != names:             # only the parts that exist
                    xs.domain = names
                    text.x = names
                    bars.x = names
                    if status is not None:
                        status.x, status.y = names, np.full(len(names), ROW_STATUS)
                        text.y = np.full(len(names), ROW_AMOUNT)
                scale = bars.scales["y"]
                if status is None:                      # money: label on its bar
                    _ui.fit_scale(scale, np.asarray(y) * 1.18, include=(0.0, 1_000.0),
                                  pad=0.0, ticks=8)
                    shown, side = _ui.off_scale(y, scale.min, scale.max)
                    bars.y = shown
                    text.y = shown
                    text.text = [_ui.off_scale_text(f"{mode}: {_ui.money(v)}", sd)
                                 for mode, v, sd in zip(names, y, side)]
                else:
                    shown, side = _ui.off_scale(y, scale.min, scale.max)
                    bars.y = shown
                    text.text = [_ui.off_scale_text(_ui.money(v), sd) for v, sd in zip(y, side)]
                    status.text = ["LIQUIDATED" if v < 0 else "safe" for v in y]
        for name, value in (("cross_liquidatable", bool(res.liquidatable[0])),
                            ("isolated_failed", list(res.failed_buckets)),
                            ("cross_loss", float(res.loss[0])),
                            ("isolated_loss", float(res.loss[1])),
                            ("cross_capital_required", float(res.capital_required[0])),
                            ("isolated_capital_required", float(res.capital_required[1]))):
            self.set_trait(name, value)
        self.set_trait("cross_liquidation_prices", {a: v[1] for a, v in lps.items()})
        self.set_trait("isolated_liquidation_prices", {a: v[3] for a, v in lps.items()})
        self._liq_table.value = self._table_html(lps)
        liq = "; ".join(f"{a} cross {_price_move(c, cm)}, isolated {_price_move(i, im)}"
                        for a, (now, c, cm, i, im) in lps.items())
        liq = f" Liquidation prices (one price moving, the others held): {liq}." if lps else ""
        self._set_summary(self._describe(res) + liq)

    def _table_html(self, lps) -> str:
        """One row per open perp: price now, the cross pool's and the bucket's liquidation
        price, each with the move that reaches it."""
        if not lps:
            return ""
        cell = "padding:2px 10px; text-align:{};"
        head = "".join(f'<th style="{cell.format(al)}">{html.escape(t)}</th>' for t, al in (
            ("perp", "left"), ("price now", "right"), ("cross: the pool fails at", "right"),
            ("isolated: its bucket fails at", "right")))
        rows = []
        for a, (now, c, cm, i, im) in lps.items():
            q = float(self.positions.get(a, 0.0))
            rows.append("<tr>" + "".join(
                f'<td style="{cell.format(al)}">{html.escape(t)}</td>' for t, al in (
                    (f"{a} {'long' if q > 0 else 'short'} {abs(q):,.10g}", "left"),
                    (_price(now), "right"), (_price_move(c, cm), "right"),
                    (_price_move(i, im), "right"))) + "</tr>")
        note = ("one price moving, the others held; 'none': no price of that asset alone "
                "liquidates it")
        return (f'<div style="{_ui._TEXT}"><b>Liquidation price of each position</b> '
                f'<span style="{_ui._MUTED}">({html.escape(note)})</span>'
                f'<table style="border-collapse:collapse; margin-top:2px">'
                f'<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')

    def _isolated_parts(self, res):
        """Names and healths of the isolated parts that exist: the pool only when it holds
        something, and one bucket per open perp (no "Pool (cash) $0" or "USDC no perp" bars)."""
        names, values = [], []
        pool = float(res.pool_health[1])
        if pool != 0.0:
            names.append("Pool (cash)")
            values.append(pool)
        for a, h in zip(self.market.assets, res.bucket_health):
            if np.isfinite(h):
                names.append(a)
                values.append(float(h))
        if not names:                                    # nothing open: show the empty pool
            names, values = ["Pool (cash)"], [pool]
        return names, np.array(values)

    def _describe(self, res) -> str:
        start, loss = float(res.equity_start[0]), res.loss
        if res.liquidatable[0]:
            share = _ui.pct(res.loss_share[0], 0) if start > 0 else "all"
            cross = f"Cross: account liquidated, loses {share} of its {_ui.money(start)} pool"
        else:
            cross = f"Cross: survives (pool health {_ui.money(res.pool_health[0])})"
        failed = res.failed_buckets
        if failed:
            alive = [a for a, h in zip(self.market.assets, res.bucket_health) if h >= 0]
            many = len(failed) > 1
            iso = (f"isolated: {_names(failed)} bucket{'s' if many else ''} liquidated, "
                   f"lose{'' if many else 's'} {_ui.money(loss[1])}")
            if alive:
                iso += f" ({_names(alive)} survive{'s' if len(alive) == 1 else ''})"
        elif res.liquidatable[1]:
            iso = f"isolated: pool liquidated, loses {_ui.money(loss[1])}"
        else:
            iso = "isolated: every bucket survives"
        need = res.capital_required
        return (f"{cross}; {iso}; collateral needed at these prices: cross "
                f"{_ui.money(need[0])}, isolated {_ui.money(need[1])}.")
