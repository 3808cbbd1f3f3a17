"""The finance behind the mechanism pictures: a liquidation path, an ADL queue, a policy score.

Three small computations the lessons used to do inline, each built on the public engine
(:func:`~.liquidation.liquidate`, :func:`~.margin.margin_report`, :func:`~.cascade.cascade`,
:meth:`~.book.Book.random`), so a chart and a test can call the same function:

* :func:`liquidation_path` — repeated liquidation calls at fixed prices, recording LTV, health,
  health factor and equity after every call: the *toxic liquidation spiral* of Warmuz,
  Chaudhary and Pinna (2022), with the LTV frontier above which a partial liquidation raises LTV.
* :func:`adl_queue` — the auto-deleveraging queue of one side of one perp, ranked by
  ``PnL % x effective leverage`` (BitMEX's published formula; Hyperliquid ranks "by unrealized
  pnl and leverage used"), and a bankrupt position's size closed against it in that order at its
  bankruptcy price.
* :func:`stress_policy`, :func:`score_policy`, :func:`pareto_front` — a margin policy scored on
  crisis bad debt against capital efficiency (Gauntlet's insolvency / capital-efficiency axes),
  the capstone's method.

References
----------
* A. Warmuz, A. Chaudhary, D. Pinna, "Toxic Liquidation Spirals", arXiv:2212.07306 (2022).
* BitMEX, "What is Auto-Deleveraging":
  https://support.bitmex.com/hc/en-gb/articles/18589621443357-What-is-Auto-Deleveraging
* Hyperliquid, auto-deleveraging:
  https://hyperliquid.gitbook.io/hyperliquid-docs/trading/auto-deleveraging
* dYdX v4, deleveraging at the bankruptcy price: ``dydxprotocol/v4-documentation:
  docs/pages/concepts/trading/liquidations.mdx``.
* Gauntlet, "Market Risk Primer": https://governance.aave.com/t/gauntlet-market-risk-primer/2097
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import MarginInputError, as_float_array, check_range, check_size
from .book import Account, Book, as_book  # noqa: F401 (Account: doctests)
from .cascade import CascadeResult, cascade
from .adl import adl_scores
from .liquidation import liquidate
from .margin import margin_report
from .market import Market, resolve_prices
from .rulebook import LiquidationRules, resolve_rules  # noqa: F401 (doctests)

MAX_CALLS = 50


def loan_to_value(book: Book, prices) -> np.ndarray:
    """Debt / collateral of every account at ``prices`` (spot holdings and cash; perps ignored).

    Debt is what the account owes (negative holdings at market value plus negative cash);
    collateral is what it owns (positive holdings plus positive cash). NaN for an account with
    neither (a fully closed account); ``inf`` for debt with no collateral.

    Examples
    --------
    >>> b = Book.from_accounts([Account([5.0], cash=-9_600.0)])
    >>> loan_to_value(b, np.array([2_000.0])).tolist()       # 9,600 / 10,000
    [0.96]
    """
    P = np.asarray(prices, dtype=float)
    value = book.holdings * P
    debt = np.maximum(-value, 0.0).sum(1) + np.maximum(-book.cash, 0.0)
    collateral = np.maximum(value, 0.0).sum(1) + np.maximum(book.cash, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ltv = np.where(collateral > 0, debt / np.where(collateral > 0, collateral, 1.0),
                       np.where(debt > 0, np.inf, np.nan))
    return ltv


def ltv_frontier(book: Book, market: Market, prices=None, close_factor=None,
                 rules=None) -> np.ndarray:
    """The LTV above which a partial liquidation *raises* an account's LTV, per account.

    A call sells collateral worth ``S`` and repays debt ``R`` with it; LTV ``D / C`` becomes
    ``(D - R) / (C - S)``, which is higher exactly when ``D / C > R / S``. So the frontier is the
    debt repaid per unit of collateral sold, set by the penalty ``p`` (the value-weighted
    ``liquidation_penalty`` of the account's collateral) and its basis in the rules the call uses
    (:func:`~.rulebook.resolve_rules`, the same arguments as :func:`~.liquidation.liquidate`):

    * penalty on the notional closed (``penalty_basis="notional"``, the engine's original rule):
      ``R = S (1 - p)``, frontier ``1 - p``;
    * penalty on the debt (``"debt"``): Aave seizes ``S = R (1 + p)``; a ``"fraction"`` call
      closing ``f`` of everything pays ``p f D`` and gives ``LTV' = (LTV (1 + p f) - f) /
      (1 - f)``; either way the frontier is ``1 / (1 + p)`` — Warmuz et al.'s ``1 / (1 + LI)``.

    Exact for spot collateral against quote debt; NaN where an account has no collateral.

    Examples
    --------
    >>> m = Market(["ETH"], [2_000.0], asset_weight=0.825, liquidation_penalty=0.05)
    >>> b = Book.from_accounts([Account([5.0], cash=-9_000.0)])
    >>> ltv_frontier(b, m, rules=LiquidationRules.fraction(0.5, "notional")).round(4).tolist()
    [0.95]
    >>> ltv_frontier(b, m, rules=LiquidationRules.aave()).round(4).tolist()   # 1 / 1.05
    [0.9524]
    """
    book, _ = as_book(book, market, "book")
    P = resolve_prices(market, prices)
    basis = resolve_rules(market, rules, close_factor).penalty_basis
    value = np.maximum(book.holdings * P, 0.0)
    total = value.sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = (value * market.liquidation_penalty).sum(1) / total
    frontier = 1.0 - p if basis == "notional" else 1.0 / (1.0 + p)
    return np.where(total > 0, frontier, np.nan)


@dataclass(frozen=True, eq=False)
class LiquidationPath:
    """Record of :func:`liquidation_path`. ``K`` is the number of calls, ``A`` of accounts.

    Attributes
    ----------
    ltv, health, health_factor, equity : ndarray, shape (K + 1, A)
        Row 0 before any call, row k after call k, at the path's prices.
    penalty, bad_debt : ndarray, shape (K, A)
        Paid into the fund and written off by each call.
    liquidated : ndarray of bool, shape (K, A)
        Whether call k liquidated anything of the account.
    frontier : ndarray, shape (A,)
        :func:`ltv_frontier` of the starting book.
    book : Book
        The book after the last call.
    """

    ltv: np.ndarray
    health: np.ndarray
    health_factor: np.ndarray
    equity: np.ndarray
    penalty: np.ndarray
    bad_debt: np.ndarray
    liquidated: np.ndarray
    frontier: np.ndarray
    book: Book

    @property
    def n_calls(self) -> int:
        return int(self.penalty.shape[0])

    @property
    def ltv_rising(self) -> np.ndarray:
        """Per account: True when the first call *raised* the LTV (the toxic spiral: the
        account started above :attr:`frontier`); False when it fell or no call was made."""
        if self.n_calls == 0:
            return np.zeros(self.ltv.shape[1], dtype=bool)
        return self.ltv[1] > self.ltv[0]

    def last_call(self) -> np.ndarray:
        """Per account, the last call that liquidated anything (0 if none)."""
        k = np.arange(1, self.n_calls + 1)[:, None]
        return np.where(self.liquidated, k, 0).max(0)


def liquidation_path(book, market: Market, close_factor: float | None = 0.5, calls: int = 4,
                     prices=None, rules=None) -> LiquidationPath:
    """Call :func:`~.liquidation.liquidate` ``calls`` times at fixed prices, recording each step.

    Parameters
    ----------
    book : Book or Account
    market : Market
    close_factor : float in (0, 1] or None, default 0.5
        Passed to every call (a fixed fraction of every position at stake).
    calls : int in [1, 50], default 4
    prices : array_like, shape (n_assets,), optional
        Default ``market.prices``; the price does not move between calls (the spiral of Warmuz et
        al. is driven by the liquidation rule alone).
    rules : LiquidationRules or str, optional
        A venue convention, passed to every call (overrides ``close_factor``).

    Returns
    -------
    LiquidationPath

    Examples
    --------
    Two accounts with 5 ETH at 2,000: A owes 9,000 (LTV 0.90), B owes 9,600 (0.96); penalty
    5 % of the notional closed, so the frontier is 0.95. One call closing half sells 2.5 ETH
    (5,000), pays 250 and repays 4,750: A's LTV falls to 4,250 / 5,000 = 0.85, B's rises to
    4,850 / 5,000 = 0.97:

    >>> m = Market(["ETH"], [2_000.0], asset_weight=0.825, liquidation_penalty=0.05)
    >>> pair = Book.from_accounts([Account([5.0], cash=-9_000.0), Account([5.0], cash=-9_600.0)])
    >>> half = LiquidationRules.fraction(0.5, penalty_basis="notional")
    >>> path = liquidation_path(pair, m, calls=1, rules=half)
    >>> path.ltv.round(4).tolist()
    [[0.9, 0.96], [0.85, 0.97]]
    """
    book, _ = as_book(book, market, "book")
    P = resolve_prices(market, prices)
    if P.ndim != 1:
        raise MarginInputError(f"prices must have shape ({market.n_assets},), got shape {P.shape}")
    calls = check_size("calls", calls, 1, MAX_CALLS)
    rows = {k: [] for k in ("ltv", "health", "health_factor", "equity")}

    def record(b):
        r = margin_report(b, market, prices=P)
        rows["ltv"].append(loan_to_value(b, P))
        rows["health"].append(np.asarray(r.health, dtype=float))
        rows["health_factor"].append(np.asarray(r.health_factor, dtype=float))
        rows["equity"].append(np.asarray(r.equity, dtype=float))

    record(book)
    penalty, bad, liq = [], [], []
    current = book
    for _ in range(calls):
        res = liquidate(current, market, prices=P, close_factor=close_factor, rules=rules)
        penalty.append(res.penalty)
        bad.append(res.bad_debt)
        liq.append(res.liquidated)
        current = res.book
        record(current)
    return LiquidationPath(**{k: np.array(v) for k, v in rows.items()},
                           penalty=np.array(penalty), bad_debt=np.array(bad),
                           liquidated=np.array(liq),
                           frontier=ltv_frontier(book, market, P, close_factor, rules),
                           book=current)


@dataclass(frozen=True, eq=False)
class AdlQueue:
    """Record of :func:`adl_queue`: one side of one perp, ranked for auto-deleveraging.

    Attributes
    ----------
    order : ndarray of int
        Accounts in the queue (profitable positions on ``side``), first to be deleveraged first.
    rank, pnl_pct, leverage, pnl : ndarray, shape (n_accounts,)
        ``pnl_pct x leverage`` (:func:`~.adl.adl_scores`); unrealized PnL / entry notional;
        position notional / the equity backing it (the pool's for cross, the bucket's for
        isolated); unrealized profit. ``rank`` is NaN for accounts not in the queue,
        ``leverage`` NaN where the position is not profitable.
    closed_units, given_up : ndarray, shape (n_accounts,)
        Units of the position closed against the bankrupt one, and the profit that costs the
        account (closing at the bankruptcy price instead of the mark).
    quantity, bankruptcy_price, mark : float
    unfilled : float
        Units of the bankrupt position the queue could not absorb.
    """

    order: np.ndarray
    rank: np.ndarray
    pnl_pct: np.ndarray
    leverage: np.ndarray
    pnl: np.ndarray
    closed_units: np.ndarray
    given_up: np.ndarray
    quantity: float
    bankruptcy_price: float
    mark: float
    unfilled: float
    asset: str
    side: str


def adl_queue(book, market: Market, asset: str, side: str, quantity: float = 0.0,
              bankruptcy_price: float | None = None, prices=None) -> AdlQueue:
    """Rank ``side`` positions in ``asset`` for auto-deleveraging; close ``quantity`` against them.

    Ranking: the engine's :func:`~.adl.adl_scores` (BitMEX's formula): for a profitable
    position, ``rank = PnL % x effective leverage`` with ``PnL % = unrealized PnL / |entry
    notional|`` and ``effective leverage = |notional at mark| / equity`` (the cross pool's equity,
    or the isolated bucket's margin + uPnL); highest first. Positions at a loss, and accounts that
    are themselves liquidatable (they are liquidated, not deleveraged), are not in the queue.

    Assignment: a bankrupt position of ``quantity`` units on the other side is closed against
    the queue in rank order, each account closing at most its whole position, at the bankrupt
    position's ``bankruptcy_price`` (dYdX v4, BitMEX); an account gives up
    ``closed units x |mark - bankruptcy price|`` of profit. Hyperliquid closes at the previous
    oracle price instead.

    Parameters
    ----------
    book : Book or Account
    market : Market
    asset : str
        The perp's asset name.
    side : {"long", "short"}
        The side being deleveraged (the opposite of the bankrupt position).
    quantity : float >= 0, default 0
        Units of the bankrupt position to close (0: rank only).
    bankruptcy_price : float > 0, optional
        Required when ``quantity > 0``.
    prices : array_like, optional
        Mark prices; default ``market.prices``.

    Examples
    --------
    Lesson 6's three shorts of 1 X at mark 100 (entries 180, 105, 101; cash 250, 45, 19). The
    hedge: PnL 80 / 180 = 0.444, leverage 100 / 330 = 0.303, rank 0.135; the 2x short: 5 / 105 x
    100 / 50 = 0.095; the 5x short: 1 / 101 x 100 / 20 = 0.050. A bankrupt long of 1.5 X with
    bankruptcy price 103 closes the hedge (1 X) then half of the 2x short, each giving up 3 per
    unit:

    >>> x = Market(["X"], [100.0], maintenance_margin=0.03, initial_margin=0.05)
    >>> shorts = Book.from_accounts([Account([0.0], perps=[-1.0], entry_prices=[e], cash=c)
    ...                              for e, c in ((180.0, 250.0), (105.0, 45.0), (101.0, 19.0))])
    >>> q = adl_queue(shorts, x, "X", "short", quantity=1.5, bankruptcy_price=103.0)
    >>> q.order.tolist(), q.rank.round(3).tolist()
    ([0, 1, 2], [0.135, 0.095, 0.05])
    >>> q.closed_units.tolist(), q.given_up.tolist()
    ([1.0, 0.5, 0.0], [3.0, 1.5, 0.0])
    """
    book, _ = as_book(book, market, "book")
    if asset not in market.assets:
        raise MarginInputError(f"asset must be one of {list(market.assets)}, got {asset!r}")
    if side not in ("long", "short"):
        raise MarginInputError(f"side must be 'long' or 'short', got {side!r}")
    qty = float(as_float_array("quantity", quantity))
    check_range("quantity", np.asarray(qty), 0.0, None)
    P = resolve_prices(market, prices)
    if P.ndim != 1:
        raise MarginInputError(f"prices must have shape ({market.n_assets},), got shape {P.shape}")
    if qty > 0:
        if bankruptcy_price is None:
            raise MarginInputError("bankruptcy_price is needed to close a quantity, got None")
        bp = float(as_float_array("bankruptcy_price", bankruptcy_price))
        check_range("bankruptcy_price", np.asarray(bp), 0.0, None, low_open=True)
    else:
        bp = float("nan") if bankruptcy_price is None else float(bankruptcy_price)
    c = market.assets.index(asset)
    q, mark = book.perps[:, c], float(P[c])
    # The ranking is the engine's (adl.adl_scores): NaN unless the position is profitable.
    score, profit = adl_scores(book.holdings, book.perps, book.entry_prices,
                               book.isolated_margin, book.cash, book.isolated, P)
    score, pnl = score[:, c], profit[:, c]
    entry = np.abs(q * book.entry_prices[:, c])
    with np.errstate(divide="ignore", invalid="ignore"):
        pnl_pct = np.where(entry > 0, pnl / np.where(entry > 0, entry, 1.0), 0.0)
        leverage = np.where(pnl_pct > 0, score / np.where(pnl_pct > 0, pnl_pct, 1.0), np.nan)
    # An account that is itself liquidatable is liquidated, not deleveraged.
    failing = np.asarray(margin_report(book, market, prices=P).liquidatable).reshape(-1)
    on_side = q < 0 if side == "short" else q > 0
    queued = on_side & np.isfinite(score) & ~failing
    rank = np.where(queued, score, np.nan)
    idx = np.flatnonzero(queued)
    order = idx[np.argsort(-rank[idx], kind="stable")]
    size = np.abs(q[order])
    before = np.concatenate([[0.0], np.cumsum(size)[:-1]])
    take = np.clip(qty - before, 0.0, size)
    closed = np.zeros(book.n_accounts)
    closed[order] = take
    given = closed * (abs(mark - bp) if qty > 0 else 0.0)
    return AdlQueue(order=order, rank=rank, pnl_pct=pnl_pct, leverage=leverage, pnl=pnl,
                    closed_units=closed, given_up=given, quantity=qty, bankruptcy_price=bp,
                    mark=mark, unfilled=max(qty - float(size.sum()), 0.0), asset=asset, side=side)


@dataclass(frozen=True, eq=False)
class PolicyScore:
    """One policy scored by :func:`score_policy` (money in the quote currency).

    Attributes
    ----------
    bad_debt : crisis bad debt of the adapted book.
    fund_needed : the smallest insurance fund that leaves nothing socialized (= the loss
        socialized when there is no fund).
    n_liquidated : accounts liquidated in the crisis.
    notional : perp notional of the adapted book at the policy's prices.
    capital_efficiency : ``notional / baseline_notional`` (1.0 = today's trading kept).
    result : the crisis :class:`~.cascade.CascadeResult`.
    """

    bad_debt: float
    fund_needed: float
    n_liquidated: int
    notional: float
    capital_efficiency: float
    result: CascadeResult

    def line(self, name: str) -> str:
        """One line of the capstone's table."""
        return (f"{name:15s} bad debt ${self.bad_debt / 1e6:6.1f}M | fund needed "
                f"${self.fund_needed / 1e6:6.1f}M | liquidated {self.n_liquidated:5,} "
                f"| notional kept {self.capital_efficiency:4.0%}")


def perp_notional(book: Book, market: Market) -> float:
    """Total perp notional of ``book`` at ``market``'s prices (``sum |q| x P``)."""
    return float((np.abs(book.perps) @ market.prices).sum())


def stress_policy(policy: Market, shock, n_accounts: int = 10_000, seed: int = 0,
                  preset: str = "calm", **cascade_kwargs) -> tuple:
    """The same traders rebuilt under ``policy``, then the crisis cascade.

    ``Book.random(policy, n_accounts, seed, preset=preset)`` draws the same traders (equity,
    assets, direction, share of their limits used) and sizes their positions to ``policy``'s
    limits (stylized: the book after it has adapted to new rules). ``preset`` is the book's
    calibration (``"calm"``, the venue default, or ``"overheated"``; see :meth:`Book.random`).
    Returns ``(adapted_book, cascade_result)``; extra keyword arguments go to
    :func:`~.cascade.cascade`.
    """
    adapted = Book.random(policy, n_accounts, seed=seed, preset=preset)
    return adapted, cascade(adapted, policy, shock, **cascade_kwargs)


def score_policy(policy: Market, shock, baseline_notional: float, n_accounts: int = 10_000,
                 seed: int = 0, preset: str = "calm", **cascade_kwargs) -> PolicyScore:
    """Score ``policy``: crisis bad debt against capital efficiency (Gauntlet's two main axes).

    Parameters
    ----------
    policy : Market
        The venue with the policy's weights and margins (and depth).
    shock : dict or array_like
        The crisis, as for :func:`~.cascade.cascade`.
    baseline_notional : float > 0
        Perp notional of today's book (:func:`perp_notional`); capital efficiency is the
        adapted book's notional as a share of it.
    n_accounts, seed, preset : the book drawn by :func:`stress_policy`.

    Returns
    -------
    PolicyScore

    Examples
    --------
    >>> m = Market.example()
    >>> base = perp_notional(Book.random(m, 500, seed=0), m)
    >>> s = score_policy(m, {"BTC": -0.2, "ETH": -0.2, "SOL": -0.2}, base, n_accounts=500)
    >>> round(s.capital_efficiency, 6), s.fund_needed <= s.bad_debt
    (1.0, True)
    """
    base = float(as_float_array("baseline_notional", baseline_notional))
    check_range("baseline_notional", np.asarray(base), 0.0, None, low_open=True)
    adapted, res = stress_policy(policy, shock, n_accounts, seed, preset, **cascade_kwargs)
    notional = perp_notional(adapted, policy)
    return PolicyScore(bad_debt=float(res.bad_debt), fund_needed=float(res.socialized_loss),
                       n_liquidated=int(res.n_liquidated), notional=notional,
                       capital_efficiency=notional / base, result=res)


def pareto_front(efficiency, bad_debt) -> np.ndarray:
    """Mask of the policies no other policy beats on both axes.

    A policy is dominated when another keeps at least as much capital efficiency with at most
    as much bad debt, and is strictly better on one of the two. Ties (identical points) are all
    on the front.

    Examples
    --------
    >>> pareto_front([1.0, 0.5, 0.5, 0.3], [180.0, 60.0, 90.0, 60.0]).tolist()
    [True, True, False, False]
    """
    e = as_float_array("efficiency", efficiency).reshape(-1)
    b = as_float_array("bad_debt", bad_debt).reshape(-1)
    if e.shape != b.shape:
        raise MarginInputError(f"efficiency and bad_debt must have the same length, got "
                               f"{e.size} and {b.size}")
    ge = (e[None, :] >= e[:, None]) & (b[None, :] <= b[:, None])
    strict = (e[None, :] > e[:, None]) | (b[None, :] < b[:, None])
    return ~(ge & strict).any(1)


def dominated_by(efficiency, bad_debt) -> np.ndarray:
    """For each policy, the policy on the :func:`pareto_front` that beats it (keeps at least
    as much capital efficiency with at most as much bad debt), -1 for a policy on the front.

    Of several frontier policies that beat it, the one keeping the least capital efficiency
    (the nearest along the front from its cheap end).

    Examples
    --------
    >>> dominated_by([1.0, 0.5, 0.5, 0.3], [180.0, 60.0, 90.0, 60.0]).tolist()
    [-1, -1, 1, 1]
    """
    front = pareto_front(efficiency, bad_debt)
    e = np.asarray(efficiency, dtype=float).reshape(-1)
    b = np.asarray(bad_debt, dtype=float).reshape(-1)
    fi = np.flatnonzero(front)
    fi = fi[np.argsort(e[fi], kind="stable")]
    out = np.full(e.size, -1)
    for i in np.flatnonzero(~front):
        better = fi[(e[fi] >= e[i]) & (b[fi] <= b[i])]
        out[i] = better[0] if better.size else -1
    return out
