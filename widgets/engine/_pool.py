"""Margin-pool arithmetic shared by margin reports and liquidation: every pool sum in one product.

A book stores, per account, the price-independent column ``[h+; h-; q+; q-; cash+; cash-]``
(positive and negative parts of holdings and cross perps, then cash; :func:`.book.pool_stack`).
At prices ``P`` one matrix product with a price-dependent weight matrix gives, for every account
and scenario, the sums a margin convention needs (rows named by the constants below):

* ``WC`` weighted collateral ``sum(max(h, 0) * P * asset_weight) + max(cash, 0)``,
* ``WL`` weighted liabilities ``sum(max(-h, 0) * P * liability_weight) + max(-cash, 0)``,
* ``MARK`` perp mark value ``sum(q * P)`` (uPnL is ``MARK`` less the book's entry notional),
* ``MM`` and ``IM`` perp maintenance and initial requirements, bracket by bracket,
* ``VALUE`` unweighted spot value plus cash,
* ``IWC`` and ``IWL`` the same as ``WC`` and ``WL`` at the *init* weights (only when the market
  has init weights that differ from its maintenance weights).

:mod:`.margin` turns these into health, health factor and margin ratio; :mod:`._settlement`
reads them to find the pools that fail. Isolated buckets are evaluated cell by cell
(:func:`bucket_cells`).

This is a private module (QuantEcon.py's ``_lqcontrol.py`` pattern): its names are public so
engine modules can share them, but they are not part of the :mod:`widgets.engine` API.

References
----------
* Mango v4 health (asset and liability weights, init vs maintenance):
  ``blockworks-foundation/mango-docs: mango-markets/health-overview.md``.
* Binance maintenance margin with brackets (``mm(N) = N x rate - maintenance amount``):
  https://www.binance.com/en/support/faq/b3c689c1f50a44cabb3a84e663b81d93 (domain.md §2.1).
* dYdX v4 margin: ``dydxprotocol/v4-documentation: docs/pages/concepts/trading/margin.mdx``.
"""
from __future__ import annotations

import ctypes
import sys
import weakref
from contextlib import contextmanager

import numpy as np

from .book import Book
from .market import Market

# Columns of the per-pool sums produced by one matrix product (see ``pool_sums``). The init-
# weighted collateral and liabilities (IWC, IWL) are only computed when the market's init
# weights differ from its maintenance weights; otherwise they equal WC and WL.
WC, WL, MARK, MM, IM, VALUE, IWC, IWL = range(8)


def _has_init_weights(market: Market) -> bool:
    return not (np.array_equal(market.init_asset_weight, market.asset_weight)
                and np.array_equal(market.init_liability_weight, market.liability_weight))


def _weights(market: Market, P: np.ndarray) -> np.ndarray:
    """Weight matrix ``W`` (R, S, 4n+2) so ``W.reshape(R * S, -1) @ book._stack`` gives every
    pool sum at once (built sums-major, so the product needs no transposed copy of ``W``).

    R is 6, or 8 when the market has separate init weights. Perp requirements use the first
    bracket's rates; :func:`pool_sums` corrects the cells in higher brackets.
    """
    n = market.n_assets
    S = P.shape[0]
    W = np.zeros((8 if _has_init_weights(market) else 6, S, 4 * n + 2))
    h_pos, h_neg, q_pos, q_neg = (slice(k * n, (k + 1) * n) for k in range(4))
    W[WC, :, h_pos] = P * market.asset_weight
    W[VALUE, :, h_pos] = P
    W[WL, :, h_neg] = P * market.liability_weight
    W[VALUE, :, h_neg] = -P
    for sl, sign in ((q_pos, 1.0), (q_neg, -1.0)):
        W[MARK, :, sl] = sign * P
        W[MM, :, sl] = P * market.maintenance_margin
        W[IM, :, sl] = P * market.initial_margin
    W[[WC, VALUE], :, 4 * n] = 1.0
    W[WL, :, 4 * n + 1] = 1.0
    W[VALUE, :, 4 * n + 1] = -1.0
    if W.shape[0] == 8:
        W[IWC, :, h_pos] = P * market.init_asset_weight
        W[IWL, :, h_neg] = P * market.init_liability_weight
        W[IWC, :, 4 * n] = 1.0
        W[IWL, :, 4 * n + 1] = 1.0
    return W


