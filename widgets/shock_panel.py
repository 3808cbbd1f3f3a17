"""ShockPanel: one labelled slider per asset (price move, %), a crisis preset and a reset."""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import traitlets as T

from . import _ui
from .engine import MarginInputError, Market
from .engine.market import shock_vector


def crisis_shock(market: Market) -> dict:
    """A crisis scenario scaled to each asset's volatility: about a 7-sigma daily move down.

    BTC (3 % daily) falls 21 %, ETH (4 %) 28 %, SOL (5 %) 35 %; a stablecoin (< 1 % daily) loses
    its peg by 2 %. Of the order of 12 March 2020 (ETH fell by more than half intraday) and
    10 October 2025 (BTC -13 %, SOL -26 % in hours).
    """
    vol = market.volatility
    move = np.where(vol < 0.01, -0.02, -np.minimum(7.0 * vol, 0.9))
    return {a: round(float(m), 2) for a, m in zip(market.assets, move)}


class ShockPanel(_ui.Component):
    """Price shocks per asset, as fractions (-0.2 is a 20 % fall).

    Parameters
    ----------
    market : Market, default ``Market.example()``
    shock : dict {asset: move}, optional

    Traits
    ------
    shock : Dict (input) — ``{asset: fractional move}``; every asset present. Assigning a
        partial dict changes only the assets it names.
    shocked_prices : List (output, read-only) — prices after the shock.

    Examples
    --------
    >>> panel = ShockPanel()
    >>> panel.shock = {**panel.shock, "BTC": -0.1}
    >>> round(panel.shocked_prices[0])
    90000
    """

    shock = T.Dict(help="{asset: fractional price move}")
    shocked_prices = T.List(T.Float(), read_only=True)
    _state_traits = ("shock",)

    def __init__(self, market: Market | None = None, shock: dict | None = None, **kwargs):
        self.market = market if market is not None else Market.example()
        self._good = {a: 0.0 for a in self.market.assets}
        self._sliders = {
            a: _ui.slider(f"{a} price move", 0.0, -0.9, 0.9, 0.01,
                          tooltip=f"Move the {a} price by this percentage")
            for a in self.market.assets}
        for a, s in self._sliders.items():
            s.observe(self._on_slider, names="value")
        self._crisis = W.Button(description="Crisis preset", icon="bolt",
                                tooltip="Apply a crisis: every volatile asset falls ~7 sigma")
        self._reset = W.Button(description="Reset", icon="undo", tooltip="All moves back to 0")
        self._crisis.on_click(lambda _: self.apply_crisis())
        self._reset.on_click(lambda _: self.reset())
        super().__init__(children=[*self._sliders.values(),
                                   W.HBox([self._crisis, self._reset]),
                                   self._problem_box, self._summary_box], **kwargs)
        self._syncing = False
        self.observe(self._on_shock, names="shock")
        self.shock = dict(shock or {})
        self._on_shock({"new": self.shock})

    def apply_crisis(self) -> None:
        self.shock = crisis_shock(self.market)

    def reset(self) -> None:
        self.shock = {a: 0.0 for a in self.market.assets}

    @property
    def shock_vector(self) -> np.ndarray:
        return shock_vector(self.market, self._good)

    @T.validate("shock")
    def _check_shock(self, proposal) -> dict:
        """Complete a partial dict from the current moves; refuse bad values with a message.

        Refusing here (by returning the last good value) rather than raising means observers
        only ever see valid, complete shocks, and a bad value typed in code shows a sentence in
        the panel instead of a traceback.
        """
        try:
            vec = shock_vector(self.market, {**self._good, **dict(proposal["value"])})
        except (MarginInputError, TypeError, ValueError) as exc:
            self._show_problem(_ui.readable(exc))
            return dict(self._good)
        self._clear_problem()
        return {a: float(v) for a, v in zip(self.market.assets, vec)}

    def _on_slider(self, change) -> None:
        if not self._syncing:
            self.shock = {a: float(s.value) for a, s in self._sliders.items()}

    def _on_shock(self, change) -> None:
        self._good = dict(change["new"])
        vec = np.array([self._good[a] for a in self.market.assets])
        self.set_trait("shocked_prices", (self.market.prices * (1 + vec)).tolist())
        self._syncing = True
        try:
            for a, s in self._sliders.items():
                s.value = float(np.clip(self._good[a], s.min, s.max))
        finally:
            self._syncing = False
        moved = [f"{a} {_ui.pct(v, 0)}" for a, v in self._good.items() if abs(v) > 1e-9]
        self._set_summary("Price moves: " + (", ".join(moved) if moved else "none") + ".")
