"""Margin reports: how far each account is from liquidation, in three venue conventions.

For a margin pool (the cross pool of an account: its holdings, cash and, in cross mode, every
perp) with prices ``P``:

* weighted collateral ``WC = sum(max(h, 0) * P * asset_weight) + max(cash, 0)``
* weighted liabilities ``WL = sum(max(-h, 0) * P * liability_weight) + max(-cash, 0)``
* perp unrealized PnL ``uPnL = sum(q * (P - entry_price))``
* perp maintenance requirement ``MM = sum(mm(|q| * P))`` with, per asset, the bracket rule
  ``mm(N) = N * maintenance[k] - amount[k]`` for ``N`` in bracket ``k`` (one bracket: ``N x
  maintenance_margin``; see :class:`.Market`), and the initial requirement ``IM = sum(N x
  initial[k])``

and, writing ``available = WC + uPnL`` and ``requirement = WL + MM``:

* ``health = available - requirement`` (Mango v4 maintenance health; quote currency; negative
  means liquidatable),
* ``health_factor = available / requirement`` (Aave: ``sum(C * LT) / sum(D)``; < 1 liquidatable),
* ``margin_ratio = requirement / available`` (Binance: maintenance margin / margin balance;
  >= 100 % liquidatable).

An isolated perp bucket is a pool of its own with ``available = isolated_margin + uPnL`` and
``requirement = MM`` of that one perp.

Where "100 %" means what: a health factor of 1 and a margin ratio of 1 describe the same state,
``available == requirement``. Above 1 the health factor means *safe* (Aave shows HF 1.5 as a
comfortable 150 %); above 1 the margin ratio means *liquidated* (Binance's "100 %"). The engine
uses one boundary for all three: an account is liquidatable when ``health < 0``, equivalently
``health_factor < 1`` and ``margin_ratio > 1``. Binance's text says a ratio that *reaches* 100 %
triggers liquidation; the engine treats the single point ``available == requirement`` as not yet
liquidatable (Aave's strict ``HF < 1``, Mango's strict ``health < 0``), so the three conventions
agree on every state.

References
----------
* Mango v4 health: ``blockworks-foundation/mango-docs: mango-markets/health-overview.md``.
* Aave v3 health factor: https://aave.com/help/borrowing/liquidations
* Binance margin ratio: https://binance.com/en/support/faq/25edcd7fe0e544839d0847b8cbb2e400
* dYdX v4 margin: ``dydxprotocol/v4-documentation: docs/pages/concepts/trading/margin.mdx``.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ._validate import MAX_CELLS, MarginInputError
from .book import Book, as_book
from .market import Market, resolve_prices
from ._pool import IWC, IWL, cross_perps_by_size, pool_sums


def _ratios(available, requirement):
    """Health factor and margin ratio with the edge cases that keep them consistent with health.

    No requirement and nothing owed: HF = inf, MR = 0. Nothing available: MR = inf.
    """
    available, requirement = np.broadcast_arrays(available, requirement)
    # Fill the edge-case values, then divide only where the denominator is positive (fewer
    # passes than materialising both branches of an ``np.where``).
    with np.errstate(divide="ignore", invalid="ignore"):
        hf = np.where(available >= 0, np.inf, -np.inf)
        np.divide(available, requirement, out=hf, where=requirement > 0)
        mr = np.where((requirement > 0) | (available < 0), np.inf, 0.0)
        np.divide(requirement, available, out=mr, where=available > 0)
    return hf, mr


@dataclass(frozen=True, eq=False)
class MarginReport:
    """Margin state of every account (and of every isolated bucket) at one set of prices.

    Shapes: per-account fields are ``(n_accounts,)``; with scenario prices of shape
    ``(n_scenarios, n_assets)`` they gain a leading scenario axis; for a single
    :class:`Account` the account axis is dropped (floats, or ``(n_assets,)`` arrays).
    Money is in the quote currency.

    Attributes
    ----------
    equity : account value at fair prices: holdings + cash + perp uPnL + isolated buckets' margin
        and uPnL. What the account is worth if everything closed at ``prices`` with no penalty.
    weighted_collateral, weighted_liabilities, perp_pnl, maintenance_requirement,
    initial_requirement : the cross pool's sums (see module docstring). In isolated mode the
        pool holds only holdings and cash; the perps are in buckets.
    health, health_factor, margin_ratio : distance to liquidation in three conventions. For an
        isolated-mode account these are the weakest of its pool and its buckets (a pool with no
        holdings and no debt, which can never fail, is not counted).
    pool_health : health of the cross pool alone.
    initial_health : init health of the pool (Mango v4): spot collateral and debt at the
        *init* weights, perps at their initial requirement,
        ``IWC + uPnL - IWL - IM`` (>= 0 means the pool could have opened these positions; a
        new borrow, position or withdrawal is refused when it would leave it negative).
    liquidatable : True when the pool or any bucket has negative health.
    bucket_health, bucket_equity, bucket_requirement : per-asset isolated buckets, shape
        ``(..., n_assets)``; NaN where the account has no bucket (cross accounts, no perp).
    """

    equity: np.ndarray
    weighted_collateral: np.ndarray
    weighted_liabilities: np.ndarray
    perp_pnl: np.ndarray
    maintenance_requirement: np.ndarray
    initial_requirement: np.ndarray
    pool_health: np.ndarray
    initial_health: np.ndarray
    health: np.ndarray
    health_factor: np.ndarray
    margin_ratio: np.ndarray
    liquidatable: np.ndarray
    assets: tuple
    _book: Book
    _market: Market
    _prices: np.ndarray
    _squeeze: tuple

    def _shape(self, arr):
        """Drop the scenario / account axes that the caller did not ask for."""
        if self._squeeze[1]:
            arr = arr[..., 0, :] if arr.ndim >= 3 else arr[..., 0]
        if self._squeeze[0]:
            arr = arr[0]
        return arr

    @cached_property
    def breakdown(self) -> dict:
        """Per-asset contributions ("explain the number"), each shape ``(..., n_assets)``.

        Keys: ``collateral`` (weighted, counted in ``weighted_collateral``), ``liabilities``
        (weighted), ``perp_pnl`` and ``maintenance`` (every perp, cross or isolated),
        ``isolated_margin`` and ``bucket_health`` (NaN where no bucket), ``value`` (unweighted
        spot value) and ``haircut`` (value the venue does not count: ``value x (1 - weight)`` on
        collateral, ``value x (weight - 1)`` extra on debt). Cash is not an asset column: it
        appears in the pool totals.

        For a cross account, ``health == collateral.sum() - liabilities.sum() + perp_pnl.sum()
        - maintenance.sum() + cash``.
        """
        b, m = self._book, self._market
        P = self._prices[:, None, :]                       # (S, 1, n)
        h, q, ep = b.holdings, b.perps, b.entry_prices
        value = h * P
        coll = np.maximum(h, 0) * P * m.asset_weight
        liab = np.maximum(-h, 0) * P * m.liability_weight
        out = {
            "value": value,
            "collateral": coll,
            "liabilities": liab,
            "haircut": np.maximum(h, 0) * P - coll + liab - np.maximum(-h, 0) * P,
            "perp_pnl": q * (P - ep),
            "maintenance": m.maintenance_requirement(np.abs(q) * P),
            "isolated_margin": np.where(self._bucket_mask, b.isolated_margin, np.nan)
            * np.ones_like(P),
            "bucket_health": self._full_bucket_health,
        }
        return {k: self._shape(v) for k, v in out.items()}

    @cached_property
    def _bucket_mask(self):
        return (self._book.perps != 0) & self._book.isolated[:, None]

    @cached_property
    def _full_buckets(self):
        # Built on first access only: (n_accounts, n_assets) arrays are the costly part.
        return _bucket_arrays(self._book, self._market, self._prices)

    @cached_property
    def _full_bucket_health(self):
        return self._full_buckets[2]

    @cached_property
    def bucket_equity(self) -> np.ndarray:
        """Isolated bucket equity (margin + uPnL), shape (..., n_assets); NaN where no bucket."""
        return self._shape(self._full_buckets[0])

    @cached_property
    def bucket_requirement(self) -> np.ndarray:
        """Isolated bucket maintenance requirement, shape (..., n_assets); NaN where no bucket."""
        return self._shape(self._full_buckets[1])

    @cached_property
    def bucket_health(self) -> np.ndarray:
        """Isolated bucket health (equity - requirement), shape (..., n_assets); NaN where none."""
        return self._shape(self._full_buckets[2])


def _bucket_arrays(book: Book, market: Market, P: np.ndarray):
    """Equity, requirement and health of isolated buckets, shape (S, n_accounts, n_assets).

    NaN where there is no bucket (cross accounts, or no perp in that asset).
    """
    q = book.perps
    mask = (q != 0) & book.isolated[:, None]
    Ps = P[:, None, :]
    equity = book.isolated_margin + q * (Ps - book.entry_prices)
    req = market.maintenance_requirement(np.abs(q) * Ps)
    health = equity - req
    nan = np.nan
    return np.where(mask, equity, nan), np.where(mask, req, nan), np.where(mask, health, nan)


# Price-independent layout of each book's open isolated buckets, computed once per Book (books
# are immutable: frozen fields, read-only arrays) and dropped with the book.
_BUCKET_LAYOUT = weakref.WeakKeyDictionary()


def _bucket_layout(book: Book):
    """``(row, col, q, margin, entry, held)`` of the open isolated buckets of ``book``.

    ``row`` indexes ``book._iso_rows``, ``col`` the asset (row-major order); ``held`` is the
    isolated margin of every isolated row summed over all its buckets (open or not).
    """
    got = _BUCKET_LAYOUT.get(book)
    if got is None:
        n = book.n_assets
        iso = book._iso_rows
        k = np.flatnonzero(book.perps.take(iso, axis=0).ravel() != 0)
        row, col = k // n, k % n
        cells = iso[row] * n + col
        got = (row, col, book.perps.ravel()[cells], book.isolated_margin.ravel()[cells],
               book.entry_prices.ravel()[cells], book.isolated_margin.take(iso, axis=0).sum(1))
        _BUCKET_LAYOUT[book] = got
    return got


def _open_buckets(book: Book, market: Market, P: np.ndarray):
    """Equity and requirement of every open isolated bucket, one column per bucket.

    Returns ``(equity, requirement, row, col)``: arrays of shape (S, n_open) and the bucket's
    row among ``book._iso_rows`` and asset column (row-major order). Same arithmetic as
    :func:`._pool.bucket_cells`, on the cached layout.
    """
    row, col, q, margin, entry, _ = _bucket_layout(book)
    Pc = P[..., col]
    equity = margin + q * (Pc - entry)
    return equity, market.requirement_cells(np.abs(q) * Pc, col, "maintenance"), row, col


def _per_row(*reductions, rows: np.ndarray, n_rows: int):
    """Reduce per-cell values (S, n_cells) to per-row arrays (S, n_rows).

    Each reduction is ``(ufunc, identity, values)``; ``rows`` gives each cell's row. Rows with no
    cell get the identity. ``ufunc.at`` keeps this linear in the number of cells.
    """
    out = []
    for ufunc, identity, values in reductions:
        S = values.shape[0]
        acc = np.full((S, n_rows), identity)
        idx = (np.arange(S)[:, None] * n_rows + rows).ravel() if S > 1 else rows
        ufunc.at(acc.reshape(-1), idx, values.reshape(-1))
        out.append(acc)
    return out


def margin_report(account_or_book, market: Market, prices=None) -> MarginReport:
    """Margin report for an account or a book: equity, health, health factor, margin ratio.

    Parameters
    ----------
    account_or_book : Account or Book
    market : Market
    prices : array_like, optional
        Shape ``(n_assets,)`` or ``(n_scenarios, n_assets)``; default ``market.prices``.

    Returns
    -------
    MarginReport
        Per-account arrays (scalars for one :class:`Account`); see :class:`MarginReport`.

    Notes
    -----
    See the module docstring for the formulas and for how the three conventions relate.

    References
    ----------
    Aave help centre, "Liquidations" (health factor); Binance FAQ "margin ratio";
    Mango v4 docs "health overview" (asset and liability weights).

    Examples
    --------
    Aave's published case: $10,000 of ETH with a liquidation threshold of 80 % against $6,000 of
    debt has a health factor of 10,000 x 0.8 / 6,000 = 1.333:

    >>> from widgets.engine import Market, Account
    >>> m = Market(["ETH"], [2_000.0], asset_weight=0.8)
    >>> r = margin_report(Account([5.0], cash=-6_000.0), m)
    >>> round(float(r.health_factor), 4), float(r.health), bool(r.liquidatable)
    (1.3333, 2000.0, False)

    Binance's perp example: wallet 500 USDT, long 0.02 BTC at 50,000, maintenance margin 0.4 %;
    at 25,100.40 the margin ratio reaches 100 %:

    >>> m = Market(["BTC"], [25_100.40], maintenance_margin=0.004, initial_margin=0.05)
    >>> r = margin_report(Account([0.0], perps=[0.02], entry_prices=[50_000.0], cash=500.0), m)
    >>> round(float(r.margin_ratio), 4)
    1.0
    """
    book, single = as_book(account_or_book, market)
    P = resolve_prices(market, prices)
    one_scenario = P.ndim == 1
    P2 = P[None, :] if one_scenario else P
    if P2.shape[0] * book.n_accounts > MAX_CELLS:
        raise MarginInputError(
            f"n_scenarios x n_accounts must be at most {MAX_CELLS:,}, got "
            f"{P2.shape[0]} x {book.n_accounts}")

    sums = pool_sums(book._stack, market, P2,
                      cross_perps_by_size(book) if market.has_brackets else None)  # (R, S, A)
    wc, wl, mark, mm, im, value = sums[:6]
    iwc, iwl = (sums[IWC], sums[IWL]) if sums.shape[0] == 8 else (wc, wl)
    pnl = mark - book._entry_notional
    available = wc + pnl
    requirement = wl + mm
    pool_health = available - requirement
    initial_health = (iwc + pnl) - (iwl + im)
    hf, mr = _ratios(available, requirement)
    equity = value + pnl
    health = pool_health

    iso = book._iso_rows
    if iso.size:
        # Only the open buckets (isolated rows with a perp) are evaluated, one entry per cell.
        b_eq, b_req, b_row, b_col = _open_buckets(book, market, P2)
        _, _, b_q, _, b_entry, held = _bucket_layout(book)
        # Every bucket's margin is account value (open or not); open ones add their uPnL.
        upnl = b_q * (P2[:, b_col] - b_entry)
        if P2.shape[0] == 1:
            add = np.bincount(b_row, weights=upnl[0], minlength=iso.size)[None]
        else:
            add = _per_row((np.add, 0.0, upnl), rows=b_row, n_rows=iso.size)[0]
        equity[:, iso] += held + add
        # The account-level numbers of an isolated account are those of its weakest part;
        # a bucket-less row reduces to (inf, inf, 0), which leaves its pool's numbers as they are.
        hf_b, mr_b = _ratios(b_eq, b_req)
        worst = _per_row((np.minimum, np.inf, b_eq - b_req), (np.minimum, np.inf, hf_b),
                         (np.maximum, 0.0, mr_b), rows=b_row, n_rows=iso.size)
        # A pool with no holdings and no debt (cash >= 0) is not a part that
        # can fail; counting its health of 0 would hide how far the buckets are from failing.
        pool_part = np.where(book._iso_pool_empty, np.inf, pool_health[:, iso])
        weakest = np.minimum(pool_part, worst[0])
        health = pool_health.copy()
        health[:, iso] = np.where(np.isinf(weakest), pool_health[:, iso], weakest)
        hf[:, iso] = np.minimum(hf[:, iso], worst[1])
        mr[:, iso] = np.maximum(mr[:, iso], worst[2])
    liquidatable = health < 0

    report = MarginReport(
        equity=equity, weighted_collateral=wc, weighted_liabilities=wl, perp_pnl=pnl,
        maintenance_requirement=mm, initial_requirement=im, pool_health=pool_health,
        initial_health=initial_health, health=health, health_factor=hf, margin_ratio=mr,
        liquidatable=liquidatable, assets=market.assets, _book=book, _market=market, _prices=P2,
        _squeeze=(one_scenario, single))
    for name in ("equity", "weighted_collateral", "weighted_liabilities", "perp_pnl",
                 "maintenance_requirement", "initial_requirement", "pool_health",
                 "initial_health", "health", "health_factor", "margin_ratio", "liquidatable"):
        object.__setattr__(report, name, _squeeze(getattr(report, name), one_scenario, single))
    return report


def _squeeze(arr, one_scenario: bool, single: bool):
    if single:
        arr = arr[:, 0]
    if one_scenario:
        arr = arr[0]
    if arr.ndim == 0:
        return arr.item() if arr.dtype != bool else bool(arr)
    return arr
