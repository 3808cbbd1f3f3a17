"""What one liquidation call closed, position by position, and who received its penalties.

:func:`~.liquidation.liquidate` reports, per liquidated pool or isolated bucket, the share
closed, the notional, the penalty and the bad debt (:class:`~.liquidation.LiquidationEvent`).
A table of the call also wants the trades themselves — collateral sold, borrowed assets bought
back, quote debt repaid or written off, perps closed — which are the difference between the
book passed to the call and the book it returned. :func:`closeouts` computes them;
:func:`penalty_split` and :func:`deleveraged` total the call's flows. (Lesson 4; the component
:class:`~widgets.LiquidationTable` only lays these out.)

The conventions follow the engine's books: ``holdings > 0`` are collateral (sold in a
liquidation), ``holdings < 0`` borrowed assets (bought back), ``cash < 0`` quote debt;
``perps`` are signed perpetual positions. Debt that leaves the account without being repaid is
written off as bad debt (paid by the insurance fund or socialized, Aave v3 ``_burnBadDebt``;
dYdX v4 insurance fund).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validate import MarginInputError
from .book import Account, Book
from .liquidation import LiquidationResult

#: Position changes smaller than this (units or quote currency) are rounding, not trades.
TRADE_TOLERANCE = 1e-9


class Closeout(NamedTuple):
    """What one liquidated pool or bucket (one :class:`~.liquidation.LiquidationEvent`) closed.

    Attributes
    ----------
    account : int
    part : str
        ``"pool"`` (the cross pool) or the asset of an isolated bucket.
    sold : dict
        ``{asset: units}`` of collateral sold (pool only).
    bought_back : dict
        ``{asset: units}`` of a borrowed asset bought back (pool only).
    debt_repaid : float
        Quote debt repaid by the sale (pool only), quote currency.
    written_off : float
        Debt written off as bad debt (the event's ``bad_debt``).
    perps_closed : dict
        ``{asset: signed units}`` of perps closed (a long closed is > 0, a short < 0).
    """

    account: int
    part: str
    sold: dict
    bought_back: dict
    debt_repaid: float
    written_off: float
    perps_closed: dict


def closeouts(book, result: LiquidationResult) -> list:
    """One :class:`Closeout` per event of ``result``: the trades the call made.

    Parameters
    ----------
    book : Book or Account
        The book passed to :func:`~.liquidation.liquidate` (before the call).
    result : LiquidationResult

    Returns
    -------
    list of Closeout
        In the order of ``result.events``.

    Notes
    -----
    For the cross pool of account ``a``: ``sold[c] = h_before - h_after`` where the account held
    ``c`` (``h_before > 0``), ``bought_back[c]`` the same where it owed ``c``; the quote debt
    that left the account is ``max(-cash_before, 0) - max(-cash_after, 0)``, of which the
    event's bad debt was written off and the rest repaid. Perps of the pool (not isolated)
    whose size changed were closed. For an isolated bucket, that asset's perp.

    Examples
    --------
    10 ETH at 2,000 against 17,000 of debt (weight 0.825: health -500). Restoring health sells
    2.447 ETH (4,894 USD); the 5 % penalty on the debt repaid (233) comes out of it, so 4,661
    of the debt is repaid:

    >>> from widgets.engine import Market, Account, liquidate
    >>> m = Market(["ETH"], [2_000.0], asset_weight=0.825, liquidation_penalty=0.05)
    >>> acct = Account([10.0], cash=-17_000.0)
    >>> c = closeouts(acct, liquidate(acct, m))[0]
    >>> round(c.sold["ETH"], 3), round(c.debt_repaid), c.written_off
    (2.447, 4661, 0.0)
    >>> c = closeouts(acct, liquidate(acct, m, rules="full"))[0]
    >>> round(c.sold["ETH"], 3), round(c.debt_repaid)
    (10.0, 17000)
    """
    if not isinstance(result, LiquidationResult):
        raise MarginInputError(f"result must be a LiquidationResult, got "
                               f"{type(result).__name__}")
    if isinstance(book, Account):
        book = book.to_book()
    if not isinstance(book, Book):
        raise MarginInputError(f"book must be an Account or a Book, got {type(book).__name__}")
    before = book
    after, assets = result.book, result.assets
    A = result.equity_before.shape[0]
    if before.n_accounts != A or before.n_assets != len(assets):
        raise MarginInputError(
            f"book must be the book passed to liquidate ({A} accounts, {len(assets)} assets), "
            f"got {before.n_accounts} accounts, {before.n_assets} assets")
    out = []
    for e in result.events:
        a = int(e.account)
        sold, bought, repaid = {}, {}, 0.0
        if e.part == "pool":
            dh = before.holdings[a] - after.holdings[a]
            for c in np.flatnonzero(np.abs(dh) > TRADE_TOLERANCE):
                (sold if before.holdings[a, c] > 0 else bought)[assets[c]] = float(abs(dh[c]))
            gone = max(-before.cash[a], 0.0) - max(-after.cash[a], 0.0)
            repaid = max(float(gone) - float(e.bad_debt), 0.0)
            if repaid <= TRADE_TOLERANCE:
                repaid = 0.0
            perps = (~before.isolated[a]) & (np.abs(before.perps[a] - after.perps[a])
                                             > TRADE_TOLERANCE)
        else:
            perps = np.array([x == e.part for x in assets])
        closed = {assets[c]: float(before.perps[a, c] - after.perps[a, c])
                  for c in np.flatnonzero(perps)}
        out.append(Closeout(a, e.part, sold, bought, repaid, float(e.bad_debt), closed))
    return out


def penalty_split(result) -> tuple:
    """The call's penalties by who received them: ``(to the insurance fund, to liquidators)``.

    ``result`` is a :class:`~.liquidation.LiquidationResult` (its ``protocol_fee`` and
    ``liquidator_bonus`` per account, which sum to its ``penalty``). Aave v3 sends ``liquidationProtocolFee`` (10 % of the bonus)
    to the treasury and the rest to the liquidator; dYdX v4 sends the penalty to the fund.

    Examples
    --------
    Aave's 5 % bonus on 8,500 of debt repaid is 425: 42.50 to the protocol, 382.50 to the
    liquidator.

    >>> from widgets.engine import Market, Account, LiquidationRules, liquidate
    >>> m = Market(["ETH"], [2_000.0], asset_weight=0.825, liquidation_penalty=0.05)
    >>> res = liquidate(Account([10.0], cash=-17_000.0), m, rules=LiquidationRules.aave())
    >>> [round(x, 2) for x in penalty_split(res)]
    [42.5, 382.5]
    """
    return float(np.sum(result.protocol_fee)), float(np.sum(result.liquidator_bonus))


def deleveraged(result) -> np.ndarray:
    """Accounts that give up profit to cover socialized bad debt, the largest amount first.

    ``result`` is a :class:`~.liquidation.LiquidationResult` or a
    :class:`~.cascade.CascadeResult` (its ``socialized_by_account``); ties go to the lower
    account index. Empty when nothing was socialized.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> deleveraged(SimpleNamespace(socialized_by_account=np.array([0.0, 5.0, 0.0, 9.0, 5.0])))
    array([3, 1, 4])
    """
    given = getattr(result, "socialized_by_account", None)
    if given is None:
        return np.zeros(0, dtype=np.int64)
    given = np.asarray(given, dtype=float)
    idx = np.flatnonzero(given > 0)
    return idx[np.lexsort((idx, -given[idx]))]
