"""Cross vs isolated margin for the same positions: the isolated twin, capital, what fails.

The same perps can be margined two ways (see :mod:`.book`):

* **cross** — one pool: holdings, cash and every perp back each other; a loss on one perp is
  covered by the cash and by the gains of the others. When the pool fails, the whole pool is at
  stake.
* **isolated** — each perp has its own bucket holding the margin posted to it; nothing else backs
  it. When a bucket fails, only that bucket is at stake.

With the same positions and the same total collateral, pooling fails less often: whenever the
cross pool is liquidatable, at least one isolated bucket (or the isolated pool) is too, because
the cross health is the sum of the isolated parts' healths (``sum(parts) < 0`` needs one part
``< 0``). But a cross failure takes everything, an isolated failure only the failing bucket.

Capital efficiency: to pass the *initial* margin check, a cross account needs
``max(0, IM - WC - uPnL + WL)`` of quote collateral for the whole pool, while an isolated account
needs ``max(0, IM_k - uPnL_k)`` in every bucket ``k`` separately (a bucket's gains cannot fund
another bucket) plus the pool's own need, so ``cross <= isolated`` always
(``max(0, a + b) <= max(0, a) + max(0, b)``). With every perp at its entry price and no spot
holdings the two are equal; the gap opens as soon as positions carry profits and losses of
opposite signs.

References
----------
* Binance, "What is the difference between cross margin and isolated margin" and the USDⓈ-M
  liquidation-price FAQ (isolated: ``TMM1 = UPNL1 = 0``, only the position's own wallet):
  https://binance.com/en/support/faq/25edcd7fe0e544839d0847b8cbb2e400 (domain.md §2.1).
* Hyperliquid, "Liquidations" (cross: account equity vs the sum of maintenance margins;
  isolated: per position, ``margin_available = isolated_margin - maintenance_margin``):
  https://hyperliquid.gitbook.io/hyperliquid-docs/trading/liquidations (domain.md §5).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import MarginInputError, check_range
from .book import Account, Book, as_book
from .liquidation import LiquidationResult, liquidate
from .margin import MarginReport, margin_report
from .market import Market, resolve_prices

_TOL = 1e-9


def _one_row_prices(market: Market, prices) -> np.ndarray:
    P = resolve_prices(market, prices)
    if P.ndim != 1:
        raise MarginInputError(f"prices must have shape ({market.n_assets},), got shape {P.shape}")
    return P


def proportional_split(account: Account, market: Market, prices=None) -> dict:
    """Shares of collateral per perp, proportional to each perp's initial margin at ``prices``.

    Returns ``{asset: share}`` over the open perps, summing to 1 (``{}`` with no perp open).

    Examples
    --------
    Long 1 BTC (IM 2.5 % x 100,000 = 2,500) and short 25 ETH (IM 4 % x 100,000 = 4,000):

    >>> m = Market.example()
    >>> a = Account.from_positions(m, perps={"BTC": 1, "ETH": -25})
    >>> {k: round(v, 4) for k, v in proportional_split(a, m).items()}
    {'BTC': 0.3846, 'ETH': 0.6154}
    """
    account.to_book().check_market(market)
    P = _one_row_prices(market, prices)
    im = np.abs(account.perps) * P * market.initial_margin
    total = float(im.sum())
    open_ = np.flatnonzero(account.perps != 0)
    if total <= 0:                      # no perp, or margins of 0: split evenly among the open
        return {market.assets[i]: 1.0 / open_.size for i in open_}
    return {market.assets[i]: float(im[i] / total) for i in open_}


def isolated_twin(account: Account, market: Market, split=None) -> Account:
    """The same positions in isolated mode, the cross cash split into bucket margins.

    Parameters
    ----------
    account : Account
        A cross account (``mode="cross"``); its ``cash`` is the collateral to split.
    market : Market
    split : dict {asset: share} or array_like, shape (n_assets,), optional
        Share of ``cash`` posted to each perp's bucket, each >= 0, summing to <= 1; the rest
        stays in the pool. A share for an asset with no open perp stays in the pool too (there
        is no bucket to post to). Default: :func:`proportional_split` (all cash posted).

    Returns
    -------
    Account
        ``mode="isolated"``, same holdings, perps and entry prices,
        ``isolated_margin = share x cash`` and ``cash = cash - sum(isolated_margin)``.

    Raises
    ------
    MarginInputError
        Not a cross account; unknown asset, NaN, negative share or shares summing to > 1;
        margin posted from a negative cash balance (a quote debt cannot be posted).

    Examples
    --------
    20,000 of cash, a quarter posted to BTC, half to ETH, a quarter left in the pool:

    >>> m = Market.example()
    >>> a = Account.from_positions(m, perps={"BTC": 1, "ETH": -25}, cash=20_000)
    >>> t = isolated_twin(a, m, {"BTC": 0.25, "ETH": 0.5})
    >>> t.mode, t.isolated_margin.tolist(), t.cash
    ('isolated', [5000.0, 10000.0, 0.0, 0.0], 5000.0)
    """
    if not isinstance(account, Account):
        raise MarginInputError(f"account must be an Account, got {type(account).__name__}")
    if account.mode != "cross":
        raise MarginInputError(f"account must be in cross mode, got {account.mode!r}")
    account.to_book().check_market(market)
    if split is None:
        split = proportional_split(account, market)
    shares = market.per_asset("split", split)
    check_range("split", shares, 0.0, None, names=market.assets)
    if shares.sum() > 1.0 + _TOL:
        raise MarginInputError(f"split must sum to at most 1, got {float(shares.sum()):.4g}")
    shares = np.where(account.perps != 0, shares, 0.0)
    if account.cash < 0 and shares.any():
        raise MarginInputError(
            f"cash must be >= 0 to post isolated margin, got {float(account.cash)}")
    margin = shares * account.cash
    # Posting all the cash must leave exactly 0 in the pool: a rounding residual of -1e-12
    # would be a quote debt with no collateral, i.e. a pool that is "liquidatable".
    left = account.cash - float(margin.sum())
    if abs(left) <= 1e-9 * max(abs(account.cash), 1.0):
        left = 0.0
    return account.replace(mode="isolated", isolated_margin=margin,
                           cash=left)


def capital_required(account_or_book, market: Market, prices=None, mode=None):
    """Minimum quote collateral for the positions to pass the initial margin check.

    The account's ``cash`` (and any isolated margin) is ignored and replaced by the unknown
    collateral; holdings, perps and entry prices are kept.

    Parameters
    ----------
    account_or_book : Account or Book
    market : Market
    prices : array_like, shape (n_assets,), optional
        Prices to check at; default ``market.prices``.
    mode : {"cross", "isolated"}, optional
        Margin mode to price; default each account's own mode.

    Returns
    -------
    float (Account) or ndarray, shape (n_accounts,) (Book)
        Quote currency, >= 0.

    Notes
    -----
    With ``IH_pool`` the pool's initial health at zero cash (:class:`MarginReport`
    ``initial_health``), ``IM_k = |q_k| P_k im_k`` and ``uPnL_k = q_k (P_k - EP_k)``:

    * cross: ``max(0, -IH_pool)``, where the pool holds every perp (gains offset losses);
    * isolated: ``max(0, -IH_pool) + sum_k max(0, IM_k - uPnL_k)``, the pool holding only
      holdings; each bucket is funded on its own.

    Examples
    --------
    Long 1 BTC entered at 100,000, now 110,000 (uPnL +10,000, IM 2.5 % = 2,750); long 25 ETH
    entered at 4,000, now 3,600 (uPnL -10,000, IM 4 % x 90,000 = 3,600). Cross: the BTC gain
    pays the ETH loss, ``2,750 + 3,600 - 0 = 6,350``. Isolated: the BTC bucket needs nothing,
    the ETH bucket ``3,600 + 10,000 = 13,600``:

    >>> m = Market.example()
    >>> a = Account.from_positions(m, perps={"BTC": 1, "ETH": 25})
    >>> now = [110_000.0, 3_600.0, 200.0, 1.0]
    >>> capital_required(a, m, now), capital_required(a, m, now, mode="isolated")
    (6350.0, 13600.0)
    """
    book, single = as_book(account_or_book, market)
    P = _one_row_prices(market, prices)
    if mode is None:
        iso = book.isolated
    elif mode in ("cross", "isolated"):
        iso = np.full(book.n_accounts, mode == "isolated")
    else:
        raise MarginInputError(f"mode must be 'cross', 'isolated' or None, got {mode!r}")
    bare = Book(holdings=book.holdings, perps=book.perps, entry_prices=book.entry_prices,
                mode=np.where(iso, "isolated", "cross").tolist())
    rep = margin_report(bare, market, P)
    q, ep = book.perps, book.entry_prices
    bucket_need = np.maximum(np.abs(q) * P * market.initial_margin - q * (P - ep), 0.0)
    need = np.maximum(-rep.initial_health, 0.0) + np.where(iso[:, None], bucket_need, 0.0).sum(1)
    need = need + 0.0                                   # no -0.0
    return float(need[0]) if single else need


def _part_equity(book: Book, P: np.ndarray):
    """Equity of every pool (A,) and isolated bucket (A, n) at ``P``; buckets are 0 for cross."""
    cross_q = np.where(book.isolated[:, None], 0.0, book.perps)
    pool = (book.holdings * P).sum(1) + book.cash + (cross_q * (P - book.entry_prices)).sum(1)
    bucket = np.where(book.isolated[:, None],
                      book.isolated_margin + book.perps * (P - book.entry_prices), 0.0)
    return pool, bucket


@dataclass(frozen=True, eq=False)
class PoolingComparison:
    """One account margined cross and isolated, at the same prices. Index 0 cross, 1 isolated.

    Attributes
    ----------
    book : Book
        Two rows: the cross account and its :func:`isolated_twin`.
    report : MarginReport
        :func:`margin_report` of ``book`` at ``prices``.
    liquidation : LiquidationResult
        :func:`liquidate` of ``book`` at ``prices`` (full liquidation, empty fund).
    liquidatable : ndarray of bool, shape (2,)
    pool_health : ndarray, shape (2,)
        Maintenance health of each pool (the isolated pool holds only holdings and cash).
    bucket_health : ndarray, shape (n_assets,)
        Isolated buckets' maintenance health; NaN where no perp is open.
    failed_buckets : tuple of str
        Assets whose isolated bucket has negative health.
    equity_start, equity_after : ndarray, shape (2,)
        Account equity at ``reference_prices``, and after liquidation at ``prices``.
    loss : ndarray, shape (2,)
        Collateral lost to liquidation: for every liquidated pool or bucket, its equity at
        ``reference_prices`` minus what liquidation leaves in it. Surviving parts lose nothing
        (their unrealized P&L is not taken).
    capital_required : ndarray, shape (2,)
        :func:`capital_required` at ``prices`` in cross and in isolated mode.
    """

    book: Book
    report: MarginReport
    liquidation: LiquidationResult
    liquidatable: np.ndarray
    pool_health: np.ndarray
    bucket_health: np.ndarray
    failed_buckets: tuple
    equity_start: np.ndarray
    equity_after: np.ndarray
    loss: np.ndarray
    capital_required: np.ndarray

    @property
    def loss_share(self) -> np.ndarray:
        """``loss / equity_start`` per mode (cross, isolated): the share of the starting
        equity liquidation took; NaN where the account started with no equity."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.equity_start > 0, self.loss / self.equity_start, np.nan)


