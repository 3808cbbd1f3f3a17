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
from .book import Book, as_book, pool_stack
from .market import Market, resolve_prices
from .margin import _WC, _WL, _MARK, _MM, _VALUE, _pool_sums, bucket_cells
from .adl import assign_adl
from .rulebook import resolve_rules


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
        """The state as a read-only :class:`Book` (trusted constructor: the engine made it).

        The state's arrays are handed over, so the state must not be used afterwards.
        """
        return Book._trusted(self.h, self.q, self.ep, self.isolated, self.m, self.cash,
                             self.stack, self.entry_notional, mode=self.mode)


class _Flows(NamedTuple):
    """What one liquidation pass did (arrays over accounts, or over assets for units)."""

    pool_failed: np.ndarray        # (A,)
    bucket_failed: np.ndarray      # (A, n)
    pool_fraction: np.ndarray      # (A,) fraction of the pool's positions closed (0: not failing)
    penalty: np.ndarray            # (A,) paid by the account, pool and buckets
    bad_debt: np.ndarray           # (A,) shortfall written off, pool and buckets
    units_sold: np.ndarray         # (n,) net units sold into the market (negative = bought)
    notional_closed: np.ndarray    # (A,) gross notional closed, quote currency
    pool_detail: np.ndarray        # (A, 3) pool's notional closed, penalty, bad debt
    bucket_detail: np.ndarray      # (A, n, 4) bucket's fraction, notional, penalty, bad debt
    liquidated: np.ndarray         # (A,) pool or any bucket failed
    protocol_fee: np.ndarray       # (A,) share of the penalty paid into the insurance fund
    liquidator_bonus: np.ndarray   # (A,) share of the penalty kept by the liquidator
    bad_by_side: np.ndarray        # (n, 2) bad debt of bankrupt perps per asset, long / short
    bad_other: float               # bad debt of bankrupt parts with no perp (spot pools)
    fully_closed: np.ndarray       # (A,) every failing part of the account was closed in full


def _init_weights(market: Market):
    return (getattr(market, "init_asset_weight", None) if getattr(
        market, "init_asset_weight", None) is not None else market.asset_weight,
        getattr(market, "init_liability_weight", None) if getattr(
        market, "init_liability_weight", None) is not None else market.liability_weight)


def _requirement(market: Market, notional: np.ndarray, kind: str) -> np.ndarray:
    """Perp maintenance or initial requirement per cell, bracket-aware when the market is."""
    fn = getattr(market, f"{kind}_requirement", None)
    if fn is not None:
        return fn(notional)
    return notional * (market.maintenance_margin if kind == "maintenance"
                       else market.initial_margin)