def _bracket_correction(sums: np.ndarray, stack: np.ndarray, market: Market, P: np.ndarray,
                        by_size=None):
    """Add to the requirement rows of ``sums`` what higher brackets charge beyond the first rate.

    Only cells whose notional can reach a second bracket at some scenario price are evaluated
    (a threshold on ``|q|`` per asset), so a book of small positions pays one comparison per
    cell; the candidates of every asset go through one bracket lookup. With ``by_size`` (a
    book's cross perps per asset sorted by size, :func:`cross_perps_by_size`) the candidates
    are a prefix found by bisection instead. In place; ``sums`` is (R, S, A).
    """
    n = market.n_assets
    Pmax = P.max(0)
    picks = []
    for j in np.flatnonzero(market._tiered):
        threshold = market._br_floor[j, 1] / Pmax[j]
        if by_size is not None:
            order, size, neg = by_size[j]                          # size descending
            k = int(np.searchsorted(neg, -threshold, side="right"))
            idx, sizes = order[:k], size[:k]
        else:
            absq = stack[2 * n + j] + stack[3 * n + j]              # |cross perp| (A,)
            idx = np.flatnonzero(absq >= threshold)
            sizes = absq[idx]
        if idx.size:
            picks.append((j, idx, sizes))
    if not picks:
        return
    col = np.concatenate([np.full(idx.size, j) for j, idx, _ in picks])
    N = np.concatenate([a for _, _, a in picks]) * P[:, col]       # (S, c)
    extra = {MM: market.requirement_cells(N, col, "maintenance") - N * market._br_mm[col, 0],
             IM: market.requirement_cells(N, col, "initial") - N * market._br_im[col, 0]}
    start = 0
    for _, idx, _ in picks:                # an account's cells in different assets: one by one
        sl = slice(start, start + idx.size)
        start = sl.stop
        for row, add in extra.items():
            sums[row][:, idx] += add[:, sl]


# Products with at most this many account-scenario columns run on one OpenBLAS thread: waking
# a second thread costs more than it saves on small books, and on a loaded 2-core machine a
# 10**4-account product was measured at 12 ms on two threads vs 0.18 ms on one.
_ONE_THREAD_MAX_COLUMNS = 50_000
_blas_threads_api = None     # (get, set) from the loaded OpenBLAS, False when not available


def _blas_api():
    """OpenBLAS's get/set_num_threads via ctypes (Linux only; ``False`` when not found)."""
    global _blas_threads_api
    if _blas_threads_api is None:
        _blas_threads_api = False
        try:
            if sys.platform.startswith("linux"):
                with open("/proc/self/maps") as fh:
                    libs = sorted({ln.split()[-1] for ln in fh
                                   if "openblas" in ln.lower() and ln.split()[-1].startswith("/")})
                for path in libs:
                    lib = ctypes.CDLL(path)
                    for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""),
                                           ("openblas", "64_"), ("openblas", "")):
                        get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                        put = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                        if get is not None and put is not None:
                            get.restype = ctypes.c_int
                            put.argtypes = [ctypes.c_int]
                            _blas_threads_api = (get, put)
                            return _blas_threads_api
        except (OSError, ValueError, IndexError):
            _blas_threads_api = False
    return _blas_threads_api


@contextmanager
def _blas_threads_for(columns: int):
    """Run a product on one BLAS thread when it has at most ``_ONE_THREAD_MAX_COLUMNS`` columns.

    Only the thread count changes (the kernel and so the rounding stay the same).
    """
    api = _blas_api() if columns <= _ONE_THREAD_MAX_COLUMNS else False
    before = api[0]() if api else 1
    if api and before > 1:
        api[1](1)
    try:
        yield
    finally:
        if api and before > 1:
            api[1](before)


