"""Account-level liquidation: close what fails, charge the penalty, account for bad debt.

Rule (applied to every liquidatable pool and bucket at once, at the given prices):

* **What is at stake.** A failing *cross pool* puts the whole pool at stake: every holding (spot
  collateral and debt) and, for a cross account, every perp. A failing *isolated bucket* puts
  only that perp and its posted margin at stake; nothing outside the bucket is touched. This is
  the cross/isolated contrast of Binance, Hyperliquid and BitMEX ("isolated loses at most the
  allocated margin, cross can lose the whole balance").
* **How much.** A fraction ``close_factor`` of every position at stake is closed at mark price:
  collateral sold, debt bought back, perps closed, the proceeds settled in cash (or in the
  bucket's margin). ``close_factor < 1`` is a partial liquidation (Aave's close factor: 50 % of
  the debt per call); a pool or bucket whose equity is not positive is closed entirely (Aave
  lifts the close factor to 100 % for deep shortfalls and books the rest as a deficit, v3.3).
* **Penalty.** ``liquidation_penalty[asset] x notional closed`` is charged into the insurance
  fund, but never more than the pool's or bucket's equity (a penalty cannot create debt). If a
  partial close of a bucket leaves its posted margin negative (the penalty is paid out of the
  open part's unrealized profit), that profit is settled into the margin: the open part is
  re-marked at the liquidation price. Equity, penalty and positions are unchanged by this.
* **Bad debt.** A pool or bucket with negative equity is closed, its shortfall written off: the
  insurance fund covers it first, the rest is a socialized loss (dYdX v4 and Hyperliquid:
  insurance fund / backstop vault, then deleveraging of profitable counterparties).

Trades happen at the given prices, so counterparties neither gain nor lose; what leaves an
account is exactly what the fund receives, and bad debt is exactly what the fund pays plus what is
socialized. Hence, per call::

    sum(equity_before) + fund_before == sum(equity_after) + fund_after - socialized_loss

References
----------
* Aave v3.3 ``LiquidationLogic.sol`` (close factor, bonus, deficit):
  ``aave-dao/aave-v3-origin: src/contracts/protocol/libraries/logic/LiquidationLogic.sol``.
* dYdX v4 liquidations and insurance fund:
  ``dydxprotocol/v4-documentation: docs/pages/concepts/trading/liquidations.mdx``.
* Hyperliquid liquidations: https://hyperliquid.gitbook.io/hyperliquid-docs/trading/liquidations
* BitMEX, isolated vs cross losses: https://support.bitmex.com/hc/en-gb/articles/6132355940125
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np

from ._validate import MarginInputError, as_float_array, check_range
from .book import Book, as_book, pool_stack
from .market import Market, resolve_prices
from .margin import _WC, _WL, _MARK, _MM, _VALUE, _pool_sums, bucket_cells


class _State:
    """Mutable working copy of a book, so a cascade can liquidate round after round in place."""

    def __init__(self, book: Book):
        self.h = book.holdings.copy()
        self.q = book.perps.copy()
        self.ep = book.entry_prices.copy()
        self.m = book.isolated_margin.copy()
        self.cash = book.cash.copy()
        self.isolated = book.isolated.copy()
        self.mode = book.mode
        self.stack = book._stack.copy()
        self.entry_notional = book._entry_notional.copy()
        # Flat indices (into the (A, n) arrays) of the open isolated buckets. Buckets only ever
        # close during liquidation, so this list is just filtered as perps reach zero.
        self.buckets = np.flatnonzero(((self.q != 0) & self.isolated[:, None]).ravel())

    def cross_q(self, rows=slice(None)):
        return np.where(self.isolated[rows, None], 0.0, self.q[rows])

    def refresh(self, rows: np.ndarray) -> None:
        """Recompute the precomputed pieces of the rows whose pool changed.

        (A bucket liquidation changes only isolated perps and margins, which are not in the pool
        pieces: ``cross_q`` is 0 on isolated rows.)
        """
        if rows.size:
            cq = self.cross_q(rows)
            self.stack[:, rows] = pool_stack(self.h[rows], cq, self.cash[rows])
            self.entry_notional[rows] = np.einsum("ij,ij->i", cq, self.ep[rows])

    def failing(self, market: Market, P: np.ndarray):
        """Failing pools and buckets at ``P``.

        Returns ``(pool_failed, bucket_failed, sums, pnl, cells, b_equity)``: masks (A,) and
        (A, n), the pool sums (6, A) and perp uPnL (A,) at ``P``, and the failing buckets as flat
        indices into (A, n) in row-major order with their equity. Buckets are evaluated on the
        open ones only (elementwise the same arithmetic as on the full (A, n) arrays).
        """
        sums = _pool_sums(self.stack, market, P[None, :])[:, 0]        # (6, A)
        pnl = sums[_MARK] - self.entry_notional
        pool_health = sums[_WC] + pnl - sums[_WL] - sums[_MM]
        cells = self.buckets = self.buckets[self.q.ravel()[self.buckets] != 0]
        b_equity, b_req, _ = bucket_cells(self.q, self.m, self.ep, cells, market, P)
        fail = b_equity - b_req < 0
        bucket_failed = np.zeros(self.q.shape, dtype=bool)
        bucket_failed.ravel()[cells[fail]] = True
        return pool_health < 0, bucket_failed, sums, pnl, cells[fail], b_equity[fail]

    def total_equity(self, P: np.ndarray) -> np.ndarray:
        """Account equity at ``P``: holdings + cash + every perp's uPnL + isolated margin."""
        return (self.h * P).sum(1) + self.cash + (self.q * (P - self.ep)).sum(1) + self.m.sum(1)

    def to_book(self) -> Book:
        return Book(holdings=self.h, perps=self.q, entry_prices=self.ep, mode=self.mode,
                    isolated_margin=self.m, cash=self.cash)


