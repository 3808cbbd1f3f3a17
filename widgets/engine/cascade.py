"""Cascading liquidation: forced selling moves prices, which liquidates the next account.

Algorithm (deterministic): apply ``shock`` to the market's prices; then repeat — liquidate every
liquidatable pool and bucket at the current prices (:func:`~.liquidation.liquidate`'s rule and
convention), add
what the liquidations sold to the cumulative net flow per asset, move prices by the impact model —
until nothing is liquidatable or ``max_rounds`` is reached.

Impact is a function of the *cumulative* net units sold since the shock, valued at the market's
reference prices: ``x = units_sold_so_far * market.prices / depth`` (so ``depth`` is the quote
notional, at today's prices, that moves the price by 100 % under the linear model):

* ``"linear"``: ``P = P_shocked * (1 - x)`` (Cont & Schaanning's small-volume limit, as in
  fire-sale stress tests);
* ``"sqrt"``: ``P = P_shocked * (1 - sign(x) * c * sqrt(|x|))`` (the square-root law
  ``dP/P = Y sigma sqrt(Q/V)``);
* ``"exponential"``: ``P = P_shocked * exp(-k x)`` (Caccioli et al. 2014; Farmer et al.'s
  ``firesale_stresstest``).

On the **common scale** (``scale="common"``) the three models share one parameter meaning: a
sale of 1 % of depth moves the price by 1 % under each (``c = 0.1``, ``k = -ln(0.99)/0.01 =
1.00503``), so switching models compares shapes, not scales (issue 12). The **legacy scale**
uses ``c = volatility`` (``Y = 1``, depth in the role of daily volume) and ``k = 1``. The module
constant ``IMPACT_SCALE`` is the default; ``cascade(..., impact_scale=...)`` and
``price_impact(..., scale=...)`` choose per call.

Every model is bounded to ``[1 %, 100x]`` of the shocked price, so prices stay positive and
finite however large the flow.

Because impact depends only on the cumulative flow, splitting the same sales into more rounds does
not change prices; for a book that only sells, prices never rise and a deeper market never
liquidates more accounts. Net buying (liquidated shorts buying back) moves prices up.

Trades in a round execute at that round's prices, before the impact they cause; the change in the
book's mark-to-market value caused by each price move is reported as ``impact_by_round``.

References
----------
* R. Cont, E. Schaanning, "Fire sales, indirect contagion and systemic stress testing",
  Norges Bank WP 2/2017.
* F. Caccioli, M. Shrestha, C. Moore, J. D. Farmer, "Stability analysis of financial contagion
  due to overlapping portfolios", J. Banking & Finance 46 (2014).
* ``ox-inet-resilience/firesale_stresstest: markets.py`` (exponential impact).
* J.-P. Bouchaud et al., square-root impact law; Sato & Kanazawa (2024) measure exponent 0.49.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ._validate import MarginInputError, check_size
from .book import Book, as_book
from .adl import assign_adl
from .closeouts import deleveraged
from .liquidation import check_fund
from ._settlement import LiquidationState, liquidate_state, settle_fund
from .rulebook import resolve_rules
from .market import Market, shock_vector

IMPACT_MODELS = ("linear", "sqrt", "exponential")
# Impact keeps prices within [1 %, 100x] of the shocked price: positive, and finite even when
# flows dwarf the depth (the exponential model would otherwise reach 0 or overflow).
MIN_PRICE_FRACTION = 0.01
MAX_PRICE_FACTOR = 100.0
_LOG_BOUND = float(np.log(MAX_PRICE_FACTOR))


# How the three impact models are scaled (see :func:`price_impact`): "common" puts them on one
# parameter meaning (a sale of 1 % of depth moves the price 1 % under every model); "legacy" is
# the earlier scaling (square root uses the daily volatility, exponential e^-x).
IMPACT_SCALE = "common"
# Exponential rate so that 1 - exp(-k x) = x at x = 1 % of depth.
_EXP_RATE = float(-np.log(0.99) / 0.01)


def price_impact(market: Market, shocked_prices, units_sold, impact: str = "linear",
                 scale: str | None = None):
    """Prices after net sales ``units_sold`` (cumulative, per asset; negative = bought).

    With ``scale="common"`` the three models share one parameter meaning: **a sale of 1 % of
    depth moves the price by 1 %** under each of them, so switching models compares shapes, not
    scales. With ``x`` the sale as a fraction of depth:

    * linear: ``1 - x``;
    * square root: ``1 - sign(x) * 0.1 * sqrt(|x|)`` (``0.1 = 1 % / sqrt(1 %)``; the law
      ``Y sigma sqrt(Q/V)`` with depth chosen so that ``Y sigma sqrt(0.01) = 1 %``);
    * exponential: ``exp(-k x)``, ``k = -ln(0.99) / 0.01 = 1.00503`` (Caccioli et al.'s
      calibration idea, "selling a given fraction moves the price by a given amount", pinned at
      1 % instead of their 10 %).

    Selling 10 % of depth then moves the price 10 % (linear), 3.16 % (square root), 9.56 %
    (exponential). This is the default (``IMPACT_SCALE``); ``scale="legacy"`` uses
    ``volatility * sqrt(|x|)`` and ``exp(-x)``.

    Parameters
    ----------
    market : Market
        Supplies reference prices, ``depth`` and ``volatility``.
    shocked_prices : ndarray, shape (n_assets,)
    units_sold : ndarray, shape (n_assets,)
    impact : {"linear", "sqrt", "exponential"}

    Returns
    -------
    ndarray, shape (n_assets,)

    Examples
    --------
    Selling 1 % of depth moves the price 1 % under the linear model:

    >>> m = Market(["ETH"], [2_000.0], depth=1e6)
    >>> price_impact(m, np.array([2_000.0]), np.array([5.0])).round(2).tolist()
    [1980.0]
    """
    scale = IMPACT_SCALE if scale is None else scale
    if scale not in ("common", "legacy"):
        raise MarginInputError(f"scale must be 'common' or 'legacy', got {scale!r}")
    common = scale == "common"
    x = units_sold * market.prices / market.depth
    if impact == "linear":
        factor = 1.0 - x
    elif impact == "sqrt":
        factor = 1.0 - np.sign(x) * (0.1 if common else market.volatility) * np.sqrt(np.abs(x))
    elif impact == "exponential":
        factor = np.exp(-np.clip(x * (_EXP_RATE if common else 1.0), -_LOG_BOUND, _LOG_BOUND))
    else:
        raise MarginInputError(f"impact must be one of {list(IMPACT_MODELS)}, got {impact!r}")
    return shocked_prices * np.clip(factor, MIN_PRICE_FRACTION, MAX_PRICE_FACTOR)


@dataclass(frozen=True, eq=False)
class CascadeResult:
    """Round-by-round record of :func:`cascade`. ``R`` is ``n_rounds``.

    Attributes
    ----------
    prices_by_round : ndarray, shape (R + 1, n_assets)
        Row 0: prices right after the shock; row r: after round r's impact.
    liquidated_by_round, newly_liquidated_by_round : ndarray of int, shape (R,)
        Accounts with anything liquidated in the round; of those, first-time ones.
    units_sold_by_round, notional_sold_by_round : ndarray, shape (R, n_assets)
        Net units sold by liquidations (negative: bought), and their value at execution prices.
    penalty_by_round, bad_debt_by_round, socialized_loss_by_round, impact_by_round : (R,)
        Penalties paid (fund and liquidators), shortfalls written off, shortfalls not covered by
        the fund, and
        the change of the book's mark-to-market value caused by the round's price move.
    insurance_fund_by_round : ndarray, shape (R + 1,)
    first_round : ndarray of int, shape (n_accounts,)
        Round (1-based) an account was first liquidated; 0 if never.
    book : Book
        The book after the cascade.
    converged : bool
        True if the cascade stopped because nothing was left to liquidate.
    protocol_fee_by_round, liquidator_bonus_by_round : ndarray, shape (R,)
        The two shares of ``penalty_by_round`` (insurance fund, liquidators).
    socialized_by_account : ndarray, shape (n_accounts,)
        Each account's share of the socialized loss through the ADL queue (:mod:`.adl`),
        ranked on the final book at the final prices; zero for liquidated accounts. Computed
        on first access (the cascade itself does not pay for it).
    adl_rank : ndarray of int, shape (n_accounts,)
        Best 1-based place in an ADL queue at the end; 0 if not queued.
    socialized_unassigned : float
        Socialized loss no remaining account could take.
    rules : LiquidationRules
    """

    prices_by_round: np.ndarray
    liquidated_by_round: np.ndarray
    newly_liquidated_by_round: np.ndarray
    units_sold_by_round: np.ndarray
    notional_sold_by_round: np.ndarray
    penalty_by_round: np.ndarray
    bad_debt_by_round: np.ndarray
    socialized_loss_by_round: np.ndarray
    impact_by_round: np.ndarray
    insurance_fund_by_round: np.ndarray
    first_round: np.ndarray
    book: Book
    converged: bool
    assets: tuple
    reference_prices: np.ndarray
    protocol_fee_by_round: np.ndarray = None
    liquidator_bonus_by_round: np.ndarray = None
    rules: object = None
    # (loss_by_side, loss_other): what the ADL queue must absorb, assigned on first access.
    _adl_losses: tuple = None

    @cached_property
    def _adl(self):
        b = self.book
        loss_by_side, loss_other = self._adl_losses
        return assign_adl(loss_by_side, loss_other, b.holdings, b.perps, b.entry_prices,
                          b.isolated_margin, b.cash, b.isolated, self.final_prices,
                          self.first_round > 0)

    @property
    def socialized_by_account(self) -> np.ndarray:
        return self._adl.socialized_by_account

    @property
    def adl_rank(self) -> np.ndarray:
        return self._adl.adl_rank

    @property
    def socialized_unassigned(self) -> float:
        return self._adl.unassigned

    @property
    def n_rounds(self) -> int:
        return int(self.liquidated_by_round.shape[0])

    @property
    def final_prices(self) -> np.ndarray:
        return self.prices_by_round[-1]

    @property
    def liquidated(self) -> np.ndarray:
        """Accounts liquidated at any round, shape (n_accounts,)."""
        return self.first_round > 0

    @property
    def n_liquidated(self) -> int:
        return int((self.first_round > 0).sum())

    @property
    def bad_debt(self) -> float:
        return float(self.bad_debt_by_round.sum())

    @property
    def socialized_loss(self) -> float:
        return float(self.socialized_loss_by_round.sum())

    @property
    def price_change(self) -> np.ndarray:
        """Final price move vs the reference (pre-shock) prices, fractions per asset."""
        return self.final_prices / self.reference_prices - 1.0

    # -- measures over the cascade (what the labs show; the view only formats them) --------
    @property
    def protocol_fee(self) -> float:
        """Penalties paid into the insurance fund over the cascade (the protocol's share)."""
        return float(np.sum(self.protocol_fee_by_round))

    @property
    def liquidator_bonus(self) -> float:
        """Penalties paid to liquidators over the cascade (``penalty = protocol_fee +
        liquidator_bonus``)."""
        return float(np.sum(self.liquidator_bonus_by_round))

    @property
    def covered_by_fund(self) -> float:
        """Bad debt the insurance fund paid (``bad_debt - socialized_loss``)."""
        return self.bad_debt - self.socialized_loss

    @property
    def price_change_by_round(self) -> np.ndarray:
        """Price move vs the reference (pre-shock) prices after each round, shape
        ``(R + 1, n_assets)``; row 0 is the shock itself."""
        return self.prices_by_round / self.reference_prices - 1.0

    @property
    def liquidated_so_far(self) -> np.ndarray:
        """Accounts liquidated at least once by the end of each round, shape ``(R + 1,)``
        (0 at round 0, ``n_liquidated`` at the end)."""
        return np.cumsum(np.r_[0, self.newly_liquidated_by_round]).astype(np.int64)

    @property
    def bad_debt_so_far(self) -> np.ndarray:
        """Bad debt written off by the end of each round, shape ``(R + 1,)``."""
        return np.cumsum(np.r_[0.0, self.bad_debt_by_round])

    @property
    def socialized_so_far(self) -> np.ndarray:
        """Bad debt socialized (not covered by the fund) by the end of each round, ``(R + 1,)``."""
        return np.cumsum(np.r_[0.0, self.socialized_loss_by_round])

    @property
    def deleveraged(self) -> np.ndarray:
        """Accounts that give up profit to the ADL queue (``socialized_by_account > 0``), the
        largest amount first (ties: lower account index first)."""
        return deleveraged(self)

    @property
    def socialized_share_by_account(self) -> np.ndarray:
        """Each account's share of what the accounts gave up (sums to 1; all 0 when nobody
        gave up anything), shape ``(n_accounts,)``."""
        given = self.socialized_by_account
        total = float(given.sum())
        return given / total if total > 0 else np.zeros_like(given)

    def log(self) -> list:
        """One readable line per round, e.g. for an event-log widget."""
        shock = self.prices_by_round[0] / self.reference_prices - 1
        lines = ["Shock: " + (", ".join(f"{a} {c:+.1%}" for a, c in zip(self.assets, shock)
                                        if abs(c) > 5e-5) or "none")]
        for r in range(self.n_rounds):
            moved = self.prices_by_round[r + 1] / self.prices_by_round[r] - 1
            sold = ", ".join(f"{a} {'sold' if v > 0 else 'bought'} ${abs(v):,.0f}"
                             for a, v in zip(self.assets, self.notional_sold_by_round[r])
                             if abs(v) >= 0.5)
            moves = ", ".join(f"{a} {c:+.2%}" for a, c in zip(self.assets, moved) if abs(c) > 5e-5)
            lines.append(
                f"Round {r + 1}: {self.liquidated_by_round[r]:,} "
                f"account{'s' if self.liquidated_by_round[r] != 1 else ''} liquidated "
                f"({self.newly_liquidated_by_round[r]:,} new); net flow: {sold or 'none'}; "
                f"prices {moves or 'unchanged'}; fund ${self.insurance_fund_by_round[r + 1]:,.0f}; "
                f"bad debt ${self.bad_debt_by_round[r]:,.0f}")
        lines.append("Stopped: no account left to liquidate." if self.converged
                     else "Stopped: round limit reached with accounts still failing.")
        return lines


def cascade(book: Book, market: Market, shock, impact: str = "linear", max_rounds: int = 50,
            close_factor: float | None = None, insurance_fund: float = 0.0,
            rules=None, impact_scale: str | None = None) -> CascadeResult:
    """Shock prices, then liquidate and apply price impact round after round.

    Parameters
    ----------
    book : Book (or Account, treated as a one-row book)
    market : Market
    shock : float, array_like (n_assets,) or {asset: move}
        Fractional price move applied first (-0.1 is a 10 % fall); each > -1.
    impact : {"linear", "sqrt", "exponential"}
        Price-impact model (see module docstring).
    max_rounds : int, 1 .. 10,000
    close_factor : float in (0, 1], optional
        Fixed fraction of every position at stake closed per round (see
        :func:`~.liquidation.liquidate`); default: the market's rules.
    insurance_fund : float >= 0
        Fund balance before the cascade.
    rules : LiquidationRules or str, optional
        Liquidation convention (:mod:`.rulebook`); overrides ``close_factor``.
    impact_scale : {"common", "legacy"}, optional
        Scaling of the impact models (:func:`price_impact`); default ``IMPACT_SCALE``.

    Returns
    -------
    CascadeResult

    Examples
    --------
    Three accounts, each 1 unit of collateral (weight 0.8) against quote debt; a 5 % shock fails
    the weakest, whose sale (a full close) knocks the price down further and fails the next:

    >>> from widgets.engine import Market, Book, Account
    >>> m = Market(["X"], [100.0], asset_weight=0.8, liquidation_penalty=0.05, depth=2_000.0)
    >>> b = Book.from_accounts([Account([1.0], cash=-d) for d in (77.0, 74.0, 60.0)])
    >>> res = cascade(b, m, shock=-0.05, rules="full")
    >>> res.n_liquidated, res.prices_by_round.round(2)[:, 0].tolist()
    (2, [95.0, 90.25, 85.5])
    """
    book, _ = as_book(book, market, "book")
    if impact not in IMPACT_MODELS:
        raise MarginInputError(f"impact must be one of {list(IMPACT_MODELS)}, got {impact!r}")
    max_rounds = check_size("max_rounds", max_rounds, 1, 10_000)
    rules = resolve_rules(market, rules, close_factor)
    fund = check_fund(insurance_fund)
    if impact_scale not in (None, "common", "legacy"):
        raise MarginInputError(f"impact_scale must be 'common' or 'legacy', got {impact_scale!r}")
    shocked = market.prices * (1.0 + shock_vector(market, shock))

    state = LiquidationState(book)
    P = shocked
    cumulative = np.zeros(market.n_assets)
    first_round = np.zeros(book.n_accounts, dtype=np.int64)
    prices, funds = [P], [fund]
    rec = {k: [] for k in ("liq", "new", "units", "notional", "penalty", "bad", "social",
                           "impact", "fee", "bonus")}
    loss_by_side = np.zeros((market.n_assets, 2))
    loss_other = 0.0
    converged = False
    for r in range(1, max_rounds + 1):
        flows = liquidate_state(state, market, P, rules, detail=False)
        hit = flows.liquidated
        if not hit.any():
            converged = True
            break
        new = hit & (first_round == 0)
        first_round[new] = r
        fee, bad = float(flows.protocol_fee.sum()), float(flows.bad_debt.sum())
        fund, _, social = settle_fund(fund, fee, bad)
        if social > 0:
            loss_by_side += flows.bad_by_side * (social / bad)
            loss_other += flows.bad_other * (social / bad)
        cumulative += flows.units_sold
        P_next = price_impact(market, shocked, cumulative, impact, impact_scale)
        # Mark-to-market change of what the book still holds, caused by this price move. (Summed
        # afresh, not updated by the units sold: rounding residue would book impact on positions
        # that no longer exist. einsum's column sum is ~4x faster than .sum(0) here.)
        exposure = np.einsum("ij->j", state.h) + np.einsum("ij->j", state.q)
        rec["impact"].append(float(exposure @ (P_next - P)))
        rec["liq"].append(int(hit.sum()))
        rec["new"].append(int(new.sum()))
        rec["units"].append(flows.units_sold)
        rec["notional"].append(flows.units_sold * P)
        rec["penalty"].append(float(flows.penalty.sum()))
        rec["fee"].append(fee)
        rec["bonus"].append(float(flows.liquidator_bonus.sum()))
        rec["bad"].append(float(flows.bad_debt.sum()))
        rec["social"].append(social)
        P = P_next
        prices.append(P)
        funds.append(fund)
    else:
        pools, buckets = state.failing(market, P)[:2]
        converged = not (pools.any() or buckets.any())

    n = market.n_assets
    as_rows = lambda k: np.array(rec[k]).reshape(-1, n)  # noqa: E731
    return CascadeResult(
        prices_by_round=np.array(prices), liquidated_by_round=np.array(rec["liq"], dtype=np.int64),
        newly_liquidated_by_round=np.array(rec["new"], dtype=np.int64),
        units_sold_by_round=as_rows("units"), notional_sold_by_round=as_rows("notional"),
        penalty_by_round=np.array(rec["penalty"]), bad_debt_by_round=np.array(rec["bad"]),
        socialized_loss_by_round=np.array(rec["social"]), impact_by_round=np.array(rec["impact"]),
        insurance_fund_by_round=np.array(funds), first_round=first_round, book=state.to_book(),
        converged=converged, assets=market.assets, reference_prices=market.prices,
        protocol_fee_by_round=np.array(rec["fee"]),
        liquidator_bonus_by_round=np.array(rec["bonus"]),
        rules=rules, _adl_losses=(loss_by_side, loss_other))