def compare_pooling(account: Account, market: Market, prices=None, split=None,
                    reference_prices=None) -> PoolingComparison:
    """Margin the same positions cross and isolated, then liquidate both at ``prices``.

    Parameters
    ----------
    account : Account
        A cross account; its cash is the collateral (see :func:`isolated_twin`).
    market : Market
    prices : array_like, shape (n_assets,), optional
        Prices after the move (default ``market.prices``).
    split : dict or array_like, optional
        Bucket shares for the isolated twin (default :func:`proportional_split`).
    reference_prices : array_like, shape (n_assets,), optional
        Prices before the move, for ``equity_start`` and ``loss`` (default ``market.prices``).

    Returns
    -------
    PoolingComparison

    Examples
    --------
    Long 1 BTC and short 500 SOL with 12,000 of cash; isolated posts 4,000 to BTC and 8,000 to
    SOL. SOL rallies 7.5 % to 215 (the short loses 7,500). The SOL bucket has 8,000 - 7,500 =
    500 < MM 2.5 % x 107,500 = 2,687.5: it fails and loses its 8,000. The cross pool has
    12,000 - 7,500 - MM (1,250 + 2,687.5) = 562.5 >= 0: it survives and loses nothing:

    >>> m = Market.example()
    >>> a = Account.from_positions(m, perps={"BTC": 1, "SOL": -500}, cash=12_000)
    >>> c = compare_pooling(a, m, prices=[100_000.0, 4_000.0, 215.0, 1.0],
    ...                     split={"BTC": 1 / 3, "SOL": 2 / 3})
    >>> c.liquidatable.tolist(), c.failed_buckets, c.loss.round().tolist()
    ([False, True], ('SOL',), [0.0, 8000.0])
    >>> float(c.pool_health[0])
    562.5
    """
    twin = isolated_twin(account, market, split)
    book = Book.from_accounts([account, twin])
    P = _one_row_prices(market, prices)
    P0 = _one_row_prices(market, reference_prices)
    report = margin_report(book, market, P)
    liq = liquidate(book, market, P)
    pool0, bucket0 = _part_equity(book, P0)
    pool1, bucket1 = _part_equity(liq.book, P)
    loss = (np.where(liq.pool_liquidated, pool0 - pool1, 0.0)
            + np.where(liq.bucket_liquidated, bucket0 - bucket1, 0.0).sum(1))
    bh = np.asarray(report.bucket_health)[1]
    failed = tuple(a for a, h in zip(market.assets, bh) if h < 0)
    return PoolingComparison(
        book=book, report=report, liquidation=liq,
        liquidatable=np.asarray(report.liquidatable), pool_health=np.asarray(report.pool_health),
        bucket_health=bh, failed_buckets=failed,
        equity_start=margin_report(book, market, P0).equity, equity_after=liq.equity_after,
        loss=loss + 0.0, capital_required=np.array([capital_required(account, market, P),
                                                    capital_required(twin, market, P)]))
