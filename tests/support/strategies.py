"""Hypothesis strategies for the margin engine: markets, books, shocks.

Magnitudes are kept sane so float noise stays far below the tests' tolerances: prices in
[0.01, 1e5], position notionals up to 1e6 per cell (so a 30-account, 5-asset book stays well
under 1e9 in total), no NaN or infinity anywhere.

* :func:`markets` -- 2..5 assets with valid weights, margins, penalties, volatility, depth and a
  correlation that is either the identity or a random Gram matrix scaled to unit diagonal.
* :func:`books` -- 1..30 accounts, mixed cross / isolated, spot holdings including debts, cash of
  either sign, long and short perps with entry prices, isolated margin on isolated accounts.
* :func:`shocks` -- per-asset fractional price moves in (-1, +1].
* :func:`depth_for` -- a market's depth scaled to a book, for cascades that move prices.
* :func:`long_spot_books`, :func:`short_perp_books`, :func:`cross_account_parts` -- the
  special-purpose books of the property tests.
* :func:`fast` -- the one ``settings`` profile of the property and differential tests.
"""
from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from widgets.engine import Book, Market

MAX_CELL_NOTIONAL = 1e6


def fast(max_examples: int = 60, *also_suppress: HealthCheck) -> settings:
    """The property tests' hypothesis settings: ``max_examples`` examples, no deadline (the
    machine may be loaded), and the ``too_slow`` / ``data_too_large`` health checks off (books
    are large draws), plus any health check in ``also_suppress``."""
    return settings(max_examples=max_examples, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           *also_suppress])


def _floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def _param(lo, hi):
    """A rulebook number in [lo, hi]: exactly ``lo`` (1 in 4), or at least ``lo + 1e-4``
    (no 5e-324: a rate that small is only a source of subnormal noise)."""
    inside = _floats(lo + 1e-4, hi)
    return st.one_of(st.just(float(lo)), inside, inside, inside)


def _per_asset(n, lo, hi):
    return st.lists(_param(lo, hi), min_size=n, max_size=n)


prices = _floats(0.01, 1e5)


@st.composite
def correlations(draw, n):
    """A valid n x n correlation: identity, or ``B B^T`` scaled to unit diagonal."""
    if draw(st.booleans()):
        return np.eye(n)
    k = draw(st.integers(1, n))
    B = np.array(draw(st.lists(_floats(-1.0, 1.0), min_size=n * k, max_size=n * k))).reshape(n, k)
    G = B @ B.T
    d = np.sqrt(np.diag(G))
    if d.min() < 1e-3:                       # a (near-)zero row: no direction to normalize
        return np.eye(n)
    C = G / np.outer(d, d)
    C = np.clip((C + C.T) / 2.0, -1.0, 1.0)
    np.fill_diagonal(C, 1.0)
    return C


@st.composite
def bracket_tables(draw, mm0, max_brackets=4, max_floor=MAX_CELL_NOTIONAL):
    """One asset's bracket table starting at maintenance rate ``mm0``: 2..max_brackets
    brackets, floors in [1, max_floor] (so book positions land in every bracket), maintenance
    rates non-decreasing up to 0.5, initial rates in [maintenance, 1]. Amounts derived."""
    k = draw(st.integers(2, max_brackets))
    floors = sorted(set(draw(st.lists(_floats(1.0, max_floor), min_size=k - 1,
                                      max_size=k - 1))))
    floors = [0.0] + floors
    mm = [float(mm0)]
    for _ in floors[1:]:
        mm.append(min(0.5, mm[-1] + draw(_param(0.0, 0.1))))
    im = [min(1.0, m + draw(_param(0.0, 0.3))) for m in mm]
    return {"floor": floors, "maintenance": mm, "initial": im}


