"""Shared base of the one-account views (HealthGauge, MarginBreakdown).

Both take ``account``, ``market`` and ``shock`` and include a :class:`ShockPanel` whose ``shock``
is kept equal to theirs (both ways; ``traitlets.link`` is not used because the panel reverts bad
values inside its observer, which a link reports as a broken link). Subclasses implement
``_compute(account, market, shocked, rescale)`` (engine calls only; may raise
``MarginInputError``) and ``_draw(result, rescale)`` (marks, outputs, summary).
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import traitlets as T

from . import _ui
from .engine import Account, MarginInputError, Market
from .engine.market import shock_vector
from .shock_panel import ShockPanel


def example_account(market: Market) -> Account:
    """10 ETH against a 30,000 USDC loan, a 0.1 BTC long perp and a 10 SOL short (cross margin).

    On ``Market.example()``: health $5,825, health factor 1.19, margin ratio 83.8 %; an ETH fall
    of about 17 % makes it liquidatable (so does a BTC fall of about 59 % — the pool is shared).
    Every price matters: ETH backs the loan, USDC is the loan, the BTC perp loses when BTC falls
    and the SOL short loses when SOL rises. Assets missing from ``market`` are left out.
    """
    pick = lambda d: {a: v for a, v in d.items() if a in market.assets}  # noqa: E731
    return Account.from_positions(market, holdings=pick({"ETH": 10.0, "USDC": -30_000.0}),
                                  perps=pick({"BTC": 0.1, "SOL": -10.0}))


def nice_ceiling(x: float) -> float:
    """Smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k that is >= ``x`` (a round axis limit).

    1 for ``x <= 0``. Examples: 36,000 -> 40,000; 50,000 -> 50,000.
    """
    if not np.isfinite(x) or x <= 0:
        return 1.0
    e = 10.0 ** np.floor(np.log10(x))
    steps = (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)
    return float(next(m * e for m in steps if m * e >= x * (1 - 1e-12)))


class AccountView(_ui.Component):
    """One account at shocked prices. Inputs ``account``, ``market``, ``shock``."""

    account = T.Instance(Account, help="The account shown (engine Account).")
    market = T.Instance(Market, help="The venue's rulebook and prices (engine Market).")
    shock = T.Dict(help="{asset: fractional price move}; a partial dict changes only the assets "
                        "it names (as in ShockPanel).")
    _state_traits = ("shock",)

    def __init__(self, account: Account | None = None, market: Market | None = None,
                 shock: dict | None = None, **kwargs):
        market = Market.example() if market is None else market
        account = example_account(market) if account is None else account
        self._syncing = False
        self._good = None
        self._panel = ShockPanel(market)
        super().__init__(children=self._build(market), **kwargs)
        with self._quiet():
            self.account, self.market, self.shock = account, market, dict(shock or {})
        self._apply()                       # bad constructor arguments raise MarginInputError
        self.observe(self._on_input, names=["account", "market", "shock"])
        self._panel.observe(self._on_panel, names="shock")

    @contextmanager
    def _quiet(self):
        self._syncing, before = True, self._syncing
        try:
            yield
        finally:
            self._syncing = before

    def _on_panel(self, change) -> None:
        if not self._syncing:
            self.shock = dict(change["new"])

    def _on_input(self, change) -> None:
        if self._syncing:
            return

        def revert():
            with self._quiet():
                self.account, self.market, self.shock = self._good

        self._guard(self._apply, revert)

    def _apply(self) -> None:
        account, market = self.account, self.market
        if self._good is not None and market.assets != self._panel.market.assets:
            raise MarginInputError(
                f"market must have the assets this view was built with "
                f"({', '.join(self._panel.market.assets)}), got {', '.join(market.assets)}; "
                f"build a new {type(self).__name__}(account, market) for another asset list")
        if account.n_assets != market.n_assets:
            raise MarginInputError(
                f"account must have one entry per market asset ({market.n_assets}: "
                f"{', '.join(market.assets)}), got {account.n_assets}")
        before = self._good[2] if self._good is not None else {}
        vec = shock_vector(market, {**before, **dict(self.shock)})   # partial: others keep moves
        rescale = self._good is None or account is not self._good[0] or market is not self._good[1]
        result = self._compute(account, market, market.shocked(vec), rescale)
        good_shock = {a: float(v) for a, v in zip(market.assets, vec)}
        self._good = (account, market, good_shock)   # all checks passed: commit and draw
        self._draw(result, rescale)
        with self._quiet():
            self._panel.market = market
            self._panel.shock = dict(good_shock)
            if dict(self.shock) != good_shock:
                self.shock = dict(good_shock)

    # -- subclass hooks -----------------------------------------------------------------------
    def _build(self, market: Market) -> list:
        raise NotImplementedError

    def _compute(self, account: Account, market: Market, shocked: Market, rescale: bool):
        raise NotImplementedError

    def _draw(self, result, rescale: bool) -> None:
        raise NotImplementedError
