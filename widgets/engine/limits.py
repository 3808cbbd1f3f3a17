"""Limits a venue puts on an account: liquidation prices, free collateral, largest actions.

Liquidation price
-----------------
Hold every price but that of ``asset`` and call it ``x``. The health of the part of the account
that holds the position (a cross account's whole pool; an isolated account's bucket of that
perp) is then piecewise linear in ``x``:

``health(x) = C + (a + q) x - mm(|q| x)``

with ``a`` the weighted spot holding of the asset (``h x asset_weight`` for a holding,
``h x liability_weight`` for a debt, 0 in a bucket), ``q`` the perp size and ``C`` everything
that does not move with ``x`` (other assets' weighted values, cash, other perps' uPnL and
requirements, ``-q x entry``; in a bucket: ``isolated_margin - q x entry``). Inside bracket
``k`` the requirement is ``|q| x maintenance[k] - amount[k]``, so

``health(x) = C + amount[k] + (a + q - |q| maintenance[k]) x``, zero at
``x_k = -(C + amount[k]) / (a + q - |q| maintenance[k])``,

kept when ``x_k`` lies in the bracket's price range ``[floor[k] / |q|, floor[k+1] / |q|)``.
Solving bracket by bracket gives every root; the one nearest the current price is returned
(NaN when there is none: e.g. a long covered by cash never fails at a positive price).

For an isolated position with no spot this is Binance's
``LP = (WB + cum - Side x Pos x EP) / (Pos x MMR - Side x Pos)`` and dYdX's
``p' = (e - s p) / (|s| MMF - s)``; for a cross position, dYdX's
``p' = (e - s p - MMR_o) / (|s| MMF - s)`` and Binance's ``(WB - TMM1 + UPNL1 + cum - Side Pos
EP) / (Pos MMR - Side Pos)`` with ``TMM1``, ``UPNL1`` the other positions' requirement and uPnL.

Free collateral and the largest actions
---------------------------------------
* ``free_collateral``: the pool's init health (Mango v4) ``IWC + uPnL - IWL - IM``. With every
  weight 1 (USDC collateral) it is dYdX's ``equity - initial requirement``.
* ``max_withdrawal``: withdrawing quote cash lowers init health one for one (cash is weighted 1),
  so the largest withdrawal is ``max(free_collateral, 0)``.
* ``max_position``: the largest extra perp size (asset units, opened at the mark price, no fee)
  that keeps init health >= 0: the new notional ``N`` must satisfy ``im(N) <= budget`` with
  ``budget = free_collateral + im(current notional)`` (cross) or ``bucket equity +
  max(free_collateral, 0)`` (isolated: the pool's free collateral moved into the bucket).
  Reducing a position is always allowed (reduce-only), so the opposite side gets at least
  ``|q|``.

References
----------
* Binance USDⓈ-M liquidation price: https://www.binance.com/en/support/faq/b3c689c1f50a44cabb3a84e663b81d93
* dYdX v4 margin and liquidation prices: ``dydxprotocol/v4-documentation:
  docs/pages/concepts/trading/margin.mdx``.
* Hyperliquid liquidation price and margin tiers: https://hyperliquid.gitbook.io/hyperliquid-docs/trading/liquidations ,
  https://hyperliquid.gitbook.io/hyperliquid-docs/trading/margin-tiers
* Mango v4 init and maintenance health: ``blockworks-foundation/mango-docs:
  mango-markets/health-overview.md``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import MarginInputError
from .book import as_book
from .margin import margin_report
from .market import Market, resolve_prices

__all__ = ["liquidation_price", "free_collateral", "max_withdrawal", "max_position", "Limit"]


def _one_price_row(market: Market, prices) -> np.ndarray:
    P = resolve_prices(market, prices)
    if P.ndim != 1:
        raise MarginInputError(
            f"prices must have shape ({market.n_assets},) (one set of prices), got shape {P.shape}")
    return P


def _out(arr, single):
    return float(arr[0]) if single else arr


def liquidation_price(account_or_book, market: Market, asset: str, prices=None):
    """Price of ``asset`` at which the account reaches zero health, every other price held.

    Parameters
    ----------
    account_or_book : Account or Book
    market : Market
    asset : str
        The asset whose price moves.
    prices : array_like, shape (n_assets,), optional
        The prices held for the other assets and the starting point; default ``market.prices``.

    Returns
    -------
    float or numpy.ndarray, shape (n_accounts,)
        The root of the health of the part that holds the position nearest the current price:
        a cross account's pool; an isolated account's bucket in ``asset`` (its pool when it has
        no perp in ``asset``). NaN where health never crosses zero at a positive price.

    Notes
    -----
    Closed form, bracket by bracket (see the module docstring): within a bracket health is
    linear in the price, and a price move can carry the position into another bracket.

    Examples
    --------
    dYdX's isolated example: $1,000 posted, short 3 ETH at 3,000, MMF 5 %:
    ``p' = (1,000 + 9,000) / (3 x 0.05 + 3) = 3,174.60``.

    >>> from widgets.engine import Account, Market
    >>> m = Market(["ETH", "STRK"], [3_000.0, 1.75], maintenance_margin=[0.05, 0.10],
    ...            initial_margin=[0.10, 0.20])
    >>> iso = Account([0, 0], perps=[-3, 0], entry_prices=[3_000, 1.75], mode="isolated",
    ...               isolated_margin=[1_000, 0])
    >>> round(liquidation_price(iso, m, "ETH"), 2)
    3174.6

    dYdX's cross example: $1,000, short 1.5 ETH at 3,000 and long 1,000 STRK at 1.75 (MMF 10 %,
    requirement 175): ``p' = (1,000 + 4,500 - 175) / (1.5 x 0.05 + 1.5) = 3,380.95``.

    >>> cross = Account([0, 0], perps=[-1.5, 1_000], entry_prices=[3_000, 1.75], cash=1_000)
    >>> round(liquidation_price(cross, m, "ETH"), 2)
    3380.95
    """
    book, single = as_book(account_or_book, market)
    j = market.index(asset)
    P = _one_price_row(market, prices)
    rep = margin_report(book, market, P)
    q = book.perps[:, j]
    h = book.holdings[:, j]
    bucket = book.isolated & (q != 0)
    a = np.where(h > 0, h * market.asset_weight[j], h * market.liability_weight[j])
    a = np.where(bucket, 0.0, a)
    q_part = np.where(book.isolated & ~bucket, 0.0, q)        # an isolated pool holds no perp
    absq = np.abs(q_part)
    Pj = P[j]
    req_now = market.requirement_cells(absq * Pj, np.full(absq.size, j), "maintenance")
    # C: the part's health at the current prices minus the terms that move with x.
    pool_c = np.asarray(rep.pool_health, dtype=float).reshape(-1) - (a + q_part) * Pj + req_now
    bucket_c = book.isolated_margin[:, j] - q * book.entry_prices[:, j]
    C = np.where(bucket, bucket_c, pool_c)
    slope_spot = a + q_part
    floor, rate, amount = market._br_floor[j], market._br_mm[j], market._br_amount[j]
    best = np.full(book.n_accounts, np.nan)
    dist = np.full(book.n_accounts, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in range(floor.size):
            if not np.isfinite(floor[k]):
                break
            hi_floor = floor[k + 1] if k + 1 < floor.size else np.inf
            slope = slope_spot - absq * rate[k]
            root = -(C + amount[k]) / slope
            lo = np.where(absq > 0, floor[k] / absq, 0.0 if k == 0 else np.inf)
            hi = np.where(absq > 0, hi_floor / absq, np.inf)
            ok = (slope != 0) & np.isfinite(root) & (root > 0) & (root >= lo) & (root < hi)
            d = np.abs(root - Pj)
            take = ok & (d < dist)
            best = np.where(take, root, best)
            dist = np.where(take, d, dist)
    return _out(best, single)


def free_collateral(account_or_book, market: Market, prices=None):
    """Collateral free for new positions or withdrawals: the pool's init health.

    ``IWC + uPnL - IWL - IM`` (Mango v4 init health); with every weight 1 it is dYdX's
    ``free collateral = equity - initial margin requirement``. Negative means the pool already
    uses more than the venue allows for new risk (it may still be above maintenance).

    Returns a float for an :class:`Account`, shape (n_accounts,) for a :class:`Book` (with
    scenario prices (n_scenarios, n_assets): (n_scenarios, n_accounts)).

    Examples
    --------
    Mango: 1 BTC (init weight 0.8) against an 85,000 USDC debt at 100,000:
    ``0.8 x 100,000 - 85,000 = -5,000`` (maintenance health +5,000 at weight 0.9).

    >>> from widgets.engine import Account, Market
    >>> m = Market.example()
    >>> free_collateral(Account([1, 0, 0, 0], cash=-85_000), m)
    -5000.0
    """
    return margin_report(account_or_book, market, prices).initial_health


@dataclass(frozen=True, eq=False)
class Limit:
    """The largest amount of an action the venue accepts, per account.

    Attributes
    ----------
    amount : float or numpy.ndarray
        Quote currency for a withdrawal, asset units for a position; 0 when refused.
    allowed : bool or numpy.ndarray
        ``amount > 0``.
    reason : str or numpy.ndarray of str
        Why the action is refused, in plain words; ``""`` where it is allowed.
    """

    amount: object
    allowed: object
    reason: object


def _limit(amount, reason, single) -> Limit:
    allowed = amount > 0
    reason = np.where(allowed, "", reason)
    if single:
        return Limit(float(amount[0]), bool(allowed[0]), str(reason[0]))
    return Limit(amount, allowed, reason)


def _refusal(fc) -> np.ndarray:
    words = [f"refused: init health is {x:,.2f}, so the collateral left after the venue's init "
             f"haircuts does not cover the debt and initial margin already in use" for x in fc]
    return np.array(words, dtype=object)


def max_withdrawal(account_or_book, market: Market, prices=None, *, allow_borrow: bool = True):
    """Largest quote-currency withdrawal the venue accepts: ``max(free_collateral, 0)``.

    Cash counts at weight 1 on both sides, so every unit withdrawn lowers init health by one
    unit; the venue accepts a withdrawal that leaves init health >= 0 (Mango v4, dYdX). With
    ``allow_borrow=False`` the withdrawal is also capped at the positive cash balance (venues
    that do not lend the quote currency).

    Returns
    -------
    Limit
        ``amount`` in the quote currency, ``allowed`` and a plain-words ``reason`` per account.

    Examples
    --------
    >>> from widgets.engine import Account, Market
    >>> m = Market.example()
    >>> max_withdrawal(Account([1, 0, 0, 0], cash=-70_000), m).amount   # 80,000 - 70,000
    10000.0
    >>> max_withdrawal(Account([1, 0, 0, 0], cash=-85_000), m).reason[:30]
    'refused: init health is -5,000'
    """
    book, single = as_book(account_or_book, market)
    P = _one_price_row(market, prices)
    fc = np.asarray(free_collateral(book, market, P), dtype=float).reshape(-1)
    amount = np.maximum(fc, 0.0)
    reason = _refusal(fc)
    if not allow_borrow:
        cash = book.cash
        amount = np.minimum(amount, np.maximum(cash, 0.0))
        reason = np.where((fc > 0) & (cash <= 0),
                          "refused: no quote balance to withdraw, and this venue does not lend "
                          "the quote currency", reason)
    return _limit(amount, reason, single)


def _largest_notional(market: Market, j: int, budget: np.ndarray) -> np.ndarray:
    """Largest notional ``N`` with ``initial_requirement(N) <= budget`` (0 where budget < 0).

    The initial requirement ``N x initial[k]`` rises with ``N`` (and steps up at floors), so
    the answer is the largest of the per-bracket answers ``min(budget / initial[k], ceiling)``
    that stay in their bracket.
    """
    floor, rate = market._br_floor[j], market._br_im[j]
    best = np.zeros(budget.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in range(floor.size):
            if not np.isfinite(floor[k]):
                break
            ceiling = floor[k + 1] if k + 1 < floor.size else np.inf
            top = np.nextafter(ceiling, 0.0) if np.isfinite(ceiling) else np.inf
            n_k = np.where(rate[k] > 0, np.minimum(budget / rate[k], top), top)
            ok = (budget >= 0) & (n_k >= floor[k])
            best = np.where(ok, np.maximum(best, n_k), best)
    return best


def max_position(account_or_book, market: Market, asset: str, side, prices=None) -> Limit:
    """Largest extra perp size in ``asset`` on ``side`` the venue accepts (init health >= 0).

    Parameters
    ----------
    account_or_book : Account or Book
    market : Market
    asset : str
    side : {"long", "short"} or {+1, -1}
    prices : array_like, shape (n_assets,), optional

    Returns
    -------
    Limit
        ``amount`` in asset units, opened at the mark price with no fee; the opposite side of
        an open position always gets at least its size (reduce-only is never refused).

    Notes
    -----
    New notional ``N`` must satisfy ``initial_requirement(N) <= budget``, with
    ``budget = free_collateral + initial_requirement(current notional)`` for a cross account and
    ``bucket equity + max(free_collateral, 0)`` for an isolated one. With brackets the initial
    rate of the bracket the *new* notional lands in applies to the whole position (Binance,
    Hyperliquid: max leverage by position notional).

    Examples
    --------
    $1,000 of USDC, BTC at 100,000 with a 2 % initial margin (50x): at most 50,000 of notional,
    0.5 BTC.

    >>> from widgets.engine import Account, Market
    >>> m = Market(["BTC"], [100_000.0], maintenance_margin=0.01, initial_margin=0.02)
    >>> max_position(Account([0.0], cash=1_000.0), m, "BTC", "long").amount
    0.5
    """
    book, single = as_book(account_or_book, market)
    j = market.index(asset)
    if side in ("long", 1, 1.0):
        sgn = 1.0
    elif side in ("short", -1, -1.0):
        sgn = -1.0
    else:
        raise MarginInputError(f"side must be 'long', 'short', +1 or -1, got {side!r}")
    P = _one_price_row(market, prices)
    rep = margin_report(book, market, P)
    fc = np.asarray(rep.initial_health, dtype=float).reshape(-1)
    q = book.perps[:, j]
    Pj = P[j]
    col = np.full(q.size, j)
    im_now = market.requirement_cells(np.abs(q) * Pj, col, "initial")
    iso = book.isolated
    bucket_eq = book.isolated_margin[:, j] + q * (Pj - book.entry_prices[:, j])
    budget = np.where(iso, bucket_eq + np.maximum(fc, 0.0), fc + im_now)
    n_max = _largest_notional(market, j, budget) / Pj           # asset units
    same = q * sgn > 0
    absq = np.abs(q)
    amount = np.where(same, np.maximum(n_max - absq, 0.0), absq + n_max)
    amount = np.where(np.isinf(amount), np.inf, amount)
    words = np.array(
        [f"refused: the initial margin of a larger {asset} position would exceed what the "
         f"account can put up ({b:,.2f} available for it)" if b >= 0 else
         f"refused: init health is {x:,.2f}, so no new risk is allowed until it is back above 0"
         for b, x in zip(budget.tolist(), fc.tolist())], dtype=object)
    return _limit(amount, words, single)
