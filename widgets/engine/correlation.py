"""Pairwise correlations by name, and plain-words reasons when a set of them is impossible.

A correlation matrix is only possible (some real returns could have it) when it is positive
semi-definite. For three assets that has a concrete meaning a learner can check by hand: given
``rho(A, B)`` and ``rho(B, C)``, the third correlation must satisfy

``rho(A,B)*rho(B,C) - sqrt((1 - rho(A,B)**2) * (1 - rho(B,C)**2))
<= rho(A, C) <=
rho(A,B)*rho(B,C) + sqrt((1 - rho(A,B)**2) * (1 - rho(B,C)**2))``

(the determinant of the 3 x 3 matrix is >= 0 exactly in that interval). If A moves with B and
B moves with C, A cannot move against C. Pairs are named ``"A-B"`` after the market's assets.

References
----------
P. J. Rousseeuw and G. Molenberghs, "The shape of correlation matrices", *The American
Statistician* 48 (1994) 276-279 (the 3 x 3 bound above).
"""
from __future__ import annotations

from itertools import combinations

import numpy as np

from ._validate import MarginInputError, check_correlation, format_value
from .market import STABLECOIN_VOLATILITY, Market

_TOL = 1e-8


def correlation_pairs(market: Market, min_volatility: float = STABLECOIN_VOLATILITY) -> dict:
    """The market's correlations between volatile assets, as ``{"A-B": rho}`` in asset order.

    Parameters
    ----------
    market : Market
    min_volatility : float, default STABLECOIN_VOLATILITY (0.01)
        Assets with a daily volatility below this (stablecoins) are left out.

    Returns
    -------
    dict of str to float

    Examples
    --------
    >>> correlation_pairs(Market.example())
    {'BTC-ETH': 0.8, 'BTC-SOL': 0.7, 'ETH-SOL': 0.75}
    """
    idx = [i for i, v in enumerate(market.volatility) if v >= min_volatility]
    return {f"{market.assets[i]}-{market.assets[j]}": float(market.correlation[i, j])
            for i, j in combinations(idx, 2)}


def _pair_index(market: Market, key) -> tuple:
    """``(i, j)`` for a pair named ``"A-B"`` or ``"B-A"``; names may themselves contain ``-``."""
    if isinstance(key, str):
        for i, j in combinations(range(market.n_assets), 2):
            a, b = market.assets[i], market.assets[j]
            if key in (f"{a}-{b}", f"{b}-{a}"):
                return i, j
    raise MarginInputError(
        f"correlation pair must name two different assets of {list(market.assets)} as "
        f"'A-B', got {key!r}")


def with_correlations(market: Market, pairs: dict, prefer: str | None = None) -> Market:
    """The same market with some pairwise correlations replaced.

    Parameters
    ----------
    market : Market
    pairs : dict {"A-B": rho}
        Correlations to set, each finite and in [-1, 1]; other entries keep the market's values.
    prefer : str, optional
        A pair name: if the result is impossible, explain it in terms of this pair (the one the
        learner just moved) when it belongs to the inconsistent triple.

    Returns
    -------
    Market
        A new, validated market (``market`` is unchanged).

    Raises
    ------
    MarginInputError
        For an unknown pair, a non-finite or out-of-range value, or a matrix that is not
        positive semi-definite; the last message explains the problem in plain words
        (see :func:`explain_inconsistent`) and names the smallest eigenvalue.

    Examples
    --------
    >>> m = with_correlations(Market.example(), {"BTC-ETH": 0.5})
    >>> float(m.correlation[0, 1]), float(m.correlation[1, 0])
    (0.5, 0.5)
    >>> bad = {"BTC-ETH": 0.9, "ETH-SOL": 0.9, "BTC-SOL": -0.9}
    >>> with_correlations(Market.example(), bad)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    widgets.engine._validate.MarginInputError: These correlations cannot all hold at once: ...
    """
    if not isinstance(pairs, dict):
        raise MarginInputError(f"correlations must be a dict {{'A-B': rho}}, got {pairs!r}")
    corr = np.array(market.correlation, dtype=float)
    for key, value in pairs.items():
        i, j = _pair_index(market, key)
        name = f"{market.assets[i]}-{market.assets[j]}"
        try:
            rho = float(value)
        except (TypeError, ValueError):
            raise MarginInputError(f"correlation {name} must be a number, got {value!r}") from None
        if not np.isfinite(rho) or not -1.0 <= rho <= 1.0:
            raise MarginInputError(
                f"correlation {name} must be a number between -1 and 1, got {format_value(rho)}")
        corr[i, j] = corr[j, i] = rho
    try:
        check_correlation("correlation", corr, market.assets)
    except MarginInputError as exc:
        raise MarginInputError(
            f"{explain_inconsistent(corr, market.assets, prefer)} ({exc})") from None
    return market.replace(correlation=corr)