class _Flows(NamedTuple):
    """What one liquidation pass did (arrays over accounts, or over assets for units)."""

    pool_failed: np.ndarray        # (A,)
    bucket_failed: np.ndarray      # (A, n)
    pool_fraction: np.ndarray      # (A,) fraction of the pool closed (0 where not failing)
    penalty: np.ndarray            # (A,) paid into the fund, pool and buckets
    bad_debt: np.ndarray           # (A,) shortfall written off, pool and buckets
    units_sold: np.ndarray         # (n,) net units sold into the market (negative = bought)
    notional_closed: np.ndarray    # (A,) gross notional closed, quote currency
    pool_detail: np.ndarray        # (A, 3) pool's notional closed, penalty, bad debt
    bucket_detail: np.ndarray      # (A, n, 4) bucket's fraction, notional, penalty, bad debt
    liquidated: np.ndarray         # (A,) pool or any bucket failed


def _liquidate_state(state: _State, market: Market, P: np.ndarray, close_factor: float,
                     detail: bool = True) -> _Flows:
    """Liquidate every failing pool and bucket of ``state`` in place at prices ``P``.

    With ``detail=False`` (cascades) ``pool_detail`` and ``bucket_detail`` are None: the (A, n, 4)
    array is not worth allocating every round.
    """
    pool_failed, bucket_failed, sums, pnl, b_cells, b_equity = state.failing(market, P)
    pen = market.liquidation_penalty
    A, n = state.h.shape

    # Cross pools (an isolated account's pool holds only its holdings and cash).
    rows = np.flatnonzero(pool_failed)
    pool_fraction = np.zeros(A)
    penalty = np.zeros(A)
    bad_debt = np.zeros(A)
    notional = np.zeros(A)
    units = np.zeros(n)
    pool_detail = np.zeros((A, 3)) if detail else None
    bucket_detail = np.zeros((A, n, 4)) if detail else None
    if rows.size:
        h, cq = state.h[rows], state.cross_q(rows)
        pool_equity = sums[_VALUE, rows] + pnl[rows]
        f = np.where(pool_equity > 0, close_factor, 1.0)
        closed_h, closed_q = f[:, None] * h, f[:, None] * cq
        units += closed_h.sum(0) + closed_q.sum(0)
        gross = (np.abs(closed_h) + np.abs(closed_q)) * P
        due = (gross * pen).sum(1)
        paid = np.minimum(due, np.maximum(pool_equity, 0.0))
        realized = (closed_h * P).sum(1) + (closed_q * (P - state.ep[rows])).sum(1)
        shortfall = np.where(f == 1.0, np.maximum(-pool_equity, 0.0), 0.0)
        # A fully closed pool keeps exactly its equity less the penalty, never below zero (the
        # shortfall is written off); set it directly so rounding cannot leave dust debt.
        cash = np.where(f == 1.0, np.maximum(pool_equity - paid, 0.0),
                        state.cash[rows] + realized - paid)
        state.h[rows] = h - closed_h
        keep_q = np.where(state.isolated[rows, None], state.q[rows], cq - closed_q)
        state.q[rows] = keep_q
        state.ep[rows] = np.where(keep_q != 0, state.ep[rows], 0.0)
        state.cash[rows] = cash
        pool_fraction[rows] = f
        penalty[rows] += paid
        bad_debt[rows] += shortfall
        notional[rows] += gross.sum(1)
        if detail:
            pool_detail[rows] = np.stack([gross.sum(1), paid, shortfall], axis=1)

    # Isolated buckets: only the failing perp and its margin.
    r, c = np.divmod(b_cells, n)
    if r.size:
        q = state.q[r, c]
        e = b_equity
        f = np.where(e > 0, close_factor, 1.0)
        closed = f * q
        np.add.at(units, c, closed)
        gross = np.abs(closed) * P[c]
        paid = np.minimum(gross * pen[c], np.maximum(e, 0.0))
        shortfall = np.where(f == 1.0, np.maximum(-e, 0.0), 0.0)
        m_new = np.where(f == 1.0, np.maximum(e - paid, 0.0),
                         state.m[r, c] + closed * (P[c] - state.ep[r, c]) - paid)
        # A penalty paid out of the unrealized profit of the part left open would leave the
        # posted margin negative: settle that profit into the margin (re-mark the rest at P).
        settle = m_new < 0
        state.m[r, c] = np.where(settle, e - paid, m_new)
        left = q - closed
        state.q[r, c] = left
        state.ep[r, c] = np.where(left != 0, np.where(settle, P[c], state.ep[r, c]), 0.0)
        np.add.at(penalty, r, paid)
        np.add.at(bad_debt, r, shortfall)
        np.add.at(notional, r, gross)
        if detail:
            bucket_detail[r, c] = np.stack([f, gross, paid, shortfall], axis=1)

    state.refresh(rows)
    liquidated = pool_failed.copy()
    liquidated[r] = True
    return _Flows(pool_failed, bucket_failed, pool_fraction, penalty, bad_debt, units, notional,
                  pool_detail, bucket_detail, liquidated)


