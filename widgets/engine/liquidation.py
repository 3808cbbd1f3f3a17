"""Account-level liquidation: close what fails, charge the penalty, account for bad debt.

Rule (applied to every liquidatable pool and bucket at once, at the given prices):

* **What is at stake.** A failing *cross pool* puts the whole pool at stake: every holding (spot
  collateral and debt) and, for a cross account, every perp. A failing *isolated bucket* puts
  only that perp and its posted margin at stake; nothing outside the bucket is touched. This is
  the cross/isolated contrast of Binance, Hyperliquid and BitMEX ("isolated loses at most the
  allocated margin, cross can lose the whole balance").
* **How much.** Set by the market's :class:`~.rulebook.LiquidationRules` (or the ``rules`` /
  ``close_factor`` argument): ``"restore"`` closes just enough to bring the pool or bucket back
  to a target health (Mango v4's liquidation end health), in full when that is impossible;
  ``"aave"`` repays 50 % of the debt (100 % at HF <= 0.95) and seizes ``debt x (1 + bonus)`` of
  collateral; ``"full"`` closes everything; ``"fraction"`` (``close_factor``) closes the same
  fraction of every position at stake. A pool or bucket whose equity is not positive is always
  closed entirely (Aave v3.3 books the rest as a deficit). Trades are at mark price: collateral
  sold or seized, debt bought back, perps closed, proceeds settled in cash (or in the bucket's
  margin).
* **Penalty.** Perps pay ``liquidation_penalty x notional closed``; spot pays
  ``liquidation_penalty x debt repaid`` (Aave's bonus basis; the original rule, penalty on every
  leg, is ``LiquidationRules.legacy()``). Never more than the pool's or bucket's equity (a
  penalty cannot create debt). The rules' ``protocol_share`` of it goes to the insurance fund,
  the rest to the liquidator as its bonus. If a partial close of a bucket leaves its posted
  margin negative (the penalty is paid out of the open part's unrealized profit), that profit is
  settled into the margin: the open part is re-marked at the liquidation price. Equity, penalty
  and positions are unchanged by this.
* **Bad debt.** A pool or bucket with negative equity is closed, its shortfall written off: the
  insurance fund covers it first, the rest is a socialized loss, assigned to accounts through the
  auto-deleveraging queue (:mod:`.adl`; dYdX v4 and Hyperliquid: insurance fund / backstop
  vault, then deleveraging of profitable counterparties).

Trades happen at the given prices, so counterparties neither gain nor lose; what leaves an
account is exactly what the fund and the liquidator receive, and bad debt is exactly what the
fund pays plus what is socialized. Hence, per call::

    sum(equity_before) + fund_before
        == sum(equity_after) + fund_after + sum(liquidator_bonus) - socialized_loss

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
from .book import Book, as_book
from .market import Market, resolve_prices
from .adl import assign_adl
from ._settlement import LiquidationState, liquidate_state, settle_fund
from .rulebook import resolve_rules


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
        Quote currency paid as penalty (``protocol_fee + liquidator_bonus``), written off, and
        closed (gross).
    equity_before, equity_after : ndarray, shape (n_accounts,)
        Account equity at the prices passed to :func:`liquidate` (not the market's own prices),
        before and after the call.
    units_sold : ndarray, shape (n_assets,)
        Net units sold into the market by liquidations (negative: bought back, e.g. shorts).
    insurance_fund_before, insurance_fund : float
    fund_payout, socialized_loss : float
        Bad debt covered by the fund, and the rest, socialized to other users.
    protocol_fee, liquidator_bonus : ndarray, shape (n_accounts,)
        The two shares of ``penalty``: paid into the insurance fund (Aave's protocol fee, dYdX's
        penalty) and kept by the liquidator (Aave's bonus, Mango's fee). They sum to ``penalty``.
    fully_closed : ndarray of bool, shape (n_accounts,)
        Every failing part of the account was closed in full.
    socialized_by_account : ndarray, shape (n_accounts,)
        What each account gives up to the auto-deleveraging queue (:mod:`.adl`); zero for
        liquidated accounts; sums to ``socialized_loss - socialized_unassigned``.
    adl_rank : ndarray of int, shape (n_accounts,)
        Best 1-based place of the account in any ADL queue (1 is deleveraged first); 0 if none
        of its positions is queued (not profitable, or liquidated).
    socialized_unassigned : float
        Socialized loss no remaining account could take (0 unless nobody is left).
    rules : LiquidationRules
        The convention used.
    bankruptcy_price : ndarray, shape (n_accounts, n_assets)
        For each perp of a liquidated pool or bucket, the price at which that part's equity is
        zero (before the call); NaN elsewhere.

    Conservation (tested): ``equity_before.sum() + insurance_fund_before ==
    equity_after.sum() + insurance_fund + liquidator_bonus.sum() - socialized_loss``.
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
    protocol_fee: np.ndarray = None
    liquidator_bonus: np.ndarray = None
    fully_closed: np.ndarray = None
    socialized_by_account: np.ndarray = None
    adl_rank: np.ndarray = None
    socialized_unassigned: float = 0.0
    rules: object = None
    bankruptcy_price: np.ndarray = None

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


def liquidate(book: Book, market: Market, prices=None, close_factor: float | None = None,
              insurance_fund: float = 0.0, rules=None) -> LiquidationResult:
    """Liquidate every liquidatable account of ``book`` at ``prices``.

    Parameters
    ----------
    book : Book (or Account, treated as a one-row book)
    market : Market
    prices : array_like, shape (n_assets,), optional
        Prices to liquidate at; default ``market.prices``.
    close_factor : float in (0, 1], optional
        Close this fixed fraction of *every* position at stake (``"fraction"`` convention; 1 is
        a full close). This is not Aave's close factor (50 % of the *debt*, with a bonus on the
        debt repaid): use ``rules=LiquidationRules.aave()`` for that. A pool or bucket with no
        equity left is always closed in full.
    insurance_fund : float >= 0, default 0
        Fund balance before the call, quote currency.
    rules : LiquidationRules or {"aave", "mango", "restore", "full"}, optional
        Venue convention (see :mod:`.rulebook`); default the market's ``liquidation_rules``.
        Overrides ``close_factor``.

    Returns
    -------
    LiquidationResult

    Notes
    -----
    See the module docstring for the rule and its sources. Conservation (tested):
    ``equity_before.sum() + insurance_fund_before == equity_after.sum() + insurance_fund
    + liquidator_bonus.sum() - socialized_loss``.

    Examples
    --------
    One cross account, 1 BTC of collateral (weight 0.9) against 95,000 of quote debt; BTC falls
    to 100,000 so weighted collateral 90,000 < 95,000: liquidated. Closing everything repays the
    95,000 debt; the penalty is 5 % of it (4,750) and the account keeps 250:

    >>> from widgets.engine import Market, Account, LiquidationRules
    >>> m = Market(["BTC"], [100_000.0], asset_weight=0.9, liquidation_penalty=0.05)
    >>> res = liquidate(Account([1.0], cash=-95_000.0).to_book(), m, rules=LiquidationRules.full())
    >>> float(res.penalty[0]), float(res.book.cash[0]), float(res.insurance_fund)
    (4750.0, 250.0, 4750.0)
    """
    book, _ = as_book(book, market, "book")
    P = resolve_prices(market, prices)
    if P.ndim != 1:
        raise MarginInputError(f"prices must have shape ({market.n_assets},), got shape {P.shape}")
    rules = resolve_rules(market, rules, close_factor)
    fund0 = check_fund(insurance_fund)

    state = LiquidationState(book)
    equity_before = state.total_equity(P)
    bankrupt_px = _bankruptcy_prices(book, P)
    flows = liquidate_state(state, market, P, rules)
    bad_total = float(flows.bad_debt.sum())
    fund, payout, socialized = settle_fund(fund0, float(flows.protocol_fee.sum()), bad_total)
    adl = _adl(state, P, flows.bad_by_side, flows.bad_other, bad_total, socialized,
               flows.liquidated)
    return LiquidationResult(
        book=state.to_book(),
        liquidated=flows.liquidated,
        pool_liquidated=flows.pool_failed, bucket_liquidated=flows.bucket_failed,
        pool_fraction=flows.pool_fraction, penalty=flows.penalty, bad_debt=flows.bad_debt,
        notional_closed=flows.notional_closed, equity_before=equity_before,
        equity_after=state.total_equity(P), units_sold=flows.units_sold,
        pool_detail=flows.pool_detail, bucket_detail=flows.bucket_detail,
        insurance_fund_before=fund0, insurance_fund=fund, fund_payout=payout,
        socialized_loss=socialized, assets=market.assets, protocol_fee=flows.protocol_fee,
        liquidator_bonus=flows.liquidator_bonus, fully_closed=flows.fully_closed,
        socialized_by_account=adl.socialized_by_account, adl_rank=adl.adl_rank,
        socialized_unassigned=adl.unassigned, rules=rules,
        bankruptcy_price=np.where(flows.pool_failed[:, None] & ~book.isolated[:, None]
                                  | flows.bucket_failed, bankrupt_px, np.nan))


def _bankruptcy_prices(book: Book, P: np.ndarray) -> np.ndarray:
    """Price of each perp at which the part holding it has zero equity, other prices held.

    An isolated bucket: ``P - equity / q``. A cross pool with several perps: each perp carries a
    share of the pool's equity in proportion to its notional (the pool is zero when every perp is
    at its bankruptcy price). NaN where there is no perp. (BitMEX/dYdX: ADL closes at the
    bankrupt position's bankruptcy price.)
    """
    q, ep = book.perps, book.entry_prices
    iso = book.isolated[:, None]
    cq = np.where(iso, 0.0, q)
    pool_eq = (book.holdings * P).sum(1) + book.cash + (cq * (P - ep)).sum(1)
    N = np.abs(cq) * P
    tot = N.sum(1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(tot > 0, N / tot, 0.0) * pool_eq[:, None]
        part = np.where(iso, book.isolated_margin + q * (P - ep), share)
        return np.where(q != 0, P - part / q, np.nan)


def _adl(state: LiquidationState, P, bad_by_side, bad_other, bad_total, socialized, excluded):
    """The ADL assignment of ``socialized`` (a share of ``bad_total``) on ``state`` at ``P``."""
    s = socialized / bad_total if bad_total > 0 else 0.0
    return assign_adl(bad_by_side * s, bad_other * s, state.h, state.q, state.ep, state.m,
                      state.cash, state.isolated, P, excluded)