def _bounds(corr: np.ndarray, i: int, k: int, j: int) -> tuple:
    """Possible range of ``corr[i, j]`` given ``corr[i, k]`` and ``corr[k, j]`` (3 x 3 bound)."""
    a, b = float(corr[i, k]), float(corr[k, j])
    half = float(np.sqrt(max(0.0, (1 - a * a) * (1 - b * b))))
    return max(-1.0, a * b - half), min(1.0, a * b + half)


def explain_inconsistent(corr, names, prefer: str | None = None) -> str:
    """A plain-words reason why ``corr`` is not a possible correlation matrix ("" if it is).

    Looks for the three assets whose correlations contradict each other most (most negative
    smallest eigenvalue of their 3 x 3 block) and states the range the third correlation would
    need, given the other two (see the module docstring).

    Parameters
    ----------
    corr : array_like, shape (n, n)
        Symmetric, unit diagonal, entries in [-1, 1].
    names : sequence of str, length n
    prefer : str, optional
        Pair ``"A-B"`` to explain in terms of, when it belongs to the inconsistent triple.

    Returns
    -------
    str

    Examples
    --------
    >>> c = [[1, .9, -.9], [.9, 1, .9], [-.9, .9, 1]]
    >>> print(explain_inconsistent(c, ["BTC", "ETH", "SOL"], prefer="BTC-SOL"))
    ... # doctest: +NORMALIZE_WHITESPACE
    These correlations cannot all hold at once: with BTC-ETH at 0.90 and ETH-SOL at 0.90,
    BTC-SOL can only be between 0.62 and 1.00, so -0.90 is impossible.
    """
    c = np.asarray(corr, dtype=float)
    if c.size == 0 or np.linalg.eigvalsh(c).min() >= -_TOL:
        return ""
    worst, triple = 0.0, None
    for t in combinations(range(c.shape[0]), 3):
        low = float(np.linalg.eigvalsh(c[np.ix_(t, t)]).min())
        if low < worst - _TOL:
            worst, triple = low, t
    if triple is None:
        return ("These correlations cannot all hold at once: together they describe no possible "
                "market (some mix of the assets would have a negative variance).")
    choices = []
    for i, j in combinations(triple, 2):
        k = next(x for x in triple if x not in (i, j))
        lo, hi = _bounds(c, i, k, j)
        miss = max(lo - c[i, j], c[i, j] - hi, 0.0)
        keys = (f"{names[i]}-{names[j]}", f"{names[j]}-{names[i]}")
        choices.append((prefer in keys, miss, i, j, k, lo, hi))
    _, _, i, j, k, lo, hi = max(choices, key=lambda x: (x[0], x[1]))
    # Round inward to 2 decimals, so every value the sentence calls possible really is.
    lo, hi = np.ceil(lo * 100 - 1e-9) / 100 + 0.0, np.floor(hi * 100 + 1e-9) / 100 + 0.0
    ik = f"{names[min(i, k)]}-{names[max(i, k)]}"
    kj = f"{names[min(k, j)]}-{names[max(k, j)]}"
    return (f"These correlations cannot all hold at once: with {ik} at {c[i, k]:.2f} and "
            f"{kj} at {c[k, j]:.2f}, {names[i]}-{names[j]} can only be between {lo:.2f} and "
            f"{hi:.2f}, so {c[i, j]:.2f} is impossible.")