def pool_sums(stack: np.ndarray, market: Market, P: np.ndarray, by_size=None) -> np.ndarray:
    """Every pool sum of every account at every scenario price, in one BLAS product.

    Parameters
    ----------
    stack : ndarray, shape (4n + 2, n_accounts)
        A book's price-independent matrix ``[h+; h-; q+; q-; cash+; cash-]``
        (:func:`.book.pool_stack`).
    market : Market
    P : ndarray, shape (n_scenarios, n_assets)
        Scenario prices.
    by_size : list, optional
        The book's cross perps sorted by size (:func:`cross_perps_by_size`); lets the bracket
        correction find the positions above a bracket floor by bisection. Same result without.

    Returns
    -------
    ndarray, shape (R, n_scenarios, n_accounts)
        Rows indexed by ``WC, WL, MARK, MM, IM, VALUE`` and, when the market has separate init
        weights, ``IWC, IWL`` (R is 6 or 8; with R = 6 read ``WC``/``WL`` for init). Perp
        requirements follow each position's bracket.
    """
    Wf = _weights(market, P)
    R = Wf.shape[0]
    W = Wf.reshape(R * P.shape[0], -1)                      # (R*S, K), sums-major
    if P.shape[0] == 1:
        # One scenario: hand BLAS the (R, K) factor column-major, as this product always has
        # (the layout picks the BLAS kernel, and so the rounding of the sums).
        W = np.asfortranarray(W)
    with _blas_threads_for(P.shape[0] * stack.shape[1]):
        out = (W @ stack).reshape(R, P.shape[0], stack.shape[1])  # (R*S, A): one BLAS call
    if market.has_brackets:
        _bracket_correction(out, stack, market, P, by_size)
    return out


_CROSS_BY_SIZE = weakref.WeakKeyDictionary()


def cross_perps_by_size(book: Book) -> list:
    """Per asset, the book's open cross perps sorted by size, largest first.

    Built once per :class:`~.book.Book` (on its first bracketed report) and cached for the
    book's lifetime, so a report finds the positions above a bracket floor by bisection.

    Parameters
    ----------
    book : Book

    Returns
    -------
    list of tuple
        One ``(account_index, size, -size)`` triple of arrays per asset, ``size = |q|``
        descending (``-size`` ascending, ready for ``np.searchsorted``).
    """
    got = _CROSS_BY_SIZE.get(book)
    if got is None:
        n = book.n_assets
        stack = book._stack
        got = []
        for j in range(n):
            absq = stack[2 * n + j] + stack[3 * n + j]
            nz = np.flatnonzero(absq)
            order = nz[np.argsort(-absq[nz], kind="stable")]
            size = absq[order]
            got.append((order, size, -size))
        _CROSS_BY_SIZE[book] = got
    return got


def bucket_cells(perps, isolated_margin, entry_prices, cells, market: Market, P: np.ndarray):
    """Equity and maintenance requirement of the isolated buckets at flat ``cells``.

    An isolated bucket is a pool of its own: ``equity = isolated_margin + q x (P - entry)`` and
    requirement ``mm(|q| x P)`` of that one perp (Binance, BitMEX isolated margin; see
    :mod:`.margin`). Evaluated on the listed cells only (the margin report's and the cascade's
    hot path), elementwise the same arithmetic as on the full (n_accounts, n_assets) arrays.

    Parameters
    ----------
    perps, isolated_margin, entry_prices : ndarray, shape (n_accounts, n_assets)
    cells : ndarray of int
        Flat indices into the (n_accounts, n_assets) arrays, row-major order.
    market : Market
    P : ndarray, shape (n_assets,) or (n_scenarios, n_assets)

    Returns
    -------
    equity, requirement : ndarray, shape (n_cells,) or (n_scenarios, n_cells)
    col : ndarray of int, shape (n_cells,)
        The asset column of each cell.
    """
    col = cells % perps.shape[1]
    q = perps.ravel()[cells]
    Pc = P[..., col]
    equity = isolated_margin.ravel()[cells] + q * (Pc - entry_prices.ravel()[cells])
    return equity, market.requirement_cells(np.abs(q) * Pc, col, "maintenance"), col
