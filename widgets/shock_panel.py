"""ShockPanel: one labelled slider per asset (price move, %), a crisis preset and a reset.

Also :func:`complete_moves` (a partial ``{asset: move}`` completed and checked by the engine),
which every account component uses for its ``shock`` input. The ``{asset: number}`` trait is
:class:`widgets._ui.AssetDict`; one slider per key is the base's binding with ``key=``
(:meth:`widgets._ui.Component._bind`).
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import traitlets as T

from . import _ui
from .engine import MarginInputError, Market, crisis_shock, shock_vector

__all__ = ["ShockPanel", "complete_moves",
           "crisis_shock"]      # crisis_shock: the engine's, re-exported for old imports

#: Largest price move a learner may set: +1,000 % (nothing a market does in a day; the engine's
#: own rule is only "> -100 %", and far larger moves overflow the numbers).
MOVE_MAX = 10.0
_SLIDER_RANGE = (-0.9, 0.9)


def complete_moves(market: Market, current: dict, given: dict, name: str = "shock") -> dict:
    """``given`` (a partial ``{asset: move}``) over ``current``, checked by the engine.

    Every move must be a finite number in (-1, :data:`MOVE_MAX`] for an asset of ``market``
    (:func:`~widgets.engine.shock_vector`); a refusal raises ``TraitError`` with the engine's
    message, which the component base shows in the widget.
    """
    _ui.numbers_only(name, given)
    try:
        vec = shock_vector(market, {**current, **given})
    except (MarginInputError, TypeError, ValueError, OverflowError) as exc:
        raise T.TraitError(str(exc)) from None
    big = [a for a, v in zip(market.assets, vec) if v > MOVE_MAX]
    if big:
        raise T.TraitError(f"{name}[{big[0]}] must be at most {MOVE_MAX:g} (+{MOVE_MAX:.0%}), "
                           f"got {float(vec[market.index(big[0])]):g}")
    return {a: float(v) for a, v in zip(market.assets, vec)}


class ShockPanel(_ui.Component):
    """Price shocks per asset, as fractions (-0.2 is a 20 % fall).

    Parameters
    ----------
    market : Market, default ``Market.example()``
    shock : dict {asset: move}, optional
        The starting moves (a bad value leaves every move at 0 and says why).

    Attributes
    ----------
    market : Market
        The prices the moves apply to; a new one must list the same assets.
    shock : dict
        ``{asset: fractional move}``, every asset present, each in (-1, 10]. Assigning a
        partial dict changes only the assets it names.
    shocked_prices : list of float (read-only)
        Prices after the shock, in market order.
    problem, summary : str (read-only)
        Message for bad input; the live text summary.

    Examples
    --------
    >>> panel = ShockPanel()
    >>> panel.shock = {"BTC": -0.1}
    >>> round(panel.shocked_prices[0]), panel.shock["ETH"]
    (90000, 0.0)
    """

    market = _ui.EngineInstance(Market, help="The prices the moves apply to (engine Market).")
    shock = _ui.AssetDict(help="{asset: fractional price move}, each in (-1, 10]; a partial dict "
                           "changes only the assets it names.")
    shocked_prices = T.List(T.Float(), read_only=True,
                            help="Prices after the shock, in market order.")
    _state_traits = ("shock",)

    def __init__(self, market: Market | None = None, **kwargs):
        given = {k: kwargs.pop(k) for k in self._state_traits if k in kwargs}
        market = _ui.engine_argument("market", market, Market, Market.example)
        self._assets = tuple(market.assets)
        self._sliders = {
            a: _ui.slider(f"{a} price move", 0.0, *_SLIDER_RANGE, 0.01,
                          tooltip=f"Move the {a} price by this percentage")
            for a in market.assets}
        crisis = W.Button(description="Crisis preset", icon="bolt",
                          tooltip="Apply a crisis: every volatile asset falls ~7 sigma")
        reset = W.Button(description="Reset", icon="undo", tooltip="All moves back to 0")
        crisis.on_click(lambda _: self.apply_crisis())
        reset.on_click(lambda _: self.reset())
        super().__init__(children=[*self._sliders.values(), W.HBox([crisis, reset]),
                                   self._problem_box, self._summary_box], **kwargs)
        with self._silently():
            self.market = market
            self.shock = {}                                 # every asset at 0
        self._compute()
        self._show()
        for a, s in self._sliders.items():
            self._bind("shock", s, key=a)
        self._expose(controls={"crisis": crisis, "reset": reset})
        self.observe(self._on_input, names=["shock", "market"])
        self._apply_inputs(given)

    def apply_crisis(self) -> None:
        """Every asset moves by :func:`~widgets.engine.crisis_shock` (about 7 sigma down)."""
        self.shock = crisis_shock(self.market)

    def reset(self) -> None:
        """Every move back to 0."""
        self.shock = {a: 0.0 for a in self.market.assets}

    @property
    def shock_vector(self) -> np.ndarray:
        """The moves as an array in market order."""
        return shock_vector(self.market, self.shock)

    @T.validate("shock")
    def _check_shock(self, proposal) -> dict:
        return complete_moves(self.market, self.shock, proposal["value"])

    def _compute(self) -> None:
        if tuple(self.market.assets) != self._assets:
            raise MarginInputError(f"market must have the assets this panel was built with "
                                   f"({', '.join(self._assets)}); build a new ShockPanel for "
                                   f"another asset list")
        self._prices = self.market.shocked(self.shock).prices

    def _show(self) -> None:
        self.set_trait("shocked_prices", [float(p) for p in self._prices])
        moved = [f"{a} {_ui.pct(v, 0)}" for a, v in self.shock.items() if abs(v) > 1e-9]
        self._set_summary("Price moves: " + (", ".join(moved) if moved else "none") + ".")
