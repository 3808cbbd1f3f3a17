"""Base of the one-account views (HealthGauge, MarginBreakdown): ``account``, ``market`` and
``shock``, with an inner :class:`ShockPanel` kept equal to ``shock`` both ways.

The ``{asset: number}`` trait is :class:`~widgets._ui.AssetDict`; the shock is completed and
checked by :func:`~widgets.shock_panel.complete_moves`.
"""
from __future__ import annotations

import numpy as np
import traitlets as T

from . import _ui
from .engine import Account, MarginInputError, Market, example_account
from .shock_panel import ShockPanel, complete_moves


def nice_ceiling(x: float) -> float:
    """Smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k that is >= ``x`` (a round axis limit).

    >>> nice_ceiling(36_000.0), nice_ceiling(50_000.0), nice_ceiling(-3.0)
    (40000.0, 50000.0, 1.0)
    """
    if not np.isfinite(x) or x <= 0:
        return 1.0
    e = 10.0 ** np.floor(np.log10(x))
    steps = (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)
    return float(next(m * e for m in steps if m * e >= x * (1 - 1e-12)))


class AccountView(_ui.Component):
    """One account at shocked prices: the base of HealthGauge and MarginBreakdown.

    ``account`` and ``market`` are arguments (a wrong one raises at construction, as the
    engine does; assigned later in a cell, it is held as a message); ``shock`` is the input
    (a partial dict changes only the assets it names). The inner :class:`ShockPanel` shows
    ``shock`` and sets it. Subclasses implement ``_evaluate(account, market, prices)`` (engine
    calls only) and ``_draw(result, rescale)`` (marks, outputs, summary).

    Attributes
    ----------
    account : Account
        The account shown (engine :class:`~widgets.engine.Account`).
    market : Market
        The venue's rulebook and prices; a new one must list the same assets.
    shock : dict
        ``{asset: fractional price move}``, every asset present; each move in (-1, 10].
    """

    account = _ui.EngineInstance(Account, help="The account shown (engine Account).")
    market = _ui.EngineInstance(Market, help="The venue's rulebook and prices (engine Market); a new "
                                     "one must list the same assets.")
    shock = _ui.AssetDict(help="{asset: fractional price move}, each in (-1, 10]; a partial dict "
                           "changes only the assets it names (as in ShockPanel).")
    _state_traits = ("shock",)

    def __init__(self, account: Account | None = None, market: Market | None = None,
                 **kwargs):
        given = {k: kwargs.pop(k) for k in self._state_traits if k in kwargs}
        market = _ui.engine_argument("market", market, Market, Market.example)
        account = _ui.engine_argument("account", account, Account,
                                      lambda: example_account(market))
        self._assets = tuple(market.assets)
        self._scaled_for = None
        self._panel = ShockPanel(market)
        super().__init__(children=self._build(market), **kwargs)
        with self._silently():
            self.account, self.market = account, market
            self.shock = {}                                # every asset at 0
        self._compute()                 # a bad account or market raises MarginInputError here
        self._show()
        self._expose(controls=self._panel.controls)
        self.observe(self._on_input, names=["account", "market", "shock"])
        self._panel.observe(self._on_panel, names="shock")
        self._apply_inputs(given)

    @T.validate("shock")
    def _check_shock(self, proposal) -> dict:
        return complete_moves(self.market, self.shock, proposal["value"])

    def _on_panel(self, change) -> None:
        if not self._silenced:
            self.shock = dict(self._panel.shock)

    def _compute(self) -> None:
        account, market = self.account, self.market
        if tuple(market.assets) != self._assets:
            raise MarginInputError(
                f"market must have the assets this view was built with "
                f"({', '.join(self._assets)}), got {_ui.clip(', '.join(market.assets), 80)}; "
                f"build a new {type(self).__name__}(account, market) for another asset list")
        if account.n_assets != market.n_assets:
            raise MarginInputError(
                f"account must have one entry per market asset ({market.n_assets}: "
                f"{', '.join(market.assets)}), got {account.n_assets}")
        prices = market.shocked(self.shock).prices
        self._rescale = self._scaled_for is None or self._scaled_for[0] is not account \
            or self._scaled_for[1] is not market
        self._result = self._evaluate(account, market, prices)

    def _show(self) -> None:
        self._draw(self._result, self._rescale)
        self._scaled_for = (self.account, self.market)
        self._sync_extra()

    def _sync_extra(self) -> None:
        """The panel shows this view's market and shock (it may have refused or moved)."""
        with self._silently():
            if self._panel.market is not self.market:
                self._panel.market = self.market
            if self._panel.shock != self.shock:
                self._panel.shock = dict(self.shock)

    # -- subclass hooks -----------------------------------------------------------------------
    def _build(self, market: Market) -> list:
        raise NotImplementedError

    def _evaluate(self, account: Account, market: Market, prices: np.ndarray):
        raise NotImplementedError

    def _draw(self, result, rescale: bool) -> None:
        raise NotImplementedError
