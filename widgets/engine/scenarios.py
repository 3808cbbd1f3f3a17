"""Correlated price scenarios, crisis correlation, and the probability of liquidation.

Returns are simulated as correlated lognormal moves over ``horizon_days``:
``log(1 + r) = sigma * sqrt(h) * z - sigma**2 * h / 2`` with ``z ~ N(0, correlation)``, so each
asset's expected price is unchanged (no drift) and prices stay positive.
"""
from __future__ import annotations

import numpy as np

from ._validate import (
    MAX_CELLS,
    MAX_SCENARIOS,
    MarginInputError,
    as_float_array,
    check_correlation,
    check_range,
    check_size,
)
from .book import as_book
from .market import Market
from .margin import margin_report


def _matrix_root(corr: np.ndarray) -> np.ndarray:
    """``L`` with ``L @ L.T == corr``; Cholesky when positive definite, else symmetric root.

    A crisis matrix blended fully toward all-ones is only semi-definite, where Cholesky fails; the
    eigen-decomposition root handles both.
    """
    try:
        return np.linalg.cholesky(corr)
    except np.linalg.LinAlgError:
        vals, vecs = np.linalg.eigh(corr)
        return vecs * np.sqrt(np.clip(vals, 0.0, None))


def correlated_returns(market: Market, n_scenarios: int, horizon_days: float = 1.0,
                       seed=None) -> np.ndarray:
    """Correlated simple returns, shape ``(n_scenarios, n_assets)``.

    Parameters
    ----------
    market : Market
        Supplies daily ``volatility`` and ``correlation``.
    n_scenarios : int, 1 .. 1,000,000
    horizon_days : float, (0, 3650]
    seed : int or None
        Seed for ``numpy.random.default_rng``; the same seed gives the same scenarios.

    Returns
    -------
    ndarray, shape (n_scenarios, n_assets)
        Fractional price moves (-0.1 is a 10 % fall), each > -1.

    Examples
    --------
    >>> m = Market(["A", "B"], [1.0, 1.0], volatility=0.02, correlation=[[1, .9], [.9, 1]])
    >>> r = correlated_returns(m, 200_000, seed=1)
    >>> round(float(np.corrcoef(np.log1p(r).T)[0, 1]), 2)
    0.9

    References
    ----------
    P. Glasserman, *Monte Carlo Methods in Financial Engineering* (2003), section 2.3
    (correlated normals via a matrix square root of the covariance).
    """
    S = check_size("n_scenarios", n_scenarios, 1, MAX_SCENARIOS)
    h = as_float_array("horizon_days", horizon_days)
    check_range("horizon_days", h, 0.0, 3650.0, low_open=True)
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((S, market.n_assets)) @ _matrix_root(market.correlation).T
    sd = market.volatility * np.sqrt(float(h))
    return np.expm1(z * sd - 0.5 * sd ** 2)


def stress_correlation(corr, level: float, among=None) -> np.ndarray:
    """Blend a correlation matrix toward all-ones: ``(1 - level) * corr + level * ones``.

    In a crisis, correlations between risky assets jump toward 1 and diversification disappears
    exactly when it is needed. The blend of two valid correlation matrices is a valid
    correlation matrix (positive semi-definite, unit diagonal), so every ``level`` is safe.

    Parameters
    ----------
    corr : array_like, shape (n, n)
        A valid correlation matrix.
    level : float in [0, 1]
        0 leaves ``corr`` unchanged; 1 makes every pair perfectly correlated.
    among : array_like of bool, shape (n,), optional
        Stress only the pairs among these assets (e.g. the volatile ones, not a stablecoin).
        The target is then all-ones on that block and the identity elsewhere, still a valid
        correlation matrix; correlations with the other assets shrink toward 0. Default: all.

    Returns
    -------
    ndarray, shape (n, n)

    Examples
    --------
    >>> stress_correlation([[1, 0.2], [0.2, 1]], 0.5).tolist()
    [[1.0, 0.6], [0.6, 1.0]]
    >>> stress_correlation(np.eye(3), 1.0, among=[True, True, False]).tolist()
    [[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]

    References
    ----------
    Longin & Solnik, "Extreme correlation of international equity markets", J. Finance 56
    (2001): correlations rise in bear markets.
    """
    c = as_float_array("correlation", corr)
    if c.ndim != 2:
        raise MarginInputError(f"correlation must be a square matrix, got shape {c.shape}")
    check_correlation("correlation", c)
    lv = as_float_array("level", level)
    check_range("level", lv, 0.0, 1.0)
    if among is None:
        target = np.ones_like(c)
    else:
        mask = np.asarray(among, dtype=bool)
        if mask.shape != (c.shape[0],):
            raise MarginInputError(f"among must have shape ({c.shape[0]},), got {mask.shape}")
        target = np.outer(mask, mask) + np.diag(~mask)
    return (1.0 - float(lv)) * c + float(lv) * target


def liquidation_probability(account_or_book, market: Market, n_scenarios: int = 10_000,
                            seed=None, horizon_days: float = 1.0):
    """Probability that each account becomes liquidatable over ``horizon_days``.

    Prices move by :func:`correlated_returns`; an account counts as liquidated in a scenario if
    its cross pool or any isolated bucket has negative health at the scenario's prices. Compare a
    cross account with the same positions in isolated mode to see what pooling buys.

    Parameters
    ----------
    account_or_book : Account or Book
    market : Market
    n_scenarios : int
    seed : int or None
        The same seed draws the same scenarios, so two accounts compared with one seed face
        identical markets (common random numbers).
    horizon_days : float

    Returns
    -------
    float (for an Account) or ndarray, shape (n_accounts,)

    Examples
    --------
    >>> from widgets.engine import Market, Account
    >>> m = Market(["ETH"], [2_000.0], asset_weight=0.8, volatility=0.05)
    >>> safe = Account([1.0], cash=-1_000.0)          # liquidated below 1,250: a 37.5 % fall
    >>> liquidation_probability(safe, m, 10_000, seed=0)
    0.0
    """
    book, single = as_book(account_or_book, market)
    returns = correlated_returns(market, n_scenarios, horizon_days, seed)
    # Evaluate in chunks of scenarios so memory stays bounded for large books.
    chunk = max(1, min(returns.shape[0], 2_000_000 // max(book.n_accounts, 1), MAX_CELLS))
    hits = np.zeros(book.n_accounts)
    for start in range(0, returns.shape[0], chunk):
        prices = market.prices * (1.0 + returns[start:start + chunk])
        hits += margin_report(book, market, prices=prices).liquidatable.sum(0)
    prob = hits / returns.shape[0]
    return float(prob[0]) if single else prob