@st.composite
def markets(draw, min_assets=2, max_assets=5, min_depth=1e3, max_depth=1e10,
            min_volatility=0.0, tiered=False, init_weights=False):
    """A random, valid :class:`Market`.

    ``tiered=True``: each asset has a bracket table with probability 1/2 (see
    :func:`bracket_tables`). ``init_weights=True``: init spot weights stricter than (or equal
    to) the maintenance ones.
    """
    n = draw(st.integers(min_assets, max_assets))
    mm = np.array(draw(_per_asset(n, 0.0, 0.3)))
    im = np.clip(mm + np.array(draw(_per_asset(n, 0.0, 1.0))) * (1.0 - mm), mm, 1.0)
    extra = {}
    if tiered:
        tables = {f"A{i}": draw(bracket_tables(mm[i])) for i in range(n)
                  if draw(st.booleans())}
        extra["brackets"] = tables or None
    aw = np.array(draw(_per_asset(n, 0.0, 1.0)))
    lw = np.array(draw(_per_asset(n, 1.0, 2.0)))
    if init_weights:
        extra["init_asset_weight"] = aw * np.array(draw(_per_asset(n, 0.0, 1.0)))
        extra["init_liability_weight"] = lw * (1.0 + np.array(draw(_per_asset(n, 0.0, 0.5))))
    return Market(
        **extra,
        assets=[f"A{i}" for i in range(n)],
        prices=draw(st.lists(prices, min_size=n, max_size=n)),
        asset_weight=aw,
        liability_weight=lw,
        maintenance_margin=mm,
        initial_margin=im,
        liquidation_penalty=draw(_per_asset(n, 0.0, 0.25)),
        volatility=draw(_per_asset(n, min_volatility, 0.2)),
        correlation=draw(correlations(n)),
        depth=draw(_per_asset(n, min_depth, max_depth)),
        # Random penalties include misconfigured venues (penalty above the maintenance margin):
        # the engine must still conserve value on them.
        allow_inconsistent_penalty=True,
    )


def _notional(max_notional=MAX_CELL_NOTIONAL, sign=0):
    """A signed notional (quote currency): zero, or between 0.01 and ``max_notional`` in size.

    No sub-cent amounts: a 1e-300 position is not a position, only a source of subnormal noise.
    """
    size = _floats(0.01, max_notional)
    if sign > 0:
        signed = size
    else:
        signed = st.tuples(st.sampled_from((-1.0, 1.0)), size).map(lambda t: t[0] * t[1])
    return st.one_of(st.just(0.0), signed)


@st.composite
def books(draw, market, min_accounts=1, max_accounts=30, perps=True, modes=("cross", "isolated")):
    """A random :class:`Book` against ``market`` (sizes in units = notional / price).

    Cash and isolated margins are drawn either independently of the positions (most accounts
    then sit far from the boundary, on either side) or as a fraction of them (leverage-like:
    many pools and buckets near the boundary, with positive equity, where penalties bite).
    """
    n = market.n_assets
    P = np.asarray(market.prices)
    A = draw(st.integers(min_accounts, max_accounts))
    H = np.zeros((A, n))
    Q = np.zeros((A, n))
    E = np.zeros((A, n))
    M = np.zeros((A, n))
    cash = np.zeros(A)
    mode = []
    entry_factor = st.one_of(_floats(0.95, 1.05), _floats(0.5, 2.0))
    for a in range(A):
        md = draw(st.sampled_from(modes))
        mode.append(md)
        H[a] = np.array(draw(st.lists(_notional(), min_size=n, max_size=n))) / P
        if perps:
            Q[a] = np.array(draw(st.lists(_notional(), min_size=n, max_size=n))) / P
            E[a] = P * np.array(draw(st.lists(entry_factor, min_size=n, max_size=n)))
        perp_notional = np.abs(Q[a]) * P
        if draw(st.booleans()):
            cash[a] = draw(_notional())
        else:   # borrow against the spot value, keep a margin for the perps
            cash[a] = (-(H[a] * P).sum() * draw(_param(0.0, 1.2))
                       + perp_notional.sum() * draw(_param(0.0, 0.3)))
        if md == "isolated":
            if draw(st.booleans()):
                # Independent amounts; now and then on an asset without a perp.
                M[a] = np.array(draw(st.lists(st.one_of(st.just(0.0), _floats(0.01, 1e5)),
                                              min_size=n, max_size=n)))
            else:
                M[a] = perp_notional * np.array(draw(_per_asset(n, 0.0, 0.4)))
    return Book(holdings=H, perps=Q, entry_prices=np.where(Q != 0, E, 0.0), mode=mode,
                isolated_margin=M, cash=cash)


