"""Teaching scenarios: the example accounts, shocks and depth multiples the labs start from.

Each is built from a :class:`~widgets.engine.Market` and its cited parameters (see
:meth:`Market.example`), so the numbers a lesson quotes come from the engine, and a component
only names them (the Mesa rule: the model computes, the view shows).
"""
from __future__ import annotations

import numpy as np

from ._validate import as_float_array, check_range
from .book import Account
from .market import Market

#: PoolingLab's starting book: a BTC and an ETH long against a SOL short, margined together
#: (cross) or one bucket each (isolated). About 220,000 USD of BTC, 200,000 of ETH and 100,000
#: of SOL on :meth:`Market.example`.
POOLING_POSITIONS = {"BTC": 2.0, "ETH": 50.0, "SOL": -500.0}

#: The depth multiple the cascade labs start from: 30x :meth:`Market.example`'s depth, deep
#: enough that a calm book's forced sales move prices by a few tenths of a percent.
CASCADE_DEPTH = 30.0


def volatile_shock(market: Market, move: float) -> dict:
    """The same price move for every volatile asset; stablecoins stay at their peg.

    Parameters
    ----------
    market : Market
    move : float
        Fractional price move, > -1 (-0.05 is a 5 % fall).

    Returns
    -------
    dict
        ``{asset: move}`` for :attr:`Market.volatile_assets`, ``{asset: 0.0}`` for the
        stablecoins (:attr:`Market.is_stablecoin`).

    Examples
    --------
    >>> volatile_shock(Market.example(), -0.05)
    {'BTC': -0.05, 'ETH': -0.05, 'SOL': -0.05, 'USDC': 0.0}
    """
    m = as_float_array("shock", move)
    check_range("shock", m, -1.0, None, low_open=True)
    return {a: (0.0 if stable else float(m)) for a, stable in zip(market.assets,
                                                                    market.is_stablecoin)}


def crisis_shock(market: Market) -> dict:
    """A crisis scaled to each asset's volatility: about a 7-sigma daily move down.

    ``move = -min(7 σ, 0.9)`` for a volatile asset and ``-2 %`` (a lost peg) for a stablecoin,
    rounded to whole percent. On :meth:`Market.example`: BTC (3 % daily) -21 %, ETH (4 %)
    -28 %, SOL (5 %) -35 %, USDC -2 %. Of the order of 12 March 2020 (ETH fell by more than
    half intraday) and 10 October 2025 (BTC -13 %, SOL -26 % in hours).

    Examples
    --------
    >>> crisis_shock(Market.example())
    {'BTC': -0.21, 'ETH': -0.28, 'SOL': -0.35, 'USDC': -0.02}
    """
    move = np.where(market.is_stablecoin, -0.02, -np.minimum(7.0 * market.volatility, 0.9))
    return {a: round(float(m), 2) for a, m in zip(market.assets, move)}


def deeper(market: Market, multiple: float) -> Market:
    """``market`` with every asset's order-book depth multiplied by ``multiple`` (> 0).

    Examples
    --------
    >>> float(deeper(Market.example(), 30.0).depth[0])
    6000000000.0
    """
    m = as_float_array("depth", multiple)
    check_range("depth", m, 0.0, None, low_open=True)
    check_range("depth", m, None, 1e9)
    return market.replace(depth=market.depth * float(m))


def example_account(market: Market) -> Account:
    """10 ETH against a 30,000 USDC loan, a 0.1 BTC long perp and a 10 SOL short (cross).

    On :meth:`Market.example`: health 5,825 USD, health factor 1.19, margin ratio 83.8 %; an
    ETH fall of about 17 % makes it liquidatable (so does a BTC fall of about 59 %: the pool is
    shared). Every price matters: ETH backs the loan, USDC is the loan, the BTC perp loses when
    BTC falls and the SOL short loses when SOL rises. Assets missing from ``market`` are left out.

    Examples
    --------
    >>> from widgets.engine import margin_report
    >>> round(float(margin_report(example_account(Market.example()), Market.example()).health))
    5825
    """
    def pick(d):
        return {a: v for a, v in d.items() if a in market.assets}

    return Account.from_positions(market, holdings=pick({"ETH": 10.0, "USDC": -30_000.0}),
                                  perps=pick({"BTC": 0.1, "SOL": -10.0}))


def diversified_account(market: Market, notional: float = 50_000.0,
                        cash: float = 10_000.0) -> Account:
    """A diversified long book: ``notional`` of perps on each volatile asset, plus ``cash``.

    CorrelationLab's default account: its liquidation probability depends on how the volatile
    assets move together.

    Examples
    --------
    >>> a = diversified_account(Market.example())
    >>> [round(float(q), 3) for q in a.perps]
    [0.5, 12.5, 250.0, 0.0]
    """
    return Account.from_positions(market, cash=cash, perps={
        a: notional / p for a, p, stable in zip(market.assets, market.prices,
                                                 market.is_stablecoin) if not stable})