def _settle(fund: float, penalty_total: float, bad_debt_total: float):
    """Fund after penalties in and bad debt out; returns (fund_after, fund_payout, socialized)."""
    fund = fund + penalty_total
    payout = min(fund, bad_debt_total)
    return fund - payout, payout, bad_debt_total - payout


class LiquidationEvent(NamedTuple):
    """One liquidated pool or bucket, for logs and "explain" panels."""

    account: int
    part: str            # "pool" or the asset name of an isolated bucket
    close_fraction: float
    notional_closed: float
    penalty: float
    bad_debt: float


@dataclass(frozen=True, eq=False)
class LiquidationResult:
    """Outcome of :func:`liquidate`.

    Attributes
    ----------
    book : Book
        The book after liquidation (the input book is unchanged).
    liquidated : ndarray of bool, shape (n_accounts,)
        Accounts where anything was liquidated.
    pool_liquidated : ndarray of bool, (n_accounts,); bucket_liquidated : (n_accounts, n_assets)
    penalty, bad_debt, notional_closed : ndarray, shape (n_accounts,)
        Quote currency paid into the fund, written off, and closed (gross).
    equity_before, equity_after : ndarray, shape (n_accounts,)
        Account equity at the prices passed to :func:`liquidate` (not the market's own prices),
        before and after the call.
    units_sold : ndarray, shape (n_assets,)
        Net units sold into the market by liquidations (negative: bought back, e.g. shorts).
    insurance_fund_before, insurance_fund : float
    fund_payout, socialized_loss : float
        Bad debt covered by the fund, and the rest, socialized to other users.
    """

    book: Book
    liquidated: np.ndarray
    pool_liquidated: np.ndarray
    bucket_liquidated: np.ndarray
    pool_fraction: np.ndarray
    penalty: np.ndarray
    bad_debt: np.ndarray
    notional_closed: np.ndarray
    equity_before: np.ndarray
    equity_after: np.ndarray
    units_sold: np.ndarray
    pool_detail: np.ndarray
    bucket_detail: np.ndarray
    insurance_fund_before: float
    insurance_fund: float
    fund_payout: float
    socialized_loss: float
    assets: tuple

    @property
    def total_penalty(self) -> float:
        return float(self.penalty.sum())

    @property
    def total_bad_debt(self) -> float:
        return float(self.bad_debt.sum())

    @cached_property
    def events(self) -> list:
        """One :class:`LiquidationEvent` per liquidated pool or bucket, by account."""
        out = []
        for a in np.flatnonzero(self.liquidated):
            if self.pool_liquidated[a]:
                out.append(LiquidationEvent(int(a), "pool", float(self.pool_fraction[a]),
                                            *map(float, self.pool_detail[a])))
            for c in np.flatnonzero(self.bucket_liquidated[a]):
                out.append(LiquidationEvent(int(a), self.assets[c],
                                            *map(float, self.bucket_detail[a, c])))
        return out


