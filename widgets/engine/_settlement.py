"""One liquidation pass and the insurance-fund settlement, shared by :func:`.liquidate`, the
cascade and the insurance-fund replay.

:func:`liquidate_state` applies the liquidation rule of :mod:`.liquidation` (what is at stake,
how much is closed under the :class:`~.rulebook.LiquidationRules`, the penalty and its split,
bad debt) to every failing pool and isolated bucket of a :class:`LiquidationState`, in place,
at one set of prices. :func:`.liquidate` runs it once; :func:`.cascade.cascade` runs it round
after round on the same state as liquidation sales move prices. :func:`settle_fund` is the
waterfall step after each pass: the protocol's share of the penalties flows into the insurance
fund, then the fund pays the bad debt, and what it cannot pay is socialized (auto-deleveraging,
:mod:`.adl`); :func:`.insurance.fund_coverage` replays that step for many fund sizes.

This is a private module (QuantEcon.py's ``_lqcontrol.py`` pattern): its names are public so
engine modules can share them, but they are not part of the :mod:`widgets.engine` API.

References
----------
* Aave v3.3 ``LiquidationLogic.sol`` (close factor, bonus, deficit):
  ``aave-dao/aave-v3-origin: src/contracts/protocol/libraries/logic/LiquidationLogic.sol``.
* Mango v4 liquidation end health and health overview:
  ``blockworks-foundation/mango-docs: mango-markets/health-overview.md``.
* dYdX v4 liquidations and insurance fund:
  ``dydxprotocol/v4-documentation: docs/pages/concepts/trading/liquidations.mdx``.
* Hyperliquid liquidations: https://hyperliquid.gitbook.io/hyperliquid-docs/trading/liquidations
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .book import Book, pool_stack
from .market import Market
from ._pool import MARK, MM, VALUE, WC, WL, bucket_cells, pool_sums


class LiquidationState:
    """Mutable working copy of a book, so a cascade can liquidate round after round in place.

    Parameters
    ----------
    book : Book
        Copied; the book itself is never changed.

    Attributes
    ----------
    h, q, ep, m : ndarray, shape (n_accounts, n_assets)
        Holdings, perps, entry prices and isolated margin.
    cash : ndarray, shape (n_accounts,)
    isolated : ndarray of bool, shape (n_accounts,)
    mode : str
        The book's margin mode.
    stack, entry_notional : ndarray
        The pool pieces of :func:`~.book.pool_stack` and the cross perps' entry notional, kept
        in step with the positions by :meth:`refresh`.
    buckets : ndarray of int
        Flat indices (row-major, into the (n_accounts, n_assets) arrays) of the open isolated
        buckets.
    """

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
        (A, n), the pool sums (R, A) and perp uPnL (A,) at ``P``, and the failing buckets as flat
        indices into (A, n) in row-major order with their equity. Buckets are evaluated on the
        open ones only (elementwise the same arithmetic as on the full (A, n) arrays).
        """
        sums = pool_sums(self.stack, market, P[None, :])[:, 0]        # (R, A)
        pnl = sums[MARK] - self.entry_notional
        pool_health = sums[WC] + pnl - sums[WL] - sums[MM]
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


class LiquidationFlows(NamedTuple):
    """What one liquidation pass did (arrays over accounts, or over assets for units).

    Returned by :func:`liquidate_state`; each field's shape and meaning is given beside it.
    """

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


def liquidate_state(state: LiquidationState, market: Market, P: np.ndarray, rules,
                    detail: bool = True) -> LiquidationFlows:
    """Liquidate every failing pool and bucket of ``state`` in place at prices ``P``.

    The rule (stake, amount closed, penalty, bad debt) is described in :mod:`.liquidation`.

    Parameters
    ----------
    state : LiquidationState
        Changed in place: positions closed, cash and isolated margin settled.
    market : Market
    P : ndarray, shape (n_assets,)
        Prices the pass trades at.
    rules : LiquidationRules
        The venue convention (:mod:`.rulebook`).
    detail : bool, default True
        With ``False`` (cascades) ``pool_detail`` and ``bucket_detail`` are None: the
        (A, n, 4) array is not worth allocating every round.

    Returns
    -------
    LiquidationFlows
        Penalties (with the protocol / liquidator split), bad debt, units sold, and which
        pools and buckets failed.
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
        pool_equity = sums[VALUE, rows] + pnl[rows]
        available = sums[WC, rows] + pnl[rows]
        requirement = sums[WL, rows] + sums[MM, rows]
        f_c, f_d, f_p, due, forced = _pool_fractions(rules, market, P, h, cq, cash,
                                                     pnl[rows], pool_equity, available,
                                                     requirement, pen)
        # Closed in full: forced, or a partial close whose fractions reached 1 everywhere (an
        # Aave pass repaying all the debt with all the collateral): either way nothing is left
        # at stake, and any shortfall is bad debt.
        seized_all = np.ones(rows.size, dtype=bool) if f_c is None else f_c.min(1) >= 1.0
        full = forced | (seized_all & (f_d >= 1.0) & (f_p >= 1.0))
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
    return LiquidationFlows(pool_failed, bucket_failed, pool_fraction, penalty, bad_debt, units,
                            notional, pool_detail, bucket_detail, liquidated, protocol_fee,
                            penalty - protocol_fee, bad_by_side, bad_other, fully & liquidated)


def settle_fund(fund: float, fee_total: float, bad_debt_total: float):
    """Settle one pass against the insurance fund: penalties in, then bad debt out.

    The waterfall of dYdX v4 and Hyperliquid: the protocol's share of the penalties is paid
    into the fund, the fund covers the bad debt as far as it can, and the rest is socialized.

    Parameters
    ----------
    fund : float
        Fund balance before the pass.
    fee_total : float
        Protocol share of the pass's penalties (``LiquidationFlows.protocol_fee.sum()``).
    bad_debt_total : float
        Bad debt written off in the pass.

    Returns
    -------
    fund_after, fund_payout, socialized : float
        ``fund_payout + socialized == bad_debt_total``.

    Examples
    --------
    >>> settle_fund(10.0, 2.0, 15.0)
    (0.0, 12.0, 3.0)
    """
    fund = fund + fee_total
    payout = min(fund, bad_debt_total)
    return fund - payout, payout, bad_debt_total - payout