@st.composite
def depth_for(draw, market, book, lo=0.3, hi=30.0):
    """``market`` with each asset's depth = ``k x`` the book's gross notional in it, k in
    [lo, hi] (at least 1e3): liquidations move prices visibly, yet even selling or buying back
    everything moves ``x`` by at most ``1 / lo`` -- no exp(700) overflow in exponential impact.
    """
    gross = ((np.abs(book.holdings) + np.abs(book.perps)) * market.prices).sum(0)
    k = np.array(draw(st.lists(_floats(lo, hi), min_size=market.n_assets,
                               max_size=market.n_assets)))
    return market.replace(depth=np.maximum(gross * k, 1e3))


def shocks(n, lo=-0.9, hi=1.0):
    """Per-asset fractional price moves (a list of length ``n``)."""
    return st.lists(_floats(lo, hi), min_size=n, max_size=n)


@st.composite
def scene(draw, market_kwargs=None, **book_kwargs):
    """(market, book, prices): a market (``markets(**market_kwargs)``), a book on it
    (``books(market, **book_kwargs)``), and the market's prices moved by a random shock per
    asset."""
    market = draw(markets(**(market_kwargs or {})))
    book = draw(books(market, **book_kwargs))
    return market, book, market.prices * (1.0 + np.array(draw(shocks(market.n_assets))))


@st.composite
def long_spot_books(draw, market, max_accounts=30):
    """Long spot collateral against quote-currency debt, no perps (cross or isolated mode)."""
    n = market.n_assets
    P = np.asarray(market.prices)
    A = draw(st.integers(1, max_accounts))
    H = np.array([draw(st.lists(_notional(sign=+1), min_size=n, max_size=n))
                  for _ in range(A)]) / P
    # Debt up to 1.5x the position's value, so some accounts are close to the edge.
    value = (H * P).sum(1)
    debt = value * np.array(draw(st.lists(_param(0.0, 1.5), min_size=A, max_size=A)))
    mode = draw(st.lists(st.sampled_from(("cross", "isolated")), min_size=A, max_size=A))
    return Book(holdings=H, mode=mode, cash=-debt)


@st.composite
def short_perp_books(draw, market, max_accounts=20):
    """Cross or isolated short perps opened at today's prices with a thin margin (<= 10 %)."""
    n = market.n_assets
    P = np.asarray(market.prices)
    A = draw(st.integers(1, max_accounts))
    N = np.array([draw(st.lists(st.one_of(st.just(0.0), _floats(1e3, 1e6)),
                                min_size=n, max_size=n)) for _ in range(A)])
    N[:, 0] = np.maximum(N[:, 0], 1e3)          # every account is short something
    Q = -N / P
    mode = draw(st.lists(st.sampled_from(("cross", "isolated")), min_size=A, max_size=A))
    iso = np.array(mode) == "isolated"
    thin = np.array(draw(st.lists(_param(0.0, 0.1), min_size=A, max_size=A)))
    margin = np.where(iso[:, None], N * thin[:, None], 0.0)
    cash = np.where(iso, 0.0, N.sum(1) * thin)
    return Book(holdings=np.zeros((A, n)), perps=Q, entry_prices=np.where(Q != 0, P, 0.0),
                mode=mode, isolated_margin=margin, cash=cash)


@st.composite
def cross_account_parts(draw, market):
    """Positions of one account plus a split of its cash into isolated buckets.

    Returns ``(holdings, perps, entry_prices, cash, bucket_margin)`` with ``cash >= 0`` and
    ``bucket_margin >= 0``, ``bucket_margin.sum() <= cash``.
    """
    n = market.n_assets
    P = np.asarray(market.prices)
    h = np.array(draw(st.lists(_notional(), min_size=n, max_size=n))) / P
    q = np.array(draw(st.lists(_notional(), min_size=n, max_size=n))) / P
    ep = np.where(q != 0, P * np.array(draw(_per_asset(n, 0.5, 2.0))), 0.0)
    cash = draw(_notional(sign=+1))
    share = np.array(draw(_per_asset(n, 0.0, 1.0)))
    used = draw(_param(0.0, 1.0))
    split = share / share.sum() if share.sum() > 0 else np.zeros(n)
    margin = cash * used * split
    # Rounding must not make the buckets hold more than the cash there is.
    if margin.sum() > cash:
        margin *= cash / margin.sum() * (1 - 1e-12)
    return h, q, ep, cash, margin
