"""Explaining one account's numbers: where its health comes from, and where it ends.

* :func:`pool_contributions` — the cross pool's health split by column (every asset, plus the
  quote cash) and by kind: market value, haircut, weighted collateral, weighted debt, perp PnL,
  maintenance requirement, net contribution (Mango v4's health computation, written out per
  token; Aave's "liquidation threshold" is the asset weight).
* :func:`health_waterfall` — the same, summed into the steps of a waterfall chart:
  ``value - haircut - debt + perp PnL - maintenance = pool health``.
* :func:`position_liquidation_prices` — the liquidation price of every position an account
  holds, owes or trades, one price moving and the others held (:func:`.liquidation_price`),
  with the fractional move from the current price that reaches it.

These are the numbers MarginBreakdown, HealthGauge and PoolingLab name; the components only
draw them (the Mesa rule: the model computes, the view names the measure).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .book import Account
from .limits import liquidation_price
from .margin import MarginReport, margin_report
from .market import Market, resolve_prices

#: Kinds of :func:`pool_contributions`, in the order a table shows them.
CONTRIBUTION_KINDS = ("value", "haircut", "collateral", "debt", "perp_pnl", "maintenance", "net")

#: Steps of :func:`health_waterfall`: each is a signed amount; the last bar is their sum.
WATERFALL_STEPS = ("Collateral value", "Haircut", "Debt (weighted)", "Perp PnL", "Maintenance",
                   "Health")


def pool_contributions(account: Account, report: MarginReport) -> dict:
    """Per-column contributions to the cross pool's health, ``{kind: array}``.

    Parameters
    ----------
    account : Account
        One account (not a book).
    report : MarginReport
        ``margin_report(account, market, prices)`` for that account at one set of prices.

    Returns
    -------
    dict
        For each kind of :data:`CONTRIBUTION_KINDS` an array of ``n_assets + 1`` amounts in the
        quote currency: one per asset, then the quote cash. ``value`` is the market value of
        what is held (>= 0), ``haircut = value - collateral`` (what the venue will not lend
        against), ``collateral`` the weighted collateral, ``debt`` the weighted debt (>= 0),
        ``perp_pnl`` and ``maintenance`` the cross perps' PnL and maintenance requirement, and
        ``net = collateral - debt + perp_pnl - maintenance``, whose sum is the pool health.

    Notes
    -----
    Mango v4 health (``health/cache.rs``): ``sum(asset_weight x value of deposits) - sum(
    liability_weight x value of borrows) + perp PnL - perp maintenance``. Cash is counted at
    weight 1 on both sides, so it is its own column. The perps of an isolated account sit in
    their own buckets, outside the pool: their PnL and maintenance are 0 here.

    Examples
    --------
    10 ETH at 4,000 counted at 90 % (a 4,000 haircut) against a 30,000 USDC loan (weight 1 on
    the example market), a 0.1 BTC long perp (maintenance 1.25 % of 10,000 = 125) and a 10 SOL
    short (2.5 % of 2,000 = 50):

    >>> from widgets.engine import Market, example_account, margin_report
    >>> m = Market.example()
    >>> a = example_account(m)
    >>> c = pool_contributions(a, margin_report(a, m))
    >>> c["haircut"].tolist(), c["maintenance"].tolist()
    ([0.0, 4000.0, 0.0, 0.0, 0.0], [125.0, 0.0, 50.0, 0.0, 0.0])
    >>> float(c["net"].sum())
    5825.0
    """
    b = report.breakdown
    cash = float(account.cash)
    iso = account.mode == "isolated"
    value = np.append(np.maximum(b["value"], 0.0), max(cash, 0.0))
    collateral = np.append(b["collateral"], max(cash, 0.0))
    pnl = np.append(np.zeros_like(b["perp_pnl"]) if iso else b["perp_pnl"], 0.0)
    maintenance = np.append(np.zeros_like(b["maintenance"]) if iso else b["maintenance"], 0.0)
    debt = np.append(b["liabilities"], max(-cash, 0.0))
    out = {"value": value, "haircut": value - collateral, "collateral": collateral,
           "debt": debt, "perp_pnl": pnl, "maintenance": maintenance,
           "net": collateral - debt + pnl - maintenance}
    return {k: np.asarray(v, dtype=float) + 0.0 for k, v in out.items()}   # -0.0 -> 0.0


@dataclass(frozen=True)
class HealthWaterfall:
    """One account's health as a waterfall (see :func:`health_waterfall`).

    Attributes
    ----------
    columns : tuple of str
        The market's assets, then ``"cash"``.
    contributions : dict
        :func:`pool_contributions`, ``{kind: array over columns}``.
    steps : numpy.ndarray, shape (5,)
        Signed amounts of the steps of :data:`WATERFALL_STEPS` but the last: collateral value,
        minus the haircut, minus the weighted debt, the perp PnL, minus the maintenance.
    start, end : numpy.ndarray, shape (6,)
        Level before and after each bar: each step floats from the running total before it to
        the one after it; the last bar goes from 0 to the pool health.
    pool_health : float
        The cross pool's health, ``steps.sum()``.
    health : float
        The account's health (an isolated account: its weakest part).
    report : MarginReport
    """

    columns: tuple
    contributions: dict
    steps: np.ndarray
    start: np.ndarray
    end: np.ndarray
    pool_health: float
    health: float
    report: MarginReport


def health_waterfall(account: Account, market: Market, prices=None) -> HealthWaterfall:
    """Where one account's health comes from, as the steps of a waterfall.

    ``pool health = value - haircut - debt + perp PnL - maintenance`` (sums over the columns of
    :func:`pool_contributions`), evaluated at ``prices`` (default ``market.prices``).

    Parameters
    ----------
    account : Account
    market : Market
    prices : array_like, shape (n_assets,), optional

    Returns
    -------
    HealthWaterfall

    Examples
    --------
    The example account (:func:`~widgets.engine.example_account`) on the example market:
    40,000 of ETH, a 4,000 haircut, 30,000 of debt, no perp PnL, 175 of maintenance:

    >>> from widgets.engine import Market, example_account
    >>> w = health_waterfall(example_account(Market.example()), Market.example())
    >>> w.steps.tolist(), w.pool_health
    ([40000.0, -4000.0, -30000.0, 0.0, -175.0], 5825.0)
    >>> w.start.tolist(), w.end.tolist()
    ([0.0, 40000.0, 36000.0, 6000.0, 6000.0, 0.0], [40000.0, 36000.0, 6000.0, 6000.0, 5825.0, 5825.0])
    """
    P = resolve_prices(market, prices)
    report = margin_report(account, market, P)
    c = pool_contributions(account, report)
    steps = np.array([c["value"].sum(), -c["haircut"].sum(), -c["debt"].sum(),
                      c["perp_pnl"].sum(), -c["maintenance"].sum()]) + 0.0
    end = np.cumsum(steps)
    start = np.concatenate([[0.0], end[:-1]])
    return HealthWaterfall(
        columns=(*market.assets, "cash"), contributions=c, steps=steps,
        start=np.append(start, 0.0) + 0.0, end=np.append(end, end[-1]) + 0.0,
        pool_health=float(report.pool_health), health=float(report.health), report=report)


def position_liquidation_prices(account: Account, market: Market, prices=None) -> dict:
    """Liquidation price of every position, one price moving and the others held.

    Parameters
    ----------
    account : Account
    market : Market
    prices : array_like, shape (n_assets,), optional
        The prices held for the other assets and the starting point (default
        ``market.prices``).

    Returns
    -------
    dict
        ``{asset: (price now, liquidation price, move)}`` for every asset the account holds,
        owes or trades (spot or perp), in market order. The liquidation price is
        :func:`~widgets.engine.liquidation_price` (cross: the pool reaches zero health;
        isolated perp: its bucket); ``move = liquidation price / price now - 1``, the
        fractional move that reaches it. Both are NaN where no price of that asset alone
        liquidates the account.

    Examples
    --------
    10 ETH held against 30,175 of requirement (the example account): ``10 x P x 0.9 =
    30,175`` gives ``P = 3,352.78``, a 16.2 % fall from 4,000:

    >>> from widgets.engine import Market, example_account
    >>> m = Market.example()
    >>> now, lp, move = position_liquidation_prices(example_account(m), m)["ETH"]
    >>> now, round(lp, 2), round(move, 3)
    (4000.0, 3352.78, -0.162)
    """
    P = resolve_prices(market, prices)
    held = (np.asarray(account.holdings) != 0) | (np.asarray(account.perps) != 0)
    out = {}
    for i, (asset, h) in enumerate(zip(market.assets, held)):
        if h:
            lp = float(liquidation_price(account, market, asset, prices=P))
            now = float(P[i])
            out[asset] = (now, lp, lp / now - 1.0 if np.isfinite(lp) else float("nan"))
    return out