def _pool_fractions(rules, market, P, h, cq, cash, pnl, equity, available, requirement, pen):
    """Fractions closed of collateral (per asset), debt and perps for failing pools.

    Returns ``(f_c, f_d, f_p, due, full)`` with ``f_c`` of shape (r, n) or None (same as
    ``f_d`` for every asset), the others (r,). See
    :mod:`.rulebook` for the conventions.

    ``"full"`` and ``"fraction"`` close the same fraction of every position. ``"restore"`` and
    ``"aave"`` swap debt for collateral as Aave and Mango's token liquidation do: repaying a
    share ``f`` of the debt ``D`` seizes ``f x D x s_i x (1 + penalty_i)`` of each collateral
    asset ``i`` (``s_i`` its share of the collateral value ``C``), and close the share ``f`` of
    every perp. The health gained per unit of ``f`` is then
    ``D - D sum_i s_i w_i (1 + penalty_i) + (weighted debt - D_spot) + MM - perp penalty``, never
    negative on a venue that passes :func:`~.rulebook.penalty_consistency`.
    """
    # Weighted sums as matrix-vector products (one BLAS call each, no (r, n) temporaries).
    coll = np.maximum(h, 0.0) * P
    debt = np.maximum(-h, 0.0) * P
    one = np.ones(P.shape[0])
    C, D_spot = coll @ one, debt @ one
    D = D_spot + np.maximum(-cash, 0.0)
    N = np.abs(cq) * P
    with np.errstate(divide="ignore", invalid="ignore"):
        rate_c = np.where(C > 0, (coll @ pen) / C,
                          np.where(D_spot > 0, (debt @ pen) / D_spot, 0.0))
    perp_pen = N @ pen
    conv = rules.convention

    if conv in ("full", "fraction"):
        f = (np.ones(h.shape[0]) if conv == "full"
             else np.where(equity > 0, rules.close_factor, 1.0))
        if rules.penalty_basis == "debt":
            due = f * (rate_c * D + perp_pen)
        else:
            due = f * (coll @ pen + debt @ pen + perp_pen)
        return None, f, f, due, f == 1.0

    with np.errstate(divide="ignore", invalid="ignore"):
        # Largest f the collateral allows (seizing (1 + penalty) per unit of debt repaid).
        top = np.max(np.where(coll > 0, pen, 0.0), axis=1)
        f_max = np.where(D > 0, np.where(C > 0, C / (D * (1.0 + top)), 0.0), 1.0)
    if conv == "restore":
        # Init health is linear in f (one rate per asset; with brackets the requirement is
        # convex in notional, so the true gain is at least this); land it on zero.
        iw_a, iw_l = _init_weights(market)
        im = _requirement(market, N, "initial") @ one
        h_init = coll @ iw_a - debt @ iw_l + cash + pnl - im
        with np.errstate(divide="ignore", invalid="ignore"):
            seized_w = np.where(C > 0, (coll @ (iw_a * (1.0 + pen))) / C, 0.0)
        gain = D - D * seized_w + debt @ (iw_l - 1.0) + im - perp_pen
        # Target: init health >= end_buffer x (debt + perp notional) of what is left open,
        # i.e. h_init + f gain >= b X (1 - f).
        bX = rules.end_buffer * (D + N @ one)
        with np.errstate(divide="ignore", invalid="ignore"):
            need = np.where(h_init < bX, (bX - h_init) / (gain + bX), 0.0)
        # A hair above the exact fraction, so rounding cannot leave the pool just below target.
        need = need * (1 + 1e-9) + 1e-12
        ok = (equity > 0) & (gain > 0) & (need <= np.minimum(f_max, 1.0))
        f = np.where(ok, need, 1.0)
        full = ~ok
    else:  # aave
        with np.errstate(divide="ignore", invalid="ignore"):
            hf = np.where(requirement > 0, available / requirement, np.inf)
        f = np.where(hf > rules.full_close_below, rules.close_factor, 1.0)
        # Not enough collateral for the bonus: repay what the collateral covers (Aave caps the
        # debt repaid the same way); no equity or nothing to seize: close everything.
        f = np.where(D > 0, np.minimum(f, f_max), f)
        full = (equity <= 0) | ((D > 0) & (C == 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        per_c = np.where(C > 0, f * D / C, 0.0)
    f_c = per_c[:, None] * (1.0 + pen)
    # At the collateral cap the top-rate asset is seized in full: snap rounding to exactly 1 so
    # no dust is left to liquidate again next round.
    f_c = np.where(f_c > 1.0 - 1e-12, 1.0, f_c)
    f_c[full] = 1.0
    f_d = np.where(full, 1.0, f)
    due = np.where(full, 1.0, f) * (rate_c * D + perp_pen)
    return f_c, f_d, f_d, due, full


def _bucket_fraction(rules, market, P, q, c, e, pen):
    """Fraction of each failing isolated bucket's perp closed."""
    N = np.abs(q) * P
    conv = rules.convention
    if conv == "full":
        return np.ones_like(e)
    if conv == "fraction":
        return np.where(e > 0, rules.close_factor, 1.0)
    cells = np.zeros((q.size, market.n_assets))
    cells[np.arange(q.size), c] = N
    if conv == "restore":
        im = _requirement(market, cells, "initial").sum(1)
        gain = im - pen * N
        bN = rules.end_buffer * N
        with np.errstate(divide="ignore", invalid="ignore"):
            need = np.where(e < im + bN, (im + bN - e) / (gain + bN), 0.0) * (1 + 1e-9) + 1e-12
        return np.where((e > 0) & (gain > 0) & (need < 1.0), need, 1.0)
    mm = _requirement(market, cells, "maintenance").sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        hf = np.where(mm > 0, e / mm, np.inf)
    return np.where((e > 0) & (hf > rules.full_close_below), rules.close_factor, 1.0)


def _liquidate_state(state: _State, market: Market, P: np.ndarray, rules,
                     detail: bool = True) -> _Flows:
    """Liquidate every failing pool and bucket of ``state`` in place at prices ``P``.

    ``rules`` is a :class:`~.rulebook.LiquidationRules`. With ``detail=False`` (cascades)
    ``pool_detail`` and ``bucket_detail`` are None: the (A, n, 4) array is not worth allocating
    every round.
    """
    pool_failed, bucket_failed, sums, pnl, b_cells, b_equity = state.failing(market, P)
    pen = market.liquidation_penalty
    A, n = state.h.shape
    share = rules.protocol_share

    rows = np.flatnonzero(pool_failed)
    pool_fraction = np.zeros(A)
    penalty = np.zeros(A)
    bad_debt = np.zeros(A)
    notional = np.zeros(A)
    units = np.zeros(n)
    bad_by_side = np.zeros((n, 2))
    bad_other = 0.0
    fully = np.ones(A, dtype=bool)
    pool_detail = np.zeros((A, 3)) if detail else None
    bucket_detail = np.zeros((A, n, 4)) if detail else None
    if rows.size:
        h, cq, cash, ep = state.h[rows], state.cross_q(rows), state.cash[rows], state.ep[rows]
        pool_equity = sums[_VALUE, rows] + pnl[rows]
        available = sums[_WC, rows] + pnl[rows]
        requirement = sums[_WL, rows] + sums[_MM, rows]
        f_c, f_d, f_p, due, full = _pool_fractions(rules, market, P, h, cq, cash, pnl[rows],
                                                   pool_equity, available, requirement, pen)
        closed_h = (f_d[:, None] * h if f_c is None
                    else f_c * np.maximum(h, 0.0) - f_d[:, None] * np.maximum(-h, 0.0))
        closed_q = f_p[:, None] * cq
        ones_r = np.ones(rows.size)
        units += ones_r @ closed_h + ones_r @ closed_q
        gross_sum = np.abs(closed_h) @ P + np.abs(closed_q) @ P
        paid = np.minimum(due, np.maximum(pool_equity, 0.0))
        realized = closed_h @ P + np.einsum("ij,ij->i", closed_q, P - ep)
        shortfall = np.where(full, np.maximum(-pool_equity, 0.0), 0.0)
        # A fully closed pool keeps exactly its equity less the penalty, never below zero (the
        # shortfall is written off); set it directly so rounding cannot leave dust debt.
        state.cash[rows] = np.where(full, np.maximum(pool_equity - paid, 0.0),
                                    cash + realized - paid)
        left_h = h - closed_h
        left_h[full] = 0.0
        state.h[rows] = left_h
        left_q = cq - closed_q
        left_q[full] = 0.0
        iso_rows = state.isolated[rows]
        keep_q = np.where(iso_rows[:, None], state.q[rows], left_q) if iso_rows.any() else left_q
        state.q[rows] = keep_q
        state.ep[rows] = np.where(keep_q != 0, ep, 0.0)
        pool_fraction[rows] = f_d if f_c is None else np.maximum(f_c.max(1), f_d)
        penalty[rows] += paid
        bad_debt[rows] += shortfall
        notional[rows] += gross_sum
        fully[rows] = full
        if shortfall.any():
            # Attribute each bankrupt pool's shortfall to its perps by notional (for the ADL
            # queue); a pool with no perp (a lending deficit) has no opposite side.
            Nq = np.abs(cq) * P
            tot = Nq.sum(1)
            with np.errstate(divide="ignore", invalid="ignore"):
                w = np.where(tot[:, None] > 0, Nq / tot[:, None], 0.0) * shortfall[:, None]
            bad_by_side[:, 0] += np.where(cq > 0, w, 0.0).sum(0)
            bad_by_side[:, 1] += np.where(cq < 0, w, 0.0).sum(0)
            bad_other += float(shortfall[tot == 0].sum())
        if detail:
            pool_detail[rows] = np.stack([gross_sum, paid, shortfall], axis=1)

    # Isolated buckets: only the failing perp and its margin.
    r, c = np.divmod(b_cells, n)
    if r.size:
        q = state.q[r, c]
        e = b_equity
        f = _bucket_fraction(rules, market, P[c], q, c, e, pen[c])
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
        left = np.where(f == 1.0, 0.0, q - closed)
        state.q[r, c] = left
        state.ep[r, c] = np.where(left != 0, np.where(settle, P[c], state.ep[r, c]), 0.0)
        np.add.at(penalty, r, paid)
        np.add.at(bad_debt, r, shortfall)
        np.add.at(notional, r, gross)
        np.logical_and.at(fully, r, f == 1.0)
        if shortfall.any():
            np.add.at(bad_by_side, (c, np.where(q > 0, 0, 1)), shortfall)
        if detail:
            bucket_detail[r, c] = np.stack([f, gross, paid, shortfall], axis=1)

    state.refresh(rows)
    liquidated = pool_failed.copy()
    liquidated[r] = True
    protocol_fee = penalty * share
    return _Flows(pool_failed, bucket_failed, pool_fraction, penalty, bad_debt, units, notional,
                  pool_detail, bucket_detail, liquidated, protocol_fee, penalty - protocol_fee,
                  bad_by_side, bad_other, fully & liquidated)


def _settle(fund: float, fee_total: float, bad_debt_total: float):
    """Fund after the protocol's share of penalties in and bad debt out; returns
    (fund_after, fund_payout, socialized)."""
    fund = fund + fee_total
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

    state = _State(book)
    equity_before = state.total_equity(P)
    bankrupt_px = _bankruptcy_prices(book, P)
    flows = _liquidate_state(state, market, P, rules)
    bad_total = float(flows.bad_debt.sum())
    fund, payout, socialized = _settle(fund0, float(flows.protocol_fee.sum()), bad_total)
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


def _adl(state: _State, P, bad_by_side, bad_other, bad_total, socialized, excluded):
    """The ADL assignment of ``socialized`` (a share of ``bad_total``) on ``state`` at ``P``."""
    s = socialized / bad_total if bad_total > 0 else 0.0
    return assign_adl(bad_by_side * s, bad_other * s, state.h, state.q, state.ep, state.m,
                      state.cash, state.isolated, P, excluded)