def check_close_factor(close_factor) -> float:
    cf = as_float_array("close_factor", close_factor)
    if cf.ndim:
        raise MarginInputError(f"close_factor must be a single number, got shape {cf.shape}")
    check_range("close_factor", cf, 0.0, 1.0, low_open=True)
    return float(cf)


def check_fund(insurance_fund) -> float:
    fund = as_float_array("insurance_fund", insurance_fund)
    if fund.ndim:
        raise MarginInputError(f"insurance_fund must be a single number, got shape {fund.shape}")
    check_range("insurance_fund", fund, 0.0, None)
    return float(fund)


def liquidate(book: Book, market: Market, prices=None, close_factor: float = 1.0,
              insurance_fund: float = 0.0) -> LiquidationResult:
    """Liquidate every liquidatable account of ``book`` at ``prices``.

    Parameters
    ----------
    book : Book (or Account, treated as a one-row book)
    market : Market
    prices : array_like, shape (n_assets,), optional
        Prices to liquidate at; default ``market.prices``.
    close_factor : float in (0, 1], default 1
        Fraction of every position at stake that one call closes (1: full liquidation).
    insurance_fund : float >= 0, default 0
        Fund balance before the call, quote currency.

    Returns
    -------
    LiquidationResult

    Notes
    -----
    See the module docstring for the rule and its sources. Conservation (tested):
    ``equity_before.sum() + insurance_fund_before == equity_after.sum() + insurance_fund
    - socialized_loss``.

    Examples
    --------
    One cross account, 1 BTC of collateral (weight 0.9) against 95,000 of quote debt; BTC falls
    to 100,000 so weighted collateral 90,000 < 95,000: liquidated. Selling 1 BTC raises 100,000,
    the penalty is 5 % of that (5,000), the debt is repaid and the account keeps 0:

    >>> from widgets.engine import Market, Account
    >>> m = Market(["BTC"], [100_000.0], asset_weight=0.9, liquidation_penalty=0.05)
    >>> res = liquidate(Account([1.0], cash=-95_000.0).to_book(), m)
    >>> float(res.penalty[0]), float(res.book.cash[0]), float(res.insurance_fund)
    (5000.0, 0.0, 5000.0)
    """
    book, _ = as_book(book, market, "book")
    P = resolve_prices(market, prices)
    if P.ndim != 1:
        raise MarginInputError(f"prices must have shape ({market.n_assets},), got shape {P.shape}")
    cf = check_close_factor(close_factor)
    fund0 = check_fund(insurance_fund)

    state = _State(book)
    equity_before = state.total_equity(P)
    flows = _liquidate_state(state, market, P, cf)
    fund, payout, socialized = _settle(fund0, float(flows.penalty.sum()), float(flows.bad_debt.sum()))
    return LiquidationResult(
        book=state.to_book(),
        liquidated=flows.liquidated,
        pool_liquidated=flows.pool_failed, bucket_liquidated=flows.bucket_failed,
        pool_fraction=flows.pool_fraction, penalty=flows.penalty, bad_debt=flows.bad_debt,
        notional_closed=flows.notional_closed, equity_before=equity_before,
        equity_after=state.total_equity(P), units_sold=flows.units_sold,
        pool_detail=flows.pool_detail, bucket_detail=flows.bucket_detail,
        insurance_fund_before=fund0, insurance_fund=fund, fund_payout=payout,
        socialized_loss=socialized, assets=market.assets)
