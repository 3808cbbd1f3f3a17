"""A book's simulated P&L: cross vs isolated liquidation probability, its histogram, quantiles.

Lesson 03 asks how often one book is liquidated over a horizon when it is margined as one cross
pool and when the same positions sit in isolated buckets (:func:`~.pooling.isolated_twin`), and
what the cross account's profit and loss looks like across the simulated scenarios. Both modes
face the same simulated prices (common random numbers: one ``seed``), so their difference is the
margin mode's alone.

* :func:`cross_vs_isolated` — simulate once; the share of scenarios in which each mode is
  liquidatable, the cross account's P&L per scenario, and its exposure now (equity, and the
  health: the loss the cross pool can take before it is liquidatable).
* :func:`pnl_histogram` — the share of scenarios per P&L bin, with the bin edges.
* :func:`pnl_quantiles` — P&L quantiles (the worst 1 %, 5 %, the median).

References
----------
* P. Glasserman, *Monte Carlo Methods in Financial Engineering*, Springer (2003), §4.1
  (common random numbers: comparing two systems on the same draws) and §9.1 (estimating
  loss probabilities and quantiles from simulated portfolio losses).
* R. J. Hyndman and Y. Fan, "Sample quantiles in statistical packages", *The American
  Statistician* 50 (1996) 361-365 (the quantile definition used here is their type 7, numpy's
  default ``linear`` method).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import MarginInputError, as_float_array, check_range, check_size
from .book import Account, Book
from .margin import margin_report
from .market import Market
from .pooling import isolated_twin
from .scenarios import correlated_returns

#: The P&L quantiles lesson 03 quotes: the worst 1 % and 5 % of scenarios, and the median.
PNL_LEVELS = (0.01, 0.05, 0.5)


@dataclass(frozen=True)
class CrossIsolatedRisk:
    """One book simulated in cross and in isolated mode on the same scenarios.

    Attributes
    ----------
    probability_cross : float
        Share of scenarios in which the cross account is liquidatable (health < 0).
    probability_isolated : float
        Share of scenarios in which its isolated twin is liquidatable (its pool or any bucket).
    pnl : ndarray, shape (n_scenarios,)
        The cross account's P&L in each scenario: equity at the scenario's prices minus equity
        now.
    equity_now : float
        The cross account's equity at the market's prices.
    health_now : float
        Its health now (equity less maintenance margin): about the loss the cross pool can take
        before it is liquidatable (maintenance margin moves a little with prices too).
    """

    probability_cross: float
    probability_isolated: float
    pnl: np.ndarray
    equity_now: float
    health_now: float

    @property
    def probabilities(self) -> tuple:
        """``(probability_cross, probability_isolated)``."""
        return self.probability_cross, self.probability_isolated


def cross_vs_isolated(account: Account, market: Market, n_scenarios: int = 10_000,
                      horizon_days: float = 1.0, seed=None) -> CrossIsolatedRisk:
    """Liquidation probability of ``account`` (cross) and of its isolated twin, and its P&L.

    Prices move by :func:`~.scenarios.correlated_returns` of ``market`` (its volatilities and
    correlation) over ``horizon_days``; scenario ``s`` has prices ``P * (1 + r_s)``. The book
    ``[account, isolated_twin(account, market)]`` is evaluated at every scenario's prices:

    ``probability_mode = #{s : health_mode(P_s) < 0} / n_scenarios``,
    ``pnl_s = equity_cross(P_s) - equity_cross(P)``.

    Both accounts see the same scenarios (common random numbers), so the same ``seed`` gives the
    same numbers as :func:`~.scenarios.liquidation_probability` called on each of them.

    Parameters
    ----------
    account : Account
        A cross account (its isolated twin splits its cash in proportion to initial margin).
    market : Market
        Prices, margin rules, volatilities and the correlation to simulate (e.g. a market
        blended toward crisis correlation with :func:`~.scenarios.stress_correlation`).
    n_scenarios : int, default 10,000
    horizon_days : float, default 1
    seed : int or None
        The same seed draws the same scenarios.

    Returns
    -------
    CrossIsolatedRisk

    Raises
    ------
    MarginInputError
        For an account that is not in cross mode, or a bad size, horizon or seed.

    Examples
    --------
    $50,000 of BTC, ETH and SOL perps each on 10,000 USDC: maintenance margin
    625 + 1,000 + 1,250 = 2,875, so the health now is 10,000 - 2,875 = 7,125.

    >>> from widgets.engine import diversified_account
    >>> m = Market.example()
    >>> risk = cross_vs_isolated(diversified_account(m), m, 1_000, seed=0)
    >>> risk.equity_now, risk.health_now
    (10000.0, 7125.0)
    >>> risk.probability_cross < risk.probability_isolated
    True
    """
    if not isinstance(account, Account):
        raise MarginInputError(f"account must be an Account, got {type(account).__name__}")
    n = check_size("n_scenarios", n_scenarios, 1, 1_000_000)
    twin = isolated_twin(account, market)            # refuses an account not in cross mode
    book = Book.from_accounts([account, twin])
    returns = correlated_returns(market, n, horizon_days, seed)
    report = margin_report(book, market, prices=market.prices * (1.0 + returns))
    now = margin_report(account, market)
    prob = report.liquidatable.mean(0)
    equity_now = float(now.equity)
    return CrossIsolatedRisk(
        probability_cross=float(prob[0]), probability_isolated=float(prob[1]),
        pnl=report.equity[:, 0] - equity_now, equity_now=equity_now,
        health_now=float(now.health))


@dataclass(frozen=True)
class PnlHistogram:
    """Shares of scenarios per P&L bin.

    Attributes
    ----------
    shares : ndarray, shape (n_bins,)
        ``count_in_bin / n_scenarios``; sums to 1 when every value lies in ``[lo, hi]``.
    edges : ndarray, shape (n_bins + 1,)
        Bin edges, evenly spaced from ``lo`` to ``hi``.
    """

    shares: np.ndarray
    edges: np.ndarray

    @property
    def centres(self) -> np.ndarray:
        """The middle of each bin, shape (n_bins,)."""
        return (self.edges[:-1] + self.edges[1:]) / 2


def pnl_histogram(pnl, lo: float, hi: float, n_bins: int) -> PnlHistogram:
    """The share of scenarios whose P&L falls in each of ``n_bins`` equal bins over ``[lo, hi]``.

    ``edges_k = lo + k (hi - lo) / n_bins``; bin ``k`` holds ``edges_k <= x < edges_{k+1}``, the
    last bin also ``x = hi`` (numpy's ``histogram``); ``share_k = count_k / len(pnl)``, so values
    outside ``[lo, hi]`` count in no bin and the shares then sum to less than 1.

    Parameters
    ----------
    pnl : array_like, shape (n,)
        Finite P&L values, at least one.
    lo, hi : float
        The range, ``lo < hi``, both finite.
    n_bins : int
        1 to 10,000.

    Returns
    -------
    PnlHistogram

    Examples
    --------
    >>> h = pnl_histogram([-1.0, -0.5, 0.0, 0.5, 1.0], -1.0, 1.0, 4)
    >>> h.edges.tolist(), h.shares.tolist()
    ([-1.0, -0.5, 0.0, 0.5, 1.0], [0.2, 0.2, 0.2, 0.4])
    """
    x = _finite_sample(pnl)
    bounds = as_float_array("P&L range", [lo, hi])
    if not bounds[0] < bounds[1]:
        raise MarginInputError(f"P&L range needs lo < hi, got [{bounds[0]:g}, {bounds[1]:g}]")
    n = check_size("n_bins", n_bins, 1, 10_000)
    counts, edges = np.histogram(x, np.linspace(bounds[0], bounds[1], n + 1))
    return PnlHistogram(shares=counts / x.size, edges=edges)


def pnl_quantiles(pnl, levels=PNL_LEVELS) -> dict:
    """P&L quantiles, named by their level: ``{"1%": q_0.01, "5%": q_0.05, "50%": q_0.5}``.

    The sample quantile is Hyndman & Fan's type 7 (numpy's default): with the values sorted,
    ``x_(1) <= ... <= x_(n)``, and ``h = (n - 1) p``, ``q_p = x_(floor h + 1) + (h - floor h)
    (x_(floor h + 2) - x_(floor h + 1))``. The 1 % quantile is the P&L that only 1 % of
    scenarios do worse than (a one-day 99 % value at risk is ``-q_0.01``).

    Parameters
    ----------
    pnl : array_like, shape (n,)
        Finite P&L values, at least one.
    levels : sequence of float, default (0.01, 0.05, 0.5)
        Each in [0, 1].

    Returns
    -------
    dict of str to float
        Keyed ``f"{100 * level:g}%"``.

    Examples
    --------
    >>> pnl_quantiles([-300.0, -100.0, 0.0, 100.0, 300.0])   # h = 0.04, 0.2, 2
    {'1%': -292.0, '5%': -260.0, '50%': 0.0}
    """
    x = _finite_sample(pnl)
    p = as_float_array("levels", levels).ravel()
    check_range("levels", p, 0.0, 1.0)
    q = np.quantile(x, p)
    return {f"{100 * float(level):g}%": float(v) for level, v in zip(p, q)}


def _finite_sample(pnl) -> np.ndarray:
    x = as_float_array("pnl", pnl).ravel()
    if x.size == 0:
        raise MarginInputError("pnl must hold at least one value, got none")
    return x
